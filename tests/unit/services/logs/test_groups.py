from __future__ import annotations

from dockyard.core.clock import ManualClock
from tests.unit.services.logs.conftest import ACCOUNT, NOW_MS, Call, error_of, make_call, put


def test_create_and_describe_log_group(call: Call) -> None:
    call("CreateLogGroup", logGroupName="/ecs/web", tags={"team": "blue"})
    groups = call("DescribeLogGroups")["logGroups"]
    assert groups == [
        {
            "logGroupName": "/ecs/web",
            "creationTime": NOW_MS,
            "metricFilterCount": 0,
            "arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/ecs/web:*",
            "logGroupArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/ecs/web",
            "storedBytes": 0,
            "logGroupClass": "STANDARD",
            "deletionProtectionEnabled": False,
        }
    ]
    assert call("ListTagsLogGroup", logGroupName="/ecs/web") == {"tags": {"team": "blue"}}


def test_create_twice_is_already_exists(call: Call) -> None:
    call("CreateLogGroup", logGroupName="g")
    err = error_of(call, "CreateLogGroup", logGroupName="g")
    assert err.code == "ResourceAlreadyExistsException"
    assert err.message == "The specified log group already exists"


def test_bad_names_are_refused(call: Call) -> None:
    err = error_of(call, "CreateLogGroup", logGroupName="bad name!")
    assert err.code == "InvalidParameterException"
    assert "logGroupName" in err.message
    call("CreateLogGroup", logGroupName="g")
    err = error_of(call, "CreateLogStream", logGroupName="g", logStreamName="a:b")
    assert err.code == "InvalidParameterException"
    assert "logStreamName" in err.message


def test_reserved_prefix_and_kms_are_refused(call: Call) -> None:
    assert error_of(call, "CreateLogGroup", logGroupName="aws/x").code == (
        "InvalidParameterException"
    )
    err = error_of(call, "CreateLogGroup", logGroupName="k", kmsKeyId="arn:aws:kms:x")
    assert err.code == "InvalidParameterException"
    assert "kmsKeyId" in err.message


def test_log_group_class(call: Call) -> None:
    call("CreateLogGroup", logGroupName="ia", logGroupClass="INFREQUENT_ACCESS")
    call("CreateLogGroup", logGroupName="std")
    out = call("DescribeLogGroups", logGroupClass="INFREQUENT_ACCESS")["logGroups"]
    assert [(g["logGroupName"], g["logGroupClass"]) for g in out] == [("ia", "INFREQUENT_ACCESS")]


def test_delete_log_group(call: Call) -> None:
    call("CreateLogGroup", logGroupName="g")
    call("CreateLogStream", logGroupName="g", logStreamName="s")
    put(call, "g", "s", (NOW_MS, "hello"))
    call("DeleteLogGroup", logGroupName="g")
    assert call("DescribeLogGroups")["logGroups"] == []
    err = error_of(call, "DeleteLogGroup", logGroupName="g")
    assert (err.code, err.message) == (
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
    # A new group of the same name starts empty.
    call("CreateLogGroup", logGroupName="g")
    call("CreateLogStream", logGroupName="g", logStreamName="s")
    assert call("GetLogEvents", logGroupName="g", logStreamName="s")["events"] == []


def test_deletion_protection(call: Call) -> None:
    call("CreateLogGroup", logGroupName="keep", deletionProtectionEnabled=True)
    err = error_of(call, "DeleteLogGroup", logGroupName="keep")
    assert err.code == "ValidationException"
    assert "deletion protection" in err.message
    call("PutLogGroupDeletionProtection", logGroupIdentifier="keep",
         deletionProtectionEnabled=False)  # fmt: skip
    call("DeleteLogGroup", logGroupName="keep")


def test_describe_prefix_pattern_identifiers(call: Call) -> None:
    for name in ("/ecs/api", "/ecs/Web", "/lambda/web", "other"):
        call("CreateLogGroup", logGroupName=name)

    def names(**params: object) -> list[str]:
        return [g["logGroupName"] for g in call("DescribeLogGroups", **params)["logGroups"]]

    assert names(logGroupNamePrefix="/ecs/") == ["/ecs/Web", "/ecs/api"]
    assert names(logGroupNamePattern="web") == ["/ecs/Web", "/lambda/web"]
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:other:*"
    assert names(logGroupIdentifiers=[arn, "/ecs/api"]) == ["/ecs/api", "other"]
    err = error_of(call, "DescribeLogGroups", logGroupNamePrefix="/", logGroupNamePattern="x")
    assert err.code == "InvalidParameterException"


def test_describe_log_groups_paginates(call: Call) -> None:
    names = [f"g{i:02d}" for i in range(7)]
    for name in names:
        call("CreateLogGroup", logGroupName=name)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 3}
        if token:
            params["nextToken"] = token
        out = call("DescribeLogGroups", **params)
        seen += [g["logGroupName"] for g in out["logGroups"]]
        pages += 1
        token = out.get("nextToken")
        if not token:
            break
    assert seen == names
    assert pages == 3
    assert error_of(call, "DescribeLogGroups", nextToken="garbage!").code == (
        "InvalidParameterException"
    )


def test_accounts_and_regions_are_separate(call: Call, logs: object) -> None:
    call("CreateLogGroup", logGroupName="mine")
    other = make_call(logs, account="210987654321")  # type: ignore[arg-type]
    west = make_call(logs, region="eu-west-1")  # type: ignore[arg-type]
    assert other("DescribeLogGroups")["logGroups"] == []
    assert west("DescribeLogGroups")["logGroups"] == []
    west("CreateLogGroup", logGroupName="mine")  # no conflict
    assert other("DescribeLogGroups", accountIdentifiers=[ACCOUNT])["logGroups"] == []


def test_retention_policy(call: Call) -> None:
    call("CreateLogGroup", logGroupName="g")
    call("PutRetentionPolicy", logGroupName="g", retentionInDays=7)
    assert call("DescribeLogGroups")["logGroups"][0]["retentionInDays"] == 7
    err = error_of(call, "PutRetentionPolicy", logGroupName="g", retentionInDays=4)
    assert err.code == "InvalidParameterException"
    assert "retentionInDays" in err.message
    call("DeleteRetentionPolicy", logGroupName="g")
    assert "retentionInDays" not in call("DescribeLogGroups")["logGroups"][0]
    for op, params in (
        ("PutRetentionPolicy", {"retentionInDays": 1}),
        ("DeleteRetentionPolicy", {}),
    ):
        assert error_of(call, op, logGroupName="nope", **params).code == (
            "ResourceNotFoundException"
        )


def test_tag_log_group_and_tag_resource(call: Call) -> None:
    call("CreateLogGroup", logGroupName="g", tags={"a": "1"})
    call("TagLogGroup", logGroupName="g", tags={"b": "2"})
    call("UntagLogGroup", logGroupName="g", tags=["a"])
    assert call("ListTagsLogGroup", logGroupName="g")["tags"] == {"b": "2"}

    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g"
    call("TagResource", resourceArn=arn, tags={"c": "3"})
    assert call("ListTagsForResource", resourceArn=arn)["tags"] == {"b": "2", "c": "3"}
    call("UntagResource", resourceArn=arn, tagKeys=["b"])
    assert call("ListTagsForResource", resourceArn=arn + ":*")["tags"] == {"c": "3"}

    too_many = {f"k{i}": "v" for i in range(50)}
    assert error_of(call, "TagResource", resourceArn=arn, tags=too_many).code == (
        "TooManyTagsException"
    )
    assert error_of(call, "TagLogGroup", logGroupName="g", tags=too_many).code == (
        "InvalidParameterException"
    )
    missing = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:nope"
    assert error_of(call, "ListTagsForResource", resourceArn=missing).code == (
        "ResourceNotFoundException"
    )
    assert error_of(call, "ListTagsForResource", resourceArn="arn:aws:ecs:x:y:cluster/z").code == (
        "InvalidParameterException"
    )
    assert error_of(call, "TagLogGroup", logGroupName="g", tags={"aws:x": "1"}).code == (
        "InvalidParameterException"
    )


def test_stored_bytes_counts_messages(call: Call, clock: ManualClock) -> None:
    call("CreateLogGroup", logGroupName="g")
    call("CreateLogStream", logGroupName="g", logStreamName="s")
    put(call, "g", "s", (NOW_MS, "abc"), (NOW_MS, "dé"))
    assert call("DescribeLogGroups")["logGroups"][0]["storedBytes"] == 6
