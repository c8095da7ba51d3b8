"""What this machine can do right now, measured by the grader's own code.

These functions run in the student process's SUPERVISOR, never in a worker:
a hidden test passes them to ``student.observe(..., around=(function, args))``
and the supervisor calls them once before it forks the worker and once after
the worker was reaped and every stray process killed. No student code runs
there, so nothing a submission starts (at import or otherwise) can disturb or
rewrite these measurements; they are the judge's yardstick for the speed of
the student's run in between, in the same sandbox and the same CPU quota.

- ``cpus()``: the CPUs this sandbox may really use (affinity, cgroup quota).
- ``calibrate_map(items, workers, start, salts)``: the items of a
  parallel_map run, computed by ``workers`` forked processes of ours: their
  values (the judge's expected results), the CPU each item needs, how much
  faster than a serial loop our processes got through them, and (when asked)
  how long starting ``workers`` fresh Python interpreters takes here now
  (what a spawn pool pays before its first item). With ``salts``, it also
  runs the items' salt server (below) around the call.
- ``serve_salts(items, address)``: the salt server alone, around a call
  whose waits are timed but not calibrated (io_map's), and the salted
  values of its items.

**Salts.** ``payloads.work`` returns ``mix(seed ^ salt, iterations)`` for an
item that carries a salt server's address, and the server, a process forked
here before the worker, releases an item's salt only ``seconds`` after it is
asked for it: ``seconds`` as the grader told the server, whatever the item
handed to the student's code says. So a value cannot exist before its wait
has really elapsed. A salt is drawn (``os.urandom``) when it is first
released, so before that it is nowhere, not even in the server. Each release
is written at once on a socket pair whose other end only the supervisor
reads (a socket cannot be reopened through ``/proc``, so no other process
can write there), because the server is killed with every other process of
the sandbox uid before the second run; the supervisor then reads the salts
and the pids the kernel named for each request (SO_PEERCRED). The worker
inherits the supervisor's end: reading from it only loses salts, which fails
the test, and it cannot release a salt early. Nothing of the server's lives
in the supervisor before the worker is forked but its pid and that end.
"""

from __future__ import annotations

import builtins
import heapq
import itertools
import json
import math
import os
import select
import signal
import socket
import struct
import sys
import time

from autograder.probes.payloads import MASK, WORD, mix

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


def calibrate_map(items: list, workers: int, start: bool = False,
                  salts: str | None = None) -> dict:
    """The items of a map (lists [seed, iterations, seconds]) on ``workers``
    processes of ours: their values, each item's CPU seconds, the serial time
    (CPU plus waits: a serial loop on a free CPU), our wall time and our gain
    (serial / wall); with ``start``, also how long ``workers`` fresh
    interpreters take to start here ("start", else None).

    With ``salts`` (an address), the first run (before the call) starts the
    items' salt server once it is done, and reports no values ("values" all
    None: the salts do not exist yet); the second (after it) stops the server
    and computes each item's value with the salt it released (None for an
    item whose salt never was), and "pids" names the processes it released
    salts to."""
    released: dict[int, int] = {}
    pids: list[int] = []
    after = salts is not None and salts in _SERVERS
    if after:
        released, pids = _stop_salts(salts, items)
    runs = [[seed ^ released.get(seed & MASK, 0), iterations, seconds]
            for seed, iterations, seconds, *_ in items]
    done, wall = _in_processes(runs, workers)
    cpu = [row[2] for row in done]
    serial = sum(cpu) + sum(item[2] for item in items)
    values = [row[1] for row in done]
    if salts is not None:
        values = [value if item[0] & MASK in released else None
                  for value, item in zip(values, items, strict=True)]
        if not after:
            _start_salts(salts, items)
    return {"values": values, "cpu": cpu, "serial": serial, "wall": wall,
            "gain": serial / max(wall, 1e-6),
            "start": start_cost(workers)[0] if start else None, "cpus": cpus(),
            "pids": pids}


def serve_salts(items: list, address: str) -> dict:
    """Around a call of ``work`` on ``items`` whose waits are timed but not
    calibrated (io_map's): before it, start the items' salt server at
    ``address`` (no values yet); after it, stop the server and compute each
    item's value with the salt it released (None where it released none), in
    forked processes of ours, and name the processes it released salts to."""
    if address not in _SERVERS:
        _start_salts(address, items)
        return {"values": [None] * len(items), "pids": []}
    released, pids = _stop_salts(address, items)
    runs = [[seed ^ released.get(seed & MASK, 0), iterations, 0]
            for seed, iterations, *_ in items]
    done, _ = _in_processes(runs, max(1, min(len(items), _affinity(), 4)))
    return {"values": [row[1] if item[0] & MASK in released else None
                       for row, item in zip(done, items, strict=True)], "pids": pids}


def _affinity() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# -- the salt server -------------------------------------------------------------------
SALT_LIFETIME = 120.0  # seconds a salt server lives at most (the call's end stops it sooner)
MOST_RELEASES = 256  # releases a server reports at most (honest calls make one per item)
MOST_ASKING = 512  # requests a server holds at once; more wait in its listen queue
_RELEASE = struct.Struct("<QQi")  # seed, salt, pid of the process the salt went to
_PEERCRED = struct.Struct("3i")
_SERVERS: dict[str, tuple[int, socket.socket]] = {}  # address: (pid, our end of its reports)


def _start_salts(address: str, items: list) -> None:
    """Fork the salt server of ``items`` at ``address`` and wait until it listens."""
    waits = {seed & MASK: float(seconds) for seed, _, seconds, *_ in items}
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # our own child: it never returns to the supervisor's code
        try:
            ours.close()
            _serve(address, theirs, waits, parent)
        finally:
            os._exit(0)
    theirs.close()
    ready, _, _ = select.select([ours], [], [], 10.0)
    if not ready or ours.recv(1) != b"R":
        ours.close()
        _end(pid)
        raise RuntimeError(f"the grader's salt server did not start at {address!r}")
    _SERVERS[address] = (pid, ours)


def _end(pid: int) -> None:
    """Kill and reap our server, unless it is gone already (killed with the
    sandbox's strays, and maybe reaped then): an unreaped child's pid cannot
    have been reused, so only ours is ever killed."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _stop_salts(address: str, items: list) -> tuple[dict[int, int], list[int]]:
    """Stop the server at ``address``; the salt it released for each item
    (the first one reported), and the pids it released salts to."""
    pid, ours = _SERVERS.pop(address)
    _end(pid)
    # The server is gone, and held the only other end: this ends.
    data = b""
    ours.settimeout(5.0)
    try:
        while chunk := ours.recv(1 << 16):
            data += chunk
    except OSError:  # a timeout: what came is all there is
        pass
    ours.close()
    seeds = {item[0] & MASK for item in items}
    released: dict[int, int] = {}
    pids: set[int] = set()
    for offset in range(0, len(data) - len(data) % _RELEASE.size, _RELEASE.size):
        seed, salt, peer = _RELEASE.unpack_from(data, offset)
        if seed in seeds:
            released.setdefault(seed, salt)
            pids.add(peer)
    return released, sorted(pids)[:10_000]


def _serve(address: str, report: socket.socket, waits: dict[int, float], parent: int) -> None:
    """In a forked process of ours: listen at ``address``; release each
    item's salt ``waits[seed]`` seconds after a request for it (8 bytes: the
    seed) arrives, to the process that asked, and report it on ``report``.
    Ends when its parent does, or after SALT_LIFETIME seconds."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(4096)
    listener.setblocking(False)
    report.sendall(b"R")
    report.setblocking(False)
    poller = select.poll()
    poller.register(listener, select.POLLIN)
    accepting = True
    asking: dict[int, list] = {}  # fd: [connection, bytes so far, pid]
    due: list[tuple[float, int, int, int]] = []  # (when, order, fd, seed)
    order = itertools.count()
    salts: dict[int, int] = {}
    reported: set[tuple[int, int]] = set()
    end = time.monotonic() + SALT_LIFETIME
    while True:
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, _, fd, seed = heapq.heappop(due)
            connection, _, pid = asking.pop(fd)
            if seed not in salts:  # drawn now: before its first wait ended it was nowhere
                salts[seed] = int.from_bytes(os.urandom(6), "little")
            # Reported before it is sent: once the asker has it, the supervisor
            # will read it, even if the server is killed the next moment.
            if (seed, pid) not in reported and len(reported) < MOST_RELEASES:
                reported.add((seed, pid))
                try:
                    report.send(_RELEASE.pack(seed, salts[seed], pid))
                except OSError:  # our end was drained by someone else: the judge sees less
                    pass
            try:
                connection.send(salts[seed].to_bytes(WORD, "little"))
            except OSError:  # the asker is gone
                pass
            connection.close()
        if now >= end or os.getppid() != parent:
            return
        if accepting != (len(asking) < MOST_ASKING):  # full: leave the rest queued
            accepting = not accepting
            if accepting:
                poller.register(listener, select.POLLIN)
            else:
                poller.unregister(listener)
        wait = 1.0 if not due else min(1.0, max(0.0, due[0][0] - now))
        for fd, _ in poller.poll(math.ceil(wait * 1000)):
            if fd == listener.fileno():
                _accept(listener, poller, asking)
                continue
            entry = asking.get(fd)
            if entry is None:
                continue
            try:
                chunk = entry[0].recv(WORD - len(entry[1]))
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = b""
            entry[1] += chunk
            if chunk and len(entry[1]) < WORD:
                continue
            poller.unregister(fd)
            seed = int.from_bytes(entry[1], "little") if chunk else None
            if seed in waits:  # the wait starts now, as the server heard the request
                heapq.heappush(due, (time.monotonic() + waits[seed], next(order), fd, seed))
            else:  # gone, or not one of the items
                asking.pop(fd)
                entry[0].close()


def _accept(listener: socket.socket, poller, asking: dict[int, list]) -> None:
    """Take the waiting connections, each with its peer's pid (the kernel's)."""
    while len(asking) < MOST_ASKING:
        try:
            connection, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # out of file descriptors: take them later
            return
        connection.setblocking(False)
        pid, _, _ = _PEERCRED.unpack(connection.getsockopt(
            socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))
        asking[connection.fileno()] = [connection, b"", pid]
        poller.register(connection, select.POLLIN)
