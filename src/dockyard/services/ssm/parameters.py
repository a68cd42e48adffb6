"""Parameters of every account and region: in memory, written through to the store."""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass

from dockyard.core.clock import Clock
from dockyard.core.scope import Scope
from dockyard.services.ssm import filters, public, validation
from dockyard.services.ssm.errors import (
    HierarchyTypeMismatchException,
    InvalidKeyId,
    ParameterAlreadyExists,
    ParameterMaxVersionLimitExceeded,
    ParameterVersionLabelLimitExceeded,
    ParameterVersionNotFound,
    ValidationException,
    not_found,
)
from dockyard.services.ssm.model import DEFAULT_KEY_ID, Parameter, ParameterType, Version
from dockyard.store.base import Store
from dockyard.store.undo import put_record

log = logging.getLogger(__name__)

KIND = "ssm.parameter"


def sealed(value: str) -> str:
    """What a SecureString shows without decryption: an opaque blob shaped like a KMS
    ciphertext (random, so it says nothing of the value)."""
    return base64.b64encode(b"\x01\x02\x02\x00x" + secrets.token_bytes(40 + len(value))).decode()


@dataclass(slots=True)
class PutRequest:
    name: str
    value: str
    type: str | None = None
    description: str | None = None
    key_id: str | None = None
    overwrite: bool = False
    allowed_pattern: str | None = None
    tags: dict[str, str] | None = None
    tier: str | None = None
    data_type: str | None = None


def name_of(reference: str) -> str:
    """The parameter name of a name or an ARN (`arn:aws:ssm:r:a:parameter/x` -> `x`,
    `.../parameter/a/b` -> `/a/b`)."""
    if reference.startswith("arn:"):
        resource = reference.split(":", 5)[-1]
        if resource.startswith("parameter/"):
            rest = resource.removeprefix("parameter")
            return rest[1:] if rest.count("/") == 1 else rest
    return reference


class Parameters:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.by_scope: dict[Scope, dict[str, Parameter]] = {}

    def load(self) -> None:
        self.reset()
        for _key, body in self.store.load(KIND):
            parameter = Parameter.from_dict(body)
            self.by_scope.setdefault(parameter.scope, {})[parameter.name] = parameter

    def reset(self) -> None:
        self.by_scope.clear()

    def save(self, parameter: Parameter) -> None:
        put_record(self.store, KIND, parameter.arn, parameter, Parameter.from_dict)
        self.by_scope.setdefault(parameter.scope, {})[parameter.name] = parameter

    def all(self, scope: Scope) -> list[Parameter]:
        return sorted(self.by_scope.get(scope, {}).values(), key=lambda p: p.name)

    def find(self, scope: Scope, reference: str) -> Parameter | None:
        """A parameter by name or ARN (`parameter/x` names `x`, or `/x` when only that
        exists: both have that ARN)."""
        known = self.by_scope.get(scope, {})
        name = name_of(reference)
        found = known.get(name)
        if found is None and reference.startswith("arn:") and not name.startswith("/"):
            found = known.get(f"/{name}")
        return found

    def get(self, scope: Scope, reference: str) -> Parameter:
        parameter = self.find(scope, reference)
        if parameter is None:
            raise not_found(reference)
        return parameter

    def readable(self, scope: Scope, reference: str) -> Parameter:
        """A parameter of the account, or a public one (`/aws/service/...`, read-only)."""
        parameter = self.find(scope, reference) or public.find(scope, name_of(reference))
        if parameter is None:
            raise not_found(reference)
        return parameter

    def by_path(self, scope: Scope, path: str, recursive: bool) -> list[Parameter]:
        """The account's parameters under `path`, and the public ones under it."""
        own = [x for x in self.all(scope) if filters.under(x.name, path, recursive)]
        return sorted([*own, *public.under(scope, path, recursive)], key=lambda x: x.name)

    def select(self, scope: Scope, reference: str) -> tuple[Parameter, Version, str | None]:
        """A parameter and one of its versions from `name`, an ARN, `name:version` or
        `name:label`; the selector as given (None without one)."""
        base, selector = reference, None
        head, sep, tail = reference.rpartition(":")
        if sep and head and not tail.startswith("parameter/") and "/" not in tail:
            base, selector = head, tail
        parameter = self.readable(scope, base)
        if selector is None:
            return parameter, parameter.current, None
        if selector.isascii() and selector.isdigit():
            version = parameter.version(int(selector))
            if version is None:
                raise ParameterVersionNotFound(
                    f"Systems Manager could not find version {selector} of {base}. "
                    "Verify the version and try again."
                )
        else:
            version = parameter.labelled(selector)
            if version is None:
                raise ParameterVersionNotFound(
                    f"Systems Manager could not find label {selector} of {base}. "
                    "Verify the label and try again."
                )
        return parameter, version, f":{selector}"

    def put(self, scope: Scope, request: PutRequest, user: str) -> Parameter:
        name = validation.name(request.name)
        if len(Parameter(name, scope.account_id, scope.region).arn) > validation.MAX_ARN_LENGTH:
            raise ValidationException(
                f"The parameter name, with its ARN, can have at most "
                f"{validation.MAX_ARN_LENGTH} characters (Name: {name})."
            )
        existing = self.find(scope, name)
        if existing is not None and not request.overwrite:
            raise ParameterAlreadyExists(
                "The parameter already exists. To overwrite this value, set the overwrite "
                "option in the request to true."
            )
        if existing is not None and request.tags:
            raise ValidationException(
                "Invalid request: tags and overwrite can't be used together. To create a "
                "parameter with tags, please remove overwrite flag. To update tags for an "
                "existing parameter, please use AddTagsToResource or RemoveTagsFromResource."
            )
        current = existing.current if existing is not None else None
        kind = request.type or (current.type if current else None)
        if kind is None:
            raise ValidationException(
                "A parameter type is required when you create a parameter (Type)."
            )
        if current is not None and kind != current.type:
            raise HierarchyTypeMismatchException(
                "Parameter Store doesn't support changing a parameter type in a hierarchy. For "
                "example, you can't change a parameter from a String type to a SecureString "
                f"type. You must create a new, unique parameter (Type: {current.type} -> "
                f"{kind})."
            )
        if request.key_id and kind != ParameterType.SECURE_STRING:
            raise InvalidKeyId(
                f"KeyId is only for SecureString parameters (Type: {kind}, KeyId: "
                f"{request.key_id})."
            )
        allowed = request.allowed_pattern
        if allowed is None and current is not None:
            allowed = current.allowed_pattern
        value = validation.value(request.value, kind, allowed)
        tier = validation.tier_for(request.tier, current.tier if current else None, value)
        data_type = validation.data_type(
            request.data_type or (current.data_type if current else None)
        )
        secure = kind == ParameterType.SECURE_STRING
        key_id = request.key_id or (current.key_id if current else None) or DEFAULT_KEY_ID
        version = Version(
            version=(current.version + 1) if current else 1,
            value=value,
            type=kind,
            modified=self.clock.now(),
            modified_user=user,
            tier=tier,
            data_type=data_type,
            description=(
                request.description
                if request.description is not None
                else (current.description if current else None)
            ),
            allowed_pattern=allowed,
            key_id=key_id if secure else None,
            ciphertext=sealed(value) if secure else None,
        )
        parameter = existing or Parameter(
            name, scope.account_id, scope.region, tags=dict(request.tags or {})
        )
        if len(parameter.versions) >= validation.MAX_VERSIONS:
            oldest = parameter.versions[0]
            if oldest.labels:
                raise ParameterMaxVersionLimitExceeded(
                    f"You attempted to create a new version of {name} by calling the "
                    f"PutParameter API with the overwrite flag. Version {oldest.version}, the "
                    f"oldest version, can't be deleted because it has a label associated with "
                    f"it. Move the label to another version of the parameter, and try again."
                )
            parameter.versions.pop(0)
        if existing is not None and existing.current.tier != tier:
            for old in parameter.versions:
                old.tier = tier  # the tier is the parameter's, not a version's
        parameter.versions.append(version)
        self.save(parameter)
        log.info("ssm: put parameter %s version %d", name, version.version,
                 extra={"arn": parameter.arn})  # fmt: skip
        return parameter

    def delete(self, parameter: Parameter) -> None:
        self.store.delete(KIND, parameter.arn)
        self.by_scope.get(parameter.scope, {}).pop(parameter.name, None)

    def label(
        self, parameter: Parameter, number: int | None, labels: list[str]
    ) -> tuple[int, list[str]]:
        """Attach labels to a version (default: the latest), moving them from other versions.
        Returns (the version, the labels that are not valid)."""
        version = parameter.current if number is None else parameter.version(number)
        if version is None:
            raise ParameterVersionNotFound(
                f"Systems Manager could not find version {number} of {parameter.name}. "
                "Verify the version and try again."
            )
        invalid = [label for label in labels if not validation.label_ok(label)]
        valid = [label for label in labels if validation.label_ok(label)]
        added = [label for label in valid if label not in version.labels]
        if len(version.labels) + len(added) > validation.MAX_LABELS:
            raise ParameterVersionLabelLimitExceeded(
                f"A parameter version can have at most {validation.MAX_LABELS} labels (Labels)."
            )
        for label in added:
            for other in parameter.versions:
                if label in other.labels:
                    other.labels.remove(label)
            version.labels.append(label)
        self.save(parameter)
        return version.version, invalid

    def unlabel(
        self, parameter: Parameter, number: int, labels: list[str]
    ) -> tuple[list[str], list[str]]:
        version = parameter.version(number)
        if version is None:
            raise ParameterVersionNotFound(
                f"Systems Manager could not find version {number} of {parameter.name}. "
                "Verify the version and try again."
            )
        removed = [label for label in labels if label in version.labels]
        version.labels = [label for label in version.labels if label not in removed]
        self.save(parameter)
        return removed, [label for label in labels if label not in removed]
