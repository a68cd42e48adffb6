"""Regular expressions written by users (SSM AllowedPattern, CloudWatch Logs `%regex%` filter
terms) compiled with RE2: matching time is linear in the input, so no pattern can stall the
server's loop. RE2 has no backreferences or lookaround; such a pattern is refused with an
error that the caller turns into the service's validation error."""

from __future__ import annotations

from functools import lru_cache

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is the caller's error, not a log line


class RegexError(ValueError):
    """The pattern is not a regular expression RE2 accepts (the message says why)."""


@lru_cache(maxsize=1024)
def compile_regex(pattern: str) -> re2._Regexp[str]:
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexError(str(reason)) from None
    except (TypeError, ValueError) as exc:
        raise RegexError(str(exc)) from None
