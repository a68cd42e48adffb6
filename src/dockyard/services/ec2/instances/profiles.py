"""The port through which EC2 reads IAM instance profiles (EC2 never imports IAM): a launch
checks the profile it names, and the metadata service hands out its role's credentials. The
composition root implements it over the IAM service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dockyard.core.errors import ServiceError


@dataclass(frozen=True, slots=True)
class Profile:
    arn: str
    profile_id: str
    role_arn: str | None  # the profile's role (at most one), None without one
    role_name: str | None


class InstanceProfiles(Protocol):
    def profile(self, account_id: str, name_or_arn: str) -> Profile | None:
        """The instance profile of this name (or ARN) in `account_id`, or None."""
        ...


def checked(
    profiles: InstanceProfiles | None, account_id: str, given: object
) -> tuple[str | None, str | None]:
    """`IamInstanceProfile` of a launch as (ARN, id); raises what EC2 answers for a profile
    that does not exist. Without the port the value is kept as given."""
    if not isinstance(given, dict) or not given:
        return None, None
    arn, name = given.get("Arn"), given.get("Name")
    if arn and name:
        raise ServiceError(
            "The parameter 'iamInstanceProfile.name' may not be used in combination with "
            "'iamInstanceProfile.arn'",
            code="InvalidParameterCombination",
        )
    value = str(arn or name or "")
    if not value:
        return None, None
    if profiles is None:
        return value, None
    found = profiles.profile(account_id, value)
    if found is None:
        member, what = ("arn", "ARN") if arn else ("name", "name")
        raise ServiceError(
            f"Value ({value}) for parameter iamInstanceProfile.{member} is invalid. Invalid IAM "
            f"Instance Profile {what}",
            code="InvalidParameterValue",
        )
    return found.arn, found.profile_id
