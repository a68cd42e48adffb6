"""Subnet address rules: allocation never hands out a reserved or used address, and a subnet
holds exactly its size minus five."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from dockyard.services.ec2.network import cidrs
from dockyard.services.ec2.regions import zone_prefix


@given(prefix=st.integers(min_value=24, max_value=28), taken=st.sets(st.integers(0, 255)))
def test_free_address_is_usable_and_unused(prefix: int, taken: set[int]) -> None:
    cidr = f"10.1.2.0/{prefix}"
    net = ipaddress.IPv4Network(cidr)
    used = [str(net.network_address + n) for n in taken if n < net.num_addresses]
    found = cidrs.free_address(cidr, used)
    free = [a for a in net if cidrs.usable(cidr, str(a)) and str(a) not in used]
    if found is None:
        assert free == []
    else:
        assert cidrs.usable(cidr, found) and found not in used and found == str(free[0])


def test_a_subnet_holds_its_size_less_five() -> None:
    cidr = "10.0.0.0/27"
    used: list[str] = []
    while (address := cidrs.free_address(cidr, used)) is not None:
        used.append(address)
    assert len(used) == cidrs.capacity(cidr) == 27
    assert "10.0.0.0" not in used and "10.0.0.3" not in used and "10.0.0.31" not in used


def test_zone_id_prefixes() -> None:
    assert [
        zone_prefix(r) for r in ("us-east-1", "eu-west-2", "ap-southeast-1", "ca-central-1")
    ] == [
        "use1",
        "euw2",
        "apse1",
        "cac1",
    ]
