"""Settings every test process shares."""

from __future__ import annotations

import os

# Tasks of these tests read and write the tests' own tmp_path (root's, mode 0700) when the
# suite runs as root: they run as root, as an operator opts into with --task-user root.
# tests/security checks the real default (an unprivileged task user) with this unset.
os.environ.setdefault("DOCKYARD_TASK_USER", "root")
