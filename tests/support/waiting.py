"""Polling for what a test waits to see."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    check: Callable[[], T], timeout: float = 20.0, what: str = "", every: float = 0.05
) -> T:
    """Call `check` until it answers something true and return that; after `timeout` seconds
    fail, naming `what` and the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {last!r}")
        time.sleep(every)
