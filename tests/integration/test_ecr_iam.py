"""ECR under IAM, against a server with an auth file: the ECR API authorized on repository
ARNs (with their tags and repository policies), and the registry's `/v2/` requests authorized
as the principal of the token GetAuthorizationToken handed out."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.iam_support import (
    ACCOUNT,
    REGION,
    ROOT_KEY,
    ROOT_SECRET,
    client,
    new_user,
    outcome,
    policy,
)
from tests.support.registry import OCI_MANIFEST, RegistryClient
from tests.support.server import DockyardProcess

OTHER = "444455556666"
OTHER_KEY = "AKIAOTHERROOTKEY0001"
OTHER_SECRET = "other-root-secret"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
TOKEN = {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}


def repo_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:ecr:{REGION}:{account}:repository/{name}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    base = tmp_path_factory.mktemp("ecriam")
    auth = base / "auth"
    auth.write_text(f"{ROOT_KEY} {ROOT_SECRET} {ACCOUNT}\n{OTHER_KEY} {OTHER_SECRET} {OTHER}\n")
    auth.chmod(0o600)
    proc = DockyardProcess(base / "data", "--auth-file", str(auth), "--no-local-agent")
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def root_ecr(server: DockyardProcess) -> Any:
    return client("ecr", server.endpoint)


def user_clients(server: DockyardProcess, name: str, doc: str, root: str = ROOT_KEY) -> Any:
    secret = ROOT_SECRET if root == ROOT_KEY else OTHER_SECRET
    iam = client("iam", server.endpoint, root, secret)
    key, user_secret = new_user(iam, name, doc)
    return client("ecr", server.endpoint, key, user_secret)


def registry_of(server: DockyardProcess, ecr: Any, owner: str = ACCOUNT) -> RegistryClient:
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    reg = RegistryClient(server.endpoint, auth=(user, password))
    reg.http.headers["host"] = f"{owner}.dkr.ecr.{REGION}.localhost:{server.port}"
    return reg


def test_api_operations_are_authorized_on_the_repository_arn(server: DockyardProcess) -> None:
    ecr = user_clients(server, "builder", policy(
        {"Effect": "Allow", "Action": "ecr:*", "Resource": repo_arn("app-*")},
    ))  # fmt: skip
    assert outcome(ecr.create_repository, repositoryName="app-one") == "allowed"
    assert outcome(ecr.create_repository, repositoryName="db-one") == "denied"
    assert outcome(ecr.describe_images, repositoryName="app-one") == "allowed"
    assert outcome(ecr.list_images, repositoryName="db-one") == "denied"
    # GetAuthorizationToken acts on `*`, which `repository/app-*` does not cover.
    assert outcome(ecr.get_authorization_token) == "denied"
    with pytest.raises(Exception) as err:
        ecr.delete_repository(repositoryName="db-one")
    message = str(err.value)
    assert "is not authorized to perform: ecr:DeleteRepository on resource: " in message
    assert repo_arn("db-one") in message


def test_resource_tags_and_request_tags(server: DockyardProcess, root_ecr: Any) -> None:
    root_ecr.create_repository(repositoryName="blue-svc", tags=[{"Key": "team", "Value": "blue"}])
    root_ecr.create_repository(repositoryName="red-svc", tags=[{"Key": "team", "Value": "red"}])
    ecr = user_clients(server, "blue-dev", policy(
        {"Effect": "Allow", "Action": ["ecr:DescribeImages", "ecr:ListTagsForResource"],
         "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}},
        {"Effect": "Allow", "Action": "ecr:CreateRepository", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"}}},
    ))  # fmt: skip
    assert outcome(ecr.describe_images, repositoryName="blue-svc") == "allowed"
    assert outcome(ecr.describe_images, repositoryName="red-svc") == "denied"
    assert outcome(ecr.list_tags_for_resource, resourceArn=repo_arn("blue-svc")) == "allowed"
    assert outcome(ecr.list_tags_for_resource, resourceArn=repo_arn("red-svc")) == "denied"
    blue = [{"Key": "team", "Value": "blue"}]
    assert outcome(ecr.create_repository, repositoryName="blue-new", tags=blue) == "allowed"
    assert outcome(ecr.create_repository, repositoryName="untagged-new") == "denied"


def test_repository_policy_allows_within_the_account(
    server: DockyardProcess, root_ecr: Any
) -> None:
    root_ecr.create_repository(repositoryName="opened")
    ecr = user_clients(server, "reader", policy(TOKEN))
    assert outcome(ecr.batch_get_image, repositoryName="opened",
                   imageIds=[{"imageTag": "v1"}]) == "denied"  # fmt: skip
    root_ecr.set_repository_policy(repositoryName="opened", policyText=policy({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/reader"},
        "Action": PULL,
    }))  # fmt: skip
    assert outcome(ecr.batch_get_image, repositoryName="opened",
                   imageIds=[{"imageTag": "v1"}]) == "allowed"  # fmt: skip
    assert outcome(ecr.list_images, repositoryName="opened") == "denied"
    # An explicit deny in the repository policy wins over the identity's allow.
    root_ecr.set_repository_policy(repositoryName="opened", policyText=policy({
        "Effect": "Deny", "Principal": "*", "Action": "ecr:ListImages",
    }))  # fmt: skip
    lister = user_clients(server, "lister", policy(
        {"Effect": "Allow", "Action": "ecr:ListImages", "Resource": "*"},
    ))  # fmt: skip
    assert outcome(lister.list_images, repositoryName="opened") == "denied"


def test_registry_pull_allowed_and_push_denied(server: DockyardProcess, root_ecr: Any) -> None:
    root_ecr.create_repository(repositoryName="web")
    owner = registry_of(server, root_ecr)
    image = owner.push_image("web", "v1", [b"web layer"])
    ecr = user_clients(server, "puller", policy(
        TOKEN, {"Effect": "Allow", "Action": PULL, "Resource": repo_arn("web")},
    ))  # fmt: skip
    reg = registry_of(server, ecr)
    assert reg.http.get("/v2/web/manifests/v1").content == image.manifest
    assert reg.http.get(f"/v2/web/blobs/{image.blobs[1]}").content == b"web layer"
    r = reg.http.post("/v2/web/blobs/uploads/")
    assert r.status_code == 403
    error = r.json()["errors"][0]
    assert error["code"] == "DENIED"
    assert error["message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/puller is not authorized to perform: "
        f"ecr:InitiateLayerUpload on resource: {repo_arn('web')} because no identity-based "
        "policy allows the ecr:InitiateLayerUpload action"
    )
    r = reg.push_manifest("web", "v2", image.manifest, OCI_MANIFEST)
    assert r.status_code == 403 and "ecr:PutImage" in r.json()["errors"][0]["message"]
    # Another repository is not covered, whether or not it exists.
    r = reg.http.get("/v2/elsewhere/manifests/v1")
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "DENIED"
    # The user's policies are read at each request: taking the policy away denies the pull.
    iam = client("iam", server.endpoint)
    iam.delete_user_policy(UserName="puller", PolicyName="p")
    assert reg.http.get("/v2/web/manifests/v1").status_code == 403
    owner.close()
    reg.close()


def test_repository_policy_grants_another_accounts_user_a_pull(
    server: DockyardProcess, root_ecr: Any
) -> None:
    root_ecr.create_repository(repositoryName="shared-iam")
    owner = registry_of(server, root_ecr)
    image = owner.push_image("shared-iam", "v1", [b"shared"])
    ecr = user_clients(server, "partner", policy(
        TOKEN, {"Effect": "Allow", "Action": PULL, "Resource": repo_arn("shared-iam")},
    ), root=OTHER_KEY)  # fmt: skip
    nobody = user_clients(server, "stranger", policy(TOKEN), root=OTHER_KEY)
    partner, stranger = registry_of(server, ecr), registry_of(server, nobody)
    # Across accounts the identity's allow is not enough: the repository policy must too.
    assert partner.http.get("/v2/shared-iam/manifests/v1").status_code == 403
    root_ecr.set_repository_policy(repositoryName="shared-iam", policyText=policy({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:user/partner"},
        "Action": PULL,
    }))  # fmt: skip
    assert partner.http.get("/v2/shared-iam/manifests/v1").content == image.manifest
    got = ecr.batch_get_image(registryId=ACCOUNT, repositoryName="shared-iam",
                              imageIds=[{"imageTag": "v1"}])  # fmt: skip
    assert got["images"][0]["imageManifest"] == image.manifest.decode()
    # ... and neither is the repository policy alone: the caller's own account must allow.
    assert stranger.http.get("/v2/shared-iam/manifests/v1").status_code == 403
    assert outcome(nobody.batch_get_image, registryId=ACCOUNT, repositoryName="shared-iam",
                   imageIds=[{"imageTag": "v1"}]) == "denied"  # fmt: skip
    assert partner.http.post("/v2/shared-iam/blobs/uploads/").status_code == 403
    for c in (owner, partner, stranger):
        c.close()


def test_a_blob_mounts_only_from_a_repository_the_caller_may_read(
    server: DockyardProcess, root_ecr: Any
) -> None:
    root_ecr.create_repository(repositoryName="secret-src")
    root_ecr.create_repository(repositoryName="open-src")
    root_ecr.create_repository(repositoryName="target")
    owner = registry_of(server, root_ecr)
    hidden = owner.push_blob("secret-src", b"hidden layer")
    shown = owner.push_blob("open-src", b"shown layer")
    push = ["ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"]
    ecr = user_clients(server, "pusher", policy(
        TOKEN,
        {"Effect": "Allow", "Action": push, "Resource": repo_arn("target")},
        {"Effect": "Allow", "Action": "ecr:GetDownloadUrlForLayer",
         "Resource": repo_arn("open-src")},
    ))  # fmt: skip
    reg = registry_of(server, ecr)
    r = reg.http.post("/v2/target/blobs/uploads/", params={"mount": shown, "from": "open-src"})
    assert r.status_code == 201 and r.headers["docker-content-digest"] == shown
    # Not readable where it is: a plain upload starts instead, as a registry answers a
    # mount it will not do.
    r = reg.http.post("/v2/target/blobs/uploads/", params={"mount": hidden, "from": "secret-src"})
    assert r.status_code == 202
    assert owner.http.head(f"/v2/target/blobs/{hidden}").status_code == 404
    owner.close()
    reg.close()
