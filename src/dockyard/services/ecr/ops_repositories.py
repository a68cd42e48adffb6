"""Repository operations: request in, domain call, output out."""

from __future__ import annotations

import time

from dockyard.api.authorize import base_context, caller_of
from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.iampolicy import Request, evaluate
from dockyard.core.paging import InvalidToken, page
from dockyard.core.principals import Permissions, root_principal
from dockyard.core.scope import Scope
from dockyard.services.ecr import lifecycle, wire
from dockyard.services.ecr.access import repository_policy
from dockyard.services.ecr.errors import (
    AccessDeniedException,
    InvalidParameterException,
    LifecyclePolicyNotFoundException,
    LifecyclePolicyPreviewNotFoundException,
    RepositoryPolicyNotFoundException,
    UnsupportedUpstreamRegistryException,
    ValidationException,
)
from dockyard.services.ecr.model import EncryptionType, Repository, TagMutability
from dockyard.services.ecr.repositories import (
    CreateRepositoryRequest,
    check_policy_text,
    merged_tags,
)
from dockyard.services.ecr.service import Ecr
from dockyard.services.ecr.tokens import TOKEN_TTL, Caller


def registry_scope(ctx: RequestContext, params: Params) -> Scope:
    """The caller's own registry; another account's (`registryId`) only for operations on
    one of its repositories, whose policy decides (`repository_of`)."""
    scope = scope_of(ctx)
    registry = params.get("registryId")
    if registry is not None and registry != scope.account_id:
        raise AccessDeniedException(
            f"User: arn:aws:iam::{ctx.account_id}:root is not authorized to perform: "
            f"ecr:{ctx.operation} on the registry {registry}"
        )
    return scope


def repository_of(ecr: Ecr, ctx: RequestContext, params: Params) -> Repository:
    """The repository an operation names; in another account's registry only when that
    repository's policy allows the caller's account this operation."""
    registry = params.get("registryId")
    name = params["repositoryName"]
    if registry is None or registry == ctx.account_id:
        return ecr.repositories.get(scope_of(ctx), name)
    repo = ecr.repositories.find(Scope(registry, ctx.region), name)
    action = f"ecr:{ctx.operation}"
    who = ctx.principal or root_principal(ctx.account_id)
    if repo is None or not _policy_allows(ctx, repo, action):
        raise AccessDeniedException(
            f"User: {who.arn} is not authorized to perform: {action} on resource: "
            f"arn:aws:ecr:{ctx.region}:{registry}:repository/{name} because no "
            f"resource-based policy allows the {action} action"
        )
    return repo


def _policy_allows(ctx: RequestContext, repo: Repository, action: str) -> bool:
    """Whether the repository policy allows the caller (of another account) `action`: the
    front door has already weighed the caller's own identity-based policies."""
    found = repository_policy(repo.policy) if repo.policy else None
    if found is None:
        return False
    who = ctx.principal or root_principal(ctx.account_id)
    context = base_context(
        who, Permissions(), source_ip=ctx.source_ip, secure=True, region=ctx.region,
        now=time.time(),
    )  # fmt: skip
    for key, value in repo.tags.items():
        context[f"aws:resourcetag/{key.lower()}"] = [value]
    return evaluate(Request(action, repo.arn, context, caller_of(who)), (), found).allowed


def tag_pairs(params: Params) -> list[tuple[str, str]]:
    return [(t.get("Key", ""), t.get("Value", "")) for t in params.get("tags") or []]


def mutability(value: str | None) -> TagMutability:
    if value is None:
        return TagMutability.MUTABLE
    try:
        return TagMutability(value)
    except ValueError as exc:
        raise InvalidParameterException(
            f"Invalid parameter at 'imageTagMutability': {value} is not supported here "
            "(MUTABLE or IMMUTABLE)"
        ) from exc


def repo_by_arn(ecr: Ecr, ctx: RequestContext, arn: str) -> Repository:
    repo = ecr.repositories.by_arn(arn)
    if repo is None or repo.account_id != ctx.account_id:
        raise InvalidParameterException(
            f"Invalid parameter at 'resourceArn' failed to satisfy constraint: 'The ARN "
            f"{arn} does not name a repository of this registry'"
        )
    return repo


def handlers(ecr: Ecr) -> dict[str, Handler]:
    repos = ecr.repositories

    def get(ctx: RequestContext, params: Params) -> Repository:
        return repository_of(ecr, ctx, params)

    def create_repository(ctx: RequestContext, params: Params) -> Result:
        encryption = params.get("encryptionConfiguration") or {}
        if params.get("imageTagMutabilityExclusionFilters"):
            raise InvalidParameterException(
                "Invalid parameter at 'imageTagMutabilityExclusionFilters': not supported here"
            )
        request = CreateRepositoryRequest(
            name=params["repositoryName"],
            tag_mutability=mutability(params.get("imageTagMutability")),
            scan_on_push=bool((params.get("imageScanningConfiguration") or {}).get("scanOnPush")),
            encryption_type=EncryptionType(encryption.get("encryptionType", "AES256")),
            kms_key=encryption.get("kmsKey"),
            tags=tag_pairs(params),
        )
        repo = repos.create(registry_scope(ctx, params), request)
        return {"repository": wire.repository(repo, ecr.repository_uri(repo))}

    def describe_repositories(ctx: RequestContext, params: Params) -> Result:
        scope = registry_scope(ctx, params)
        names = params.get("repositoryNames")
        if names:
            if params.get("nextToken") or params.get("maxResults"):
                raise InvalidParameterException(
                    "Invalid parameter: nextToken and maxResults cannot be used with "
                    "repositoryNames"
                )
            found = [repos.get(scope, n) for n in names]
            return {"repositories": [wire.repository(r, ecr.repository_uri(r)) for r in found]}
        try:
            items, token = page(
                repos.all(scope),
                lambda r: r.name,
                params.get("nextToken"),
                params.get("maxResults"),
                default_max=100,
            )
        except InvalidToken as exc:
            raise InvalidParameterException("Invalid parameter at 'nextToken'") from exc
        out: Result = {"repositories": [wire.repository(r, ecr.repository_uri(r)) for r in items]}
        if token:
            out["nextToken"] = token
        return out

    def delete_repository(ctx: RequestContext, params: Params) -> Result:
        repo = ecr.delete_repository(
            registry_scope(ctx, params), params["repositoryName"], bool(params.get("force"))
        )
        return {"repository": wire.repository(repo, ecr.repository_uri(repo))}

    def put_image_tag_mutability(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        repo = repos.update(repo, tag_mutability=mutability(params["imageTagMutability"]))
        return {
            "registryId": repo.account_id,
            "repositoryName": repo.name,
            "imageTagMutability": str(repo.tag_mutability),
        }

    def put_image_scanning_configuration(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        scan = bool(params["imageScanningConfiguration"].get("scanOnPush"))
        repo = repos.update(repo, scan_on_push=scan)
        return {
            "registryId": repo.account_id,
            "repositoryName": repo.name,
            "imageScanningConfiguration": {"scanOnPush": repo.scan_on_push},
        }

    def tag_resource(ctx: RequestContext, params: Params) -> Result:
        repo = repo_by_arn(ecr, ctx, params["resourceArn"])
        repos.update(repo, tags=merged_tags(repo.tags, tag_pairs(params)))
        return {}

    def untag_resource(ctx: RequestContext, params: Params) -> Result:
        repo = repo_by_arn(ecr, ctx, params["resourceArn"])
        remove = set(params.get("tagKeys") or [])
        repos.update(repo, tags={k: v for k, v in repo.tags.items() if k not in remove})
        return {}

    def list_tags_for_resource(ctx: RequestContext, params: Params) -> Result:
        return {"tags": wire.tags(repo_by_arn(ecr, ctx, params["resourceArn"]).tags)}

    # -- repository policies -------------------------------------------------------------

    def set_repository_policy(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        text = params["policyText"]
        check_policy_text(text)
        repo = repos.update(repo, policy=text)
        return {"registryId": repo.account_id, "repositoryName": repo.name, "policyText": text}

    def policy_of(repo: Repository) -> str:
        if repo.policy is None:
            raise RepositoryPolicyNotFoundException(
                f"Repository policy does not exist for the repository with name "
                f"'{repo.name}' in the registry with id '{repo.account_id}'"
            )
        return repo.policy

    def get_repository_policy(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        return {
            "registryId": repo.account_id,
            "repositoryName": repo.name,
            "policyText": policy_of(repo),
        }

    def delete_repository_policy(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        text = policy_of(repo)
        repos.update(repo, policy=None)
        return {"registryId": repo.account_id, "repositoryName": repo.name, "policyText": text}

    # -- lifecycle policies --------------------------------------------------------------

    def put_lifecycle_policy(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        text = params["lifecyclePolicyText"]
        lifecycle.parse(text)
        repo = repos.update(repo, lifecycle_policy=text)
        ecr.collect_soon.set()  # applied by the collector's next round, soon
        return {"registryId": repo.account_id, "repositoryName": repo.name,
                "lifecyclePolicyText": text}  # fmt: skip

    def lifecycle_of(repo: Repository) -> str:
        if repo.lifecycle_policy is None:
            raise LifecyclePolicyNotFoundException(
                f"Lifecycle policy does not exist for the repository with name "
                f"'{repo.name}' in the registry with id '{repo.account_id}'"
            )
        return repo.lifecycle_policy

    def lifecycle_result(repo: Repository, text: str) -> Result:
        out: Result = {"registryId": repo.account_id, "repositoryName": repo.name,
                       "lifecyclePolicyText": text}  # fmt: skip
        if repo.lifecycle_evaluated_at is not None:
            out["lastEvaluatedAt"] = repo.lifecycle_evaluated_at
        return out

    def get_lifecycle_policy(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        return lifecycle_result(repo, lifecycle_of(repo))

    def delete_lifecycle_policy(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        text = lifecycle_of(repo)
        repos.update(repo, lifecycle_policy=None)
        return lifecycle_result(repo, text)

    def start_lifecycle_policy_preview(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        text = params.get("lifecyclePolicyText") or lifecycle_of(repo)
        ecr.preview(repo, text)
        return {"registryId": repo.account_id, "repositoryName": repo.name,
                "lifecyclePolicyText": text, "status": "IN_PROGRESS"}  # fmt: skip

    def get_lifecycle_policy_preview(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        preview = ecr.previews.get(repo.arn)
        if preview is None:
            raise LifecyclePolicyPreviewNotFoundException(
                f"There is no lifecycle policy preview for the repository with name "
                f"'{repo.name}' in the registry with id '{repo.account_id}'"
            )
        results = [
            {
                "imageDigest": e.image.digest,
                "imageTags": list(e.image.tags),
                "imagePushedAt": e.image.pushed_at,
                "action": {"type": "EXPIRE"},
                "appliedRulePriority": e.priority,
            }
            for e in preview.expiries
        ]
        return {
            "registryId": repo.account_id,
            "repositoryName": repo.name,
            "lifecyclePolicyText": preview.policy_text,
            "status": "COMPLETE",
            "previewResults": results,
            "summary": {"expiringImageTotalCount": len(results)},
        }

    # -- the registry --------------------------------------------------------------------

    def get_authorization_token(ctx: RequestContext, params: Params) -> Result:
        if params.get("registryIds"):
            raise ValidationException(
                "registryIds is deprecated; the token is for the caller's registry"
            )
        expires = ecr.clock.now() + TOKEN_TTL
        # The token is checked against the wall clock the registry sees.
        caller = Caller(ctx.account_id, ctx.region, ctx.access_key_id, time.time() + TOKEN_TTL,
                        ctx.principal)  # fmt: skip
        return {
            "authorizationData": [
                {
                    "authorizationToken": ecr.tokens.authorization(caller),
                    "expiresAt": expires,
                    "proxyEndpoint": ecr.endpoint_of(scope_of(ctx)),
                }
            ]
        }

    def describe_registry(ctx: RequestContext, params: Params) -> Result:
        return {"registryId": ctx.account_id, "replicationConfiguration": {"rules": []}}

    def refuse_pull_through(ctx: RequestContext, params: Params) -> Result:
        raise UnsupportedUpstreamRegistryException(
            "Pull through cache rules are not supported: this registry does not reach "
            "upstream registries. Push the images you need instead."
        )

    return {
        "CreateRepository": create_repository,
        "DescribeRepositories": describe_repositories,
        "DeleteRepository": delete_repository,
        "PutImageTagMutability": put_image_tag_mutability,
        "PutImageScanningConfiguration": put_image_scanning_configuration,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
        "ListTagsForResource": list_tags_for_resource,
        "SetRepositoryPolicy": set_repository_policy,
        "GetRepositoryPolicy": get_repository_policy,
        "DeleteRepositoryPolicy": delete_repository_policy,
        "PutLifecyclePolicy": put_lifecycle_policy,
        "GetLifecyclePolicy": get_lifecycle_policy,
        "DeleteLifecyclePolicy": delete_lifecycle_policy,
        "StartLifecyclePolicyPreview": start_lifecycle_policy_preview,
        "GetLifecyclePolicyPreview": get_lifecycle_policy_preview,
        "GetAuthorizationToken": get_authorization_token,
        "DescribeRegistry": describe_registry,
        "CreatePullThroughCacheRule": refuse_pull_through,
        "ValidatePullThroughCacheRule": refuse_pull_through,
    }
