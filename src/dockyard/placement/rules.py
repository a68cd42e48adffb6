"""Placement strategies and constraints as ECS takes them, checked.

`placementStrategy`: up to 5 of `binpack` (field `cpu` or `memory`), `spread` (field
`instanceId`, `host` or any `attribute:NAME`) and `random`, applied in order, each one
narrowing the candidates the previous ones left. `placementConstraints`: up to 10 (task
definition and request together) of `distinctInstance` (no expression) and `memberOf` (a
cluster query language expression).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dockyard.placement.expressions import ExpressionError, Query, compile_query

MAX_STRATEGIES = 5
MAX_CONSTRAINTS = 10
INSTANCE_FIELDS = ("instanceId", "host")
ATTRIBUTE_PREFIX = "attribute:"
ZONE_FIELD = "attribute:ecs.availability-zone"


class PlacementError(ValueError):
    """A strategy or constraint ECS would refuse; the message names the field."""


class StrategyType(StrEnum):
    RANDOM = "random"
    SPREAD = "spread"
    BINPACK = "binpack"


class ConstraintType(StrEnum):
    DISTINCT_INSTANCE = "distinctInstance"
    MEMBER_OF = "memberOf"


@dataclass(frozen=True, slots=True)
class Strategy:
    type: StrategyType
    field: str | None = None

    @property
    def per_instance(self) -> bool:
        """binpack and spread by instance rank single instances; spread by attribute, groups."""
        return self.type == StrategyType.BINPACK or (
            self.type == StrategyType.SPREAD and self.field in INSTANCE_FIELDS
        )

    @property
    def attribute(self) -> str | None:
        """For spread on `attribute:NAME`: NAME."""
        if self.type == StrategyType.SPREAD and self.field and self.field not in INSTANCE_FIELDS:
            return self.field.removeprefix(ATTRIBUTE_PREFIX)
        return None

    def to_wire(self) -> dict[str, str]:
        out = {"type": str(self.type)}
        if self.field is not None:
            out["field"] = self.field
        return out


@dataclass(frozen=True, slots=True)
class Constraint:
    type: ConstraintType
    query: Query | None = None

    @property
    def expression(self) -> str | None:
        return self.query.text if self.query is not None else None

    def to_wire(self) -> dict[str, str]:
        out = {"type": str(self.type)}
        if self.query is not None:
            out["expression"] = self.query.text
        return out


# What ECS uses when a service gives no strategy: spread across zones, then across instances.
SERVICE_DEFAULT = (
    Strategy(StrategyType.SPREAD, ZONE_FIELD),
    Strategy(StrategyType.SPREAD, "instanceId"),
)


def parse_strategies(raw: Iterable[Mapping[str, Any]] | None) -> tuple[Strategy, ...]:
    items = list(raw or [])
    if len(items) > MAX_STRATEGIES:
        raise PlacementError(
            f"At most {MAX_STRATEGIES} placement strategies can be given "
            f"(placementStrategy: {len(items)})."
        )
    return tuple(_strategy(item) for item in items)


def _strategy(item: Mapping[str, Any]) -> Strategy:
    kind = str(item.get("type") or "")
    field = item.get("field")
    field = str(field) if field not in (None, "") else None
    if kind not in set(StrategyType):
        raise PlacementError(
            f"Invalid placement strategy type {kind!r}: use random, spread or binpack "
            "(placementStrategy.type)."
        )
    if kind == StrategyType.BINPACK:
        if field is None or field.lower() not in ("cpu", "memory"):
            raise PlacementError(
                f"The binpack placement strategy takes the field cpu or memory "
                f"(placementStrategy.field: {field})."
            )
        return Strategy(StrategyType.BINPACK, field.lower())
    if kind == StrategyType.SPREAD:
        if field is None:
            raise PlacementError(
                "The spread placement strategy needs a field: instanceId, host or "
                "attribute:NAME (placementStrategy.field)."
            )
        if field.lower() in ("instanceid", "host"):
            return Strategy(StrategyType.SPREAD, "instanceId" if field.lower() == "instanceid"
                            else "host")  # fmt: skip
        if not field.startswith(ATTRIBUTE_PREFIX) or len(field) == len(ATTRIBUTE_PREFIX):
            raise PlacementError(
                f"The spread placement strategy spreads on instanceId, host or attribute:NAME "
                f"(placementStrategy.field: {field})."
            )
        return Strategy(StrategyType.SPREAD, field)
    return Strategy(StrategyType.RANDOM, field)


def parse_constraints(
    raw: Iterable[Mapping[str, Any]] | None,
    *,
    name: str = "placementConstraints",
    task_definition: bool = False,
) -> tuple[Constraint, ...]:
    items = list(raw or [])
    if len(items) > MAX_CONSTRAINTS:
        raise PlacementError(
            f"At most {MAX_CONSTRAINTS} placement constraints can be given ({name}: {len(items)})."
        )
    result = []
    for item in items:
        kind = str(item.get("type") or "")
        expression = item.get("expression")
        if kind == ConstraintType.DISTINCT_INSTANCE:
            if task_definition:
                raise PlacementError(
                    f"A task definition can only have memberOf placement constraints ({name}.type)."
                )
            if expression:
                raise PlacementError(
                    f"A distinctInstance constraint takes no expression ({name}.expression)."
                )
            result.append(Constraint(ConstraintType.DISTINCT_INSTANCE))
        elif kind == ConstraintType.MEMBER_OF:
            if not expression:
                raise PlacementError(
                    f"A memberOf constraint needs an expression ({name}.expression)."
                )
            try:
                query = compile_query(str(expression))
            except ExpressionError as exc:
                raise PlacementError(
                    f"Invalid placement constraint expression {expression!r}: {exc} "
                    f"({name}.expression)."
                ) from exc
            result.append(Constraint(ConstraintType.MEMBER_OF, query))
        else:
            raise PlacementError(
                f"Invalid placement constraint type {kind!r}: use distinctInstance or memberOf "
                f"({name}.type)."
            )
    return tuple(result)


def combined(
    task_definition: tuple[Constraint, ...], request: tuple[Constraint, ...]
) -> tuple[Constraint, ...]:
    """The constraints of a task: its definition's and the request's, at most 10 in all."""
    both = task_definition + request
    if len(both) > MAX_CONSTRAINTS:
        raise PlacementError(
            f"At most {MAX_CONSTRAINTS} placement constraints can apply to a task, counting "
            f"those of the task definition ({len(both)}) (placementConstraints)."
        )
    return both
