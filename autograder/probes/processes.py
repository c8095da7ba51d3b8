"""Probes for the processes assignment: which processes ran the work, when,
and how fast, under each multiprocessing start method.

The functions and classes that the student's code hands to its processes
(``square``, ``work``, ``Recorder``, ``Traced``) live here, in an importable
module, so that they pickle by reference under fork, spawn and forkserver. Each
reports the process it ran in (pid) and when (``time.monotonic()``, one clock
for every process of the machine). They report either in their return value
or, where the student's code keeps no return value, as small files in an
inbox folder that the probe reads afterwards.
"""

from __future__ import annotations

import builtins
import json
import multiprocessing
import multiprocessing.process
import os
import select
import sys
import time
import traceback

from autograder.probes.common import jsonable, short

# Our own copy of the builtins and of what we measure with, taken before any
# student code runs: a submission that patches them does not reach us.
__builtins__ = dict(vars(builtins))
_getpid = os.getpid
_fork = os.fork
_exit = os._exit
_waitpid = os.waitpid
_pipe = os.pipe
_select = select.select
_read = os.read
_write = os.write
_close = os.close
_monotonic = time.monotonic
_thread_time = time.thread_time
_sleep = time.sleep
_dumps = json.dumps
_loads = json.loads
_set_start_method = multiprocessing.set_start_method
_BaseProcess = multiprocessing.process.BaseProcess
_start_process = multiprocessing.process.BaseProcess.start
_THIS = sys.modules[__name__]

INBOX_VARIABLE = "ADVPY_PROCESSES_INBOX"
DEFAULT = "default"  # an argument the probe leaves out, so the student's default applies


# -- the inbox: where child processes drop what they saw --------------------
def _drop(folder: str | None, record: dict) -> None:
    """Write ``record`` as one small JSON file in ``folder``, atomically."""
    if not folder:
        return
    pid = _getpid()
    name = f"{pid}-{_monotonic():.9f}-{os.urandom(4).hex()}"
    try:
        with open(os.path.join(folder, name + ".tmp"), "w", encoding="utf-8") as stream:
            stream.write(_dumps(record))
        os.replace(os.path.join(folder, name + ".tmp"), os.path.join(folder, name + ".json"))
    except OSError:
        pass


class _Inbox:
    """A fresh folder (in the sandbox's private /tmp) for the records."""

    def __init__(self) -> None:
        import tempfile  # here, not at the top: spawned children need not pay for it

        self.path = tempfile.mkdtemp(prefix="advpy-inbox-")

    def read(self) -> list[dict]:
        records = []
        for name in sorted(os.listdir(self.path)):
            if name.endswith(".json"):
                try:
                    with open(os.path.join(self.path, name), encoding="utf-8") as stream:
                        records.append(_loads(stream.read()))
                except (OSError, ValueError):
                    continue
        return records

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.path, ignore_errors=True)


# -- what the student's code runs in its processes --------------------------
def square(x):
    """x * x, and nothing else: for checking values and order."""
    return x * x


def _spin(iterations: int) -> int:
    total = 0
    for i in range(iterations):
        total ^= i
    return total


def work(item):
    """``item`` is (x, iterations, seconds): count through ``iterations``
    (CPU-bound), sleep ``seconds`` (I/O-bound); return (x * x, pid, start, end)."""
    x, iterations, seconds = item
    start, cpu = _monotonic(), _thread_time()
    if iterations:
        _spin(iterations)
    if seconds:
        _sleep(seconds)
    return (x * x, _getpid(), start, _monotonic(), _thread_time() - cpu)


class Recorder:
    """A target for run_processes: sleeps ``seconds``, then drops a record of
    the process it ran in and when."""

    def __init__(self, folder: str, seconds: float) -> None:
        self.folder = folder
        self.seconds = seconds

    def __call__(self) -> None:
        start = _monotonic()
        if self.seconds:
            _sleep(self.seconds)
        _drop(self.folder, {"pid": _getpid(), "start": start, "end": _monotonic()})


_traced_here: set = set()


def _trace(kind: str) -> None:
    """Record, once per process and kind, that a Traced number was used here."""
    key = (_getpid(), kind)
    if key in _traced_here:
        return
    _traced_here.add(key)
    _drop(os.environ.get(INBOX_VARIABLE), {"pid": key[0], "kind": kind, "time": _monotonic()})


class Traced(int):
    """An int that records in which process it is squared (or converted).

    It pickles as itself (by reference to this module), so it records in
    child processes too, whatever the start method.
    """

    __slots__ = ()

    def __mul__(self, other):
        _trace("square")
        return int.__mul__(self, other)

    def __rmul__(self, other):
        _trace("square")
        return int.__rmul__(self, other)

    def __pow__(self, other, modulo=None):
        _trace("square")
        return int.__pow__(self, other, modulo)

    def __rpow__(self, other, modulo=None):
        _trace("square")
        return int.__rpow__(self, other, modulo)

    def __int__(self):
        _trace("convert")
        return int.__int__(self)

    def __index__(self):
        _trace("convert")
        return int.__index__(self)

    def __float__(self):
        _trace("convert")
        return int.__float__(self)

    def __abs__(self):
        _trace("convert")
        return int.__abs__(self)


# -- helpers ----------------------------------------------------------------
def _expose() -> None:
    """Make this very module the one that pickle finds by name.

    The runner gives the submission fresh copies of our modules; pickling a
    function of ours checks that importing its module by name gives back the
    same object, so we put ourselves back before the student's code pickles.
    """
    sys.modules[__name__] = _THIS


def _use_start_method(method: str | None) -> None:
    """Make ``method`` the default start method of this worker (ValueError
    where the platform lacks it)."""
    if method:
        _set_start_method(method, force=True)


def under_start_methods(module, probe: str, methods: list, args: tuple,
                        deadline: float) -> dict:
    """Run the probe ``probe(module, *args)`` once under each start method, at
    the same time, each in a fork of this worker that makes that method its
    default. Reports, by method, the probe's observation, {"error": ...} for
    what the student's code raised, or {"timeout": seconds}."""
    function = {"run_processes": run_processes, "mapped": mapped,
                "sum_of_squares": sum_of_squares}[probe]
    _expose()
    if any(method != "fork" for method in methods):
        # One resource tracker (a process spawn and forkserver need) for all
        # the forks below, instead of one each.
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
    children = {}
    for method in methods:
        read_fd, write_fd = _pipe()
        pid = _fork()
        if pid == 0:
            answer = {"error": {"type": "SystemExit", "message": "", "where": None}}
            try:
                _close(read_fd)
                _use_start_method(method)
                answer = {"seen": function(module, *args)}
            except Exception as exc:  # noqa: BLE001 - the student's exception is the observation
                answer = {"error": _error(exc, module)}
            finally:
                data = _dumps(answer, default=repr).encode()
                while data:
                    data = data[_write(write_fd, data):]
                _exit(0)
        _close(write_fd)
        children[read_fd] = (method, pid, bytearray())
    seen, ends = {}, _monotonic() + deadline
    while children and _monotonic() < ends:
        ready, _, _ = _select(list(children), [], [], max(0.0, ends - _monotonic()))
        for fd in ready:
            method, pid, data = children[fd]
            chunk = _read(fd, 65536)
            if chunk:
                data += chunk
                continue
            _close(fd)
            del children[fd]
            _waitpid(pid, 0)
            try:
                seen[method] = _loads(bytes(data))
            except ValueError:
                seen[method] = {"error": {"type": "died", "message": "", "where": None}}
    for fd, (method, pid, _) in children.items():
        seen[method] = {"timeout": deadline}
        _close(fd)
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    return seen


def usable_cpus(module) -> dict:
    """The CPUs the student's processes may use (see ``cpus``)."""
    return cpus()


class _StartCounter:
    """Counts multiprocessing processes started while it is installed."""

    def __init__(self) -> None:
        self.started = 0

    def __enter__(self) -> _StartCounter:
        counter = self

        def start(process):
            counter.started += 1
            return _start_process(process)

        _BaseProcess.start = start
        return self

    def __exit__(self, *exc) -> None:
        _BaseProcess.start = _start_process


def _error(exc: BaseException, module) -> dict:
    """What the student's code raised, and the last place in the submission it
    passed through ("line 12", or "cell 3, line 2" in a notebook)."""
    filename = getattr(module, "__file__", None) or "?"
    where = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            where = f"line {frame.lineno}"
        elif frame.filename.startswith(filename + ":"):
            where = f"{frame.filename[len(filename) + 1:]}, line {frame.lineno}"
    return {"type": type(exc).__name__, "message": str(exc)[:300], "where": where}


def _each(module, probe, cases: list) -> list[dict]:
    """``probe(module, *case)`` for each case, in one worker; stops at the first
    case whose call raises, reporting {"error": ...} for it."""
    seen = []
    for case in cases:
        try:
            seen.append(probe(module, *case))
        except Exception as exc:  # noqa: BLE001 - what the student's code raised is the observation
            seen.append({"error": _error(exc, module)})
            break
    return seen


def _as_list(value) -> tuple[list | None, str]:
    """The items of what the student returned (any iterable), and its type."""
    kind = type(value).__name__
    if isinstance(value, (str, bytes, dict)):
        return None, kind
    try:
        return list(value), kind
    except TypeError:
        return None, kind


def _records(results: list) -> tuple[list, list]:
    """Values and [pid, start, end, cpu] of the results of ``work``."""
    values, records = [], []
    for result in results:
        if type(result) is tuple and len(result) == 5:
            values.append(jsonable(result[0]))
            records.append(list(result[1:]))
        else:
            values.append(jsonable(result))
            records.append(None)
    return values, records


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
            "cpu_count": os.cpu_count()}


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


# -- q1 ---------------------------------------------------------------------
def choices(module) -> dict:
    """What CHOICES is: its type and its pairs."""
    value = module.CHOICES
    if not isinstance(value, dict):
        return {"type": type(value).__name__, "repr": short(value), "pairs": None}
    pairs = [[k if type(k) is str else short(k), v if type(v) is str else None,
              type(v).__name__, short(v)] for k, v in list(value.items())[:50]]
    return {"type": type(value).__name__, "repr": short(value), "pairs": pairs}


# -- q2 ---------------------------------------------------------------------
def _describe_process(process) -> dict:
    seen = {"type": type(process).__name__, "is_process": isinstance(process, _BaseProcess)}
    if seen["is_process"]:
        try:
            seen["pid"] = process.pid
            seen["exitcode"] = process.exitcode
        except Exception:  # noqa: BLE001 - a broken object is an observation too
            seen["pid"] = seen["exitcode"] = None
    return seen


def run_processes(module, count, seconds: float, method: str | None = None) -> dict:
    """Call run_processes(Recorder, count) (leaving count out for DEFAULT);
    report what it returned, and where and when the target ran."""
    _expose()
    _use_start_method(method)
    inbox = _Inbox()
    try:
        target = Recorder(inbox.path, seconds)
        called_at = _monotonic()
        if count == DEFAULT:
            value = module.run_processes(target)
        else:
            value = module.run_processes(target, count)
        returned_at = _monotonic()
        items, kind = _as_list(value) if isinstance(value, (list, tuple)) else (None, None)
        returned = [_describe_process(p) for p in items[:200]] if items is not None else None
        # Targets still running (not joined) get the time to finish and report.
        expected = len(returned) if returned else (os.cpu_count() if count == DEFAULT else count)
        deadline = returned_at + seconds + 3.0
        while len(inbox.read()) < (expected or 1) and _monotonic() < deadline:
            _sleep(0.01)
        return {"caller": _getpid(), "called_at": called_at, "returned_at": returned_at,
                "type": type(value).__name__, "repr": short(value), "list_type": kind,
                "returned": returned, "records": inbox.read(), "cpus": cpus()}
    finally:
        inbox.close()


# -- q3 and q4 --------------------------------------------------------------
FUNCTIONS = {"square": square, "work": work}


def mapped(module, name: str, function: str, items: list, workers=DEFAULT,
           method: str | None = None) -> dict:
    """Call ``name(FUNCTION, items[, workers])`` (parallel_map or io_map);
    report its results, and for ``work`` where and when each item ran."""
    _expose()
    _use_start_method(method)
    func = FUNCTIONS[function]
    items = [tuple(item) if type(item) is list else item for item in items]
    student = getattr(module, name)
    started = _monotonic()
    value = student(func, items) if workers == DEFAULT else student(func, items, workers)
    elapsed = _monotonic() - started
    results, kind = _as_list(value)
    seen = {"caller": _getpid(), "type": kind, "repr": short(value), "elapsed": elapsed,
            "values": None, "records": None}
    if results is not None:
        seen["values"], seen["records"] = _records(results)
    return seen


def mapped_cases(module, name: str, cases: list) -> list[dict]:
    """``mapped`` for each (function, items, workers) case, in one worker."""
    return _each(module, lambda m, *case: mapped(m, name, *case), cases)


def _calibrate(item_seconds: float) -> int:
    """Iterations of _spin that take about ``item_seconds`` here, now."""
    iterations, best = 20_000, None
    for _ in range(3):
        start = time.perf_counter()
        _spin(iterations)
        took = time.perf_counter() - start
        best = took if best is None else min(best, took)
    return max(1000, int(iterations * item_seconds / max(best, 1e-6)))


def _our_parallel_run(items: list, workers: int) -> list:
    """The same items on ``workers`` forked processes of ours: what this
    machine can do right now. Returns [pid, start, end] per item."""
    readers, children = [], []
    for index in range(workers):
        read_fd, write_fd = _pipe()
        pid = _fork()
        if pid == 0:
            try:
                _close(read_fd)
                done = [list(work(item)[1:]) for item in items[index::workers]]
                _write(write_fd, _dumps(done).encode())
            finally:
                _exit(0)
        _close(write_fd)
        readers.append(read_fd)
        children.append(pid)
    records = []
    for read_fd, pid in zip(readers, children, strict=True):
        data = b""
        while chunk := _read(read_fd, 65536):
            data += chunk
        _close(read_fd)
        _waitpid(pid, 0)
        records.extend(_loads(data or b"[]"))
    return records


def speedup(module, workers: int, count: int, item_seconds: float, sleep: float,
            measure: float | None) -> dict:
    """parallel_map(work, count CPU-bound items, workers): where and when each
    item ran and the CPU time it took. With ``measure``, the same items also
    run on ``workers`` processes of ours just before and just after, in this
    same run: what the machine can do right now. The run after is skipped
    when the one before reached less parallelism than ``measure``."""
    _expose()
    iterations = _calibrate(item_seconds)
    items = [(x, iterations, sleep) for x in range(count)]
    seen = {"caller": _getpid(), "cpus": cpus(), "iterations": iterations,
            "ours_before": None, "ours_after": None}
    if measure:
        seen["ours_before"] = _our_parallel_run(items, workers)
    started = _monotonic()
    value = module.parallel_map(work, items, workers)
    seen["elapsed"] = _monotonic() - started
    results, seen["type"] = _as_list(value)
    seen["values"], seen["records"] = _records(results) if results is not None else (None, None)
    if measure and _parallelism(seen["ours_before"]) >= measure:
        seen["ours_after"] = _our_parallel_run(items, workers)
    return seen


def _parallelism(records: list) -> float:
    """CPU seconds used per second from the first start to the last end."""
    span = max(r[2] for r in records) - min(r[1] for r in records)
    return sum(r[3] for r in records) / max(span, 1e-9)


# -- q5 ---------------------------------------------------------------------
def sum_of_squares(module, numbers: list, count=DEFAULT, traced: bool = False,
                   method: str | None = None) -> dict:
    """Call parallel_sum_of_squares(numbers[, count]); with ``traced``, the
    numbers are Traced ints that record the processes that square them."""
    _expose()
    _use_start_method(method)
    inbox = _Inbox()
    os.environ[INBOX_VARIABLE] = inbox.path
    try:
        values = [Traced(n) for n in numbers] if traced else list(numbers)
        with _StartCounter() as counter:
            if count == DEFAULT:
                value = module.parallel_sum_of_squares(values)
            else:
                value = module.parallel_sum_of_squares(values, count)
        if isinstance(value, Traced):
            value = int.__int__(value)
        return {"caller": _getpid(), "value": jsonable(value), "type": type(value).__name__,
                "repr": short(value), "traces": inbox.read(), "started": counter.started}
    finally:
        os.environ.pop(INBOX_VARIABLE, None)
        inbox.close()


def sum_cases(module, cases: list) -> list[dict]:
    """``sum_of_squares`` for each (numbers, count, traced) case, in one worker."""
    return _each(module, sum_of_squares, cases)
