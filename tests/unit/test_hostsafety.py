"""The server refuses to serve its API beyond loopback without credentials, unless told."""

from __future__ import annotations

import pytest

from dockyard.cli import main
from dockyard.hostsafety import is_loopback, open_api_refusal


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "[::1]", "localhost"])
def test_loopback_hosts_need_nothing(host: str) -> None:
    assert is_loopback(host)
    assert open_api_refusal(host, authenticated=False, insecure=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "myhost.example"])
def test_other_hosts_need_auth_or_the_loud_opt_out(host: str) -> None:
    refusal = open_api_refusal(host, authenticated=False, insecure=False)
    assert refusal is not None
    assert f"--host {host}" in refusal and "--auth-file" in refusal
    assert "--insecure-open-api" in refusal
    assert open_api_refusal(host, authenticated=True, insecure=False) is None
    assert open_api_refusal(host, authenticated=False, insecure=True) is None


def test_the_command_exits_2_naming_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["server", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert "--auth-file" in capsys.readouterr().err


def test_an_unknown_task_user_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["server", "--task-user", "no-such-account-here", "--port", "1"]) == 2
    assert "--task-user no-such-account-here: no such user" in capsys.readouterr().err
    assert main(["agent", "--server", "http://x", "--task-user", "no-such-account-here"]) == 2


def test_a_broken_policy_file_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["server", "--task-policy", "/nonexistent/policy.json", "--port", "1"]) == 2
    assert "--task-policy /nonexistent/policy.json" in capsys.readouterr().err
