"""What ECR API operations are authorized on: repository ARNs, tags and policies."""

from __future__ import annotations

import json
from typing import Any, cast

from dockyard.api.access import Access, AccessRequest
from dockyard.core.clock import RealClock
from dockyard.core.scope import Scope
from dockyard.services.ecr.access import access
from dockyard.services.ecr.model import Repository
from dockyard.services.ecr.repositories import Repositories

ACCT, REGION = "123456789012", "us-east-1"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]})  # fmt: skip


def resolve(op: str, **params: Any) -> list[Access]:
    repos = Repositories(cast(Any, None), RealClock())
    repo = Repository(ACCT, REGION, "web", 0.0, tags={"team": "blue"}, policy=POLICY)
    other = Repository("999999999999", REGION, "shared", 0.0, policy=POLICY)
    repos.by_scope = {Scope(ACCT, REGION): {"web": repo},
                      Scope("999999999999", REGION): {"shared": other}}  # fmt: skip
    return list(access(repos)(AccessRequest(ACCT, REGION, op, params)))


def test_repository_operations_act_on_the_repository_arn_with_its_tags_and_policy() -> None:
    (pair,) = resolve("BatchGetImage", repositoryName="web", imageIds=[])
    assert pair.action == "ecr:BatchGetImage"
    assert pair.resource == f"arn:aws:ecr:{REGION}:{ACCT}:repository/web"
    assert pair.tags == {"team": "blue"} and pair.policy is not None


def test_another_registrys_repository_carries_no_policy_for_the_front_door() -> None:
    (pair,) = resolve("BatchGetImage", registryId="999999999999", repositoryName="shared")
    assert pair.resource == f"arn:aws:ecr:{REGION}:999999999999:repository/shared"
    assert pair.policy is None  # across accounts the operation weighs it: both must allow


def test_unknown_repository_tags_by_arn_and_star_operations() -> None:
    (pair,) = resolve("CreateRepository", repositoryName="new")
    assert pair.resource.endswith(":repository/new") and pair.tags is None
    arn = f"arn:aws:ecr:{REGION}:{ACCT}:repository/web"
    assert resolve("TagResource", resourceArn=arn, tags=[])[0].resource == arn
    assert [p.resource for p in resolve("GetAuthorizationToken")] == ["*"]
    assert [p.resource for p in resolve("DescribeRegistry")] == ["*"]
    names = resolve("DescribeRepositories", repositoryNames=["web", "db"])
    assert [p.resource.rsplit("/", 1)[1] for p in names] == ["web", "db"]
