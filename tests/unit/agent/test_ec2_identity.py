"""The agent inside an EC2 instance: it reads its identity from the metadata service and
registers with it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from dockyard.agent.agent import Agent
from dockyard.agent.ec2_identity import (
    DEFAULT_ENDPOINT,
    IdentityUnavailable,
    InstanceIdentity,
    endpoint_from,
    fetch_identity,
    source,
)
from dockyard.core.agentlink import registration_body
from dockyard.core.clock import ManualClock, RealClock
from dockyard.dataplane.imds import ImdsServer
from dockyard.drivers.process import ProcessDriver
from dockyard.services.ecs.instances.agent_http import _registration
from tests.unit.agent.fakes import FakeLink
from tests.unit.dataplane.imds_fakes import REQUIRED, VIEW, FakeMetadata, FakeVerifier


async def started(metadata: FakeMetadata) -> ImdsServer:
    server = ImdsServer(metadata, ManualClock(), "127.0.0.1", 0)
    await server.start()
    return server


def test_the_agent_fetches_a_document_that_verifies_even_when_tokens_are_required() -> None:
    async def main() -> None:
        metadata = FakeMetadata()
        metadata.set(http_tokens=REQUIRED)
        server = await started(metadata)
        try:
            identity = await fetch_identity(f"http://127.0.0.1:{server.port}")
        finally:
            await server.stop()
        assert json.loads(identity.document)["instanceId"] == VIEW.instance_id
        assert FakeVerifier().verify(identity.document.encode(), identity.signature)

    asyncio.run(main())


def test_no_metadata_service_is_identity_unavailable() -> None:
    async def main() -> None:
        metadata = FakeMetadata()
        metadata.set(endpoint_enabled=False)
        server = await started(metadata)
        try:
            with pytest.raises(IdentityUnavailable, match="403"):
                await fetch_identity(f"http://127.0.0.1:{server.port}")
        finally:
            await server.stop()
        with pytest.raises(IdentityUnavailable, match="unreachable"):
            await fetch_identity(f"http://127.0.0.1:{server.port}")

    asyncio.run(main())


def test_enabled_by_the_environment() -> None:
    assert endpoint_from({}) is None
    assert endpoint_from({"ECS_INSTANCE_METADATA": "0"}) is None
    assert endpoint_from({"ECS_INSTANCE_METADATA": "1"}) == DEFAULT_ENDPOINT
    env = {"ECS_INSTANCE_METADATA": "true", "ECS_INSTANCE_METADATA_ENDPOINT": "http://x:1"}
    assert endpoint_from(env) == "http://x:1"


def test_the_agent_registers_with_its_identity(tmp_path: Path) -> None:
    async def main() -> None:
        server = await started(FakeMetadata())
        link = FakeLink()
        agent = Agent(
            link,
            ProcessDriver(tmp_path),
            RealClock(),
            tmp_path,
            poll_wait=5,
            metadata=False,
            identity=source(f"http://127.0.0.1:{server.port}"),
        )
        task = asyncio.create_task(agent.run())
        try:
            await asyncio.wait_for(agent.ready.wait(), 10)
        finally:
            await agent.stop()
            await task
            await server.stop()
        (reg,) = link.registrations
        assert reg.identity_document is not None and reg.identity_signature is not None
        assert json.loads(reg.identity_document)["instanceId"] == VIEW.instance_id
        assert FakeVerifier().verify(reg.identity_document.encode(), reg.identity_signature)
        # Over the HTTP agent protocol the fields arrive as sent.
        received = _registration(registration_body(reg))
        assert received.identity_document == reg.identity_document
        assert received.identity_signature == reg.identity_signature

    asyncio.run(main())


def test_the_agent_waits_for_the_metadata_service(tmp_path: Path) -> None:
    calls: list[int] = []

    async def flaky() -> InstanceIdentity:
        calls.append(1)
        if len(calls) == 1:
            raise IdentityUnavailable("the metadata service is unreachable")
        return InstanceIdentity('{"instanceId": "i-1"}', "sig")

    async def main() -> None:
        link = FakeLink()
        agent = Agent(
            link, ProcessDriver(tmp_path), RealClock(), tmp_path, metadata=False, identity=flaky
        )
        task = asyncio.create_task(agent.run())
        try:
            await asyncio.wait_for(agent.ready.wait(), 10)
        finally:
            await agent.stop()
            await task
        (reg,) = link.registrations  # nothing registered without the identity
        assert (reg.identity_document, reg.identity_signature) == ('{"instanceId": "i-1"}', "sig")
        assert len(calls) == 2

    asyncio.run(main())
