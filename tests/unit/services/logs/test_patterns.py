from __future__ import annotations

import pytest

from dockyard.core.errors import ServiceError
from dockyard.services.logs.patterns import parse


@pytest.mark.parametrize(
    ("pattern", "message", "expected"),
    [
        ("", "anything", True),
        ("ERROR", "[ERROR] disk full", True),
        ("ERROR", "error: disk full", False),  # case-sensitive
        ("ERROR disk", "ERROR: disk full", True),
        ("ERROR disk", "ERROR: memory", False),
        ('"disk full"', "ERROR: disk full", True),
        ('"disk full"', "full disk", False),
        ("?ERROR ?WARN", "WARN low memory", True),
        ("?ERROR ?WARN", "INFO ok", False),
        ("ERROR -Retrying", "ERROR timeout, Retrying", False),
        ("ERROR -Retrying", "ERROR timeout", True),
        ('-"health check"', "GET /health: check", True),
        ('-"health check"', "health check ok", False),
        ("%[Ee]rror|fail%", "request failed", True),
        ("%^GET /%", "POST /x", False),
        ("%^GET /%", "GET /x", True),
    ],
)
def test_terms(pattern: str, message: str, expected: bool) -> None:
    assert parse(pattern).matches(message) is expected


@pytest.mark.parametrize(
    "pattern", ['"unbalanced', "%(%", "{ $.level = 1 }", "[ip, user]", "%a% %b% %c%"]
)
def test_refused_patterns(pattern: str) -> None:
    with pytest.raises(ServiceError) as err:
        parse(pattern)
    assert err.value.code == "InvalidParameterException"
    assert "filterPattern" in err.value.message
