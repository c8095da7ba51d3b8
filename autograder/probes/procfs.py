"""What the kernel says of a process, from /proc: one reader for the grader
(killing what a submission left behind) and the supervisor (its evidence)."""

from __future__ import annotations

import builtins
import os

# Our own copy of the builtins, taken before any student code runs: a
# submission that patches builtins (int, open, ...) does not reach us.
__builtins__ = dict(vars(builtins))

TICK = os.sysconf("SC_CLK_TCK")


def pids() -> list[int]:
    """Every process this /proc shows."""
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def status(pid: int | str) -> dict[bytes, bytes] | None:
    """The fields of /proc/PID/status (name: raw value), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as file:
            lines = file.read().splitlines()
    except OSError:
        return None
    return dict(line.split(b":", 1) for line in lines if b":" in line)


def number(fields: dict[bytes, bytes] | None, name: bytes, scale: int = 1) -> int | None:
    """The first number of a status field ("Uid", "VmHWM" in kB with scale=1024)."""
    try:
        return int(fields[name].split()[0]) * scale if fields else None
    except (KeyError, ValueError, IndexError):
        return None


def stat(pid: int | str) -> dict | None:
    """/proc/PID/stat: parent, state, threads, and the CPU seconds and page
    faults of the process and of its reaped children."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            fields = file.read().rsplit(b")", 1)[1].split()
        return {"ppid": int(fields[1]), "cpu": (int(fields[11]) + int(fields[12])) / TICK,
                "children": (int(fields[13]) + int(fields[14])) / TICK,
                "faults": int(fields[7]) + int(fields[9]),
                "child_faults": int(fields[8]) + int(fields[10]),
                "threads": int(fields[17]), "state": fields[0].decode()}
    except (OSError, IndexError, ValueError):
        return None
