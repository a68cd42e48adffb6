"""A probe that keeps asking the server something cheap while an attack runs, from its own
thread and keep-alive connection, and remembers how long the slowest answer took: the proof
that an attack did not stall the server's loop for anyone else."""

from __future__ import annotations

import http.client
import threading
import time
from types import TracebackType


class Probe:
    """GET `path` on 127.0.0.1:`port` every `every` seconds until the `with` block ends."""

    def __init__(self, port: int, path: str, every: float = 0.005) -> None:
        self.port = port
        self.path = path
        self.every = every
        self.latencies: list[float] = []
        self.statuses: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.connect()  # the connection is made before timing: only answers are measured
            while not self._stop.is_set():
                start = time.perf_counter()
                conn.request("GET", self.path)
                resp = conn.getresponse()
                resp.read()
                self.latencies.append(time.perf_counter() - start)
                self.statuses.append(resp.status)
                self._stop.wait(self.every)
        finally:
            conn.close()

    def __enter__(self) -> Probe:
        self._thread.start()
        time.sleep(0.05)  # a few answers before the attack starts
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    @property
    def slowest(self) -> float:
        return max(self.latencies)

    def assert_answered_within(self, seconds: float) -> None:
        assert len(self.latencies) >= 3, f"the probe got only {len(self.latencies)} answers"
        assert set(self.statuses) == {200}, f"the probe saw {sorted(set(self.statuses))}"
        assert self.slowest < seconds, (
            f"{self.path} on port {self.port} took {self.slowest * 1000:.0f} ms during the attack"
        )
