"""Launch template operations: request in, domain call, output out."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.scope import Scope
from dockyard.services.ec2 import filters, tags
from dockyard.services.ec2.errors import InvalidParameterValue, MissingParameter
from dockyard.services.ec2.templates import wire
from dockyard.services.ec2.templates.aliases import resolved
from dockyard.services.ec2.templates.model import LaunchTemplate, TemplateVersion, VersionAlias
from dockyard.services.ec2.templates.templates import (
    LaunchTemplates,
    id_not_found,
    name_not_found,
    version_number,
)

PAGE_MIN, PAGE_MAX = 1, 200


def caller_arn(ctx: RequestContext) -> str:
    """CreatedBy: the signer's ARN (the account root without an auth file)."""
    return ctx.principal.arn if ctx.principal else f"arn:aws:iam::{ctx.account_id}:root"


def _chosen_templates(templates: LaunchTemplates, scope: Scope, p: Params) -> list[LaunchTemplate]:
    everything = templates.all(scope)
    ids = list(dict.fromkeys(p.get("LaunchTemplateIds") or []))
    names = list(dict.fromkeys(p.get("LaunchTemplateNames") or []))
    if not ids and not names:
        return everything
    by_id = {t.id: t for t in everything}
    by_name = {t.name: t for t in everything}
    absent_ids = [i for i in ids if i not in by_id]
    if absent_ids:
        raise id_not_found(", ".join(absent_ids))
    absent_names = [n for n in names if n not in by_name]
    if absent_names:
        raise name_not_found(", ".join(absent_names))
    chosen = {t.id: t for t in [*(by_id[i] for i in ids), *(by_name[n] for n in names)]}
    return sorted(chosen.values(), key=lambda t: t.id)


def _versions_of(
    templates: LaunchTemplates, template: LaunchTemplate, p: Params
) -> list[TemplateVersion]:
    wanted = list(dict.fromkeys(p.get("Versions") or []))
    low, high = p.get("MinVersion"), p.get("MaxVersion")
    if wanted:
        found = {templates.version_of(template, str(v)).number: str(v) for v in wanted}
        chosen = [v for v in templates.versions(template) if v.number in found]
    else:
        chosen = templates.versions(template)
    if low is not None:
        least = version_number(str(low), "MinVersion")
        chosen = [v for v in chosen if v.number >= least]
    if high is not None:
        most = version_number(str(high), "MaxVersion")
        chosen = [v for v in chosen if v.number <= most]
    return chosen


def handlers(templates: LaunchTemplates) -> dict[str, Handler]:
    def one(ctx: RequestContext, p: Params) -> LaunchTemplate:
        return templates.get(scope_of(ctx), p.get("LaunchTemplateId"), p.get("LaunchTemplateName"))

    def create(ctx: RequestContext, p: Params) -> Result:
        if p.get("Operator"):
            raise InvalidParameterValue("Dockyard serves no managed launch templates (Operator).")
        made = templates.create(
            scope_of(ctx),
            p.get("LaunchTemplateName"),
            p.get("LaunchTemplateData"),
            p.get("VersionDescription"),
            tags.specified(p.get("TagSpecifications"), "launch-template"),
            caller_arn(ctx),
            p.get("ClientToken"),
        )
        return {"LaunchTemplate": wire.template(made)}

    def create_version(ctx: RequestContext, p: Params) -> Result:
        template = one(ctx, p)
        changed, version = templates.add_version(
            scope_of(ctx),
            template,
            p.get("LaunchTemplateData"),
            p.get("VersionDescription"),
            caller_arn(ctx),
            p.get("SourceVersion"),
        )
        return {"LaunchTemplateVersion": wire.version(changed, version)}

    def describe(ctx: RequestContext, p: Params) -> Result:
        chosen = filters.select(
            _chosen_templates(templates, scope_of(ctx), p),
            wire.template_fields,
            p.get("Filters"),
            wire.TEMPLATE_FILTERS,
        )
        chunk, token = filters.paged(chosen, lambda t: t.id, p, PAGE_MIN, PAGE_MAX)
        return filters.with_token({"LaunchTemplates": [wire.template(t) for t in chunk]}, token)

    def describe_versions(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        pairs: list[tuple[LaunchTemplate, TemplateVersion]] = []
        if p.get("LaunchTemplateId") or p.get("LaunchTemplateName"):
            template = one(ctx, p)
            pairs = [(template, v) for v in _versions_of(templates, template, p)]
        else:
            wanted = list(dict.fromkeys(p.get("Versions") or []))
            aliases = (VersionAlias.LATEST, VersionAlias.DEFAULT)
            if not wanted or any(v not in aliases for v in wanted):
                raise MissingParameter(
                    "The request must contain the parameter LaunchTemplateId or "
                    "LaunchTemplateName (without one, Versions may only be $Latest or $Default)"
                )
            for template in templates.all(scope):
                numbers = {templates.version_of(template, str(v)).number for v in wanted}
                pairs += [
                    (template, v) for v in templates.versions(template) if v.number in numbers
                ]
        match = filters.compile_filters(p.get("Filters"), wire.VERSION_FILTERS, tagged=False)
        pairs = [(t, v) for t, v in pairs if match(wire.version_fields(t, v))]
        # Newest first within a template, as EC2 lists them.
        pairs.sort(key=lambda tv: (tv[0].id, -tv[1].number))
        chunk, token = filters.paged(pairs, _version_key, p, PAGE_MIN, PAGE_MAX)
        shown = [wire.version(t, v) for t, v in chunk]
        if p.get("ResolveAlias"):
            for entry in shown:
                entry["LaunchTemplateData"] = resolved(scope.region, entry["LaunchTemplateData"])
        return filters.with_token({"LaunchTemplateVersions": shown}, token)

    def modify(ctx: RequestContext, p: Params) -> Result:
        template = one(ctx, p)
        default = p.get("DefaultVersion")
        if default is not None:
            template = templates.set_default(scope_of(ctx), template, str(default))
        return {"LaunchTemplate": wire.template(template)}

    def delete(ctx: RequestContext, p: Params) -> Result:
        template = one(ctx, p)
        templates.delete(scope_of(ctx), template)
        return {"LaunchTemplate": wire.template(template)}

    def delete_versions(ctx: RequestContext, p: Params) -> Result:
        template = one(ctx, p)
        done = templates.delete_versions(
            scope_of(ctx), template, [str(v) for v in p.get("Versions") or []]
        )
        named = {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name}
        ok: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for d in done:
            entry: dict[str, Any] = {**named}
            if d.number is not None:
                entry["VersionNumber"] = d.number
            if d.error_code is None:
                ok.append(entry)
            else:
                entry["ResponseError"] = {"Code": d.error_code, "Message": d.error_message}
                failed.append(entry)
        out: dict[str, Any] = {}
        if ok:
            out["SuccessfullyDeletedLaunchTemplateVersions"] = ok
        if failed:
            out["UnsuccessfullyDeletedLaunchTemplateVersions"] = failed
        return out

    return {
        "CreateLaunchTemplate": create,
        "CreateLaunchTemplateVersion": create_version,
        "DescribeLaunchTemplates": describe,
        "DescribeLaunchTemplateVersions": describe_versions,
        "ModifyLaunchTemplate": modify,
        "DeleteLaunchTemplate": delete,
        "DeleteLaunchTemplateVersions": delete_versions,
    }


def _version_key(pair: tuple[LaunchTemplate, TemplateVersion]) -> str:
    template, version = pair
    return f"{template.id}\x00{2**31 - version.number:010d}"
