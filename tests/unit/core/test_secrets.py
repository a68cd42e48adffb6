"""valueFrom references, as ECS task definitions give them."""

from __future__ import annotations

import pytest

from dockyard.core.secrets import ParameterRef, SecretRef, parse_value_from, store_of

ASM = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/creds-AbC123"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("db-password", ParameterRef("db-password")),
        ("/prod/db/password", ParameterRef("/prod/db/password")),
        (
            "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db/password",
            ParameterRef("/prod/db/password", "123456789012", "eu-west-1"),
        ),
        (
            "arn:aws:ssm:us-east-1:123456789012:parameter/plain",
            ParameterRef("plain", "123456789012", "us-east-1"),
        ),
        (ASM, SecretRef(ASM)),
        (f"{ASM}:password::", SecretRef(ASM, json_key="password")),
        (f"{ASM}::AWSPREVIOUS:", SecretRef(ASM, version_stage="AWSPREVIOUS")),
        (f"{ASM}:user::v-1", SecretRef(ASM, json_key="user", version_id="v-1")),
        (f"{ASM}:user:AWSCURRENT", SecretRef(ASM, json_key="user", version_stage="AWSCURRENT")),
    ],
)
def test_references(value: str, expected: ParameterRef | SecretRef) -> None:
    assert parse_value_from(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "arn:aws:s3:::bucket/key",
        "arn:aws:ssm:us-east-1:123456789012:document/x",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret",
        f"{ASM}:a:b:c:d",
    ],
)
def test_what_is_not_a_reference(value: str) -> None:
    with pytest.raises(ValueError):
        parse_value_from(value)


def test_store_of() -> None:
    assert store_of(ASM) == "asm"
    assert store_of("/a/b") == "ssm"
    assert store_of("arn:aws:ssm:us-east-1:1:parameter/x") == "ssm"
