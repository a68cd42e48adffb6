"""EC2 instances on micro-hosts, and EC2 Auto Scaling over them, wired together: the host
runtime (on by default when root with network namespaces; off with `--no-hosts`), the EC2
instance controller that drives it, the ports EC2 reads IAM instance profiles and issues
agent join tokens through, EC2 as the metadata service's `InstanceMetadata` and as EC2 Auto
Scaling's `InstanceFleet`, and EC2 Auto Scaling's service and controllers.

Without a host runtime `RunInstances` answers `UnsupportedOperation` naming why (and EC2
Auto Scaling's launches fail with that reason as their activities' status)."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockyard.agent.ec2_identity import ENABLE_ENV
from dockyard.controllers.asg import AsgController
from dockyard.controllers.asg_schedules import AsgScheduleController
from dockyard.controllers.ec2_instances import InstanceController
from dockyard.core.clock import Clock
from dockyard.core.hosts import HostRuntime
from dockyard.core.rolecredentials import RoleCredentialIssuer
from dockyard.core.scope import Scope
from dockyard.dataplane.imds import ImdsServer
from dockyard.services import ec2 as ec2_service
from dockyard.services import ec2autoscaling as asg_service
from dockyard.services.ec2.instances.model import Instance
from dockyard.services.ec2.instances.profiles import Profile
from dockyard.services.ecs.instances.agent_identity import AgentIdentities
from dockyard.services.elbv2.service import Elbv2
from dockyard.services.iam.service import Iam
from dockyard.store.base import Store
from dockyard.wiring.monitoring import Monitoring

log = logging.getLogger(__name__)

METADATA_ADDRESS = "169.254.169.254"  # where agents in hosts reach this server
JOIN_TOKEN_TTL = 900.0  # seconds an ECS-optimized host's join token is valid
JOIN_TOKEN_ENV = "DOCKYARD_JOIN_TOKEN"  # what `dockyard agent` reads it from
WILDCARDS = ("0.0.0.0", "::", "")
IDENTITY_ENV = ENABLE_ENV  # the agent fetches and sends its identity document


@dataclass(slots=True)
class HostOptions:
    enabled: bool = True  # --no-hosts: False
    state_dir: Path = Path("./dockyard-data/hosts")
    port: int = 4566  # the API port, also served on 169.254.169.254
    scheme: str = "http"
    time_scale: float = 1.0  # the server's --time-scale, which its hosts' agents keep too


def host_runtime(options: HostOptions) -> tuple[HostRuntime | None, str | None]:
    """The machine's host runtime, or None and why there is none."""
    if not options.enabled:
        return None, "hosts are off (the server was started with --no-hosts)"
    if os.geteuid() != 0:
        return None, "micro-hosts need root (network namespaces), and this server is not root"
    if not Path("/proc/self/ns/net").exists():
        return None, "this machine has no network namespaces"
    try:  # the runtime is a module of its own, not in every build
        hosts: Any = importlib.import_module("dockyard.hosts")
        local_hosts = hosts.LocalHosts
    except (ImportError, AttributeError):
        return None, "this build has no micro-host runtime (dockyard.hosts.LocalHosts)"
    url = f"{options.scheme}://{METADATA_ADDRESS}:{options.port}"
    try:
        runtime: HostRuntime = local_hosts(
            options.state_dir, agent_server_url=url, metadata_port=None,
            time_scale=options.time_scale,
        )  # fmt: skip
    except Exception as exc:  # a runtime that cannot start leaves the server without hosts
        log.warning("the micro-host runtime did not start: %s", exc)
        return None, f"the micro-host runtime did not start: {exc}"
    return runtime, None


def ensure_metadata_address() -> None:
    """169.254.169.254/32 on `lo`, so the server can listen there. Raises OSError."""
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        found = ipr.link_lookup(ifname="lo")
        if not found:
            raise OSError("no loopback interface")
        have = {a.get_attr("IFA_ADDRESS") for a in ipr.get_addr(index=found[0], family=2)}
        if METADATA_ADDRESS not in have:
            try:
                ipr.addr("add", index=found[0], address=METADATA_ADDRESS, prefixlen=32)
            except Exception as exc:  # pyroute2's NetlinkError is not an OSError
                raise OSError(f"cannot add {METADATA_ADDRESS}/32 to lo: {exc}") from exc


def metadata_socket(port: int) -> socket.socket:
    """A listening socket on 169.254.169.254:<port> (the address added to `lo` first)."""
    ensure_metadata_address()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((METADATA_ADDRESS, port))
        sock.listen(128)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


@dataclass(slots=True)
class IamInstanceProfiles:
    """`InstanceProfiles` (services/ec2) over the IAM service."""

    iam: Iam

    def profile(self, account_id: str, name_or_arn: str) -> Profile | None:
        state = self.iam.state
        name = name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
        found = state.profiles.find(account_id, name)
        if found is None or (name_or_arn.startswith("arn:") and found.arn != name_or_arn):
            return None
        role = state.roles.find(account_id, found.roles[0]) if found.roles else None
        return Profile(
            arn=found.arn,
            profile_id=found.id,
            role_arn=role.arn if role is not None else None,
            role_name=role.name if role is not None else None,
        )


@dataclass(slots=True)
class JoinTokens:
    """What an ECS-optimized host's agent joins its cluster with: a join token of the
    instance's account and region for that cluster, in its environment only; and, when the
    metadata service runs, the switch that has the agent register as its EC2 instance (with
    the signed identity document)."""

    identities: AgentIdentities
    metadata: bool = False  # whether the metadata service answers in hosts

    def __call__(self, instance: Instance, cluster: str) -> Mapping[str, str]:
        issued = self.identities.issue_token(
            instance.account_id, instance.region, cluster, ttl=JOIN_TOKEN_TTL
        )
        env = {JOIN_TOKEN_ENV: issued.text}
        if self.metadata:
            env[IDENTITY_ENV] = "1"
        return env


class Instances:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        ec2: ec2_service.Ec2,
        *,
        options: HostOptions,
        iam: Iam,
        role_credentials: RoleCredentialIssuer,
        elbv2: Elbv2,
        monitoring: Monitoring,
        identities: AgentIdentities,
    ) -> None:
        self.clock = clock
        self.ec2 = ec2
        self.elbv2 = elbv2
        self.options = options
        ec2.profiles = IamInstanceProfiles(iam)
        self.runtime, ec2.no_runtime = host_runtime(options)
        self.controller: InstanceController | None = None
        # What the metadata service (169.254.169.254 inside hosts) asks of EC2, and the
        # checker of the identity documents agents register with.
        self.metadata = ec2_service.Ec2Metadata(ec2, role_credentials)
        self.imds: ImdsServer | None = None
        self.join_tokens = JoinTokens(identities)
        if self.runtime is not None:
            ec2.console = getattr(self.runtime, "console_output", None)
            self.controller = InstanceController(
                ec2, self.runtime, clock,
                agent_env=self.join_tokens,
                balancer_groups=self.balancer_groups,
            )  # fmt: skip
            self.imds = ImdsServer(self.metadata, clock, host=METADATA_ADDRESS)
        self.fleet = ec2_service.Ec2Fleet(ec2)
        self.asg = asg_service.Ec2AutoScaling(
            store, clock, fleet=self.fleet, target_groups=elbv2,
            alarms=monitoring.cloudwatch, events=monitoring.events,
        )  # fmt: skip
        self.asg.load()
        # CloudWatch alarms whose action is an EC2 Auto Scaling policy (checked before
        # Application Auto Scaling, which would claim every scalingPolicy ARN).
        monitoring.scale_groups_with(asg_service.PolicyActions(self.asg))
        self.asg_controller = AsgController(
            self.asg, clock, self.fleet, target_groups=elbv2, target_port=self.target_port
        )
        self.asg_schedules = AsgScheduleController(self.asg, clock)
        self._task: asyncio.Task[None] | None = None

    def providers(self) -> list[Any]:
        return [asg_service.provider(self.asg)]

    def target_port(self, scope: Scope, arn: str) -> int | None:
        tg = self.elbv2.directory.target_groups.get(arn)
        return tg.port if tg is not None else None

    def balancer_groups(self) -> set[str]:
        """The security groups load balancers use (their traffic comes from this machine)."""
        balancers = self.elbv2.directory.load_balancers.values()
        return {g for lb in balancers for g in lb.security_groups}

    async def listen(
        self, host: str, port: int, bind: Callable[[], socket.socket]
    ) -> list[socket.socket] | None:
        """Before `start`: the sockets the server listens on when it must also listen on
        169.254.169.254:<port> for agents in hosts (None: just `host:port`, uvicorn binds
        it). A wildcard `host` covers that address already. If the server cannot listen
        there, hosts are off."""
        if self.runtime is None:
            return None
        try:  # pyroute2's netlink calls run an event loop of their own: off this one
            if host in WILDCARDS:
                await asyncio.to_thread(ensure_metadata_address)
                return None
            metadata = await asyncio.to_thread(metadata_socket, port)
        except OSError as exc:
            self.hosts_off(f"cannot listen on {METADATA_ADDRESS}:{port}: {exc}")
            return None
        try:
            return [bind(), metadata]
        except OSError:
            metadata.close()
            raise

    def hosts_off(self, why: str) -> None:
        """Before `start`: the server cannot serve hosts after all."""
        log.warning("micro-hosts are off: %s", why)
        self.runtime, self.controller, self.imds = None, None, None
        self.ec2.no_runtime, self.ec2.console = why, None

    async def start(self) -> None:
        self.asg.outbox.start()
        self.asg_controller.start()
        self.asg_schedules.start()
        if self.controller is not None:
            await self._start_metadata()
            self._task = asyncio.create_task(self.controller.run(), name="ec2-instances")

    async def _start_metadata(self) -> None:
        """The metadata service on 169.254.169.254 (a free port; the runtime redirects each
        host's 169.254.169.254:80 there). Without it hosts still run, with no metadata."""
        if self.imds is None or self.runtime is None:
            return
        try:
            await asyncio.to_thread(ensure_metadata_address)
            await self.imds.start()
        except OSError as exc:
            log.warning("the instance metadata service is off: %s", exc)
            self.imds = None
            return
        if hasattr(self.runtime, "metadata_port"):
            self.runtime.metadata_port = self.imds.port
            self.join_tokens.metadata = True

    async def stop(self) -> None:
        if self.imds is not None:
            await self.imds.stop()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.asg_schedules.stop()
        await self.asg_controller.stop()
        await self.asg.outbox.stop()
