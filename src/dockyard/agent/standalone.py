"""`dockyard agent`: this host joins a cluster of a Dockyard server as a container instance.

It registers (RegisterContainerInstance, with the host's CPU, memory and attributes),
heartbeats, long-polls its assignments over HTTP, runs them through a driver and pushes
their state changes and logs. When the server is unreachable it keeps the tasks running and
retries with backoff; what changed meanwhile is reported once the server answers. Restarted
on the same data dir it adopts the tasks it was running. SIGTERM/SIGINT stop the agent only:
the tasks keep running.

It joins with a join token and from then on calls with its own credential, kept in
`<data dir>/agent/credential.json` (mode 0600). Given a CA file it talks to an HTTPS server
only if the server's certificate verifies against that CA.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dockyard.agent import ec2_identity
from dockyard.agent.agent import HEARTBEAT_INTERVAL, Agent
from dockyard.agent.http_link import HttpLink, UntrustedServer
from dockyard.core.clock import Clock, RealClock, ScaledClock
from dockyard.core.private import private_dir, restrict_umask

log = logging.getLogger(__name__)

AZ_ATTRIBUTE = "ecs.availability-zone"
# The attribute (and `--capacity-provider` flag) by which a host joins a capacity provider.
CAPACITY_PROVIDER_ATTRIBUTE = "dockyard.capacity-provider"


@dataclass(slots=True)
class AgentOptions:
    server: str
    cluster: str = "default"
    data_dir: Path = Path("./dockyard-agent")
    attributes: dict[str, str | None] = field(default_factory=dict)
    runtime: str = "auto"
    availability_zone: str | None = None
    host_ip: str | None = None
    capacity_provider: str | None = None
    join_token: str | None = None
    ca: Path | None = None  # verify an https server's certificate against this CA bundle
    time_scale: float = 1.0
    heartbeat_interval: float = HEARTBEAT_INTERVAL
    task_subnet: str | None = None
    task_bridge: str | None = None
    task_user: str | None = None  # process runtime as root: who tasks without `user` run as


def parse_attributes(text: str) -> dict[str, str | None]:
    """`k=v,k2=v2,flag` -> {"k": "v", "k2": "v2", "flag": None}."""
    found: dict[str, str | None] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not name.strip():
            raise ValueError(f"attribute without a name: {item!r}")
        found[name.strip()] = value.strip() if sep else None
    return found


def address_towards(server_url: str) -> str:
    """The local address this host reaches the server from: what others reach it on."""
    parts = urlsplit(server_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host, port))
        return str(s.getsockname()[0])
    return "127.0.0.1"


def attributes_of(options: AgentOptions) -> dict[str, str | None]:
    attributes = dict(options.attributes)
    if options.availability_zone:
        attributes[AZ_ATTRIBUTE] = options.availability_zone
    if options.capacity_provider:
        attributes[CAPACITY_PROVIDER_ATTRIBUTE] = options.capacity_provider
    return attributes


def identity_file(data_dir: Path) -> Path:
    """Where the agent keeps its credential, beside the rest of its state."""
    return data_dir / "agent" / "credential.json"


def identity_source() -> ec2_identity.IdentitySource | None:
    """Inside an EC2 instance (ECS_INSTANCE_METADATA=1): its identity, from the metadata
    service, goes with every registration."""
    endpoint = ec2_identity.endpoint_from(os.environ)
    if endpoint is None:
        return None
    log.info("registering as this EC2 instance (identity from %s)", endpoint)
    return ec2_identity.source(endpoint)


async def run_agent(options: AgentOptions) -> None:
    from dockyard.drivers.select import select_driver

    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per long poll
    clock: Clock = RealClock() if options.time_scale == 1.0 else ScaledClock(options.time_scale)
    restrict_umask()  # every file the agent writes: 0600, its dirs 0700
    private_dir(options.data_dir)
    driver = select_driver(
        options.runtime, options.data_dir, task_subnet=options.task_subnet,
        bridge=options.task_bridge, task_user=options.task_user,
    )  # fmt: skip
    link = HttpLink(
        options.server,
        join_token=options.join_token,
        identity_file=identity_file(options.data_dir),
        ca=options.ca,
    )
    try:
        await link.check_server()
    except UntrustedServer:
        await link.close()
        raise
    agent = Agent(
        link,
        driver,
        clock,
        options.data_dir,
        cluster=options.cluster,
        attributes=attributes_of(options),
        heartbeat_interval=options.heartbeat_interval,
        host_ip=options.host_ip or address_towards(options.server),
        identity=identity_source(),
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    runner = asyncio.create_task(agent.run(), name="agent")
    stop_wait = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({runner, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if runner.done():
            runner.result()  # an agent that ended on its own: surface why
        log.info("stopping the agent; its tasks keep running")
        await agent.stop()
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    finally:
        stop_wait.cancel()
        await link.close()
