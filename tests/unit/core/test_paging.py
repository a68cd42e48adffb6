from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.core.paging import InvalidToken, decode_token, page


@given(st.lists(st.text(min_size=1), unique=True), st.integers(min_value=1, max_value=7))
def test_pages_cover_every_item_once(items: list[str], size: int) -> None:
    items = sorted(items)
    seen: list[str] = []
    token = None
    while True:
        chunk, token = page(items, lambda x: x, token, size)
        assert len(chunk) <= size
        seen.extend(chunk)
        if token is None:
            break
    assert seen == items


def test_bad_token_is_rejected() -> None:
    with pytest.raises(InvalidToken):
        decode_token("not-a-token")
