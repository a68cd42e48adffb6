"""The machine images Dockyard serves: two a region, owned by Amazon as AWS's own are. The
ECS-optimized image boots `dockyard agent` (`BootKind.ECS_AGENT`); the plain one runs the
instance's user data as a script (`BootKind.USER_DATA`).

Shared by EC2 (DescribeImages, and launches) and SSM (the public parameters that name the
recommended ECS-optimized image) without either importing the other. Image ids are stable:
derived from the region and the image name.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass

from dockyard.core.hosts import BootKind

# The accounts that publish these images in AWS (the ECS-optimized AMIs and Amazon Linux).
ECS_OWNER_ID = "591542846629"
AMAZON_LINUX_OWNER_ID = "137112412989"
OWNER_ALIAS = "amazon"

BUILD_DATE = "20241115"
RELEASE = f"2023.0.{BUILD_DATE}"  # the ECS-optimized image's version
CREATED = "2024-11-15T00:00:00.000Z"
OS_NAME = "Amazon Linux 2023"
ECS_AGENT_VERSION = "1.88.0"
ECS_RUNTIME_VERSION = "Docker version 25.0.6"

ECS_PARAMETER_PATH = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended"
PLAIN_PARAMETER_PREFIX = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-"
PUBLIC_PARAMETER_ROOT = "/aws/service/"


def architecture() -> str:
    """This machine's, as EC2 names architectures (`x86_64`, `arm64`)."""
    machine = platform.machine().lower()
    return "arm64" if machine in ("aarch64", "arm64") else "x86_64"


@dataclass(frozen=True, slots=True)
class BuiltinImage:
    image_id: str
    name: str
    description: str
    boot: BootKind
    owner_id: str
    architecture: str
    root_volume_gib: int

    @property
    def snapshot_id(self) -> str:
        return "snap-" + self.image_id.removeprefix("ami-")


def image_id(region: str, name: str) -> str:
    digest = hashlib.sha256(f"dockyard-image/{region}/{name}".encode()).hexdigest()
    return "ami-" + digest[:17]


def ecs_optimized_image(region: str) -> BuiltinImage:
    arch = architecture()
    name = f"al2023-ami-ecs-hvm-{RELEASE}-kernel-6.1-{arch}"
    return BuiltinImage(
        image_id(region, name),
        name,
        f"Amazon Linux AMI {RELEASE} {arch} ECS HVM EBS (boots the Dockyard ECS agent)",
        BootKind.ECS_AGENT,
        ECS_OWNER_ID,
        arch,
        30,
    )


def plain_image(region: str) -> BuiltinImage:
    arch = architecture()
    name = f"al2023-ami-2023.6.{BUILD_DATE}.0-kernel-6.1-{arch}"
    return BuiltinImage(
        image_id(region, name),
        name,
        f"Amazon Linux 2023 AMI {arch} HVM kernel-6.1 (runs its user data as a script)",
        BootKind.USER_DATA,
        AMAZON_LINUX_OWNER_ID,
        arch,
        8,
    )


def builtin_images(region: str) -> tuple[BuiltinImage, ...]:
    return (ecs_optimized_image(region), plain_image(region))


def public_parameters(region: str) -> dict[str, str]:
    """The SSM public parameters (name -> value) that name the images of `region`: the
    recommended ECS-optimized image (a JSON document, and one parameter a member) and the
    latest plain Amazon Linux 2023 image."""
    ecs = ecs_optimized_image(region)
    plain = plain_image(region)
    members: dict[str, str | int] = {
        "ecs_agent_version": ECS_AGENT_VERSION,
        "ecs_runtime_version": ECS_RUNTIME_VERSION,
        "image_id": ecs.image_id,
        "image_name": ecs.name,
        "image_version": RELEASE,
        "os": OS_NAME,
        "schema_version": 1,
        "source_image_name": plain.name,
    }
    out = {ECS_PARAMETER_PATH: json.dumps(members, separators=(",", ":"))}
    out.update({f"{ECS_PARAMETER_PATH}/{k}": str(v) for k, v in members.items()})
    out[f"{PLAIN_PARAMETER_PREFIX}{plain.architecture}"] = plain.image_id
    return out
