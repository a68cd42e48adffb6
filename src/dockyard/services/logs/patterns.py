"""Filter patterns for unstructured log events (FilterLogEvents).

Supported, as CloudWatch Logs reads them (case-sensitive):
- `ERROR Exception`: every term appears in the message;
- `"connection reset"`: a quoted phrase is one term;
- `?ERROR ?WARN`: at least one of the `?` terms appears;
- `-DEBUG`: the term does not appear;
- `%[Ee]rror|fail%`: the regular expression matches somewhere in the message.
JSON (`{ $.level = ... }`) and space-delimited (`[ip, user, ...]`) patterns are refused
with InvalidParameterException rather than silently matching nothing. Regular expressions run
on RE2 (`core.userregex`), linear in the message: a pattern with backreferences or lookaround,
which RE2 cannot run, is refused with InvalidParameterException.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.core.userregex import RegexError, compile_regex
from dockyard.services.logs.errors import InvalidParameterException

MAX_REGEXES = 2


@dataclass(slots=True, frozen=True)
class FilterPattern:
    required: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    regexes: tuple[str, ...] = ()

    @property
    def matches_all(self) -> bool:
        return not (self.required or self.excluded or self.any_of or self.regexes)

    def matches(self, message: str) -> bool:
        if any(term not in message for term in self.required):
            return False
        if any(term in message for term in self.excluded):
            return False
        if self.any_of and not any(term in message for term in self.any_of):
            return False
        return all(compile_regex(rx).search(message) is not None for rx in self.regexes)

    def sql(self, column: str) -> tuple[str, list[str]]:
        """A WHERE fragment (`regexp(pattern, text)` must be registered) and its params."""
        clauses: list[str] = []
        params: list[str] = []
        for term in self.required:
            clauses.append(f"instr({column}, ?) > 0")
            params.append(term)
        for term in self.excluded:
            clauses.append(f"instr({column}, ?) = 0")
            params.append(term)
        if self.any_of:
            clauses.append("(" + " OR ".join(f"instr({column}, ?) > 0" for _ in self.any_of) + ")")
            params.extend(self.any_of)
        for rx in self.regexes:
            clauses.append(f"regexp(?, {column})")
            params.append(rx)
        return (" AND ".join(clauses) or "1"), params


def _tokens(pattern: str) -> list[str]:
    """Split on whitespace; a double-quoted phrase (after an optional ? or -) is one token."""
    tokens: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern[i].isspace():
            i += 1
            continue
        start = i
        if pattern[i] in "?-" and i + 1 < n and pattern[i + 1] == '"':
            i += 1
        if pattern[i] == '"':
            end = pattern.find('"', i + 1)
            if end < 0:
                raise InvalidParameterException(
                    f"Invalid filter pattern: unbalanced quote (filterPattern: {pattern!r})."
                )
            i = end + 1
        elif pattern[i] == "%":
            end = pattern.find("%", i + 1)
            if end < 0:
                raise InvalidParameterException(
                    "Invalid filter pattern: a regular expression must be enclosed in % "
                    f"(filterPattern: {pattern!r})."
                )
            i = end + 1
        else:
            while i < n and not pattern[i].isspace():
                i += 1
        tokens.append(pattern[start:i])
    return tokens


def _unquote(term: str) -> str:
    return term[1:-1] if len(term) >= 2 and term[0] == term[-1] == '"' else term


def parse(pattern: str | None) -> FilterPattern:
    text = (pattern or "").strip()
    if not text:
        return FilterPattern()
    if text[0] in "{[":
        raise InvalidParameterException(
            "JSON and space-delimited filter patterns are not supported by Dockyard; use terms, "
            f'"quoted phrases", ?term, -term or %regex% (filterPattern: {pattern!r}).'
        )
    required: list[str] = []
    excluded: list[str] = []
    any_of: list[str] = []
    regexes: list[str] = []
    for token in _tokens(text):
        if token.startswith("%") and token.endswith("%") and len(token) >= 2:
            rx = token[1:-1]
            try:
                compile_regex(rx)
            except RegexError as exc:
                raise InvalidParameterException(
                    f"Invalid regular expression in filter pattern: {exc} "
                    f"(filterPattern: {pattern!r})."
                ) from exc
            regexes.append(rx)
        elif token.startswith("?") and len(token) > 1:
            any_of.append(_unquote(token[1:]))
        elif token.startswith("-") and len(token) > 1:
            excluded.append(_unquote(token[1:]))
        else:
            term = _unquote(token)
            if term:
                required.append(term)
    if len(regexes) > MAX_REGEXES:
        raise InvalidParameterException(
            f"A filter pattern can contain at most {MAX_REGEXES} regular expressions "
            f"(filterPattern: {pattern!r})."
        )
    return FilterPattern(tuple(required), tuple(excluded), tuple(any_of), tuple(regexes))
