"""Every served operation's access function answers for any well-typed input: the action
is `<prefix>:<Operation>` (S3: its own action names) and each resource is `*` or an ARN,
never an exception."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape

from dockyard.api.access import AccessRequest
from dockyard.services.awslambda.access import ACTIONS as LAMBDA_ACTIONS
from dockyard.services.s3.access import ACTIONS as S3_ACTIONS
from dockyard.services.sqs.access import ACTION_OF as SQS_ACTIONS
from dockyard.wiring.server import Dockyard, ServerOptions


def sample(shape: Shape, depth: int = 0, full: bool = True) -> Any:
    """A value of `shape` with every member present (or, not `full`, only the required ones):
    strings "x1", numbers 1, ..."""
    kind = shape.type_name
    if depth > 6:
        return None
    if kind == "structure":
        required = set(shape.required_members)  # type: ignore[attr-defined]
        return {
            name: value
            for name, member in shape.members.items()  # type: ignore[attr-defined]
            if (full or name in required) and (value := sample(member, depth + 1, full)) is not None
        }
    if kind == "list":
        item = sample(shape.member, depth + 1, full)  # type: ignore[attr-defined]
        return [] if item is None else [item]
    if kind == "map":
        return {"k": sample(shape.value, depth + 1, full)}  # type: ignore[attr-defined]
    if kind == "string":
        enum = shape.enum  # type: ignore[attr-defined]
        return enum[0] if enum else "x1"
    if kind in ("integer", "long"):
        return 1
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return 0
    if kind == "blob":
        return b"x"
    return None


@pytest.fixture(scope="module")
def dockyard(tmp_path_factory: pytest.TempPathFactory) -> Dockyard:
    data = Path(tmp_path_factory.mktemp("access")) / "data"
    return Dockyard(ServerOptions(data_dir=data, local_agent=False))


@pytest.mark.parametrize("full", [True, False], ids=["all-members", "required-only"])
def test_every_operation_answers_action_and_resources(dockyard: Dockyard, full: bool) -> None:
    session = botocore.session.get_session()
    checked = 0
    for provider in dockyard.providers:
        if provider.access is None:
            continue
        model = session.get_service_model(provider.service)
        for operation in provider.handlers:
            op = model.operation_model(operation)
            params = sample(op.input_shape, 0, full) if op.input_shape is not None else {}
            pairs = provider.access(AccessRequest("111122223333", "us-east-1", operation, params))
            assert pairs, (provider.service, operation)
            # S3's actions are not its operations' names (ListObjectsV2 is s3:ListBucket).
            # SQS's batch operations are authorized as their single forms (sqs:SendMessage).
            # Nor are all of Lambda's (Invoke is lambda:InvokeFunction).
            expected = (
                S3_ACTIONS[operation][0]
                if provider.service == "s3"
                else f"{provider.prefix}:{SQS_ACTIONS.get(operation, operation)}"
                if provider.service == "sqs"
                else f"lambda:{LAMBDA_ACTIONS.get(operation, operation)}"
                if provider.service == "lambda"
                else f"{provider.prefix}:{operation}"
            )
            assert pairs[0].action == expected, (provider.service, operation)
            for pair in pairs:
                # An ARN parameter is taken as given (its handler refuses a malformed one).
                assert pair.resource in ("*", "x1") or pair.resource.startswith("arn:aws:"), (
                    provider.service,
                    operation,
                    pair,
                )
            checked += 1
    assert checked > 300
