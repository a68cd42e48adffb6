"""Composite alarm rules: `ALARM("name") AND NOT (OK(x) OR INSUFFICIENT_DATA("y"))`, TRUE,
FALSE; AND binds tighter than OR, NOT tighter than both, as CloudWatch documents."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_TOKEN = re.compile(
    r"\s*(?:(?P<fn>ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?P<arg>\"[^\"]+\"|[^\s()\"]+)\s*\)"
    r"|(?P<kw>AND|OR|NOT|TRUE|FALSE)\b|(?P<paren>[()]))"
)

StateOf = Callable[[str], "str | None"]


class RuleError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # fn | kw | paren
    value: str
    arg: str = ""


def tokenize(rule: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    rule = rule.rstrip()
    while pos < len(rule):
        match = _TOKEN.match(rule, pos)
        if match is None:
            raise RuleError(f"Error in AlarmRule at position {pos}: {rule[pos : pos + 20]!r}")
        if match["fn"]:
            tokens.append(Token("fn", match["fn"], match["arg"].strip('"')))
        elif match["kw"]:
            tokens.append(Token("kw", match["kw"]))
        else:
            tokens.append(Token("paren", match["paren"]))
        pos = match.end()
    if not tokens:
        raise RuleError("AlarmRule must not be empty.")
    return tokens


def referenced(rule: str) -> list[str]:
    """The alarms (names or ARNs) a rule names."""
    return [t.arg for t in tokenize(rule) if t.kind == "fn"]


def evaluate(rule: str, state_of: StateOf) -> bool:
    """Whether the rule holds; `state_of(name_or_arn)` gives an alarm's state (None: none)."""
    tokens = tokenize(rule)
    pos = 0

    def peek() -> Token | None:
        return tokens[pos] if pos < len(tokens) else None

    def or_() -> bool:
        nonlocal pos
        value = and_()
        while (t := peek()) is not None and t.value == "OR":
            pos += 1
            rhs = and_()
            value = value or rhs
        return value

    def and_() -> bool:
        nonlocal pos
        value = not_()
        while (t := peek()) is not None and t.value == "AND":
            pos += 1
            rhs = not_()
            value = value and rhs
        return value

    def not_() -> bool:
        nonlocal pos
        t = peek()
        if t is not None and t.value == "NOT":
            pos += 1
            return not not_()
        return atom()

    def atom() -> bool:
        nonlocal pos
        t = peek()
        if t is None:
            raise RuleError("AlarmRule ends unexpectedly.")
        pos += 1
        if t.kind == "fn":
            return state_of(t.arg) == t.value
        if t.value in ("TRUE", "FALSE"):
            return t.value == "TRUE"
        if t.value == "(":
            value = or_()
            closing = peek()
            if closing is None or closing.value != ")":
                raise RuleError("AlarmRule has an unbalanced parenthesis.")
            pos += 1
            return value
        raise RuleError(f"Unexpected {t.value} in AlarmRule.")

    result = or_()
    if pos != len(tokens):
        raise RuleError(f"Unexpected {tokens[pos].value} in AlarmRule.")
    return result


def check(rule: str) -> None:
    """Raise RuleError when the rule does not parse."""
    evaluate(rule, lambda _name: None)
