"""Micro-hosts for real on this machine (root): namespaces on a VPC bridge, boot programs,
security groups, halt/boot/destroy, and an ECS agent host joining a real server."""

from __future__ import annotations

import asyncio
import dataclasses
import http.server
import ipaddress
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from dockyard.core.hosts import BootKind, HostAddress, HostError, HostSpec, IngressRule
from dockyard.hosts import LocalHosts, firewall, naming, procs
from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("nsenter") is None or shutil.which("iptables") is None,
    reason="micro-hosts need root, nsenter and iptables (network namespaces, netfilter)",
)

T = TypeVar("T")
BUSYBOX = "/bin/busybox"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def free_vpc_cidr() -> ipaddress.IPv4Network:
    """A /16 that no route of this machine touches (another run may hold one)."""
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    taken = [
        ipaddress.IPv4Network(w, strict=False)
        for w in (line.split()[0] for line in routes.splitlines())
        if "/" in w
    ]
    for _ in range(100):
        cidr = ipaddress.IPv4Network(f"10.{random.randint(100, 199)}.0.0/16")
        if not any(cidr.overlaps(t) for t in taken):
            return cidr
    raise AssertionError("no free /16 in 10.100-199 on this machine")


def spec(
    vpc: str, cidr: ipaddress.IPv4Network, last: int, script: str, *, kind: BootKind =
    BootKind.USER_DATA, cluster: str = "default", subnet: int = 1,
) -> HostSpec:  # fmt: skip
    octets = str(cidr.network_address).split(".")
    subnet_cidr = f"{octets[0]}.{octets[1]}.{subnet}.0/24"
    ip = f"{octets[0]}.{octets[1]}.{subnet}.{last}"
    iid = f"i-{uuid.uuid4().hex[:17]}"
    return HostSpec(
        instance_id=iid,
        image_id="ami-0123456789abcdef0",
        boot=kind,
        address=HostAddress(
            vpc, str(cidr), subnet_cidr, ip, f"02:00:00:00:{subnet:02x}:{last:02x}"
        ),
        hostname=f"ip-{ip.replace('.', '-')}.ec2.internal",
        user_data=script.encode(),
        cluster=cluster,
    )


def get(url: str, timeout: float = 2.0) -> str | None:
    """The body, or None when nothing answers (refused or dropped)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return str(resp.read().decode())
    except (urllib.error.URLError, OSError):
        return None


def get_from(hosts: LocalHosts, iid: str, url: str) -> str | None:
    """The body as a process of host `iid` sees it (busybox wget inside its namespace), or
    None when nothing answers within a few seconds (busybox's own -T crashes)."""
    try:
        done = subprocess.run(
            ["nsenter", f"--net={hosts.netns(iid)}", "--", BUSYBOX, "wget", "-q", "-O", "-", url],
            capture_output=True, text=True, timeout=3,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None
    return done.stdout if done.returncode == 0 else None


def web_script(root: Path, text: str) -> str:
    return (
        "#!/bin/sh\n"
        "ip addr\n"
        f"mkdir -p {root}\n"
        f"echo {text} > {root}/index.html\n"
        f"exec {BUSYBOX} httpd -f -p 8080 -h {root}\n"
    )


class Metadata(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"metadata:{self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def metadata_port() -> Iterator[int]:
    """A stand-in for the server's metadata service, on 169.254.169.254:<free port>."""
    run(LocalHosts(Path("/nonexistent"), agent_server_url="", metadata_port=None).prepare())
    server = http.server.ThreadingHTTPServer((naming.METADATA_ADDRESS, 0), Metadata)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_hosts(tmp_path: Path) -> Iterator[Any]:
    made: list[LocalHosts] = []

    def make(**kwargs: Any) -> LocalHosts:
        kwargs.setdefault("agent_server_url", "http://169.254.169.254:9")
        kwargs.setdefault("metadata_port", None)
        hosts = LocalHosts(tmp_path / "hosts", grace=3.0, **kwargs)
        made.append(hosts)
        return hosts

    yield make
    if made:
        for iid in made[0].hosts_now():
            console = made[0].console_output(iid).decode(errors="replace")
            print(f"--- console of {iid} ---\n{console[-4000:]}")  # shown when a test fails
            run(made[0].destroy(iid))


def processes_running(cmdline: str) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            except OSError:
                continue
            if args.endswith(cmdline):
                found.add(int(entry.name))
    return found


def links() -> str:
    return subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout


def netns_names() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def test_user_data_hosts_serve_behind_their_security_groups(
    make_hosts: Any, tmp_path: Path, metadata_port: int
) -> None:
    hosts: LocalHosts = make_hosts(metadata_port=metadata_port)
    cidr = free_vpc_cidr()
    vpc = f"vpc-{uuid.uuid4().hex[:17]}"
    a = spec(vpc, cidr, 10, web_script(tmp_path / "www-a", "hello-from-a"))
    url_a = f"http://{a.address.private_ip}:8080/"

    run(hosts.boot(a))
    assert hosts.running_now(a.instance_id)
    # No security group yet: nothing but replies gets in, so the server is not reachable.
    wait_for(lambda: b"inet " in hosts.console_output(a.instance_id), what="the script's ip addr")
    assert get(url_a, timeout=1) is None

    run(hosts.firewall(a.instance_id, [IngressRule("tcp", 8080, 8080, ("0.0.0.0/0",))]))
    assert wait_for(lambda: get(url_a), what="host a's web server") == "hello-from-a\n"
    console = hosts.console_output(a.instance_id).decode()
    assert f"inet {a.address.private_ip}/24" in console
    assert a.address.mac in console

    # 169.254.169.254:80 from a host reaches the metadata service's port.
    seen = get_from(hosts, a.instance_id, "http://169.254.169.254/latest/meta-data/instance-id")
    assert seen == "metadata:/latest/meta-data/instance-id"

    run(hosts.halt(a.instance_id))
    assert not hosts.running_now(a.instance_id)
    assert hosts.processes(a.instance_id) == set()
    assert get(url_a, timeout=1) is None

    run(hosts.boot(a))  # the network and the rules stayed: the same script serves again
    assert wait_for(lambda: get(url_a), what="host a after boot") == "hello-from-a\n"
    run(hosts.boot(a))  # a running host is left alone
    assert len(hosts.processes(a.instance_id)) == 1

    b = spec(vpc, cidr, 11, web_script(tmp_path / "www-b", "hello-from-b"))
    c = spec(vpc, cidr, 12, f"#!/bin/sh\nexec {BUSYBOX} sleep 3600\n")
    run(hosts.boot(b))
    run(hosts.boot(c))
    run(
        hosts.firewall(
            b.instance_id, [IngressRule("tcp", 8080, 8080, (f"{a.address.private_ip}/32",))]
        )
    )
    url_b = f"http://{b.address.private_ip}:8080/"
    assert wait_for(lambda: get_from(hosts, a.instance_id, url_b), what="b from a") == (
        "hello-from-b\n"
    )
    assert get_from(hosts, c.instance_id, url_b) is None  # c is not in b's rule
    assert get(url_b, timeout=1) is None  # nor is this machine (the router's address)
    assert get_from(hosts, c.instance_id, url_a) == "hello-from-a\n"  # a allows everyone

    again = make_hosts(metadata_port=metadata_port)  # a new server process, the same state
    assert sorted(again.hosts_now()) == sorted([a.instance_id, b.instance_id, c.instance_id])
    assert all(again.running_now(h.instance_id) for h in (a, b, c))
    run(again.halt(c.instance_id, force=True))
    assert not again.running_now(c.instance_id)

    bridge = naming.bridge_name(vpc)
    for host in (a, b, c):
        run(again.destroy(host.instance_id))
    assert again.hosts_now() == []
    names = netns_names()
    assert not any(naming.netns_name(h.instance_id) in names for h in (a, b, c))
    listed = links()
    assert bridge not in listed
    assert not any(naming.veth_name(h.instance_id) in listed for h in (a, b, c))
    nat = subprocess.run(["iptables", "-w", "-t", "nat", "-S"], capture_output=True, text=True)
    assert bridge not in nat.stdout
    assert not (tmp_path / "hosts" / a.instance_id).exists()


def test_hosts_boot_side_by_side_and_keep_reaching_their_router(make_hosts: Any) -> None:
    """Hosts booted together all run, and the router's MAC on the VPC's bridge stays the
    one the first host learned as more hosts join (else its ARP cache would go stale)."""
    hosts: LocalHosts = make_hosts()
    cidr = free_vpc_cidr()
    vpc = f"vpc-{uuid.uuid4().hex[:17]}"
    first = spec(vpc, cidr, 10, f"exec {BUSYBOX} sleep 3600\n")
    run(hosts.boot(first))
    bridge = Path("/sys/class/net") / naming.bridge_name(vpc)
    mac = (bridge / "address").read_text()
    more = [spec(vpc, cidr, 11 + n, f"exec {BUSYBOX} sleep 3600\n") for n in range(6)]

    async def boot_all() -> None:
        await asyncio.gather(*(hosts.boot(h) for h in more))

    run(boot_all())
    assert all(hosts.running_now(h.instance_id) for h in [first, *more])
    assert (bridge / "address").read_text() == mac
    router = naming.router_address(str(first.address.subnet_cidr))
    for host in (first, more[-1]):
        pinged = subprocess.run(
            ["ip", "netns", "exec", naming.netns_name(host.instance_id),
             BUSYBOX, "ping", "-c", "1", "-W", "2", router],
            capture_output=True, text=True,
        )  # fmt: skip
        assert pinged.returncode == 0, pinged.stdout + pinged.stderr
    for host in [first, *more]:
        run(hosts.destroy(host.instance_id))
    assert not bridge.exists()


def test_overlapping_vpcs_cannot_both_run_here(make_hosts: Any) -> None:
    hosts: LocalHosts = make_hosts()
    cidr = free_vpc_cidr()
    first = spec(f"vpc-{uuid.uuid4().hex[:17]}", cidr, 10, f"exec {BUSYBOX} sleep 3600\n")
    run(hosts.boot(first))
    inner = ipaddress.IPv4Network(f"{cidr.network_address}/17")
    second = spec(f"vpc-{uuid.uuid4().hex[:17]}", inner, 20, f"exec {BUSYBOX} sleep 3600\n")
    with pytest.raises(HostError) as raised:
        run(hosts.boot(second))
    message = str(raised.value)
    assert first.address.vpc_id in message and second.address.vpc_id in message
    assert not hosts.running_now(second.instance_id)

    run(hosts.halt(first.instance_id))  # a stopped VPC leaves the routes to the other
    run(hosts.boot(second))
    assert hosts.running_now(second.instance_id)
    with pytest.raises(HostError):
        run(hosts.boot(first))


def test_files_are_private(make_hosts: Any) -> None:
    hosts: LocalHosts = make_hosts()
    one = spec(f"vpc-{uuid.uuid4().hex[:17]}", free_vpc_cidr(), 10, "echo secret=$SECRET\n")
    one = dataclasses.replace(one, secret_env={"SECRET": "s3"})
    run(hosts.boot(one))
    folder = hosts.state_dir / one.instance_id
    wait_for(lambda: b"secret=s3" in hosts.console_output(one.instance_id), what="the script")
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / "user-data").stat().st_mode & 0o777 == 0o700
    for name in ("host.json", "console.log"):
        assert (folder / name).stat().st_mode & 0o777 == 0o600
    assert b"s3" not in (folder / "host.json").read_bytes()
    assert firewall.host_rules(hosts.netns(one.instance_id))[-1].endswith("-j DROP")


def test_an_ecs_agent_host_registers_in_its_cluster(make_hosts: Any, tmp_path: Path) -> None:
    auth = tmp_path / "auth"
    auth.write_text("test test\n")
    # Listening on every address (169.254.169.254 included, where hosts reach it), signed.
    server = DockyardProcess(
        tmp_path / "server", "--host", "0.0.0.0", "--auth-file", str(auth),
        "--no-local-agent", "--runtime", "process",
    ).start()  # fmt: skip
    try:
        ecs = make_client("ecs", server.endpoint)
        cluster = f"hosts-{uuid.uuid4().hex[:8]}"
        ecs.create_cluster(clusterName=cluster)
        token = subprocess.run(
            [sys.executable, "-m", "dockyard", "join-token", "--server", server.endpoint,
             "--cluster", cluster],
            capture_output=True, text=True, timeout=60, check=True,
            env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
        ).stdout.strip()  # fmt: skip
        hosts: LocalHosts = make_hosts(
            agent_server_url=f"http://{naming.METADATA_ADDRESS}:{server.port}"
        )
        one = dataclasses.replace(
            spec(f"vpc-{uuid.uuid4().hex[:17]}", free_vpc_cidr(), 10, "",
                 kind=BootKind.ECS_AGENT, cluster=cluster),
            secret_env={"DOCKYARD_JOIN_TOKEN": token},
        )  # fmt: skip
        started = time.monotonic()
        run(hosts.boot(one))
        arns = wait_for(
            lambda: ecs.list_container_instances(cluster=cluster)["containerInstanceArns"],
            timeout=120, what="the agent host's container instance", every=0.2,
        )  # fmt: skip
        registered = time.monotonic() - started
        described = ecs.describe_container_instances(cluster=cluster, containerInstances=arns)
        instance = described["containerInstances"][0]
        assert instance["agentConnected"] and instance["status"] == "ACTIVE"
        folder = hosts.state_dir / one.instance_id
        assert token not in (folder / "host.json").read_text()
        assert token not in " ".join(p.read_text() for p in folder.rglob("*") if p.is_file()
                                     and p.suffix in (".json", ".log", ""))  # fmt: skip
        time.sleep(5)  # idle
        pids = hosts.processes(one.instance_id)
        rss = procs.rss_bytes(pids)
        print(f"\nagent host: registered {registered:.2f} s after boot(); idle RSS "
              f"{rss / 2**20:.1f} MiB over {len(pids)} process(es)")  # fmt: skip

        # A task of the agent is one of the host's processes.
        marker = f"{3000 + random.randint(0, 999)}.{random.randint(100, 999)}"
        ecs.register_task_definition(
            family="microhost-sleeper", networkMode="host",
            containerDefinitions=[
                {"name": "main", "image": "busybox", "command": ["sleep", marker], "memory": 32}
            ],
        )  # fmt: skip
        task = ecs.run_task(cluster=cluster, taskDefinition="microhost-sleeper", launchType="EC2")
        task_arn = task["tasks"][0]["taskArn"]
        wait_for(
            lambda: ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"][0][
                "lastStatus"] == "RUNNING",
            timeout=120, what="the task on the agent host", every=0.2,
        )  # fmt: skip
        sleepers = wait_for(lambda: processes_running(f"sleep {marker}"), what="the task's process")
        assert sleepers <= hosts.processes(one.instance_id)

        run(hosts.halt(one.instance_id))
        assert hosts.processes(one.instance_id) == set()
        assert processes_running(f"sleep {marker}") == set()
        assert wait_for(
            lambda: not ecs.describe_container_instances(
                cluster=cluster, containerInstances=arns
            )["containerInstances"][0]["agentConnected"],
            timeout=120, what="the halted agent to show as disconnected", every=0.5,
        )  # fmt: skip
    finally:
        server.stop()


def test_a_host_outlives_the_process_that_booted_it(make_hosts: Any, tmp_path: Path) -> None:
    hosts: LocalHosts = make_hosts()
    one = spec(f"vpc-{uuid.uuid4().hex[:17]}", free_vpc_cidr(), 10, f"exec {BUSYBOX} sleep 3600\n")
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from dockyard.core.hosts import BootKind, HostAddress, HostSpec\n"
        "from dockyard.hosts import LocalHosts\n"
        f"spec = HostSpec({one.instance_id!r}, {one.image_id!r}, BootKind.USER_DATA, "
        f"HostAddress(*{dataclasses.astuple(one.address)!r}), {one.hostname!r}, "
        f"user_data={one.user_data!r})\n"
        f"hosts = LocalHosts(Path({str(hosts.state_dir)!r}), agent_server_url='', "
        "metadata_port=None)\n"
        "asyncio.run(hosts.boot(spec))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)  # it has exited
    assert hosts.hosts_now() == [one.instance_id]
    assert hosts.running_now(one.instance_id)
    run(hosts.halt(one.instance_id))
    assert not hosts.running_now(one.instance_id)


def test_halt_and_destroy_reach_every_process_and_namespace_of_the_host(make_hosts: Any) -> None:
    hosts: LocalHosts = make_hosts()
    mine = f"dytest-{uuid.uuid4().hex[:8]}"
    # What an agent does for its bridge and awsvpc tasks: a namespace of its own joined by a
    # veth, and processes in other sessions and network namespaces.
    script = (
        f"ip netns add {mine}\n"
        f"ip link add v0 type veth peer name v1 netns {mine}\n"
        f"setsid unshare --net {BUSYBOX} sleep 3601 &\n"
        f"exec {BUSYBOX} sleep 3600\n"
    )
    one = spec(f"vpc-{uuid.uuid4().hex[:17]}", free_vpc_cidr(), 10, script)
    run(hosts.boot(one))
    loner = wait_for(
        lambda: processes_running("sleep 3601"), what="the process in a netns of its own"
    )
    assert loner <= hosts.processes(one.instance_id)
    assert not any(procs.in_host(pid, one.instance_id) for pid in loner)
    wait_for(lambda: mine in netns_names(), what="the host's extra namespace")

    run(hosts.halt(one.instance_id))
    assert processes_running("sleep 3601") == set()
    assert hosts.processes(one.instance_id) == set()
    assert mine in netns_names()  # halting keeps the network
    run(hosts.destroy(one.instance_id))
    assert mine not in netns_names()
    assert naming.netns_name(one.instance_id) not in netns_names()


def test_a_subnet_that_this_machine_routes_elsewhere_is_refused(make_hosts: Any) -> None:
    hosts: LocalHosts = make_hosts()
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    taken = next(
        (line.split() for line in routes.splitlines()
         if "/" in line.split()[0] and "dev" in line and "dyvpc-" not in line),
        None,
    )  # fmt: skip
    if taken is None:
        pytest.skip("this machine has no route to collide with")
    network = ipaddress.IPv4Network(taken[0])
    cidr = ipaddress.IPv4Network(f"{network.network_address}/16", strict=False)
    one = spec(f"vpc-{uuid.uuid4().hex[:17]}", cidr, 10, f"exec {BUSYBOX} sleep 3600\n")
    subnet = ipaddress.IPv4Network(one.address.subnet_cidr)
    if not subnet.overlaps(network):
        pytest.skip(f"{subnet} does not overlap {network}")
    with pytest.raises(HostError, match=taken[taken.index("dev") + 1]):
        run(hosts.boot(one))
    assert not hosts.running_now(one.instance_id)
