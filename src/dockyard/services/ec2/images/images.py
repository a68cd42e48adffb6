"""The images a region offers (the built-in ECS-optimized and plain images, owned by
Amazon), looked up as DescribeImages and launches look them up."""

from __future__ import annotations

from collections.abc import Sequence

from dockyard.core.errors import ServiceError
from dockyard.core.images import OWNER_ALIAS, BuiltinImage, builtin_images
from dockyard.core.scope import Scope
from dockyard.services.ec2.errors import malformed

# Owners= values that name no account: the caller's own images, the marketplace.
SELF = "self"
ALL = "all"


def not_found(ids: Sequence[str]) -> ServiceError:
    return ServiceError(
        f"The image id '[{', '.join(ids)}]' does not exist", code="InvalidAMIID.NotFound"
    )


def checked_id(image_id: str) -> str:
    if not image_id.startswith("ami-") or len(image_id) <= len("ami-"):
        raise malformed("InvalidAMIID.Malformed", "ami", image_id)
    return image_id


class Images:
    def all(self, scope: Scope) -> list[BuiltinImage]:
        return sorted(builtin_images(scope.region), key=lambda i: i.image_id)

    def get(self, scope: Scope, image_id: str) -> BuiltinImage:
        """The image a launch names, or `InvalidAMIID.NotFound` / `.Malformed`."""
        checked_id(image_id)
        found = next((i for i in self.all(scope) if i.image_id == image_id), None)
        if found is None:
            raise not_found([image_id])
        return found

    def owned(
        self, scope: Scope, owners: Sequence[str], executable_by: Sequence[str]
    ) -> list[BuiltinImage]:
        """The images `Owners` and `ExecutableUsers` choose: every built-in image is
        Amazon's and public, so `self` or another account owns none of them, and each can be
        launched by `all` (none by an explicit grant)."""
        chosen = self.all(scope)
        if owners:
            chosen = [i for i in chosen if i.owner_id in owners or OWNER_ALIAS in owners]
        if executable_by:
            chosen = [i for i in chosen if ALL in executable_by]
        return chosen
