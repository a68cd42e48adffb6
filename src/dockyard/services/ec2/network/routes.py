"""Route tables and internet gateways: the main table of each VPC with its local route,
routes to attached internet gateways, subnet associations (a subnet has one table at a
time; the others use the main one), and gateways attached to one VPC each."""

from __future__ import annotations

import ipaddress
import logging

from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.ec2.errors import (
    DependencyViolation,
    InvalidParameterValue,
    invalid,
    malformed,
    missing,
)
from dockyard.services.ec2.ids import new_id
from dockyard.services.ec2.network.model import (
    Association,
    InternetGateway,
    Route,
    RouteOrigin,
    RouteState,
    RouteTable,
    Subnet,
    Vpc,
)
from dockyard.services.ec2.network.state import Records, editable

log = logging.getLogger(__name__)

# EC2's default quotas: route tables a VPC, routes a table.
MAX_TABLES = 200
MAX_ROUTES = 500


def main_table(scope: Scope, vpc: Vpc) -> RouteTable:
    return RouteTable(
        new_id("rtb"), scope.account_id, scope.region, vpc_id=vpc.id, main=True,
        routes=[Route(vpc.cidr, "local", RouteOrigin.CREATE_ROUTE_TABLE)],
        associations=[Association(new_id("rtbassoc"))],
    )  # fmt: skip


def different_networks(table: RouteTable, other: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"route table {table.id} and network {other} belong to different networks"
    )


class Routes:
    def __init__(self, records: Records) -> None:
        self.records = records

    # Route tables.

    def table(self, scope: Scope, table_id: str | None) -> RouteTable:
        if not table_id:
            raise missing("RouteTableId")
        if not table_id.startswith("rtb-"):
            raise malformed("InvalidRouteTableID.Malformed", "rtb", table_id)
        table = self.records.find(scope, table_id, RouteTable)
        if table is None:
            raise ServiceError(
                f"The routeTable ID '{table_id}' does not exist",
                code="InvalidRouteTableID.NotFound",
            )
        return table

    def create_table(self, scope: Scope, vpc: Vpc, tags: dict[str, str]) -> RouteTable:
        if sum(t.vpc_id == vpc.id for t in self.records.all(scope, RouteTable)) >= MAX_TABLES:
            raise ServiceError(
                f"The maximum number of route tables ({MAX_TABLES}) of VPC {vpc.id} has been "
                "reached.",
                code="RouteTableLimitExceeded",
            )
        table = RouteTable(
            new_id("rtb"), scope.account_id, scope.region, dict(tags), vpc_id=vpc.id,
            routes=[Route(vpc.cidr, "local", RouteOrigin.CREATE_ROUTE_TABLE)],
        )  # fmt: skip
        self.records.commit([table])
        return table

    def delete_table(self, scope: Scope, table: RouteTable) -> None:
        if table.main or table.associations:
            raise DependencyViolation(
                f"The routeTable '{table.id}' has dependencies and cannot be deleted."
            )
        self.records.commit(deletes=[table])

    def create_route(
        self, scope: Scope, table: RouteTable, destination: str | None, gateway_id: str | None
    ) -> None:
        if not destination:
            raise missing("DestinationCidrBlock")
        try:
            net = ipaddress.IPv4Network(destination, strict=True)
        except ValueError as exc:
            raise invalid("destinationCidrBlock", destination, "Not a valid CIDR.") from exc
        if not gateway_id:
            raise missing("GatewayId")
        gateway = self.gateway(scope, gateway_id)
        if gateway.vpc_id != table.vpc_id:
            raise different_networks(table, gateway.id)
        if any(r.destination == str(net) for r in table.routes):
            raise ServiceError(
                f"The route identified by {net} already exists.", code="RouteAlreadyExists"
            )
        if len(table.routes) >= MAX_ROUTES:
            raise ServiceError(
                f"The maximum number of routes ({MAX_ROUTES}) of route table {table.id} has "
                "been reached.",
                code="RouteLimitExceeded",
            )
        changed = editable(table)
        changed.routes.append(Route(str(net), gateway.id))
        self.records.commit([changed])

    def delete_route(self, scope: Scope, table: RouteTable, destination: str | None) -> None:
        if not destination:
            raise missing("DestinationCidrBlock")
        route = next((r for r in table.routes if r.destination == destination), None)
        if route is None:
            raise ServiceError(
                f"There is no route defined for '{destination}' in the route table. Use a "
                "different route table or destination CIDR.",
                code="InvalidRoute.NotFound",
            )
        if route.gateway_id == "local":
            raise InvalidParameterValue(
                f"cannot remove local route {destination} in route table {table.id}"
            )
        changed = editable(table)
        changed.routes = [r for r in changed.routes if r.destination != destination]
        self.records.commit([changed])

    def table_of_subnet(self, scope: Scope, subnet_id: str) -> RouteTable | None:
        for table in self.records.all(scope, RouteTable):
            if any(a.subnet_id == subnet_id for a in table.associations):
                return table
        return None

    def associate(self, scope: Scope, table: RouteTable, subnet: Subnet) -> Association:
        if subnet.vpc_id != table.vpc_id:
            raise different_networks(table, subnet.id)
        current = self.table_of_subnet(scope, subnet.id)
        if current is not None:
            raise ServiceError(
                f"the specified association for route table {table.id} conflicts with an "
                f"existing association ({subnet.id} is associated with {current.id})",
                code="Resource.AlreadyAssociated",
            )
        association = Association(new_id("rtbassoc"), subnet_id=subnet.id)
        changed = editable(table)
        changed.associations.append(association)
        self.records.commit([changed])
        return association

    def association(self, scope: Scope, association_id: str | None) -> RouteTable:
        if not association_id:
            raise missing("AssociationId")
        for table in self.records.all(scope, RouteTable):
            if any(a.id == association_id for a in table.associations):
                return table
        raise ServiceError(
            f"The association ID '{association_id}' does not exist",
            code="InvalidAssociationID.NotFound",
        )

    def disassociate(self, scope: Scope, association_id: str | None) -> None:
        table = self.association(scope, association_id)
        found = next(a for a in table.associations if a.id == association_id)
        if found.subnet_id is None:
            raise InvalidParameterValue(
                f"cannot disassociate the main route table association {association_id}"
            )
        changed = editable(table)
        changed.associations = [a for a in changed.associations if a.id != association_id]
        self.records.commit([changed])

    def replace_association(
        self, scope: Scope, association_id: str | None, table: RouteTable
    ) -> str:
        """Move an association (a subnet's, or the VPC's main one) to `table`; a new id."""
        old = self.association(scope, association_id)
        found = next(a for a in old.associations if a.id == association_id)
        if old.vpc_id != table.vpc_id:
            raise different_networks(table, old.id)
        moved = Association(new_id("rtbassoc"), subnet_id=found.subnet_id)
        if old.id == table.id:
            changed = editable(table)
            changed.associations = [
                moved if a.id == association_id else a for a in changed.associations
            ]
            self.records.commit([changed])
            return moved.id
        source, target = editable(old), editable(table)
        source.associations = [a for a in source.associations if a.id != association_id]
        target.associations.append(moved)
        if found.subnet_id is None:  # the main association: the main table changes
            source.main, target.main = False, True
        self.records.commit([source, target])
        return moved.id

    # Internet gateways.

    def gateway(self, scope: Scope, gateway_id: str | None) -> InternetGateway:
        if not gateway_id:
            raise missing("InternetGatewayId")
        if not gateway_id.startswith("igw-"):
            raise malformed("InvalidInternetGatewayID.Malformed", "igw", gateway_id)
        gateway = self.records.find(scope, gateway_id, InternetGateway)
        if gateway is None:
            raise ServiceError(
                f"The internetGateway ID '{gateway_id}' does not exist",
                code="InvalidInternetGatewayID.NotFound",
            )
        return gateway

    def create_gateway(self, scope: Scope, tags: dict[str, str]) -> InternetGateway:
        gateway = InternetGateway(new_id("igw"), scope.account_id, scope.region, dict(tags))
        self.records.commit([gateway])
        return gateway

    def attach(self, scope: Scope, gateway: InternetGateway, vpc: Vpc) -> None:
        if gateway.vpc_id is not None:
            raise ServiceError(
                f"resource {gateway.id} is already attached to network {gateway.vpc_id}",
                code="Resource.AlreadyAssociated",
            )
        for other in self.records.all(scope, InternetGateway):
            if other.vpc_id == vpc.id:
                raise ServiceError(
                    f"Network {vpc.id} already has an internet gateway attached ({other.id})",
                    code="Resource.AlreadyAssociated",
                )
        changed = editable(gateway)
        changed.vpc_id = vpc.id
        self.records.commit([changed])

    def detach(self, scope: Scope, gateway: InternetGateway, vpc: Vpc) -> None:
        if gateway.vpc_id != vpc.id:
            raise ServiceError(
                f"resource {gateway.id} is not attached to network {vpc.id}",
                code="Gateway.NotAttached",
            )
        changed = editable(gateway)
        changed.vpc_id = None
        self.records.commit([changed])
        log.info("ec2: detached %s from %s", gateway.id, vpc.id, extra={"arn": gateway.arn})

    def delete_gateway(self, scope: Scope, gateway: InternetGateway) -> None:
        if gateway.vpc_id is not None:
            raise DependencyViolation(
                f"The internetGateway '{gateway.id}' has dependencies and cannot be deleted."
            )
        self.records.commit(deletes=[gateway])

    def route_state(self, scope: Scope, table: RouteTable, route: Route) -> RouteState:
        """`active`, or `blackhole` once its gateway is detached or gone."""
        if route.gateway_id in (None, "local"):
            return RouteState.ACTIVE
        gateway = self.records.find(scope, route.gateway_id or "", InternetGateway)
        attached = gateway is not None and gateway.vpc_id == table.vpc_id
        return RouteState.ACTIVE if attached else RouteState.BLACKHOLE
