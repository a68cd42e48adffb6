"""DescribeNetworkAcls: the default ACL of each VPC."""

from __future__ import annotations

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.ec2.describe import described, missing_ids
from dockyard.services.ec2.filters import with_token
from dockyard.services.ec2.network import acls
from dockyard.services.ec2.network.model import NetworkAcl, Subnet
from dockyard.services.ec2.network.state import Records


def handlers(records: Records) -> dict[str, Handler]:
    def describe_network_acls(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        subnets: dict[str, list[Subnet]] = {}
        for subnet in records.all(scope, Subnet):
            subnets.setdefault(subnet.vpc_id, []).append(subnet)
        chunk, token = described(
            records.all(scope, NetworkAcl), lambda a: a.id, p.get("NetworkAclIds"),
            missing_ids("InvalidNetworkAclID.NotFound", "network ACL"),
            lambda a: acls.fields(a, subnets.get(a.vpc_id, [])), acls.FILTERS, p,
        )  # fmt: skip
        shown = [acls.to_wire_acl(a, subnets.get(a.vpc_id, [])) for a in chunk]
        return with_token({"NetworkAcls": shown}, token)

    return {"DescribeNetworkAcls": describe_network_acls}
