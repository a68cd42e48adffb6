# ruff: noqa: E501
"""The policy-evaluation table: each case is an IAM user whose policies are given, calling
one operation through boto3 against a real server started with an auth file; the call is
allowed or denied as AWS's policy evaluation logic documents it (explicit deny > allow >
implicit deny; wildcards; NotAction/NotResource; condition operators and keys; policy
variables; iam:PassRole)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.integration.iam_support import (
    ACCOUNT,
    client,
    new_user,
    outcome,
    policy,
    start_auth_server,
)
from tests.support.server import DockyardProcess

A = ACCOUNT
P = f"arn:aws:ssm:us-east-1:{A}:parameter"
ROLE = f"arn:aws:iam::{A}:role/task-role"
OTHER_ROLE = f"arn:aws:iam::{A}:role/other-role"
ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def cond(statement: dict[str, Any], condition: dict[str, Any]) -> dict[str, Any]:
    return {**statement, "Condition": condition}


@dataclass
class Case:
    id: str
    statements: list[dict[str, Any]]
    service: str
    operation: str
    params: dict[str, Any]
    expected: str  # "allowed" | "denied"
    group: list[dict[str, Any]] = field(default_factory=list)  # a group's inline policy
    managed: list[dict[str, Any]] = field(default_factory=list)  # an attached managed policy
    tags: dict[str, str] = field(default_factory=dict)  # the user's tags
    boundary: list[dict[str, Any]] = field(default_factory=list)  # a permissions boundary


def get(name: str) -> tuple[str, str, dict[str, Any]]:
    return "ssm", "get_parameter", {"Name": name}


def put(name: str, **extra: Any) -> tuple[str, str, dict[str, Any]]:
    return "ssm", "put_parameter", {"Name": name, "Value": "v", "Type": "String", **extra}


def taskdef(**roles: str) -> tuple[str, str, dict[str, Any]]:
    return "ecs", "register_task_definition", {
        "family": "pol", "containerDefinitions": [{"name": "c", "image": "process:true"}], **roles
    }  # fmt: skip


def case(id: str, statements: list[dict[str, Any]], call: tuple[str, str, dict[str, Any]],
         expected: str, **extra: Any) -> Case:  # fmt: skip
    return Case(id, statements, *call, expected, **extra)


CASES = [
    # -- actions and resources, wildcards ----------------------------------------------------
    case("exact-action-exact-resource", [allow("ssm:GetParameter", f"{P}/app/x")], get("/app/x"), "allowed"),
    case("exact-resource-other-param", [allow("ssm:GetParameter", f"{P}/app/x")], get("/other/y"), "denied"),
    case("action-prefix-wildcard", [allow("ssm:Get*")], get("/app/x"), "allowed"),
    case("action-prefix-other-verb", [allow("ssm:Get*")], put("/app/new"), "denied"),
    case("service-wildcard", [allow("ssm:*")], put("/scratch/a", Overwrite=True), "allowed"),
    case("full-wildcard", [ALLOW_ALL], ("logs", "describe_log_groups", {}), "allowed"),
    case("action-case-insensitive", [allow("SSM:getparameter")], get("/app/x"), "allowed"),
    case("action-question-mark", [allow("ssm:GetParamet?r")], get("/app/x"), "allowed"),
    case("action-question-mark-one-char", [allow("ssm:GetParam?r")], get("/app/x"), "denied"),
    case("resource-path-wildcard", [allow("ssm:GetParameter", f"{P}/app/*")], get("/app/x"), "allowed"),
    case("resource-region-account-wildcard", [allow("ssm:GetParameter", "arn:aws:ssm:*:*:parameter/app/*")], get("/app/x"), "allowed"),
    case("resource-other-region", [allow("ssm:GetParameter", f"arn:aws:ssm:eu-west-1:{A}:parameter/app/*")], get("/app/x"), "denied"),
    case("resource-other-account", [allow("ssm:GetParameter", "arn:aws:ssm:us-east-1:999999999999:parameter/app/*")], get("/app/x"), "denied"),
    case("resource-case-sensitive", [allow("ssm:GetParameter", f"{P}/APP/*")], get("/app/x"), "denied"),
    case("resource-list-any-matches", [allow("ssm:GetParameter", [f"{P}/nope", f"{P}/app/x"])], get("/app/x"), "allowed"),
    case("action-list-any-matches", [allow(["ssm:PutParameter", "ssm:GetParameter"])], get("/app/x"), "allowed"),
    case("no-policy-implicit-deny", [], get("/app/x"), "denied"),
    case("other-service-only", [allow("sqs:*")], get("/app/x"), "denied"),
    # -- explicit deny overrides ---------------------------------------------------------------
    case("deny-overrides-allow-all", [ALLOW_ALL, deny("ssm:GetParameter", f"{P}/app/x")], get("/app/x"), "denied"),
    case("deny-elsewhere-does-not-apply", [ALLOW_ALL, deny("ssm:GetParameter", f"{P}/other/*")], get("/app/x"), "allowed"),
    case("deny-verb-wildcard", [allow("ssm:*"), deny("ssm:Put*")], put("/app/new"), "denied"),
    case("deny-verb-wildcard-other-verb", [allow("ssm:*"), deny("ssm:Put*")], get("/app/x"), "allowed"),
    case("deny-only-policy", [deny("ssm:PutParameter")], get("/app/x"), "denied"),
    case("deny-in-managed-beats-inline-allow", [allow("ssm:*")], get("/app/x"), "denied", managed=[deny("ssm:GetParameter")]),
    case("allow-from-managed-policy", [], get("/app/x"), "allowed", managed=[allow("ssm:GetParameter")]),
    case("allow-from-group-policy", [], get("/app/x"), "allowed", group=[allow("ssm:GetParameter")]),
    case("deny-from-group-beats-user-allow", [allow("ssm:*")], get("/app/x"), "denied", group=[deny("ssm:*")]),
    case("boundary-allows-within", [allow("ssm:*")], get("/app/x"), "allowed", boundary=[allow("ssm:Get*")]),
    case("boundary-limits-identity", [allow("ssm:*")], put("/app/new"), "denied", boundary=[allow("ssm:Get*")]),
    case("boundary-alone-grants-nothing", [], get("/app/x"), "denied", boundary=[allow("ssm:*")]),
    case("boundary-deny-wins", [allow("ssm:*")], get("/app/x"), "denied", boundary=[allow("*"), deny("ssm:GetParameter")]),
    # -- NotAction ---------------------------------------------------------------------------
    case("notaction-allows-other-services", [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}], get("/app/x"), "allowed"),
    case("notaction-excludes-its-actions", [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}], ("iam", "list_users", {}), "denied"),
    case("deny-notaction-spares-named", [ALLOW_ALL, {"Effect": "Deny", "NotAction": "ssm:GetParameter", "Resource": "*"}], get("/app/x"), "allowed"),
    case("deny-notaction-denies-others", [ALLOW_ALL, {"Effect": "Deny", "NotAction": "ssm:GetParameter", "Resource": "*"}], ("logs", "describe_log_groups", {}), "denied"),
    case("notaction-list-wildcards", [{"Effect": "Allow", "NotAction": ["ssm:Put*", "ssm:Delete*"], "Resource": "*"}], put("/app/new"), "denied"),
    # -- NotResource -------------------------------------------------------------------------
    case("notresource-allows-outside", [{"Effect": "Allow", "Action": "ssm:GetParameter", "NotResource": f"{P}/other/*"}], get("/app/x"), "allowed"),
    case("notresource-excludes-inside", [{"Effect": "Allow", "Action": "ssm:GetParameter", "NotResource": f"{P}/other/*"}], get("/other/y"), "denied"),
    case("deny-notresource-spares-inside", [ALLOW_ALL, {"Effect": "Deny", "Action": "ssm:*", "NotResource": f"{P}/app/*"}], get("/app/x"), "allowed"),
    case("deny-notresource-denies-outside", [ALLOW_ALL, {"Effect": "Deny", "Action": "ssm:*", "NotResource": f"{P}/app/*"}], get("/other/y"), "denied"),
    # -- conditions: network, time, transport, region ----------------------------------------
    case("sourceip-in-range", [cond(allow("ssm:*"), {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}})], get("/app/x"), "allowed"),
    case("sourceip-out-of-range", [cond(allow("ssm:*"), {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})], get("/app/x"), "denied"),
    case("not-ip-address", [cond(allow("ssm:*"), {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})], get("/app/x"), "allowed"),
    case("deny-unless-from-localhost", [ALLOW_ALL, cond(deny("*"), {"NotIpAddress": {"aws:SourceIp": "127.0.0.1/32"}})], get("/app/x"), "allowed"),
    case("current-time-before-2099", [cond(allow("ssm:*"), {"DateLessThan": {"aws:CurrentTime": "2099-01-01T00:00:00Z"}})], get("/app/x"), "allowed"),
    case("current-time-before-2001", [cond(allow("ssm:*"), {"DateLessThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}})], get("/app/x"), "denied"),
    case("current-time-after-2001", [cond(allow("ssm:*"), {"DateGreaterThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}})], get("/app/x"), "allowed"),
    case("epoch-time-numeric", [cond(allow("ssm:*"), {"NumericLessThan": {"aws:EpochTime": "4102444800"}})], get("/app/x"), "allowed"),
    case("secure-transport-false-over-http", [cond(allow("ssm:*"), {"Bool": {"aws:SecureTransport": "false"}})], get("/app/x"), "allowed"),
    case("secure-transport-required", [cond(allow("ssm:*"), {"Bool": {"aws:SecureTransport": "true"}})], get("/app/x"), "denied"),
    case("requested-region-equals", [cond(allow("ssm:*"), {"StringEquals": {"aws:RequestedRegion": "us-east-1"}})], get("/app/x"), "allowed"),
    case("requested-region-other", [cond(allow("ssm:*"), {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})], get("/app/x"), "denied"),
    case("values-are-ored", [cond(allow("ssm:*"), {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}})], get("/app/x"), "allowed"),
    case("operators-are-anded", [cond(allow("ssm:*"), {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}, "DateLessThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}})], get("/app/x"), "denied"),
    case("ignore-case", [cond(allow("ssm:*"), {"StringEqualsIgnoreCase": {"aws:RequestedRegion": "US-EAST-1"}})], get("/app/x"), "allowed"),
    case("condition-key-case-insensitive", [cond(allow("ssm:*"), {"StringEquals": {"AWS:requestedregion": "us-east-1"}})], get("/app/x"), "allowed"),
    # -- conditions: the principal -----------------------------------------------------------
    case("principal-arn-like", [cond(allow("ssm:*"), {"StringLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:user/*"}})], get("/app/x"), "allowed"),
    case("arn-like-principal", [cond(allow("ssm:*"), {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:user/case-*"}})], get("/app/x"), "allowed"),
    case("arn-not-like-principal", [cond(allow("ssm:*"), {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:user/case-*"}})], get("/app/x"), "denied"),
    case("principal-tag-matches", [cond(allow("ssm:*"), {"StringEquals": {"aws:PrincipalTag/team": "blue"}})], get("/app/x"), "allowed", tags={"team": "blue"}),
    case("principal-tag-differs", [cond(allow("ssm:*"), {"StringEquals": {"aws:PrincipalTag/team": "red"}})], get("/app/x"), "denied", tags={"team": "blue"}),
    case("principal-tag-absent", [cond(allow("ssm:*"), {"StringEquals": {"aws:PrincipalTag/team": "blue"}})], get("/app/x"), "denied"),
    case("principal-type-user", [cond(allow("ssm:*"), {"StringEquals": {"aws:PrincipalType": "User"}})], get("/app/x"), "allowed"),
    # -- conditions: resource and request tags ----------------------------------------------
    case("resource-tag-matches", [cond(allow("ssm:GetParameter"), {"StringEquals": {"aws:ResourceTag/team": "blue"}})], get("/app/x"), "allowed"),
    case("resource-tag-differs", [cond(allow("ssm:GetParameter"), {"StringEquals": {"aws:ResourceTag/team": "blue"}})], get("/other/y"), "denied"),
    case("resource-tag-if-exists-untagged", [cond(allow("ssm:GetParameter"), {"StringEqualsIfExists": {"aws:ResourceTag/team": "blue"}})], get("/untagged/z"), "allowed"),
    case("resource-tag-if-exists-differs", [cond(allow("ssm:GetParameter"), {"StringEqualsIfExists": {"aws:ResourceTag/team": "blue"}})], get("/other/y"), "denied"),
    case("null-true-when-untagged", [cond(allow("ssm:GetParameter"), {"Null": {"aws:ResourceTag/team": "true"}})], get("/untagged/z"), "allowed"),
    case("null-true-when-tagged", [cond(allow("ssm:GetParameter"), {"Null": {"aws:ResourceTag/team": "true"}})], get("/app/x"), "denied"),
    case("string-not-equals-missing-key", [cond(allow("ssm:PutParameter"), {"StringNotEquals": {"aws:RequestTag/team": "red"}})], put("/scratch/b", Overwrite=True), "allowed"),
    case("request-tag-matches", [cond(allow("ssm:PutParameter"), {"StringEquals": {"aws:RequestTag/team": "blue"}})], put("/tagged/c", Tags=[{"Key": "team", "Value": "blue"}]), "allowed"),
    case("request-tag-differs", [cond(allow("ssm:PutParameter"), {"StringEquals": {"aws:RequestTag/team": "blue"}})], put("/tagged/d", Tags=[{"Key": "team", "Value": "red"}]), "denied"),
    case("for-any-value-tag-keys", [cond(allow("ssm:PutParameter"), {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}})], put("/tagged/e", Tags=[{"Key": "team", "Value": "x"}, {"Key": "owner", "Value": "y"}]), "allowed"),
    case("for-all-values-tag-keys", [cond(allow("ssm:PutParameter"), {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}})], put("/tagged/f", Tags=[{"Key": "team", "Value": "x"}, {"Key": "owner", "Value": "y"}]), "denied"),
    case("for-all-values-no-tags", [cond(allow("ssm:PutParameter"), {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}})], put("/scratch/g", Overwrite=True), "allowed"),
    # -- policy variables --------------------------------------------------------------------
    case("username-variable-own-path", [allow("ssm:GetParameter", f"{P}/home/${{aws:username}}/*")], get("/home/{user}/x"), "allowed"),
    case("username-variable-other-path", [allow("ssm:GetParameter", f"{P}/home/${{aws:username}}/*")], get("/home/someone-else/x"), "denied"),
    case("principal-tag-variable", [allow("ssm:GetParameter", f"{P}/team/${{aws:PrincipalTag/team}}/*")], get("/team/blue/x"), "allowed", tags={"team": "blue"}),
    case("iam-own-user-only", [allow("iam:GetUser", f"arn:aws:iam::{A}:user/${{aws:username}}")], ("iam", "get_user", {"UserName": "{user}"}), "allowed"),
    case("iam-other-user", [allow("iam:GetUser", f"arn:aws:iam::{A}:user/${{aws:username}}")], ("iam", "get_user", {"UserName": "admin"}), "denied"),
    # -- iam:PassRole --------------------------------------------------------------------------
    case("taskdef-without-role", [allow("ecs:*")], taskdef(), "allowed"),
    case("taskdef-role-needs-passrole", [allow("ecs:*")], taskdef(taskRoleArn=ROLE), "denied"),
    case("taskdef-role-with-passrole", [allow("ecs:*"), allow("iam:PassRole", ROLE)], taskdef(taskRoleArn=ROLE), "allowed"),
    case("execution-role-needs-passrole", [allow("ecs:*"), allow("iam:PassRole", OTHER_ROLE)], taskdef(executionRoleArn=ROLE), "denied"),
    case("passrole-to-ecs-tasks", [allow("ecs:*"), cond(allow("iam:PassRole", ROLE), {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})], taskdef(taskRoleArn=ROLE), "allowed"),
    case("passrole-to-other-service", [allow("ecs:*"), cond(allow("iam:PassRole", ROLE), {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}})], taskdef(taskRoleArn=ROLE), "denied"),
    case("passrole-denied-explicitly", [ALLOW_ALL, deny("iam:PassRole", ROLE)], taskdef(taskRoleArn=ROLE), "denied"),
    case("rule-target-role-needs-passrole", [allow("events:*")], ("events", "put_targets", {"Rule": "pol-rule", "Targets": [{"Id": "t", "Arn": f"arn:aws:ecs:us-east-1:{A}:cluster/default", "RoleArn": ROLE}]}), "denied"),
    case("rule-target-role-with-passrole", [allow("events:*"), allow("iam:PassRole", ROLE)], ("events", "put_targets", {"Rule": "pol-rule", "Targets": [{"Id": "t", "Arn": f"arn:aws:ecs:us-east-1:{A}:cluster/default", "RoleArn": ROLE}]}), "allowed"),
    # -- other services' resources ---------------------------------------------------------
    case("secret-by-name-prefix", [allow("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:us-east-1:{A}:secret:app/*")], ("secretsmanager", "get_secret_value", {"SecretId": "app/db"}), "allowed"),
    case("secret-other-name", [allow("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:us-east-1:{A}:secret:app/*")], ("secretsmanager", "get_secret_value", {"SecretId": "other/db"}), "denied"),
    case("log-stream-in-group", [allow("logs:CreateLogStream", "arn:aws:logs:*:*:log-group:/app/*")], ("logs", "create_log_stream", {"logGroupName": "/app/web", "logStreamName": "s-{user}"}), "allowed"),
    case("log-stream-other-group", [allow("logs:CreateLogStream", "arn:aws:logs:*:*:log-group:/app/*")], ("logs", "create_log_stream", {"logGroupName": "/other/web", "logStreamName": "s"}), "denied"),
    case("ecs-cluster-by-arn", [allow("ecs:DescribeClusters", f"arn:aws:ecs:us-east-1:{A}:cluster/prod")], ("ecs", "describe_clusters", {"clusters": ["prod"]}), "allowed"),
    case("ecs-other-cluster", [allow("ecs:DescribeClusters", f"arn:aws:ecs:us-east-1:{A}:cluster/prod")], ("ecs", "describe_clusters", {"clusters": ["dev"]}), "denied"),
    case("ecs-resource-tag-matches", [cond(allow("ecs:DescribeClusters"), {"StringEquals": {"aws:ResourceTag/env": "prod"}})], ("ecs", "describe_clusters", {"clusters": ["prod"]}), "allowed"),
    case("ecs-resource-tag-differs", [cond(allow("ecs:DescribeClusters"), {"StringEquals": {"aws:ResourceTag/env": "prod"}})], ("ecs", "describe_clusters", {"clusters": ["dev"]}), "denied"),
    case("logs-resource-tag-matches", [cond(allow("logs:PutRetentionPolicy"), {"StringEquals": {"aws:ResourceTag/team": "blue"}})], ("logs", "put_retention_policy", {"logGroupName": "/app/web", "retentionInDays": 7}), "allowed"),
    case("logs-resource-tag-differs", [cond(allow("logs:PutRetentionPolicy"), {"StringEquals": {"aws:ResourceTag/team": "blue"}})], ("logs", "put_retention_policy", {"logGroupName": "/other/web", "retentionInDays": 7}), "denied"),
    case("events-rule-tag-matches", [cond(allow("events:DescribeRule"), {"StringEquals": {"aws:ResourceTag/team": "blue"}})], ("events", "describe_rule", {"Name": "pol-rule"}), "allowed"),
    case("events-rule-tag-differs", [cond(allow("events:DescribeRule"), {"StringEquals": {"aws:ResourceTag/team": "blue"}})], ("events", "describe_rule", {"Name": "pol-rule-red"}), "denied"),
    case("elbv2-query-protocol-denied", [allow("ssm:*")], ("elbv2", "describe_load_balancers", {}), "denied"),
    case("elbv2-prefix-allowed", [allow("elasticloadbalancing:Describe*")], ("elbv2", "describe_load_balancers", {}), "allowed"),
    case("cloudwatch-alarm-by-name", [allow("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:us-east-1:{A}:alarm:app-*")], ("cloudwatch", "describe_alarms", {"AlarmNames": ["app-cpu"]}), "allowed"),
    case("cloudwatch-other-alarm", [allow("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:us-east-1:{A}:alarm:app-*")], ("cloudwatch", "describe_alarms", {"AlarmNames": ["db-cpu"]}), "denied"),
    case("alarm-tag-matches", [cond(allow("cloudwatch:DescribeAlarms"), {"StringEquals": {"aws:ResourceTag/team": "blue"}})], ("cloudwatch", "describe_alarms", {"AlarmNames": ["app-tagged"]}), "allowed"),
    case("alarm-tag-differs", [cond(allow("cloudwatch:DescribeAlarms"), {"StringEquals": {"aws:ResourceTag/team": "blue"}})], ("cloudwatch", "describe_alarms", {"AlarmNames": ["app-red"]}), "denied"),
    case("get-caller-identity-needs-nothing", [], ("sts", "get_caller_identity", {}), "allowed"),
]  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    srv = start_auth_server(tmp_path_factory, "policies")
    ssm = client("ssm", srv.endpoint)
    for name, tags in (("/app/x", {"team": "blue"}), ("/other/y", {"team": "red"}),
                       ("/untagged/z", {})):  # fmt: skip
        extra = {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}
        ssm.put_parameter(Name=name, Value="1", Type="String", **extra)
    sm = client("secretsmanager", srv.endpoint)
    sm.create_secret(Name="app/db", SecretString="s")
    sm.create_secret(Name="other/db", SecretString="s")
    for group, team in (("/app/web", "blue"), ("/other/web", "red")):
        client("logs", srv.endpoint).create_log_group(logGroupName=group, tags={"team": team})
    cw = client("cloudwatch", srv.endpoint)
    for alarm, team in (("app-tagged", "blue"), ("app-red", "red")):
        cw.put_metric_alarm(
            AlarmName=alarm, MetricName="CPU", Namespace="App", Statistic="Average", Period=60,
            EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
            Tags=[{"Key": "team", "Value": team}],
        )  # fmt: skip
    ecs = client("ecs", srv.endpoint)
    ecs.create_cluster(clusterName="prod", tags=[{"key": "env", "value": "prod"}])
    ecs.create_cluster(clusterName="dev", tags=[{"key": "env", "value": "dev"}])
    events = client("events", srv.endpoint)
    events.put_rule(Name="pol-rule", ScheduleExpression="rate(1 hour)",
                    Tags=[{"Key": "team", "Value": "blue"}])  # fmt: skip
    events.put_rule(Name="pol-rule-red", ScheduleExpression="rate(1 hour)",
                    Tags=[{"Key": "team", "Value": "red"}])  # fmt: skip
    yield srv
    srv.stop()


COUNTER = itertools.count()


def test_the_table_has_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_policy_case(server: DockyardProcess, c: Case) -> None:
    iam = client("iam", server.endpoint)
    user = f"case-{next(COUNTER)}-{c.id}"[:64]
    key = new_user(iam, user, policy(*c.statements) if c.statements else None, c.tags)
    if c.group:
        iam.create_group(GroupName=user)
        iam.put_group_policy(GroupName=user, PolicyName="g", PolicyDocument=policy(*c.group))
        iam.add_user_to_group(GroupName=user, UserName=user)
    if c.managed:
        arn = iam.create_policy(PolicyName=user, PolicyDocument=policy(*c.managed))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
    if c.boundary:
        arn = iam.create_policy(PolicyName=f"{user}-b", PolicyDocument=policy(*c.boundary))
        iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=arn["Policy"]["Arn"])
    params = _fill(c.params, user)
    caller = client(c.service, server.endpoint, *key)
    assert outcome(getattr(caller, c.operation), **params) == c.expected


def _fill(value: Any, user: str) -> Any:
    if isinstance(value, str):
        return value.replace("{user}", user)
    if isinstance(value, list):
        return [_fill(v, user) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, user) for k, v in value.items()}
    return value
