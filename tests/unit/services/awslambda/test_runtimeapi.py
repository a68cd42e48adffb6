"""The Runtime API of one environment serves only that environment's processes."""

from __future__ import annotations

import asyncio
import sys

from dockyard.services.awslambda.runtimeapi import Delivery, RuntimeListener

GET_NEXT = """
import sys, urllib.request
try:
    with urllib.request.urlopen("http://%s/2018-06-01/runtime/invocation/next", timeout=5) as r:
        print(r.headers["Lambda-Runtime-Aws-Request-Id"], r.read().decode())
except Exception as exc:
    print("refused", type(exc).__name__)
"""


class Env:
    def __init__(self) -> None:
        self.answers: list[tuple[str, bytes]] = []

    async def next_invocation(self) -> Delivery:
        return Delivery("req-1", b'{"a": 1}', 0, "arn:aws:lambda:us-east-1:0:function:f", "Root=1")

    def respond(self, request_id: str, body: bytes) -> bool:
        self.answers.append((request_id, body))
        return request_id == "req-1"

    def fail(self, request_id: str, body: bytes, error_type: str | None) -> bool:
        return False

    def init_failed(self, body: bytes, error_type: str | None) -> None:
        pass


async def fetch(address: str, own_session: bool, listener: RuntimeListener) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", GET_NEXT % address, stdout=asyncio.subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    if own_session:
        listener.session = proc.pid
    out, _ = await proc.communicate()
    return out.decode().strip()


def test_a_process_of_the_environment_gets_its_invocation_and_others_do_not() -> None:
    async def go() -> tuple[str, str]:
        listener = RuntimeListener(Env())
        address = await listener.start()
        try:
            listener.session = 1  # some other session: not the caller's
            stranger = await fetch(address, False, listener)
            own = await fetch(address, True, listener)
        finally:
            listener.close()
        return stranger, own

    stranger, own = asyncio.run(go())
    assert stranger.startswith("refused")
    assert own == 'req-1 {"a": 1}'
