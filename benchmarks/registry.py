"""Push and pull throughput of a multi-layer image through Docker, against Dockyard's
registry and against Debian's `docker-registry` (the reference implementation, distribution
2.x), in the same run and on the same engine.

The image has `--layers` layers of random (incompressible) bytes adding up to `--mib` MiB.
Each round builds a new image (new random layers, so Docker can neither skip nor mount a
layer it pushed before), pushes it to a new repository of each registry, then
pulls it on a second Docker engine with an empty data root (so no layer is there already),
for Dockyard and the reference alternately; medians are reported. Docker compresses layers
as it pushes, so both figures include the same gzip work on the client side.

Then, without Docker, the process driver: RunTask -> RUNNING of an image already pulled
(p50 of `--runs` tasks, host network as benchmarks/task_start.py, goal < 150 ms) and the
first run of a `--mib` MiB image (pull and unpack included).

Needs root, Docker, busybox-static and `docker-registry` (Debian: `apt-get install -y
docker-registry`); `--process-only` skips the Docker part.

    .venv/bin/python benchmarks/registry.py [--mib 200] [--layers 4] [--rounds 3] [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.dockerd import SecondEngine  # noqa: E402
from tests.support.server import DockyardProcess, free_port  # noqa: E402
from tests.support.waiting import wait_for  # noqa: E402

REFERENCE_CONFIG = """version: 0.1
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
log:
  level: error
"""


def run(*cmd: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr[-2000:]}")
    return done.stdout


def build_image(tag: str, mib: int, layers: int, work: Path) -> None:
    context = work / "context"
    context.mkdir()
    shutil.copy("/bin/busybox", context / "busybox")
    lines = ["FROM scratch", "COPY busybox /bin/busybox"]
    per_layer = mib * 1024 * 1024 // layers
    for i in range(layers):
        (context / f"blob{i}").write_bytes(os.urandom(per_layer))
        lines.append(f"COPY blob{i} /data/blob{i}")
    (context / "Dockerfile").write_text("\n".join(lines) + "\n")
    run("docker", "build", "-q", "-t", tag, str(context))


def start_reference(work: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = work / "registry.yml"
    config.write_text(REFERENCE_CONFIG.format(root=work / "reference-data", port=port))
    proc = subprocess.Popen(["docker-registry", "serve", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    def up() -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1):
                return True
        except OSError:
            return False

    wait_for(up, 30, "docker-registry to answer")
    return proc, port


def timed(*cmd: str, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    run(*cmd, env=env)
    return time.perf_counter() - start


def process_driver(mib: int, layers: int, runs: int) -> None:
    import boto3
    from tests.support.ociimages import push_busybox
    from tests.support.registry import RegistryClient

    work = Path(tempfile.mkdtemp(prefix="dockyard-process-bench-"))
    server = DockyardProcess(work / "data", "--runtime", "process")
    server.start()
    try:
        ecs, ecr = (boto3.client(s, endpoint_url=server.endpoint, region_name="us-east-1",
                                 aws_access_key_id="test", aws_secret_access_key="test")
                    for s in ("ecs", "ecr"))  # fmt: skip
        client = RegistryClient(server.endpoint)
        for repo in ("small", "big"):
            ecr.create_repository(repositoryName=repo)
        host = f"localhost:{server.port}"
        push_busybox(client, "small", "v1", {"Cmd": ["sleep", "600"]})
        per_layer = mib * 1024 * 1024 // layers
        extra = [os.urandom(per_layer) for _ in range(layers)]
        push_busybox(client, "big", "v1", {"Cmd": ["sleep", "600"]}, extra_layers=extra)
        client.close()

        def time_to_running(image: str) -> float:
            family = f"bench-{uuid.uuid4().hex[:6]}"
            container = {"name": "c", "image": image, "memory": 64, "essential": True}
            arn = ecs.register_task_definition(
                family=family, networkMode="host", containerDefinitions=[container]
            )["taskDefinition"]["taskDefinitionArn"]
            start = time.perf_counter()
            task = ecs.run_task(taskDefinition=arn)["tasks"][0]["taskArn"]
            while True:
                t = ecs.describe_tasks(tasks=[task])["tasks"][0]
                if t["lastStatus"] == "RUNNING":
                    elapsed = time.perf_counter() - start
                    break
                if t["lastStatus"] == "STOPPED":
                    raise RuntimeError(t.get("stoppedReason"))
                time.sleep(0.005)
            ecs.stop_task(task=task)
            return elapsed

        first_big = time_to_running(f"{host}/big:v1")
        time_to_running(f"{host}/small:v1")  # pulled now
        cached = sorted(time_to_running(f"{host}/small:v1") for _ in range(runs))
        p50 = statistics.median(cached) * 1000
        print(f"\nprocess driver, {runs} RunTasks of a pulled image: RunTask -> RUNNING "
              f"p50 {p50:.0f} ms (goal < 150 ms), max {cached[-1] * 1000:.0f} ms")  # fmt: skip
        print(f"first run of a {mib} MiB image ({layers} random layers + busybox): "
              f"{first_big:.2f} s to RUNNING (pull, verify, unpack)")  # fmt: skip
    finally:
        server.forget_tasks()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=200)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--process-only", action="store_true")
    args = parser.parse_args()
    if not args.process_only:
        docker_registries(args)
    process_driver(args.mib, args.layers, args.runs)
    return 0


def docker_registries(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="dockyard-registry-bench-"))
    bases: list[str] = []
    dockyard = DockyardProcess(work / "dockyard-data", "--no-local-agent")
    engine = SecondEngine(Path("/tmp") / f"dockyard-bench-engine-{uuid.uuid4().hex[:6]}")
    reference: subprocess.Popen[bytes] | None = None
    times: dict[tuple[str, str], list[float]] = {}
    try:
        dockyard.start()
        reference, ref_port = start_reference(work)
        engine.start()
        puller = {**os.environ, "DOCKER_HOST": engine.host}
        aws = [sys.executable, "-m", "awscli", "--endpoint-url", dockyard.endpoint]
        aws_env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                   "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
        registries = {"dockyard": f"localhost:{dockyard.port}", "docker-registry":
                      f"localhost:{ref_port}"}  # fmt: skip
        for round_no in range(args.rounds):
            base = f"dockyard-bench/registry:{uuid.uuid4().hex[:6]}"
            bases.append(base)
            build_dir = work / f"build-{round_no}"
            build_dir.mkdir()
            build_image(base, args.mib, args.layers, build_dir)
            for name, host in registries.items():
                repo = f"bench-{round_no}-{uuid.uuid4().hex[:6]}"
                if name == "dockyard":
                    run(*aws, "ecr", "create-repository", "--repository-name", repo, env=aws_env)
                image = f"{host}/{repo}:v1"
                run("docker", "tag", base, image)
                times.setdefault((name, "push"), []).append(timed("docker", "push", image))
                run("docker", "rmi", image)
                times.setdefault((name, "pull"), []).append(
                    timed("docker", "pull", image, env=puller)
                )
                run("docker", "rmi", image, env=puller)
                print(f"round {round_no + 1} {name}: push {times[(name, 'push')][-1]:.2f} s, "
                      f"pull {times[(name, 'pull')][-1]:.2f} s", flush=True)  # fmt: skip
    finally:
        engine.stop()
        shutil.rmtree(engine.root, ignore_errors=True)
        if reference is not None:
            reference.terminate()
            reference.wait(timeout=10)
        dockyard.stop()
        for base in bases:
            subprocess.run(["docker", "rmi", "-f", base], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.mib} MiB image, {args.layers} random layers, {args.rounds} rounds, medians")
    print("| direction | dockyard MiB/s | docker-registry MiB/s | ratio |")
    print("|---|---:|---:|---:|")
    for direction in ("push", "pull"):
        ours = args.mib / statistics.median(times[("dockyard", direction)])
        ref = args.mib / statistics.median(times[("docker-registry", direction)])
        print(f"| {direction} | {ours:.1f} | {ref:.1f} | {ours / ref:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
