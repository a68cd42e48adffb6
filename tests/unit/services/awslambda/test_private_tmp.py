"""The private /tmp of an execution environment keeps what lives under the host's /tmp and
the function needs: its code, and the interpreter's trees (a checkout under /tmp)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dockyard.services.awslambda import environment
from dockyard.services.awslambda.environment import kept_under_tmp, private_tmp_script


def test_the_code_and_a_venv_under_tmp_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "prefix", "/tmp/clone/.venv")
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    assert kept_under_tmp(Path("/tmp/pytest-1/data/lambda/code/f")) == [
        "/tmp/clone/.venv", "/tmp/pytest-1/data/lambda/code/f"]  # fmt: skip


def test_nothing_outside_tmp_and_no_tree_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "prefix", "/tmp/clone/.venv")
    monkeypatch.setattr(sys, "base_prefix", "/tmp/clone/.venv/base")
    assert kept_under_tmp(Path("/var/lib/dockyard/lambda/code/f")) == ["/tmp/clone/.venv"]
    monkeypatch.setattr(sys, "prefix", "/opt/venv")
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    assert kept_under_tmp(Path("/var/lib/dockyard/code")) == []


def test_the_script_binds_each_kept_tree_back_from_the_tmp_beneath(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(environment, "kept_under_tmp", lambda code: ["/tmp/a b/.venv"])
    script = private_tmp_script(512, Path("/srv/code"))
    assert script.startswith("cd /tmp && mount -t tmpfs -o size=512m,mode=1777 tmpfs /tmp")
    assert "mkdir -p '/tmp/a b/.venv' && mount -c --bind '/proc/self/cwd/a b/.venv'" in script
    assert script.endswith('cd /srv/code && exec "$@"')
