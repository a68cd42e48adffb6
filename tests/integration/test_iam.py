"""IAM through a real server with an auth file: users, access keys that really sign (until a
policy stops them), groups, roles, managed and inline policies, versions, instance profiles,
tags, service-linked roles, the errors IAM answers, denied messages in each protocol's shape,
SimulatePrincipalPolicy, and keys that survive a restart without being stored in clear."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError

from tests.integration.iam_support import (
    ACCOUNT,
    ROOT_KEY,
    ROOT_SECRET,
    client,
    error_code,
    new_user,
    policy,
    start_auth_server,
)
from tests.support.server import DockyardProcess, client_env, signed_headers

READ = policy({"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"})
TRUST = policy({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole"})  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    srv = start_auth_server(tmp_path_factory, "iam")
    yield srv
    srv.stop()


@pytest.fixture
def iam(server: DockyardProcess) -> Any:
    return client("iam", server.endpoint)


def cli(endpoint: str, *args: str, key: str = ROOT_KEY, secret: str = ROOT_SECRET) -> Any:
    env = client_env(endpoint)
    env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
    cmd = [sys.executable, "-m", "awscli", "--endpoint-url", endpoint, "--output", "json", *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    return done


def test_cli_created_key_works_until_its_policy_stops_it(server: DockyardProcess) -> None:
    made = cli(server.endpoint, "iam", "create-user", "--user-name", "cli-user")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/cli-user"
    out = cli(server.endpoint, "iam", "create-access-key", "--user-name", "cli-user")
    key = json.loads(out.stdout)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and key["Status"] == "Active"
    as_user = {"key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    who = cli(server.endpoint, "sts", "get-caller-identity", **as_user)
    assert json.loads(who.stdout)["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/cli-user"
    everything = policy({"Effect": "Allow", "Action": "ssm:*", "Resource": "*"})
    cli(server.endpoint, "iam", "put-user-policy", "--user-name", "cli-user", "--policy-name",
        "p", "--policy-document", everything)  # fmt: skip
    put = cli(server.endpoint, "ssm", "put-parameter", "--name", "/cli/x", "--value", "1",
              "--type", "String", **as_user)  # fmt: skip
    assert put.returncode == 0, put.stderr
    deny = policy({"Effect": "Deny", "Action": "ssm:PutParameter", "Resource": "*"})
    cli(server.endpoint, "iam", "put-user-policy", "--user-name", "cli-user", "--policy-name",
        "stop", "--policy-document", deny)  # fmt: skip
    again = cli(server.endpoint, "ssm", "put-parameter", "--name", "/cli/x", "--value", "2",
                "--type", "String", "--overwrite", **as_user)  # fmt: skip
    assert again.returncode != 0
    assert "AccessDeniedException" in again.stderr
    assert "with an explicit deny in an identity-based policy" in again.stderr
    got = cli(server.endpoint, "ssm", "get-parameter", "--name", "/cli/x", **as_user)
    assert json.loads(got.stdout)["Parameter"]["Value"] == "1"


def test_denied_messages_name_action_resource_and_reason(server: DockyardProcess, iam: Any) -> None:
    key = new_user(iam, "alice", READ)
    ssm = client("ssm", server.endpoint, *key)
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="/app/x", Value="1", Type="String")
    assert error_code(exc.value) == "AccessDeniedException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert exc.value.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: "
        f"ssm:PutParameter on resource: arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/x "
        "because no identity-based policy allows the ssm:PutParameter action"
    )
    elb = client("elbv2", server.endpoint, *key)
    with pytest.raises(ClientError) as exc:
        elb.describe_load_balancers()
    assert error_code(exc.value) == "AccessDenied"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "elasticloadbalancing:DescribeLoadBalancers" in exc.value.response["Error"]["Message"]
    cloudwatch = client("cloudwatch", server.endpoint, *key)
    with pytest.raises(ClientError) as exc:
        cloudwatch.describe_alarms()
    assert error_code(exc.value) == "AccessDenied"
    users = client("iam", server.endpoint, *key)
    with pytest.raises(ClientError) as exc:
        users.create_user(UserName="mallory")
    assert error_code(exc.value) == "AccessDenied"
    assert f"on resource: arn:aws:iam::{ACCOUNT}:user/mallory" in str(exc.value)


def test_user_errors_as_iam_answers_them(iam: Any) -> None:
    iam.create_user(UserName="bob", Path="/team/")
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName="bob")
    assert error_code(exc.value) == "EntityAlreadyExists"
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName="nobody")
    assert error_code(exc.value) == "NoSuchEntity"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    iam.create_access_key(UserName="bob")
    iam.create_access_key(UserName="bob")
    with pytest.raises(ClientError) as exc:
        iam.create_access_key(UserName="bob")
    assert error_code(exc.value) == "LimitExceeded"
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName="bob")
    assert error_code(exc.value) == "DeleteConflict"
    for k in iam.list_access_keys(UserName="bob")["AccessKeyMetadata"]:
        iam.delete_access_key(UserName="bob", AccessKeyId=k["AccessKeyId"])
    iam.put_user_policy(UserName="bob", PolicyName="p", PolicyDocument=READ)
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName="bob")
    assert error_code(exc.value) == "DeleteConflict"
    iam.delete_user_policy(UserName="bob", PolicyName="p")
    iam.delete_user(UserName="bob")
    assert "bob" not in [u["UserName"] for u in iam.list_users()["Users"]]


def test_policy_documents_are_validated(iam: Any) -> None:
    iam.create_user(UserName="carol")
    for bad, words in (
        ("not json", "invalid Json"),
        (json.dumps({"Statement": [{"Action": "ssm:*", "Resource": "*"}]}), "Effect"),
        (policy({"Effect": "Allow", "Action": "nocolon", "Resource": "*"}), "vendor"),
        (policy({"Effect": "Allow", "Action": "ssm:*", "Resource": "bucket"}), "ARN"),
        (
            policy({"Effect": "Allow", "Action": "ssm:*", "Resource": "*", "Principal": "*"}),
            "principal",
        ),
        (
            policy(
                {
                    "Effect": "Allow",
                    "Action": "ssm:*",
                    "Resource": "*",
                    "Condition": {"StringSorta": {"aws:x": "y"}},
                }
            ),
            "Condition",
        ),
    ):
        with pytest.raises(ClientError) as exc:
            iam.put_user_policy(UserName="carol", PolicyName="p", PolicyDocument=bad)
        assert error_code(exc.value) == "MalformedPolicyDocument", bad
        assert words in exc.value.response["Error"]["Message"], bad
    big = policy(*[{"Effect": "Allow", "Action": f"ssm:GetParameter{i}", "Resource": "*"}
                   for i in range(60)])  # fmt: skip
    with pytest.raises(ClientError) as exc:
        iam.put_user_policy(UserName="carol", PolicyName="p", PolicyDocument=big)
    assert error_code(exc.value) == "LimitExceeded"  # 2,048 characters for a user's inline
    iam.create_role(RoleName="big-inline", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName="big-inline", PolicyName="p", PolicyDocument=big)  # 10,240


def test_roles_trust_policies_and_instance_profiles(iam: Any) -> None:
    tags = [{"Key": "team", "Value": "blue"}]
    role = iam.create_role(
        RoleName="app-task",
        Path="/ecs/",
        AssumeRolePolicyDocument=TRUST,
        Description="d",
        Tags=tags,
    )["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/ecs/app-task"
    assert role["RoleId"].startswith("AROA")
    got = iam.get_role(RoleName="app-task")["Role"]
    doc = got["AssumeRolePolicyDocument"]  # boto3 decodes IAM's URL-encoded documents
    doc = json.loads(unquote(doc)) if isinstance(doc, str) else doc
    assert doc["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert got["Tags"] == [{"Key": "team", "Value": "blue"}]
    assert "app-task" in [r["RoleName"] for r in iam.list_roles(PathPrefix="/ecs/")["Roles"]]
    iam.attach_role_policy(
        RoleName="app-task",
        PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    )
    attached = iam.list_attached_role_policies(RoleName="app-task")["AttachedPolicies"]
    assert attached[0]["PolicyName"] == "AmazonECSTaskExecutionRolePolicy"
    iam.create_instance_profile(InstanceProfileName="web")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="app-task")
    profile = iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert profile["InstanceProfileId"].startswith("AIPA")
    assert [r["RoleName"] for r in profile["Roles"]] == ["app-task"]
    with pytest.raises(ClientError) as exc:
        iam.delete_role(RoleName="app-task")
    assert error_code(exc.value) == "DeleteConflict"
    bad_trust = policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})
    with pytest.raises(ClientError) as exc:
        iam.update_assume_role_policy(RoleName="app-task", PolicyDocument=bad_trust)
    assert error_code(exc.value) == "MalformedPolicyDocument"
    linked = iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")["Role"]
    assert linked["RoleName"] == "AWSServiceRoleForECS"
    assert linked["Path"] == "/aws-service-role/ecs.amazonaws.com/"


def test_managed_policies_and_versions(iam: Any) -> None:
    admin = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]
    assert admin["DefaultVersionId"] == "v1"
    aws_names = {p["PolicyName"] for p in iam.list_policies(Scope="AWS")["Policies"]}
    assert {"AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess",
            "AmazonSSMReadOnlyAccess"} <= aws_names  # fmt: skip
    arn = iam.create_policy(PolicyName="team-read", PolicyDocument=READ)["Policy"]["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/team-read"
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=READ, SetAsDefault=True)
    assert v2["PolicyVersion"]["VersionId"] == "v2"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    with pytest.raises(ClientError) as exc:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    assert error_code(exc.value) == "DeleteConflict"
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=READ)
    with pytest.raises(ClientError) as exc:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=READ)
    assert error_code(exc.value) == "LimitExceeded"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert len(versions) == 5
    iam.create_group(GroupName="readers")
    iam.attach_group_policy(GroupName="readers", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert error_code(exc.value) == "DeleteConflict"


def test_permissions_boundary_caps_a_users_policies(server: DockyardProcess, iam: Any) -> None:
    cap = iam.create_policy(PolicyName="cap-ssm-read", PolicyDocument=READ)["Policy"]["Arn"]
    everything = policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
    iam.create_user(UserName="capped", PermissionsBoundary=cap)
    iam.put_user_policy(UserName="capped", PolicyName="all", PolicyDocument=everything)
    key = iam.create_access_key(UserName="capped")["AccessKey"]
    shown = iam.get_user(UserName="capped")["User"]["PermissionsBoundary"]
    assert shown == {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": cap}
    ssm = client("ssm", server.endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="/none")
    assert error_code(exc.value) == "ParameterNotFound"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="/capped", Value="1", Type="String")
    assert "because no permissions boundary allows the ssm:PutParameter action" in str(exc.value)
    simulated = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/capped",
        ActionNames=["ssm:GetParameter", "ssm:PutParameter"],
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in simulated] == ["allowed", "implicitDeny"]
    assert iam.get_policy(PolicyArn=cap)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=cap)
    assert error_code(exc.value) == "DeleteConflict"
    iam.delete_user_permissions_boundary(UserName="capped")
    ssm.put_parameter(Name="/capped", Value="1", Type="String")


def test_group_membership_grants_and_revokes(server: DockyardProcess, iam: Any) -> None:
    key = new_user(iam, "dave")
    iam.create_group(GroupName="ssm-admins")
    iam.attach_group_policy(
        GroupName="ssm-admins", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"
    )
    ssm = client("ssm", server.endpoint, *key)
    with pytest.raises(ClientError) as exc:
        ssm.describe_parameters()
    assert error_code(exc.value) == "AccessDeniedException"
    iam.add_user_to_group(GroupName="ssm-admins", UserName="dave")
    ssm.describe_parameters()
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="dave")["Groups"]] == [
        "ssm-admins"
    ]
    iam.remove_user_from_group(GroupName="ssm-admins", UserName="dave")
    with pytest.raises(ClientError):
        ssm.describe_parameters()


def test_deactivated_and_deleted_keys_stop_signing(server: DockyardProcess, iam: Any) -> None:
    key_id, secret = new_user(iam, "erin", READ)
    sts = client("sts", server.endpoint, key_id, secret)
    sts.get_caller_identity()
    iam.update_access_key(UserName="erin", AccessKeyId=key_id, Status="Inactive")
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()
    assert error_code(exc.value) == "InvalidClientTokenId"
    iam.update_access_key(UserName="erin", AccessKeyId=key_id, Status="Active")
    sts.get_caller_identity()
    iam.delete_access_key(UserName="erin", AccessKeyId=key_id)
    with pytest.raises(ClientError):
        sts.get_caller_identity()


def test_simulate_principal_policy_answers_from_the_evaluator(iam: Any) -> None:
    iam.create_user(UserName="frank")
    iam.put_user_policy(UserName="frank", PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "ssm:Get*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ssm:GetParameter",
         "Resource": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/secret/*"},
    ))  # fmt: skip
    out = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/frank",
        ActionNames=["ssm:GetParameter", "ssm:PutParameter"],
        ResourceArns=[f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/secret/x",
                      f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/x"],
    )["EvaluationResults"]  # fmt: skip
    decisions = {(r["EvalActionName"], r["EvalResourceName"].rpartition(":")[2]): r["EvalDecision"]
                 for r in out}  # fmt: skip
    assert decisions == {
        ("ssm:GetParameter", "parameter/secret/x"): "explicitDeny",
        ("ssm:GetParameter", "parameter/app/x"): "allowed",
        ("ssm:PutParameter", "parameter/secret/x"): "implicitDeny",
        ("ssm:PutParameter", "parameter/app/x"): "implicitDeny",
    }


def test_reset_route_is_for_the_account_root_only(server: DockyardProcess, iam: Any) -> None:
    import urllib.error
    import urllib.request

    key = new_user(iam, "grace", policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    url = f"{server.endpoint}/_dockyard/reset"
    headers = signed_headers("POST", url, key)
    request = urllib.request.Request(url, data=b"", method="POST", headers=headers)
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(request, timeout=10)
    assert exc.value.code == 403


def test_keys_survive_a_restart_sealed_at_rest(tmp_path_factory: pytest.TempPathFactory) -> None:
    srv = start_auth_server(tmp_path_factory, "iam-restart")
    try:
        iam = client("iam", srv.endpoint)
        key_id, secret = new_user(iam, "henry", READ)
        srv.stop()
        stored = b"".join(p.read_bytes() for p in srv.data_dir.glob("dockyard.sqlite3*"))
        assert key_id.encode() not in stored or secret.encode() not in stored
        assert secret.encode() not in stored
        srv.start()
        who = client("sts", srv.endpoint, key_id, secret).get_caller_identity()
        assert who["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/henry"
    finally:
        srv.stop()


def test_unsigned_requests_reach_nothing(server: DockyardProcess) -> None:
    import urllib.error
    import urllib.request

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for path, body in (
        ("/_dockyard/reset", b"Action=AssumeRoleWithWebIdentity"),
        ("/", b"Action=ListUsers&Version=2010-05-08"),
        ("/", b"Action=GetCallerIdentity&Version=2011-06-15"),
    ):
        request = urllib.request.Request(
            f"{server.endpoint}{path}", data=body, method="POST", headers=form
        )
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(request, timeout=10)
        assert exc.value.code == 403, path
        assert b"MissingAuthenticationToken" in exc.value.read()


def test_account_authorization_details_lists_everything(iam: Any) -> None:
    iam.create_user(UserName="ivy")
    iam.put_user_policy(UserName="ivy", PolicyName="read", PolicyDocument=READ)
    iam.create_role(RoleName="ivy-role", AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(
        RoleName="ivy-role", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"
    )
    paginator = iam.get_paginator("get_account_authorization_details")
    users: list[Any] = []
    roles: list[Any] = []
    policies: list[Any] = []
    for page in paginator.paginate(PaginationConfig={"PageSize": 3}):
        users += page["UserDetailList"]
        roles += page["RoleDetailList"]
        policies += page["Policies"]
    ivy = next(u for u in users if u["UserName"] == "ivy")
    assert [p["PolicyName"] for p in ivy["UserPolicyList"]] == ["read"]
    role = next(r for r in roles if r["RoleName"] == "ivy-role")
    assert role["AttachedManagedPolicies"][0]["PolicyName"] == "AmazonSSMReadOnlyAccess"
    assert "AmazonSSMReadOnlyAccess" in [p["PolicyName"] for p in policies]
