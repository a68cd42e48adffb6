"""VPCs and subnets, and the default VPC of each account and region (172.31.0.0/16, a /20
default subnet per zone, made the first time the scope is used)."""

from __future__ import annotations

import ipaddress
import logging

from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.ec2 import regions
from dockyard.services.ec2.errors import (
    DependencyViolation,
    InvalidParameterCombination,
    invalid,
    malformed,
    missing,
)
from dockyard.services.ec2.ids import new_id
from dockyard.services.ec2.network import cidrs
from dockyard.services.ec2.network.acls import default_acl
from dockyard.services.ec2.network.groups import default_group
from dockyard.services.ec2.network.model import (
    InternetGateway,
    NetworkAcl,
    Resource,
    Route,
    RouteTable,
    SecurityGroup,
    Subnet,
    Vpc,
)
from dockyard.services.ec2.network.routes import main_table
from dockyard.services.ec2.network.state import Records, editable

log = logging.getLogger(__name__)

DEFAULT_CIDR = "172.31.0.0/16"
DEFAULT_SUBNET_PREFIX = 20
MAX_SUBNETS = 200  # a VPC's, as EC2's default quota


def vpc_not_found(vpc_id: str) -> ServiceError:
    return ServiceError(f"The vpc ID '{vpc_id}' does not exist", code="InvalidVpcID.NotFound")


def subnet_not_found(subnet_id: str) -> ServiceError:
    return ServiceError(
        f"The subnet ID '{subnet_id}' does not exist", code="InvalidSubnetID.NotFound"
    )


class Vpcs:
    def __init__(self, records: Records) -> None:
        self.records = records

    # The default VPC.

    def ensure_defaults(self, scope: Scope) -> None:
        """Make the scope's default VPC once (committed like any record)."""
        if scope in self.records.seeded:
            return
        vpc = Vpc(
            new_id("vpc"),
            scope.account_id,
            scope.region,
            cidr=DEFAULT_CIDR,
            is_default=True,
            dns_hostnames=True,
        )
        blocks = ipaddress.IPv4Network(DEFAULT_CIDR).subnets(new_prefix=DEFAULT_SUBNET_PREFIX)
        subnets = [
            Subnet(
                new_id("subnet"),
                scope.account_id,
                scope.region,
                vpc_id=vpc.id,
                cidr=str(block),
                zone=zone.name,
                zone_id=zone.zone_id,
                default_for_az=True,
                map_public_ip=True,
            )
            for zone, block in zip(regions.zones(scope.region), blocks, strict=False)
        ]
        gateway = InternetGateway(new_id("igw"), scope.account_id, scope.region, vpc_id=vpc.id)
        table = main_table(scope, vpc)
        table.routes.append(Route("0.0.0.0/0", gateway.id))
        puts: list[Resource] = [
            vpc,
            *subnets,
            gateway,
            table,
            default_group(scope, vpc.id),
            default_acl(scope, vpc.id),
        ]
        self.records.commit(puts, seeded=scope)
        log.info("ec2: made the default VPC %s of %s/%s", vpc.id, scope.account_id, scope.region,
                 extra={"arn": vpc.arn})  # fmt: skip

    # VPCs.

    def get(self, scope: Scope, vpc_id: str | None) -> Vpc:
        if not vpc_id:
            raise missing("VpcId")
        if not vpc_id.startswith("vpc-"):
            raise malformed("InvalidVpcID.Malformed", "vpc", vpc_id)
        vpc = self.records.find(scope, vpc_id, Vpc)
        if vpc is None:
            raise vpc_not_found(vpc_id)
        return vpc

    def create_vpc(
        self, scope: Scope, cidr: str | None, tenancy: str | None, tags: dict[str, str]
    ) -> Vpc:
        if not cidr:
            raise missing("CidrBlock")
        net = cidrs.vpc_cidr(cidr)
        if tenancy not in (None, "default"):
            raise invalid("instanceTenancy", tenancy, "Dockyard serves default tenancy only.")
        vpc = Vpc(new_id("vpc"), scope.account_id, scope.region, dict(tags), cidr=str(net))
        self.records.commit(
            [vpc, main_table(scope, vpc), default_group(scope, vpc.id), default_acl(scope, vpc.id)]
        )
        log.info("ec2: created VPC %s (%s)", vpc.id, vpc.cidr, extra={"arn": vpc.arn})
        return vpc

    def delete_vpc(self, scope: Scope, vpc: Vpc) -> None:
        owned = [r for r in self.records.every(scope) if getattr(r, "vpc_id", None) == vpc.id]
        blocking = [
            r
            for r in owned
            if not (isinstance(r, SecurityGroup | NetworkAcl) and r.is_default)
            and not (isinstance(r, RouteTable) and r.main)
        ]
        if blocking:
            raise DependencyViolation(f"The vpc '{vpc.id}' has dependencies and cannot be deleted.")
        self.records.commit(deletes=[vpc, *owned])
        log.info("ec2: deleted VPC %s", vpc.id, extra={"arn": vpc.arn})

    def modify_vpc(
        self, scope: Scope, vpc: Vpc, dns_support: bool | None, dns_hostnames: bool | None
    ) -> Vpc:
        if (dns_support is None) == (dns_hostnames is None):
            raise InvalidParameterCombination(
                "Fields for multiple attribute types specified: enableDnsSupport, "
                "enableDnsHostnames (exactly one attribute a request)"
            )
        changed = editable(vpc)
        if dns_support is not None:
            changed.dns_support = dns_support
        if dns_hostnames is not None:
            changed.dns_hostnames = dns_hostnames
        if dns_hostnames and not vpc.dns_support:
            raise ServiceError(
                "Enabling DNS hostnames requires DNS support (enableDnsSupport).",
                code="InvalidParameterValue",
            )
        self.records.commit([changed])
        return changed

    # Subnets.

    def subnet(self, scope: Scope, subnet_id: str | None) -> Subnet:
        if not subnet_id:
            raise missing("SubnetId")
        if not subnet_id.startswith("subnet-"):
            raise malformed("InvalidSubnetID.Malformed", "subnet", subnet_id)
        subnet = self.records.find(scope, subnet_id, Subnet)
        if subnet is None:
            raise subnet_not_found(subnet_id)
        return subnet

    def subnets_of(self, scope: Scope, vpc_id: str) -> list[Subnet]:
        return [s for s in self.records.all(scope, Subnet) if s.vpc_id == vpc_id]

    def create_subnet(
        self,
        scope: Scope,
        vpc_id: str | None,
        cidr: str | None,
        zone: str | None,
        zone_id: str | None,
        tags: dict[str, str],
    ) -> Subnet:
        vpc = self.get(scope, vpc_id)
        if not cidr:
            raise missing("CidrBlock")
        siblings = self.subnets_of(scope, vpc.id)
        if len(siblings) >= MAX_SUBNETS:
            raise ServiceError(
                f"The maximum number of subnets ({MAX_SUBNETS}) of VPC {vpc.id} has been reached.",
                code="SubnetLimitExceeded",
            )
        net = cidrs.subnet_cidr(cidr, vpc.cidr, [s.cidr for s in siblings])
        if zone and zone_id:
            raise InvalidParameterCombination(
                "Only one of AvailabilityZone or AvailabilityZoneId may be given."
            )
        wanted = zone or zone_id
        if wanted:
            where = regions.zone_named(scope.region, wanted)
            if where is None:
                raise invalid(
                    "availabilityZone" if zone else "availabilityZoneId",
                    wanted,
                    f"Subnets can currently only be created in the following availability "
                    f"zones: {', '.join(z.name for z in regions.zones(scope.region))}.",
                )
        else:  # EC2 picks one: the zone with the fewest subnets of this VPC
            counts = {z.name: 0 for z in regions.zones(scope.region)}
            for s in self.subnets_of(scope, vpc.id):
                counts[s.zone] = counts.get(s.zone, 0) + 1
            name = min(counts, key=lambda n: (counts[n], n))
            where = regions.zone_named(scope.region, name)
            assert where is not None
        subnet = Subnet(
            new_id("subnet"),
            scope.account_id,
            scope.region,
            dict(tags),
            vpc_id=vpc.id,
            cidr=str(net),
            zone=where.name,
            zone_id=where.zone_id,
        )
        self.records.commit([subnet])
        log.info("ec2: created subnet %s (%s) in %s", subnet.id, subnet.cidr, vpc.id,
                 extra={"arn": subnet.arn})  # fmt: skip
        return subnet

    def delete_subnet(self, scope: Scope, subnet: Subnet) -> None:
        if subnet.used:
            raise DependencyViolation(
                f"The subnet '{subnet.id}' has dependencies and cannot be deleted."
            )
        tables = [
            t
            for t in self.records.all(scope, RouteTable)
            if any(a.subnet_id == subnet.id for a in t.associations)
        ]
        changed = []
        for table in tables:
            copy = editable(table)
            copy.associations = [a for a in copy.associations if a.subnet_id != subnet.id]
            changed.append(copy)
        self.records.commit(changed, deletes=[subnet])

    def modify_subnet(self, scope: Scope, subnet: Subnet, map_public_ip: bool | None) -> Subnet:
        if map_public_ip is None:
            raise missing("MapPublicIpOnLaunch")
        changed = editable(subnet)
        changed.map_public_ip = map_public_ip
        self.records.commit([changed])
        return changed

    def allocate_address(self, scope: Scope, subnet: Subnet, wanted: str | None = None) -> str:
        """An address of the subnet for a network interface (committed): the one asked for,
        or the lowest free one."""
        if wanted is not None:
            if not cidrs.usable(subnet.cidr, wanted):
                raise invalid(
                    "privateIpAddress",
                    wanted,
                    f"Address is not in subnet {subnet.id} ({subnet.cidr}) or is reserved.",
                )
            if wanted in subnet.used:
                raise ServiceError(f"Address {wanted} is in use.", code="InvalidIPAddress.InUse")
            address = wanted
        else:
            found = cidrs.free_address(subnet.cidr, subnet.used)
            if found is None:
                raise ServiceError(
                    f"There are not enough free addresses in subnet '{subnet.id}' to satisfy "
                    "the requested number of instances.",
                    code="InsufficientFreeAddressesInSubnet",
                )
            address = found
        changed = editable(subnet)
        changed.used.append(address)
        self.records.commit([changed])
        return address

    def release_address(self, scope: Scope, subnet: Subnet, address: str) -> None:
        if address not in subnet.used:
            return
        changed = editable(subnet)
        changed.used.remove(address)
        self.records.commit([changed])
