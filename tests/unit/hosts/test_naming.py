from __future__ import annotations

import pytest

from dockyard.hosts import naming


def test_interface_names_fit_the_kernel_limit_and_differ() -> None:
    for name in (
        naming.bridge_name("vpc-0123456789abcdef0"),
        naming.veth_name("i-0123456789abcdef0"),
    ):
        assert len(name) <= 15
    assert naming.bridge_name("vpc-1") != naming.bridge_name("vpc-2")
    assert naming.bridge_name("vpc-1") == naming.bridge_name("vpc-1")
    assert naming.bridge_name("vpc-1").startswith("dyvpc-")
    assert naming.netns_name("i-0abc") == "dyhost-i-0abc"


def test_chain_names_are_ours_and_fit_iptables() -> None:
    chain = naming.chain_name("i-0123456789abcdef0")
    assert chain.startswith("DYHOST-") and len(chain) <= 28


@pytest.mark.parametrize(
    ("subnet", "router"),
    [("10.0.1.0/24", "10.0.1.1"), ("172.31.16.0/20", "172.31.16.1"), ("10.0.1.7/24", "10.0.1.1")],
)
def test_the_router_is_the_subnets_first_address(subnet: str, router: str) -> None:
    assert naming.router_address(subnet) == router


@pytest.mark.parametrize("ip", ["10.0.1.0", "10.0.1.255", "10.0.1.1", "10.0.2.5"])
def test_addresses_a_host_cannot_have(ip: str) -> None:
    with pytest.raises(ValueError, match=ip):
        naming.check_address("10.0.1.0/24", ip)


def test_a_host_address() -> None:
    naming.check_address("10.0.1.0/24", "10.0.1.5")


def test_macs() -> None:
    assert naming.check_mac("02:AB:cd:00:00:01") == "02:ab:cd:00:00:01"
    for bad in ("02:ab:cd:00:00", "zz:ab:cd:00:00:01", "01:00:5e:00:00:01"):
        with pytest.raises(ValueError):
            naming.check_mac(bad)


@pytest.mark.parametrize(
    ("data", "argv"),
    [
        (b"#!/bin/bash -e\necho hi\n", ["/bin/bash", "-e", "/s"]),
        (b"#!/usr/bin/env python3\nprint(1)\n", ["/usr/bin/env", "python3", "/s"]),
        (b"#! /bin/sh\n", ["/bin/sh", "/s"]),
        (b"echo hi\n", ["/bin/sh", "/s"]),
        (b"", ["/bin/sh", "/s"]),
        (b"#!\n", ["/bin/sh", "/s"]),
    ],
)
def test_user_data_runs_with_its_interpreter(data: bytes, argv: list[str]) -> None:
    assert naming.script_argv(data, "/s") == argv


def test_the_agent_command() -> None:
    argv = naming.agent_argv("/py", "http://169.254.169.254:4566", "web", "/d/i-1/agent")
    assert argv == [
        "/py", "-m", "dockyard", "agent", "--server", "http://169.254.169.254:4566",
        "--cluster", "web", "--runtime", "process", "--data-dir", "/d/i-1/agent",
    ]  # fmt: skip
    # a server whose time runs faster has agents whose heartbeats keep up
    scaled = naming.agent_argv("/py", "http://x:1", "web", "/d", time_scale=10.0)
    assert scaled[-2:] == ["--time-scale", "10.0"]


def test_the_launch_enters_the_cgroup_then_the_namespaces_and_execs_the_program() -> None:
    argv = naming.launch_argv(
        ["/bin/sh", "/s"], netns="/var/run/netns/dyhost-i-1", hostname="ip-10-0-1-5",
        procs_file="/cg/cgroup.procs",
    )  # fmt: skip
    assert argv[:5] == ["/bin/sh", "-c", argv[2], "dyhost", "/cg/cgroup.procs"]
    assert "exec" in argv[2]
    rest = argv[5:]
    assert rest[:3] == ["nsenter", "--net=/var/run/netns/dyhost-i-1", "--"]
    assert rest[3:6] == ["unshare", "--uts", "--"]
    assert rest[-3:] == ["ip-10-0-1-5", "/bin/sh", "/s"]
    without = naming.launch_argv(["x"], netns="/n", hostname="h", procs_file=None)
    assert without[0] == "nsenter" and without[-1] == "x"


def test_overlaps() -> None:
    assert naming.overlaps("10.0.0.0/16", "10.0.128.0/17")
    assert not naming.overlaps("10.0.0.0/16", "10.1.0.0/16")
