"""What this machine can do right now, measured by the grader's own code.

These functions run in the student process's SUPERVISOR, never in a worker:
a hidden test passes them to ``student.observe(..., around=(function, args))``
and the supervisor calls them once before it forks the worker and once after
the worker was reaped and every stray process killed. No student code runs
there, so nothing a submission starts (at import or otherwise) can disturb or
rewrite these measurements; they are the judge's yardstick for the speed of
the student's run in between, in the same sandbox and the same CPU quota.

- ``cpus()``: the CPUs this sandbox may really use (affinity, cgroup quota).
- ``calibrate_map(items, workers, start)``: the items of a parallel_map run,
  computed by ``workers`` forked processes of ours: their values (the judge's
  expected results), the CPU each item needs, how much faster than a serial
  loop our processes got through them, and (when asked) how long starting
  ``workers`` fresh Python interpreters takes here now (what a spawn pool
  pays before its first item).
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import time

from autograder.probes.payloads import mix

__builtins__ = dict(vars(builtins))

# What a pool's worker process imports before it can run its first item.
_STARTUP = "import multiprocessing.pool, concurrent.futures.process"


def cpus() -> dict:
    """The CPUs this process may really use: its affinity, and the CPU quota
    of its cgroup (v2 cpu.max, v1 cpu.cfs_quota_us), whichever is smaller."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = os.cpu_count() or 1
    quota = _cgroup_quota()
    usable = float(affinity) if quota is None else min(float(affinity), quota)
    return {"affinity": affinity, "quota": quota, "usable": usable,
            "cpu_count": os.cpu_count() or 1}


def _cgroup_quota() -> float | None:
    quotas = []
    for folder, version in _cgroup_folders():
        while True:
            quota = _read_quota(folder, version)
            if quota is not None:
                quotas.append(quota)
            parent = os.path.dirname(folder)
            if parent == folder or not parent.startswith("/sys/fs/cgroup"):
                break
            folder = parent
    return min(quotas) if quotas else None


def _read_quota(folder: str, version: int) -> float | None:
    try:
        if version == 2:
            with open(os.path.join(folder, "cpu.max"), encoding="ascii") as stream:
                limit, period = stream.read().split()[:2]
            return None if limit == "max" else int(limit) / int(period)
        with open(os.path.join(folder, "cpu.cfs_quota_us"), encoding="ascii") as stream:
            limit = int(stream.read())
        with open(os.path.join(folder, "cpu.cfs_period_us"), encoding="ascii") as stream:
            period = int(stream.read())
        return None if limit <= 0 or period <= 0 else limit / period
    except (OSError, ValueError):
        return None


def _cgroup_folders() -> list[tuple[str, int]]:
    """The cgroup folders that may hold this process's CPU quota."""
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as stream:
            memberships = [line.rstrip("\n").split(":", 2) for line in stream]
        with open("/proc/self/mountinfo", encoding="utf-8") as stream:
            mounts = []
            for line in stream:
                left, _, right = line.partition(" - ")
                fields, kind = left.split(), right.split()
                if len(fields) > 4 and len(kind) > 2 and kind[0] in ("cgroup", "cgroup2"):
                    mounts.append((fields[3], fields[4], kind[0], kind[2].split(",")))
    except OSError:
        return [("/sys/fs/cgroup", 2)]
    folders = []
    for entry in memberships:
        if len(entry) != 3:
            continue
        _, controllers, path = entry
        for root, point, kind, options in mounts:
            if kind == "cgroup2" and controllers == "":
                version = 2
            elif kind == "cgroup" and "cpu" in controllers.split(",") and "cpu" in options:
                version = 1
            else:
                continue
            relative = path[len(root):] if root != "/" and path.startswith(root) else path
            folders.append((os.path.normpath(point + "/" + relative.lstrip("/")), version))
    return folders or [("/sys/fs/cgroup", 2)]


def _share(items: list, first: int, step: int) -> list:
    """In a forked process of ours: [index, value, CPU seconds] of every
    ``step``-th item from ``first``, waiting each item's seconds as ``work`` does."""
    done = []
    for index in range(first, len(items), step):
        seed, iterations, seconds = items[index][:3]
        if seconds:
            time.sleep(seconds)
        cpu = time.thread_time()
        value = mix(seed, iterations)
        done.append([index, value, time.thread_time() - cpu])
    return done


def _in_processes(items: list, workers: int) -> tuple[list, float]:
    """``_share`` in ``workers`` forked processes at once: the items' results
    in order, and the wall time from the first fork to the last exit."""
    started = time.monotonic()
    readers = []
    for first in range(workers):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # our own child: it never returns to the supervisor's code
            try:
                os.close(read_fd)
                data = json.dumps(_share(items, first, workers)).encode()
                while data:
                    data = data[os.write(write_fd, data):]
            finally:
                os._exit(0)
        os.close(write_fd)
        readers.append((read_fd, pid))
    done = []
    for read_fd, pid in readers:
        chunks = []
        while chunk := os.read(read_fd, 65536):
            chunks.append(chunk)
        os.close(read_fd)
        os.waitpid(pid, 0)
        done.extend(json.loads(b"".join(chunks) or b"[]"))
    wall = time.monotonic() - started
    return sorted(done), wall


def start_cost(workers: int) -> tuple[float, float]:
    """Seconds to start ``workers`` fresh Python interpreters at once, each
    importing what a pool's worker imports, until the last has ended; and the
    CPU seconds one of them used (the kernel's count)."""
    started = time.monotonic()
    pids = []
    for _ in range(workers):
        try:
            pids.append(os.posix_spawn(sys.executable, [sys.executable, "-I", "-c", _STARTUP],
                                       dict(os.environ)))
        except OSError:
            break
    cpu = 0.0
    for pid in pids:
        _, _, usage = os.wait4(pid, 0)
        cpu += usage.ru_utime + usage.ru_stime
    return time.monotonic() - started, cpu / max(len(pids), 1)


def calibrate_map(items: list, workers: int, start: bool = False) -> dict:
    """The items of a map (lists [seed, iterations, seconds]) on ``workers``
    processes of ours: their values, each item's CPU seconds, the serial time
    (CPU plus waits: a serial loop on a free CPU), our wall time and our gain
    (serial / wall); with ``start``, also how long ``workers`` fresh
    interpreters take to start here ("start", else None)."""
    done, wall = _in_processes(items, workers)
    cpu = [row[2] for row in done]
    serial = sum(cpu) + sum(item[2] for item in items)
    return {"values": [row[1] for row in done], "cpu": cpu, "serial": serial, "wall": wall,
            "gain": serial / max(wall, 1e-6),
            "start": start_cost(workers)[0] if start else None, "cpus": cpus()}
