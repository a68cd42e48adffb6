"""The ECS cluster query language: `attribute:ecs.os-type == linux and runningTasksCount < 3`.

An expression is evaluated against the facts of one container instance: a mapping of subject
names (`attribute:NAME`, `ec2InstanceId`, `agentConnected`, `runningTasksCount`,
`task:group`, ...) to values, an absent key meaning the subject does not exist there.
`task:group` is many-valued (the groups of the tasks on the instance): a comparison holds
when it holds for one of the groups, its negation when it holds for none.

Grammar: `or`/`||` binds loosest, then `and`/`&&`, then `not`/`!`; parentheses group.
A term is `subject operator [argument]`; an argument is a word or a quoted string, a list
is `[a, 'b', ...]`. `=~` and `!~` match `*` and `?` wildcards.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime

FactValue = str | None | Set[str]
Facts = Mapping[str, FactValue]
Predicate = Callable[[Facts], bool]

MAX_LENGTH = 2000

# Subjects whose value never changes while tasks come and go; the rest depend on the tasks.
STATIC_SUBJECTS = frozenset({"agentVersion", "ec2InstanceId", "registeredAt"})
DYNAMIC_SUBJECTS = frozenset({"agentConnected", "runningTasksCount", "task:group"})
SUBJECTS = STATIC_SUBJECTS | DYNAMIC_SUBJECTS


class ExpressionError(ValueError):
    pass


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<quoted>'[^']*'|"[^"]*")
      | (?P<punct>\(|\)|\[|\]|,|==|!=|=~|!~|>=|<=|>|<|&&|\|\|)
      | (?P<word>[^\s()\[\],'"]+)
    )""",
    re.VERBOSE,
)
_OPERATORS = {
    "==": "==", "equals": "==", "!=": "!=", "not_equals": "!=",
    ">": ">", "greater_than": ">", ">=": ">=", "greater_than_equal": ">=",
    "<": "<", "less_than": "<", "<=": "<=", "less_than_equal": "<=",
    "exists": "exists", "!exists": "!exists", "not_exists": "!exists",
    "in": "in", "!in": "!in", "not_in": "!in",
    "=~": "=~", "matches": "=~", "!~": "!~", "not_matches": "!~",
}  # fmt: skip
_AND = ("and", "&&")
_OR = ("or", "||")
_NOT = ("not", "!")


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    quoted: bool = False

    @property
    def keyword(self) -> str:
        return "" if self.quoted else self.text.lower()


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExpressionError(f"cannot read the expression at {text[pos:]!r}")
        if m.group("quoted") is not None:
            tokens.append(Token(m.group("quoted")[1:-1], quoted=True))
        else:
            word = m.group("punct") or m.group("word")
            # `!(` and `!attribute:x exists`: a leading `!` is a `not` of its own.
            if word.startswith("!") and len(word) > 1 and word.lower() not in _OPERATORS:
                tokens.append(Token("!"))
                word = word[1:]
            tokens.append(Token(word))
        pos = m.end()
    return tokens


@dataclass(frozen=True, slots=True)
class Query:
    """A compiled expression: the predicate and the subjects it asks about."""

    text: str
    predicate: Predicate = field(compare=False)
    subjects: frozenset[str] = frozenset()

    @property
    def static(self) -> bool:
        """True when the answer depends only on the instance, not on the tasks placed there."""
        return not (self.subjects & DYNAMIC_SUBJECTS)

    def __call__(self, facts: Facts) -> bool:
        return self.predicate(facts)


@dataclass(slots=True)
class _Parser:
    tokens: list[Token]
    pos: int = 0
    subjects: set[str] = field(default_factory=set)

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def peek_keyword(self) -> str:
        token = self.peek()
        return token.keyword if token is not None else ""

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise ExpressionError("the expression ends too early")
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        if self.peek() is None:
            raise ExpressionError(f"expected {text!r} before the end of the expression")
        got = self.take()
        if got.quoted or got.text != text:
            raise ExpressionError(f"expected {text!r}, found {got.text!r}")

    def parse_or(self) -> Predicate:
        left = self.parse_and()
        while self.peek_keyword() in _OR:
            self.take()
            left = _either(left, self.parse_and())
        return left

    def parse_and(self) -> Predicate:
        left = self.parse_not()
        while self.peek_keyword() in _AND:
            self.take()
            left = _both(left, self.parse_not())
        return left

    def parse_not(self) -> Predicate:
        if self.peek_keyword() in _NOT:
            self.take()
            inner = self.parse_not()
            return lambda facts: not inner(facts)
        if self.peek_keyword() == "(":
            self.take()
            inner = self.parse_or()
            self.expect(")")
            return inner
        return self.parse_term()

    def parse_term(self) -> Predicate:
        subject_token = self.take()
        subject = subject_token.text
        if subject_token.quoted or not _known(subject):
            raise ExpressionError(
                f"unknown subject {subject!r}; use attribute:NAME, agentConnected, agentVersion, "
                "ec2InstanceId, registeredAt, runningTasksCount or task:group"
            )
        self.subjects.add(subject)
        op_token = self.take()
        op = _OPERATORS.get(op_token.keyword)
        if op is None:
            raise ExpressionError(f"unknown operator {op_token.text!r}")
        if op in ("exists", "!exists"):
            present = op == "exists"
            return lambda facts: _present(facts, subject) == present
        if op in ("in", "!in"):
            values = frozenset(self.parse_list())
            inside = op == "in"
            return lambda facts: _any(facts, subject, lambda v: v in values) == inside
        argument = self.take()
        if argument.keyword in ("(", ")", "[", "]", ",") and not argument.quoted:
            raise ExpressionError(f"expected a value after {op_token.text!r}")
        return _compare(subject, op, argument.text)

    def parse_list(self) -> list[str]:
        self.expect("[")
        values: list[str] = []
        while True:
            token = self.take()
            if not token.quoted and token.text == "]":
                return values
            if token.quoted or token.text != ",":
                values.append(token.text)


def _known(subject: str) -> bool:
    return subject in SUBJECTS or (subject.startswith("attribute:") and len(subject) > 10)


def _values(facts: Facts, subject: str) -> list[str]:
    if subject not in facts:
        return []
    value = facts[subject]
    if value is None:
        return [""]
    if isinstance(value, str):
        return [value]
    return list(value)


def _present(facts: Facts, subject: str) -> bool:
    return bool(_values(facts, subject))


def _any(facts: Facts, subject: str, test: Callable[[str], bool]) -> bool:
    return any(test(v) for v in _values(facts, subject))


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda facts: a(facts) or b(facts)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda facts: a(facts) and b(facts)


_NEGATED = {"!=": "==", "!~": "=~"}


def _compare(subject: str, op: str, argument: str) -> Predicate:
    if op in _NEGATED:
        positive = _compare(subject, _NEGATED[op], argument)
        return lambda facts: not positive(facts)
    if op == "==":
        return lambda facts: _any(facts, subject, lambda v: v == argument)
    if op == "=~":
        return lambda facts: _any(facts, subject, lambda v: fnmatch.fnmatchcase(v, argument))
    right = _orderable(subject, argument)
    return lambda facts: _any(facts, subject, lambda v: _order(_orderable(subject, v), right, op))


def _orderable(subject: str, text: str) -> tuple[int, tuple[float, ...] | str]:
    """A comparable form: dates for registeredAt, numbers and dotted versions, else the text."""
    if subject == "registeredAt":
        try:
            return 0, (float(text),)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ExpressionError(f"registeredAt needs a date such as 2018-06-18 ({text})") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return 0, (moment.timestamp(),)
    parts = text.split(".")
    if all(p.isdigit() for p in parts) or _is_number(text):
        try:
            return 0, tuple(float(p) for p in parts) if len(parts) > 2 else (float(text),)
        except ValueError:
            pass
    return 1, text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _order(
    left: tuple[int, tuple[float, ...] | str], right: tuple[int, tuple[float, ...] | str], op: str
) -> bool:
    if left[0] != right[0]:
        return False  # a number and a word do not compare
    a, b = left[1], right[1]
    if op == ">":
        return a > b  # type: ignore[operator]
    if op == ">=":
        return a >= b  # type: ignore[operator]
    if op == "<":
        return a < b  # type: ignore[operator]
    return a <= b  # type: ignore[operator]


def compile_query(text: str) -> Query:
    """A compiled expression, or ExpressionError naming what is wrong."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters")
    parser = _Parser(tokenize(text))
    if parser.peek() is None:
        raise ExpressionError("the expression is empty")
    predicate = parser.parse_or()
    extra = parser.peek()
    if extra is not None:
        raise ExpressionError(f"unexpected {extra.text!r}")
    return Query(text, predicate, frozenset(parser.subjects))


def compile_expression(text: str) -> Predicate:
    """A predicate over an instance's facts, or ExpressionError naming what is wrong."""
    return compile_query(text).predicate
