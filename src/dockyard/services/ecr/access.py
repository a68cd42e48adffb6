"""What ECR API operations act on, for authorization: the repository,
`arn:aws:ecr:<region>:<registry>:repository/<name>` (the registry is `registryId`, else the
caller's account), with its tags (aws:ResourceTag/*) and, within its own account, its
repository policy (evaluated beside the caller's identity-based policies: either allows).
GetAuthorizationToken, DescribeRegistry and the pull-through cache rules act on `*`, as the
Service Authorization Reference lists them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from dockyard.api.access import Access, AccessFunction, AccessRequest, values
from dockyard.core.iampolicy import Policy, PolicyError, PolicyKind, parse_policy
from dockyard.core.scope import Scope
from dockyard.services.ecr.model import Repository
from dockyard.services.ecr.repositories import Repositories

# Operations on the repository `repositoryName` names.
BY_NAME = frozenset(
    {
        "CreateRepository", "DeleteRepository", "DescribeImages", "ListImages",
        "BatchGetImage", "BatchDeleteImage", "PutImage", "BatchCheckLayerAvailability",
        "InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload",
        "GetDownloadUrlForLayer", "PutImageTagMutability", "PutImageScanningConfiguration",
        "SetRepositoryPolicy", "GetRepositoryPolicy", "DeleteRepositoryPolicy",
        "PutLifecyclePolicy", "GetLifecyclePolicy", "DeleteLifecyclePolicy",
        "StartLifecyclePolicyPreview", "GetLifecyclePolicyPreview",
    }
)  # fmt: skip
BY_ARN = frozenset({"TagResource", "UntagResource", "ListTagsForResource"})


def repository_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:ecr:{region}:{account_id}:repository/{name}"


@lru_cache(maxsize=256)
def repository_policy(text: str) -> Policy | None:
    """A stored repository policy as the evaluator reads it (None: not a valid document)."""
    try:
        return parse_policy(text, PolicyKind.RESOURCE, source="repository policy")
    except PolicyError:
        return None


def _arns(req: AccessRequest) -> Iterable[str]:
    registry = req.params.get("registryId")
    account = registry if isinstance(registry, str) and registry else req.account_id
    if req.operation in BY_NAME:
        return [
            repository_arn(req.region, account, n) for n in values(req.params, "repositoryName")
        ]
    if req.operation == "DescribeRepositories":
        names = values(req.params, "repositoryNames")
        return [repository_arn(req.region, account, n) for n in names]
    if req.operation in BY_ARN:
        return values(req.params, "resourceArn")
    return []


def _find(repositories: Repositories, arn: str) -> Repository | None:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "ecr" or not parts[5].startswith("repository/"):
        return None
    return repositories.find(Scope(parts[4], parts[3]), parts[5].removeprefix("repository/"))


def access(repositories: Repositories) -> AccessFunction:
    def resolve(req: AccessRequest) -> Sequence[Access]:
        action = f"ecr:{req.operation}"
        out = []
        for arn in dict.fromkeys(a for a in _arns(req) if a):
            repo = _find(repositories, arn)
            if repo is None:
                out.append(Access(action, arn))
                continue
            # Another account's repository policy is weighed by the operation itself (both
            # it and the caller's identity must allow across accounts).
            own = repo.account_id == req.account_id and repo.policy
            found = repository_policy(repo.policy) if own and repo.policy else None
            out.append(Access(action, arn, dict(repo.tags), policy=found))
        return out or [Access(action, "*")]

    return resolve
