"""The EventBridge pattern language, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.services.events.patterns import PatternError, matches, validate

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "1",
    "detail-type": "ECS Task State Change",
    "source": "aws.ecs",
    "account": "000000000000",
    "region": "us-east-1",
    "resources": ["arn:aws:ecs:us-east-1:000000000000:task/default/abc"],
    "detail": {
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "stopCode": "EssentialContainerExited",
        "group": "service:web",
        "cpu": 256,
        "exitCodes": [0, 137],
        "ip": "10.0.3.7",
        "nullable": None,
        "flag": False,
        "containers": [{"name": "app", "exitCode": 137}, {"name": "sidecar", "exitCode": 0}],
        "file": "photos/cat.png",
    },
}

CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("exact string", {"source": ["aws.ecs"]}, True),
    ("exact string, other", {"source": ["aws.ec2"]}, False),
    ("one of several", {"source": ["aws.ec2", "aws.ecs"]}, True),
    ("nested", {"detail": {"lastStatus": ["STOPPED"]}}, True),
    ("nested, miss", {"detail": {"lastStatus": ["RUNNING"]}}, False),
    ("all fields must match", {"source": ["aws.ecs"], "detail": {"lastStatus": ["X"]}}, False),
    ("number", {"detail": {"cpu": [256]}}, True),
    ("number is not string", {"detail": {"cpu": ["256"]}}, False),
    ("number 256.0", {"detail": {"cpu": [256.0]}}, True),
    ("null", {"detail": {"nullable": [None]}}, True),
    ("null does not match missing", {"detail": {"absent": [None]}}, False),
    ("boolean", {"detail": {"flag": [False]}}, True),
    ("boolean is not 0", {"detail": {"flag": [0]}}, False),
    ("array: any element", {"detail": {"exitCodes": [137]}}, True),
    ("array: none", {"detail": {"exitCodes": [1]}}, False),
    ("resources array", {"resources": [{"prefix": "arn:aws:ecs:"}]}, True),
    ("array of objects", {"detail": {"containers": {"exitCode": [137]}}}, True),
    ("array of objects, miss", {"detail": {"containers": {"exitCode": [1]}}}, False),
    ("prefix", {"detail-type": [{"prefix": "ECS Task"}]}, True),
    ("prefix, miss", {"detail-type": [{"prefix": "ECS Service"}]}, False),
    ("prefix ignore case", {"detail-type": [{"prefix": {"equals-ignore-case": "ecs task"}}]},
     True),
    ("suffix", {"detail": {"file": [{"suffix": ".png"}]}}, True),
    ("suffix, miss", {"detail": {"file": [{"suffix": ".jpg"}]}}, False),
    ("suffix ignore case", {"detail": {"file": [{"suffix": {"equals-ignore-case": ".PNG"}}]}},
     True),
    ("equals-ignore-case", {"detail": {"lastStatus": [{"equals-ignore-case": "stopped"}]}}, True),
    ("anything-but value", {"detail": {"lastStatus": [{"anything-but": "RUNNING"}]}}, True),
    ("anything-but same value", {"detail": {"lastStatus": [{"anything-but": "STOPPED"}]}}, False),
    ("anything-but list", {"detail": {"lastStatus": [{"anything-but": ["A", "STOPPED"]}]}},
     False),
    ("anything-but number", {"detail": {"cpu": [{"anything-but": [512]}]}}, True),
    ("anything-but prefix", {"detail": {"group": [{"anything-but": {"prefix": "family:"}}]}},
     True),
    ("anything-but prefix, excluded",
     {"detail": {"group": [{"anything-but": {"prefix": "service:"}}]}}, False),
    ("anything-but suffix", {"detail": {"file": [{"anything-but": {"suffix": ".png"}}]}}, False),
    ("anything-but ignore case",
     {"detail": {"lastStatus": [{"anything-but": {"equals-ignore-case": ["stopped"]}}]}}, False),
    ("anything-but wildcard", {"detail": {"file": [{"anything-but": {"wildcard": "*.gif"}}]}},
     True),
    ("anything-but does not match missing", {"detail": {"absent": [{"anything-but": "x"}]}},
     False),
    ("numeric range", {"detail": {"cpu": [{"numeric": [">", 0, "<=", 256]}]}}, True),
    ("numeric range, miss", {"detail": {"cpu": [{"numeric": [">", 256]}]}}, False),
    ("numeric equals", {"detail": {"cpu": [{"numeric": ["=", 256]}]}}, True),
    ("numeric on a string", {"detail": {"lastStatus": [{"numeric": [">", 0]}]}}, False),
    ("numeric on an array", {"detail": {"exitCodes": [{"numeric": [">=", 100]}]}}, True),
    ("exists true", {"detail": {"stopCode": [{"exists": True}]}}, True),
    ("exists true, missing", {"detail": {"absent": [{"exists": True}]}}, False),
    ("exists false", {"detail": {"absent": [{"exists": False}]}}, True),
    ("exists false, present", {"detail": {"stopCode": [{"exists": False}]}}, False),
    ("cidr", {"detail": {"ip": [{"cidr": "10.0.0.0/16"}]}}, True),
    ("cidr, miss", {"detail": {"ip": [{"cidr": "192.168.0.0/24"}]}}, False),
    ("wildcard", {"detail": {"file": [{"wildcard": "photos/*.png"}]}}, True),
    ("wildcard, miss", {"detail": {"file": [{"wildcard": "videos/*"}]}}, False),
    ("wildcard middle", {"source": [{"wildcard": "aws.*s"}]}, True),
    ("$or first", {"$or": [{"source": ["aws.ecs"]}, {"detail": {"cpu": [1]}}]}, True),
    ("$or second", {"$or": [{"source": ["x"]}, {"detail": {"cpu": [256]}}]}, True),
    ("$or none", {"$or": [{"source": ["x"]}, {"detail": {"cpu": [1]}}]}, False),
    ("$or nested", {"detail": {"$or": [{"cpu": [{"numeric": ["<", 10]}]},
                                       {"lastStatus": ["STOPPED"]}]}}, True),
    ("$or with sibling", {"source": ["aws.ec2"], "$or": [{"id": ["1"]}, {"id": ["2"]}]}, False),
    ("mixed matchers", {"detail": {"lastStatus": ["RUNNING", {"prefix": "STOP"}]}}, True),
    ("object pattern on a string", {"source": {"x": ["y"]}}, False),
]  # fmt: skip


@pytest.mark.parametrize(("name", "pattern", "expected"), CASES, ids=[c[0] for c in CASES])
def test_matching(name: str, pattern: dict[str, Any], expected: bool) -> None:
    validate(pattern)
    assert matches(pattern, EVENT) is expected


INVALID: list[Any] = [
    [],
    {},
    {"source": "aws.ecs"},
    {"source": []},
    {"detail": {}},
    {"source": [{"prefix": 1}]},
    {"source": [{"nope": "x"}]},
    {"source": [{"prefix": "a", "suffix": "b"}]},
    {"detail": {"cpu": [{"numeric": [">", "x"]}]}},
    {"detail": {"cpu": [{"numeric": ["!", 1]}]}},
    {"detail": {"cpu": [{"numeric": [">", 1, ">", 2]}]}},
    {"detail": {"x": [{"exists": "yes"}]}},
    {"detail": {"x": [{"cidr": "not-a-net"}]}},
    {"detail": {"x": [{"anything-but": {"nope": "x"}}]}},
    {"detail": {"x": [{"wildcard": "a**b"}]}},
    {"$or": [{"source": ["x"]}]},
    {"source": [["nested"]]},
]


@pytest.mark.parametrize("pattern", INVALID, ids=[str(i) for i in range(len(INVALID))])
def test_invalid_patterns(pattern: Any) -> None:
    with pytest.raises(PatternError, match="Event pattern is not valid"):
        validate(pattern)


def test_string_enums_match_as_strings() -> None:
    import enum

    class Status(enum.StrEnum):
        STOPPED = "STOPPED"

    assert matches({"detail": {"s": ["STOPPED"]}}, {"detail": {"s": Status.STOPPED}})
