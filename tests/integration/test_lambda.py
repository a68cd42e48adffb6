"""Lambda against a real server: zip functions that really run under the runtime interface
client, through boto3 and the AWS CLI."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import aws_json, make_client, run_aws
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

HANDLER = """
import os, time

def handler(event, context):
    print("hello from", context.function_name, event.get("n"))
    if event.get("fail"):
        raise ValueError("boom " + str(event.get("n")))
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {
        "n": event.get("n"),
        "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
        "region": os.environ["AWS_REGION"],
        "greeting": os.environ.get("GREETING"),
        "key": os.environ.get("AWS_ACCESS_KEY_ID", "")[:4],
        "request_id": context.aws_request_id,
    }
"""

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}  # fmt: skip


def zipped(source: str, name: str = "app.py") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, source)
    return buf.getvalue()


@pytest.fixture(scope="module")
def lam(dockyard: DockyardProcess) -> Any:
    return make_client("lambda", dockyard.endpoint)


@pytest.fixture(scope="module")
def role(dockyard: DockyardProcess) -> str:
    iam = make_client("iam", dockyard.endpoint)
    try:
        made = iam.create_role(RoleName="lambda-test", AssumeRolePolicyDocument=json.dumps(TRUST))
    except ClientError:
        made = iam.get_role(RoleName="lambda-test")
    return str(made["Role"]["Arn"])


@pytest.fixture
def function(lam: Any, role: str, request: pytest.FixtureRequest) -> Iterator[str]:
    name = request.node.name.replace("[", "-").replace("]", "")[:60]
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": zipped(HANDLER)}, Timeout=2,
        Environment={"Variables": {"GREETING": "hi"}},
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    yield name
    lam.delete_function(FunctionName=name)


def invoke(lam: Any, name: str, event: dict[str, Any], **kw: Any) -> tuple[dict[str, Any], Any]:
    out = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **kw)
    return out, json.loads(out["Payload"].read())


def test_create_and_invoke_returns_the_handlers_value(lam: Any, function: str) -> None:
    config = lam.get_function(FunctionName=function)["Configuration"]
    assert config["State"] == "Active"
    assert config["Runtime"] == "python3.12"
    assert config["Environment"] == {"Variables": {"GREETING": "hi"}}
    out, body = invoke(lam, function, {"n": 1}, LogType="Tail")
    assert out["StatusCode"] == 200
    assert "FunctionError" not in out, (body, base64.b64decode(out["LogResult"]))
    assert out["ExecutedVersion"] == "$LATEST"
    assert body["n"] == 1 and body["greeting"] == "hi" and body["region"] == "us-east-1"
    assert body["version"] == "$LATEST"
    assert body["key"] == "ASIA"  # the execution role's temporary credentials


def test_print_output_and_report_lines_go_to_cloudwatch_logs(
    lam: Any, function: str, logs: Any
) -> None:
    out, body = invoke(lam, function, {"n": 7}, LogType="Tail")
    tail = base64.b64decode(out["LogResult"]).decode()
    assert f"hello from {function} 7" in tail
    assert f"END RequestId: {body['request_id']}" in tail
    group = f"/aws/lambda/{function}"

    def messages() -> list[str]:
        try:
            streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        except ClientError:  # the group is made as the first lines are written
            return []
        found: list[str] = []
        for s in streams:
            events = logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"])
            found.extend(e["message"] for e in events["events"])
        return found

    lines = wait_for(lambda: [m for m in messages() if "REPORT" in m], what="REPORT line")
    assert lines[0].startswith(f"REPORT RequestId: {body['request_id']}\tDuration: ")
    all_lines = messages()
    assert f"START RequestId: {body['request_id']} Version: $LATEST" in all_lines
    assert f"hello from {function} 7" in all_lines
    stream = logs.describe_log_streams(logGroupName=group)["logStreams"][0]["logStreamName"]
    assert "/[$LATEST]" in stream


def test_an_exception_answers_function_error_unhandled(lam: Any, function: str) -> None:
    out, body = invoke(lam, function, {"n": 3, "fail": True})
    assert out["StatusCode"] == 200
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "boom 3"
    assert isinstance(body["stackTrace"], list)
    # The environment survives a handled exception: the next invocation works.
    out, body = invoke(lam, function, {"n": 4})
    assert "FunctionError" not in out and body["n"] == 4


def test_a_sleep_past_the_timeout_answers_the_timeout_error(lam: Any, function: str) -> None:
    out, body = invoke(lam, function, {"n": 5, "sleep": 10})
    assert out["FunctionError"] == "Unhandled"
    assert "Task timed out after 2.00 seconds" in body["errorMessage"]
    out, body = invoke(lam, function, {"n": 6})  # a fresh environment answers
    assert body["n"] == 6


def test_event_and_dry_run_invocations(lam: Any, function: str, logs: Any) -> None:
    out = lam.invoke(FunctionName=function, InvocationType="DryRun")
    assert out["StatusCode"] == 204
    out = lam.invoke(FunctionName=function, InvocationType="Event", Payload=b'{"n": 99}')
    assert out["StatusCode"] == 202
    group = f"/aws/lambda/{function}"

    def seen() -> bool:
        try:
            found = logs.filter_log_events(logGroupName=group, filterPattern='"hello from"')
        except ClientError:  # the group is made by the first invocation's output
            return False
        return any(f"{function} 99" in e["message"] for e in found["events"])

    wait_for(seen, what="the queued invocation's output")


def test_weighted_alias_splits_invocations(lam: Any, function: str) -> None:
    v1 = lam.publish_version(FunctionName=function)["Version"]
    lam.update_function_configuration(FunctionName=function, Description="second")
    lam.get_waiter("function_updated_v2").wait(FunctionName=function)
    v2 = lam.publish_version(FunctionName=function)["Version"]
    assert (v1, v2) == ("1", "2")
    lam.create_alias(FunctionName=function, Name="live", FunctionVersion=v1,
                     RoutingConfig={"AdditionalVersionWeights": {v2: 0.1}})  # fmt: skip
    counts = {"1": 0, "2": 0}

    def one(i: int) -> None:
        out, body = invoke(lam, function, {"n": i}, Qualifier="live")
        assert body["version"] == out["ExecutedVersion"]
        counts[out["ExecutedVersion"]] += 1

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(2000)))
    assert sum(counts.values()) == 2000
    assert abs(counts["2"] / 2000 - 0.10) <= 0.03, counts
    lam.delete_alias(FunctionName=function, Name="live")


def test_reserved_concurrency_throttles_beyond_it(lam: Any, function: str, logs: Any) -> None:
    lam.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=5)
    assert lam.get_function_concurrency(FunctionName=function)[
        "ReservedConcurrentExecutions"] == 5  # fmt: skip
    # Each invocation runs long enough that all 20 requests arrive while the first ones
    # still run, from a client with a connection for each (boto3's default pool is 10).
    lam.update_function_configuration(FunctionName=function, Timeout=15)
    lam.get_waiter("function_updated_v2").wait(FunctionName=function)
    wide = make_client("lambda", lam.meta.endpoint_url, max_pool_connections=20)

    def one(i: int) -> str:
        try:
            out, _ = invoke(wide, function, {"n": i, "sleep": 4})
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "TooManyRequestsException"
            assert exc.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
            return "throttled"
        return "ok" if "FunctionError" not in out else "error"

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(one, range(20)))
    assert results.count("ok") >= 1
    assert results.count("ok") <= 5
    assert results.count("throttled") == 20 - results.count("ok")
    group = f"/aws/lambda/{function}"

    def streams_now() -> list[Any]:
        try:
            return list(logs.describe_log_streams(logGroupName=group)["logStreams"])
        except ClientError:  # the group is made as the first lines are written
            return []

    streams = wait_for(streams_now, what="the environments' log streams")
    assert len(streams) <= 5  # one stream per execution environment


def test_aws_cli_create_and_invoke(dockyard: DockyardProcess, role: str, tmp_path: Path) -> None:
    code = tmp_path / "code.zip"
    source = (
        "import time\n"
        "def handler(event, context):\n"
        "    print('adding', event.get('a'), 'and', event.get('b'))\n"
        "    if event.get('fail'):\n"
        "        raise ValueError('cannot add that')\n"
        "    time.sleep(event.get('sleep', 0))\n"
        "    return {'sum': event['a'] + event['b']}\n"
    )
    code.write_bytes(zipped(source))
    ep = dockyard.endpoint
    made = aws_json(ep, "lambda", "create-function", "--function-name", "cli-fn",
                    "--runtime", "python3.11", "--handler", "app.handler", "--role", role,
                    "--timeout", "2", "--zip-file", f"fileb://{code}")  # fmt: skip
    assert made["State"] == "Pending"
    aws_json(ep, "lambda", "wait", "function-active-v2", "--function-name", "cli-fn")
    out_file = tmp_path / "out.json"
    done = run_aws(
        ep, "lambda", "invoke", "--function-name", "cli-fn",
        "--payload", '{"a": 2, "b": 3}', str(out_file), check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["StatusCode"] == 200
    assert json.loads(out_file.read_text()) == {"sum": 5}

    def lines() -> list[str]:
        found = run_aws(ep, "logs", "filter-log-events", "--log-group-name",
                        "/aws/lambda/cli-fn", check=False)  # fmt: skip
        if found.returncode != 0:
            return []
        return [e["message"] for e in json.loads(found.stdout)["events"]]

    wait_for(lambda: any("adding 2 and 3" in m for m in lines()), what="the print line")
    assert any(m.startswith("REPORT RequestId:") for m in lines())

    failed = run_aws(ep, "lambda", "invoke", "--function-name", "cli-fn",
                     "--payload", '{"fail": true}', str(out_file))  # fmt: skip
    assert json.loads(failed.stdout)["FunctionError"] == "Unhandled"
    error = json.loads(out_file.read_text())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "cannot add that"

    slow = run_aws(ep, "lambda", "invoke", "--function-name", "cli-fn",
                   "--payload", '{"a": 1, "b": 1, "sleep": 5}', str(out_file))  # fmt: skip
    assert json.loads(slow.stdout)["FunctionError"] == "Unhandled"
    assert "Task timed out after 2.00 seconds" in json.loads(out_file.read_text())["errorMessage"]
    aws_json(ep, "lambda", "delete-function", "--function-name", "cli-fn")


def test_eventbridge_rule_with_a_lambda_target_invokes_it(
    dockyard: DockyardProcess, lam: Any, function: str, logs: Any
) -> None:
    events = make_client("events", dockyard.endpoint)
    rule = events.put_rule(Name=f"to-{function}"[:64],
                           EventPattern=json.dumps({"source": ["my.app"]}))  # fmt: skip
    arn = lam.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    lam.add_permission(FunctionName=function, StatementId="events", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com", SourceArn=rule["RuleArn"])  # fmt: skip
    policy = json.loads(lam.get_policy(FunctionName=function)["Policy"])
    assert policy["Statement"][0]["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["RuleArn"]
    events.put_targets(Rule=f"to-{function}"[:64], Targets=[{"Id": "fn", "Arn": arn}])
    events.put_events(Entries=[{"Source": "my.app", "DetailType": "t", "Detail": '{"n": 42}'}])
    group = f"/aws/lambda/{function}"

    def seen() -> bool:
        try:
            found = logs.filter_log_events(logGroupName=group, filterPattern='"hello from"')
        except ClientError:
            return False
        return any("hello from" in e["message"] for e in found["events"])

    wait_for(seen, what="the rule's invocation")


def test_errors_a_client_expects(lam: Any, role: str) -> None:
    with pytest.raises(ClientError) as err:
        lam.get_function(FunctionName="nope")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        lam.create_function(FunctionName="badrt", Runtime="nodejs20.x", Role=role,
                            Handler="index.handler", Code={"ZipFile": zipped("x")})  # fmt: skip
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as err:
        lam.create_function(FunctionName="badzip", Runtime="python3.12", Role=role,
                            Handler="app.handler", Code={"ZipFile": b"not a zip"})  # fmt: skip
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"


BOOTSTRAP = """#!{python}
import json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    print("custom runtime got", event, flush=True)
    body = json.dumps({{"echo": event, "handler": os.environ["_HANDLER"]}}).encode()
    urllib.request.urlopen(urllib.request.Request(api + request_id + "/response", body))
"""


def test_provided_runtime_runs_the_zips_bootstrap(lam: Any, role: str) -> None:
    import sys

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, BOOTSTRAP.format(python=sys.executable))
    lam.create_function(FunctionName="custom-rt", Runtime="provided.al2023", Role=role,
                        Handler="my.handler", Code={"ZipFile": buf.getvalue()})  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName="custom-rt")
    try:
        out, body = invoke(lam, "custom-rt", {"x": 1}, LogType="Tail")
        assert "FunctionError" not in out, body
        assert body == {"echo": {"x": 1}, "handler": "my.handler"}
        assert "custom runtime got {'x': 1}" in base64.b64decode(out["LogResult"]).decode()
    finally:
        lam.delete_function(FunctionName="custom-rt")


def test_a_memory_hog_is_stopped_at_its_memory_size(lam: Any, role: str) -> None:
    import os

    from dockyard.drivers import cgroups

    if os.geteuid() != 0 or not cgroups.available():
        pytest.skip("memory limits need cgroups (the server as root)")
    source = "def handler(e, c):\n    x = bytearray(400 * 1024 * 1024)\n    return len(x)\n"
    lam.create_function(FunctionName="hog", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": zipped(source)}, MemorySize=128)  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName="hog")
    try:
        out, body = invoke(lam, "hog", {})
        assert out["FunctionError"] == "Unhandled"
        assert body["errorType"] in ("Runtime.ExitError", "MemoryError"), body
    finally:
        lam.delete_function(FunctionName="hog")


def test_functions_survive_a_restart(fresh_server: Any, tmp_path: Path) -> None:
    server = fresh_server()
    lam = make_client("lambda", server.endpoint)
    iam = make_client("iam", server.endpoint)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    lam.create_function(FunctionName="kept", Runtime="python3.12", Role=role,
                        Handler="app.handler", Code={"ZipFile": zipped(HANDLER)})  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName="kept")
    lam.publish_version(FunctionName="kept")
    server.stop()
    server.start()
    assert lam.get_function(FunctionName="kept:1")["Configuration"]["Version"] == "1"
    out, body = invoke(lam, "kept", {"n": 8}, Qualifier="1")
    assert body["n"] == 8 and out["ExecutedVersion"] == "1"


def test_a_failed_event_invocation_goes_to_its_on_failure_function(
    lam: Any, role: str, function: str, logs: Any
) -> None:
    sink = "failure-sink"
    lam.create_function(FunctionName=sink, Runtime="python3.12", Role=role,
                        Handler="app.handler", Code={"ZipFile": zipped(
                            "import json\ndef handler(e, c):\n    print('RECORD', json.dumps(e))\n"
                        )})  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName=sink)
    sink_arn = lam.get_function(FunctionName=sink)["Configuration"]["FunctionArn"]
    try:
        lam.put_function_event_invoke_config(
            FunctionName=function, MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": sink_arn}},
        )  # fmt: skip
        got = lam.get_function_event_invoke_config(FunctionName=function)
        assert got["DestinationConfig"]["OnFailure"]["Destination"] == sink_arn
        lam.invoke(FunctionName=function, InvocationType="Event",
                   Payload=json.dumps({"n": 13, "fail": True}).encode())  # fmt: skip

        def record() -> dict[str, Any] | None:
            try:
                found = logs.filter_log_events(logGroupName=f"/aws/lambda/{sink}",
                                               filterPattern='"RECORD"')  # fmt: skip
            except ClientError:
                return None
            for e in found["events"]:
                return dict(json.loads(e["message"].split("RECORD ", 1)[1]))
            return None

        rec = wait_for(record, what="the invocation record at the OnFailure destination")
        assert rec["requestContext"]["condition"] == "RetriesExhausted"
        assert rec["requestContext"]["approximateInvokeCount"] == 1
        assert rec["requestPayload"] == {"n": 13, "fail": True}
        assert rec["responseContext"]["functionError"] == "Unhandled"
        assert rec["responsePayload"]["errorMessage"] == "boom 13"
    finally:
        lam.delete_function(FunctionName=sink)


URL_HANDLER = """
import json
def handler(event, context):
    return {"statusCode": 201, "headers": {"x-seen": event["rawPath"]},
            "body": json.dumps({"method": event["requestContext"]["http"]["method"],
                                "q": event.get("queryStringParameters"),
                                "body": event.get("body")})}
"""


def test_a_function_url_is_a_real_http_endpoint(lam: Any, role: str) -> None:
    import urllib.error
    import urllib.request

    lam.create_function(FunctionName="web", Runtime="python3.12", Role=role,
                        Handler="app.handler", Code={"ZipFile": zipped(URL_HANDLER)})  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName="web")
    try:
        url = lam.create_function_url_config(FunctionName="web", AuthType="NONE")["FunctionUrl"]
        with pytest.raises(urllib.error.HTTPError) as refused:  # no policy statement yet
            urllib.request.urlopen(url, timeout=30)
        assert refused.value.code == 403
        lam.add_permission(FunctionName="web", StatementId="url", Principal="*",
                           Action="lambda:InvokeFunctionUrl",
                           FunctionUrlAuthType="NONE")  # fmt: skip
        request = urllib.request.Request(url + "items/7?color=red", data=b"hello", method="POST")
        with urllib.request.urlopen(request, timeout=30) as resp:
            assert resp.status == 201
            assert resp.headers["x-seen"] == "/items/7"
            assert json.loads(resp.read()) == {"method": "POST", "q": {"color": "red"},
                                               "body": "hello"}  # fmt: skip
    finally:
        lam.delete_function(FunctionName="web")


def test_the_function_calls_aws_as_its_execution_role(fresh_server: Any, tmp_path: Path) -> None:
    from tests.support.taskroles import ROOT_KEY, auth_file

    server = fresh_server("--runtime", "process", "--auth-file", str(auth_file(tmp_path)))
    lam = make_client("lambda", server.endpoint, access_key=ROOT_KEY)
    iam = make_client("iam", server.endpoint, access_key=ROOT_KEY)
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    source = (
        "import boto3\n"
        "def handler(e, c):\n"
        "    return boto3.client('sts').get_caller_identity()['Arn']\n"
    )
    lam.create_function(FunctionName="whoami", Runtime="python3.12", Role=role["Role"]["Arn"],
                        Handler="app.handler", Code={"ZipFile": zipped(source)},
                        Timeout=30)  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName="whoami")
    out, body = invoke(lam, "whoami", {})
    assert "FunctionError" not in out, body
    # Signed with the role's session credentials Lambda put in its environment.
    assert body == "arn:aws:sts::000000000000:assumed-role/fn-role/whoami"
