"""Lambda cold start and warm invoke latency of a no-op Python function (p50/p99), through
boto3 against `dockyard server`, beside two references in the same run:

- moto_server's Lambda (moto runs functions in Docker containers of public images; when it
  cannot, the error it answers is printed instead of figures);
- the limit: the same handler under `python -m awslambdaric` against a minimal Runtime API
  of this script (no HTTP API in front, no logs), which is what an invocation costs at least.

    .venv/bin/python benchmarks/lambda.py --cold 20 --warm 500
"""

from __future__ import annotations

import argparse
import http.server
import io
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.server import DockyardProcess, free_port

SOURCE = "def handler(event, context):\n    return None\n"
TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
})  # fmt: skip


def zipped() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", SOURCE)
    return buf.getvalue()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(what: str, cold: list[float], warm: list[float]) -> dict[str, float]:
    out = {"cold_p50": pct(cold, 50), "cold_p99": pct(cold, 99),
           "warm_p50": pct(warm, 50), "warm_p99": pct(warm, 99)}  # fmt: skip
    print(f"{what:<22} cold p50 {out['cold_p50']:8.2f} ms  p99 {out['cold_p99']:8.2f} ms   "
          f"warm p50 {out['warm_p50']:6.2f} ms  p99 {out['warm_p99']:6.2f} ms")  # fmt: skip
    return out


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def run_api(endpoint: str, cold_n: int, warm_n: int) -> tuple[list[float], list[float]]:
    lam, iam = client("lambda", endpoint), client("iam", endpoint)
    try:
        role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    except Exception:
        role = "arn:aws:iam::123456789012:role/bench"
    code = zipped()
    cold: list[float] = []
    for i in range(cold_n):
        name = f"bench-cold-{i}"
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                            Handler="app.handler", Code={"ZipFile": code})  # fmt: skip
        lam.get_waiter("function_active_v2").wait(FunctionName=name,
                                                  WaiterConfig={"Delay": 1})  # fmt: skip
        start = time.perf_counter()
        out = lam.invoke(FunctionName=name, Payload=b"{}")
        cold.append((time.perf_counter() - start) * 1000)
        if out.get("FunctionError"):  # the server could not run it
            raise RuntimeError(out["Payload"].read().decode(errors="replace"))
    name = "bench-cold-0"
    for _ in range(20):  # warm-up
        lam.invoke(FunctionName=name, Payload=b"{}")
    warm = [timed(lambda: lam.invoke(FunctionName=name, Payload=b"{}")) for _ in range(warm_n)]
    return cold, warm


def start_moto(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("moto_server did not start")


class _Api(http.server.BaseHTTPRequestHandler):
    """A minimal Runtime API for one runtime process: events in, answers out."""

    events: queue.Queue[str] = queue.Queue()
    answers: queue.Queue[float] = queue.Queue()

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        request_id = self.events.get()
        self.send_response(200)
        for k, v in (
            ("Lambda-Runtime-Aws-Request-Id", request_id),
            ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 60_000)),
            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:::function:x"),
            ("Lambda-Runtime-Trace-Id", "Root=1-0-0;Sampled=0"),
            ("Content-Type", "application/json"),
            ("Content-Length", "2"),
        ):
            self.send_header(k, v)  # fmt: skip
        self.end_headers()
        self.wfile.write(b"{}")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.answers.put(time.perf_counter())


def run_direct(cold_n: int, warm_n: int) -> tuple[list[float], list[float]]:
    code = Path(tempfile.mkdtemp())
    (code / "app.py").write_text(SOURCE)
    cold: list[float] = []
    warm: list[float] = []
    for i in range(cold_n):  # a Runtime API of its own for each runtime process
        api = type("Api", (_Api,), {"events": queue.Queue(), "answers": queue.Queue()})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), api)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        env = {**os.environ, "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
               "PYTHONPATH": str(code)}  # fmt: skip
        start = time.perf_counter()
        argv = [sys.executable, "-m", "awslambdaric", "app.handler"]
        quiet = subprocess.DEVNULL
        proc = subprocess.Popen(argv, cwd=code, env=env, stdout=quiet, stderr=quiet)
        api.events.put(f"cold-{i}")
        cold.append((api.answers.get(timeout=30) - start) * 1000)
        if i == cold_n - 1:
            for j in range(warm_n):
                start = time.perf_counter()
                api.events.put(f"warm-{j}")
                warm.append((api.answers.get(timeout=30) - start) * 1000)
        proc.kill()
        proc.wait()
        server.shutdown()
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold", type=int, default=20)
    parser.add_argument("--warm", type=int, default=500)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        dockyard = DockyardProcess(Path(tmp) / "data", "--runtime", "process").start()
        try:
            results["dockyard"] = line("dockyard", *run_api(dockyard.endpoint, args.cold,
                                                            args.warm))  # fmt: skip
        finally:
            dockyard.stop()
    port = free_port()
    moto = start_moto(port)
    try:
        results["moto"] = line("moto_server", *run_api(f"http://127.0.0.1:{port}", args.cold,
                                                       args.warm))  # fmt: skip
    except Exception as exc:
        print(f"{'moto_server':<22} cannot run functions here: {str(exc)[:300]}")
    finally:
        moto.terminate()
        moto.wait()
    results["direct"] = line("awslambdaric (limit)", *run_direct(args.cold, args.warm))
    ours = results["dockyard"]
    for ref in ("moto", "direct"):
        if ref in results:
            theirs = results[ref]
            print(f"ratio dockyard / {ref:<8} cold p50 {ours['cold_p50'] / theirs['cold_p50']:.2f}x"
                  f"   warm p50 {ours['warm_p50'] / theirs['warm_p50']:.2f}x")  # fmt: skip
    print(
        f"goals: warm p50 < 5 ms: {ours['warm_p50'] < 5}; cold p50 < 300 ms: "
        f"{ours['cold_p50'] < 300}"
    )


if __name__ == "__main__":
    main()
