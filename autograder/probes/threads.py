"""Probes for the threads assignment.

They run in the student process and report observations, never verdicts:
which threads ran, what an instrumented lock saw, whether a daemon let a
fresh interpreter exit. Three instruments make races show every time:

- ``SpyLock``, the lock handed to ``increase``: a real Lock that records
  who held it, how long, and what ``database_value`` was when it was taken
  and released;
- ``Tracked``, the value the grader puts in ``database_value``: an int that
  reports the ``+ 1`` done on it (which is after the read, before the write),
  so the probe knows whether the lock was held then, and can hold the first
  reader there until the other threads have either read too (a race, proven)
  or are all waiting for the lock (no race possible);
- ``Amount``, the amount handed to ``ThreadSafeCounter.increment``: adding it
  yields to the other threads, in the middle of the read-modify-write.

A call that does not return in time (a deadlock, workers that never stop) is
interrupted by an alarm, and the probe reports where every thread was.

The few functions at the end (``hang_text``, ``threads_text``) word feedback
for the judge; they run in the grader, on observations.
"""

from __future__ import annotations

import builtins
import os
import sys
import threading
import time
from collections import Counter
from itertools import count as _count
from json import dumps as _json_dumps
from json import loads as _json_loads
from linecache import getline as _getline
from select import select as _select
from signal import ITIMER_REAL, SIGALRM
from signal import setitimer as _setitimer
from signal import signal as _set_handler
from subprocess import DEVNULL, PIPE, Popen, TimeoutExpired

from autograder.probes.common import jsonable, short

# Our own copy of the builtins, taken before any student code runs: a
# submission that patches builtins (len, isinstance, ...) does not reach us.
__builtins__ = dict(vars(builtins))

# Taken at import, in the supervisor, before any student code runs: a
# submission that patches these names does not change what the probes use.
_Thread = threading.Thread
_Lock = threading.Lock
_Condition = threading.Condition
_get_ident = threading.get_ident
_current_thread = threading.current_thread
_enumerate = threading.enumerate
_main_thread = threading.main_thread
_monotonic = time.monotonic
_perf = time.perf_counter
_sleep = time.sleep
_time_module = time
_current_frames = sys._current_frames
_executable = sys.executable
_os_read = os.read
_basename = os.path.basename
_abspath = os.path.abspath
_dirname = os.path.dirname
_int_add = int.__add__
_int_radd = int.__radd__
_int_sub = int.__sub__

LATENCY = 0.03  # the stub's simulated database latency, between read and write
SPY_LATENCY = 0.003  # the grader's own increase (q3) waits this long
HANG_AFTER = 3.0  # a call that has not returned by then is reported as hung
GRACE = 0.5  # threads still alive this long after a call returned were left running
BARRIER_WAIT = 2.0  # how long a thread waits for the others at a barrier
GATE_WAIT = 0.5  # how long the first reader waits for a second one


# -- hangs ------------------------------------------------------------------
class _Hung(BaseException):
    """Raised in the main thread by the alarm when a call takes too long."""


def guarded(module, action, seconds: float = HANG_AFTER) -> tuple[bool, object]:
    """Run ``action()`` in this (the main) thread. If it has not returned
    after ``seconds``, interrupt it and return (False, where the threads were)."""
    state: dict = {}

    def alarm(signum, frame):
        state["threads"] = where_threads(module)
        raise _Hung

    previous = _set_handler(SIGALRM, alarm)
    try:
        try:
            _setitimer(ITIMER_REAL, seconds)
            value = action()
        finally:
            _setitimer(ITIMER_REAL, 0)
    except _Hung:
        return False, {"hung": True, "after": seconds, "threads": state.get("threads", [])}
    finally:
        _set_handler(SIGALRM, previous)
    return True, value


def _student_frame(frame, path: str):
    while frame is not None:
        name = frame.f_code.co_filename
        if name == path or name.startswith(path + ":"):
            return frame
        frame = frame.f_back
    return None


_HERE = _abspath(__file__)


def _place(frame, path: str) -> dict:
    """Where a thread is: the innermost frame in the submission, else where
    it waits in the library (or in the grader's own code)."""
    mine = _student_frame(frame, path)
    if mine is not None:
        name, line = mine.f_code.co_filename, mine.f_lineno
        if name == path:
            return {"where": f"line {line}", "code": _getline(name, line).strip()[:80],
                    "function": mine.f_code.co_name}
        return {"where": f"{name[len(path) + 1:]}, line {line}", "code": "",
                "function": mine.f_code.co_name}
    outer = frame
    while outer is not None and _abspath(outer.f_code.co_filename) != _HERE:
        outer = outer.f_back
    if outer is not None:
        return {"where": None, "grader": True, "function": None, "code": ""}
    return {"where": None, "grader": False, "code": "",
            "function": f"{_basename(frame.f_code.co_filename)}: {frame.f_code.co_name}"
            if frame is not None else None}


def where_threads(module, only: set | None = None) -> list[dict]:
    """Every live thread (or those in ``only``), grouped by where it is."""
    path = getattr(module, "__file__", None) or "<no file>"
    by_ident = {t.ident: t for t in _enumerate()}
    main = _main_thread().ident
    groups: dict[tuple, dict] = {}
    for ident, frame in list(_current_frames().items()):
        if only is not None and ident not in only:
            continue
        place = _place(frame, path)
        thread = by_ident.get(ident)
        key = (ident == main, place["where"], place["code"], place["function"],
               place.get("grader", False))
        entry = groups.setdefault(key, {"main": ident == main, "count": 0,
                                        "daemon": bool(thread is not None and thread.daemon),
                                        **place})
        entry["count"] += 1
    return sorted(groups.values(), key=lambda g: (not g["main"], -g["count"]))[:8]


def _error(exc: BaseException, module) -> dict:
    path = getattr(module, "__file__", None) or "<no file>"
    where = None
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name == path:
            where = f"line {tb.tb_lineno}"
        elif name.startswith(path + ":"):
            where = f"{name[len(path) + 1:]}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return {"type": type(exc).__name__, "message": str(exc)[:200], "where": where}


class _Errors:
    """Exceptions that ended threads: ours (our thread bodies) and theirs
    (through threading.excepthook)."""

    def __init__(self, module) -> None:
        self.module = module
        self.seen: list[dict] = []
        self._lock = _Lock()

    def add(self, exc: BaseException) -> None:
        with self._lock:
            if len(self.seen) < 20:
                self.seen.append(_error(exc, self.module))

    def hook(self, args) -> None:
        if args.exc_value is not None and not isinstance(args.exc_value, _Hung):
            self.add(args.exc_value)

    def install(self) -> _Errors:
        threading.excepthook = self.hook
        return self

    def report(self) -> list[dict]:
        with self._lock:
            return list(self.seen[:5])


def _left_running(before: set, module, grace: float = GRACE) -> list[dict]:
    """Threads started since ``before`` that are still alive ``grace`` seconds later."""
    deadline = _monotonic() + grace
    while True:
        alive = [t for t in _enumerate() if t not in before and t.is_alive()]
        if not alive or _monotonic() >= deadline:
            break
        _sleep(0.005)
    if not alive:
        return []
    return where_threads(module, {t.ident for t in alive})


# -- barriers and gates ---------------------------------------------------
class SoftBarrier:
    """A reusable barrier that never raises: ``wait()`` says whether
    ``parties`` threads were there at once. After one timeout it gives up,
    so a serial program pays the wait only once."""

    def __init__(self, parties: int, timeout: float = BARRIER_WAIT) -> None:
        self.parties = parties
        self.timeout = timeout
        self._cond = _Condition(_Lock())
        self._arrived = 0
        self._generation = 0
        self.passed = 0
        self.missed = 0
        self.gave_up = False

    def wait(self) -> bool:
        with self._cond:
            if self.gave_up:
                self.missed += 1
                return False
            generation = self._generation
            self._arrived += 1
            if self._arrived >= self.parties:
                self._generation += 1
                self._arrived = 0
                self.passed += self.parties
                self._cond.notify_all()
                return True
            deadline = _monotonic() + self.timeout
            while self._generation == generation:
                left = deadline - _monotonic()
                if left <= 0:
                    self.gave_up = True
                    self.missed += 1
                    self._cond.notify_all()
                    return False
                self._cond.wait(left)
            return True


class Gate:
    """Holds the first thread that reached the middle of its read-modify-write
    until a second thread reaches it too (a race, proven) or until every other
    thread is waiting for the lock (no race is possible), or a timeout."""

    def __init__(self, others: int, waiting, timeout: float = GATE_WAIT) -> None:
        self.others = others
        self.waiting = waiting
        self.timeout = timeout
        self._cond = _Condition(_Lock())
        self.first = None
        self.open = others <= 0
        self.race = False
        self.timed_out = False

    def arrive(self) -> None:
        me = _get_ident()
        with self._cond:
            if self.open:
                return
            if self.first is None:
                self.first = me
                deadline = _monotonic() + self.timeout
                while not self.open:
                    if self.waiting() >= self.others:
                        self.open = True
                        break
                    left = deadline - _monotonic()
                    if left <= 0:
                        self.open = self.timed_out = True
                        break
                    self._cond.wait(min(left, 0.002))
            elif me != self.first:
                self.race = self.open = True
                self._cond.notify_all()


# -- the instrumented value and lock (q2) --------------------------------
class _Watch:
    """What Tracked and SpyLock report to, during one probe call."""

    def __init__(self) -> None:
        self.lock = _Lock()
        self.spy: SpyLock | None = None
        self.module = None
        self.gate: Gate | None = None
        self.adds: list[dict] = []
        self.sleeps: list[dict] = []
        self.inject = False
        self.injected = 0
        self.scale = 1.0  # the time.sleep of the submission sleeps this share of its time
        self.serials = _count(1)


_watch = _Watch()


class Injected(Exception):  # noqa: N818 - the name the student sees in a traceback
    """Raised by the grader inside the body of increase, to see whether the lock is released."""


class Tracked(int):
    """The int the grader puts in database_value: it reports each + 1 done on
    it (and each int() of it), which comes after the read and before the write."""

    def __new__(cls, value: int, serial: int = 0) -> Tracked:
        obj = int.__new__(cls, value)
        obj.serial = serial
        return obj

    def _observe(self) -> None:
        spy = _watch.spy
        held = spy is not None and spy.owner == _get_ident()
        # Read before the lock was taken: another thread has written since.
        stale = held and vars(_watch.module).get("database_value") is not self
        with _watch.lock:
            _watch.adds.append({"held": held, "hold": spy.count if held else None,
                                "operand": self.serial, "stale": stale, "at": _perf()})
            inject = _watch.inject
            if inject:
                _watch.injected += 1
        if inject:
            raise Injected("the grader made this step of increase raise")
        if _watch.gate is not None:
            _watch.gate.arrive()

    def _arith(self, op, other):
        result = op(self, other)
        if result is NotImplemented:
            return result
        self._observe()
        return Tracked(result, next(_watch.serials))

    def __add__(self, other):
        return self._arith(_int_add, other)

    def __radd__(self, other):
        return self._arith(_int_radd, other)

    def __sub__(self, other):
        return self._arith(_int_sub, other)

    def __int__(self):
        self._observe()
        return _int_add(self, 0)

    __index__ = __int__


def _snapshot(value: object) -> dict:
    if isinstance(value, int):
        return {"value": _int_add(value, 0), "serial": getattr(value, "serial", None)}
    return {"value": short(value), "serial": None}


class SpyLock:
    """The lock the grader hands to increase: a real, non-reentrant Lock
    that records every hold (who, how long, database_value before and after)."""

    def __init__(self, module) -> None:
        self._module = module
        self._lock = _Lock()
        self._meta = _Lock()
        self.owner: int | None = None
        self.count = 0
        self.waiters = 0
        self.holds: list[dict] = []
        self._current: dict | None = None

    def _peek(self) -> dict:
        return _snapshot(vars(self._module).get("database_value"))

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        with self._meta:
            self.waiters += 1
        try:
            got = self._lock.acquire(blocking, timeout)
        finally:
            with self._meta:
                self.waiters -= 1
        if got:
            self.owner = _get_ident()
            self.count += 1
            self._current = {"n": self.count, "thread": self.owner, "start": _perf(),
                             "before": self._peek()}
        return got

    def release(self) -> None:
        hold = self._current
        if hold is not None and self._lock.locked():
            hold["seconds"] = _perf() - hold.pop("start")
            hold["after"] = self._peek()
            hold["by_owner"] = _get_ident() == hold["thread"]
            self.holds.append(hold)
            self._current = None
            self.owner = None
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<the lock given by the grader, {'locked' if self.locked() else 'unlocked'}>"


class _TimeShim:
    """Stands in for the time module inside the submission: records each
    sleep (and whether the spy lock was held) and can make it raise."""

    def __getattr__(self, name):
        return getattr(_time_module, name)

    @staticmethod
    def sleep(seconds):
        spy = _watch.spy
        held = spy is not None and spy.owner == _get_ident()
        with _watch.lock:
            _watch.sleeps.append({"seconds": seconds if isinstance(seconds, (int, float))
                                  else None, "held": held})
            inject = _watch.inject
            if inject:
                _watch.injected += 1
        if inject:
            raise Injected("the grader made this time.sleep raise")
        _sleep(seconds * _watch.scale if isinstance(seconds, (int, float)) else seconds)


def _shim_time(module) -> None:
    shim = _TimeShim()
    for name, value in list(vars(module).items()):
        if value is _time_module:
            setattr(module, name, shim)
        elif value is _sleep:
            setattr(module, name, shim.sleep)


def _holds_report(spy: SpyLock) -> list[dict]:
    return [{k: h[k] for k in ("n", "seconds", "before", "after", "by_owner")}
            for h in spy.holds[:50]]


def increase_once(module, inject: bool = False) -> dict:
    """One call of increase(spy lock) with database_value = Tracked(0); with
    ``inject`` the + 1 (or the sleep) raises inside the body."""
    module.database_value = Tracked(0)
    spy = SpyLock(module)
    _watch.spy = spy
    _watch.module = module
    _watch.inject = inject
    _shim_time(module)
    raised = None

    def call():
        nonlocal raised
        try:
            module.increase(spy)
        except Injected as exc:
            raised = {"type": "Injected", "message": str(exc), "where": None, "ours": True}
        except Exception as exc:  # noqa: BLE001 - the observation
            if inject:
                raised = {**_error(exc, module), "ours": False}
            else:
                raise

    ok, hung = guarded(module, call)
    if not ok:
        return hung
    final = vars(module).get("database_value")
    with _watch.lock:
        adds = [{k: a[k] for k in ("held", "hold", "operand")} for a in _watch.adds[:20]]
        sleeps = list(_watch.sleeps[:20])
    return {"final": _snapshot(final), "holds": _holds_report(spy), "adds": adds,
            "sleeps": sleeps, "acquired": spy.count, "still_locked": spy.locked(),
            "injected": _watch.injected, "raised": raised}


def increase_contention(module, num_threads: int) -> dict:
    """``num_threads`` threads, released together, each call increase(spy)
    once; the first reader waits at the gate for proof of a race or of none."""
    module.database_value = Tracked(0)
    spy = SpyLock(module)
    _watch.spy = spy
    _watch.module = module
    _watch.gate = gate = Gate(num_threads - 1, lambda: spy.waiters)
    _watch.scale = 1 / 3  # the gate, not the latency, makes the race show
    _shim_time(module)
    errors = _Errors(module)
    start = SoftBarrier(num_threads)

    def body():
        start.wait()
        try:
            module.increase(spy)
        except Exception as exc:  # noqa: BLE001 - reported
            errors.add(exc)

    threads = [_Thread(target=body, name=f"grader-{i}", daemon=True) for i in range(num_threads)]

    def run():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    ok, hung = guarded(module, run)
    if not ok:
        return hung
    return {"final": _snapshot(vars(module).get("database_value")), "race": gate.race,
            "gate_timed_out": gate.timed_out, "acquired": spy.count,
            "still_locked": spy.locked(), "errors": errors.report(),
            "reads": len(_watch.adds), "stale": sum(a["stale"] for a in _watch.adds)}


# -- q3: run_increase with the grader's own increase ------------------------
def run_increase(module, num_threads: int | None, start_value: int = 0) -> dict:
    """Replace the submission's increase by a correct, recording one, then
    call run_increase(num_threads) (or run_increase() when None)."""
    record: list[dict] = []
    meta = _Lock()
    waiting = [0]
    caller = _current_thread()
    expected = 2 if num_threads is None else num_threads
    gate = Gate(expected - 1, lambda: waiting[0], timeout=0.3)

    def increase(lock):
        entry = {"thread": _current_thread(), "lock": lock}
        with meta:
            record.append(entry)
        if not (callable(getattr(lock, "acquire", None))
                and callable(getattr(lock, "release", None))):
            value = module.database_value
            _sleep(SPY_LATENCY)
            module.database_value = value + 1
            return
        with meta:
            waiting[0] += 1
        try:
            lock.acquire()
        finally:
            with meta:
                waiting[0] -= 1
        try:
            value = module.database_value
            gate.arrive()
            _sleep(SPY_LATENCY)
            module.database_value = value + 1
        finally:
            lock.release()

    module.database_value = start_value
    module.increase = increase
    errors = _Errors(module).install()
    args = () if num_threads is None else (num_threads,)
    ok, value = guarded(module, lambda: module.run_increase(*args))
    if not ok:
        return value
    with meta:
        calls = list(record)
    threads = {id(c["thread"]): c["thread"] for c in calls}
    locks = {id(c["lock"]): c["lock"] for c in calls}
    return {"returned": jsonable(value), "returned_type": type(value).__name__,
            "database_value": jsonable(vars(module).get("database_value")),
            "calls": len(calls), "threads": len(threads),
            "in_caller": sum(c["thread"] is caller for c in calls),
            "alive_at_return": sum(t.is_alive() for t in threads.values()),
            "locks": len(locks), "lock_types": sorted({type(lk).__name__ for lk in locks.values()}),
            "race": gate.race, "errors": errors.report()}


# -- q1: run_threads -------------------------------------------------------
def run_threads(module, num_threads: int | None, barrier: bool, hold: float) -> dict:
    """run_threads(target, num_threads) with a recording target; with
    ``barrier`` each call waits for the others (only concurrent threads pass)."""
    caller = _current_thread()
    ran: list = []
    meta = _Lock()
    parties = 10 if num_threads is None else num_threads
    bar = SoftBarrier(parties) if barrier else None
    errors = _Errors(module).install()

    def target():
        with meta:
            first = not ran
            ran.append(_current_thread())
        if bar is not None:
            bar.wait()
        if hold:
            _sleep(2 * hold if first else hold)  # the first thread started ends last

    args = (target,) if num_threads is None else (target, num_threads)
    ok, value = guarded(module, lambda: module.run_threads(*args))
    if not ok:
        return value
    with meta:
        ran_at_return = list(ran)
    alive_at_return = sum(t.is_alive() for t in ran_at_return)
    deadline = _monotonic() + BARRIER_WAIT + 1
    for thread in ran_at_return:
        if thread is not caller:  # the calling thread cannot wait for itself
            thread.join(max(0.0, deadline - _monotonic()))
    with meta:
        ran_all = list(ran)
    is_list = type(value) is list
    items = list(value) if isinstance(value, (list, tuple)) else []
    ran_ids = {id(t) for t in ran_all}
    return {
        "returned_type": type(value).__name__, "is_list": is_list,
        "returned_len": len(items) if isinstance(value, (list, tuple)) else None,
        "returned_threads": sum(isinstance(t, _Thread) for t in items),
        "returned_distinct": len({id(t) for t in items}),
        "returned_that_ran": sum(id(t) in ran_ids for t in items),
        "calls": len(ran_all), "threads": len(ran_ids),
        "in_caller": sum(t is caller for t in ran_all),
        "alive_at_return": alive_at_return,
        "barrier_passed": bar.passed if bar else None,
        "barrier_missed": bar.missed if bar else None,
        "errors": errors.report(),
    }


# -- q4: ThreadSafeCounter -------------------------------------------------
_yields = _count()


class Amount(int):
    """An amount handed to increment: adding it (or converting it with int())
    lets the other threads run, right in the middle of the read-modify-write."""

    @staticmethod
    def _yield() -> None:
        _sleep(0.001 if next(_yields) % 8 == 0 else 0)

    def _add(self, op, other):
        result = op(self, other)
        if result is NotImplemented:
            return result
        self._yield()
        return result

    def __add__(self, other):
        return self._add(_int_add, other)

    def __radd__(self, other):
        return self._add(_int_radd, other)

    def __int__(self):
        self._yield()
        return _int_add(self, 0)

    __index__ = __int__

    def __float__(self):
        self._yield()
        return float(_int_add(self, 0))


def _number(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return _int_add(value, 0)
    return jsonable(value)


def counter_contention(module, amounts: list[int], per_thread: int) -> dict:
    """One counter; one thread per amount, released together, each calling
    increment(Amount(amount)) ``per_thread`` times."""
    counter = module.ThreadSafeCounter()
    start = SoftBarrier(len(amounts))
    errors = _Errors(module)

    def body(amount):
        start.wait()
        step = Amount(amount)
        try:
            for _ in range(per_thread):
                counter.increment(step)
        except Exception as exc:  # noqa: BLE001 - reported
            errors.add(exc)

    threads = [_Thread(target=body, args=(a,), daemon=True) for a in amounts]

    def run():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return counter.value

    ok, value = guarded(module, run)
    if not ok:
        return value
    return {"value": _number(value), "type": type(value).__name__, "errors": errors.report()}


def counter_basics(module) -> dict:
    """Single-threaded: the initial value, increment() and increment(5),
    a second counter, and an attempt to set value."""

    def run():
        seen = {}
        first = module.ThreadSafeCounter()
        seen["initial"] = _number(first.value)
        first.increment()
        seen["after_one"] = _number(first.value)
        first.increment(5)
        seen["after_six"] = _number(first.value)
        second = module.ThreadSafeCounter()
        second.increment(2)
        seen["second"] = _number(second.value)
        seen["first_again"] = _number(first.value)
        try:
            first.value = 100
            seen["set_raised"] = None
        except Exception as exc:  # noqa: BLE001 - the observation
            seen["set_raised"] = type(exc).__name__
        seen["after_set"] = _number(first.value)
        seen["value_type"] = type(first.value).__name__
        return seen

    ok, seen = guarded(module, run)
    return seen


# -- q5: start_heartbeat ---------------------------------------------------
class BeatLog(list):
    """The beats list handed to start_heartbeat: it remembers which threads wrote to it."""

    def __init__(self) -> None:
        super().__init__()
        self.writers: set[int] = set()

    def append(self, item) -> None:
        self.writers.add(_get_ident())
        super().append(item)

    def extend(self, items) -> None:
        self.writers.add(_get_ident())
        super().extend(items)

    def insert(self, index, item) -> None:
        self.writers.add(_get_ident())
        super().insert(index, item)

    def __iadd__(self, items):
        self.writers.add(_get_ident())
        return super().__iadd__(items)


def heartbeat(module, interval: float, watch: float, enough: int | None = None) -> dict:
    """start_heartbeat(interval, beats), then watch the beats for ``watch``
    seconds (or until ``enough`` beats)."""
    beats = BeatLog()
    started = _monotonic()
    ok, thread = guarded(module, lambda: module.start_heartbeat(interval, beats))
    if not ok:
        return thread
    returned = _monotonic()
    is_thread = isinstance(thread, _Thread)
    alive_at_return = is_thread and thread.is_alive()
    deadline = started + watch
    while _monotonic() < deadline and (enough is None or len(beats) < enough):
        _sleep(0.002)
    ended = _monotonic()
    values = list(beats)
    writers = set(beats.writers)
    return {
        "type": type(thread).__name__, "is_thread": is_thread,
        "daemon": bool(getattr(thread, "daemon", False)) if is_thread else None,
        "alive_at_return": alive_at_return, "alive_at_end": is_thread and thread.is_alive(),
        "started": started, "returned": returned, "ended": ended,
        "beats": [v if type(v) is float else jsonable(v) for v in values[:200]],
        "count": len(values),
        "writer_is_returned": (writers == {thread.ident}) if is_thread and writers else None,
        "writers": len(writers),
    }


_CHILD = r"""
import importlib.util, json, os, sys, threading, time
root, path, name, interval = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
sys.path[:0] = [root, os.path.dirname(path)]
report = {"loaded": False, "started": False}
try:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    report["loaded"] = True
    beats = []
    thread = module.start_heartbeat(interval, beats)
    report["started"] = True
    deadline = time.monotonic() + 1.0
    while len(beats) < 2 and time.monotonic() < deadline:
        time.sleep(0.002)
    report["beats"] = len(beats)
    report["daemon"] = getattr(thread, "daemon", None)
    report["non_daemon"] = sum(1 for t in threading.enumerate()
                               if t is not threading.main_thread() and not t.daemon)
except BaseException as exc:
    report["error"] = (type(exc).__name__ + ": " + str(exc))[:300]
sys.stdout.write("\n@@advpy-main-ends@@ " + json.dumps(report) + "\n")
sys.stdout.flush()
"""
_MARK = b"@@advpy-main-ends@@ "


def _package_root() -> str:
    return _dirname(_dirname(_dirname(_abspath(__file__))))


def heartbeat_exit(module, interval: float, grace: float, start_within: float = 6.0) -> dict:
    """A fresh interpreter imports the submission, starts a heartbeat, and
    lets its main thread end: does the program exit within ``grace`` s?"""
    argv = [_executable, "-I", "-c", _CHILD, _package_root(), module.__file__,
            module.__name__, repr(interval)]
    began = _monotonic()
    child = Popen(argv, stdin=DEVNULL, stdout=PIPE, stderr=DEVNULL, close_fds=True)
    fd = child.stdout.fileno()
    buffer = b""
    report = None
    main_ended = None
    eof = False
    try:
        deadline = began + start_within
        while report is None and not eof:
            left = deadline - _monotonic()
            if left <= 0:
                break
            ready, _, _ = _select([fd], [], [], left)
            if not ready:
                continue
            chunk = _os_read(fd, 65536)
            if not chunk:
                eof = True
            buffer = (buffer + chunk)[-65536:]
            at = buffer.find(_MARK)
            if at >= 0 and b"\n" in buffer[at:]:
                main_ended = _monotonic()
                line = buffer[at + len(_MARK):].split(b"\n", 1)[0]
                try:
                    report = _json_loads(line)
                except ValueError:
                    report = {"error": "the child's report could not be read"}
        if report is None:
            return {"reported": False, "exited": child.poll() is not None,
                    "code": child.poll(), "seconds": _monotonic() - began}
        # Keep draining what it prints so that a full pipe cannot hold it up.
        deadline = main_ended + grace
        while not eof:
            left = deadline - _monotonic()
            if left <= 0:
                break
            ready, _, _ = _select([fd], [], [], left)
            if ready and not _os_read(fd, 65536):
                eof = True
        try:
            code = child.wait(max(0.0, deadline - _monotonic()))
            exited = True
        except TimeoutExpired:
            code, exited = None, False
        return {"reported": True, "report": report, "exited": exited, "code": code,
                "seconds": _monotonic() - main_ended}
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()


# -- q6: process_queue -----------------------------------------------------
def process_queue(module, cases: list[dict]) -> list[dict]:
    """Each case: process_queue(items, worker[, num_workers]) with a recording
    worker that sleeps ``delays[item]`` and, with ``barrier``, waits for
    ``barrier`` calls to run at once. Reports results, calls, threads, and the
    threads left running."""
    reports = []
    errors = _Errors(module).install()
    for case in cases:
        items = list(case["items"])
        delays = {int(k): v for k, v in case.get("delays", {}).items()}
        bar = SoftBarrier(case["barrier"]) if case.get("barrier") else None
        meta = _Lock()
        calls: list = []
        threads: set = set()
        active = [0, 0]  # now, peak

        def worker(item, delays=delays, bar=bar, meta=meta, calls=calls, threads=threads,
                   active=active):
            with meta:
                calls.append(item)
                threads.add(_current_thread())
                active[0] += 1
                active[1] = max(active[1], active[0])
            try:
                if bar is not None:
                    bar.wait()
                if delays.get(item):
                    _sleep(delays[item])
            finally:
                with meta:
                    active[0] -= 1
            return f"w({item!r})"

        caller = _current_thread()
        before = set(_enumerate())
        args = (items, worker) if case.get("workers") is None else (items, worker,
                                                                     case["workers"])
        ok, value = guarded(module, lambda args=args: module.process_queue(*args))
        if not ok:
            reports.append(value)
            break
        left = _left_running(before, module)
        with meta:
            report = {"calls": jsonable(list(calls)), "threads": len(threads),
                      "caller_worked": caller in threads, "peak": active[1]}
        report.update({
            "results": jsonable(value), "type": type(value).__name__, "left_running": left,
            "barrier_passed": bar.passed if bar else None,
            "barrier_missed": bar.missed if bar else None, "errors": errors.report(),
        })
        reports.append(report)
    return reports


# -- for the judge: wording feedback from observations --------------------
def threads_text(groups: list[dict]) -> str:
    """'the main thread at line 12 (`t.join()`) in run_threads; 3 threads at …'"""
    parts = []
    for group in groups:
        count = group.get("count", 1)
        who = ("the main thread" if group.get("main")
               else "a thread" if count == 1 else f"{count} threads")
        if group.get("where"):
            place = f"at {group['where']}"
            if group.get("code"):
                place += f" (`{group['code']}`)"
            if group.get("function"):
                place += f" in {group['function']}"
        elif group.get("grader"):
            place = "in the grader's code, waiting for your threads"
        else:
            place = f"outside your code ({group.get('function') or 'unknown'})"
        parts.append(f"{who} {place}")
    return "; ".join(parts)


def hang_text(seen: dict, what: str, hint: str) -> str:
    where = threads_text(seen.get("threads", []))
    return (f"{what} had not returned after {seen.get('after', HANG_AFTER):g} s: the threads "
            f"were still alive. Where they were: {where or 'unknown'}. {hint}").strip()


def errors_text(errors: list[dict]) -> str:
    if not errors:
        return ""
    first = errors[0]
    where = f" ({first['where']})" if first.get("where") else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f" A thread raised {first['type']}: {first['message']}{where}{more}."


def counts(items: list) -> dict:
    """A multiset of JSON items, for comparing calls with items."""
    return dict(Counter(_json_dumps(i, sort_keys=True) for i in items))
