"""EC2 Auto Scaling's instance refresh (wire ↔ typed calls): start, describe, cancel.
RollbackInstanceRefresh has no handler: it answers UnsupportedOperation."""

from __future__ import annotations

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.ec2autoscaling import refresh
from dockyard.services.ec2autoscaling.ops_groups import max_records
from dockyard.services.ec2autoscaling.paging import page_in_order
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling


def handlers(asg: Ec2AutoScaling) -> dict[str, Handler]:
    def start_instance_refresh(ctx: RequestContext, p: Params) -> Result:
        started = refresh.start(asg, scope_of(ctx), p["AutoScalingGroupName"], p)
        return {"InstanceRefreshId": started.id}

    def cancel_instance_refresh(ctx: RequestContext, p: Params) -> Result:
        return {"InstanceRefreshId": refresh.cancel(asg, scope_of(ctx),
                                                    p["AutoScalingGroupName"])}  # fmt: skip

    def describe_instance_refreshes(ctx: RequestContext, p: Params) -> Result:
        group = asg.group(scope_of(ctx), p["AutoScalingGroupName"])
        found = list(reversed(group.refreshes))  # newest first
        if p.get("InstanceRefreshIds"):
            wanted = set(p["InstanceRefreshIds"])
            found = [r for r in found if r.id in wanted]
        chunk, token = page_in_order(found, lambda r: r.id, p.get("NextToken"),
                                     max_records(p))  # fmt: skip
        out: Result = {"InstanceRefreshes": [refresh.to_wire(group, r) for r in chunk]}
        if token:
            out["NextToken"] = token
        return out

    return {
        "StartInstanceRefresh": start_instance_refresh,
        "CancelInstanceRefresh": cancel_instance_refresh,
        "DescribeInstanceRefreshes": describe_instance_refreshes,
    }
