"""Launch templates and versions: create, add a version (optionally from a source version),
choose the default, delete versions or the whole template; and `resolve`, what a launch asks
of a template (id or name, version `$Latest`/`$Default`/number) answered with the version's
`LaunchTemplateData` or the error EC2 gives.

Launch template data is not fully validated when it is stored, as EC2 documents: the records
it names (subnets, security groups, images) are checked at launch (`references.py`).
"""

from __future__ import annotations

import base64
import binascii
import copy
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dockyard.core.clock import Clock
from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.ec2.errors import (
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
)
from dockyard.services.ec2.ids import new_id
from dockyard.services.ec2.network.state import Records, editable
from dockyard.services.ec2.templates.model import (
    LaunchTemplate,
    TemplateVersion,
    VersionAlias,
    version_id,
)

log = logging.getLogger(__name__)

NAME = re.compile(r"[a-zA-Z0-9().\-/_]{3,128}")
MAX_DESCRIPTION = 255
MAX_VERSIONS = 10_000  # a template's, as EC2's quota
MAX_USER_DATA = 16 * 1024  # bytes, before base64
MAX_DELETE = 200  # versions a DeleteLaunchTemplateVersions call


def _error(code: str, message: str) -> ServiceError:
    return ServiceError(message, code=code)


def id_not_found(template_id: str) -> ServiceError:
    return _error(
        "InvalidLaunchTemplateId.NotFound",
        f"The specified launch template, with template ID {template_id}, does not exist.",
    )


def name_not_found(name: str) -> ServiceError:
    return _error(
        "InvalidLaunchTemplateName.NotFoundException",
        f"The specified launch template, with template name {name}, does not exist.",
    )


def version_not_found(template: LaunchTemplate, version: str) -> ServiceError:
    return _error(
        "InvalidLaunchTemplateId.VersionNotFound",
        f"Could not find launch template version {version} for launch template "
        f"{template.id} ({template.name}).",
    )


def checked_name(name: str | None) -> str:
    if not name:
        raise MissingParameter("The request must contain the parameter LaunchTemplateName")
    if NAME.fullmatch(name) is None:
        raise _error(
            "InvalidLaunchTemplateName.MalformedException",
            f"A launch template name must be 3 to 128 characters of a-z, A-Z, 0-9, "
            f"().-/_ (LaunchTemplateName: {name}).",
        )
    return name


def checked_description(description: str | None) -> str | None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InvalidParameterValue(
            f"A version description is at most {MAX_DESCRIPTION} characters (VersionDescription)."
        )
    return description


def checked_data(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """The data as given, after the checks EC2 makes when storing it (user data must be
    base64 of at most 16 KiB)."""
    if data is None:
        raise MissingParameter("The request must contain the parameter LaunchTemplateData")
    user_data = data.get("UserData")
    if user_data is not None:
        try:
            raw = base64.b64decode(str(user_data), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _error(
                "InvalidUserData.Malformed", "Invalid BASE64 encoding of user data (UserData)."
            ) from exc
        if len(raw) > MAX_USER_DATA:
            raise _error(
                "InvalidUserData.Malformed",
                f"User data is limited to {MAX_USER_DATA} bytes (UserData).",
            )
    return copy.deepcopy(dict(data))


def version_number(text: str, parameter: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 2**31:
        raise InvalidParameterValue(
            f"Value ({text}) for parameter {parameter} is invalid. A version is a number, "
            f"{VersionAlias.LATEST} or {VersionAlias.DEFAULT}."
        )
    return int(text)


@dataclass(frozen=True, slots=True)
class Deletion:
    """One version of a DeleteLaunchTemplateVersions call: deleted, or why not."""

    version: str
    number: int | None
    error_code: str | None = None
    error_message: str | None = None


class LaunchTemplates:
    def __init__(self, records: Records, clock: Clock) -> None:
        self.records = records
        self.clock = clock

    def all(self, scope: Scope) -> list[LaunchTemplate]:
        return self.records.all(scope, LaunchTemplate)

    def named(self, scope: Scope, name: str) -> LaunchTemplate | None:
        return next((t for t in self.all(scope) if t.name == name), None)

    def version(self, template: LaunchTemplate, number: int) -> TemplateVersion | None:
        if number not in template.numbers:
            return None
        return self.records.find(template.scope, version_id(template.id, number), TemplateVersion)

    def versions(self, template: LaunchTemplate) -> list[TemplateVersion]:
        """Every version of `template`, oldest first."""
        found = [self.version(template, n) for n in template.numbers]
        return [v for v in found if v is not None]

    def get(self, scope: Scope, template_id: str | None, name: str | None) -> LaunchTemplate:
        """A template by `LaunchTemplateId` or `LaunchTemplateName` (exactly one)."""
        if template_id and name:
            raise InvalidParameterCombination(
                "Only one of LaunchTemplateId or LaunchTemplateName may be given."
            )
        if template_id:
            if not template_id.startswith("lt-"):
                raise _error(
                    "InvalidLaunchTemplateId.Malformed",
                    f'Invalid id: "{template_id}" (expecting "lt-...") (LaunchTemplateId).',
                )
            found = self.records.find(scope, template_id, LaunchTemplate)
            if found is None:
                raise id_not_found(template_id)
            return found
        if name:
            found = self.named(scope, name)
            if found is None:
                raise name_not_found(name)
            return found
        raise MissingParameter(
            "The request must contain the parameter LaunchTemplateName or LaunchTemplateId"
        )

    def version_of(self, template: LaunchTemplate, version: str | None) -> TemplateVersion:
        """`$Latest`, `$Default`, a number, or None (the default version)."""
        if version is None or version == VersionAlias.DEFAULT:
            number = template.default_version
        elif version == VersionAlias.LATEST:
            number = template.latest_version
        else:
            number = version_number(version, "LaunchTemplate.Version")
        found = self.version(template, number)
        if found is None:
            raise version_not_found(template, version or str(number))
        return found

    def resolve(
        self,
        scope: Scope,
        template_id: str | None,
        name: str | None,
        version: str | None = None,
    ) -> tuple[LaunchTemplate, TemplateVersion]:
        """What a launch reads of a template: the template and the version asked for (None:
        the default), or the error EC2 answers (`InvalidLaunchTemplateId.NotFound`,
        `InvalidLaunchTemplateName.NotFoundException`, `...VersionNotFound`, ...)."""
        template = self.get(scope, template_id, name)
        return template, self.version_of(template, version)

    def create(
        self,
        scope: Scope,
        name: str | None,
        data: Mapping[str, Any] | None,
        description: str | None,
        tags: Mapping[str, str],
        created_by: str,
        client_token: str | None = None,
    ) -> LaunchTemplate:
        if client_token:
            done = next((t for t in self.all(scope) if t.client_token == client_token), None)
            if done is not None:
                if done.name != name:
                    raise _error(
                        "IdempotentParameterMismatch",
                        f"The client token {client_token} was used for another request.",
                    )
                return done
        name = checked_name(name)
        body = checked_data(data)
        description = checked_description(description)
        if self.named(scope, name) is not None:
            raise _error(
                "InvalidLaunchTemplateName.AlreadyExistsException",
                f"Launch template name already in use ({name}).",
            )
        now = self.clock.now()
        template = LaunchTemplate(
            new_id("lt"),
            scope.account_id,
            scope.region,
            dict(tags),
            name=name,
            created=now,
            created_by=created_by,
            numbers=[1],
            client_token=client_token or None,
        )
        first = self._version(template, 1, body, now, created_by, description)
        self.records.commit([template, first])
        log.info("ec2: created launch template %s (%s)", template.id, name,
                 extra={"arn": template.arn})  # fmt: skip
        return template

    def _version(
        self,
        template: LaunchTemplate,
        number: int,
        data: dict[str, Any],
        created: float,
        created_by: str,
        description: str | None,
    ) -> TemplateVersion:
        return TemplateVersion(
            version_id(template.id, number),
            template.account_id,
            template.region,
            template_id=template.id,
            number=number,
            data=data,
            created=created,
            created_by=created_by,
            description=description,
        )

    def add_version(
        self,
        scope: Scope,
        template: LaunchTemplate,
        data: Mapping[str, Any] | None,
        description: str | None,
        created_by: str,
        source_version: str | None = None,
    ) -> tuple[LaunchTemplate, TemplateVersion]:
        """A new version: the source version's data (if one is named) with the members
        given replacing its own."""
        body = checked_data(data)
        description = checked_description(description)
        if source_version is not None:
            source = self.version_of(template, source_version)
            body = {**copy.deepcopy(source.data), **body}
        if len(template.numbers) >= MAX_VERSIONS:
            raise _error(
                "VersionLimitExceeded",
                f"Launch template {template.id} has the maximum of {MAX_VERSIONS} versions.",
            )
        changed = editable(template)
        version = self._version(
            changed, changed.next_version, body, self.clock.now(), created_by, description
        )
        changed.numbers.append(version.number)
        changed.next_version += 1
        self.records.commit([changed, version])
        return changed, version

    def set_default(self, scope: Scope, template: LaunchTemplate, version: str) -> LaunchTemplate:
        number = self.version_of(template, version).number
        changed = editable(template)
        changed.default_version = number
        self.records.commit([changed])
        return changed

    def delete(self, scope: Scope, template: LaunchTemplate) -> None:
        self.records.commit(deletes=[template, *self.versions(template)])
        log.info("ec2: deleted launch template %s", template.id, extra={"arn": template.arn})

    def delete_versions(
        self, scope: Scope, template: LaunchTemplate, versions: Sequence[str]
    ) -> list[Deletion]:
        """Each version asked for, deleted or refused (the default version cannot go)."""
        if not versions:
            raise MissingParameter("The request must contain the parameter LaunchTemplateVersion")
        if len(versions) > MAX_DELETE:
            raise InvalidParameterValue(
                f"At most {MAX_DELETE} versions can be deleted a request (LaunchTemplateVersion)."
            )
        out: list[Deletion] = []
        gone: set[int] = set()
        for text in versions:
            number = int(text) if text.isascii() and text.isdigit() else None
            if number is None or number not in template.numbers or number in gone:
                out.append(
                    Deletion(
                        text,
                        number,
                        "launchTemplateVersionDoesNotExist",
                        f"The specified launch template version {text} does not exist.",
                    )
                )
            elif number == template.default_version:
                out.append(
                    Deletion(
                        text,
                        number,
                        "unexpectedError",
                        "The default version of a launch template cannot be deleted: make "
                        "another version the default, or delete the launch template.",
                    )
                )
            else:
                gone.add(number)
                out.append(Deletion(text, number))
        if gone:
            changed = editable(template)
            changed.numbers = [n for n in changed.numbers if n not in gone]
            dropped = [v for v in self.versions(template) if v.number in gone]
            self.records.commit([changed], deletes=dropped)
        return out
