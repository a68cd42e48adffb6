"""The `dockyard` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dockyard import __version__
from dockyard.hostsafety import add_policy_arguments, server_safety, task_user_error


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dockyard"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dockyard",
        description="A self-hosted container deployment platform that speaks the AWS APIs.",
    )
    parser.add_argument("--version", action="version", version=f"dockyard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    server = commands.add_parser("server", help="run the API server (with an embedded agent)")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on")
    server.add_argument("--port", type=int, default=4566, help="port to listen on")
    server.add_argument(
        "--lb-host",
        help="address load balancer listeners bind (default: --host; 0.0.0.0 for every address)",
    )
    server.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ["DOCKYARD_DATA_DIR"])
        if os.environ.get("DOCKYARD_DATA_DIR")
        else default_data_dir(),
        help="where state is kept (default: %(default)s)",
    )
    server.add_argument(
        "--store",
        metavar="URL",
        default=os.environ.get("DOCKYARD_STORE") or None,
        help="keep API state in this PostgreSQL database (postgresql://user:password@host:port/"
        "db; default: $DOCKYARD_STORE, else SQLite in --data-dir)",
    )
    server.add_argument(
        "--store-file",
        type=Path,
        metavar="FILE",
        help="read the --store URL from this file (keeps its password out of `ps`)",
    )
    server.add_argument(
        "--account-id",
        default=os.environ.get("DOCKYARD_ACCOUNT_ID", "000000000000"),
        help="account for requests whose access key is not a 12-digit account id",
    )
    server.add_argument(
        "--region",
        default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        help="region for unsigned requests",
    )
    server.add_argument(
        "--allow-reset", action="store_true", help="enable POST /_dockyard/reset (wipes state)"
    )
    server.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="run controller time N times faster than the wall clock (timers, bake times)",
    )
    server.add_argument(
        "--auth-file",
        type=Path,
        help="verify SigV4 signatures against 'ACCESS_KEY_ID SECRET [ACCOUNT_ID]' lines "
        "(each key is its account's root; a key with an ACCOUNT_ID acts in that account), "
        "and authorize every request with IAM policies: IAM users' access keys and STS "
        "temporary credentials sign too, limited by their policies (docs/iam.md)",
    )
    server.add_argument(
        "--runtime",
        choices=["auto", "process", "docker"],
        default="auto",
        help="how the embedded agent runs containers (auto: Docker when its engine answers)",
    )
    server.add_argument(
        "--no-local-agent", action="store_true", help="do not run the embedded agent"
    )
    server.add_argument(
        "--no-hosts", action="store_true",
        help="no micro-hosts for EC2 instances (RunInstances then answers "
        "UnsupportedOperation); they are on by default as root with network namespaces",
    )  # fmt: skip
    server.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
    )
    server.add_argument(
        "--agent-timeout",
        type=float,
        default=30.0,
        help="seconds without a heartbeat before an agent counts as disconnected "
        "(agents heartbeat every 10 s; default: %(default)s)",
    )
    server.add_argument(
        "--agent-grace",
        type=float,
        default=60.0,
        help="seconds an agent may stay disconnected before its tasks are stopped and "
        "services replace them elsewhere (default: %(default)s)",
    )
    server.add_argument(
        "--dns-port",
        type=int,
        default=int(os.environ["DOCKYARD_DNS_PORT"])
        if os.environ.get("DOCKYARD_DNS_PORT")
        else None,
        help="answer DNS (UDP and TCP, on --host) for Cloud Map private DNS namespaces on this "
        "port (default: $DOCKYARD_DNS_PORT, else no DNS server)",
    )
    server.add_argument(
        "--tls-cert",
        type=Path,
        help="serve HTTPS (the API and the agent link) with this PEM certificate (chain)",
    )
    server.add_argument("--tls-key", type=Path, help="the PEM private key of --tls-cert")
    server.add_argument(
        "--registry-host",
        help="the registry host:port in ECR repository URIs; may name {account} and {region} "
        "(e.g. '{account}.dkr.ecr.{region}.localhost:4566'; default: localhost:<port>)",
    )
    add_policy_arguments(server)
    add_agent_parser(commands)
    add_join_token_parser(commands)
    from dockyard.orphans_cli import add_orphans_parser

    add_orphans_parser(commands)
    return parser


def add_join_token_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tokens = commands.add_parser(
        "join-token",
        help="create (print), list or revoke tokens agents join a cluster with",
        description="Ask the server for a join token for --cluster (printed on stdout), list "
        "the account's tokens or revoke one. Signed with your AWS credentials "
        "($AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY), which a server with --auth-file "
        "requires; a token belongs to the signer's account.",
    )
    tokens.add_argument("--server", required=True, help="the server's URL, https://HOST:PORT")
    action = tokens.add_mutually_exclusive_group(required=True)
    action.add_argument("--cluster", help="create a token to join this cluster")
    action.add_argument("--list", action="store_true", help="list the tokens not yet expired")
    action.add_argument("--revoke", metavar="TOKEN_ID", help="revoke a token")
    tokens.add_argument(
        "--ttl", type=float, default=24 * 3600.0,
        help="seconds the new token stays valid (default: %(default).0f)",
    )  # fmt: skip
    tokens.add_argument("--ca", type=Path, help="CA bundle to verify an https server with")
    tokens.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    tokens.add_argument("--log-level", default="warning", choices=["debug", "info", "warning"])


def run_join_token_command(args: argparse.Namespace) -> int:
    from dockyard.agent.http_link import UntrustedServer
    from dockyard.agent.join_token import JoinTokenError, call

    try:
        if args.cluster:
            doc = call(
                args.server, "join-token", {"cluster": args.cluster, "ttlSeconds": args.ttl},
                region=args.region, ca=args.ca,
            )  # fmt: skip
            print(doc["joinToken"])
        elif args.list:
            doc = call(args.server, "list-join-tokens", {}, region=args.region, ca=args.ca)
            for token in doc.get("tokens", []):
                print(f"{token['tokenId']}\t{token['cluster']}\texpires {token['expiresAt']:.0f}")
        else:
            call(
                args.server, "revoke-join-token", {"tokenId": args.revoke},
                region=args.region, ca=args.ca,
            )  # fmt: skip
            print(f"revoked {args.revoke}")
    except (JoinTokenError, UntrustedServer) as exc:
        print(f"dockyard: {exc}", file=sys.stderr)
        return 1
    return 0


def add_agent_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agent = commands.add_parser(
        "agent",
        help="join this host to a Dockyard server's cluster as a container instance",
        description="Register this host as a container instance, then run the tasks the "
        "server places on it. Stopping the agent leaves its tasks running; started again on "
        "the same --data-dir it adopts them.",
    )
    agent.add_argument("--server", required=True, help="the server's URL, http://HOST:PORT")
    agent.add_argument("--cluster", default="default", help="cluster to join (default: default)")
    agent.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir() / "agent",
        help="where the agent keeps its state and its tasks' files (default: %(default)s)",
    )
    agent.add_argument(
        "--attributes", default="", help="custom attributes, NAME=VALUE[,NAME[=VALUE]...]"
    )
    agent.add_argument("--runtime", choices=["auto", "process", "docker"], default="auto")
    agent.add_argument(
        "--availability-zone", help="this host's zone (the ecs.availability-zone attribute)"
    )
    agent.add_argument(
        "--capacity-provider",
        help="the capacity provider this host belongs to (the dockyard.capacity-provider "
        "attribute); create it with CreateCapacityProvider",
    )
    agent.add_argument(
        "--host-ip", help="address tasks' published ports are reached on (default: the "
        "address this host reaches the server from)"
    )  # fmt: skip
    agent.add_argument(
        "--token-file",
        type=Path,
        help="file holding the join token (dockyard join-token) to register with; default: "
        "$DOCKYARD_JOIN_TOKEN. Needed when the server has --auth-file; once joined, the agent "
        "calls with its own credential, kept in its data dir",
    )
    agent.add_argument(
        "--ca", type=Path, help="CA bundle (PEM) the https server's certificate must verify with"
    )
    agent.add_argument(
        "--time-scale", type=float, default=1.0,
        help="run the agent's timers (heartbeats, health checks) N times faster",
    )  # fmt: skip
    agent.add_argument(
        "--task-subnet",
        help="subnet for bridge/awsvpc tasks of the process runtime (default 10.213.0.0/16)",
    )
    agent.add_argument("--task-bridge", help="bridge for those tasks (default dockyard0)")
    agent.add_argument(
        "--task-user", metavar="USER",
        help="process runtime as root: who containers without `user` run as "
        "(default: $DOCKYARD_TASK_USER, else nobody)",
    )  # fmt: skip
    agent.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def run_agent_command(args: argparse.Namespace) -> int:
    import asyncio

    from dockyard.agent.standalone import AgentOptions, parse_attributes, run_agent

    if args.time_scale <= 0:
        print("dockyard: --time-scale must be positive", file=sys.stderr)
        return 2
    try:
        attributes = parse_attributes(args.attributes)
    except ValueError as exc:
        print(f"dockyard: --attributes: {exc}", file=sys.stderr)
        return 2
    if error := task_user_error(args.task_user):
        print(f"dockyard: {error}", file=sys.stderr)
        return 2
    token = os.environ.get("DOCKYARD_JOIN_TOKEN") or None
    if args.token_file is not None:
        try:
            token = args.token_file.read_text().strip() or None
        except OSError as exc:
            print(f"dockyard: --token-file: {exc}", file=sys.stderr)
            return 2
    if args.ca is not None:
        import ssl

        try:
            ssl.create_default_context(cafile=str(args.ca))
        except (OSError, ssl.SSLError) as exc:
            print(f"dockyard: --ca: cannot load {args.ca}: {exc}", file=sys.stderr)
            return 2
    options = AgentOptions(
        server=args.server,
        cluster=args.cluster,
        data_dir=args.data_dir,
        attributes=attributes,
        runtime=args.runtime,
        availability_zone=args.availability_zone,
        host_ip=args.host_ip,
        capacity_provider=args.capacity_provider,
        join_token=token,
        ca=args.ca,
        time_scale=args.time_scale,
        task_subnet=args.task_subnet,
        task_bridge=args.task_bridge,
        task_user=args.task_user,
    )
    from dockyard.agent.http_link import UntrustedServer

    try:
        asyncio.run(run_agent(options))
    except UntrustedServer as exc:
        print(f"dockyard: {exc}; refusing to connect", file=sys.stderr)
        return 2
    return 0


def read_auth_file(path: Path) -> dict[str, str]:
    return read_auth_entries(path)[0]


def read_auth_entries(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The auth file's keys: `ACCESS_KEY_ID SECRET_ACCESS_KEY [ACCOUNT_ID]` per line.
    Returns (access key -> secret, access key -> account for the lines that name one)."""
    credentials: dict[str, str] = {}
    accounts: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) not in (2, 3):
            raise SystemExit(
                f"dockyard: {path}:{number}: expected 'ACCESS_KEY_ID SECRET_ACCESS_KEY "
                "[ACCOUNT_ID]'"
            )
        if len(parts) == 3:
            if not (len(parts[2]) == 12 and parts[2].isdigit()):
                raise SystemExit(f"dockyard: {path}:{number}: the account id must be 12 digits")
            accounts[parts[0]] = parts[2]
        credentials[parts[0]] = parts[1]
    return credentials, accounts


def read_store_file(path: Path) -> str:
    """The store URL kept in a file (so its password is not on the command line)."""
    try:
        url = path.read_text().strip()
    except OSError as exc:
        raise SystemExit(f"dockyard: --store-file {path}: {exc.strerror}") from None
    if not url:
        raise SystemExit(f"dockyard: --store-file {path} is empty")
    return url


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "server":
        from dockyard.wiring.server import ServerOptions, serve

        if args.time_scale <= 0:
            print("dockyard: --time-scale must be positive", file=sys.stderr)
            return 2
        try:
            policies = server_safety(args)
        except ValueError as exc:
            print(f"dockyard: {exc}", file=sys.stderr)
            return 2
        credentials, accounts = read_auth_entries(args.auth_file) if args.auth_file else (None, {})
        options = ServerOptions(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            store=read_store_file(args.store_file) if args.store_file else args.store,
            account_id=args.account_id,
            region=args.region,
            allow_reset=args.allow_reset,
            time_scale=args.time_scale,
            credentials=credentials,
            credential_accounts=accounts,
            runtime=args.runtime,
            local_agent=not args.no_local_agent,
            hosts=not args.no_hosts,
            log_level=args.log_level,
            agent_timeout=args.agent_timeout,
            agent_grace=args.agent_grace,
            lb_host=args.lb_host,
            dns_port=args.dns_port,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            task_policies=policies,
            task_user=args.task_user,
            registry_host=args.registry_host,
        )
        if (args.tls_cert is None) != (args.tls_key is None):
            print("dockyard: give both --tls-cert and --tls-key", file=sys.stderr)
            return 2
        if args.tls_cert is not None and args.tls_key is not None:
            import ssl

            try:  # before anything starts: a certificate that cannot serve says so at once
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(args.tls_cert, args.tls_key)
            except (OSError, ssl.SSLError) as exc:
                print(f"dockyard: --tls-cert/--tls-key: cannot load them: {exc}", file=sys.stderr)
                return 2
        from dockyard.dataplane.dns import DnsPortUnavailable
        from dockyard.store import StoreError

        if args.dns_port is not None and not 0 <= args.dns_port <= 65535:
            print("dockyard: --dns-port must be between 0 and 65535", file=sys.stderr)
            return 2
        try:
            return serve(options)
        except (StoreError, DnsPortUnavailable) as exc:
            print(f"dockyard: {exc}", file=sys.stderr)
            return 2
    if args.command == "agent":
        return run_agent_command(args)
    if args.command == "join-token":
        return run_join_token_command(args)
    if args.command == "orphans":
        from dockyard.orphans_cli import run_orphans_command

        return run_orphans_command(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
