"""`resolve:ssm:<parameter>` image ids (in launch templates and launches): the image id the
parameter names. Only the public parameters (`/aws/service/...`, `core/images.py`) resolve
here: EC2 does not read the account's own SSM parameters."""

from __future__ import annotations

from typing import Any

from dockyard.core.images import public_parameters
from dockyard.services.ec2.errors import InvalidParameterValue

SSM_ALIAS = "resolve:ssm:"


def image_id(region: str, image: str) -> str:
    """`image` itself, or the image id its `resolve:ssm:` parameter names."""
    if not image.startswith(SSM_ALIAS):
        return image
    name = image.removeprefix(SSM_ALIAS)
    value = public_parameters(region).get(name.split(":", 1)[0])  # `name:version` too
    if value is None:
        raise InvalidParameterValue(
            f"Value ({image}) for parameter ImageId is invalid. Dockyard resolves the public "
            "/aws/service/ parameters only (resolve:ssm:)."
        )
    return value


def resolved(region: str, data: dict[str, Any]) -> dict[str, Any]:
    """`ResolveAlias`: the data with its `ImageId` resolved."""
    image = data.get("ImageId")
    if not isinstance(image, str) or not image.startswith(SSM_ALIAS):
        return data
    return {**data, "ImageId": image_id(region, image)}
