"""Launch templates and versions: names, versions by number and alias, source versions,
the default version, deletes, filters and pages, and what a launch resolves."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from dockyard.core.errors import ServiceError
from dockyard.core.images import ecs_optimized_image
from dockyard.core.scope import Scope
from dockyard.services.ec2 import Ec2
from dockyard.services.ec2.templates import references
from dockyard.store import SqliteStore
from dockyard.store.base import StoreUnavailable
from tests.unit.services.ec2.conftest import ACCOUNT, REGION, Call, error_of, make_call
from tests.unit.services.ec2.test_vpcs import RefusingStore

SCOPE = Scope(ACCOUNT, REGION)
USER_DATA = base64.b64encode(b"#!/bin/sh\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\n").decode()


def new_template(call: Call, name: str = "web", **data: Any) -> dict[str, Any]:
    made: dict[str, Any] = call(
        "CreateLaunchTemplate",
        LaunchTemplateName=name,
        VersionDescription="first",
        LaunchTemplateData={"InstanceType": "t3.micro", **data},
    )["LaunchTemplate"]
    return made


def versions(call: Call, **params: Any) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = call("DescribeLaunchTemplateVersions", **params)[
        "LaunchTemplateVersions"
    ]
    return shown


def test_create_answers_version_one_as_default_and_latest(call: Call) -> None:
    made = new_template(call, UserData=USER_DATA)
    assert made["LaunchTemplateId"].startswith("lt-")
    assert (made["LaunchTemplateName"], made["DefaultVersionNumber"]) == ("web", 1)
    assert made["LatestVersionNumber"] == 1
    assert made["CreatedBy"] == f"arn:aws:iam::{ACCOUNT}:root"
    (v,) = versions(call, LaunchTemplateId=made["LaunchTemplateId"])
    assert v["VersionNumber"] == 1 and v["DefaultVersion"] is True
    assert v["VersionDescription"] == "first"
    # The data as given: user data stays in base64.
    assert v["LaunchTemplateData"] == {"InstanceType": "t3.micro", "UserData": USER_DATA}


def test_names_are_unique_and_checked(call: Call) -> None:
    new_template(call)
    err = error_of(call, "CreateLaunchTemplate", LaunchTemplateName="web", LaunchTemplateData={})
    assert err.code == "InvalidLaunchTemplateName.AlreadyExistsException"
    err = error_of(call, "CreateLaunchTemplate", LaunchTemplateName="a b", LaunchTemplateData={})
    assert err.code == "InvalidLaunchTemplateName.MalformedException"
    err = error_of(call, "CreateLaunchTemplate", LaunchTemplateName="ok-name")
    assert err.code == "MissingParameter" and "LaunchTemplateData" in err.message


def test_user_data_must_be_base64(call: Call) -> None:
    err = error_of(
        call, "CreateLaunchTemplate", LaunchTemplateName="ud1", LaunchTemplateData={"UserData": "!"}
    )
    assert err.code == "InvalidUserData.Malformed"
    big = base64.b64encode(b"x" * (16 * 1024 + 1)).decode()
    err = error_of(
        call, "CreateLaunchTemplate", LaunchTemplateName="ud2", LaunchTemplateData={"UserData": big}
    )
    assert err.code == "InvalidUserData.Malformed"


def test_references_are_not_checked_when_stored(call: Call) -> None:
    made = new_template(
        call, SecurityGroupIds=["sg-0000000000000000a"], SubnetId="subnet-0000000000000000a"
    )
    assert made["LatestVersionNumber"] == 1


def test_versions_by_number_and_alias(call: Call) -> None:
    lt = new_template(call)["LaunchTemplateId"]
    v2 = call(
        "CreateLaunchTemplateVersion",
        LaunchTemplateId=lt,
        LaunchTemplateData={"ImageId": "ami-0123456789abcdef0"},
    )["LaunchTemplateVersion"]
    assert (v2["VersionNumber"], v2["DefaultVersion"]) == (2, False)
    assert v2["LaunchTemplateData"] == {"ImageId": "ami-0123456789abcdef0"}
    (latest,) = versions(call, LaunchTemplateName="web", Versions=["$Latest"])
    (default,) = versions(call, LaunchTemplateName="web", Versions=["$Default"])
    assert (latest["VersionNumber"], default["VersionNumber"]) == (2, 1)
    assert [v["VersionNumber"] for v in versions(call, LaunchTemplateId=lt)] == [2, 1]
    assert [v["VersionNumber"] for v in versions(call, LaunchTemplateId=lt, MinVersion="2")] == [2]
    err = error_of(call, "DescribeLaunchTemplateVersions", LaunchTemplateId=lt, Versions=["7"])
    assert err.code == "InvalidLaunchTemplateId.VersionNotFound"


def test_source_version_is_merged_with_the_members_given(call: Call) -> None:
    lt = new_template(call, ImageId="ami-0123456789abcdef0")["LaunchTemplateId"]
    v2 = call(
        "CreateLaunchTemplateVersion",
        LaunchTemplateId=lt,
        SourceVersion="1",
        VersionDescription="bigger",
        LaunchTemplateData={"InstanceType": "m5.large"},
    )["LaunchTemplateVersion"]
    assert v2["LaunchTemplateData"] == {
        "InstanceType": "m5.large",
        "ImageId": "ami-0123456789abcdef0",
    }
    err = error_of(
        call, "CreateLaunchTemplateVersion", LaunchTemplateId=lt, SourceVersion="9",
        LaunchTemplateData={},
    )  # fmt: skip
    assert err.code == "InvalidLaunchTemplateId.VersionNotFound"


def test_default_version_moves_and_cannot_be_deleted(call: Call) -> None:
    lt = new_template(call)["LaunchTemplateId"]
    call("CreateLaunchTemplateVersion", LaunchTemplateId=lt, LaunchTemplateData={})
    call("CreateLaunchTemplateVersion", LaunchTemplateId=lt, LaunchTemplateData={})
    shown = call("ModifyLaunchTemplate", LaunchTemplateId=lt, DefaultVersion="2")["LaunchTemplate"]
    assert (shown["DefaultVersionNumber"], shown["LatestVersionNumber"]) == (2, 3)
    out = call("DeleteLaunchTemplateVersions", LaunchTemplateId=lt, Versions=["2", "3", "8"])
    assert [v["VersionNumber"] for v in out["SuccessfullyDeletedLaunchTemplateVersions"]] == [3]
    failed = {
        v["VersionNumber"]: v["ResponseError"]["Code"]
        for v in out["UnsuccessfullyDeletedLaunchTemplateVersions"]
    }
    assert failed == {2: "unexpectedError", 8: "launchTemplateVersionDoesNotExist"}
    # Numbers are not reused: the next version is 4, and the latest is now 2.
    (t,) = call("DescribeLaunchTemplates", LaunchTemplateIds=[lt])["LaunchTemplates"]
    assert t["LatestVersionNumber"] == 2
    v4 = call("CreateLaunchTemplateVersion", LaunchTemplateId=lt, LaunchTemplateData={})
    assert v4["LaunchTemplateVersion"]["VersionNumber"] == 4
    err = error_of(call, "ModifyLaunchTemplate", LaunchTemplateId=lt, DefaultVersion="3")
    assert err.code == "InvalidLaunchTemplateId.VersionNotFound"


def test_lookups_and_their_errors(call: Call) -> None:
    lt = new_template(call)["LaunchTemplateId"]
    err = error_of(call, "DescribeLaunchTemplates", LaunchTemplateIds=["lt-0000000000000000a"])
    assert err.code == "InvalidLaunchTemplateId.NotFound"
    err = error_of(call, "DescribeLaunchTemplates", LaunchTemplateNames=["nope"])
    assert err.code == "InvalidLaunchTemplateName.NotFoundException"
    err = error_of(call, "DeleteLaunchTemplate", LaunchTemplateId="web")
    assert err.code == "InvalidLaunchTemplateId.Malformed"
    err = error_of(call, "DeleteLaunchTemplate")
    assert err.code == "MissingParameter"
    err = error_of(call, "DeleteLaunchTemplate", LaunchTemplateId=lt, LaunchTemplateName="web")
    assert err.code == "InvalidParameterCombination"
    gone = call("DeleteLaunchTemplate", LaunchTemplateName="web")["LaunchTemplate"]
    assert gone["LaunchTemplateId"] == lt
    assert call("DescribeLaunchTemplates")["LaunchTemplates"] == []


def test_filters_tags_and_pages(call: Call) -> None:
    for i in range(3):
        call(
            "CreateLaunchTemplate",
            LaunchTemplateName=f"app-{i}",
            LaunchTemplateData={"InstanceType": "t3.micro" if i else "m5.large"},
            TagSpecifications=[
                {"ResourceType": "launch-template", "Tags": [{"Key": "tier", "Value": str(i)}]}
            ],
        )
    found = call("DescribeLaunchTemplates", Filters=[{"Name": "tag:tier", "Values": ["1", "2"]}])
    assert sorted(t["LaunchTemplateName"] for t in found["LaunchTemplates"]) == ["app-1", "app-2"]
    found = call(
        "DescribeLaunchTemplates", Filters=[{"Name": "launch-template-name", "Values": ["app-0"]}]
    )
    assert [t["Tags"] for t in found["LaunchTemplates"]] == [[{"Key": "tier", "Value": "0"}]]
    first = call("DescribeLaunchTemplates", MaxResults=2)
    rest = call("DescribeLaunchTemplates", MaxResults=2, NextToken=first["NextToken"])
    assert len(first["LaunchTemplates"]) == 2 and len(rest["LaunchTemplates"]) == 1
    assert "NextToken" not in rest
    latest = versions(
        call, Versions=["$Latest"], Filters=[{"Name": "instance-type", "Values": ["t3.*"]}]
    )
    assert sorted(v["LaunchTemplateName"] for v in latest) == ["app-1", "app-2"]
    err = error_of(call, "DescribeLaunchTemplateVersions", Versions=["1"])
    assert err.code == "MissingParameter"
    err = error_of(call, "DescribeLaunchTemplates", Filters=[{"Name": "colour", "Values": ["x"]}])
    assert err.code == "InvalidParameterValue"
    tagged = call(
        "DescribeTags", Filters=[{"Name": "resource-type", "Values": ["launch-template"]}]
    )
    assert len(tagged["Tags"]) == 3


def test_create_tags_on_a_template(call: Call) -> None:
    lt = new_template(call)["LaunchTemplateId"]
    call("CreateTags", Resources=[lt], Tags=[{"Key": "Name", "Value": "web"}])
    (t,) = call("DescribeLaunchTemplates", Filters=[{"Name": "tag:Name", "Values": ["web"]}])[
        "LaunchTemplates"
    ]
    assert t["LaunchTemplateId"] == lt


def test_resolve_answers_the_version_data_or_the_ec2_error(ec2: Ec2, call: Call) -> None:
    lt = new_template(call, ImageId="ami-0123456789abcdef0")["LaunchTemplateId"]
    call(
        "CreateLaunchTemplateVersion",
        LaunchTemplateId=lt,
        LaunchTemplateData={"InstanceType": "c5.large"},
    )
    template, version = ec2.templates.resolve(SCOPE, lt, None, "$Latest")
    assert (template.id, version.number, version.data) == (lt, 2, {"InstanceType": "c5.large"})
    _, default = ec2.templates.resolve(SCOPE, None, "web", None)
    assert default.number == 1 and default.data["ImageId"] == "ami-0123456789abcdef0"
    assert ec2.templates.resolve(SCOPE, None, "web", "2")[1].number == 2
    with pytest.raises(ServiceError) as err:
        ec2.templates.resolve(SCOPE, None, "web", "3")
    assert err.value.code == "InvalidLaunchTemplateId.VersionNotFound"
    with pytest.raises(ServiceError) as err:
        ec2.templates.resolve(SCOPE, None, "other", None)
    assert err.value.code == "InvalidLaunchTemplateName.NotFoundException"
    with pytest.raises(ServiceError) as err:
        ec2.templates.resolve(SCOPE, lt, None, "latest")
    assert err.value.code == "InvalidParameterValue"


def test_references_checked_at_launch(ec2: Ec2, call: Call) -> None:
    vpc = call("CreateVpc", CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = call("CreateSubnet", VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = call("CreateSecurityGroup", GroupName="web", Description="w", VpcId=vpc)["GroupId"]
    other = call("CreateSecurityGroup", GroupName="web", Description="w")["GroupId"]
    (pair,) = references.checked(
        SCOPE, {"SubnetId": subnet, "SecurityGroupIds": [group]}, ec2.vpcs, ec2.groups
    )
    assert pair[0] is not None and pair[0].id == subnet and [g.id for g in pair[1]] == [group]
    nic = {"NetworkInterfaces": [{"DeviceIndex": 0, "SubnetId": subnet, "Groups": [group]}]}
    assert references.checked(SCOPE, nic, ec2.vpcs, ec2.groups)[0][1][0].id == group
    cases = [
        ({"SubnetId": "subnet-0000000000000000a"}, "InvalidSubnetID.NotFound"),
        ({"SecurityGroupIds": ["sg-0000000000000000a"]}, "InvalidGroup.NotFound"),
        ({"SubnetId": subnet, "SecurityGroupIds": [other]}, "InvalidParameter"),
        ({**nic, "SecurityGroupIds": [group]}, "InvalidParameterCombination"),
        ({"SecurityGroups": ["nope"]}, "InvalidGroup.NotFound"),
    ]
    for data, code in cases:
        with pytest.raises(ServiceError) as err:
            references.checked(SCOPE, data, ec2.vpcs, ec2.groups)
        assert err.value.code == code, data


def test_templates_survive_a_reload(store: SqliteStore, ec2: Ec2) -> None:
    call = make_call(ec2)
    lt = new_template(call, UserData=USER_DATA)["LaunchTemplateId"]
    call("CreateLaunchTemplateVersion", LaunchTemplateId=lt, LaunchTemplateData={})
    call("ModifyLaunchTemplate", LaunchTemplateId=lt, DefaultVersion="2")
    again = Ec2(store)
    again.load()
    reloaded = make_call(again)
    (t,) = reloaded("DescribeLaunchTemplates")["LaunchTemplates"]
    assert (t["LaunchTemplateId"], t["DefaultVersionNumber"], t["LatestVersionNumber"]) == (
        lt,
        2,
        2,
    )
    (v1,) = versions(reloaded, LaunchTemplateId=lt, Versions=["1"])
    assert v1["LaunchTemplateData"]["UserData"] == USER_DATA


def test_a_refused_commit_changes_nothing() -> None:
    store = RefusingStore(":memory:")
    call = make_call(Ec2(store))
    lt = new_template(call)["LaunchTemplateId"]
    before = versions(call, LaunchTemplateId=lt)
    store.refuse = True
    with pytest.raises(StoreUnavailable):
        call("CreateLaunchTemplateVersion", LaunchTemplateId=lt, LaunchTemplateData={})
    with pytest.raises(StoreUnavailable):
        call("DeleteLaunchTemplate", LaunchTemplateId=lt)
    with pytest.raises(StoreUnavailable):
        call("CreateLaunchTemplate", LaunchTemplateName="other", LaunchTemplateData={})
    store.refuse = False
    assert versions(call, LaunchTemplateId=lt) == before
    assert len(call("DescribeLaunchTemplates")["LaunchTemplates"]) == 1


def test_resolve_alias_answers_the_image_a_public_parameter_names(call: Call) -> None:
    alias = "resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    lt = new_template(call, ImageId=alias)["LaunchTemplateId"]
    (kept,) = versions(call, LaunchTemplateId=lt)
    assert kept["LaunchTemplateData"]["ImageId"] == alias
    (shown,) = versions(call, LaunchTemplateId=lt, ResolveAlias=True)
    assert shown["LaunchTemplateData"]["ImageId"] == ecs_optimized_image(REGION).image_id
    other = new_template(call, "own", ImageId="resolve:ssm:/mine/ami")["LaunchTemplateId"]
    err = error_of(
        call, "DescribeLaunchTemplateVersions", LaunchTemplateId=other, ResolveAlias=True
    )
    assert err.code == "InvalidParameterValue" and "resolve:ssm:/mine/ami" in err.message


def test_client_token_makes_create_idempotent(call: Call) -> None:
    first = call("CreateLaunchTemplate", LaunchTemplateName="once", ClientToken="t-1",
                 LaunchTemplateData={"InstanceType": "t3.micro"})["LaunchTemplate"]  # fmt: skip
    again = call("CreateLaunchTemplate", LaunchTemplateName="once", ClientToken="t-1",
                 LaunchTemplateData={"InstanceType": "t3.micro"})["LaunchTemplate"]  # fmt: skip
    assert again["LaunchTemplateId"] == first["LaunchTemplateId"]
    err = error_of(call, "CreateLaunchTemplate", LaunchTemplateName="twice", ClientToken="t-1",
                   LaunchTemplateData={})  # fmt: skip
    assert err.code == "IdempotentParameterMismatch"
    assert len(call("DescribeLaunchTemplates")["LaunchTemplates"]) == 1


def test_the_image_checked_at_launch(ec2: Ec2) -> None:
    ecs = ecs_optimized_image(REGION)
    alias = "resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    for given in (ecs.image_id, alias):
        assert references.image(SCOPE, {"ImageId": given}, ec2.images) == ecs
    cases = [
        ({}, "MissingParameter"),
        ({"ImageId": "ami-0000000000000000a"}, "InvalidAMIID.NotFound"),
        ({"ImageId": "image"}, "InvalidAMIID.Malformed"),
        ({"ImageId": "resolve:ssm:/mine"}, "InvalidParameterValue"),
    ]
    for data, code in cases:
        with pytest.raises(ServiceError) as err:
            references.image(SCOPE, data, ec2.images)
        assert err.value.code == code, data


class CountingStore(SqliteStore):
    rows: list[str]

    def write(self, puts: Any = (), deletes: Any = ()) -> None:
        self.rows = [kind for kind, _key, _body in puts]
        super().write(puts, deletes)


def test_a_new_version_writes_the_template_and_that_version_only() -> None:
    store = CountingStore(":memory:")
    call = make_call(Ec2(store))
    lt = new_template(call, UserData=USER_DATA)["LaunchTemplateId"]
    for _ in range(3):
        call("CreateLaunchTemplateVersion", LaunchTemplateId=lt, LaunchTemplateData={})
    assert sorted(store.rows) == ["ec2.launch-template", "ec2.launch-template-version"]
    call("DeleteLaunchTemplate", LaunchTemplateId=lt)
    again = Ec2(store)
    again.load()
    # The template and every version went with it.
    assert [r for r in again.records.every(SCOPE) if r.KIND.startswith("ec2.launch-")] == []


def test_versions_come_in_pages_newest_first(call: Call) -> None:
    lt = new_template(call)["LaunchTemplateId"]
    for _ in range(4):
        call("CreateLaunchTemplateVersion", LaunchTemplateId=lt, LaunchTemplateData={})
    seen: list[int] = []
    token = None
    for _ in range(10):
        page = call(
            "DescribeLaunchTemplateVersions",
            LaunchTemplateId=lt,
            MaxResults=2,
            **({"NextToken": token} if token else {}),
        )
        seen += [v["VersionNumber"] for v in page["LaunchTemplateVersions"]]
        token = page.get("NextToken")
        if token is None:
            break
    assert seen == [5, 4, 3, 2, 1]
