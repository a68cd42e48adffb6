"""Parameter operations: request in, domain call, output out."""

from __future__ import annotations

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.paging import InvalidToken, page
from dockyard.services.ssm import filters, validation
from dockyard.services.ssm.errors import (
    InvalidNextToken,
    InvalidResourceId,
    InvalidResourceType,
    ParameterNotFound,
    ParameterVersionNotFound,
    ValidationException,
)
from dockyard.services.ssm.model import Parameter, ParameterType, Version
from dockyard.services.ssm.parameters import Parameters, PutRequest

MAX_NAMES = 10


def user_of(ctx: RequestContext) -> str:
    return f"arn:aws:iam::{ctx.account_id}:root"


def shown(version: Version, decrypt: bool) -> str:
    if version.type == ParameterType.SECURE_STRING and not decrypt:
        return version.ciphertext or ""
    return version.value


def parameter_to_wire(
    parameter: Parameter, version: Version, decrypt: bool, selector: str | None = None
) -> Result:
    out: Result = {
        "Name": parameter.name,
        "Type": version.type,
        "Value": shown(version, decrypt),
        "Version": version.version,
        "LastModifiedDate": version.modified,
        "ARN": parameter.arn,
        "DataType": version.data_type,
    }
    if selector:
        out["Selector"] = selector
    return out


def metadata_to_wire(parameter: Parameter) -> Result:
    current = parameter.current
    out: Result = {
        "Name": parameter.name,
        "ARN": parameter.arn,
        "Type": current.type,
        "LastModifiedDate": current.modified,
        "LastModifiedUser": current.modified_user,
        "Version": current.version,
        "Tier": current.tier,
        "Policies": [],
        "DataType": current.data_type,
    }
    for key, value in (
        ("KeyId", current.key_id),
        ("Description", current.description),
        ("AllowedPattern", current.allowed_pattern),
    ):
        if value is not None:
            out[key] = value
    return out


def history_to_wire(parameter: Parameter, version: Version, decrypt: bool) -> Result:
    out: Result = {
        "Name": parameter.name,
        "Type": version.type,
        "LastModifiedDate": version.modified,
        "LastModifiedUser": version.modified_user,
        "Value": shown(version, decrypt),
        "Version": version.version,
        "Labels": list(version.labels),
        "Tier": version.tier,
        "Policies": [],
        "DataType": version.data_type,
    }
    for key, value in (
        ("KeyId", version.key_id),
        ("Description", version.description),
        ("AllowedPattern", version.allowed_pattern),
    ):
        if value is not None:
            out[key] = value
    return out


def paged(items: list[Parameter], p: Params, default: int) -> tuple[list[Parameter], str | None]:
    try:
        return page(items, lambda x: x.name, p.get("NextToken"), p.get("MaxResults"), default)
    except InvalidToken as exc:
        raise InvalidNextToken("The specified token isn't valid (NextToken).") from exc


def tagged_parameter(params: Parameters, ctx: RequestContext, p: Params) -> Parameter:
    if p["ResourceType"] != "Parameter":
        raise InvalidResourceType(
            f"Dockyard serves tags of Parameter resources only (ResourceType: {p['ResourceType']})."
        )
    parameter = params.find(scope_of(ctx), p["ResourceId"])
    if parameter is None:
        raise InvalidResourceId(
            f'The resource ID "{p["ResourceId"]}" is not valid. Verify the ID and try again.'
        )
    return parameter


def handlers(params: Parameters) -> dict[str, Handler]:
    def put_parameter(ctx: RequestContext, p: Params) -> Result:
        if p.get("Policies"):
            raise ValidationException("Dockyard does not support parameter policies (Policies).")
        parameter = params.put(
            scope_of(ctx),
            PutRequest(
                name=p["Name"],
                value=p["Value"],
                type=p.get("Type"),
                description=p.get("Description"),
                key_id=p.get("KeyId"),
                overwrite=bool(p.get("Overwrite", False)),
                allowed_pattern=p.get("AllowedPattern"),
                tags=validation.tags(p.get("Tags")),
                tier=p.get("Tier"),
                data_type=p.get("DataType"),
            ),
            user_of(ctx),
        )
        return {"Version": parameter.current.version, "Tier": parameter.current.tier}

    def get_parameter(ctx: RequestContext, p: Params) -> Result:
        parameter, version, selector = params.select(scope_of(ctx), p["Name"])
        decrypt = bool(p.get("WithDecryption", False))
        return {"Parameter": parameter_to_wire(parameter, version, decrypt, selector)}

    def get_parameters(ctx: RequestContext, p: Params) -> Result:
        names = list(p["Names"])
        if len(names) > MAX_NAMES:
            raise ValidationException(
                f"1 validation error detected: Value at 'names' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_NAMES}"
            )
        decrypt = bool(p.get("WithDecryption", False))
        found: list[Result] = []
        invalid: list[str] = []
        for name in dict.fromkeys(names):
            try:
                parameter, version, selector = params.select(scope_of(ctx), name)
            except (ParameterNotFound, ParameterVersionNotFound):
                invalid.append(name)
                continue
            found.append(parameter_to_wire(parameter, version, decrypt, selector))
        return {"Parameters": found, "InvalidParameters": invalid}

    def get_parameters_by_path(ctx: RequestContext, p: Params) -> Result:
        path = validation.path(p["Path"])
        recursive = bool(p.get("Recursive", False))
        specs = list(p.get("ParameterFilters") or [])
        match = filters.compile_filters(specs, by_path=True)
        labels = [str(v) for s in specs if s.get("Key") == "Label" for v in s.get("Values") or []]
        chosen = [x for x in params.by_path(scope_of(ctx), path, recursive) if match(x)]
        chunk, token = paged(chosen, p, MAX_NAMES)
        decrypt = bool(p.get("WithDecryption", False))
        out: Result = {"Parameters": []}
        for parameter in chunk:
            version = next(
                (v for v in reversed(parameter.versions) if set(v.labels) & set(labels)),
                parameter.current,
            )
            out["Parameters"].append(parameter_to_wire(parameter, version, decrypt))
        if token:
            out["NextToken"] = token
        return out

    def delete_parameter(ctx: RequestContext, p: Params) -> Result:
        params.delete(params.get(scope_of(ctx), p["Name"]))
        return {}

    def delete_parameters(ctx: RequestContext, p: Params) -> Result:
        deleted: list[str] = []
        invalid: list[str] = []
        for name in p["Names"]:
            parameter = params.find(scope_of(ctx), name)
            if parameter is None:
                invalid.append(name)
            else:
                params.delete(parameter)
                deleted.append(name)
        return {"DeletedParameters": deleted, "InvalidParameters": invalid}

    def describe_parameters(ctx: RequestContext, p: Params) -> Result:
        if p.get("Filters") and p.get("ParameterFilters"):
            raise ValidationException(
                "You can use either Filters or ParameterFilters in a single request, not both."
            )
        if p.get("Shared"):
            raise ValidationException("Dockyard has no parameters shared by other accounts.")
        specs = filters.legacy(p.get("Filters")) + list(p.get("ParameterFilters") or [])
        match = filters.compile_filters(specs)
        chosen = [x for x in params.all(scope_of(ctx)) if match(x)]
        chunk, token = paged(chosen, p, 50)
        out: Result = {"Parameters": [metadata_to_wire(x) for x in chunk]}
        if token:
            out["NextToken"] = token
        return out

    def get_parameter_history(ctx: RequestContext, p: Params) -> Result:
        parameter = params.get(scope_of(ctx), p["Name"])
        decrypt = bool(p.get("WithDecryption", False))
        versions = parameter.versions
        try:
            chunk, token = page(
                versions,
                lambda v: f"{v.version:010d}",
                p.get("NextToken"),
                p.get("MaxResults"),
                50,
            )
        except InvalidToken as exc:
            raise InvalidNextToken("The specified token isn't valid (NextToken).") from exc
        out: Result = {"Parameters": [history_to_wire(parameter, v, decrypt) for v in chunk]}
        if token:
            out["NextToken"] = token
        return out

    def label_parameter_version(ctx: RequestContext, p: Params) -> Result:
        parameter = params.get(scope_of(ctx), p["Name"])
        number = p.get("ParameterVersion")
        version, invalid = params.label(
            parameter, None if number is None else int(number), list(p["Labels"])
        )
        return {"InvalidLabels": invalid, "ParameterVersion": version}

    def unlabel_parameter_version(ctx: RequestContext, p: Params) -> Result:
        parameter = params.get(scope_of(ctx), p["Name"])
        removed, invalid = params.unlabel(parameter, int(p["ParameterVersion"]), list(p["Labels"]))
        return {"RemovedLabels": removed, "InvalidLabels": invalid}

    def add_tags_to_resource(ctx: RequestContext, p: Params) -> Result:
        parameter = tagged_parameter(params, ctx, p)
        merged = {**parameter.tags, **validation.tags(p["Tags"])}
        validation.tag_count(merged)
        parameter.tags = merged
        params.save(parameter)
        return {}

    def remove_tags_from_resource(ctx: RequestContext, p: Params) -> Result:
        parameter = tagged_parameter(params, ctx, p)
        for key in p["TagKeys"]:
            parameter.tags.pop(key, None)
        params.save(parameter)
        return {}

    def list_tags_for_resource(ctx: RequestContext, p: Params) -> Result:
        parameter = tagged_parameter(params, ctx, p)
        return {"TagList": [{"Key": k, "Value": v} for k, v in sorted(parameter.tags.items())]}

    return {
        "PutParameter": put_parameter,
        "GetParameter": get_parameter,
        "GetParameters": get_parameters,
        "GetParametersByPath": get_parameters_by_path,
        "DeleteParameter": delete_parameter,
        "DeleteParameters": delete_parameters,
        "DescribeParameters": describe_parameters,
        "GetParameterHistory": get_parameter_history,
        "LabelParameterVersion": label_parameter_version,
        "UnlabelParameterVersion": unlabel_parameter_version,
        "AddTagsToResource": add_tags_to_resource,
        "RemoveTagsFromResource": remove_tags_from_resource,
        "ListTagsForResource": list_tags_for_resource,
    }
