"""DescribeAvailabilityZones, DescribeRegions, DescribeAccountAttributes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dockyard.api.context import RequestContext
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.ec2 import filters, regions
from dockyard.services.ec2.errors import InvalidParameterValue
from dockyard.services.ec2.network.model import State
from dockyard.services.ec2.regions import Zone

ZONE_FILTERS = (
    "zone-name",
    "zone-id",
    "region-name",
    "state",
    "zone-type",
    "group-name",
    "opt-in-status",
    "network-border-group",
)
REGION_FILTERS = ("region-name", "endpoint", "opt-in-status")
OPTED = "opt-in-not-required"

# Account limits as a new AWS account has them.
ATTRIBUTES: dict[str, list[str]] = {
    "supported-platforms": ["VPC"],
    "max-instances": ["20"],
    "max-elastic-ips": ["5"],
    "vpc-max-elastic-ips": ["5"],
    "vpc-max-security-groups-per-interface": ["5"],
}


def zone_fields(z: Zone) -> dict[str, list[str]]:
    return {
        "zone-name": [z.name],
        "zone-id": [z.zone_id],
        "region-name": [z.region],
        "state": [State.AVAILABLE],
        "zone-type": ["availability-zone"],
        "group-name": [z.region],
        "opt-in-status": [OPTED],
        "network-border-group": [z.region],
    }


def zone_to_wire(z: Zone) -> dict[str, Any]:
    return {
        "ZoneName": z.name,
        "ZoneId": z.zone_id,
        "RegionName": z.region,
        "State": State.AVAILABLE,
        "OptInStatus": OPTED,
        "Messages": [],
        "GroupName": z.region,
        "NetworkBorderGroup": z.region,
        "ZoneType": "availability-zone",
    }


def handlers(default_vpc: Callable[[RequestContext], str | None]) -> dict[str, Handler]:
    def describe_availability_zones(ctx: RequestContext, p: Params) -> Result:
        every = regions.zones(ctx.region)
        names = set(p.get("ZoneNames") or []) | set(p.get("ZoneIds") or [])
        unknown = sorted(n for n in names if regions.zone_named(ctx.region, n) is None)
        if unknown:
            raise InvalidParameterValue(
                f"The zone '{unknown[0]}' does not exist in region {ctx.region}"
            )
        if names:
            every = [z for z in every if z.name in names or z.zone_id in names]
        match = filters.compile_filters(p.get("Filters"), ZONE_FILTERS, tagged=False)
        return {"AvailabilityZones": [zone_to_wire(z) for z in every if match(zone_fields(z))]}

    def describe_regions(ctx: RequestContext, p: Params) -> Result:
        known = regions.regions()
        names = list(p.get("RegionNames") or [])
        unknown = [n for n in names if n not in known]
        if unknown:
            raise InvalidParameterValue(f"Invalid region: {', '.join(unknown)}")
        chosen = names or list(known)
        match = filters.compile_filters(p.get("Filters"), REGION_FILTERS, tagged=False)
        out = []
        for name in chosen:
            fields = {
                "region-name": [name],
                "endpoint": [regions.endpoint(name)],
                "opt-in-status": [OPTED],
            }
            if match(fields):
                out.append(
                    {"RegionName": name, "Endpoint": regions.endpoint(name), "OptInStatus": OPTED}
                )
        return {"Regions": out}

    def describe_account_attributes(ctx: RequestContext, p: Params) -> Result:
        vpc = default_vpc(ctx)
        attributes = {**ATTRIBUTES, "default-vpc": [vpc or "none"]}
        wanted = list(p.get("AttributeNames") or attributes)
        unknown = [n for n in wanted if n not in attributes]
        if unknown:
            raise InvalidParameterValue(
                f"Value ({unknown[0]}) for parameter attributeName is invalid."
            )
        return {
            "AccountAttributes": [
                {
                    "AttributeName": n,
                    "AttributeValues": [{"AttributeValue": v} for v in attributes[n]],
                }
                for n in wanted
            ]
        }

    return {
        "DescribeAvailabilityZones": describe_availability_zones,
        "DescribeRegions": describe_regions,
        "DescribeAccountAttributes": describe_account_attributes,
    }
