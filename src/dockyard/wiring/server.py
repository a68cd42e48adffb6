"""The server's composition root: store, clock, services, front door, embedded agent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from dockyard.agent.agent import Agent
from dockyard.api.app import FrontDoorConfig, create_app
from dockyard.api.provider import Provider
from dockyard.controllers.agent_health import AgentHealth
from dockyard.controllers.capacity import CapacityController
from dockyard.controllers.codedeploy import CodeDeployController
from dockyard.controllers.registry_gc import RegistryCollector
from dockyard.controllers.retention import RetentionController
from dockyard.controllers.s3_lifecycle import LifecycleController
from dockyard.controllers.service_registries import RegistryController
from dockyard.core.agentlink import LogEvent
from dockyard.core.clock import Clock, RealClock, ScaledClock
from dockyard.core.principals import KeyChain, StaticKeys
from dockyard.core.private import private_dir, restrict_umask
from dockyard.core.scope import Scope
from dockyard.core.taskpolicy import TaskPolicies
from dockyard.dataplane.dns import Directories, DnsServer
from dockyard.hostsafety import warn_if_open
from dockyard.services import awslambda as lambda_service
from dockyard.services import codedeploy as codedeploy_service
from dockyard.services import ec2 as ec2_service
from dockyard.services import ecr as ecr_service
from dockyard.services import ecs as ecs_service
from dockyard.services import elbv2 as elbv2_service
from dockyard.services import iam as iam_service
from dockyard.services import logs as logs_service
from dockyard.services import s3 as s3_service
from dockyard.services import secretsmanager as secretsmanager_service
from dockyard.services import servicediscovery as sd_service
from dockyard.services import sns as sns_service
from dockyard.services import sqs as sqs_service
from dockyard.services import ssm as ssm_service
from dockyard.services import sts as sts_service
from dockyard.services.ec2autoscaling.ports import ServedGroups
from dockyard.services.ecs.instances.agent_http import PREFIX as AGENT_PREFIX
from dockyard.services.ecs.instances.agent_http import AgentEndpoint
from dockyard.services.ecs.instances.agent_identity import AgentIdentities
from dockyard.services.ecs.instances.agent_link import EmbeddedLink
from dockyard.services.ecs.instances.orphans_http import PREFIX as ORPHANS_PREFIX
from dockyard.services.ecs.instances.orphans_http import OrphansEndpoint
from dockyard.store import open_store
from dockyard.store.sealed import SealedStore, load_or_create_key
from dockyard.wiring.codedeploy_ports import EcsBlueGreenTargets
from dockyard.wiring.instances import HostOptions, Instances
from dockyard.wiring.loadbalancing import LoadBalancing
from dockyard.wiring.monitoring import Monitoring, MonitoringOptions
from dockyard.wiring.registryaccess import RegistryAccess
from dockyard.wiring.roleaccess import RoleAccess
from dockyard.wiring.s3_objects import ServedObjects
from dockyard.wiring.secrets import ServedSecrets
from dockyard.wiring.topics import AlarmTopics

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path = Path("./dockyard-data")
    store: str | None = None  # postgresql://... URL; None: SQLite in the data dir
    account_id: str = "000000000000"
    region: str = "us-east-1"
    allow_reset: bool = False
    time_scale: float = 1.0
    credentials: dict[str, str] | None = None
    # access key id -> account id, for auth-file keys scoped to an account
    credential_accounts: dict[str, str] = field(default_factory=dict)
    runtime: str = "auto"
    local_agent: bool = True
    log_level: str = "info"
    lb_host: str | None = None  # where load balancer listeners bind (default: host)
    # Agents heartbeat every 10 s: disconnected after `agent_timeout` without one, their tasks
    # stopped (and replaced by services) after `agent_grace` more.
    agent_timeout: float = 30.0
    agent_grace: float = 60.0
    # Where the DNS server for Cloud Map private DNS namespaces listens (on `host`); None: off.
    dns_port: int | None = None
    # Serve HTTPS (the API and the agent link) with this PEM certificate and key.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # What tasks may ask of a host (docs/task-policy.md); None: nothing beyond the basics.
    task_policies: TaskPolicies | None = None
    # The process runtime as root: who containers without `user` run as (default nobody).
    task_user: str | None = None
    # The registry host in ECR repository URIs; may name {account} and {region}
    # (e.g. "{account}.dkr.ecr.{region}.localhost:4566"). None: localhost:<port>.
    registry_host: str | None = None
    # EC2 instances on micro-hosts (as root with network namespaces); False: --no-hosts.
    hosts: bool = True


CLOCK_KIND = "dockyard.clock"
CLOCK_SAVE_INTERVAL = 1.0  # wall seconds between saves of a scaled clock's time


class Dockyard:
    """Every part of a running server, built from its options."""

    def __init__(self, options: ServerOptions) -> None:
        self.options = options
        private_dir(options.data_dir)  # 0700: secrets, task files and logs live here
        # SSM parameters and Secrets Manager secrets are sealed at rest (no KMS here: a key
        # of this server's own, in its data dir).
        # IAM users' secret access keys too. STS session tokens are sealed under a key
        # derived from the same one. Launch templates too: their user data often holds secrets.
        server_key = load_or_create_key(options.data_dir / "store.key")
        self.store = SealedStore(
            open_store(options.store, options.data_dir),
            server_key,
            (
                ssm_service.KIND,
                secretsmanager_service.KIND,
                *iam_service.SEALED_KINDS,
                *ec2_service.SEALED_KINDS,
                *sns_service.SEALED_KINDS,
            ),
        )
        self.clock: Clock = self._make_clock()
        # IAM and STS first: every request is authenticated and authorized through them, and
        # ECS gets task roles' credentials from STS (a RoleCredentialIssuer).
        self.iam = iam_service.Iam(self.store, self.clock)
        self.iam.load()
        self.sts = sts_service.Sts(self.clock, server_key, roles=self.iam, policies=self.iam)
        self.keys = KeyChain(
            StaticKeys(options.credentials or {}, options.credential_accounts, options.account_id),
            self.iam,
            self.sts,
        )
        self._clock_task: asyncio.Task[None] | None = None
        # Each domain is built with its collaborators: the services ECS reaches through ports
        # (target groups, service registries, secrets) come first.
        self.elbv2 = elbv2_service.Elbv2(self.store, self.clock)
        self.elbv2.load()
        # Cloud Map: ECS services register their tasks there; the DNS server answers from it.
        self.cloud_map = sd_service.CloudMap(self.store, self.clock)
        self.cloud_map.load()
        # SSM Parameter Store and Secrets Manager: where tasks' `secrets` are read from.
        self.ssm = ssm_service.Ssm(self.store, self.clock)
        self.ssm.load()
        self.secretsmanager = secretsmanager_service.SecretsManager(self.store, self.clock)
        self.secretsmanager.load()
        role_access = RoleAccess(
            self.iam, self.iam, self.clock, enforced=options.credentials is not None
        )
        # S3: object bytes in files under <data dir>/s3, metadata in the store; tasks'
        # environmentFiles are read from it.
        self.s3 = s3_service.S3(self.store, self.clock, options.data_dir / "s3")
        self.s3.load()
        self.ecs = ecs_service.Ecs(
            self.store,
            self.clock,
            target_groups=self.elbv2,
            service_registries=self.cloud_map,
            # A task's secrets are read, and its logs written, as its execution role, whose
            # policies must allow it when requests are authorized (--auth-file).
            secrets=ServedSecrets(self.ssm, self.secretsmanager, role_access),
            objects=ServedObjects(self.s3),
            task_policies=options.task_policies,
            role_credentials=self.sts,
            role_permissions=role_access,
        )
        self.ecs.load()
        self.dns: DnsServer | None = None
        self.logs = logs_service.Logs(
            self.store, self.clock, events_path=str(options.data_dir / "logs.sqlite3")
        )
        self.logs.load()
        # Logs export tasks write to S3.
        self.log_exports = logs_service.Exports(
            self.store, self.clock, self.logs, ServedObjects(self.s3)
        )
        self.log_exports.load()
        self.providers: list[Provider] = [
            ecs_service.provider(self.ecs),
            logs_service.provider(self.logs, self.log_exports),
            elbv2_service.provider(self.elbv2),
            sd_service.provider(self.cloud_map),
            ssm_service.provider(self.ssm),
            secretsmanager_service.provider(self.secretsmanager),
            iam_service.provider(self.iam),
            sts_service.provider(self.sts),
            s3_service.provider(self.s3),
        ]
        # EC2: networking records (VPCs, subnets, security groups), the default VPC of each
        # account and region made when that scope is first used; launch templates.
        self.ec2 = ec2_service.Ec2(self.store, self.clock)
        self.ec2.load()
        self.providers.append(ec2_service.provider(self.ec2))
        # CloudWatch, EventBridge, Application Auto Scaling and their controllers; metric data
        # survives restarts: written through to, and reloaded from, its own log.
        self.monitoring = Monitoring(
            self.store, self.clock, self.ecs, self.logs,
            MonitoringOptions(
                account_id=options.account_id, region=options.region,
                samples_path=str(options.data_dir / "metrics.sqlite3"),
            ),
        )  # fmt: skip
        self.providers.extend(self.monitoring.providers())
        # SQS: messages in the store; EventBridge rules send to queues through its port.
        self.sqs = sqs_service.Sqs(self.store, self.clock)
        self.sqs.load()
        self.providers.append(
            sqs_service.provider(self.sqs, "https" if options.tls_cert else "http")
        )
        self.monitoring.events.queues = sqs_service.ServedQueues(self.sqs)
        # SNS: deliveries to email/email-json/sms are written to CloudWatch Logs; alarms and
        # EventBridge rules publish to topics through the TopicPublisher port.
        self.sns = sns_service.Sns(self.store, self.clock, sns_service.Urls(_base_url(options)))
        self.sns.load()
        self.sns.deliveries.logs = self.logs
        self.sns.deliveries.queues = sqs_service.ServedQueues(self.sqs)
        self.providers.append(sns_service.provider(self.sns))
        self.monitoring.cloudwatch.action_prefixes += ("arn:aws:sns:",)
        self.monitoring.alarms.actions.append(AlarmTopics(self.monitoring.cloudwatch,
                                                          self.sns.publisher))  # fmt: skip
        self.monitoring.events.topics = self.sns.publisher
        # Lambda: functions run in execution environments of their own (Runtime API on
        # loopback), log to CloudWatch Logs, read code from S3, get their role's credentials
        # from STS; EventBridge rules invoke them.
        local = "127.0.0.1" if options.host in ("0.0.0.0", "::", "") else options.host
        self.awslambda = lambda_service.Lambda(
            self.store, self.clock, options.data_dir / "lambda",
            logs=self.logs, objects=ServedObjects(self.s3), roles=self.sts,
            events=self.monitoring.events,
            queues=sqs_service.ServedQueues(self.sqs), senders=sqs_service.ServedQueues(self.sqs),
            topics=self.sns.publisher, role_permissions=role_access,
            endpoint_url=f"{'https' if options.tls_cert else 'http'}://{local}:{options.port}",
        )  # fmt: skip
        self.awslambda.load()
        self.providers.append(lambda_service.provider(self.awslambda))
        self.monitoring.events.functions = self.awslambda.invoker
        self.sns.deliveries.functions = self.awslambda.invoker
        # Join tokens and the credentials of the agents that joined with them.
        self.agent_identities = AgentIdentities(self.store, self.clock)
        # EC2 instances on micro-hosts, and EC2 Auto Scaling groups of them.
        self.instances = Instances(
            self.store, self.clock, self.ec2,
            options=HostOptions(
                enabled=options.hosts, state_dir=options.data_dir / "hosts", port=options.port,
                scheme="https" if options.tls_cert else "http",
                time_scale=options.time_scale,
            ),
            iam=self.iam, role_credentials=self.sts, elbv2=self.elbv2,
            monitoring=self.monitoring, identities=self.agent_identities,
        )  # fmt: skip
        self.providers.extend(self.instances.providers())
        # Agents registering as their EC2 instance are checked against EC2's signature; ECS
        # capacity providers scale EC2 Auto Scaling groups.
        self.ecs.instances.identity_verifier = self.instances.metadata
        self.ecs.capacity_providers.groups = ServedGroups(self.instances.asg)
        self.capacity = CapacityController(self.ecs, self.monitoring.cloudwatch, self.clock)
        # ECR: the API, and the registry at /v2/ on this port (blobs under the data dir).
        blobs = ecr_service.BlobStore(options.data_dir / "registry")
        blobs.prepare()  # drops what a crash left of uploads
        scheme = "https" if options.tls_cert else "http"
        self.ecr = ecr_service.Ecr(
            self.store,
            self.clock,
            blobs,
            ecr_service.Tokens(server_key),
            registry_host=options.registry_host or f"localhost:{options.port}",
            events=self.monitoring.events,
            proxy_endpoint=f"{scheme}://{{host}}",
            local_hosts=(f"localhost:{options.port}", f"127.0.0.1:{options.port}"),
        )
        self.ecr.load()
        # ECS hands agents an ECR token for task images in this registry (ECR is built
        # after ECS, since its events go through monitoring, which watches ECS).
        self.ecs.registry_logins = self.ecr
        if options.credentials is not None:  # pulls as the task's execution role
            self.ecr.roles = self.iam
            self.ecr.role_permissions = role_access
        self.providers.append(ecr_service.provider(self.ecr))
        self.registry_collector = RegistryCollector(self.ecr, self.clock)
        # S3 object events go to EventBridge (queued) for buckets that ask for them.
        self.s3.send_events_to(self.monitoring.events)
        self.s3_lifecycle = LifecycleController(self.s3, self.clock)
        self.load_balancing = LoadBalancing(
            self.elbv2,
            self.clock,
            host=options.lb_host or options.host,
            metric_sink=self.monitoring.cloudwatch,  # ALB/NLB metrics
        )
        # CodeDeploy blue/green deployments of ECS services, through the load balancers.
        self.codedeploy = codedeploy_service.CodeDeploy(
            self.store, self.clock, targets=EcsBlueGreenTargets(self.ecs, self.elbv2)
        )
        self.codedeploy.load()
        self.providers.append(codedeploy_service.provider(self.codedeploy))
        self.codedeploy_controller = CodeDeployController(
            self.codedeploy, self.ecs, self.elbv2, self.clock, self.monitoring.cloudwatch
        )
        # Container stats -> AWS/ECS metrics.
        stats = self.monitoring.ecs_metrics.record if self.monitoring.ecs_metrics else None
        self.link = EmbeddedLink(
            self.ecs,
            self.ship_logs,
            account_id=options.account_id,
            region=options.region,
            managed_capacity=True,
            stats_sink=stats,
        )
        # Remote `dockyard agent` hosts: plain container instances, over HTTP.
        self.remote_link = EmbeddedLink(
            self.ecs,
            self.ship_logs,
            account_id=options.account_id,
            region=options.region,
            managed_capacity=False,
            stats_sink=stats,
        )
        self.app = create_app(
            FrontDoorConfig(
                default_account_id=options.account_id,
                default_region=options.region,
                allow_reset=options.allow_reset,
                credentials=options.credentials,
                accounts=options.credential_accounts,
                keys=self.keys,
                policies=self.iam,
            ),
            self.providers,
            on_reset=self._reset_store,
            extra_routes={
                AGENT_PREFIX: AgentEndpoint(
                    self.remote_link, options.credentials, self.agent_identities
                ),
                ORPHANS_PREFIX: OrphansEndpoint(self.ecs.orphans, options.credentials),
                # Lambda function URLs (public by design: AuthType NONE, the function's policy).
                lambda_service.URL_PREFIX: lambda_service.UrlEndpoint(
                    self.awslambda.urls, self.awslambda.invoker
                ),
                sns_service.PREFIX: sns_service.SubscriberEndpoint(self.sns),
                ecr_service.PREFIX: ecr_service.Registry(
                    self.ecr,
                    self.clock,
                    auth=options.credentials is not None,
                    default_scope=Scope(options.account_id, options.region),
                    # With an auth file, each request is authorized as the token's principal.
                    authorize=(
                        RegistryAccess(self.iam, self.clock)
                        if options.credentials is not None
                        else None
                    ),
                ),
            },
        )
        self.agent_health = AgentHealth(
            self.ecs,
            self.clock,
            self.last_contact,
            timeout=options.agent_timeout,
            grace=options.agent_grace,
        )
        # Stopped tasks, deleted services, ... let go after a while, as ECS does.
        self.retention = RetentionController(self.ecs, self.clock, self.last_contact)
        self.agent: Agent | None = None
        self._agent_task: asyncio.Task[None] | None = None

    def _reset_store(self) -> None:
        self.store.reset()
        self.agent_identities.reset()

    def last_contact(self, instance_arn: str) -> float | None:
        """When the agent of `instance_arn` last heartbeated or reported, if it has since start."""
        times = [
            t
            for link in (self.link, self.remote_link)
            if (t := link.last_heartbeat.get(instance_arn)) is not None
        ]
        return max(times) if times else None

    def ship_logs(
        self,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        events: list[LogEvent],
        create_group: bool,
    ) -> None:
        self.logs.put_events(
            account_id,
            region,
            group,
            stream,
            [(e.timestamp_ms, e.message) for e in events],
            create_group,
        )

    def _make_clock(self) -> Clock:
        scale = self.options.time_scale
        if scale == 1.0:
            return RealClock()
        # A scaled clock runs ahead of the wall clock: after a restart it carries on from where
        # the last run left it, so nothing stored lies in its future.
        saved = self.store.get(CLOCK_KIND, "now")
        start = None
        if saved is not None:
            start = max(time.time(), float(saved["now"]) + CLOCK_SAVE_INTERVAL * scale)
        return ScaledClock(scale, start=start)

    async def _keep_clock(self) -> None:
        while True:
            try:
                self.store.put(CLOCK_KIND, "now", {"now": self.clock.now()})
            except Exception as exc:  # the store is unreachable for now: try again next time
                log.warning("cannot save the scaled clock's time: %s", exc)
            await asyncio.sleep(CLOCK_SAVE_INTERVAL)

    async def start(self) -> None:
        """Start what runs beside the front door (controllers, the embedded agent)."""
        if self.options.dns_port is not None:  # first: a port in use stops the start here
            # Cloud Map's private DNS namespaces, and the load balancers' DNS names.
            zones = Directories(self.cloud_map, self.load_balancing)
            self.dns = DnsServer(zones, self.options.host, self.options.dns_port)
            await self.dns.start()
        if isinstance(self.clock, ScaledClock):
            self._clock_task = asyncio.create_task(self._keep_clock(), name="clock")
        await self.monitoring.start()
        await self.awslambda.start()
        self.sns.start()
        self.s3.start()
        self.s3_lifecycle.start()
        self.log_exports.start()
        self.load_balancing.start()
        from dockyard.controllers.services import ServiceController

        # The service controller reaches load balancers through `self.ecs.target_groups`.
        self.service_controller = ServiceController(self.ecs, self.clock)
        self.service_controller.start()
        self.codedeploy_controller.start()
        self.registry_controller = RegistryController(self.ecs, self.cloud_map, self.clock)
        self.registry_controller.start()
        self.agent_health.start()
        self.retention.start()
        self.registry_collector.start()
        await self.instances.start()
        self.capacity.start()
        if self.options.local_agent:
            from dockyard.drivers.select import select_driver

            agent_dir = self.options.data_dir / "agent"
            driver = select_driver(
                self.options.runtime, agent_dir, task_user=self.options.task_user
            )
            self.agent = Agent(self.link, driver, self.clock, agent_dir, cluster="default")
            self._agent_task = asyncio.create_task(self.agent.run(), name="embedded-agent")

    async def stop(self) -> None:
        await self.capacity.stop()
        await self.instances.stop()  # hosts keep running: a server started again adopts them
        await self.monitoring.stop()
        await self.awslambda.stop()
        await self.sns.stop()
        await self.s3_lifecycle.stop()
        await self.log_exports.stop()
        await self.s3.stop()
        await self.load_balancing.stop()
        controller = getattr(self, "service_controller", None)
        if controller is not None:
            await controller.stop()
        await self.codedeploy_controller.stop()
        registries = getattr(self, "registry_controller", None)
        if registries is not None:
            await registries.stop()
        if self.dns is not None:
            await self.dns.stop()
        await self.agent_health.stop()
        await self.retention.stop()
        await self.registry_collector.stop()
        if self.agent is not None:
            # The tasks keep running: a server started again on this data dir adopts them.
            await self.agent.stop()
            if self.agent.instance_arn:
                self.link.agent_stopped(self.agent.instance_arn)
        if self._agent_task is not None:
            self._agent_task.cancel()
        if self._clock_task is not None:
            self._clock_task.cancel()
        self.logs.close()
        self.monitoring.cloudwatch.close()
        self.store.close()


def _base_url(options: ServerOptions) -> str:
    """Where subscribers reach this server (SubscribeURL, SigningCertURL)."""
    host = "127.0.0.1" if options.host in ("0.0.0.0", "::", "") else options.host
    if ":" in host:
        host = f"[{host}]"
    return f"{'https' if options.tls_cert else 'http'}://{host}:{options.port}"


def _plain_signals_in_child() -> None:
    """A fork of the server (netlink helpers fork into network namespaces) must not share the
    event loop's signal wake-up: a SIGTERM meant for the child would read as the server's own."""
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signum, signal.SIG_DFL)


class _UvicornServer(uvicorn.Server):
    """uvicorn without its own signal capture: we stop on SIGINT/SIGTERM and exit 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def serve(options: ServerOptions) -> int:
    restrict_umask()  # every file the server and its agent write: 0600
    dockyard = Dockyard(options)
    config = uvicorn.Config(
        dockyard.app,
        host=options.host,
        port=options.port,
        log_level="warning" if options.log_level == "info" else options.log_level,
        access_log=False,
        lifespan="off",
        ssl_certfile=str(options.tls_cert) if options.tls_cert else None,
        ssl_keyfile=str(options.tls_key) if options.tls_key else None,
    )
    server = _UvicornServer(config)

    def request_exit(signum: int) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        server.should_exit = True

    os.register_at_fork(after_in_child=_plain_signals_in_child)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, request_exit, signum)
        # Agents in hosts reach this server at 169.254.169.254:<port> too.
        sockets = await dockyard.instances.listen(options.host, options.port, config.bind_socket)
        await dockyard.start()
        warn_if_open(options.host, options.port, bool(options.credentials))
        log.info(
            "dockyard serving on %s://%s:%d (data dir %s)",
            "https" if options.tls_cert else "http",
            options.host,
            options.port,
            options.data_dir,
        )
        try:
            await server.serve(sockets=sockets)
        finally:
            await dockyard.stop()

    try:
        import uvloop  # installed with uvicorn[standard]; the load balancer listeners need it
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
    return 0


__all__ = ["Dockyard", "ServerOptions", "serve"]
