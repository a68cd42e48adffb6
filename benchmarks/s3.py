"""S3 throughput: PUT and GET of large objects (MiB/s), of 1 MiB objects (req/s and MiB/s)
and of small objects (req/s), against Dockyard and against moto_server's S3 in the same
run, with the disk's own sequential write speed (`dd ... conv=fsync`) as the limit for large
PUTs.

Both servers get the same client: plain HTTP/1.1 keep-alive connections (unsigned, both
servers run without authentication), so the figures are the servers' and not boto3's
hashing. Large objects go one at a time on one connection; 1 MiB and small objects from
`--clients` processes at once, each with its own connection and keys.

The same client against two trivial servers that store nothing (benchmarks/s3_ceiling.py:
a bare asyncio protocol, and uvicorn with a do-nothing ASGI app) gives the ceilings of the
1 MiB figures on this machine: the client's own, and that of the HTTP stack Dockyard runs on.

    .venv/bin/python benchmarks/s3.py [--large-mib 512] [--mib-objects 200] [--small 2000]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.api_throughput import start_moto  # noqa: E402
from benchmarks.s3_ceiling import trivial_server  # noqa: E402
from tests.support.server import DockyardProcess, free_port  # noqa: E402

MiB = 1024 * 1024
BLOCK = os.urandom(MiB)
# Neither server checks signatures here; moto routes an unsigned GET nowhere, so every
# request names S3 in a (never verified) credential scope.
AUTH = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=0",
    "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
}


def _conn(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=600)


def _request(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None
) -> bytes:
    headers = {"Content-Length": str(len(body or b"")), **AUTH}
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status >= 300:
        raise RuntimeError(f"{method} {path}: {resp.status} {data[:200]!r}")
    return data


def _large_put(port: int, bucket: str, size_mib: int) -> float:
    conn = _conn(port)
    conn.putrequest("PUT", f"/{bucket}/large.bin")
    conn.putheader("Content-Length", str(size_mib * MiB))
    for name, value in AUTH.items():
        conn.putheader(name, value)
    conn.endheaders()
    start = time.perf_counter()
    for _ in range(size_mib):
        conn.send(BLOCK)
    resp = conn.getresponse()
    resp.read()
    elapsed = time.perf_counter() - start
    if resp.status != 200:
        raise RuntimeError(f"large PUT: {resp.status}")
    conn.close()
    return size_mib / elapsed


def _large_get(port: int, bucket: str, size_mib: int) -> float:
    conn = _conn(port)
    start = time.perf_counter()
    conn.request("GET", f"/{bucket}/large.bin", headers=AUTH)
    resp = conn.getresponse()
    got = 0
    while chunk := resp.read(MiB):
        got += len(chunk)
    elapsed = time.perf_counter() - start
    conn.close()
    if got != size_mib * MiB:
        raise RuntimeError(f"large GET: {got} bytes")
    return size_mib / elapsed


def _worker(args: tuple[int, str, int, int, int, str]) -> float:
    port, bucket, client, count, size, method = args
    conn = _conn(port)
    body = BLOCK[:size]
    start = time.perf_counter()
    for i in range(count):
        path = f"/{bucket}/c{client}/o{i}"
        if method == "PUT":
            _request(conn, "PUT", path, body)
        else:
            _request(conn, "GET", path)
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def _many(port: int, bucket: str, clients: int, total: int, size: int, method: str) -> float:
    """req/s of `total` requests of `size` bytes from `clients` processes at once."""
    per = max(1, total // clients)
    jobs = [(port, bucket, c, per, size, method) for c in range(clients)]
    start = time.perf_counter()
    with multiprocessing.Pool(clients) as pool:
        pool.map(_worker, jobs)
    return per * clients / (time.perf_counter() - start)


def disk_write_mib_s(folder: Path, size_mib: int) -> float:
    target = folder / "dd.bin"
    start = time.perf_counter()
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={target}", "bs=1M", f"count={size_mib}", "conv=fsync"],
        check=True,
        capture_output=True,
    )
    elapsed = time.perf_counter() - start
    target.unlink()
    return size_mib / elapsed


def measure(port: int, args: argparse.Namespace) -> dict[str, float]:
    bucket = f"bench{free_port()}"
    conn = _conn(port)
    _request(conn, "PUT", f"/{bucket}")
    conn.close()
    out = {
        "large PUT MiB/s": _large_put(port, bucket, args.large_mib),
        "large GET MiB/s": _large_get(port, bucket, args.large_mib),
    }
    put = _many(port, bucket, args.clients, args.mib_objects, MiB, "PUT")
    get = _many(port, bucket, args.clients, args.mib_objects, MiB, "GET")
    out.update({"1 MiB PUT req/s": put, "1 MiB GET req/s": get})
    small = f"{bucket}s"
    conn = _conn(port)
    _request(conn, "PUT", f"/{small}")
    conn.close()
    out["1 KiB PUT req/s"] = _many(port, small, args.clients, args.small, 1024, "PUT")
    out["1 KiB GET req/s"] = _many(port, small, args.clients, args.small, 1024, "GET")
    return out


def ceilings(args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    """1 MiB PUT and GET req/s of the same client against servers that store nothing."""
    found = {}
    for kind in ("raw", "uvicorn"):
        with trivial_server(kind, free_port()) as port:
            found[kind] = (
                _many(port, "ceiling", args.clients, args.mib_objects, MiB, "PUT"),
                _many(port, "ceiling", args.clients, args.mib_objects, MiB, "GET"),
            )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-mib", type=int, default=512)
    parser.add_argument("--mib-objects", type=int, default=200)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="s3bench-", dir=os.environ.get("BENCH_DIR")) as tmp:
        data = Path(tmp) / "data"
        dockyard = DockyardProcess(data, "--no-local-agent").start()
        moto_port = free_port()
        moto = start_moto(moto_port)
        try:
            disk = disk_write_mib_s(data, args.large_mib)
            results = {
                "dockyard": measure(dockyard.port, args),
                "moto": measure(moto_port, args),
            }
            ceiling = ceilings(args)
        finally:
            moto.terminate()
            moto.wait()
            dockyard.stop()
    print(f"disk (dd bs=1M count={args.large_mib} conv=fsync): {disk:.0f} MiB/s")
    print(f"{'figure':<18}{'dockyard':>10}{'moto':>10}{'ratio':>9}")
    for name, ours in results["dockyard"].items():
        theirs = results["moto"][name]
        print(f"{name:<18}{ours:>10.1f}{theirs:>10.1f}{ours / theirs:>8.2f}x")
    put = results["dockyard"]["large PUT MiB/s"]
    print(f"large PUT / disk write: {put / disk:.0%}")
    moto_put, moto_get = results["moto"]["1 MiB PUT req/s"], results["moto"]["1 MiB GET req/s"]
    print(f"5x moto on 1 MiB: PUT {5 * moto_put:.0f} req/s, GET {5 * moto_get:.0f} req/s")
    for kind, label in (("raw", "bare asyncio"), ("uvicorn", "uvicorn, no-op app")):
        c_put, c_get = ceiling[kind]
        print(
            f"ceiling, this client vs a server storing nothing ({label}): "
            f"1 MiB PUT {c_put:.0f} req/s ({c_put / moto_put:.1f}x moto), "
            f"GET {c_get:.0f} req/s ({c_get / moto_get:.1f}x moto)"
        )


if __name__ == "__main__":
    main()
