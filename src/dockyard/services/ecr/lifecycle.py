"""Lifecycle policies: their rules, checked as ECR checks them, and the pure plan of which
images they expire.

Rules apply in `rulePriority` order, lowest first. Each image is considered by the first
rule whose tag selection it matches, and by no later one: that rule either expires it or
keeps it. `imageCountMoreThan` keeps the newest `countNumber` images it selects (by push
time); `sinceImagePushed` expires those pushed more than `countNumber` days ago.
`tagPrefixList` / `tagPatternList` select the images having, for every entry, a tag that
starts with / matches it.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass

from dockyard.core.wildcard import compile_wildcard
from dockyard.services.ecr.errors import InvalidParameterException
from dockyard.services.ecr.model import Image

DAY = 86400.0
MAX_WILDCARDS = 4


class RuleTagStatus(enum.StrEnum):
    TAGGED = "tagged"
    UNTAGGED = "untagged"
    ANY = "any"


class CountType(enum.StrEnum):
    IMAGE_COUNT_MORE_THAN = "imageCountMoreThan"
    SINCE_IMAGE_PUSHED = "sinceImagePushed"


@dataclass(slots=True)
class Rule:
    priority: int
    tag_status: RuleTagStatus
    count_type: CountType
    count_number: int
    tag_prefixes: list[str]
    tag_patterns: list[str]

    def selects(self, image: Image) -> bool:
        if self.tag_status == RuleTagStatus.UNTAGGED:
            return not image.tags
        if self.tag_status == RuleTagStatus.ANY:
            return True
        if not image.tags:
            return False
        for prefix in self.tag_prefixes:
            if not any(t.startswith(prefix) for t in image.tags):
                return False
        for pattern in self.tag_patterns:
            match = compile_wildcard(pattern, single=False)
            if not any(match(t) for t in image.tags):
                return False
        return True


@dataclass(slots=True)
class Expiry:
    image: Image
    priority: int


def _bad(message: str) -> InvalidParameterException:
    return InvalidParameterException(f"Invalid parameter at 'LifecyclePolicyText' failed to "
                                     f"satisfy constraint: '{message}'")  # fmt: skip


def _strings(value: object, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _bad(f"{name} must be a list of non-empty strings")
    return list(value)


def parse(text: str) -> list[Rule]:
    """The rules of a policy, in priority order; InvalidParameterException names the rule."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise _bad("Lifecycle policy validation failure: not valid JSON") from exc
    rules_doc = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(rules_doc, list) or not rules_doc:
        raise _bad("Lifecycle policy validation failure: rules must be a non-empty list")
    rules: list[Rule] = []
    for raw in rules_doc:
        if not isinstance(raw, dict):
            raise _bad("Lifecycle policy validation failure: a rule must be an object")
        priority = raw.get("rulePriority")
        if not isinstance(priority, int) or isinstance(priority, bool) or priority < 1:
            raise _bad("rulePriority must be a positive integer")
        selection, action = raw.get("selection"), raw.get("action")
        if not isinstance(selection, dict):
            raise _bad(f"rule {priority}: selection is required")
        if not isinstance(action, dict) or action.get("type") != "expire":
            raise _bad(f"rule {priority}: action.type must be 'expire'")
        try:
            status = RuleTagStatus(str(selection.get("tagStatus")))
            count_type = CountType(str(selection.get("countType")))
        except ValueError as exc:
            raise _bad(f"rule {priority}: invalid tagStatus or countType") from exc
        number = selection.get("countNumber")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise _bad(f"rule {priority}: countNumber must be a positive integer")
        if count_type == CountType.SINCE_IMAGE_PUSHED and selection.get("countUnit") != "days":
            raise _bad(f"rule {priority}: countUnit must be 'days' for sinceImagePushed")
        if count_type == CountType.IMAGE_COUNT_MORE_THAN and "countUnit" in selection:
            raise _bad(f"rule {priority}: countUnit is only for sinceImagePushed")
        prefixes = _strings(selection.get("tagPrefixList"), "tagPrefixList")
        patterns = _strings(selection.get("tagPatternList"), "tagPatternList")
        if status == RuleTagStatus.TAGGED and not (prefixes or patterns):
            raise _bad(f"rule {priority}: tagged rules need tagPrefixList or tagPatternList")
        if status == RuleTagStatus.TAGGED and prefixes and patterns:
            raise _bad(f"rule {priority}: give tagPrefixList or tagPatternList, not both")
        if status != RuleTagStatus.TAGGED and (prefixes or patterns):
            raise _bad(f"rule {priority}: tag lists are only for tagged rules")
        if any(p.count("*") > MAX_WILDCARDS for p in patterns):
            raise _bad(f"rule {priority}: at most {MAX_WILDCARDS} wildcards per pattern")
        rules.append(Rule(priority, status, count_type, number, prefixes, patterns))
    rules.sort(key=lambda r: r.priority)
    priorities = [r.priority for r in rules]
    if len(set(priorities)) != len(priorities):
        raise _bad("rulePriority values must be unique")
    if any(r.tag_status == RuleTagStatus.ANY for r in rules[:-1]):
        raise _bad("a rule with tagStatus 'any' must have the highest rulePriority")
    return rules


def plan(rules: Sequence[Rule], images: Sequence[Image], now: float) -> list[Expiry]:
    """Which images the rules expire (pure)."""
    claimed: set[str] = set()
    expired: list[Expiry] = []
    for rule in rules:
        selected = [i for i in images if i.digest not in claimed and rule.selects(i)]
        claimed.update(i.digest for i in selected)
        if rule.count_type == CountType.IMAGE_COUNT_MORE_THAN:
            newest = sorted(selected, key=lambda i: (i.pushed_at, i.digest), reverse=True)
            expired.extend(Expiry(i, rule.priority) for i in newest[rule.count_number :])
        else:
            cutoff = now - rule.count_number * DAY
            expired.extend(Expiry(i, rule.priority) for i in selected if i.pushed_at < cutoff)
    return expired
