"""CloudWatch metrics: PutMetricData datapoints/s, then GetMetricData latency over what was
stored (1,000,000 datapoints by default), against Dockyard and moto_server in the same run.

    .venv/bin/python benchmarks/metrics.py [--datapoints 1000000] [--clients 4] [--timeout 60]

Datapoints go to 10 metrics (one namespace, a dimension each) spread over the last 24 hours,
1,000 MetricData entries per PutMetricData call, from `--clients` processes. GetMetricData
then asks for one metric's 24 hours at a 5-minute period (Average, Maximum, SampleCount), and
for all ten metrics' Sum (what moto_server answers; it has no percentiles or metric math).
Prints both servers' figures and the ratio Dockyard / moto. Last, Dockyard is stopped and
started again on its data dir: the time until it answers again (it reloads every datapoint
from `metrics.sqlite3`) and the first GetMetricData after it, which must return what it
returned before the restart.

Each GetMetricData call waits at most `--timeout` seconds, without retries: a server that does
not answer in time is reported as "> N s (timed out)", its remaining calls of that query are
skipped, and the ratio is printed as the lower bound it then is ("≥ Nx"). A timed-out server
may still be working on the abandoned call while it answers the next query.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.api_throughput import start_moto
from tests.support.server import DockyardProcess, free_port

NAMESPACE = "Bench"
METRICS = 10
BATCH = 1000
DAY = 86_400


def client(endpoint: str, read_timeout: float = 300) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "cloudwatch", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=read_timeout),
    )  # fmt: skip


def put_worker(args: tuple[str, int, int, float, Any]) -> int:
    endpoint, first, count, now, barrier = args
    cw = client(endpoint)
    barrier.wait()
    sent = 0
    for start in range(first, first + count, BATCH):
        data = []
        for i in range(start, min(start + BATCH, first + count)):
            ts = dt.datetime.fromtimestamp(now - (i * 7919 % DAY), dt.UTC)
            data.append(
                {
                    "MetricName": "Latency",
                    "Timestamp": ts,
                    "Value": float(i % 1000),
                    "Dimensions": [{"Name": "Shard", "Value": str(i % METRICS)}],
                }
            )
        cw.put_metric_data(Namespace=NAMESPACE, MetricData=data)
        sent += len(data)
    return sent


def put_all(endpoint: str, total: int, clients: int, now: float) -> float:
    """Datapoints per second."""
    share = total // clients
    with mp.Manager() as manager:
        barrier = manager.Barrier(clients + 1)
        with mp.Pool(clients) as pool:
            jobs = [(endpoint, k * share, share, now, barrier) for k in range(clients)]
            result = pool.map_async(put_worker, jobs)
            barrier.wait()
            start = time.perf_counter()
            sent = sum(result.get())
            elapsed = time.perf_counter() - start
    return sent / elapsed


def queries(now: float) -> dict[str, list[dict[str, Any]]]:
    def stat(i: int, s: str) -> dict[str, Any]:
        return {"Metric": {"Namespace": NAMESPACE, "MetricName": "Latency",
                           "Dimensions": [{"Name": "Shard", "Value": str(i)}]},
                "Period": 300, "Stat": s}  # fmt: skip

    return {
        "one metric, 3 stats": [
            {"Id": f"q{k}", "MetricStat": stat(0, s)}
            for k, s in enumerate(("Average", "Maximum", "SampleCount"))
        ],
        "10 metrics, Sum": [
            {"Id": f"m{i}", "MetricStat": stat(i, "Sum")} for i in range(METRICS)
        ],
    }  # fmt: skip


def get_latency(
    endpoint: str, now: float, calls: int, timeout: float
) -> dict[str, tuple[float | None, int]]:
    """Query name -> (median seconds or None when a call timed out, values returned)."""
    from botocore.exceptions import ReadTimeoutError

    cw = client(endpoint, read_timeout=timeout)
    start = dt.datetime.fromtimestamp(now - DAY - 60, dt.UTC)
    end = dt.datetime.fromtimestamp(now + 60, dt.UTC)
    out: dict[str, tuple[float | None, int]] = {}
    for name, q in queries(now).items():
        times, values = [], 0
        for _ in range(calls):
            t0 = time.perf_counter()
            try:
                got = cw.get_metric_data(MetricDataQueries=q, StartTime=start, EndTime=end)
            except ReadTimeoutError:
                break
            times.append(time.perf_counter() - t0)
            values = sum(len(r["Values"]) for r in got["MetricDataResults"])
        out[name] = (statistics.median(times) if len(times) == calls else None, values)
    return out


def latency_text(secs: float | None, values: int, timeout: float) -> str:
    if secs is None:
        return f"{'> ' + format(timeout, 'g') + ' s':>13} (timed out)"
    return f"{secs * 1000:>10.1f} ms ({values} values)"


def speedup_text(moto: float | None, dockyard: float | None, timeout: float) -> str:
    if dockyard is None:
        return "unknown (Dockyard timed out)"
    if moto is None:
        return f"≥ {timeout / dockyard:,.0f}x (moto latency / dockyard latency; a lower bound)"
    return f"{moto / dockyard:,.1f}x (moto latency / dockyard latency)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datapoints", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--calls", type=int, default=3, help="GetMetricData calls per query")
    parser.add_argument(
        "--timeout", type=float, default=60.0,
        help="seconds a GetMetricData call may take before it is abandoned",
    )  # fmt: skip
    args = parser.parse_args()
    now = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        dockyard = DockyardProcess(Path(tmp) / "data", "--no-local-agent").start()
        moto_port = free_port()
        moto = start_moto(moto_port)
        targets = {"dockyard": dockyard.endpoint, "moto": f"http://127.0.0.1:{moto_port}"}
        rates: dict[str, float] = {}
        latency: dict[str, dict[str, tuple[float | None, int]]] = {}
        try:
            print(f"{args.datapoints:,} datapoints, {args.clients} client processes, "
                  f"{BATCH} per PutMetricData")  # fmt: skip
            for name, endpoint in targets.items():
                rates[name] = put_all(endpoint, args.datapoints, args.clients, now)
                print(f"PutMetricData   {name:<9}{rates[name]:>12,.0f} datapoints/s")
            print(f"PutMetricData   {'ratio':<9}{rates['dockyard'] / rates['moto']:>11.2f}x")
            for name, endpoint in targets.items():
                latency[name] = get_latency(endpoint, now, args.calls, args.timeout)
            for query in latency["dockyard"]:
                for name in targets:
                    secs, values = latency[name][query]
                    print(f"GetMetricData   {query:<22}{name:<9}"
                          f"{latency_text(secs, values, args.timeout)}")  # fmt: skip
                speedup = speedup_text(
                    latency["moto"][query][0], latency["dockyard"][query][0], args.timeout
                )
                print(f"GetMetricData   {query:<22}{'speedup':<9}{speedup}")
            moto.terminate()
            moto.wait()
            dockyard = restart(dockyard, now, latency["dockyard"], args.timeout)
        finally:
            dockyard.stop()
            moto.terminate()
            moto.wait()


def restart(
    dockyard: DockyardProcess, now: float, before: dict[str, tuple[float | None, int]],
    timeout: float,
) -> DockyardProcess:  # fmt: skip
    """Stop Dockyard, start it on the same data dir, time until it answers; the new server."""
    dockyard.stop()
    size = sum(f.stat().st_size for f in dockyard.data_dir.glob("metrics.sqlite3*"))
    t0 = time.perf_counter()
    again = DockyardProcess(dockyard.data_dir, *dockyard.extra).start(timeout=600)
    elapsed = time.perf_counter() - t0
    print(f"Restart         dockyard {elapsed:>10.1f} s to answer again "
          f"(metrics.sqlite3: {size / 1e6:,.0f} MB)")  # fmt: skip
    after = get_latency(again.endpoint, now, 1, timeout)
    for query, (secs, values) in after.items():
        same = "same values as before" if values == before[query][1] else "VALUES DIFFER"
        print(f"After restart   {query:<22}{'dockyard':<9}"
              f"{latency_text(secs, values, timeout)}, {same}")  # fmt: skip
    return again


if __name__ == "__main__":
    main()
