"""CPU and memory of a process session read from /proc: how the process driver measures a
container that has no cgroups (not root, or started before CPU accounting was set up)."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def session_usage(session_id: int) -> tuple[int, int] | None:
    """(CPU nanoseconds, resident bytes) summed over the processes of session `session_id`
    (the container's main process leads its own session); None when none is alive."""
    cpu_ticks = 0
    rss_pages = 0
    found = False
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name (which may hold spaces and parentheses).
        fields = raw[raw.rfind(")") + 2 :].split()
        try:
            if int(fields[3]) != session_id:
                continue
            utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
            rss = int(fields[21])
        except (IndexError, ValueError):
            continue
        found = True
        cpu_ticks += utime + stime + cutime + cstime
        rss_pages += rss
    if not found:
        return None
    return cpu_ticks * 1_000_000_000 // TICKS, rss_pages * PAGE
