"""SQS throughput: messages sent, received and deleted per second, in batches of 10, from a
pool of boto3 client processes, against Dockyard and against moto_server on the same machine,
in the same run.

    .venv/bin/python benchmarks/sqs.py [--clients 4] [--messages 2000] [--batch 10]

Each client process has its own queue: it sends `messages` (SendMessageBatch), then receives
them (ReceiveMessage, up to `batch` at a time) and deletes what it got (DeleteMessageBatch)
until every message it sent is gone. A message counts once it has been sent, received and
deleted. Prints messages/s per server and the ratio Dockyard / moto.

Then the long-poll latency: a ReceiveMessage with WaitTimeSeconds 10 waits on an empty queue,
a SendMessage is made, and the time from the start of the send to the poll's answer is
measured (`--polls` times; p50 and max), on both servers. The issue's goal: within 50 ms.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.server import DockyardProcess, free_port


def client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=4),
    )


def worker(args: tuple[str, int, int, Any]) -> float:
    """The seconds this client took to send, receive and delete its messages."""
    endpoint, messages, batch, barrier = args
    sqs = client(endpoint)
    url = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for _ in range(5):  # warm up the connection and botocore's caches
        sqs.send_message(QueueUrl=url, MessageBody="warm-up")
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    body = "x" * 256
    barrier.wait()
    start = time.perf_counter()
    for first in range(0, messages, batch):
        entries = [{"Id": str(i), "MessageBody": body}
                   for i in range(min(batch, messages - first))]  # fmt: skip
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    left = messages
    while left > 0:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch).get("Messages", [])
        if not got:
            continue
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
        ])  # fmt: skip
        left -= len(got)
    return time.perf_counter() - start


def measure(endpoint: str, clients: int, messages: int, batch: int) -> float:
    """Messages per second, all clients together."""
    with mp.Manager() as manager:
        barrier = manager.Barrier(clients + 1)
        with mp.Pool(clients) as pool:
            result = pool.map_async(worker, [(endpoint, messages, batch, barrier)] * clients)
            barrier.wait()
            start = time.perf_counter()
            result.get()
            elapsed = time.perf_counter() - start
    return clients * messages / elapsed


def poll_latencies(endpoint: str, polls: int) -> list[float]:
    """Milliseconds from the start of a SendMessage to the answer of a waiting long poll."""
    import threading

    sqs = client(endpoint)
    url = sqs.create_queue(QueueName=f"poll-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    poller = client(endpoint)
    out: list[float] = []
    for i in range(polls):
        answered: dict[str, float] = {}

        def wait(answered: dict[str, float] = answered) -> None:
            got = poller.receive_message(QueueUrl=url, WaitTimeSeconds=10)
            answered["at"] = time.perf_counter()
            for m in got.get("Messages", []):
                poller.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

        thread = threading.Thread(target=wait)
        thread.start()
        time.sleep(0.3)  # the poll is waiting at the server
        sent = time.perf_counter()
        sqs.send_message(QueueUrl=url, MessageBody=f"poll {i}")
        thread.join(timeout=15)
        out.append((answered.get("at", float("inf")) - sent) * 1000)
    return sorted(out)


def start_moto(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto_server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--messages", type=int, default=2000, help="per client")
    parser.add_argument("--batch", type=int, default=10, help="messages per call (1-10)")
    parser.add_argument("--polls", type=int, default=20, help="long polls to time")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        dockyard = DockyardProcess(Path(tmp) / "data", "--no-local-agent", "--no-hosts").start()
        moto_port = free_port()
        moto = start_moto(moto_port)
        try:
            targets = {"dockyard": dockyard.endpoint, "moto": f"http://127.0.0.1:{moto_port}"}
            print(f"{args.clients} client processes, {args.messages} messages each, "
                  f"batches of {args.batch}")  # fmt: skip
            print(f"{'server':<10}{'messages/s':>12}")
            results = {}
            for name, endpoint in targets.items():
                results[name] = measure(endpoint, args.clients, args.messages, args.batch)
                print(f"{name:<10}{results[name]:>12.0f}")
            ratio = results["dockyard"] / results["moto"]
            print(f"{'ratio':<10}{ratio:>11.2f}x  (dockyard messages/s / moto messages/s; "
                  "send + receive + delete)")  # fmt: skip
            print(f"long poll answered after a send ({args.polls} polls), ms:")
            print(f"{'server':<10}{'p50':>8}{'max':>8}")
            for name, endpoint in targets.items():
                lat = poll_latencies(endpoint, args.polls)
                print(f"{name:<10}{lat[len(lat) // 2]:>8.1f}{lat[-1]:>8.1f}")
        finally:
            dockyard.stop()
            moto.terminate()
            moto.wait()


if __name__ == "__main__":
    main()
