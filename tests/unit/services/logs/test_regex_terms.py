"""`%regex%` filter terms on RE2: linear in the message, and refused when RE2 cannot run them."""

from __future__ import annotations

import pytest

from dockyard.services.logs.errors import InvalidParameterException
from dockyard.services.logs.patterns import parse


def test_regex_terms_search_the_message() -> None:
    pattern = parse("%[Ee]rror|fail%")
    assert pattern.matches("an Error here")
    assert pattern.matches("it will fail")
    assert not pattern.matches("all good")


def test_a_backtracking_regex_on_a_long_message_does_not_match_and_returns() -> None:
    assert not parse("%a*a*a*a*a*a*b%").matches("a" * 5000)


@pytest.mark.parametrize("term", [r"%(a)\1%", r"%(?<=a)b%"])
def test_a_regex_re2_cannot_run_is_refused(term: str) -> None:
    with pytest.raises(InvalidParameterException, match="filterPattern"):
        parse(term)
