"""How a container's image pull gets its registry credentials, without ECS importing ECR.

ECS fills `ContainerSpec.registry_auth` in the copy of a task it hands the agent: from the
container's `repositoryCredentials` secret (a Secrets Manager secret whose value is
`{"username": ..., "password": ...}`), or, for an image in this server's own registry, from
a `RegistryLogins` (ECR, wired by the server), which issues a registry token for the task's
account and region, as the ECS agent gets one with the task's execution role. When the
server enforces IAM policies the token is the execution role's session (the task's
`(role ARN, task id)`), so that role's policies decide the pull; a task without one, or whose
role may not get a token, cannot pull (`RegistryLoginRefused`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RegistryAuth:
    username: str
    password: str


class RegistryLoginRefused(Exception):
    """No registry credentials can be had for the task (the reason, in the agent's words)."""


class RegistryLogins(Protocol):
    def login_for(
        self, account_id: str, region: str, image: str, role: tuple[str, str] | None = None
    ) -> RegistryAuth | None:
        """Credentials for pulling `image` when it is in this server's registry, as the
        execution role `role` (its ARN, the session name); None for images elsewhere.
        Raises `RegistryLoginRefused` when the role may not have them."""
        ...


def auth_of_secret(value: str) -> RegistryAuth | None:
    """A `repositoryCredentials` secret's value as credentials (None: not that shape)."""
    try:
        doc = json.loads(value)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    user, password = doc.get("username"), doc.get("password")
    if isinstance(user, str) and isinstance(password, str) and user and password:
        return RegistryAuth(user, password)
    return None


OCI_LAYOUT_PREFIX = "oci:"


def pulled_image(image: str) -> bool:
    """Whether an image is pulled (and so needs a host that can: `dockyard.capability.
    oci-images`): one naming its registry, `host[:port]/name...`, an OCI layout,
    `oci:/path[:tag]`, or a `docker save` tarball, `docker-archive:/path.tar[:name:tag]`.
    Others (`process:/dir`, a bare `name`) the process driver runs as host processes, as
    before."""
    if image.startswith((OCI_LAYOUT_PREFIX, "docker-archive:")):
        return True
    if image.startswith("process:"):
        return False
    host, slash, _ = image.partition("/")
    return bool(slash) and ("." in host or ":" in host or host == "localhost")
