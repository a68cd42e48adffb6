"""What the agent remembers across restarts, under `<data_dir>/agent/`."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a full disk: leave the last good file, not half a one
        raise


class AgentState:
    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "agent"
        self.tasks_dir = self.root / "tasks"
        self.tasks_dir.mkdir(parents=True, exist_ok=True)

    def instance_arn(self, cluster: str) -> str | None:
        try:
            data = json.loads((self.root / "instance.json").read_text())
        except (OSError, ValueError):
            return None
        arn = data.get("container_instance_arn")
        return arn if data.get("cluster") == cluster and isinstance(arn, str) else None

    def save_instance(self, cluster: str, arn: str) -> None:
        _write(self.root / "instance.json", {"cluster": cluster, "container_instance_arn": arn})

    def _task_path(self, task_arn: str) -> Path:
        return self.tasks_dir / f"{task_arn.rsplit('/', 1)[-1]}.json"

    def save_task(self, task_arn: str, record: dict[str, Any]) -> None:
        _write(self._task_path(task_arn), record)

    def forget_task(self, task_arn: str) -> None:
        self._task_path(task_arn).unlink(missing_ok=True)

    def tasks(self) -> list[dict[str, Any]]:
        records = []
        for path in sorted(self.tasks_dir.glob("*.json")):
            try:
                records.append(json.loads(path.read_text()))
            except (OSError, ValueError) as exc:
                log.warning("ignoring unreadable task record %s: %s", path, exc)
        return records
