"""The AWS managed policies users attach most, as `arn:aws:iam::aws:policy/...`.

AdministratorAccess, PowerUserAccess, IAMFullAccess, IAMReadOnlyAccess,
AmazonECSTaskExecutionRolePolicy, AmazonSSMReadOnlyAccess, CloudWatchLogsFullAccess and
SecretsManagerReadWrite's core carry AWS's documents. ReadOnlyAccess is AWS's in spirit but
lists only the read actions of the services Dockyard serves (AWS's names thousands).
"""

from __future__ import annotations

import json

from dockyard.services.iam.model import ManagedPolicy, PolicyVersion


def _doc(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=4)


READ_PREFIXES = (
    "ecs",
    "elasticloadbalancing",
    "logs",
    "events",
    "cloudwatch",
    "application-autoscaling",
    "servicediscovery",
    "ssm",
    "codedeploy",
    "iam",
    "s3",
    "ecr",
    "sts",
)

DOCUMENTS: dict[tuple[str, str], str] = {
    ("/", "AdministratorAccess"): _doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    ("/", "PowerUserAccess"): _doc(
        {
            "Effect": "Allow",
            "NotAction": ["iam:*", "organizations:*", "account:*"],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": [
                "account:GetAccountInformation",
                "account:GetPrimaryEmail",
                "account:ListRegions",
                "iam:CreateServiceLinkedRole",
                "iam:DeleteServiceLinkedRole",
                "iam:ListRoles",
                "organizations:DescribeOrganization",
            ],
            "Resource": "*",
        },
    ),
    ("/", "ReadOnlyAccess"): _doc(
        {
            "Effect": "Allow",
            "Action": [
                f"{p}:{verb}*" for p in READ_PREFIXES for verb in ("Describe", "Get", "List")
            ],
            "Resource": "*",
        }
    ),
    ("/", "IAMFullAccess"): _doc(
        {
            "Effect": "Allow",
            "Action": [
                "iam:*",
                "organizations:DescribeAccount",
                "organizations:DescribeOrganization",
                "organizations:DescribeOrganizationalUnit",
                "organizations:DescribePolicy",
                "organizations:ListChildren",
                "organizations:ListParents",
                "organizations:ListPoliciesForTarget",
                "organizations:ListRoots",
                "organizations:ListPolicies",
                "organizations:ListTargetsForPolicy",
            ],
            "Resource": "*",
        }
    ),
    ("/", "IAMReadOnlyAccess"): _doc(
        {
            "Effect": "Allow",
            "Action": [
                "iam:GenerateCredentialReport",
                "iam:GenerateServiceLastAccessedDetails",
                "iam:Get*",
                "iam:List*",
                "iam:SimulateCustomPolicy",
                "iam:SimulatePrincipalPolicy",
            ],
            "Resource": "*",
        }
    ),
    ("/service-role/", "AmazonECSTaskExecutionRolePolicy"): _doc(
        {
            "Effect": "Allow",
            "Action": [
                "ecr:GetAuthorizationToken",
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchGetImage",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        }
    ),
    ("/", "AmazonSSMReadOnlyAccess"): _doc(
        {"Effect": "Allow", "Action": ["ssm:Describe*", "ssm:Get*", "ssm:List*"], "Resource": "*"}
    ),
    ("/", "CloudWatchLogsFullAccess"): _doc(
        {
            "Sid": "CloudWatchLogsFullAccess",
            "Effect": "Allow",
            "Action": ["logs:*", "cloudwatch:GenerateQuery"],
            "Resource": "*",
        }
    ),
    ("/", "SecretsManagerReadWrite"): _doc(
        {
            "Sid": "BaseSecretsManagerAccess",
            "Effect": "Allow",
            "Action": ["secretsmanager:*", "kms:DescribeKey", "kms:ListAliases", "kms:ListKeys"],
            "Resource": "*",
        }
    ),
    ("/aws-service-role/", "AmazonECSServiceRolePolicy"): _doc(
        {
            "Sid": "ECSTaskManagement",
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:DeregisterTargets",
                "elasticloadbalancing:Describe*",
                "elasticloadbalancing:RegisterTargets",
                "servicediscovery:DeregisterInstance",
                "servicediscovery:Get*",
                "servicediscovery:List*",
                "servicediscovery:RegisterInstance",
                "servicediscovery:UpdateInstanceCustomHealthStatus",
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogGroups",
                "cloudwatch:PutMetricData",
            ],
            "Resource": "*",
        }
    ),
    ("/", "AmazonECS_FullAccess"): _doc(
        {
            "Sid": "ECSIntegrationsPermissions",
            "Effect": "Allow",
            "Action": [
                "application-autoscaling:*",
                "cloudwatch:*",
                "codedeploy:*",
                "ecs:*",
                "elasticloadbalancing:*",
                "events:*",
                "logs:*",
                "servicediscovery:*",
                "ssm:GetParameter*",
                "secretsmanager:GetSecretValue",
            ],
            "Resource": "*",
        },
        {
            "Sid": "PassRoleForECS",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        },
    ),
}

# Service principals that have a service-linked role: (role name, path suffix, policy).
SERVICE_LINKED = {
    "ecs.amazonaws.com": ("AWSServiceRoleForECS", "AmazonECSServiceRolePolicy"),
    "elasticloadbalancing.amazonaws.com": ("AWSServiceRoleForElasticLoadBalancing", None),
    "ecs.application-autoscaling.amazonaws.com": (
        "AWSServiceRoleForApplicationAutoScaling_ECSService",
        None,
    ),
    "servicediscovery.amazonaws.com": ("AWSServiceRoleForServiceDiscovery", None),
    "events.amazonaws.com": ("AWSServiceRoleForCloudWatchEvents", None),
    "ssm.amazonaws.com": ("AWSServiceRoleForAmazonSSM", None),
}

CREATED = 1_486_425_600.0  # 2017-02-07: a fixed date for the AWS managed policies


def aws_managed() -> list[ManagedPolicy]:
    out = []
    for index, ((path, name), document) in enumerate(sorted(DOCUMENTS.items())):
        out.append(
            ManagedPolicy(
                account_id="aws",
                name=name,
                path=path,
                id=f"ANPAAWSMANAGED{index:07d}",
                created=CREATED,
                updated=CREATED,
                versions=[PolicyVersion("v1", document, CREATED)],
            )
        )
    return out
