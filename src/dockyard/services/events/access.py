"""What EventBridge operations act on: rules (`arn:aws:events:<region>:<account>:rule/<name>`,
`rule/<bus>/<name>` on a custom bus) and event buses (`event-bus/<name>`); PutTargets also
asks iam:PassRole for each target's RoleArn."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dockyard.api.access import AccessFunction, AccessRequest, Resolver, passrole, table, values
from dockyard.services.events.service import Events


def _bus_name(req: AccessRequest) -> str:
    bus = req.params.get("EventBusName") or "default"
    return str(bus).rpartition("/")[2] if str(bus).startswith("arn:") else str(bus)


def _rule(param: str) -> Resolver:
    def resolve(req: AccessRequest) -> Iterable[str]:
        bus = _bus_name(req)
        out = []
        for name in values(req.params, param):
            if name.startswith("arn:"):
                out.append(name)
            else:
                path = f"rule/{name}" if bus == "default" else f"rule/{bus}/{name}"
                out.append(req.arn("events", path))
        return out

    return resolve


def _bus(req: AccessRequest) -> Iterable[str]:
    name = req.params.get("Name") or req.params.get("EventBusName") or "default"
    return [req.arn("events", f"event-bus/{name}")]


def _entries_buses(req: AccessRequest) -> Iterable[str]:
    out = []
    for entry in req.params.get("Entries") or []:
        bus = entry.get("EventBusName") or "default"
        out.append(bus if bus.startswith("arn:") else req.arn("events", f"event-bus/{bus}"))
    return out


def _arn(req: AccessRequest) -> Iterable[str]:
    return values(req.params, "ResourceARN")


NAME = _rule("Name")
RULE = _rule("Rule")
RESOURCES: dict[str, Resolver] = {
    "PutRule": NAME,
    "DeleteRule": NAME,
    "DescribeRule": NAME,
    "EnableRule": NAME,
    "DisableRule": NAME,
    "PutTargets": RULE,
    "RemoveTargets": RULE,
    "ListTargetsByRule": RULE,
    "CreateEventBus": _bus,
    "DeleteEventBus": _bus,
    "DescribeEventBus": _bus,
    "PutEvents": _entries_buses,
    "TagResource": _arn,
    "UntagResource": _arn,
    "ListTagsForResource": _arn,
}

EXTRA = {"PutTargets": passrole(("Targets", "RoleArn"), "events.amazonaws.com")}


def access(events: Events) -> AccessFunction:
    """EventBridge's access function, with rules' and buses' tags (aws:ResourceTag/*)."""

    def tags(req: AccessRequest, arn: str) -> Mapping[str, str] | None:
        found = events.rules.get(arn) or events.buses.get(arn)
        return dict(found.tags) if found is not None else None

    return table("events", RESOURCES, extra=EXTRA, tags=tags)
