"""Instance operations: request in, domain call, output out. `RunInstances` needs a host
runtime to boot the machines; without one it answers `UnsupportedOperation` naming why, while
the rest answer on the records there are."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.errors import UnsupportedOperation
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.scope import Scope
from dockyard.services.ec2 import filters
from dockyard.services.ec2.describe import described, missing_ids
from dockyard.services.ec2.errors import InvalidParameterValue, missing
from dockyard.services.ec2.instances import launch as launching
from dockyard.services.ec2.instances import wire
from dockyard.services.ec2.instances.instances import CHECK_GRACE, not_found
from dockyard.services.ec2.instances.model import Instance, InstanceState

if TYPE_CHECKING:
    from dockyard.services.ec2.service import Ec2

STATUS_FILTERS = ("instance-id", "availability-zone", "instance-state-name", "instance-state-code")
ATTRIBUTES = ("userData", "instanceType")
CONSOLE_BYTES = 64 * 1024  # EC2 keeps the last 64 KB of a console
LATEST_BYTES = 64 * 1024


def handlers(ec2: Ec2) -> dict[str, Handler]:
    instances = ec2.instances

    def chosen(ctx: RequestContext, p: Params) -> tuple[Scope, list[Instance]]:
        scope = scope_of(ctx)
        ids = p.get("InstanceIds")
        if not ids:
            raise missing("InstanceIds")
        return scope, instances.chosen(scope, [str(i) for i in ids])

    def run(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        why = ec2.no_runtime
        if why is not None:
            raise UnsupportedOperation(f"RunInstances: this server has no host runtime: {why}")
        checked = launching.checked(
            scope, p, ec2.templates, ec2.images, ec2.vpcs, ec2.groups, ec2.profiles
        )
        requester = ctx.principal.arn if ctx.principal else ""
        made = instances.launch(scope, checked, requester)
        return wire.reservation(made)

    def describe(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        instances.forget_expired(scope)
        chunk, token = described(
            instances.all(scope),
            lambda i: i.id,
            p.get("InstanceIds"),
            not_found,
            wire.fields,
            wire.INSTANCE_FILTERS,
            p,
        )
        by_reservation: dict[str, list[Instance]] = {}
        for instance in chunk:
            by_reservation.setdefault(instance.reservation_id, []).append(instance)
        out = [wire.reservation(group) for group in by_reservation.values()]
        return filters.with_token({"Reservations": out}, token)

    def describe_status(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        everything = instances.all(scope)
        if not p.get("IncludeAllInstances"):
            everything = [i for i in everything if i.state == InstanceState.RUNNING]
        chunk, token = described(
            everything,
            lambda i: i.id,
            p.get("InstanceIds"),
            not_found,
            wire.fields,
            STATUS_FILTERS,
            p,
        )
        now = instances.clock.now()
        out: list[dict[str, Any]] = []
        for i in chunk:
            entry = wire.status(i, now - i.changed < CHECK_GRACE)
            if i.state != InstanceState.RUNNING:
                gone = {"Status": "not-applicable"}
                entry |= {"SystemStatus": gone, "InstanceStatus": gone}
            out.append(entry)
        return filters.with_token({"InstanceStatuses": out}, token)

    def stop(ctx: RequestContext, p: Params) -> Result:
        if p.get("Hibernate"):
            raise InvalidParameterValue("Dockyard instances do not hibernate (Hibernate).")
        scope, found = chosen(ctx, p)
        return {"StoppingInstances": [wire.change(b, a) for b, a in instances.stop(scope, found)]}

    def start(ctx: RequestContext, p: Params) -> Result:
        scope, found = chosen(ctx, p)
        pairs = instances.start(scope, found)
        return {"StartingInstances": [wire.change(b, a) for b, a in pairs]}

    def terminate(ctx: RequestContext, p: Params) -> Result:
        scope, found = chosen(ctx, p)
        pairs = instances.terminate(scope, found)
        return {"TerminatingInstances": [wire.change(b, a) for b, a in pairs]}

    def reboot(ctx: RequestContext, p: Params) -> Result:
        scope, found = chosen(ctx, p)
        instances.reboot(scope, found)
        return {}

    def modify_metadata(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        if not p.get("InstanceId"):
            raise missing("InstanceId")
        (found,) = instances.chosen(scope, [str(p["InstanceId"])])
        changed = instances.modify_metadata(scope, found, p)
        return {
            "InstanceId": changed.id,
            "InstanceMetadataOptions": {"State": "applied", **changed.metadata},
        }

    def describe_attribute(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        if not p.get("InstanceId"):
            raise missing("InstanceId")
        attribute = p.get("Attribute")
        if not attribute:
            raise missing("Attribute")
        if attribute not in ATTRIBUTES:
            raise InvalidParameterValue(
                f"Value ({attribute}) for parameter attribute is invalid. Dockyard serves "
                f"{' and '.join(ATTRIBUTES)}."
            )
        (found,) = instances.chosen(scope, [str(p["InstanceId"])])
        out: dict[str, Any] = {"InstanceId": found.id}
        if attribute == "userData":
            out["UserData"] = {"Value": found.user_data} if found.user_data else {}
        else:
            out["InstanceType"] = {"Value": found.instance_type}
        return out

    def console_output(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        if not p.get("InstanceId"):
            raise missing("InstanceId")
        (found,) = instances.chosen(scope, [str(p["InstanceId"])])
        out: dict[str, Any] = {
            "InstanceId": found.id,
            "Timestamp": instances.clock.now(),
        }
        if ec2.console is None:
            return out
        text = ec2.console(found.id)
        if p.get("Latest"):
            text = text[-LATEST_BYTES:]
        elif len(text) > CONSOLE_BYTES:
            text = text[-CONSOLE_BYTES:]
        if text:
            out["Output"] = base64.b64encode(text).decode()
        return out

    def profile_associations(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        held = [
            i for i in instances.all(scope) if i.iam_profile and i.state != InstanceState.TERMINATED
        ]
        chunk, token = described(
            held,
            wire.association_id,
            p.get("AssociationIds"),
            missing_ids("InvalidAssociationID.NotFound", "association"),
            wire.association_fields,
            ("instance-id", "state"),
            p,
        )
        out = [wire.association(i) for i in chunk]
        return filters.with_token({"IamInstanceProfileAssociations": out}, token)

    return {
        "RunInstances": run,
        "DescribeIamInstanceProfileAssociations": profile_associations,
        "GetConsoleOutput": console_output,
        "DescribeInstances": describe,
        "DescribeInstanceStatus": describe_status,
        "StopInstances": stop,
        "StartInstances": start,
        "TerminateInstances": terminate,
        "RebootInstances": reboot,
        "ModifyInstanceMetadataOptions": modify_metadata,
        "DescribeInstanceAttribute": describe_attribute,
    }
