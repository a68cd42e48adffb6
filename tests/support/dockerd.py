"""A second Docker engine with its own data root, for pulling what another one pushed.

It gets a bridge of its own (created here, removed at the end): `--bridge=none` would make
dockerd delete the host's `docker0`, which the first engine's containers use.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path

from tests.support.waiting import wait_for


class SecondEngine:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.bridge = f"dye2e{uuid.uuid4().hex[:8]}"
        self.socket = root / "docker.sock"
        self.host = f"unix://{self.socket}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> SecondEngine:
        for d in ("data", "exec"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        subprocess.run(["ip", "link", "add", self.bridge, "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", "10.252.77.1/24", "dev", self.bridge], check=True)
        config = self.root / "daemon.json"
        config.write_text("{}")
        self.log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                shutil.which("dockerd") or "dockerd",
                "--data-root", str(self.root / "data"),
                "--exec-root", str(self.root / "exec"),
                "--pidfile", str(self.root / "dockerd.pid"),
                "--config-file", str(config),
                "-H", self.host,
                "--bridge", self.bridge, "--iptables=false", "--ip6tables=false",
                "--ip-forward=false",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(lambda: self._answers(), 60, "the second dockerd to answer", every=0.2)
        return self

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError((self.root / "dockerd.log").read_text()[-3000:])
        done = subprocess.run(["docker", "-H", self.host, "version"], capture_output=True)
        return done.returncode == 0

    def stop(self) -> None:
        try:
            if self.proc is not None:
                self._stop()
        finally:
            subprocess.run(["ip", "link", "del", self.bridge], check=False, capture_output=True)

    def _stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()
        time.sleep(0.1)
        self.proc = None
