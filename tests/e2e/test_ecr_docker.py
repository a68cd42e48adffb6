"""ECR with real clients: the AWS CLI's login, docker build / push / pull (a second engine
with its own data root pulls), skopeo copies in both formats, and an ECS service on the
Docker driver running the pushed image behind an ALB."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import make_client
from tests.support.dockerd import SecondEngine
from tests.support.images import BUSYBOX, DOCKERFILE
from tests.support.server import DockyardProcess, client_env, free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def docker_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The docker CLI's own config dir (logins stay out of the user's ~/.docker)."""
    return tmp_path_factory.mktemp("docker-config")


def sh(cmd: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, shell=True, env=env, capture_output=True, text=True, timeout=300)
    if check and done.returncode != 0:
        raise AssertionError(f"{cmd}\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def env(server: DockyardProcess, docker_config: Path) -> dict[str, str]:
    aws = f"{sys.executable} -m awscli --endpoint-url {server.endpoint}"
    return {**os.environ, **client_env(server.endpoint), "DOCKER_CONFIG": str(docker_config),
            "AWS": aws}  # fmt: skip


@pytest.fixture(scope="module")
def pushed(
    server: DockyardProcess, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """`aws ecr create-repository`, `get-login-password | docker login`, `docker build`
    (FROM scratch with busybox-static) and `docker push`, as the ECS walkthroughs do."""
    if not BUSYBOX.exists():
        pytest.skip("busybox-static is not installed at /bin/busybox")
    name = f"web-{uuid.uuid4().hex[:6]}"
    repo = json.loads(sh(f"$AWS ecr create-repository --repository-name {name}", env).stdout)
    uri = repo["repository"]["repositoryUri"]
    registry = uri.split("/", 1)[0]
    assert registry == f"localhost:{server.port}"
    sh(f"$AWS ecr get-login-password | docker login --username AWS --password-stdin {registry}",
       env)  # fmt: skip
    context = tmp_path_factory.mktemp("build")
    shutil.copy(BUSYBOX, context / "busybox")
    (context / "Dockerfile").write_bytes(DOCKERFILE)
    sh(f"docker build -q -t {uri}:v1 {context}", env)
    out = sh(f"docker push {uri}:v1", env).stdout
    digest = out.strip().splitlines()[-1].split("digest: ")[1].split()[0]
    yield {"name": name, "uri": uri, "registry": registry, "digest": digest}
    sh(f"docker rmi -f {uri}:v1", env, check=False)


def test_push_shows_in_describe_images(server: DockyardProcess, pushed: dict[str, str]) -> None:
    ecr = make_client("ecr", server.endpoint)
    details = ecr.describe_images(repositoryName=pushed["name"])["imageDetails"]
    assert [d["imageDigest"] for d in details] == [pushed["digest"]]
    assert details[0]["imageTags"] == ["v1"]
    assert details[0]["imageManifestMediaType"] in (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    )
    assert details[0]["imageSizeInBytes"] > 500_000  # busybox is in a layer


def test_pull_on_a_second_engine(
    pushed: dict[str, str], env: dict[str, str], tmp_path: Path
) -> None:
    engine = SecondEngine(Path("/tmp") / f"dockyard-e2e-engine-{uuid.uuid4().hex[:6]}")
    try:
        engine.start()
        other = {**env, "DOCKER_HOST": engine.host}
        sh(f"$AWS ecr get-login-password | docker login --username AWS --password-stdin "
           f"{pushed['registry']}", other)  # fmt: skip
        sh(f"docker pull {pushed['uri']}:v1", other)
        digests = sh(f"docker image inspect --format '{{{{json .RepoDigests}}}}' "
                     f"{pushed['uri']}:v1", other).stdout  # fmt: skip
        assert f"{pushed['uri']}@{pushed['digest']}" in json.loads(digests)
        ran = sh(f"docker run --rm --network none {pushed['uri']}:v1 echo pulled", other)
        assert ran.stdout.strip() == "pulled"
    finally:
        engine.stop()
        shutil.rmtree(engine.root, ignore_errors=True)


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")
def test_skopeo_copies_in_docker_and_oci_formats(
    server: DockyardProcess, pushed: dict[str, str], env: dict[str, str], tmp_path: Path
) -> None:
    ecr = make_client("ecr", server.endpoint)
    target = f"{pushed['name']}-copy"
    ecr.create_repository(repositoryName=target)
    dest = f"{pushed['registry']}/{target}"
    flags = "--src-tls-verify=false --dest-tls-verify=false --authfile $DOCKER_CONFIG/config.json"
    src = f"docker://{pushed['uri']}:v1"
    # Docker format, registry to registry: the digest is the one docker pushed.
    sh(f"skopeo copy {flags} --format v2s2 {src} docker://{dest}:docker", env)
    auth = "--tls-verify=false --authfile $DOCKER_CONFIG/config.json"
    inspect = json.loads(sh(f"skopeo inspect {auth} docker://{dest}:docker", env).stdout)
    assert inspect["Digest"] == pushed["digest"]
    # Out to an OCI layout and back in: the registry keeps the OCI manifest byte for byte.
    layout = tmp_path / "layout"
    sh(f"skopeo copy {flags} --format oci {src} oci:{layout}:v1", env)
    index = json.loads((layout / "index.json").read_text())
    oci_digest = index["manifests"][0]["digest"]
    sh(f"skopeo copy {flags} oci:{layout}:v1 docker://{dest}:oci", env)
    images = ecr.describe_images(repositoryName=target, imageIds=[{"imageTag": "oci"}])
    detail = images["imageDetails"][0]
    assert detail["imageDigest"] == oci_digest
    assert detail["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json"
    # And back out of the registry as a docker-archive, loaded into the engine.
    archive = tmp_path / "image.tar"
    sh(f"skopeo copy {flags} docker://{dest}:oci docker-archive:{archive}:copy/back:v1", env)
    assert archive.stat().st_size > 500_000


def test_service_runs_the_ecr_image_behind_an_alb(
    server: DockyardProcess, pushed: dict[str, str], env: dict[str, str]
) -> None:
    # The engine must pull it from the registry itself: no local copy.
    sh(f"docker rmi -f {pushed['uri']}:v1", env, check=False)
    ecs = make_client("ecs", server.endpoint)
    elb = make_client("elbv2", server.endpoint)
    name = f"ecr-web-{uuid.uuid4().hex[:6]}"
    lb = elb.create_load_balancer(Name=name, Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
    tg = elb.create_target_group(
        Name=name, Protocol="HTTP", Port=8080, VpcId="vpc-1", TargetType="instance",
        HealthCheckPath="/index.html", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
        HealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    port = free_port()
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Port=port, Protocol="HTTP",
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])  # fmt: skip
    taskdef = ecs.register_task_definition(
        family=name,
        networkMode="bridge",
        containerDefinitions=[{
            "name": "web", "image": f"{pushed['uri']}:v1", "essential": True, "memory": 64,
            "entryPoint": ["sh", "-c"],
            "command": ["mkdir -p /www && echo from-ecr > /www/index.html && "
                        "exec httpd -f -p 8080 -h /www"],
            "portMappings": [{"containerPort": 8080, "hostPort": 0}],
        }],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    ecs.create_service(
        serviceName=name, taskDefinition=taskdef, desiredCount=1,
        loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}],
    )  # fmt: skip

    def answer() -> str:
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/index.html", timeout=2)
        except httpx.HTTPError:
            return ""
        return r.text.strip() if r.status_code == 200 else ""

    def stopped_reasons() -> list[str]:
        arns = ecs.list_tasks(serviceName=name, desiredStatus="STOPPED")["taskArns"]
        if not arns:
            return []
        return [t.get("stoppedReason", "") for t in ecs.describe_tasks(tasks=arns)["tasks"]]

    try:
        wait_for(lambda: answer() == "from-ecr" or stopped_reasons(), 120, "the ALB to answer")
        assert not stopped_reasons()
        assert answer() == "from-ecr"
    finally:
        ecs.update_service(service=name, desiredCount=0)
        ecs.delete_service(service=name, force=True)


def test_failed_pull_names_the_registry_error(
    server: DockyardProcess, pushed: dict[str, str]
) -> None:
    ecs = make_client("ecs", server.endpoint)
    taskdef = ecs.register_task_definition(
        family=f"missing-{uuid.uuid4().hex[:6]}",
        containerDefinitions=[{"name": "c", "image": f"{pushed['uri']}:no-such-tag",
                               "memory": 32}],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    task = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]

    def stopped() -> Any:
        t = ecs.describe_tasks(tasks=[task])["tasks"][0]
        return t if t["lastStatus"] == "STOPPED" else None

    t = wait_for(stopped, 60, "the task to stop")
    reason = t.get("stoppedReason", "") + json.dumps(t["containers"])
    assert "CannotPullContainerError" in reason


def test_pulls_with_the_ecr_token_and_with_repository_credentials(
    tmp_path: Path, docker_config: Path
) -> None:
    """With auth on, the registry refuses anonymous pulls: the Docker driver pulls with a
    token the server issues for the task's execution role (whose policies decide; a task
    without one cannot pull), or with the container's repositoryCredentials secret."""
    import base64

    import boto3

    auth = tmp_path / "auth"
    auth.write_text("AKIDPULL secret-pull\n")
    server = DockyardProcess(tmp_path / "data", "--runtime", "docker", "--auth-file", str(auth))
    server.start()
    config = tmp_path / "docker-config"
    config.mkdir()
    env = {**os.environ, "DOCKER_CONFIG": str(config)}

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=server.endpoint, region_name="us-east-1",
                            aws_access_key_id="AKIDPULL",
                            aws_secret_access_key="secret-pull")  # fmt: skip

    ecr, ecs, sm = client("ecr"), client("ecs"), client("secretsmanager")
    try:
        uri = ecr.create_repository(repositoryName="private-web")["repository"]["repositoryUri"]
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        password = base64.b64decode(token).decode().partition(":")[2]
        registry = uri.split("/")[0]
        sh(f"echo '{password}' | docker login -u AWS --password-stdin {registry}", env)
        context = tmp_path / "build"
        context.mkdir()
        shutil.copy(BUSYBOX, context / "busybox")
        (context / "Dockerfile").write_bytes(DOCKERFILE)
        sh(f"docker build -q -t {uri}:v1 {context}", env)
        sh(f"docker push {uri}:v1", env)
        anonymous = httpx.get(f"{server.endpoint}/v2/private-web/manifests/v1")
        assert anonymous.status_code == 401
        secret = sm.create_secret(
            Name="registry-login", SecretString=json.dumps({"username": "AWS",
                                                            "password": password}),
        )["ARN"]  # fmt: skip

        def run(family: str, extra: dict[str, Any]) -> dict[str, Any]:
            sh(f"docker rmi -f {uri}:v1", env, check=False)  # the engine must pull it
            role = extra.pop("executionRoleArn", None)
            arn = ecs.register_task_definition(
                family=family, **({"executionRoleArn": role} if role else {}),
                containerDefinitions=[{"name": "c", "image": f"{uri}:v1", "memory": 32,
                                       "command": ["sleep", "300"], **extra}],
            )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
            task = ecs.run_task(taskDefinition=arn)["tasks"][0]["taskArn"]

            def settled() -> Any:
                t = ecs.describe_tasks(tasks=[task])["tasks"][0]
                return t if t["lastStatus"] in ("RUNNING", "STOPPED") else None

            t: dict[str, Any] = wait_for(settled, 90, f"{family} to run")
            ecs.stop_task(task=task)
            return t

        # Policies are enforced: the pull is the execution role's, whose policies decide it.
        iam = client("iam")
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole"}]})  # fmt: skip
        puller = iam.create_role(RoleName="puller", AssumeRolePolicyDocument=trust)["Role"]
        iam.put_role_policy(RoleName="puller", PolicyName="pull", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
                "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                "ecr:BatchCheckLayerAvailability"]}]}))  # fmt: skip
        tokenless = iam.create_role(RoleName="tokenless", AssumeRolePolicyDocument=trust)["Role"]
        by_role = run("ecr-token", {"executionRoleArn": puller["Arn"]})
        assert by_role["lastStatus"] == "RUNNING", by_role.get("stoppedReason")
        no_role = run("ecr-no-role", {})
        assert no_role["lastStatus"] == "STOPPED"
        assert "CannotPullContainerError" in json.dumps(no_role, default=str)
        assert "executionRoleArn" in json.dumps(no_role, default=str)
        denied = run("ecr-denied", {"executionRoleArn": tokenless["Arn"]})
        assert denied["lastStatus"] == "STOPPED"
        reason = json.dumps(denied, default=str)
        assert "CannotPullContainerError" in reason
        assert "not authorized to perform: ecr:GetAuthorizationToken" in reason
        by_secret = run("repo-creds", {"repositoryCredentials": {"credentialsParameter": secret}})
        assert by_secret["lastStatus"] == "RUNNING", by_secret.get("stoppedReason")
        wrong = json.dumps({"username": "AWS", "password": "wrong"})
        sm.put_secret_value(SecretId=secret, SecretString=wrong)
        refused = run("repo-creds-bad", {"repositoryCredentials": {"credentialsParameter": secret}})
        assert refused["lastStatus"] == "STOPPED"
        assert "CannotPullContainerError" in json.dumps(refused, default=str)
    finally:
        sh(f"docker rmi -f {registry}/private-web:v1", env, check=False)
        server.forget_tasks()
        server.stop()
