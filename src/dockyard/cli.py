"""The `dockyard` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dockyard import __version__


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
        "--data-dir",
        type=Path,
        default=Path(os.environ["DOCKYARD_DATA_DIR"])
        if os.environ.get("DOCKYARD_DATA_DIR")
        else default_data_dir(),
        help="where state is kept (default: %(default)s)",
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
        help="verify SigV4 signatures against ACCESS_KEY_ID SECRET pairs, one per line",
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
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
    )
    return parser


def read_auth_file(path: Path) -> dict[str, str]:
    credentials: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2:
            raise SystemExit(
                f"dockyard: {path}:{number}: expected 'ACCESS_KEY_ID SECRET_ACCESS_KEY'"
            )
        credentials[parts[0]] = parts[1]
    return credentials


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "server":
        from dockyard.server import ServerOptions, serve

        if args.time_scale <= 0:
            print("dockyard: --time-scale must be positive", file=sys.stderr)
            return 2
        options = ServerOptions(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            account_id=args.account_id,
            region=args.region,
            allow_reset=args.allow_reset,
            time_scale=args.time_scale,
            credentials=read_auth_file(args.auth_file) if args.auth_file else None,
            runtime=args.runtime,
            local_agent=not args.no_local_agent,
            log_level=args.log_level,
        )
        return serve(options)
    return 2


if __name__ == "__main__":
    sys.exit(main())
