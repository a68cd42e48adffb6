"""Where ECS reads a container's `environmentFiles` that live in S3, without importing S3.

`ObjectSource.read` answers the bytes of an object named by its ARN
(`arn:aws:s3:::bucket/key`), read off the event loop, or raises `ObjectUnavailable` with
the reason the ECS agent would report. `parse_env_file` reads the `.env` format ECS and
Docker use: `KEY=VALUE` lines, blank lines and `#` comments ignored.
"""

from __future__ import annotations

from typing import Protocol

# ECS refuses environment files larger than this.
MAX_ENV_FILE_BYTES = 1024 * 1024


class ObjectUnavailable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ObjectSource(Protocol):
    async def read(self, account_id: str, region: str, arn: str, limit: int) -> bytes:
        """The object's bytes (at most `limit`, ObjectUnavailable beyond)."""
        ...


def parse_s3_arn(arn: str) -> tuple[str, str]:
    """(bucket, key) of `arn:aws:s3:::bucket/key`; ValueError otherwise."""
    prefix = "arn:aws:s3:::"
    if not arn.startswith(prefix):
        raise ValueError(f"{arn} is not an S3 object ARN")
    bucket, _, key = arn[len(prefix) :].partition("/")
    if not bucket or not key:
        raise ValueError(f"{arn} is not an S3 object ARN")
    return bucket, key


def parse_env_file(text: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"invalid line in environment file: {line[:80]!r}")
        env[key.strip()] = value
    return env
