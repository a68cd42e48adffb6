"""The Lambda domain without processes: functions, states, versions, aliases, policies."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from dockyard.core.clock import ManualClock
from dockyard.core.scope import Scope
from dockyard.services.awslambda import Lambda
from dockyard.services.awslambda.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from dockyard.services.awslambda.functions import CodeInput, ConfigChange, CreateRequest
from dockyard.services.awslambda.permissions import Grant, allows
from dockyard.store.sqlite import SqliteStore

SCOPE = Scope("000000000000", "us-east-1")
ROLE = "arn:aws:iam::000000000000:role/fn"
RULE = "arn:aws:events:us-east-1:000000000000:rule/r"


def zipped(source: str = "def handler(e, c):\n    return e\n") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", source)
    return buf.getvalue()


@pytest.fixture
def lam(tmp_path: Path) -> Lambda:
    return Lambda(SqliteStore(":memory:"), ManualClock(), tmp_path, seed=7)


def create(lam: Lambda, name: str = "fn", **kw: object) -> None:
    req = CreateRequest(name=name, role=ROLE, code=CodeInput(zipped()), runtime="python3.12",
                        handler="app.handler", **kw)  # type: ignore[arg-type]  # fmt: skip
    asyncio.run(lam.functions.create(SCOPE, req))


def test_a_new_function_is_pending_until_its_code_is_unpacked(lam: Lambda) -> None:
    create(lam)
    fn = lam.functions.find(SCOPE, "fn")
    assert fn.latest.state == "Pending"
    with pytest.raises(ResourceConflictException, match="state: Pending"):
        lam.functions.update_config(SCOPE, "fn", ConfigChange(timeout=9))
    lam.functions.settle(fn.arn)
    assert lam.functions.find(SCOPE, "fn").latest.state == "Active"


def test_the_same_name_twice_is_a_conflict_and_names_are_checked(lam: Lambda) -> None:
    create(lam)
    with pytest.raises(ResourceConflictException, match="Function already exist: fn"):
        create(lam)
    with pytest.raises(InvalidParameterValueException, match="functionName"):
        create(lam, name="bad name")


def test_runtimes_handlers_and_reserved_variables_are_checked(lam: Lambda) -> None:
    for runtime, message in (("python3.7", "no longer supported"), ("nodejs20.x", "cannot run")):
        with pytest.raises(InvalidParameterValueException, match=message):
            asyncio.run(lam.functions.create(SCOPE, CreateRequest(
                "x", ROLE, CodeInput(zipped()), runtime=runtime, handler="a.b")))  # fmt: skip
    with pytest.raises(InvalidParameterValueException, match="Reserved keys used in this request"):
        create(lam, name="env", environment={"AWS_REGION": "x"})
    with pytest.raises(InvalidParameterValueException, match="Could not unzip"):
        asyncio.run(lam.functions.create(SCOPE, CreateRequest(
            "z", ROLE, CodeInput(b"nope"), runtime="python3.12", handler="a.b")))  # fmt: skip


def test_a_zip_entry_outside_its_root_is_refused(lam: Lambda) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../evil.py", "x")
    with pytest.raises(InvalidParameterValueException, match="outside its root"):
        req = CreateRequest("z", ROLE, CodeInput(buf.getvalue()), runtime="python3.12",
                            handler="a.b")  # fmt: skip
        asyncio.run(lam.functions.create(SCOPE, req))


def test_an_update_is_in_progress_until_settled_and_blocks_another(lam: Lambda) -> None:
    create(lam)
    fn = lam.functions.find(SCOPE, "fn")
    lam.functions.settle(fn.arn)
    lam.functions.update_config(SCOPE, "fn", ConfigChange(timeout=30))
    assert lam.functions.find(SCOPE, "fn").latest.last_update_status == "InProgress"
    with pytest.raises(ResourceConflictException, match="An update is in progress"):
        lam.functions.update_config(SCOPE, "fn", ConfigChange(timeout=31))
    lam.functions.settle(fn.arn)
    latest = lam.functions.find(SCOPE, "fn").latest
    assert (latest.last_update_status, latest.timeout) == ("Successful", 30)
    with pytest.raises(PreconditionFailedException):
        lam.functions.update_config(SCOPE, "fn", ConfigChange(timeout=5, revision_id="old"))


def test_versions_are_published_once_per_change_and_survive_a_reload(lam: Lambda) -> None:
    create(lam)
    arn = lam.functions.find(SCOPE, "fn").arn
    lam.functions.settle(arn)
    _, v1 = lam.functions.publish_version(SCOPE, "fn", None, "", None)
    _, again = lam.functions.publish_version(SCOPE, "fn", None, "", None)
    assert v1.version == again.version == "1"
    lam.functions.update_config(SCOPE, "fn", ConfigChange(description="two"))
    lam.functions.settle(arn)
    _, v2 = lam.functions.publish_version(SCOPE, "fn", None, "", None)
    assert v2.version == "2" and v2.description == "two"
    lam.functions.load()  # from the store
    fn = lam.functions.find(SCOPE, "fn")
    assert sorted(fn.versions) == ["1", "2"]
    with pytest.raises(InvalidParameterValueException, match=r"\$LATEST version cannot be"):
        lam.functions.delete(SCOPE, "fn", "$LATEST")


def test_weighted_alias_picks_versions_by_weight(lam: Lambda) -> None:
    create(lam)
    arn = lam.functions.find(SCOPE, "fn").arn
    lam.functions.settle(arn)
    lam.functions.publish_version(SCOPE, "fn", None, "", None)
    lam.functions.update_config(SCOPE, "fn", ConfigChange(description="two"))
    lam.functions.settle(arn)
    lam.functions.publish_version(SCOPE, "fn", None, "", None)
    alias = lam.aliases.create(SCOPE, "fn", "live", "1", "", {"2": 0.25})
    counts = Counter(lam.aliases.pick(alias) for _ in range(10_000))
    assert abs(counts["2"] / 10_000 - 0.25) < 0.02
    with pytest.raises(ResourceConflictException, match="aliases reference it"):
        lam.functions.delete(SCOPE, "fn", "2")
    with pytest.raises(InvalidParameterValueException, match="already included"):
        lam.aliases.update(SCOPE, "fn", "live", None, None, {"1": 0.5}, None)
    with pytest.raises(ResourceNotFoundException):
        lam.aliases.create(SCOPE, "fn", "other", "9", "", {})
    fn, qualifier = lam.functions.resolve(SCOPE, f"{arn}:live")
    assert qualifier == "live" and fn.arn == arn


def test_a_policy_lets_only_the_named_service_and_source_invoke(lam: Lambda) -> None:
    create(lam)
    lam.permissions.add(SCOPE, "fn", None, Grant("events", "lambda:InvokeFunction",
                        "events.amazonaws.com", source_arn=RULE), None)  # fmt: skip
    with pytest.raises(ResourceConflictException, match="already exists"):
        lam.permissions.add(SCOPE, "fn", None, Grant("events", "lambda:InvokeFunction",
                            "events.amazonaws.com"), None)  # fmt: skip
    fn = lam.functions.find(SCOPE, "fn")
    assert allows(fn, None, "events.amazonaws.com", RULE)
    assert not allows(fn, None, "events.amazonaws.com", RULE + "-other")
    assert not allows(fn, None, "sns.amazonaws.com", RULE)
    assert not allows(fn, "1", "events.amazonaws.com", RULE)  # a qualifier has its own policy
    policy, _ = lam.permissions.policy(SCOPE, "fn", None)
    assert '"Sid":"events"' in policy
    lam.permissions.remove(SCOPE, "fn", None, "events")
    with pytest.raises(ResourceNotFoundException):
        lam.permissions.policy(SCOPE, "fn", None)


def test_the_function_invoker_port_checks_the_policy(lam: Lambda) -> None:
    from dockyard.core.functions import InvokeRefused

    create(lam)
    arn = lam.functions.find(SCOPE, "fn").arn
    assert lam.invoker.exists(arn)
    assert not lam.invoker.exists(arn + "-nope")
    with pytest.raises(InvokeRefused) as refused:
        asyncio.run(lam.invoker.invoke_event(arn, b"{}", principal="events.amazonaws.com",
                                             source_arn=RULE))  # fmt: skip
    assert refused.value.code == "AccessDeniedException"
    lam.permissions.add(SCOPE, "fn", None, Grant("e", "lambda:InvokeFunction",
                        "events.amazonaws.com", source_arn=RULE), None)  # fmt: skip
    request_id = asyncio.run(
        lam.invoker.invoke_event(arn, b"{}", principal="events.amazonaws.com", source_arn=RULE)
    )
    assert lam.store.get("lambda.event", request_id) is not None  # queued durably
