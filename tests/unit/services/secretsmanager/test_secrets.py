"""Secrets, versions and staging labels, deletion and restore, listing, tags."""

from __future__ import annotations

import json
import re
from typing import Any

from dockyard.core.clock import ManualClock
from dockyard.services.secretsmanager import SecretsManager
from dockyard.store import SqliteStore
from tests.unit.services.secretsmanager.conftest import ACCOUNT, Call, error_of, make_call

TOKEN_A = "a" * 32
TOKEN_B = "b" * 32


def names(out: dict[str, Any]) -> list[str]:
    return [p["Name"] for p in out["SecretList"]]


def test_create_and_get(call: Call) -> None:
    out = call(
        "CreateSecret", Name="app/db", SecretString='{"user":"u"}', ClientRequestToken=TOKEN_A
    )
    assert re.fullmatch(
        rf"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/db-[A-Za-z0-9]{{6}}", out["ARN"]
    )
    assert out["VersionId"] == TOKEN_A
    for secret_id in ("app/db", out["ARN"], out["ARN"][:-7]):
        got = call("GetSecretValue", SecretId=secret_id)
        assert got["SecretString"] == '{"user":"u"}'
        assert got["VersionStages"] == ["AWSCURRENT"]
    again = call(
        "CreateSecret", Name="app/db", SecretString='{"user":"u"}', ClientRequestToken=TOKEN_A
    )
    assert again["ARN"] == out["ARN"]  # a retried request
    err = error_of(
        call, "CreateSecret", Name="app/db", SecretString="x", ClientRequestToken=TOKEN_B
    )
    assert err.code == "ResourceExistsException"
    err = error_of(call, "GetSecretValue", SecretId="nope")
    assert (err.code, err.message) == (
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret.",
    )
    err = error_of(call, "CreateSecret", Name="x", SecretString="s", SecretBinary=b"b")
    assert err.code == "InvalidParameterException"
    err = error_of(call, "CreateSecret", Name="bad name!")
    assert err.code == "ValidationException"


def test_binary_and_empty_secrets(call: Call) -> None:
    call("CreateSecret", Name="bin", SecretBinary=b"\x00\x01")
    assert call("GetSecretValue", SecretId="bin")["SecretBinary"] == b"\x00\x01"
    empty = call("CreateSecret", Name="empty")
    assert "VersionId" not in empty
    err = error_of(call, "GetSecretValue", SecretId="empty")
    assert err.code == "ResourceNotFoundException"
    assert "AWSCURRENT" in err.message


def test_versions_and_stages(call: Call) -> None:
    call("CreateSecret", Name="s", SecretString="one", ClientRequestToken=TOKEN_A)
    out = call("PutSecretValue", SecretId="s", SecretString="two", ClientRequestToken=TOKEN_B)
    assert out["VersionStages"] == ["AWSCURRENT"]
    assert call("GetSecretValue", SecretId="s")["SecretString"] == "two"
    prev = call("GetSecretValue", SecretId="s", VersionStage="AWSPREVIOUS")
    assert (prev["SecretString"], prev["VersionId"]) == ("one", TOKEN_A)
    assert call("GetSecretValue", SecretId="s", VersionId=TOKEN_A)["SecretString"] == "one"
    same = call("PutSecretValue", SecretId="s", SecretString="two", ClientRequestToken=TOKEN_B)
    assert same["VersionId"] == TOKEN_B
    err = error_of(
        call, "PutSecretValue", SecretId="s", SecretString="3", ClientRequestToken=TOKEN_B
    )
    assert err.code == "ResourceExistsException"
    updated = call("UpdateSecret", SecretId="s", SecretString="three", Description="d")
    assert updated["VersionId"] not in (TOKEN_A, TOKEN_B)
    described = call("DescribeSecret", SecretId="s")
    assert described["Description"] == "d"
    assert described["VersionIdsToStages"] == {
        TOKEN_B: ["AWSPREVIOUS"], updated["VersionId"]: ["AWSCURRENT"],
    }  # fmt: skip
    versions = call("ListSecretVersionIds", SecretId="s")["Versions"]
    assert len(versions) == 2
    assert len(call("ListSecretVersionIds", SecretId="s", IncludeDeprecated=True)["Versions"]) == 3
    err = error_of(call, "GetSecretValue", SecretId="s", VersionStage="NOPE")
    assert err.code == "ResourceNotFoundException"


def test_delete_restore_and_recovery_window(call: Call, clock: ManualClock) -> None:
    arn = call("CreateSecret", Name="d", SecretString="v")["ARN"]
    out = call("DeleteSecret", SecretId="d")
    assert out["DeletionDate"] == clock.now() + 30 * 86400
    err = error_of(call, "GetSecretValue", SecretId="d")
    assert err.code == "InvalidRequestException"
    assert "marked for deletion" in err.message
    assert error_of(call, "PutSecretValue", SecretId="d", SecretString="x").code == (
        "InvalidRequestException"
    )
    assert "DeletedDate" in call("DescribeSecret", SecretId="d")
    assert call("ListSecrets")["SecretList"] == []
    assert len(call("ListSecrets", IncludePlannedDeletion=True)["SecretList"]) == 1
    err = error_of(call, "CreateSecret", Name="d", SecretString="again")
    assert err.code == "InvalidRequestException"
    call("RestoreSecret", SecretId=arn)
    assert call("GetSecretValue", SecretId="d")["SecretString"] == "v"
    call("DeleteSecret", SecretId="d", RecoveryWindowInDays=7)
    clock.advance(7 * 86400 + 1)
    assert error_of(call, "DescribeSecret", SecretId="d").code == "ResourceNotFoundException"
    call("CreateSecret", Name="f", SecretString="v")
    err = error_of(call, "DeleteSecret", SecretId="f", RecoveryWindowInDays=7,
                   ForceDeleteWithoutRecovery=True)  # fmt: skip
    assert err.code == "InvalidParameterException"
    assert error_of(call, "DeleteSecret", SecretId="f", RecoveryWindowInDays=3).code == (
        "InvalidParameterException"
    )
    call("DeleteSecret", SecretId="f", ForceDeleteWithoutRecovery=True)
    assert error_of(call, "DescribeSecret", SecretId="f").code == "ResourceNotFoundException"


def test_list_filters_paging_and_tags(call: Call, clock: ManualClock) -> None:
    for name in ("prod/db", "prod/api", "dev/db"):
        call("CreateSecret", Name=name, SecretString="v", Tags=[{"Key": "env", "Value": name[:3]}])
        clock.advance(1)
    assert names(call("ListSecrets")) == ["prod/db", "prod/api", "dev/db"]
    assert names(call("ListSecrets", SortOrder="desc")) == ["dev/db", "prod/api", "prod/db"]
    assert names(call("ListSecrets", SortBy="name")) == ["dev/db", "prod/api", "prod/db"]
    assert names(call("ListSecrets", Filters=[{"Key": "name", "Values": ["prod/"]}])) == [
        "prod/db", "prod/api",
    ]  # fmt: skip
    assert names(call("ListSecrets", Filters=[{"Key": "name", "Values": ["!prod"]}])) == ["dev/db"]
    assert names(call("ListSecrets", Filters=[{"Key": "tag-value", "Values": ["dev"]}])) == [
        "dev/db"
    ]
    page1 = call("ListSecrets", MaxResults=2)
    assert len(page1["SecretList"]) == 2
    page2 = call("ListSecrets", MaxResults=2, NextToken=page1["NextToken"])
    assert names(page2) == ["dev/db"] and "NextToken" not in page2
    assert error_of(call, "ListSecrets", NextToken="junk").code == "InvalidNextTokenException"
    call("TagResource", SecretId="dev/db", Tags=[{"Key": "team", "Value": "x"}])
    call("UntagResource", SecretId="dev/db", TagKeys=["env"])
    assert call("DescribeSecret", SecretId="dev/db")["Tags"] == [{"Key": "team", "Value": "x"}]
    entry = call("ListSecrets", Filters=[{"Key": "name", "Values": ["dev"]}])["SecretList"][0]
    assert list(entry["SecretVersionsToStages"].values()) == [["AWSCURRENT"]]


def test_secrets_survive_a_reload(tmp_path: object, clock: ManualClock) -> None:
    path = f"{tmp_path}/store.sqlite3"
    first = SecretsManager(SqliteStore(path), clock)
    first.load()
    arn = make_call(first)("CreateSecret", Name="k", SecretString=json.dumps({"p": "w"}))["ARN"]
    second = SecretsManager(SqliteStore(path), clock)
    second.load()
    got = make_call(second)("GetSecretValue", SecretId=arn)
    assert json.loads(got["SecretString"]) == {"p": "w"}
    assert second.value(ACCOUNT, "us-east-1", arn) == '{"p": "w"}'
