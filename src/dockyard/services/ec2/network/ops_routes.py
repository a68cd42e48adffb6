"""Route table and internet gateway operations: request in, domain call, output out."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.scope import Scope
from dockyard.services.ec2 import tags
from dockyard.services.ec2.describe import described, missing_ids
from dockyard.services.ec2.errors import InvalidParameterValue
from dockyard.services.ec2.filters import tag_fields, text, with_token
from dockyard.services.ec2.network.model import (
    AssociationState,
    InternetGateway,
    RouteTable,
    State,
)
from dockyard.services.ec2.network.routes import Routes
from dockyard.services.ec2.network.vpcs import Vpcs

# Route targets other than an internet gateway (not served yet).
OTHER_TARGETS = (
    "NatGatewayId", "InstanceId", "NetworkInterfaceId", "VpcPeeringConnectionId",
    "TransitGatewayId", "LocalGatewayId", "CarrierGatewayId", "EgressOnlyInternetGatewayId",
    "VpcEndpointId", "CoreNetworkArn", "DestinationIpv6CidrBlock", "DestinationPrefixListId",
    "OdbNetworkArn",
)  # fmt: skip

TABLE_FILTERS = (
    "route-table-id", "vpc-id", "owner-id", "association.main", "association.subnet-id",
    "association.route-table-association-id", "association.route-table-id",
    "route.destination-cidr-block", "route.gateway-id", "route.origin", "route.state",
)  # fmt: skip
GATEWAY_FILTERS = ("internet-gateway-id", "attachment.vpc-id", "attachment.state", "owner-id")


def handlers(routes: Routes, vpcs: Vpcs) -> dict[str, Handler]:
    records = routes.records

    def table_to_wire(scope: Scope, t: RouteTable) -> dict[str, Any]:
        shown_routes = []
        for r in t.routes:
            shown_routes.append({
                "DestinationCidrBlock": r.destination, "GatewayId": r.gateway_id,
                "Origin": r.origin, "State": routes.route_state(scope, t, r),
            })  # fmt: skip
        associations = []
        for a in t.associations:
            entry: dict[str, Any] = {
                "Main": a.subnet_id is None, "RouteTableAssociationId": a.id,
                "RouteTableId": t.id, "AssociationState": {"State": AssociationState.ASSOCIATED},
            }  # fmt: skip
            if a.subnet_id:
                entry["SubnetId"] = a.subnet_id
            associations.append(entry)
        return {
            "RouteTableId": t.id, "VpcId": t.vpc_id, "OwnerId": t.account_id,
            "Routes": shown_routes, "Associations": associations, "PropagatingVgws": [],
            "Tags": tags.to_wire(t.tags),
        }  # fmt: skip

    def table_fields(scope: Scope, t: RouteTable) -> dict[str, list[str]]:
        return {
            "route-table-id": [t.id], "vpc-id": [t.vpc_id], "owner-id": [t.account_id],
            "association.main": [text(True)] if t.main else [],
            "association.subnet-id": [a.subnet_id for a in t.associations if a.subnet_id],
            "association.route-table-association-id": [a.id for a in t.associations],
            "association.route-table-id": [t.id] if t.associations else [],
            "route.destination-cidr-block": [r.destination for r in t.routes],
            "route.gateway-id": [r.gateway_id for r in t.routes if r.gateway_id],
            "route.origin": [r.origin for r in t.routes],
            "route.state": [routes.route_state(scope, t, r) for r in t.routes],
            **tag_fields(t.tags),
        }  # fmt: skip

    def gateway_to_wire(g: InternetGateway) -> dict[str, Any]:
        attached = [{"State": State.AVAILABLE, "VpcId": g.vpc_id}] if g.vpc_id else []
        return {
            "InternetGatewayId": g.id, "OwnerId": g.account_id, "Attachments": attached,
            "Tags": tags.to_wire(g.tags),
        }  # fmt: skip

    def gateway_fields(g: InternetGateway) -> dict[str, list[str]]:
        return {
            "internet-gateway-id": [g.id], "owner-id": [g.account_id],
            "attachment.vpc-id": [g.vpc_id] if g.vpc_id else [],
            "attachment.state": [State.AVAILABLE] if g.vpc_id else [],
            **tag_fields(g.tags),
        }  # fmt: skip

    def create_route_table(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        vpc = vpcs.get(scope, p.get("VpcId"))
        table = routes.create_table(
            scope, vpc, tags.specified(p.get("TagSpecifications"), "route-table")
        )
        return {"RouteTable": table_to_wire(scope, table)}

    def describe_route_tables(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        chunk, token = described(
            records.all(scope, RouteTable), lambda t: t.id, p.get("RouteTableIds"),
            missing_ids("InvalidRouteTableID.NotFound", "routeTable"),
            lambda t: table_fields(scope, t), TABLE_FILTERS, p,
        )  # fmt: skip
        return with_token({"RouteTables": [table_to_wire(scope, t) for t in chunk]}, token)

    def delete_route_table(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        routes.delete_table(scope, routes.table(scope, p.get("RouteTableId")))
        return {}

    def create_route(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        others = [k for k in OTHER_TARGETS if p.get(k)]
        if others:
            raise InvalidParameterValue(
                f"Dockyard serves routes to internet gateways only (GatewayId), not "
                f"{', '.join(others)}."
            )
        table = routes.table(scope, p.get("RouteTableId"))
        routes.create_route(scope, table, p.get("DestinationCidrBlock"), p.get("GatewayId"))
        return {"Return": True}

    def delete_route(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        if p.get("DestinationIpv6CidrBlock") or p.get("DestinationPrefixListId"):
            raise InvalidParameterValue("Dockyard serves IPv4 routes only (DestinationCidrBlock).")
        table = routes.table(scope, p.get("RouteTableId"))
        routes.delete_route(scope, table, p.get("DestinationCidrBlock"))
        return {}

    def associate_route_table(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        if p.get("GatewayId"):
            raise InvalidParameterValue(
                "Dockyard serves route table associations with subnets only (GatewayId)."
            )
        table = routes.table(scope, p.get("RouteTableId"))
        association = routes.associate(scope, table, vpcs.subnet(scope, p.get("SubnetId")))
        return {
            "AssociationId": association.id,
            "AssociationState": {"State": AssociationState.ASSOCIATED},
        }

    def disassociate_route_table(ctx: RequestContext, p: Params) -> Result:
        routes.disassociate(scope_of(ctx), p.get("AssociationId"))
        return {}

    def replace_route_table_association(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        table = routes.table(scope, p.get("RouteTableId"))
        new = routes.replace_association(scope, p.get("AssociationId"), table)
        return {"NewAssociationId": new, "AssociationState": {"State": AssociationState.ASSOCIATED}}

    def create_internet_gateway(ctx: RequestContext, p: Params) -> Result:
        gateway = routes.create_gateway(
            scope_of(ctx), tags.specified(p.get("TagSpecifications"), "internet-gateway")
        )
        return {"InternetGateway": gateway_to_wire(gateway)}

    def describe_internet_gateways(ctx: RequestContext, p: Params) -> Result:
        chunk, token = described(
            records.all(scope_of(ctx), InternetGateway), lambda g: g.id,
            p.get("InternetGatewayIds"),
            missing_ids("InvalidInternetGatewayID.NotFound", "internetGateway"),
            gateway_fields, GATEWAY_FILTERS, p,
        )  # fmt: skip
        return with_token({"InternetGateways": [gateway_to_wire(g) for g in chunk]}, token)

    def attach_internet_gateway(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        gateway = routes.gateway(scope, p.get("InternetGatewayId"))
        routes.attach(scope, gateway, vpcs.get(scope, p.get("VpcId")))
        return {}

    def detach_internet_gateway(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        gateway = routes.gateway(scope, p.get("InternetGatewayId"))
        routes.detach(scope, gateway, vpcs.get(scope, p.get("VpcId")))
        return {}

    def delete_internet_gateway(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        routes.delete_gateway(scope, routes.gateway(scope, p.get("InternetGatewayId")))
        return {}

    return {
        "CreateRouteTable": create_route_table,
        "DescribeRouteTables": describe_route_tables,
        "DeleteRouteTable": delete_route_table,
        "CreateRoute": create_route,
        "DeleteRoute": delete_route,
        "AssociateRouteTable": associate_route_table,
        "DisassociateRouteTable": disassociate_route_table,
        "ReplaceRouteTableAssociation": replace_route_table_association,
        "CreateInternetGateway": create_internet_gateway,
        "DescribeInternetGateways": describe_internet_gateways,
        "AttachInternetGateway": attach_internet_gateway,
        "DetachInternetGateway": detach_internet_gateway,
        "DeleteInternetGateway": delete_internet_gateway,
    }
