from __future__ import annotations

import pytest

from dockyard.services.cloudwatch.composite import RuleError, check, evaluate, referenced

STATES = {"cpu": "ALARM", "mem": "OK", "disk": "INSUFFICIENT_DATA"}


@pytest.mark.parametrize(
    ("rule", "holds"),
    [
        ('ALARM("cpu")', True),
        ("ALARM(cpu) AND ALARM(mem)", False),
        ("ALARM(cpu) OR ALARM(mem)", True),
        ("ALARM(cpu) AND NOT ALARM(mem)", True),
        ("OK(mem) AND INSUFFICIENT_DATA(disk)", True),
        ("ALARM(mem) OR ALARM(disk) AND TRUE", False),
        ("(ALARM(mem) OR ALARM(cpu)) AND FALSE", False),
        ("NOT (ALARM(mem) OR OK(cpu))", True),
    ],
)
def test_rules(rule: str, holds: bool) -> None:
    assert evaluate(rule, STATES.get) is holds


def test_referenced() -> None:
    assert referenced('ALARM("cpu") AND OK(mem)') == ["cpu", "mem"]


@pytest.mark.parametrize("rule", ["", "ALARM(cpu) AND", "(ALARM(cpu)", "MAYBE(cpu)"])
def test_bad_rules(rule: str) -> None:
    with pytest.raises(RuleError):
        check(rule)
