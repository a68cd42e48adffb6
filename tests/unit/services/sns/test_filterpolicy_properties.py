"""Properties of filter policies: whatever a message carries, matching answers a bool (never
raises), and a key's conditions are ORed: a policy matches when one condition alone does."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.services.sns import filterpolicy
from dockyard.services.sns.filterpolicy import ATTRIBUTES, BODY

text = st.text(max_size=8)
number = st.integers(min_value=-1000, max_value=1000)
condition = st.one_of(
    text,
    number,
    st.builds(lambda v: {"prefix": v}, text),
    st.builds(lambda v: {"suffix": v}, text),
    st.builds(lambda v: {"equals-ignore-case": v}, text),
    st.builds(lambda v: {"anything-but": v}, st.one_of(text, st.lists(text, min_size=1))),
    st.builds(lambda v: {"numeric": [">=", v]}, number),
    st.builds(lambda v: {"exists": v}, st.booleans()),
)
policies = st.dictionaries(
    st.sampled_from(["a", "b", "c"]), st.lists(condition, min_size=1, max_size=3), min_size=1
)
attribute = st.one_of(
    st.tuples(st.just("String"), text),
    st.tuples(st.just("Number"), st.one_of(number.map(str), text)),
    st.tuples(st.just("String.Array"), st.one_of(st.lists(text).map(json.dumps), text)),
    st.tuples(st.just("Binary"), st.just("eA==")),
)
attributes = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), attribute)


@settings(max_examples=300, deadline=None)
@given(policies, attributes)
def test_matching_attributes_always_answers(
    policy: dict[str, Any], attrs: dict[str, tuple[str, str]]
) -> None:
    parsed = filterpolicy.parse(json.dumps(policy), ATTRIBUTES)
    result = filterpolicy.matches(parsed, ATTRIBUTES, attrs, "")
    assert isinstance(result, bool)
    expected = all(
        any(filterpolicy.matches({key: [c]}, ATTRIBUTES, attrs, "") for c in conditions)
        for key, conditions in policy.items()
    )
    assert result is expected


@settings(max_examples=200, deadline=None)
@given(policies, st.recursive(
    st.one_of(st.none(), st.booleans(), number, text),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3)),
    max_leaves=10,
))  # fmt: skip
def test_matching_a_body_always_answers(policy: dict[str, Any], body: Any) -> None:
    parsed = filterpolicy.parse(json.dumps(policy), BODY)
    assert isinstance(filterpolicy.matches(parsed, BODY, {}, json.dumps(body)), bool)
