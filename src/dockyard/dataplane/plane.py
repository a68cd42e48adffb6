"""The data plane: one asyncio listener per port, the target groups they route to, the
upstream connection pool and the health checker. `apply(config)` swaps in a new
configuration without dropping connections: a listener whose port and protocol stay keeps its
socket and its clients; only its routing changes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from dataclasses import dataclass

from dockyard.core.clock import Clock
from dockyard.core.metrics import Datum
from dockyard.dataplane.balancer import GroupRuntime
from dockyard.dataplane.config import DataPlaneConfig, Forward, ListenerConfig
from dockyard.dataplane.health import HealthChecker, Report
from dockyard.dataplane.metrics import (
    GroupCounters,
    LoadBalancerCounters,
    load_balancer_data,
    load_balancer_target_data,
    owner_of,
    target_group_data,
)
from dockyard.dataplane.proxy import ClientConnection, ListenerRuntime
from dockyard.dataplane.routes import lb_counters_for
from dockyard.dataplane.tcp import TcpClient
from dockyard.dataplane.upstream import Pool

log = logging.getLogger(__name__)


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def server_tls(certificate: tuple[str, str]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(certificate[0], certificate[1])
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


@dataclass(slots=True)
class Bound:
    runtime: ListenerRuntime
    sock: socket.socket
    server: asyncio.Task[asyncio.Server]
    protocol: str
    certificate: tuple[str, str] | None


class DataPlane:
    def __init__(self, clock: Clock, report: Report, *, host: str = "127.0.0.1") -> None:
        self.clock = clock
        # Listener timeouts (idle, client header) run in the server's clock: a ScaledClock
        # (`--time-scale`) shortens them as it shortens every other interval.
        self.time_scale = float(getattr(clock, "scale", 1.0))
        self.host = host
        self.loop: asyncio.AbstractEventLoop  # the running loop, from start()
        self.pool: Pool
        self.groups: dict[str, GroupRuntime] = {}
        self.bound: dict[int, Bound] = {}
        self.lb_counters: dict[str, LoadBalancerCounters] = {}
        self.health = HealthChecker(clock, report)
        self.config = DataPlaneConfig()
        self.running = False
        self._sweep_handle: asyncio.TimerHandle | None = None

    def now(self) -> float:
        return self.clock.now()

    # lifecycle

    def start(self) -> None:
        """Start serving on the running loop, with the configuration applied so far."""
        self.loop = asyncio.get_running_loop()
        self.pool = Pool(self.loop)
        self.running = True
        self._sweep_handle = self.loop.call_later(self._sweep_every, self._sweep)
        self.apply(self.config)

    @property
    def _sweep_every(self) -> float:
        """Real seconds between sweeps: one second of the server's clock (at most one real
        second, at least 20 ms), so a timeout fires within a clock second of its time."""
        return max(0.02, min(1.0, 1.0 / self.time_scale))

    def _sweep(self) -> None:
        """Requests whose target went quiet past the idle timeout; client connections past
        the header timeout or idle past the idle timeout."""
        now = self.loop.time()
        for bound in list(self.bound.values()):
            for conn in list(bound.runtime.connections):
                if conn.upstream is not None:
                    conn.check_idle(now)
                conn.check_client(now)
        if self.running:
            self._sweep_handle = self.loop.call_later(self._sweep_every, self._sweep)

    async def stop(self) -> None:
        self.running = False
        if self._sweep_handle is not None:
            self._sweep_handle.cancel()
        self.health.stop()
        for port in list(self.bound):
            await self._unbind(port)
        if hasattr(self, "pool"):
            self.pool.close_idle()

    # configuration

    def check_port(self, port: int) -> str | None:
        """Why this host cannot listen on `port` (None: it can)."""
        if port in self.bound:
            return None
        try:
            listening_socket(self.host, port).close()
        except OSError as exc:
            return exc.strerror or str(exc)
        return None

    def apply(self, config: DataPlaneConfig) -> None:
        self.config = config
        if not self.running:
            return
        for arn, group_config in config.target_groups.items():
            group = self.groups.get(arn)
            if group is None:
                self.groups[arn] = GroupRuntime(group_config)
                continue
            before = {t.key: t for t in group.config.targets}
            group.update(group_config)
            for key, old in before.items():
                new = group.by_key.get(key)
                if new is None or (new.state == "draining" and old.state != "draining"):
                    self.pool.close_idle((old.host, old.port, group_config.protocol == "HTTPS"))
        for arn in [a for a in self.groups if a not in config.target_groups]:
            del self.groups[arn]
        wanted = {listener.port: listener for listener in config.listeners}
        for port in [p for p in self.bound if p not in wanted]:
            self.loop.create_task(self._unbind(port))
        for listener in wanted.values():
            self._bind(listener)
        self.health.apply(config.target_groups)

    def _bind(self, config: ListenerConfig) -> None:
        bound = self.bound.get(config.port)
        counters = lb_counters_for(self.lb_counters, config.load_balancer_id)
        if bound is not None:
            same = bound.protocol == config.protocol and bound.certificate == config.certificate
            if same:
                bound.runtime.counters = counters
                bound.runtime.update(config)
                return
            # Same port, another protocol or certificate: a new server on the same socket.
            self.bound.pop(config.port)
            sock = bound.sock.dup()
            self._close(bound)
        else:
            try:
                sock = listening_socket(self.host, config.port)
            except OSError as exc:
                log.error("cannot listen on port %d for %s: %s", config.port, config.arn, exc)
                return
        runtime = ListenerRuntime(self, config, counters)
        tls = server_tls(config.certificate) if config.certificate else None
        if config.protocol == "TCP":
            server = self.loop.create_server(lambda: TcpClient(runtime), sock=sock)
        else:
            server = self.loop.create_server(
                lambda: ClientConnection(runtime), sock=sock, ssl=tls, backlog=1024
            )
        task = self.loop.create_task(server)
        self.bound[config.port] = Bound(runtime, sock, task, config.protocol, config.certificate)
        log.info("listening on %s:%d (%s) for %s", self.host, config.port, config.protocol,
                 config.arn)  # fmt: skip

    def _close(self, bound: Bound) -> None:
        async def close() -> None:
            with contextlib.suppress(Exception):
                server = await bound.server
                server.close()
            bound.sock.close()

        self.loop.create_task(close())

    async def _unbind(self, port: int) -> None:
        bound = self.bound.pop(port, None)
        if bound is None:
            return
        try:
            server = await bound.server
            server.close()
        except Exception:  # the server never started: its socket is all there is
            log.debug("listener on port %d had not started", port)
        bound.sock.close()
        for conn in list(bound.runtime.connections):
            if conn.transport is not None:
                conn.transport.close()

    # observation

    def take_metrics(self, now: float) -> dict[tuple[str, str], list[Datum]]:
        """What happened since the last call, as CloudWatch data per (account, region)."""
        out: dict[tuple[str, str], list[Datum]] = {}
        lbs: dict[str, str] = {}  # load balancer id -> ARN
        for bound in self.bound.values():
            lbs[bound.runtime.config.load_balancer_id] = bound.runtime.config.load_balancer_arn
        for lb_id, counters in self.lb_counters.items():
            arn = lbs.get(lb_id)
            if arn is not None:
                out.setdefault(owner_of(arn), []).extend(
                    load_balancer_data(arn, lb_id, counters.take(), now)
                )
        used_by: dict[str, str] = {}  # target group ARN -> load balancer id
        for bound in self.bound.values():
            for rule in bound.runtime.config.rules:
                if isinstance(rule.action, Forward):
                    for arn, _ in rule.action.groups:
                        used_by[arn] = bound.runtime.config.load_balancer_id
        per_lb: dict[str, list[GroupCounters]] = {}
        for tg_arn, group in self.groups.items():
            user = used_by.get(tg_arn)
            if user is None:
                continue
            targets = [t for t in group.config.targets if t.state != "draining"]
            healthy = sum(1 for t in targets if t.routable)
            taken = group.counters.take()
            per_lb.setdefault(user, []).append(taken)
            out.setdefault(owner_of(tg_arn), []).extend(target_group_data(
                user, group.config.metric_id, taken, healthy, len(targets) - healthy, now,
            ))  # fmt: skip
        for lb_id, taken_all in per_lb.items():
            arn = lbs.get(lb_id)
            if arn is not None:
                out.setdefault(owner_of(arn), []).extend(
                    load_balancer_target_data(lb_id, taken_all, now)
                )
        return out

    def inflight(self, tg_arn: str, key: str) -> int:
        group = self.groups.get(tg_arn)
        return group.outstanding(key) if group is not None else 0
