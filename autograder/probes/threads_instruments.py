"""The instruments of the threads probes: every object the student's code is
handed, or can find (our threads, through ``threading.enumerate()``).

Student code can reach this module's globals through any of these objects
(``type(lock).acquire.__globals__``), so it holds nothing else: no frames, no
hang reports, no building of the observation that is sent to the grader
(``threads_hangs`` and ``threads`` do that, and nothing here refers to them).
What an instrument records is a raw observation; the probe reads it after the
student's code has returned.

- ``SpyLock``, the lock handed to ``increase``: a real Lock that records who
  held it, how long, and what ``database_value`` was when it was taken and
  released;
- ``Tracked``, the value the grader puts in ``database_value``: an int that
  reports the ``+ 1`` done on it (which is after the read, before the
  write), so that the probe knows whether the lock was held then, and can
  hold the first reader there until the other threads have either read too
  (a race, proven) or are all waiting for the lock (no race possible);
- ``Amount``, the amount handed to ``ThreadSafeCounter.increment``: adding
  it yields to the other threads, in the middle of the read-modify-write;
- ``BeatLog``, the list handed to ``start_heartbeat``;
- ``Target``, ``Worker`` and ``GraderIncrease``, the functions handed to
  ``run_threads``, ``process_queue`` and ``run_increase``;
- ``SoftBarrier`` and ``Gate``, which only concurrent threads pass.
"""

from __future__ import annotations

import builtins
import threading
import time
from itertools import count as _count

from autograder.probes.common import short

# Our own copy of the builtins, taken before any student code runs: a
# submission that patches builtins (len, isinstance, ...) does not reach us.
__builtins__ = dict(vars(builtins))

# Taken at import, in the supervisor, before any student code runs: a
# submission that patches these names does not change what the probes use.
_Lock = threading.Lock
_Condition = threading.Condition
_get_ident = threading.get_ident
_current_thread = threading.current_thread
_monotonic = time.monotonic
_perf = time.perf_counter
_sleep = time.sleep
_time_module = time
_int_add = int.__add__
_int_radd = int.__radd__
_int_sub = int.__sub__

BARRIER_WAIT = 2.0  # how long a thread waits for the others at a barrier
GATE_WAIT = 0.5  # how long the first reader waits for a second one
SPY_LATENCY = 0.003  # the grader's own increase (q3) waits this long


# -- exceptions of threads ---------------------------------------------------
class ErrorLog:
    """Exceptions that ended threads: ours (our thread bodies) and theirs
    (through threading.excepthook). The probe describes them afterwards."""

    def __init__(self) -> None:
        self._lock = _Lock()
        self._caught: list[BaseException] = []

    def add(self, exc: BaseException) -> None:
        with self._lock:
            if len(self._caught) < 20:
                self._caught.append(exc)

    def hook(self, args) -> None:
        if args.exc_value is not None:
            self.add(args.exc_value)

    def install(self) -> ErrorLog:
        threading.excepthook = self.hook
        return self

    def caught(self) -> list[BaseException]:
        with self._lock:
            return list(self._caught)


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


# -- our own threads ---------------------------------------------------------
class Contender:
    """The body of one of our threads: wait at ``start`` for the others, then
    call ``function(*args)`` ``times`` times; what it raises goes to ``errors``."""

    def __init__(self, start: SoftBarrier, errors: ErrorLog, function, args: tuple,
                 times: int = 1) -> None:
        self.start = start
        self.errors = errors
        self.function = function
        self.args = args
        self.times = times

    def __call__(self) -> None:
        self.start.wait()
        try:
            for _ in range(self.times):
                self.function(*self.args)
        except Exception as exc:  # noqa: BLE001 - reported
            self.errors.add(exc)


# -- q1: the target handed to run_threads ------------------------------------
class Target:
    """Records each call and the thread it ran in; with a barrier, waits for
    the other calls (only concurrent threads pass); then sleeps ``hold`` (the
    first call twice as long, so that the first thread started ends last)."""

    def __init__(self, barrier: SoftBarrier | None, hold: float) -> None:
        self.__name__ = self.__qualname__ = "target"
        self._lock = _Lock()
        self._ran: list = []
        self.barrier = barrier
        self.hold = hold

    def __call__(self) -> None:
        with self._lock:
            first = not self._ran
            self._ran.append(_current_thread())
        if self.barrier is not None:
            self.barrier.wait()
        if self.hold:
            _sleep(2 * self.hold if first else self.hold)

    def calls(self) -> list:
        """The threads of the calls so far, one per call."""
        with self._lock:
            return list(self._ran)


# -- q2: the instrumented value, lock and time module --------------------------
class Watch:
    """What Tracked, SpyLock and TimeShim report to, during one probe call."""

    def __init__(self, module, inject: bool = False, scale: float = 1.0) -> None:
        self.lock = _Lock()
        self.spy: SpyLock | None = None
        self.module = module
        self.gate: Gate | None = None
        self.adds: list[dict] = []
        self.sleeps: list[dict] = []
        self.inject = inject
        self.injected = 0
        self.scale = scale  # the time.sleep of the submission sleeps this share of its time
        self.serials = _count(1)

    def held(self) -> bool:
        spy = self.spy
        return spy is not None and spy.owner == _get_ident()


class Injected(Exception):  # noqa: N818 - the name the student sees in a traceback
    """Raised by the grader inside the body of increase, to see whether the lock is released."""


class Tracked(int):
    """The int the grader puts in database_value: it reports each + 1 done on
    it (and each int() of it), which comes after the read and before the write."""

    def __new__(cls, value: int, watch: Watch, serial: int = 0) -> Tracked:
        obj = int.__new__(cls, value)
        obj.serial = serial
        obj.watch = watch
        return obj

    def _observe(self) -> None:
        watch = self.watch
        spy = watch.spy
        held = watch.held()
        # Read before the lock was taken: another thread has written since.
        stale = held and vars(watch.module).get("database_value") is not self
        with watch.lock:
            watch.adds.append({"held": held, "hold": spy.count if held else None,
                               "operand": self.serial, "stale": stale, "at": _perf()})
            inject = watch.inject
            if inject:
                watch.injected += 1
        if inject:
            raise Injected("the grader made this step of increase raise")
        if watch.gate is not None:
            watch.gate.arrive()

    def _arith(self, op, other):
        result = op(self, other)
        if result is NotImplemented:
            return result
        self._observe()
        return Tracked(result, self.watch, next(self.watch.serials))

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


def snapshot(value: object) -> dict:
    """database_value as plain data: an int (and its serial if Tracked), else a repr."""
    if isinstance(value, int):
        serial = getattr(value, "serial", None)
        return {"value": _int_add(value, 0),
                "serial": serial if type(serial) is int else None}
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
        return snapshot(vars(self._module).get("database_value"))

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


class TimeShim:
    """Stands in for the time module inside the submission: records each
    sleep (and whether the spy lock was held) and can make it raise."""

    def __init__(self, watch: Watch) -> None:
        self._watch = watch

    def __getattr__(self, name):
        return getattr(_time_module, name)

    def sleep(self, seconds):
        watch = self._watch
        held = watch.held()
        number = type(seconds) in (int, float)
        with watch.lock:
            watch.sleeps.append({"seconds": float(seconds) if number else None, "held": held})
            inject = watch.inject
            if inject:
                watch.injected += 1
        if inject:
            raise Injected("the grader made this time.sleep raise")
        _sleep(seconds * watch.scale if number else seconds)


# -- q3: the grader's own increase -------------------------------------------
class GraderIncrease:
    """A correct increase(lock) that stands in for the student's in
    run_increase, and records the thread and the lock of each call."""

    def __init__(self, module, expected: int) -> None:
        self.__name__ = self.__qualname__ = "increase"
        self._module = module
        self._meta = _Lock()
        self._waiting = 0
        self._calls: list[tuple] = []
        self.gate = Gate(expected - 1, lambda: self._waiting, timeout=0.3)

    def __call__(self, lock) -> None:
        module = self._module
        with self._meta:
            self._calls.append((_current_thread(), lock))
        if not (callable(getattr(lock, "acquire", None))
                and callable(getattr(lock, "release", None))):
            value = module.database_value
            _sleep(SPY_LATENCY)
            module.database_value = value + 1
            return
        with self._meta:
            self._waiting += 1
        try:
            lock.acquire()
        finally:
            with self._meta:
                self._waiting -= 1
        try:
            value = module.database_value
            self.gate.arrive()
            _sleep(SPY_LATENCY)
            module.database_value = value + 1
        finally:
            lock.release()

    def calls(self) -> list[tuple]:
        """(thread, lock) of each call so far."""
        with self._meta:
            return list(self._calls)


# -- q4: the amount handed to increment ----------------------------------------
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


# -- q5: the beats list --------------------------------------------------------
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


# -- q6: the worker handed to process_queue --------------------------------------
class Worker:
    """Records each call (its item and thread) and how many ran at once;
    sleeps ``delays[item]``; with a barrier, waits for the other calls."""

    def __init__(self, delays: dict, barrier: SoftBarrier | None) -> None:
        self.__name__ = self.__qualname__ = "worker"
        self.delays = delays
        self.barrier = barrier
        self._meta = _Lock()
        self._calls: list = []
        self._threads: set = set()
        self._active = 0
        self._peak = 0

    def __call__(self, item):
        with self._meta:
            self._calls.append(item)
            self._threads.add(_current_thread())
            self._active += 1
            self._peak = max(self._peak, self._active)
        try:
            if self.barrier is not None:
                self.barrier.wait()
            if self.delays.get(item):
                _sleep(self.delays[item])
        finally:
            with self._meta:
                self._active -= 1
        return f"w({item!r})"

    def seen(self) -> tuple[list, set, int]:
        """The items of the calls, the threads they ran in, the most at once."""
        with self._meta:
            return list(self._calls), set(self._threads), self._peak
