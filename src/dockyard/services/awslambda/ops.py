"""Lambda's operations: request in, domain call, output out."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypeVar

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.paging import InvalidToken, page
from dockyard.services.awslambda import wire
from dockyard.services.awslambda.errors import InvalidParameterValueException
from dockyard.services.awslambda.functions import CodeInput, ConfigChange, CreateRequest
from dockyard.services.awslambda.model import LATEST, InvocationType
from dockyard.services.awslambda.permissions import Grant
from dockyard.services.awslambda.service import Lambda

T = TypeVar("T")

# Options Dockyard does not run; naming them beats accepting them silently.
UNSUPPORTED = {
    "Layers": "layers",
    "DeadLetterConfig": "dead-letter queues",
    "FileSystemConfigs": "EFS file systems",
    "ImageConfig": "container image settings",
    "CodeSigningConfigArn": "code signing",
    "KMSKeyArn": "customer managed KMS keys",
    "CapacityProviderConfig": "capacity providers",
    "DurableConfig": "durable functions",
    "TenancyConfig": "tenant isolation",
    "PublishTo": "publishing to a capacity provider",
}


def _refuse_unsupported(p: Params) -> None:
    for member, what in UNSUPPORTED.items():
        if p.get(member) not in (None, [], {}, "") and not (
            member == "DeadLetterConfig" and not p[member].get("TargetArn")
        ):
            raise InvalidParameterValueException(f"Dockyard does not support {what} ({member}).")
    vpc = p.get("VpcConfig") or {}
    if vpc.get("SubnetIds") or vpc.get("SecurityGroupIds"):
        raise InvalidParameterValueException(
            "Dockyard runs functions on the host network, not in a VPC (VpcConfig)."
        )
    if p.get("PackageType", "Zip") != "Zip":
        raise InvalidParameterValueException(
            "Dockyard runs .zip file archive functions only (PackageType)."
        )
    if p.get("Architectures") not in (None, ["x86_64"]):
        raise InvalidParameterValueException("Dockyard runs x86_64 functions only (Architectures).")
    tracing = (p.get("TracingConfig") or {}).get("Mode")
    if tracing not in (None, "PassThrough"):
        raise InvalidParameterValueException("Dockyard does not trace with X-Ray (TracingConfig).")
    snap = (p.get("SnapStart") or {}).get("ApplyOn")
    if snap not in (None, "None"):
        raise InvalidParameterValueException("Dockyard does not support SnapStart (SnapStart).")
    logging = p.get("LoggingConfig") or {}
    if logging.get("LogFormat", "Text") != "Text" or logging.get("LogGroup"):
        raise InvalidParameterValueException(
            "Dockyard writes Text logs to /aws/lambda/<name> only (LoggingConfig)."
        )


def _paged(items: list[T], key: Callable[[T], str], p: Params) -> tuple[list[T], str | None]:
    try:
        return page(items, key, p.get("Marker"), p.get("MaxItems"), 50)
    except InvalidToken as exc:
        raise InvalidParameterValueException("Invalid marker (Marker).") from exc


def _code(p: dict[str, Any]) -> CodeInput:
    if p.get("ImageUri"):
        raise InvalidParameterValueException(
            "Dockyard runs .zip file archive functions only (ImageUri)."
        )
    return CodeInput(p.get("ZipFile"), p.get("S3Bucket"), p.get("S3Key"), p.get("S3ObjectVersion"))


def handlers(lam: Lambda) -> dict[str, Handler]:
    functions, aliases, permissions, invoker = (
        lam.functions, lam.aliases, lam.permissions, lam.invoker,
    )  # fmt: skip

    async def create_function(ctx: RequestContext, p: Params) -> Result:
        _refuse_unsupported(p)
        req = CreateRequest(
            name=p["FunctionName"], role=p["Role"], code=_code(p["Code"]),
            runtime=p.get("Runtime"), handler=p.get("Handler"),
            description=p.get("Description", ""), timeout=p.get("Timeout", 3),
            memory_size=p.get("MemorySize", 128),
            environment=(p.get("Environment") or {}).get("Variables") or {},
            ephemeral_storage=(p.get("EphemeralStorage") or {}).get("Size", 512),
            publish=bool(p.get("Publish")), tags=p.get("Tags") or {},
        )  # fmt: skip
        fn = await functions.create(scope_of(ctx), req)
        config = fn.versions[str(fn.last_version)] if req.publish else fn.latest
        return wire.configuration(fn, config)

    def get_function(ctx: RequestContext, p: Params) -> Result:
        fn, qualifier = functions.resolve(scope_of(ctx), p["FunctionName"], p.get("Qualifier"))
        out: Result = {
            "Configuration": wire.configuration(fn, functions.config_of(fn, qualifier)),
            "Code": {"RepositoryType": "S3"},
        }
        if fn.tags:
            out["Tags"] = dict(fn.tags)
        if fn.reserved_concurrency is not None:
            out["Concurrency"] = {"ReservedConcurrentExecutions": fn.reserved_concurrency}
        return out

    def get_function_configuration(ctx: RequestContext, p: Params) -> Result:
        fn, qualifier = functions.resolve(scope_of(ctx), p["FunctionName"], p.get("Qualifier"))
        return wire.configuration(fn, functions.config_of(fn, qualifier))

    def list_functions(ctx: RequestContext, p: Params) -> Result:
        if p.get("MasterRegion"):
            raise InvalidParameterValueException("Dockyard has no Lambda@Edge (MasterRegion).")
        configs = [
            (fn, config)
            for fn in functions.listed(scope_of(ctx))
            for config in (functions.versions(fn) if p.get("FunctionVersion") == "ALL"
                           else [fn.latest])
        ]  # fmt: skip
        found, marker = _paged(configs, lambda c: f"{c[0].name}:{c[1].version}", p)
        out: Result = {"Functions": [wire.configuration(fn, c) for fn, c in found]}
        if marker:
            out["NextMarker"] = marker
        return out

    def delete_function(ctx: RequestContext, p: Params) -> Result:
        functions.delete(scope_of(ctx), p["FunctionName"], p.get("Qualifier"))
        return {"StatusCode": 204}

    async def update_function_code(ctx: RequestContext, p: Params) -> Result:
        if p.get("DryRun"):
            raise InvalidParameterValueException("Dockyard does not dry-run code updates (DryRun).")
        if p.get("Architectures") not in (None, ["x86_64"]):
            raise InvalidParameterValueException(
                "Dockyard runs x86_64 functions only (Architectures)."
            )
        publish = bool(p.get("Publish"))
        fn = await functions.update_code(
            scope_of(ctx), p["FunctionName"], _code(p), publish, p.get("RevisionId")
        )
        return wire.configuration(fn, fn.versions[str(fn.last_version)] if publish else fn.latest)

    def update_function_configuration(ctx: RequestContext, p: Params) -> Result:
        _refuse_unsupported(p)
        env = p.get("Environment")
        change = ConfigChange(
            role=p.get("Role"), runtime=p.get("Runtime"), handler=p.get("Handler"),
            description=p.get("Description"), timeout=p.get("Timeout"),
            memory_size=p.get("MemorySize"),
            environment=(env.get("Variables") or {}) if env is not None else None,
            ephemeral_storage=(p.get("EphemeralStorage") or {}).get("Size"),
            revision_id=p.get("RevisionId"),
        )  # fmt: skip
        fn = functions.update_config(scope_of(ctx), p["FunctionName"], change)
        return wire.configuration(fn, fn.latest)

    def publish_version(ctx: RequestContext, p: Params) -> Result:
        _refuse_unsupported(p)
        fn, config = functions.publish_version(
            scope_of(ctx), p["FunctionName"], p.get("CodeSha256"), p.get("Description", ""),
            p.get("RevisionId"),
        )  # fmt: skip
        return wire.configuration(fn, config)

    def list_versions(ctx: RequestContext, p: Params) -> Result:
        fn, _ = functions.resolve(scope_of(ctx), p["FunctionName"])
        versions = functions.versions(fn)
        order = {c.version: i for i, c in enumerate(versions)}
        found, marker = _paged(versions, lambda c: f"{order[c.version]:08d}", p)
        out: Result = {"Versions": [wire.configuration(fn, c) for c in found]}
        if marker:
            out["NextMarker"] = marker
        return out

    def weights_of(p: Params) -> dict[str, float] | None:
        routing = p.get("RoutingConfig")
        if routing is None:
            return None
        return dict(routing.get("AdditionalVersionWeights") or {})

    def create_alias(ctx: RequestContext, p: Params) -> Result:
        created = aliases.create(
            scope_of(ctx), p["FunctionName"], p["Name"], p["FunctionVersion"],
            p.get("Description", ""), weights_of(p) or {},
        )  # fmt: skip
        return wire.alias(created)

    def update_alias(ctx: RequestContext, p: Params) -> Result:
        updated = aliases.update(
            scope_of(ctx), p["FunctionName"], p["Name"], p.get("FunctionVersion"),
            p.get("Description"), weights_of(p), p.get("RevisionId"),
        )  # fmt: skip
        return wire.alias(updated)

    def get_alias(ctx: RequestContext, p: Params) -> Result:
        _, found = aliases.get(scope_of(ctx), p["FunctionName"], p["Name"])
        return wire.alias(found)

    def list_aliases(ctx: RequestContext, p: Params) -> Result:
        fn, _ = functions.resolve(scope_of(ctx), p["FunctionName"])
        found, marker = _paged(aliases.listed(fn, p.get("FunctionVersion")), lambda a: a.name, p)
        out: Result = {"Aliases": [wire.alias(a) for a in found]}
        if marker:
            out["NextMarker"] = marker
        return out

    def delete_alias(ctx: RequestContext, p: Params) -> Result:
        aliases.delete(scope_of(ctx), p["FunctionName"], p["Name"])
        return {}

    def put_concurrency(ctx: RequestContext, p: Params) -> Result:
        value = p["ReservedConcurrentExecutions"]
        functions.put_concurrency(scope_of(ctx), p["FunctionName"], value)
        return {"ReservedConcurrentExecutions": value}

    def get_concurrency(ctx: RequestContext, p: Params) -> Result:
        fn, _ = functions.resolve(scope_of(ctx), p["FunctionName"])
        if fn.reserved_concurrency is None:
            return {}
        return {"ReservedConcurrentExecutions": fn.reserved_concurrency}

    def delete_concurrency(ctx: RequestContext, p: Params) -> Result:
        functions.put_concurrency(scope_of(ctx), p["FunctionName"], None)
        return {}

    def add_permission(ctx: RequestContext, p: Params) -> Result:
        import json

        grant = Grant(
            p["StatementId"], p["Action"], p["Principal"], p.get("SourceArn"),
            p.get("SourceAccount"), p.get("PrincipalOrgID"), p.get("FunctionUrlAuthType"),
            p.get("EventSourceToken"),
        )  # fmt: skip
        added = permissions.add(
            scope_of(ctx), p["FunctionName"], p.get("Qualifier"), grant, p.get("RevisionId")
        )
        return {"Statement": json.dumps(added, separators=(",", ":"))}

    def remove_permission(ctx: RequestContext, p: Params) -> Result:
        permissions.remove(scope_of(ctx), p["FunctionName"], p.get("Qualifier"), p["StatementId"])
        return {}

    def get_policy(ctx: RequestContext, p: Params) -> Result:
        policy, revision = permissions.policy(scope_of(ctx), p["FunctionName"], p.get("Qualifier"))
        return {"Policy": policy, "RevisionId": revision}

    async def invoke(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        kind = p.get("InvocationType") or InvocationType.REQUEST_RESPONSE
        payload = p.get("Payload") or b""
        if isinstance(payload, str):
            payload = payload.encode()
        name, qualifier = p["FunctionName"], p.get("Qualifier")
        if kind == InvocationType.DRY_RUN:
            version = invoker.dry_run(scope, name, qualifier)
            return {"StatusCode": 204, "ExecutedVersion": version}
        if kind == InvocationType.EVENT:
            invoker.queue(scope, name, qualifier, payload)
            return {"StatusCode": 202}
        context = p.get("ClientContext")
        if context is not None:
            try:
                context = base64.b64decode(context, validate=True).decode()
            except ValueError as exc:
                raise InvalidParameterValueException(
                    "Client context must be a valid Base64-encoded JSON object (ClientContext)."
                ) from exc
        answer = await invoker.invoke_sync(scope, name, qualifier, payload, context)
        out: Result = {"StatusCode": 200, "Payload": answer.payload,
                       "ExecutedVersion": answer.executed_version}  # fmt: skip
        if answer.function_error:
            out["FunctionError"] = answer.function_error
        if p.get("LogType") == "Tail":
            out["LogResult"] = base64.b64encode(answer.log_tail.encode()).decode()
        return out

    def get_account_settings(ctx: RequestContext, p: Params) -> Result:
        mine = functions.listed(scope_of(ctx))
        return {
            "AccountLimit": {
                "TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800, "ConcurrentExecutions": 1000,
                "UnreservedConcurrentExecutions": 1000 - sum(
                    f.reserved_concurrency or 0 for f in mine),
            },
            "AccountUsage": {"TotalCodeSize": sum(f.latest.code_size for f in mine),
                             "FunctionCount": len(mine)},
        }  # fmt: skip

    def tag_resource(ctx: RequestContext, p: Params) -> Result:
        fn, _ = functions.resolve(scope_of(ctx), p["Resource"])
        functions.tag(fn, p["Tags"], [])
        return {}

    def untag_resource(ctx: RequestContext, p: Params) -> Result:
        fn, _ = functions.resolve(scope_of(ctx), p["Resource"])
        functions.tag(fn, {}, p["TagKeys"])
        return {}

    def list_tags(ctx: RequestContext, p: Params) -> Result:
        fn, _ = functions.resolve(scope_of(ctx), p["Resource"])
        return {"Tags": dict(fn.tags)}

    return {
        "CreateFunction": create_function,
        "GetFunction": get_function,
        "GetFunctionConfiguration": get_function_configuration,
        "ListFunctions": list_functions,
        "DeleteFunction": delete_function,
        "UpdateFunctionCode": update_function_code,
        "UpdateFunctionConfiguration": update_function_configuration,
        "PublishVersion": publish_version,
        "ListVersionsByFunction": list_versions,
        "CreateAlias": create_alias,
        "UpdateAlias": update_alias,
        "GetAlias": get_alias,
        "ListAliases": list_aliases,
        "DeleteAlias": delete_alias,
        "PutFunctionConcurrency": put_concurrency,
        "GetFunctionConcurrency": get_concurrency,
        "DeleteFunctionConcurrency": delete_concurrency,
        "AddPermission": add_permission,
        "RemovePermission": remove_permission,
        "GetPolicy": get_policy,
        "Invoke": invoke,
        "GetAccountSettings": get_account_settings,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
        "ListTags": list_tags,
    }


__all__ = ["LATEST", "handlers"]
