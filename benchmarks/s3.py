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

The disk's own limits come from the same run: `dd ... conv=fsync` for large PUTs, and 1 MiB
files written, fsynced, renamed and their folder fsynced by `--clients` threads at once (what
any server that acknowledges only durable PUTs must do) for 1 MiB PUTs. Every figure is the
median of `--rounds` rounds, each round measuring everything once, so that load from other
work on a shared machine weighs on both servers alike.

    .venv/bin/python benchmarks/s3.py [--large-mib 512] [--mib-objects 200] [--small 2000]
        [--clients 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
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


def durable_files_per_s(folder: Path, count: int, threads: int) -> float:
    """1 MiB files made durable per second by `threads` writers at once, each as a PUT
    must before it answers: write, fsync, rename into place, fsync the folder."""
    work = folder / "durable"
    (work / "tmp").mkdir(parents=True)
    (work / "final").mkdir()

    def one(i: int) -> None:
        tmp = work / "tmp" / str(i)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, BLOCK)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, work / "final" / str(i))
        dfd = os.open(work / "final", os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(count)))
    elapsed = time.perf_counter() - start
    shutil.rmtree(work)
    return count / elapsed


def one_round(
    data: Path, dockyard_port: int, moto_port: int, args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    """Every figure once: the disk's, both servers', the ceilings (all within a minute, so
    the shared machine's load is about the same for all of them)."""
    out = {
        "disk": {
            "dd MiB/s": disk_write_mib_s(data, args.large_mib),
            "durable 1 MiB files/s": durable_files_per_s(data, args.mib_objects, args.clients),
        },
        "dockyard": measure(dockyard_port, args),
        "moto": measure(moto_port, args),
    }
    for kind, (put, get) in ceilings(args).items():
        out[kind] = {"1 MiB PUT req/s": put, "1 MiB GET req/s": get}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-mib", type=int, default=512)
    parser.add_argument("--mib-objects", type=int, default=200)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds: list[dict[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="s3bench-", dir=os.environ.get("BENCH_DIR")) as tmp:
        data = Path(tmp) / "data"
        dockyard = DockyardProcess(data, "--no-local-agent").start()
        moto_port = free_port()
        moto = start_moto(moto_port)
        try:
            for _ in range(args.rounds):
                rounds.append(one_round(data, dockyard.port, moto_port, args))
        finally:
            moto.terminate()
            moto.wait()
            dockyard.stop()
    # The median of the rounds, each figure on its own (the machine may be shared).
    res = {
        group: {name: statistics.median(r[group][name] for r in rounds) for name in figures}
        for group, figures in rounds[0].items()
    }
    disk, ours, theirs = res["disk"], res["dockyard"], res["moto"]
    print(f"median of {args.rounds} rounds, {args.clients} clients")
    print(f"disk (dd bs=1M count={args.large_mib} conv=fsync): {disk['dd MiB/s']:.0f} MiB/s")
    files = disk["durable 1 MiB files/s"]
    print(f"disk, 1 MiB files made durable by {args.clients} writers at once: {files:.0f}/s")
    print(f"{'figure':<18}{'dockyard':>10}{'moto':>10}{'ratio':>9}   ratio in each round")
    for name, value in ours.items():
        each = " ".join(f"{r['dockyard'][name] / r['moto'][name]:.2f}" for r in rounds)
        print(
            f"{name:<18}{value:>10.1f}{theirs[name]:>10.1f}{value / theirs[name]:>8.2f}x   {each}"
        )
    print(f"large PUT / disk write: {ours['large PUT MiB/s'] / disk['dd MiB/s']:.0%}")
    print(f"1 MiB PUT / durable 1 MiB files: {ours['1 MiB PUT req/s'] / files:.0%}")
    moto_put, moto_get = theirs["1 MiB PUT req/s"], theirs["1 MiB GET req/s"]
    print(f"5x moto on 1 MiB: PUT {5 * moto_put:.0f} req/s, GET {5 * moto_get:.0f} req/s")
    for kind, label in (("raw", "bare asyncio"), ("uvicorn", "uvicorn, no-op app")):
        c_put, c_get = res[kind]["1 MiB PUT req/s"], res[kind]["1 MiB GET req/s"]
        print(
            f"ceiling, this client vs a server storing nothing ({label}): "
            f"1 MiB PUT {c_put:.0f} req/s ({c_put / moto_put:.1f}x moto), "
            f"GET {c_get:.0f} req/s ({c_get / moto_get:.1f}x moto)"
        )


if __name__ == "__main__":
    main()
