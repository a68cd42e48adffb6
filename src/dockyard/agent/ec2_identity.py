"""Who this host is when it is an EC2 instance: its identity document, from the metadata
service, sent with the registration so the server makes the container instance that EC2
instance (as the ECS agent sends `instanceIdentityDocument` and its signature).

On when `ECS_INSTANCE_METADATA=1` is in the agent's environment (the micro-host runtime sets
it for the ECS-optimized image); `ECS_INSTANCE_METADATA_ENDPOINT` names another endpoint than
`http://169.254.169.254`. IMDSv2 is used: a session token first, then the document and its
signature, so it works whether or not the instance requires tokens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import httpx

ENABLE_ENV = "ECS_INSTANCE_METADATA"
ENDPOINT_ENV = "ECS_INSTANCE_METADATA_ENDPOINT"
DEFAULT_ENDPOINT = "http://169.254.169.254"
TOKEN_TTL = "21600"
TIMEOUT = 5.0  # seconds per call
MAX_DOCUMENT = 64 * 1024  # bytes: a document is well under 1 KiB


class IdentityUnavailable(Exception):
    """The metadata service did not answer with an identity document (the message says why)."""


@dataclass(frozen=True, slots=True)
class InstanceIdentity:
    document: str
    signature: str


# What the agent calls to learn its identity (fetch_identity, bound to an endpoint).
IdentitySource = Callable[[], Awaitable[InstanceIdentity]]


def endpoint_from(env: Mapping[str, str]) -> str | None:
    """The metadata endpoint to ask, or None when the agent does not run in an EC2 instance."""
    if env.get(ENABLE_ENV, "").strip().lower() not in ("1", "true", "yes"):
        return None
    return env.get(ENDPOINT_ENV, "").strip() or DEFAULT_ENDPOINT


def source(endpoint: str) -> IdentitySource:
    return lambda: fetch_identity(endpoint)


async def fetch_identity(endpoint: str = DEFAULT_ENDPOINT) -> InstanceIdentity:
    base = endpoint.rstrip("/")
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, trust_env=False) as client:
            r = await client.put(
                f"{base}/latest/api/token",
                headers={"X-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL},
            )
            _check(r, "a metadata token")
            headers = {"X-aws-ec2-metadata-token": r.text}
            document = await client.get(
                f"{base}/latest/dynamic/instance-identity/document", headers=headers
            )
            _check(document, "the instance identity document")
            signature = await client.get(
                f"{base}/latest/dynamic/instance-identity/signature", headers=headers
            )
            _check(signature, "the instance identity signature")
    except httpx.HTTPError as exc:
        raise IdentityUnavailable(f"the metadata service at {base} is unreachable: {exc}") from exc
    return InstanceIdentity(document.text, signature.text.strip())


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code != 200:
        raise IdentityUnavailable(
            f"the metadata service answered {response.status_code} for {what}"
        )
    if len(response.content) > MAX_DOCUMENT:
        raise IdentityUnavailable(f"the metadata service sent an oversized answer for {what}")
