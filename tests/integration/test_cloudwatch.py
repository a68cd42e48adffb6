"""CloudWatch through boto3 against a real server, in each protocol CloudWatch speaks."""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
import uuid
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.conftest import REGION, make_client
from tests.support.server import DockyardProcess


@pytest.fixture
def cw(dockyard: DockyardProcess) -> Any:
    return make_client("cloudwatch", dockyard.endpoint)


def protocol_client(endpoint: str, protocol: str, root: Path) -> Any:
    """A botocore CloudWatch client that speaks only `protocol`."""
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    model = copy.deepcopy(loader.load_service_model("cloudwatch", "service-2"))
    model["metadata"]["protocol"] = protocol
    model["metadata"]["protocols"] = [protocol]
    version = model["metadata"]["apiVersion"]
    target = root / protocol / "cloudwatch" / version
    target.mkdir(parents=True, exist_ok=True)
    (target / "service-2.json").write_text(json.dumps(model))
    fresh = botocore.session.get_session()
    fresh.get_component("data_loader").search_paths.insert(0, str(root / protocol))
    return fresh.create_client(
        "cloudwatch", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.mark.parametrize("protocol", ["smithy-rpc-v2-cbor", "json", "query"])
def test_put_and_get_statistics_in_each_protocol(
    dockyard: DockyardProcess, tmp_path: Path, protocol: str
) -> None:
    client = protocol_client(dockyard.endpoint, protocol, tmp_path)
    ns = f"It/{uuid.uuid4().hex[:8]}"
    dims = [{"Name": "Service", "Value": "web"}]
    client.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Latency", "Dimensions": dims, "Values": [10, 20, 30, 40, 500],
         "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dims, "StatisticValues": {
            "SampleCount": 5, "Sum": 50, "Minimum": 5, "Maximum": 15}, "Unit": "Milliseconds"},
    ])  # fmt: skip
    got = client.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=dims, Period=60,
        StartTime=now() - dt.timedelta(minutes=5), EndTime=now() + dt.timedelta(minutes=1),
        Statistics=["SampleCount", "Sum", "Minimum", "Maximum", "Average"],
    )  # fmt: skip
    assert got["Label"] == "Latency"
    [point] = got["Datapoints"]
    assert point["SampleCount"] == 10
    assert point["Sum"] == 650
    assert (point["Minimum"], point["Maximum"]) == (5, 500)
    assert point["Average"] == 65
    assert point["Unit"] == "Milliseconds"
    listed = client.list_metrics(Namespace=ns)["Metrics"]
    assert listed == [{"Namespace": ns, "MetricName": "Latency", "Dimensions": dims}]


def test_extended_statistics_and_metric_math(cw: Any) -> None:
    ns = f"It/{uuid.uuid4().hex[:8]}"
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Requests", "Values": [float(v) for v in range(1, 101)]},
        {"MetricName": "Errors", "Value": 5.0},
    ])  # fmt: skip
    start, end = now() - dt.timedelta(minutes=5), now() + dt.timedelta(minutes=1)
    got = cw.get_metric_statistics(
        Namespace=ns, MetricName="Requests", Period=300, StartTime=start, EndTime=end,
        ExtendedStatistics=["p99", "p50"],
    )  # fmt: skip
    assert got["Datapoints"][0]["ExtendedStatistics"] == {"p99": 99.0, "p50": 50.0}
    data = cw.get_metric_data(
        StartTime=start, EndTime=end,
        MetricDataQueries=[
            {"Id": "req", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Requests"},
                                         "Period": 60, "Stat": "SampleCount"},
             "ReturnData": False},
            {"Id": "err", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Errors"},
                                         "Period": 60, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "rate", "Expression": "100 * err / req", "Label": "Error rate"},
        ],
    )["MetricDataResults"]  # fmt: skip
    assert [(r["Id"], r["Label"], r["Values"]) for r in data] == [("rate", "Error rate", [5.0])]


def test_bad_input_gets_aws_errors(cw: Any) -> None:
    with pytest.raises(ClientError) as err:
        cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{"MetricName": "x", "Value": 1}])
    assert "reserved" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        cw.put_metric_alarm(
            AlarmName="bad", Namespace="App", MetricName="x", Statistic="Average", Period=60,
            EvaluationPeriods=2, DatapointsToAlarm=3, Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )  # fmt: skip
    assert "DatapointsToAlarm" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        cw.get_metric_data(
            StartTime=now(), EndTime=now() + dt.timedelta(minutes=1),
            MetricDataQueries=[{"Id": "e", "Expression": "SUM(("}],
        )  # fmt: skip
    assert err.value.response["Error"]["Code"] in (
        "InvalidParameterValue",
        "InvalidParameterValueException",
    )


def test_alarm_on_custom_metric_goes_to_alarm(fresh_server: Any) -> None:
    """An alarm on PutMetricData data, evaluated on a 60x clock (one minute is one second)."""
    server = fresh_server("--runtime", "process", "--time-scale", "60")
    cw = make_client("cloudwatch", server.endpoint)
    cw.put_metric_alarm(
        AlarmName="queue-deep", Namespace="Jobs", MetricName="Depth", Statistic="Maximum",
        Period=60, EvaluationPeriods=2, DatapointsToAlarm=2, Threshold=100,
        ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
    )  # fmt: skip
    deadline = time.monotonic() + 30
    state = ""
    while time.monotonic() < deadline:
        cw.put_metric_data(Namespace="Jobs", MetricData=[{"MetricName": "Depth", "Value": 250}])
        state = cw.describe_alarms(AlarmNames=["queue-deep"])["MetricAlarms"][0]["StateValue"]
        if state == "ALARM":
            break
        time.sleep(0.2)
    assert state == "ALARM"
    history = cw.describe_alarm_history(AlarmName="queue-deep", HistoryItemType="StateUpdate")
    assert any("to ALARM" in h["HistorySummary"] for h in history["AlarmHistoryItems"])
    cw.set_alarm_state(AlarmName="queue-deep", StateValue="OK", StateReason="by hand")
    alarm = cw.describe_alarms(AlarmNames=["queue-deep"])["MetricAlarms"][0]
    assert alarm["StateReason"] in ("by hand",) or alarm["StateValue"] == "ALARM"
    cw.put_composite_alarm(AlarmName="any", AlarmRule='ALARM("queue-deep")')
    both = cw.describe_alarms(AlarmTypes=["CompositeAlarm", "MetricAlarm"])
    assert [a["AlarmName"] for a in both["CompositeAlarms"]] == ["any"]
    with pytest.raises(ClientError) as err:
        cw.delete_alarms(AlarmNames=["queue-deep"])
    assert "composite" in err.value.response["Error"]["Message"]
    cw.delete_alarms(AlarmNames=["any", "queue-deep"])
    assert cw.describe_alarms()["MetricAlarms"] == []


@pytest.mark.parametrize("protocol", ["smithy-rpc-v2-cbor", "json", "query"])
def test_alarms_in_each_protocol(dockyard: DockyardProcess, tmp_path: Path, protocol: str) -> None:
    client = protocol_client(dockyard.endpoint, protocol, tmp_path)
    ns = f"It/{uuid.uuid4().hex[:8]}"
    name = f"high-{protocol}"
    dims = [{"Name": "Queue", "Value": "jobs"}]
    client.put_metric_alarm(
        AlarmName=name, AlarmDescription="too deep", Namespace=ns, MetricName="Depth",
        Dimensions=dims, Statistic="Maximum", Period=60, EvaluationPeriods=3,
        DatapointsToAlarm=2, Threshold=100.5, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="missing", Unit="Count", Tags=[{"Key": "team", "Value": "ops"}],
    )  # fmt: skip
    [alarm] = client.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert alarm["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:000000000000:alarm:{name}"
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == (ns, "Depth", dims)
    assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (
        100.5, 3, 2)  # fmt: skip
    assert (alarm["StateValue"], alarm["TreatMissingData"]) == ("INSUFFICIENT_DATA", "missing")
    assert alarm["ActionsEnabled"] is True
    assert isinstance(alarm["StateUpdatedTimestamp"], dt.datetime)
    client.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing",
                           StateReasonData=json.dumps({"why": protocol}))  # fmt: skip
    [alarm] = client.describe_alarms(AlarmNames=[name], StateValue="ALARM")["MetricAlarms"]
    assert (alarm["StateValue"], alarm["StateReason"]) == ("ALARM", "testing")
    assert json.loads(alarm["StateReasonData"]) == {"why": protocol}
    by_metric = client.describe_alarms_for_metric(Namespace=ns, MetricName="Depth",
                                                  Dimensions=dims)["MetricAlarms"]  # fmt: skip
    assert [a["AlarmName"] for a in by_metric] == [name]
    history = client.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")
    assert any("to ALARM" in h["HistorySummary"] for h in history["AlarmHistoryItems"])
    client.disable_alarm_actions(AlarmNames=[name])
    assert client.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["ActionsEnabled"] is False
    tags = client.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "ops"}]
    with pytest.raises(ClientError) as err:
        client.set_alarm_state(AlarmName="no-such-alarm", StateValue="OK", StateReason="x")
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"
    client.delete_alarms(AlarmNames=[name])
    assert client.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []


def test_large_put_metric_data_is_gzip_compressed_by_boto3_and_accepted(cw: Any) -> None:
    ns = f"It/{uuid.uuid4().hex[:8]}"
    data = [{"MetricName": "Big", "Value": float(i), "Dimensions": [
        {"Name": "Shard", "Value": str(i % 5)}]} for i in range(1000)]  # fmt: skip
    cw.put_metric_data(Namespace=ns, MetricData=data)  # > 10 KB: sent with Content-Encoding gzip
    got = cw.get_metric_statistics(
        Namespace=ns, MetricName="Big", Dimensions=[{"Name": "Shard", "Value": "0"}], Period=60,
        StartTime=now() - dt.timedelta(minutes=5), EndTime=now() + dt.timedelta(minutes=1),
        Statistics=["SampleCount"],
    )  # fmt: skip
    assert sum(p["SampleCount"] for p in got["Datapoints"]) == 200
