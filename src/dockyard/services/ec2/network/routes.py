"""Route tables: the main table of each VPC with its local route."""

from __future__ import annotations

from dockyard.core.scope import Scope
from dockyard.services.ec2.ids import new_id
from dockyard.services.ec2.network.model import Association, Route, RouteTable, Vpc


def main_table(scope: Scope, vpc: Vpc) -> RouteTable:
    return RouteTable(
        new_id("rtb"),
        scope.account_id,
        scope.region,
        vpc_id=vpc.id,
        main=True,
        routes=[Route(vpc.cidr, "local", "CreateRouteTable")],
        associations=[Association(new_id("rtbassoc"))],
    )
