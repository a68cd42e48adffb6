"""PutParameter, GetParameter(s), versions, labels, tiers, deletion."""

from __future__ import annotations

from typing import Any

from dockyard.core.clock import ManualClock
from dockyard.services.ssm import Ssm
from dockyard.store import SqliteStore
from tests.unit.services.ssm.conftest import ACCOUNT, Call, error_of, make_call


def names(out: dict[str, Any]) -> list[str]:
    return [p["Name"] for p in out["Parameters"]]


def test_put_and_get_a_string(call: Call) -> None:
    assert call("PutParameter", Name="/app/url", Value="http://x", Type="String") == {
        "Version": 1,
        "Tier": "Standard",
    }
    p = call("GetParameter", Name="/app/url")["Parameter"]
    assert p["Value"] == "http://x"
    assert p["Type"] == "String"
    assert p["Version"] == 1
    assert p["ARN"] == f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/url"
    assert p["DataType"] == "text"
    by_arn = call("GetParameter", Name=p["ARN"])["Parameter"]
    assert by_arn["Value"] == "http://x"
    plain = call("PutParameter", Name="plain", Value="v", Type="String")
    assert plain["Version"] == 1
    assert call("GetParameter", Name="plain")["Parameter"]["ARN"].endswith(":parameter/plain")


def test_secure_string_shows_its_value_only_with_decryption(call: Call) -> None:
    call("PutParameter", Name="/db/password", Value="s3cr3t", Type="SecureString")
    hidden = call("GetParameter", Name="/db/password")["Parameter"]
    assert hidden["Value"] != "s3cr3t"
    assert "s3cr3t" not in hidden["Value"]
    assert call("GetParameter", Name="/db/password")["Parameter"]["Value"] == hidden["Value"]
    shown = call("GetParameter", Name="/db/password", WithDecryption=True)["Parameter"]
    assert shown["Value"] == "s3cr3t"
    meta = call("DescribeParameters")["Parameters"][0]
    assert meta["KeyId"] == "alias/aws/ssm"
    history = call("GetParameterHistory", Name="/db/password")["Parameters"]
    assert history[0]["Value"] == hidden["Value"]


def test_overwrite_versions_and_selectors(call: Call) -> None:
    call("PutParameter", Name="/v", Value="one", Type="String")
    err = error_of(call, "PutParameter", Name="/v", Value="two", Type="String")
    assert err.code == "ParameterAlreadyExists"
    assert call("PutParameter", Name="/v", Value="two", Overwrite=True)["Version"] == 2
    assert call("GetParameter", Name="/v")["Parameter"]["Value"] == "two"
    old = call("GetParameter", Name="/v:1")["Parameter"]
    assert (old["Value"], old["Version"], old["Selector"]) == ("one", 1, ":1")
    assert error_of(call, "GetParameter", Name="/v:9").code == "ParameterVersionNotFound"
    history = call("GetParameterHistory", Name="/v")["Parameters"]
    assert [h["Value"] for h in history] == ["one", "two"]
    err = error_of(call, "PutParameter", Name="/v", Value="x", Type="SecureString", Overwrite=True)
    assert err.code == "HierarchyTypeMismatchException"
    err = error_of(
        call,
        "PutParameter",
        Name="/v",
        Value="x",
        Overwrite=True,
        Tags=[{"Key": "a", "Value": "b"}],
    )
    assert err.code == "ValidationException"


def test_labels(call: Call) -> None:
    call("PutParameter", Name="/l", Value="one", Type="String")
    call("PutParameter", Name="/l", Value="two", Overwrite=True)
    out = call("LabelParameterVersion", Name="/l", ParameterVersion=1, Labels=["stable", "1bad"])
    assert out == {"InvalidLabels": ["1bad"], "ParameterVersion": 1}
    assert call("GetParameter", Name="/l:stable")["Parameter"]["Value"] == "one"
    call("LabelParameterVersion", Name="/l", Labels=["stable"])  # moves to the latest
    assert call("GetParameter", Name="/l:stable")["Parameter"]["Value"] == "two"
    history = call("GetParameterHistory", Name="/l")["Parameters"]
    assert [h["Labels"] for h in history] == [[], ["stable"]]
    out = call("UnlabelParameterVersion", Name="/l", ParameterVersion=2, Labels=["stable", "x"])
    assert out == {"RemovedLabels": ["stable"], "InvalidLabels": ["x"]}


def test_names_values_and_tiers(call: Call) -> None:
    for bad in ("aws-thing", "/ssm/x", "a b", "a/b", "/a//b"):
        assert error_of(call, "PutParameter", Name=bad, Value="v", Type="String").code in (
            "ValidationException",
        ), bad
    deep = "/" + "/".join(["l"] * 16)
    err = error_of(call, "PutParameter", Name=deep, Value="v", Type="String")
    assert err.code == "HierarchyLevelLimitExceededException"
    big = "x" * 5000
    err = error_of(call, "PutParameter", Name="/big", Value=big, Type="String")
    assert err.code == "ValidationException"
    assert "4096" in err.message
    out = call("PutParameter", Name="/big", Value=big, Type="String", Tier="Advanced")
    assert out["Tier"] == "Advanced"
    err = error_of(call, "PutParameter", Name="/big", Value="s", Overwrite=True, Tier="Standard")
    assert "downgrade" in err.message
    auto = call("PutParameter", Name="/auto", Value="s", Type="String", Tier="Intelligent-Tiering")
    assert auto["Tier"] == "Standard"
    err = error_of(call, "PutParameter", Name="/huge", Value="x" * 8193, Type="String",
                   Tier="Advanced")  # fmt: skip
    assert err.code == "ValidationException"
    err = error_of(call, "PutParameter", Name="/k", Value="v", Type="String", KeyId="alias/x")
    assert err.code == "InvalidKeyId"
    err = error_of(call, "PutParameter", Name="/new", Value="v")
    assert err.code == "ValidationException"


def test_allowed_pattern(call: Call) -> None:
    err = error_of(
        call, "PutParameter", Name="/n", Value="abc", Type="String", AllowedPattern=r"^\d+$"
    )
    assert err.code == "ParameterPatternMismatchException"
    call("PutParameter", Name="/n", Value="42", Type="String", AllowedPattern=r"^\d+$")
    err = error_of(call, "PutParameter", Name="/n", Value="x", Overwrite=True)
    assert err.code == "ParameterPatternMismatchException"
    err = error_of(call, "PutParameter", Name="/m", Value="1", Type="String", AllowedPattern="(")
    assert err.code == "InvalidAllowedPatternException"
    call("PutParameter", Name="/list", Value="1,2,3", Type="StringList", AllowedPattern=r"\d")
    assert call("GetParameter", Name="/list")["Parameter"]["Value"] == "1,2,3"


def test_get_parameters_and_delete(call: Call) -> None:
    call("PutParameter", Name="/a", Value="1", Type="String")
    call("PutParameter", Name="/b", Value="2", Type="String")
    out = call("GetParameters", Names=["/a", "/missing", "/b", "/a:7"])
    assert [p["Value"] for p in out["Parameters"]] == ["1", "2"]
    assert out["InvalidParameters"] == ["/missing", "/a:7"]
    call("DeleteParameter", Name="/a")
    err = error_of(call, "GetParameter", Name="/a")
    assert err.code == "ParameterNotFound"
    assert error_of(call, "DeleteParameter", Name="/a").code == "ParameterNotFound"
    out = call("DeleteParameters", Names=["/b", "/nope"])
    assert out == {"DeletedParameters": ["/b"], "InvalidParameters": ["/nope"]}


def test_by_path_and_describe_filters(call: Call) -> None:
    for name, kind in (
        ("/app/db/user", "String"),
        ("/app/db/password", "SecureString"),
        ("/app/url", "String"),
        ("/other/x", "String"),
    ):
        call("PutParameter", Name=name, Value="v", Type=kind)
    assert names(call("GetParametersByPath", Path="/app")) == ["/app/url"]
    assert names(call("GetParametersByPath", Path="/app", Recursive=True)) == [
        "/app/db/password", "/app/db/user", "/app/url",
    ]  # fmt: skip
    out = call(
        "GetParametersByPath", Path="/app", Recursive=True,
        ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}],
    )  # fmt: skip
    assert names(out) == ["/app/db/password"]
    err = error_of(call, "GetParametersByPath", Path="/app",
                   ParameterFilters=[{"Key": "Name", "Values": ["x"]}])  # fmt: skip
    assert err.code == "InvalidFilterKey"
    page1 = call("GetParametersByPath", Path="/", Recursive=True, MaxResults=2)
    assert len(page1["Parameters"]) == 2
    page2 = call("GetParametersByPath", Path="/", Recursive=True, NextToken=page1["NextToken"])
    assert len(page2["Parameters"]) == 2 and "NextToken" not in page2
    out = call("DescribeParameters", ParameterFilters=[
        {"Key": "Name", "Option": "BeginsWith", "Values": ["/app/db"]}
    ])  # fmt: skip
    assert names(out) == ["/app/db/password", "/app/db/user"]
    out = call("DescribeParameters", ParameterFilters=[
        {"Key": "Path", "Option": "Recursive", "Values": ["/app"]},
        {"Key": "Type", "Values": ["String"]},
    ])  # fmt: skip
    assert names(out) == ["/app/db/user", "/app/url"]
    out = call("DescribeParameters", Filters=[{"Key": "Name", "Values": ["/other"]}])
    assert names(out) == ["/other/x"]
    err = error_of(call, "DescribeParameters", NextToken="garbage")
    assert err.code == "InvalidNextToken"


def test_tags(call: Call) -> None:
    call("PutParameter", Name="/t", Value="v", Type="String", Tags=[{"Key": "team", "Value": "a"}])
    listed = call("ListTagsForResource", ResourceType="Parameter", ResourceId="/t")
    assert listed["TagList"] == [{"Key": "team", "Value": "a"}]
    call("AddTagsToResource", ResourceType="Parameter", ResourceId="/t",
         Tags=[{"Key": "env", "Value": "prod"}])  # fmt: skip
    call("RemoveTagsFromResource", ResourceType="Parameter", ResourceId="/t", TagKeys=["team"])
    listed = call("ListTagsForResource", ResourceType="Parameter", ResourceId="/t")
    assert listed["TagList"] == [{"Key": "env", "Value": "prod"}]
    out = call("DescribeParameters", ParameterFilters=[{"Key": "tag:env", "Values": ["prod"]}])
    assert [p["Name"] for p in out["Parameters"]] == ["/t"]
    err = error_of(call, "ListTagsForResource", ResourceType="Parameter", ResourceId="/nope")
    assert err.code == "InvalidResourceId"
    err = error_of(call, "ListTagsForResource", ResourceType="Document", ResourceId="/t")
    assert err.code == "InvalidResourceType"
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    err = error_of(call, "AddTagsToResource", ResourceType="Parameter", ResourceId="/t", Tags=many)
    assert err.code == "TooManyTagsError"


def test_parameters_survive_a_reload(tmp_path: object, clock: ManualClock) -> None:
    path = f"{tmp_path}/store.sqlite3"
    first = Ssm(SqliteStore(path), clock)
    first.load()
    call = make_call(first)
    call("PutParameter", Name="/keep", Value="one", Type="SecureString")
    call("PutParameter", Name="/keep", Value="two", Overwrite=True)
    call("LabelParameterVersion", Name="/keep", ParameterVersion=1, Labels=["old"])
    hidden = call("GetParameter", Name="/keep")["Parameter"]["Value"]
    second = Ssm(SqliteStore(path), clock)
    second.load()
    again = make_call(second)
    assert (
        again("GetParameter", Name="/keep:old", WithDecryption=True)["Parameter"]["Value"] == "one"
    )
    assert again("GetParameter", Name="/keep")["Parameter"]["Value"] == hidden
    assert second.value(ACCOUNT, "us-east-1", "/keep") == "two"
    assert second.value(ACCOUNT, "eu-west-1", "/keep") is None
