"""Bad input, fuzzed: every operation of every served service answers the AWS error a client
expects (never a 500, never a traceback), the server keeps serving, and no state is lost.

Requests are generated from botocore's input shapes: well-typed values with random contents
through boto3 (`parameter_validation=False`), and wire-level garbage (wrong JSON/CBOR types,
bodies that are not JSON/CBOR/form, missing members) as raw anonymous HTTP. The run is
derandomized (the same examples every run) and bounded (a fixed number per operation).

State: a cluster, a task definition, a log group, a target group and an alarm are made first;
well-typed requests sometimes name them. An operation whose requests on them all failed must
leave them exactly as they were; at the end they are unchanged, and again after a restart.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import cbor2
import pytest
import urllib3
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.model import OperationModel, ServiceModel
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
from hypothesis import strategies as st

from tests.integration.conftest import make_client
from tests.integration.fuzz_shapes import form, json_doc, typed
from tests.support.server import DockyardProcess

SERVICES = ("ecs", "logs", "elbv2", "cloudwatch", "events", "application-autoscaling")
# Any other served service is fuzzed under "others"; these are still being built.
# S3: typed fuzzing still finds answers without an S3 error document (HTTP 400 with no
# code: requests the HTTP layer refuses before the front door sees them; HEAD 404s, which
# carry no body in S3 either), to be sorted out before it joins the named services.
EXCLUDED: frozenset[str] = frozenset({"s3"})
OTHERS = "others"
# Examples per operation and kind; DOCKYARD_FUZZ_EXAMPLES=500 for a deeper (slower) hunt.
TYPED_EXAMPLES = WIRE_EXAMPLES = int(os.environ.get("DOCKYARD_FUZZ_EXAMPLES", "60"))
KEEP = "dockyard-fuzz-keep"
# Failing examples may hold 100+ item lists: their repr is big, and that is fine.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
# Operations that may legitimately end or start things: never pointed at the kept resources.
NOT_ON_KEPT = ("Delete", "Deregister", "Run", "Start", "Stop", "CreateService", "CreateTaskSet")


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        print_blob=False,
    )


# -- the server and the resources that must survive ------------------------------------------------


@dataclass(slots=True)
class Kept:
    endpoint: str
    ids: list[str] = field(default_factory=list)
    last: dict[str, Any] = field(default_factory=dict)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def client(self, service: str, endpoint: str | None = None) -> Any:
        key = (service, endpoint or self.endpoint)
        if key not in self._clients:
            self._clients[key] = make_client(service, key[1])
        return self._clients[key]

    def create(self) -> None:
        ecs, logs = self.client("ecs"), self.client("logs")
        elbv2, cw = self.client("elbv2"), self.client("cloudwatch")
        cluster = ecs.create_cluster(clusterName=KEEP, tags=[{"key": "k", "value": "v"}])
        taskdef = ecs.register_task_definition(
            family=KEEP,
            containerDefinitions=[{"name": "c", "image": "process:/tmp", "memory": 16,
                                   "command": ["true"]}],
        )  # fmt: skip
        logs.create_log_group(logGroupName=KEEP, tags={"k": "v"})
        logs.put_retention_policy(logGroupName=KEEP, retentionInDays=7)
        group = elbv2.create_target_group(
            Name=KEEP, Protocol="HTTP", Port=8080, TargetType="ip", VpcId="vpc-keep"
        )["TargetGroups"][0]
        cw.put_metric_alarm(
            AlarmName=KEEP, Namespace="Fuzz/Keep", MetricName="Kept", Statistic="Average",
            Period=60, EvaluationPeriods=1, Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
        )  # fmt: skip
        alarm = cw.describe_alarms(AlarmNames=[KEEP])["MetricAlarms"][0]
        self.ids = [
            KEEP,
            cluster["cluster"]["clusterArn"],
            taskdef["taskDefinition"]["taskDefinitionArn"],
            f"{KEEP}:1",
            f"arn:aws:logs:us-east-1:000000000000:log-group:{KEEP}",
            group["TargetGroupArn"],
            alarm["AlarmArn"],
        ]
        self.last = self.snapshot()

    def snapshot(self, endpoint: str | None = None) -> dict[str, Any]:
        """What a user sees of the kept resources (not what time alone changes)."""
        ecs, logs = self.client("ecs", endpoint), self.client("logs", endpoint)
        elbv2, cw = self.client("elbv2", endpoint), self.client("cloudwatch", endpoint)
        cluster = ecs.describe_clusters(
            clusters=[KEEP], include=["SETTINGS", "TAGS", "CONFIGURATIONS"]
        )["clusters"]
        taskdef = ecs.describe_task_definition(taskDefinition=f"{KEEP}:1", include=["TAGS"])
        taskdef.pop("ResponseMetadata")
        groups = [
            {k: v for k, v in g.items() if k != "storedBytes"}
            for g in logs.describe_log_groups(logGroupNamePrefix=KEEP)["logGroups"]
        ]
        tg_arn = self.ids[5]
        target_group = elbv2.describe_target_groups(TargetGroupArns=[tg_arn])["TargetGroups"]
        tg_attrs = elbv2.describe_target_group_attributes(TargetGroupArn=tg_arn)["Attributes"]
        tg_tags = elbv2.describe_tags(ResourceArns=[tg_arn])["TagDescriptions"]
        alarms = [
            {k: v for k, v in a.items() if not k.startswith("State")}
            for a in cw.describe_alarms(AlarmNames=[KEEP])["MetricAlarms"]
        ]
        return {
            "cluster": cluster,
            "taskdef": taskdef,
            "log_groups": groups,
            "log_tags": logs.list_tags_log_group(logGroupName=KEEP)["tags"],
            "target_group": [target_group, tg_attrs, tg_tags],
            "alarm": alarms,
            "alarm_tags": cw.list_tags_for_resource(ResourceARN=self.ids[6])["Tags"],
        }

    def mentioned_in(self, params: Any) -> bool:
        return KEEP in json.dumps(params, default=str)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    proc = DockyardProcess(tmp_path_factory.mktemp("fuzz") / "data", "--runtime", "process")
    proc.start()
    yield proc
    proc.forget_tasks()
    proc.stop()


@pytest.fixture(scope="module")
def kept(server: DockyardProcess) -> Kept:
    state = Kept(server.endpoint)
    state.create()
    return state


@pytest.fixture(scope="module")
def implemented(server: DockyardProcess) -> dict[str, list[str]]:
    """Per served service, the operations its provider handles (the others answer 501)."""
    found: dict[str, list[str]] = {}
    for service in sorted(set(server.health()["services"]) - EXCLUDED):
        client = make_client(service, server.endpoint, parameter_validation=False,
                             inject_host_prefix=False)  # fmt: skip
        ops: list[str] = []
        for op in client.meta.service_model.operation_names:
            try:
                status, code, _ = _call(client, op, {})
            except Exception:  # botocore cannot build it without its required strings
                try:
                    status, code, _ = _call(client, op, _probe(client, op))
                except Exception:  # nor with them: fuzz it anyway
                    status, code = 0, ""
            if status == 501 and code == "UnsupportedOperation":
                continue
            ops.append(op)
        found[service] = ops
    return found


# -- what every response must look like ------------------------------------------------------------


def _probe(client: Any, op: str) -> dict[str, Any]:
    """The operation's required string members, each a plain name (S3: Bucket, Key): enough
    for botocore to send it, so an operation the server does not serve shows its 501."""
    shape = client.meta.service_model.operation_model(op).input_shape
    if shape is None:
        return {}
    return {
        name: "dockyard-fuzz-probe"
        for name in shape.required_members
        if shape.members[name].type_name == "string"
    }


def _call(client: Any, op: str, params: dict[str, Any]) -> tuple[int, str, str]:
    try:
        getattr(client, xform_name(op))(**params)
    except ClientError as err:
        meta = err.response.get("ResponseMetadata", {})
        error = err.response.get("Error", {})
        return (
            int(meta.get("HTTPStatusCode", 0)),
            str(error.get("Code", "")),
            str(error.get("Message", "")),
        )
    return 200, "", ""


def _acceptable(status: int, code: str) -> bool:
    return status < 500 or (status == 501 and code == "UnsupportedOperation")


def _error_fields(content_type: str, body: bytes) -> tuple[str, str]:
    """(Code, Message) of an error body in its protocol's shape."""
    if "cbor" in content_type:
        doc = cbor2.loads(body)
        return str(doc.get("__type", "")), str(doc.get("message", doc.get("Message", "")))
    if "json" in content_type:
        doc = json.loads(body)
        return str(doc.get("__type", "")), str(doc.get("message", doc.get("Message", "")))
    root = ET.fromstring(body)
    code = next((e.text for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "Code"), None)
    message = next((e.text for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "Message"), None)
    return code or "", message or ""


def _parses(content_type: str, body: bytes) -> None:
    if "cbor" in content_type:
        cbor2.loads(body)
    elif "json" in content_type:
        json.loads(body)
    elif body:
        ET.fromstring(body)


def _healthy(server: DockyardProcess, after: str) -> None:
    try:
        status = server.health()["status"]
    except OSError as exc:
        raise AssertionError(f"/_dockyard/health does not answer after {after}: {exc}") from None
    assert status == "running", f"/_dockyard/health says {status} after {after}"


def _failure(exc: BaseException) -> str:
    """The assertion and the (shrunk) input that caused it."""
    notes = [n for n in getattr(exc, "__notes__", []) if "Falsifying" in n or "params" in n]
    first = str(exc).splitlines()[0] if str(exc) else repr(exc)
    return " | ".join([first, *(_show(n) for n in notes)])


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 600 else text[:600] + "..."


# -- (a) well-typed values through boto3 -----------------------------------------------------------


def _control_chars_in_headers(client: Any, op: str, params: Any) -> bool:
    """Whether a member sent as an HTTP header holds a control character, which the HTTP
    server refuses (a bare 400) before any service sees the request."""
    if not isinstance(params, dict):
        return False
    shape = client.meta.service_model.operation_model(op).input_shape
    if shape is None:
        return False

    def bad(text: Any) -> bool:
        return isinstance(text, str) and any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)

    for name, member in shape.members.items():
        location = member.serialization.get("location")
        value = params.get(name)
        if location == "header" and bad(value):
            return True
        if (location == "headers" and isinstance(value, dict)
                and any(bad(k) or bad(v) for k, v in value.items())):  # fmt: skip
            return True
    return False


def _typed_example(
    client: Any, op: str, kept: Kept, sent: list[bool], touched: list[bool]
) -> Callable[[dict[str, Any]], None]:
    def one(params: dict[str, Any]) -> None:
        sent.clear()
        # S3's ContentLength is the HTTP Content-Length of the body: a random one makes a
        # broken message the server waits on (until its RequestTimeout), not an input.
        if isinstance(params, dict):
            params.pop("ContentLength", None)
        if _control_chars_in_headers(client, op, params):
            reject()  # not an HTTP message (RFC 9110 forbids them in field values): no input
        try:
            status, code, message = _call(client, op, params)
        except Exception as exc:
            if not sent:  # botocore could not serialize it: not a request
                reject()
            raise AssertionError(f"unparseable answer: {exc!r}") from None
        assert _acceptable(status, code), f"HTTP {status} {code}: {message}"
        if status >= 400:
            assert code and not code.isdigit(), f"HTTP {status} without an error code"
            assert message, f"{code} without a message"
        elif kept.mentioned_in(params):
            touched.append(True)

    return one


def _fuzz_typed(
    server: DockyardProcess, service: str, ops: list[str], kept: Kept, failures: list[str]
) -> None:
    client = make_client(
        service, server.endpoint, parameter_validation=False, inject_host_prefix=False
    )
    sent: list[bool] = []
    client.meta.events.register("before-send", lambda **_: sent.append(True))
    model: ServiceModel = client.meta.service_model
    for op in ops:
        shape = model.operation_model(op).input_shape
        if shape is None:
            continue
        ids = () if op.startswith(NOT_ON_KEPT) else tuple(kept.ids)
        touched: list[bool] = []
        before = kept.snapshot()
        run = _settings(TYPED_EXAMPLES)(
            given(
                st.one_of(
                    typed(shape, ids),  # well-typed values with random contents
                    json_doc(shape, wire_names=False, unknown=False),  # wrong types too
                )
            )(_typed_example(client, op, kept, sent, touched))
        )
        try:
            run()
        except Exception as exc:
            failures.append(f"{service}:{op} (typed): {_failure(exc)}")
        _healthy(server, f"{service}:{op}")
        after = kept.snapshot()
        if not touched and after != before:
            failures.append(f"{service}:{op} (typed): failed requests changed kept state "
                            f"{_show(before)} -> {_show(after)}")  # fmt: skip
        kept.last = after


# -- (b) wire-level garbage as raw HTTP -----------------------------------------------------------


_JUNK = [b"{", b"[]", b"null", b"1", b'"x"', b"\xff\xfe\x00", b'{"a":', b"<a><b/></a>", b"NaN",
         b"\x9f\x9f", b"\xbf", b"\xa1\x61a", b"Action=", b"%ZZ=%ZZ", b"{}{}"]  # fmt: skip


def _cbor(doc: Any) -> bytes:
    try:
        return cbor2.dumps(doc)
    except UnicodeEncodeError:  # a lone surrogate: send a text string of invalid UTF-8
        return b"\xa1\x64Name\x62\xed\xa0"


def _truncate(data: bytes) -> bytes:
    return data[: max(1, len(data) // 2)]


def _request_for(
    model: ServiceModel, op: OperationModel, protocol: str
) -> st.SearchStrategy[tuple[str, bytes, dict[str, str]]]:
    """(path, body, headers) of garbage requests for one operation in one protocol."""
    shape = op.input_shape
    meta = model.metadata
    if protocol == "query":

        def encode(params: dict[str, str]) -> bytes:
            fields = {"Action": op.name, "Version": meta["apiVersion"], **params}
            return urlencode(fields).encode()

        forms = form(shape).map(encode)
        body = st.one_of(forms, forms, forms, st.sampled_from(_JUNK), st.binary(max_size=40),
                         forms.map(_truncate))  # fmt: skip
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        return body.map(lambda b: ("/", b, headers))
    if protocol == "smithy-rpc-v2-cbor":
        path = f"/service/{meta['targetPrefix']}/operation/{op.name}"
        docs = (json_doc(shape, wire_names=False) if shape is not None else st.just({})).map(_cbor)
        body = st.one_of(docs, docs, docs, st.sampled_from(_JUNK), st.binary(max_size=40),
                         docs.map(_truncate))  # fmt: skip
        headers = {"Content-Type": "application/cbor", "Accept": "application/cbor",
                   "smithy-protocol": "rpc-v2-cbor"}  # fmt: skip
        return body.map(lambda b: (path, b, headers))
    docs = (json_doc(shape) if shape is not None else st.just({})).map(
        lambda d: json.dumps(d).encode()
    )
    body = st.one_of(docs, docs, docs, st.sampled_from(_JUNK), st.binary(max_size=40),
                     docs.map(_truncate))  # fmt: skip
    headers = {
        "X-Amz-Target": f"{meta['targetPrefix']}.{op.name}",
        "Content-Type": f"application/x-amz-json-{meta.get('jsonVersion', '1.1')}",
    }
    return body.map(lambda b: ("/", b, headers))


def _wire_example(
    endpoint: str, pool: urllib3.PoolManager
) -> Callable[[tuple[str, bytes, dict[str, str]]], None]:
    def one(request: tuple[str, bytes, dict[str, str]]) -> None:
        path, body, headers = request
        resp = pool.request("POST", endpoint + path, body=body, headers=headers,
                            retries=False, timeout=20)  # fmt: skip
        ctype = resp.headers.get("Content-Type", "")
        if resp.status < 300:
            _parses(ctype, resp.data)
            return
        code, message = _error_fields(ctype, resp.data)
        assert _acceptable(resp.status, code), f"HTTP {resp.status} {code}: {message}"
        assert code, f"HTTP {resp.status} without an error code: {resp.data[:300]!r}"
        assert message, f"{code} without a message"

    return one


def _fuzz_wire(
    server: DockyardProcess,
    service: str,
    ops: list[str],
    pool: urllib3.PoolManager,
    failures: list[str],
) -> None:
    model = make_client(service, server.endpoint).meta.service_model
    protocols = [
        p
        for p in model.metadata.get("protocols") or [model.protocol]
        if p in ("json", "query", "smithy-rpc-v2-cbor")  # rest protocols: typed fuzzing only
    ]
    if not protocols:
        return
    for op in ops:
        op_model = model.operation_model(op)
        requests = st.one_of([_request_for(model, op_model, p) for p in protocols])
        run = _settings(WIRE_EXAMPLES)(given(requests)(_wire_example(server.endpoint, pool)))
        try:
            run()
        except Exception as exc:
            failures.append(f"{service}:{op} (wire): {_failure(exc)}")
        _healthy(server, f"{service}:{op}")


# -- the tests -------------------------------------------------------------------------------------


def _services(name: str, implemented: dict[str, list[str]]) -> list[str]:
    if name != OTHERS:
        return [name]
    return sorted(set(implemented) - set(SERVICES))


def test_the_named_services_are_served(implemented: dict[str, list[str]]) -> None:
    assert set(SERVICES) <= set(implemented)
    assert all(implemented[s] for s in SERVICES)


@pytest.mark.parametrize("name", [*SERVICES, OTHERS])
def test_well_typed_random_input_gets_aws_errors(
    server: DockyardProcess, kept: Kept, implemented: dict[str, list[str]], name: str
) -> None:
    failures: list[str] = []
    for service in _services(name, implemented):
        _fuzz_typed(server, service, implemented[service], kept, failures)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", [*SERVICES, OTHERS])
def test_wire_garbage_gets_aws_errors(
    server: DockyardProcess, kept: Kept, implemented: dict[str, list[str]], name: str
) -> None:
    failures: list[str] = []
    with urllib3.PoolManager(maxsize=2) as pool:
        for service in _services(name, implemented):
            _fuzz_wire(server, service, implemented[service], pool, failures)
    assert kept.snapshot() == kept.last, "garbage requests changed the kept resources"
    assert not failures, "\n".join(failures)


def test_kept_resources_survive_fuzzing_and_a_restart(
    server: DockyardProcess, kept: Kept, fresh_server: Callable[..., DockyardProcess]
) -> None:
    assert kept.snapshot() == kept.last
    _healthy(server, "the end of the fuzzing")
    assert server.stop() == 0
    assert "Traceback" not in server.log(), server.log()[-3000:]
    again = fresh_server("--runtime", "process", data_dir=Path(server.data_dir))
    assert kept.snapshot(again.endpoint) == kept.last
