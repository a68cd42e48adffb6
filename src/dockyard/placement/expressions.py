"""The ECS cluster query language: `attribute:ecs.os-type == linux and runningTasksCount < 3`.

An expression is evaluated against the facts of one container instance: a mapping of subject
names (`attribute:NAME`, `ec2InstanceId`, `agentConnected`, `runningTasksCount`, ...) to
values, an absent key meaning the subject does not exist there.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Facts = Mapping[str, str | None]
Predicate = Callable[[Facts], bool]


class ExpressionError(ValueError):
    pass


_TOKEN = re.compile(r"\s*(\(|\)|\[|\]|,|==|!=|=~|!~|>=|<=|>|<|[^\s()\[\],]+)")
_OPERATORS = {
    "==": "==", "equals": "==", "!=": "!=", "not_equals": "!=",
    ">": ">", ">=": ">=", "<": "<", "<=": "<=",
    "exists": "exists", "!exists": "!exists", "not_exists": "!exists",
    "in": "in", "!in": "!in", "not_in": "!in",
    "=~": "=~", "matches": "=~", "!~": "!~", "not_matches": "!~",
}  # fmt: skip


def tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExpressionError(f"cannot read the expression at {text[pos:]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    return tokens


@dataclass(slots=True)
class _Parser:
    tokens: list[str]
    pos: int = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ExpressionError("the expression ends too early")
        self.pos += 1
        return token

    def expect(self, token: str) -> None:
        got = self.take()
        if got != token:
            raise ExpressionError(f"expected {token!r}, found {got!r}")

    def parse_or(self) -> Predicate:
        left = self.parse_and()
        while (self.peek() or "").lower() == "or":
            self.take()
            right = self.parse_and()
            left = _either(left, right)
        return left

    def parse_and(self) -> Predicate:
        left = self.parse_not()
        while (self.peek() or "").lower() == "and":
            self.take()
            right = self.parse_not()
            left = _both(left, right)
        return left

    def parse_not(self) -> Predicate:
        if (self.peek() or "").lower() in ("not", "!"):
            self.take()
            inner = self.parse_not()
            return lambda facts: not inner(facts)
        if self.peek() == "(":
            self.take()
            inner = self.parse_or()
            self.expect(")")
            return inner
        return self.parse_term()

    def parse_term(self) -> Predicate:
        subject = self.take()
        op_token = self.take()
        op = _OPERATORS.get(op_token.lower())
        if op is None:
            raise ExpressionError(f"unknown operator {op_token!r}")
        if op in ("exists", "!exists"):
            present = op == "exists"
            return lambda facts: (subject in facts) == present
        if op in ("in", "!in"):
            values = self.parse_list()
            inside = op == "in"
            return lambda facts: (subject in facts and facts[subject] in values) == inside
        argument = self.take()
        return _compare(subject, op, argument)

    def parse_list(self) -> set[str]:
        self.expect("[")
        values: set[str] = set()
        while True:
            token = self.take()
            if token == "]":
                return values
            if token != ",":
                values.add(token)


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda facts: a(facts) or b(facts)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda facts: a(facts) and b(facts)


def _compare(subject: str, op: str, argument: str) -> Predicate:
    def test(facts: Facts) -> bool:
        if subject not in facts:
            return op in ("!=", "!~")
        value = facts[subject]
        text = "" if value is None else value
        if op == "==":
            return text == argument
        if op == "!=":
            return text != argument
        if op == "=~":
            return fnmatch.fnmatchcase(text, argument)
        if op == "!~":
            return not fnmatch.fnmatchcase(text, argument)
        try:
            left, right = float(text), float(argument)
        except ValueError:
            left_s, right_s = text, argument
            return _order(left_s, right_s, op)
        return _order(left, right, op)

    return test


def _order(left: float | str, right: float | str, op: str) -> bool:
    if op == ">":
        return left > right  # type: ignore[operator]
    if op == ">=":
        return left >= right  # type: ignore[operator]
    if op == "<":
        return left < right  # type: ignore[operator]
    return left <= right  # type: ignore[operator]


def compile_expression(text: str) -> Predicate:
    """A predicate over an instance's facts, or ExpressionError naming what is wrong."""
    parser = _Parser(tokenize(text))
    if parser.peek() is None:
        raise ExpressionError("the expression is empty")
    predicate = parser.parse_or()
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.peek()!r}")
    return predicate
