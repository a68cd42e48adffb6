"""Lifecycle policy rules and the plan of what they expire."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dockyard.services.ecr import lifecycle
from dockyard.services.ecr.errors import InvalidParameterException
from dockyard.services.ecr.model import Image

DAY = 86400.0
NOW = 100 * DAY


def image(n: int, tags: list[str], age_days: float = 0.0) -> Image:
    return Image("arn:repo", f"sha256:{n:064x}", "{}", "m", NOW - age_days * DAY - n, 1, [],
                 tags=tags)  # fmt: skip


def rule(priority: int, status: str, count_type: str, number: int, **extra: Any) -> dict[str, Any]:
    selection = {"tagStatus": status, "countType": count_type, "countNumber": number, **extra}
    if count_type == "sinceImagePushed":
        selection["countUnit"] = "days"
    return {"rulePriority": priority, "selection": selection, "action": {"type": "expire"}}


def expired(rules: list[dict[str, Any]], images: list[Image]) -> dict[int, int]:
    parsed = lifecycle.parse(json.dumps({"rules": rules}))
    return {int(e.image.digest[7:], 16): e.priority for e in lifecycle.plan(parsed, images, NOW)}


def test_count_keeps_the_newest() -> None:
    images = [image(i, [f"v{i}"]) for i in range(5)]  # image 0 is the newest
    assert expired([rule(1, "any", "imageCountMoreThan", 3)], images) == {3: 1, 4: 1}


def test_since_pushed_expires_old_ones() -> None:
    images = [image(0, ["a"], 1), image(1, ["b"], 10), image(2, [], 30)]
    assert expired([rule(1, "any", "sinceImagePushed", 7)], images) == {1: 1, 2: 1}


def test_first_matching_rule_claims_an_image() -> None:
    images = [image(0, ["prod-1"]), image(1, ["prod-2"]), image(2, ["dev-1"]), image(3, [])]
    rules = [
        rule(1, "tagged", "imageCountMoreThan", 5, tagPrefixList=["prod"]),  # keeps both prods
        rule(2, "any", "imageCountMoreThan", 1),  # of dev-1 and the untagged: keeps dev-1
    ]
    assert expired(rules, images) == {3: 2}


def test_prefixes_and_patterns_all_must_match() -> None:
    images = [image(0, ["prod", "release-1"]), image(1, ["prod"]), image(2, ["release-2"])]
    both = [rule(1, "tagged", "imageCountMoreThan", 1, tagPatternList=["prod", "release-*"]),
            rule(2, "untagged", "imageCountMoreThan", 1)]  # fmt: skip
    assert expired(both, [*images, image(3, ["prod", "release-3"])]) == {3: 1}
    prefixes = [rule(1, "tagged", "sinceImagePushed", 1, tagPrefixList=["rel"])]
    assert expired(prefixes, [image(0, ["release"], 2), image(1, ["prod"], 2)]) == {0: 1}


def test_untagged_rule_ignores_tagged() -> None:
    images = [image(0, []), image(1, []), image(2, ["keep"], 50)]
    assert expired([rule(1, "untagged", "imageCountMoreThan", 1)], images) == {1: 1}


@pytest.mark.parametrize(
    "rules",
    [
        [rule(1, "any", "imageCountMoreThan", 1), rule(2, "untagged", "imageCountMoreThan", 1)],
        [rule(1, "tagged", "imageCountMoreThan", 1)],  # no prefix or pattern
        [rule(1, "untagged", "imageCountMoreThan", 1, tagPrefixList=["a"])],
        [rule(1, "any", "imageCountMoreThan", 0)],
        [rule(1, "any", "imageCountMoreThan", 1), rule(1, "untagged", "imageCountMoreThan", 2)],
        [rule(1, "tagged", "imageCountMoreThan", 1, tagPatternList=["a*b*c*d*e*f"])],
        [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "any",
                    "countType": "sinceImagePushed",
                    "countNumber": 1,
                },
                "action": {"type": "expire"},
            }
        ],
        [],
    ],
)
def test_invalid_policies(rules: list[dict[str, Any]]) -> None:
    with pytest.raises(InvalidParameterException):
        lifecycle.parse(json.dumps({"rules": rules}))


def test_not_json() -> None:
    with pytest.raises(InvalidParameterException):
        lifecycle.parse("{rules")
