"""IPv4 CIDR rules of VPCs and subnets: /16 to /28, subnets inside their VPC and apart from
each other, five addresses of each subnet reserved (the first four and the last)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from dockyard.core.errors import ServiceError
from dockyard.services.ec2.errors import invalid
from dockyard.services.ec2.network.model import RESERVED

SMALLEST, LARGEST = 28, 16


def parse(value: str | None, parameter: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(str(value), strict=True)
    except ValueError as exc:
        raise invalid(parameter, value, "This is not a valid CIDR block.") from exc


def vpc_cidr(value: str) -> ipaddress.IPv4Network:
    net = parse(value, "cidrBlock")
    if not LARGEST <= net.prefixlen <= SMALLEST:
        raise ServiceError(f"The CIDR '{value}' is invalid.", code="InvalidVpc.Range")
    return net


def subnet_cidr(value: str, vpc: str, others: Iterable[str]) -> ipaddress.IPv4Network:
    net = parse(value, "cidrBlock")
    if not LARGEST <= net.prefixlen <= SMALLEST or not net.subnet_of(ipaddress.IPv4Network(vpc)):
        raise ServiceError(f"The CIDR '{value}' is invalid.", code="InvalidSubnet.Range")
    for other in others:
        if net.overlaps(ipaddress.IPv4Network(other)):
            raise ServiceError(
                f"The CIDR '{value}' conflicts with another subnet", code="InvalidSubnet.Conflict"
            )
    return net


def capacity(cidr: str) -> int:
    return int(ipaddress.IPv4Network(cidr).num_addresses) - RESERVED


def free_address(cidr: str, used: Iterable[str]) -> str | None:
    """The lowest address of the subnet that is neither reserved nor used."""
    net = ipaddress.IPv4Network(cidr)
    taken = set(used)
    first, last = int(net.network_address) + 4, int(net.broadcast_address) - 1
    for n in range(first, last + 1):
        address = str(ipaddress.IPv4Address(n))
        if address not in taken:
            return address
    return None


def usable(cidr: str, address: str) -> bool:
    net = ipaddress.IPv4Network(cidr)
    try:
        n = int(ipaddress.IPv4Address(address))
    except ValueError:
        return False
    return int(net.network_address) + 4 <= n <= int(net.broadcast_address) - 1
