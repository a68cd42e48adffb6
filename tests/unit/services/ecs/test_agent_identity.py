"""Join tokens and agent credentials: kept as digests, reloaded from the store, expiring."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.core.clock import ManualClock
from dockyard.services.ecs.instances.agent_identity import AgentIdentities, InvalidToken
from dockyard.store.sqlite import SqliteStore

ARN = "arn:aws:ecs:us-east-1:111111111111:container-instance/web/0123456789abcdef"


def test_tokens_and_credentials_survive_a_reload_as_digests_only(tmp_path: Path) -> None:
    clock = ManualClock(start=1_700_000_000.0)
    path = str(tmp_path / "state.sqlite3")
    identities = AgentIdentities(SqliteStore(path), clock)
    issued = identities.issue_token("111111111111", "us-east-1", "web", ttl=60)
    secret = identities.issue_credential(ARN)
    identities.store.close()

    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert issued.text.split(".")[2].encode() not in raw and secret.encode() not in raw

    again = AgentIdentities(SqliteStore(path), clock)
    assert again.check_token(issued.text) == issued.token
    assert again.check_credential(ARN, secret)
    assert not again.check_credential(ARN, secret + "x")
    assert not again.check_credential(ARN.replace("0123", "9999"), secret)
    assert [t.token_id for t in again.tokens("111111111111")] == [issued.token.token_id]
    assert again.tokens("222222222222") == []

    clock.advance(61)
    with pytest.raises(InvalidToken, match="expired"):
        again.check_token(issued.text)
    assert again.tokens("111111111111") == []
    for bad in ("", "dyj.", "nope", f"dyj.{issued.token.token_id}.wrong"):
        with pytest.raises(InvalidToken):
            again.check_token(bad)


def test_a_revoked_token_is_refused_and_only_its_account_revokes_it() -> None:
    identities = AgentIdentities(SqliteStore(":memory:"), ManualClock(start=0.0))
    issued = identities.issue_token("111111111111", "us-east-1", "web")
    assert not identities.revoke_token("222222222222", issued.token.token_id)
    identities.check_token(issued.text)
    assert identities.revoke_token("111111111111", issued.token.token_id)
    with pytest.raises(InvalidToken, match="revoked"):
        identities.check_token(issued.text)
    assert not identities.revoke_token("111111111111", issued.token.token_id)
