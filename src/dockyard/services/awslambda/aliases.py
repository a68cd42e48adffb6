"""Aliases: a name for a published version, optionally splitting invocations with a second
version by weight (RoutingConfig.AdditionalVersionWeights)."""

from __future__ import annotations

import random

from dockyard.core.ids import new_uuid
from dockyard.core.scope import Scope
from dockyard.services.awslambda import validation
from dockyard.services.awslambda.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from dockyard.services.awslambda.functions import Functions
from dockyard.services.awslambda.model import LATEST, Alias, Function, function_arn


class Aliases:
    def __init__(self, functions: Functions, seed: int | None = None) -> None:
        self.functions = functions
        # Which version of a weighted alias runs: a seeded choice per invocation.
        self.random = random.Random(seed)

    def _version(self, fn: Function, version: str) -> str:
        if version != LATEST and version not in fn.versions:
            raise ResourceNotFoundException(
                f"Function not found: {function_arn(fn.account_id, fn.region, fn.name, version)}"
            )
        return version

    def get(self, scope: Scope, name: str, alias: str) -> tuple[Function, Alias]:
        fn, _ = self.functions.resolve(scope, name)
        found = fn.aliases.get(alias)
        if found is None:
            raise ResourceNotFoundException(
                f"Cannot find alias arn: {function_arn(fn.account_id, fn.region, fn.name, alias)}"
            )
        return fn, found

    def create(
        self, scope: Scope, name: str, alias: str, version: str, description: str,
        weights: dict[str, float],
    ) -> Alias:  # fmt: skip
        fn, _ = self.functions.resolve(scope, name)
        validation.check_alias_name(alias)
        if alias in fn.aliases:
            raise ResourceConflictException(
                f"Alias already exists: {function_arn(fn.account_id, fn.region, fn.name, alias)}"
            )
        self._version(fn, version)
        weights = self._weights(fn, version, weights)
        created = Alias(alias, function_arn(fn.account_id, fn.region, fn.name, alias), version,
                        description, weights, new_uuid())  # fmt: skip
        new = Function.from_record(fn.to_record())
        new.aliases[alias] = created
        self.functions.commit(new)
        return created

    def _weights(self, fn: Function, version: str, weights: dict[str, float]) -> dict[str, float]:
        weights = validation.check_weights(version, weights)
        if weights and version == LATEST:
            raise InvalidParameterValueException(
                "$LATEST is not supported for an alias pointing to more than 1 version"
            )
        for other in weights:
            self._version(fn, other)
        return weights

    def update(
        self, scope: Scope, name: str, alias: str, version: str | None,
        description: str | None, weights: dict[str, float] | None, revision_id: str | None,
    ) -> Alias:  # fmt: skip
        fn, found = self.get(scope, name, alias)
        if revision_id is not None and revision_id != found.revision_id:
            raise PreconditionFailedException(
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetFunction/GetAlias API to retrieve the latest Revision Id"
            )
        target = self._version(fn, version) if version is not None else found.function_version
        new_weights = found.weights if weights is None else weights
        new_weights = self._weights(fn, target, new_weights)
        updated = Alias(found.name, found.arn, target,
                        found.description if description is None else description,
                        new_weights, new_uuid())  # fmt: skip
        new = Function.from_record(fn.to_record())
        new.aliases[alias] = updated
        self.functions.commit(new)
        return updated

    def delete(self, scope: Scope, name: str, alias: str) -> None:
        fn, _ = self.functions.resolve(scope, name)
        if alias not in fn.aliases:
            return  # Lambda answers success for an alias that is not there
        new = Function.from_record(fn.to_record())
        del new.aliases[alias]
        new.policies.pop(alias, None)
        self.functions.commit(new)

    def listed(self, fn: Function, version: str | None) -> list[Alias]:
        found = sorted(fn.aliases.values(), key=lambda a: a.name)
        if version is not None:
            found = [a for a in found if a.function_version == version or version in a.weights]
        return found

    def pick(self, alias: Alias) -> str:
        """The version one invocation of the alias runs."""
        draw = self.random.random()
        for version, weight in alias.weights.items():
            if draw < weight:
                return version
            draw -= weight
        return alias.function_version
