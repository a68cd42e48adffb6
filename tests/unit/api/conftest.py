"""A real uvicorn server on a free port serving the test providers, and botocore
clients of the test models pointed at it."""

from __future__ import annotations

import copy
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import uvicorn
from botocore.config import Config

from dockyard.api.app import FrontDoorConfig, create_app
from dockyard.api.context import RequestContext
from dockyard.api.provider import Provider
from dockyard.core.errors import ServiceError
from tests.unit.api import testmodels

SERVICES = ("testjson", "testquery", "testcbor", "testrestjson", "testrestxml", "testmulti")


def _echo(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    out = dict(params)
    if ctx.service in ("testrestjson", "testrestxml"):
        out["Status"] = 201
    return out


async def _fail(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    raise ServiceError(
        params.get("Message", "failed"), code=params["Code"], status=params.get("Status", 400)
    )


def _boom(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("a bug")


def _upload(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"Body": params.get("Body", b"")[::-1], "ContentType": "application/x-reversed"}


def _put_doc(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"Doc": params.get("Doc", {})}


def _whoami(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"Name": ctx.account_id, "Names": [ctx.region, ctx.protocol, ctx.request_id]}


def providers() -> list[Provider]:
    handlers = {
        "Echo": _echo,
        "Fail": _fail,
        "Boom": _boom,
        "Upload": _upload,
        "PutDoc": _put_doc,
        "Whoami": _whoami,
    }
    out = [Provider(s, dict(handlers)) for s in SERVICES]
    out[0] = Provider("testjson", dict(handlers), "InvalidParameterException")
    out[1] = Provider("testquery", dict(handlers), "ValidationError")
    return out


@pytest.fixture(scope="session")
def model_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    for name, model in testmodels.models().items():
        testmodels.write(root / "server", name, model)
        testmodels.write(root / "client", name, model)
    # Clients that each speak one of testmulti's protocols.
    for protocol in ("json", "query", "smithy-rpc-v2-cbor"):
        model = copy.deepcopy(testmodels.models()["testmulti"])
        model["metadata"]["protocol"] = protocol
        model["metadata"]["protocols"] = [protocol]
        testmodels.write(root / f"client-{protocol}", "testmulti", model)
    return root


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    app: Any


def _serve(app: Any) -> Iterator[Server]:
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield Server(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(5)


@pytest.fixture(scope="session")
def resets() -> list[str]:
    return []


@pytest.fixture(scope="session")
def server(model_root: Path, resets: list[str]) -> Iterator[Server]:
    provs = providers()
    provs[0] = Provider(
        "testjson",
        provs[0].handlers,
        "InvalidParameterException",
        reset=lambda: resets.append("testjson"),
    )
    app = create_app(
        FrontDoorConfig(allow_reset=True, model_paths=(str(model_root / "server"),)),
        provs,
        on_reset=lambda: resets.append("store"),
    )
    yield from _serve(app)


@pytest.fixture(scope="session")
def secure_server(model_root: Path) -> Iterator[Server]:
    app = create_app(
        FrontDoorConfig(
            credentials={"AKIDGOOD": "secret", "123456789012": "acct-secret"},
            model_paths=(str(model_root / "server"),),
        ),
        [
            Provider("testjson", {"Whoami": _whoami}),
            Provider("testquery", {"Whoami": _whoami}),
            Provider("testrestxml", {"Whoami": _whoami}),
        ],
    )
    yield from _serve(app)


ClientFactory = Callable[..., Any]


@pytest.fixture(scope="session")
def make_client(model_root: Path) -> ClientFactory:
    sessions: dict[str, botocore.session.Session] = {}

    def factory(
        service: str,
        url: str,
        *,
        variant: str = "client",
        validate: bool = True,
        key: str = "AKIDEXAMPLE",
        secret: str = "x",
        region: str = "us-east-1",
    ) -> Any:
        session = sessions.get(variant)
        if session is None:
            session = botocore.session.get_session()
            if variant != "real":
                loader = session.get_component("data_loader")
                loader.search_paths.insert(0, str(model_root / variant))
            sessions[variant] = session
        return session.create_client(
            service,
            region_name=region,
            endpoint_url=url,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(
                parameter_validation=validate,
                retries={"max_attempts": 0},
                s3={"addressing_style": "path"},
            ),
        )

    return factory
