"""A container's health check command run by the process runtime: inside the container
(its namespaces, its root, its main process's environment) through the shim's `--exec`,
killed with its process group when it outlives its timeout."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

SHIM = str(Path(__file__).with_name("shim.py"))


def shell_form(command: list[str]) -> list[str]:
    """The argv of a task definition's health check (`CMD-SHELL ...` or `CMD ...`)."""
    if command and command[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(command[1:])]
    if command and command[0] == "CMD":
        return command[1:]
    return command


async def run_check(config: Path, command: list[str], timeout: float) -> bool:
    """Whether the check exits 0 within `timeout` seconds."""
    argv = shell_form(command)
    if not argv:
        return False
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-S",
            SHIM,
            "--exec",
            str(config),
            "--",
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return False
    try:
        # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation that
        # arrives as the check ends, and the health monitor would never stop.
        async with asyncio.timeout(timeout):
            return await proc.wait() == 0
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        return False
