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
- ``serve_salts(items, address, groups, hold)``: the salt server alone,
  around a call whose waits are timed but not calibrated (io_map's), or
  that counts processes, threads or targets; the salted values of its
  items, who got each salt, and per group of items how many waited at once.

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

**Groups.** Items may come in groups, each held until ``need`` of its
requests wait at once (from as many distinct processes, when processes are
what is counted) or until ``hold`` seconds after its first request: a pool
of the right size gathers at once, however late its last worker starts, and
one of the wrong size shows it (too few never gather; too many all wait
together, with the rest of the items free to take). Each release says when
it was asked for, when and how it went, and the server watches the
connection afterwards: a run_processes target keeps it until its process
ends, so the server also sees which target ended before which started.
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
        released, pids = _released(_stop_salts(salts), items)
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


def serve_salts(items: list, address: str, groups: list | None = None,
                hold: float = 0.0) -> dict:
    """Around a call of ``work`` on ``items`` whose waits are timed but not
    calibrated (io_map's, or a gate's): before it, start the items' salt
    server at ``address`` (no values yet); after it, stop the server and
    compute each item's value with the salt it released (None where it
    released none), in forked processes of ours, and name the processes it
    released salts to.

    ``groups`` ([[size, need, by_pids], ...]) cut the items, in order, into
    groups whose salts are held until ``need`` requests of the group (from
    as many distinct processes, with ``by_pids``) wait at once, or until
    ``hold`` seconds after the group's first request (see ``_serve``). After
    the call, "items" tells for each item who got its salt, when it asked,
    when and how it was released and when that process hung up; "groups"
    sums up each group: the processes its salts went to, the most requests
    (and distinct processes) that waited at once, and whether it gathered."""
    count = len(items)
    if address not in _SERVERS:
        _start_salts(address, items, groups, hold)
        return {"values": [None] * count, "pids": [], "items": [None] * count,
                "groups": [], "cpus": cpus()}
    records = _stop_salts(address)
    released, pids = _released(records, items)
    runs = [[seed ^ released.get(seed & MASK, 0), iterations, 0]
            for seed, iterations, *_ in items]
    done, _ = _in_processes(runs, max(1, min(count, _affinity(), 4)))
    return {"values": [row[1] if item[0] & MASK in released else None
                       for row, item in zip(done, items, strict=True)], "pids": pids,
            "items": _firsts(records, items), "groups": _summaries(records, items, groups),
            "cpus": cpus()}


def _affinity() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# -- the salt server -------------------------------------------------------------------
SALT_LIFETIME = 120.0  # seconds a salt server lives at most (the call's end stops it sooner)
MOST_RECORDS = 1024  # records a server reports at most (honest calls make two per item)
MOST_ASKING = 512  # requests a server holds at once; more wait in its listen queue
# How a salt was released: once its wait was over (its group, if any, had
# opened before it asked); when its group gathered; when its group's hold ran out.
OPEN, GATHERED, HELD_OUT = 0, 1, 2
RELEASED, ENDED = 0, 1  # kinds of record: a salt sent; its asker hung up afterwards
# kind, how, seed, salt, pid the kernel named, when it asked, when (released or ended)
_RECORD = struct.Struct("<BBQQidd")
_PEERCRED = struct.Struct("3i")
_SERVERS: dict[str, tuple[int, socket.socket]] = {}  # address: (pid, our end of its reports)


def _start_salts(address: str, items: list, groups: list | None = None,
                 hold: float = 0.0) -> None:
    """Fork the salt server of ``items`` at ``address`` and wait until it listens."""
    waits = {seed & MASK: float(seconds) for seed, _, seconds, *_ in items}
    group_of: dict[int, int] = {}
    needs: list[tuple[int, bool]] = []
    first = 0
    for number, (size, need, by_pids) in enumerate(groups or ()):
        for item in items[first:first + size]:
            group_of[item[0] & MASK] = number
        needs.append((int(need), bool(by_pids)))
        first += size
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # our own child: it never returns to the supervisor's code
        try:
            ours.close()
            _serve(address, theirs, waits, _Groups(group_of, needs, float(hold)), parent)
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


def _stop_salts(address: str) -> list[dict]:
    """Stop the server at ``address``; what it reported, record by record."""
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
    records = []
    for offset in range(0, len(data) - len(data) % _RECORD.size, _RECORD.size):
        kind, how, seed, salt, peer, asked, at = _RECORD.unpack_from(data, offset)
        records.append({"kind": kind, "how": how, "seed": seed, "salt": salt, "pid": peer,
                        "asked": asked, "at": at})
    return records


def _released(records: list[dict], items: list) -> tuple[dict[int, int], list[int]]:
    """The salt released for each item (the first one reported), and the
    pids salts went to."""
    seeds = {item[0] & MASK for item in items}
    released: dict[int, int] = {}
    pids: set[int] = set()
    for record in records:
        if record["kind"] == RELEASED and record["seed"] in seeds:
            released.setdefault(record["seed"], record["salt"])
            pids.add(record["pid"])
    return released, sorted(pids)[:10_000]


def _firsts(records: list[dict], items: list) -> list[dict | None]:
    """For each item, its first release: to whom, how, when it was asked for
    and released, and when that asker hung up (None: not before the end)."""
    first: dict[int, dict] = {}
    ended: dict[tuple[int, int], float] = {}
    for record in records:
        if record["kind"] == RELEASED:
            first.setdefault(record["seed"], record)
        elif record["kind"] == ENDED:
            ended.setdefault((record["seed"], record["pid"]), record["at"])
    found: list[dict | None] = []
    for item in items:
        record = first.get(item[0] & MASK)
        found.append(None if record is None else {
            "pid": record["pid"], "how": record["how"], "asked": record["asked"],
            "released": record["at"], "ended": ended.get((record["seed"], record["pid"]))})
    return found


def _summaries(records: list[dict], items: list, groups: list | None) -> list[dict]:
    """For each group: the pids its salts went to, the most requests and the
    most distinct processes that waited at once (a request waits from when
    the server heard it until its salt was sent), and whether it gathered."""
    summaries = []
    first = 0
    for size, _, _ in groups or ():
        seeds = {item[0] & MASK for item in items[first:first + size]}
        first += size
        spans = [(r["asked"], r["at"], r["pid"], r["how"]) for r in records
                 if r["kind"] == RELEASED and r["seed"] in seeds]
        peak = peak_pids = 0
        for start, *_ in spans:
            waiting = [pid for asked, at, pid, _ in spans if asked <= start < at]
            peak = max(peak, len(waiting))
            peak_pids = max(peak_pids, len(set(waiting)))
        summaries.append({"pids": sorted({pid for _, _, pid, _ in spans})[:256],
                          "peak": peak, "peak_pids": peak_pids,
                          "gathered": any(how == GATHERED for *_, how in spans)})
    return summaries


class _Groups:
    """In the server: the items' groups, and which requests each holds until
    it gathers (``need`` requests waiting at once, from as many distinct
    processes with ``by_pids``) or its hold runs out."""

    def __init__(self, group_of: dict[int, int], needs: list[tuple[int, bool]],
                 hold: float) -> None:
        self.group_of = group_of
        self.needs = needs
        self.hold = hold
        self.opened = [False] * len(needs)
        self.deadlines: list[float | None] = [None] * len(needs)
        self.held: list[list[tuple[int, int, float, int]]] = [[] for _ in needs]

    def ask(self, fd: int, seed: int, asked: float, pid: int) -> list[tuple] | None:
        """A request heard at ``asked``: None to release it once its wait is
        over, else the requests (fd, seed, asked, how) that may now go."""
        group = self.group_of.get(seed)
        if group is None or self.opened[group]:
            return None
        held = self.held[group]
        held.append((fd, seed, asked, pid))
        if self.deadlines[group] is None:
            self.deadlines[group] = asked + self.hold
        need, by_pids = self.needs[group]
        waiting = len({entry[3] for entry in held}) if by_pids else len(held)
        return self._open(group, GATHERED) if waiting >= need else []

    def due(self, now: float) -> list[tuple]:
        """The requests of the groups whose hold ran out by ``now``."""
        going: list[tuple] = []
        for group, deadline in enumerate(self.deadlines):
            if deadline is not None and now >= deadline and not self.opened[group]:
                going += self._open(group, HELD_OUT)
        return going

    def next_deadline(self) -> float | None:
        waiting = [d for g, d in enumerate(self.deadlines) if d is not None and not self.opened[g]]
        return min(waiting, default=None)

    def _open(self, group: int, how: int) -> list[tuple]:
        self.opened[group] = True
        going = [(fd, seed, asked, how) for fd, seed, asked, _ in self.held[group]]
        self.held[group] = []
        return going


def _serve(address: str, report: socket.socket, waits: dict[int, float], groups: _Groups,
           parent: int) -> None:
    """In a forked process of ours: listen at ``address``; release each
    item's salt ``waits[seed]`` seconds after a request for it (8 bytes: the
    seed) arrives, to the process that asked, and report it on ``report``;
    then watch that connection and report when its asker hangs up. An item
    of a group that has not gathered yet is held until it does (or until
    its hold runs out), and released no sooner than its wait allows.
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
    released: dict[int, tuple] = {}  # fd: (connection, seed, pid, asked), watched till it ends
    due: list[tuple[float, int, int, int, float, int]] = []  # (when, order, fd, seed, asked, how)
    order = itertools.count()
    salts: dict[int, int] = {}
    reported: set[tuple[int, int, int]] = set()
    end = time.monotonic() + SALT_LIFETIME

    def tell(kind: int, how: int, seed: int, pid: int, asked: float, at: float) -> None:
        # Reported as it happens: the server is killed with the sandbox's
        # strays before the supervisor reads its reports.
        if (kind, seed, pid) in reported or len(reported) >= MOST_RECORDS:
            return
        reported.add((kind, seed, pid))
        try:
            report.send(_RECORD.pack(kind, how, seed, salts.get(seed, 0), pid, asked, at))
        except OSError:  # our end was drained by someone else: the judge sees less
            pass

    def schedule(going: list[tuple]) -> None:
        for fd, seed, asked, how in going:
            heapq.heappush(due, (max(asked + waits[seed], time.monotonic()), next(order), fd,
                                 seed, asked, how))

    while True:
        now = time.monotonic()
        schedule(groups.due(now))
        while due and due[0][0] <= now:
            _, _, fd, seed, asked, how = heapq.heappop(due)
            connection, _, pid = asking.pop(fd)
            if seed not in salts:  # drawn now: before its first wait ended it was nowhere
                salts[seed] = int.from_bytes(os.urandom(6), "little")
            # Reported before it is sent: once the asker has it, the supervisor
            # will read it, even if the server is killed the next moment.
            tell(RELEASED, how, seed, pid, asked, now)
            try:
                connection.send(salts[seed].to_bytes(WORD, "little"))
            except OSError:  # the asker is gone
                connection.close()
                continue
            if len(released) < MOST_ASKING:
                released[fd] = (connection, seed, pid, asked)
                poller.register(fd, select.POLLIN)
            else:
                connection.close()
        if now >= end or os.getppid() != parent:
            return
        if accepting != (len(asking) < MOST_ASKING):  # full: leave the rest queued
            accepting = not accepting
            if accepting:
                poller.register(listener, select.POLLIN)
            else:
                poller.unregister(listener)
        times = [due[0][0]] if due else []
        deadline = groups.next_deadline()
        if deadline is not None:
            times.append(deadline)
        wait = min(1.0, max(0.0, min(times) - now)) if times else 1.0
        for fd, _ in poller.poll(math.ceil(wait * 1000)):
            if fd == listener.fileno():
                _accept(listener, poller, asking)
                continue
            if fd in released:
                connection, seed, pid, asked = released[fd]
                try:
                    chunk = connection.recv(64)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b""
                if not chunk:  # hung up: for a run's target, its process has ended
                    del released[fd]
                    poller.unregister(fd)
                    connection.close()
                    tell(ENDED, 0, seed, pid, asked, time.monotonic())
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
                asked = time.monotonic()
                going = groups.ask(fd, seed, asked, entry[2])
                schedule([(fd, seed, asked, OPEN)] if going is None else going)
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
