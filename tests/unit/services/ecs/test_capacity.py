"""Capacity provider strategies: base first, then weights, as ECS distributes tasks."""

from __future__ import annotations

from collections import Counter

import pytest

from dockyard.services.ecs.capacity.domain import StrategyItem, parse_strategy, split
from dockyard.services.ecs.errors import InvalidParameterException


def items(*raw: tuple[str, int, int]) -> list[StrategyItem]:
    return [StrategyItem(name, weight, base) for name, weight, base in raw]


def test_base_first_then_by_weight() -> None:
    strategy = items(("a", 1, 2), ("b", 3, 0))
    assert split(strategy, 2, {}) == ["a", "a"]
    assert Counter(split(strategy, 10, {})) == {"a": 4, "b": 6}  # 2 base + 8 at 1:3 -> 2:6


def test_counts_already_running_are_taken_into_account() -> None:
    strategy = items(("a", 1, 0), ("b", 1, 0))
    assert split(strategy, 2, {"a": 3, "b": 1}) == ["b", "b"]


def test_zero_weight_providers_only_get_their_base() -> None:
    strategy = items(("a", 0, 1), ("b", 1, 0))
    assert Counter(split(strategy, 5, {})) == {"a": 1, "b": 4}


@pytest.mark.parametrize(
    "raw, words",
    [
        ([{"capacityProvider": "a", "base": 1, "weight": 1},
          {"capacityProvider": "b", "base": 1, "weight": 1}], "Only one capacity provider"),
        ([{"capacityProvider": "a", "weight": 0}], "weight greater than zero"),
        ([{"capacityProvider": "a", "weight": 1}, {"capacityProvider": "a", "weight": 1}],
         "twice"),
        ([{"capacityProvider": "FARGATE", "weight": 1}, {"capacityProvider": "a", "weight": 1}],
         "mix"),
    ],
)  # fmt: skip
def test_bad_strategies_are_refused(raw: list[dict[str, object]], words: str) -> None:
    with pytest.raises(InvalidParameterException, match=words):
        parse_strategy(raw, "capacityProviderStrategy")
