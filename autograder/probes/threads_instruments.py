"""The instruments of the threads probes: every object the student's code is
handed, or can find (our threads, through ``threading.enumerate()``).

Student code can reach whatever these objects refer to: their attributes,
``vars()``, a function's ``__closure__`` and ``__globals__`` (reading them is
not audited). So an instrument keeps what it records where none of those
lead: in the keyword-only defaults of functions made for one probe call
(``__kwdefaults__``, whose reading the audit hook can deny), and it binds
everything it calls there too, so that rewriting this module's globals (or
its builtins) changes nothing. The probe keeps its own references to the
functions that report (``report``, ``calls``, ...): replacing an instrument's
parts can only lose records, which fails the test, never add any. Threads
are counted by ``_thread.get_ident()``, a C function, not by Thread objects
(whose methods a submission may patch).

This module holds nothing else of ours: no frames, no hang reports, no
building of observations (``threads_hangs`` and ``threads`` do that).

- ``spy_lock``, the lock handed to ``increase``: a real Lock that records who
  held it, how long, and what ``database_value`` was when it was taken and
  released;
- ``Tracked``, the value the grader puts in ``database_value``: an int that
  reports the ``+ 1`` done on it (which is after the read, before the
  write), so that the probe knows whether the lock was held then, and can
  hold the first reader there until the other threads have either read too
  (a race, proven) or are all waiting for the lock (no race possible);
- ``Amount``, the amount handed to ``ThreadSafeCounter.increment``: adding
  it yields to the other threads, in the middle of the read-modify-write;
- ``beat_log``, the list handed to ``start_heartbeat``;
- ``target``, ``worker`` and ``grader_increase``, the functions handed to
  ``run_threads``, ``process_queue`` and ``run_increase``;
- ``barrier`` and ``gate``, which only concurrent threads pass.
"""

from __future__ import annotations

import _thread
import builtins
import threading
import time
from itertools import count as _count

from autograder.probes.common import short

# Our own copy of the builtins, taken before any student code runs: a
# submission that patches builtins (len, isinstance, ...) does not reach us.
__builtins__ = dict(vars(builtins))

# Taken at import, in the supervisor, before any student code runs, and bound
# again as defaults below: nothing a submission rebinds reaches them.
_Lock = _thread.allocate_lock
_Condition = threading.Condition
_get_ident = _thread.get_ident
_get_native_id = _thread.get_native_id
_monotonic = time.monotonic
_perf = time.perf_counter
_sleep = time.sleep
_time_module = time
_int_add = int.__add__
_int_radd = int.__radd__
_int_sub = int.__sub__
_int_new = int.__new__
_float = float
_type = type
_isinstance = isinstance
_list = list
_dict = dict
_getattr = getattr
_vars = vars
_short = short

BARRIER_WAIT = 2.0  # how long a thread waits for the others at a barrier
GATE_WAIT = 0.5  # how long the first reader waits for a second one
SPY_LATENCY = 0.003  # the grader's own increase (q3) waits this long


def _me(*, _ident=_get_ident, _native=_get_native_id) -> tuple[int, int]:
    """This thread: (Python's ident, the kernel's thread id)."""
    return _ident(), _native()


# -- hangs and exceptions of threads -------------------------------------------
class Hung(BaseException):
    """Raised in the main thread by the alarm when a call takes too long."""


def alarm(where, *, Hung=Hung) -> tuple:
    """(handler, threads): the SIGALRM handler of a guarded call (a submission
    can get it back with signal.getsignal), which notes ``where()`` the
    threads are and interrupts the call; ``threads()`` gives that note."""
    state: dict = {}

    def handler(signum, frame, *, _state=state, _where=where, _hung=Hung) -> None:
        _state["threads"] = _where()
        raise _hung

    def threads(*, _state=state) -> list:
        return _state.get("threads", [])

    return handler, threads



def error_log(*, _Lock=_Lock, _getattr=_getattr, _list=_list, len=len) -> tuple:
    """(hook, add, caught): ``hook`` for threading.excepthook, ``add(exc)`` for
    our own thread bodies, ``caught()`` for the probe."""
    caught: list = []
    lock = _Lock()

    def add(exc, *, _caught=caught, _lock=lock, _len=len) -> None:
        with _lock:
            if _len(_caught) < 20:
                _caught.append(exc)

    def hook(args, *, _add=add, _getattr=_getattr) -> None:
        exc = _getattr(args, "exc_value", None)
        if exc is not None:
            _add(exc)

    def seen(*, _caught=caught, _lock=lock, _list=_list) -> list:
        with _lock:
            return _list(_caught)

    return hook, add, seen


# -- barriers and gates ---------------------------------------------------
def barrier(parties: int, timeout: float = BARRIER_WAIT, *, _Condition=_Condition,
            _Lock=_Lock, _monotonic=_monotonic) -> tuple:
    """A reusable barrier that never raises: (wait, report). ``wait()`` says
    whether ``parties`` threads were there at once; after one timeout it gives
    up, so that a serial program pays the wait only once. ``report()`` gives
    {"passed": threads that met the others, "missed": waits in vain}."""
    state = {"arrived": 0, "generation": 0, "passed": 0, "missed": 0, "gave_up": False}
    condition = _Condition(_Lock())

    def wait(*, _state=state, _cond=condition, _parties=parties, _timeout=timeout,
             _now=_monotonic) -> bool:
        with _cond:
            if _state["gave_up"]:
                _state["missed"] += 1
                return False
            generation = _state["generation"]
            _state["arrived"] += 1
            if _state["arrived"] >= _parties:
                _state["generation"] += 1
                _state["arrived"] = 0
                _state["passed"] += _parties
                _cond.notify_all()
                return True
            deadline = _now() + _timeout
            while _state["generation"] == generation:
                left = deadline - _now()
                if left <= 0:
                    _state["gave_up"] = True
                    _state["missed"] += 1
                    _cond.notify_all()
                    return False
                _cond.wait(left)
            return True

    def report(*, _state=state, _cond=condition) -> dict:
        with _cond:
            return {"passed": _state["passed"], "missed": _state["missed"]}

    return wait, report


def gate(others: int, waiting, timeout: float = GATE_WAIT, *, _Condition=_Condition,
         _Lock=_Lock, _get_ident=_get_ident, _monotonic=_monotonic, min=min) -> tuple:
    """(arrive, report): holds the first thread that reached the middle of its
    read-modify-write until a second thread reaches it too (a race, proven),
    or until ``waiting()`` threads (every other one) wait for the lock (no
    race is possible), or a timeout. ``report()``: {"race", "timed_out"}."""
    state = {"first": None, "open": others <= 0, "race": False, "timed_out": False}
    condition = _Condition(_Lock())

    def arrive(*, _state=state, _cond=condition, _others=others, _waiting=waiting,
               _timeout=timeout, _now=_monotonic, _ident=_get_ident, _min=min) -> None:
        me = _ident()
        with _cond:
            if _state["open"]:
                return
            if _state["first"] is None:
                _state["first"] = me
                deadline = _now() + _timeout
                while not _state["open"]:
                    if _waiting() >= _others:
                        _state["open"] = True
                        break
                    left = deadline - _now()
                    if left <= 0:
                        _state["open"] = _state["timed_out"] = True
                        break
                    _cond.wait(_min(left, 0.002))
            elif me != _state["first"]:
                _state["race"] = _state["open"] = True
                _cond.notify_all()

    def report(*, _state=state, _cond=condition) -> dict:
        with _cond:
            return {"race": _state["race"], "timed_out": _state["timed_out"]}

    return arrive, report


# -- the threads of calls ------------------------------------------------------
def call_log(*, _Lock=_Lock, _list=_list, _me=_me, len=len) -> tuple:
    """(note, done, calls): ``note(item)`` records a call in this thread and
    ``done()`` its end; ``calls()`` gives [(item, ident, native id), ...], the
    most calls in progress at once, and how many are in progress now."""
    calls: list = []
    active = [0, 0]  # now, most
    lock = _Lock()

    def note(item=None, *, _calls=calls, _active=active, _lock=lock, _me=_me,
             _len=len) -> int:
        ident, native = _me()
        with _lock:
            _calls.append((item, ident, native))
            _active[0] += 1
            if _active[0] > _active[1]:
                _active[1] = _active[0]
            return _len(_calls)

    def done(*, _active=active, _lock=lock) -> None:
        with _lock:
            _active[0] -= 1

    def seen(*, _calls=calls, _active=active, _lock=lock,
             _list=_list) -> tuple[list, int, int]:
        with _lock:
            return _list(_calls), _active[1], _active[0]

    return note, done, seen


# -- our own threads ---------------------------------------------------------
def contender(start, add_error, function, args: tuple, times: int = 1, *,
              Exception=Exception, range=range):
    """The body of one of our threads: wait at ``start`` for the others, then
    call ``function(*args)`` ``times`` times; what it raises goes to ``add_error``."""

    def body(*, _start=start, _add=add_error, _function=function, _args=args, _times=times,
             _range=range, _exception=Exception) -> None:
        _start()
        try:
            for _ in _range(_times):
                _function(*_args)
        except _exception as exc:
            _add(exc)

    return body


# -- q1: the target handed to run_threads ------------------------------------
def target(wait, hold: float, *, _sleep=_sleep, call_log=call_log) -> tuple:
    """(target, calls): ``target()`` records its call and thread; with a
    barrier's ``wait``, waits for the other calls (only concurrent threads
    pass); then sleeps ``hold`` (the first call twice as long, so that the
    first thread started ends last). ``calls()`` as ``call_log``."""
    note, done, seen = call_log()

    def target(*, _note=note, _done=done, _wait=wait, _hold=hold, _sleep=_sleep) -> None:
        first = _note() == 1
        try:
            if _wait is not None:
                _wait()
            if _hold:
                _sleep(2 * _hold if first else _hold)
        finally:
            _done()

    return target, seen


# -- q2: the instrumented value, lock and time module --------------------------
def watch(module, inject: bool = False, scale: float = 1.0, *, _Lock=_Lock,
          _count=_count) -> dict:
    """What the Tracked value, the spy lock and the time shim of one probe
    call report to. Only the probe and those instruments' hidden defaults
    hold it."""
    return {"lock": _Lock(), "module": module, "adds": [], "sleeps": [], "inject": inject,
            "injected": 0, "scale": scale, "serials": _count(1), "held": None,
            "arrive": None}


class Injected(Exception):  # noqa: N818 - the name the student sees in a traceback
    """Raised by the grader inside the body of increase, to see whether the lock is released."""


def tracked_hook(seen: dict, *, Injected=Injected, _getattr=_getattr, _perf=_perf,
                 _vars=_vars, next=next):
    """What a Tracked value calls on each + 1 (or int()) done on it."""

    def observe(value, *, _seen=seen, _vars=_vars, _perf=_perf, _injected=Injected,
                _getattr=_getattr, _next=next) -> int:
        """Record one + 1 (or int()); return the serial of the value it makes."""
        hold = _seen["held"]()
        # Read before the lock was taken: another thread has written since.
        stale = hold is not None and _vars(_seen["module"]).get("database_value") is not value
        with _seen["lock"]:
            _seen["adds"].append({"held": hold is not None, "hold": hold,
                                  "operand": _getattr(value, "serial", 0), "stale": stale,
                                  "at": _perf()})
            inject = _seen["inject"]
            if inject:
                _seen["injected"] += 1
        if inject:
            raise _injected("the grader made this step of increase raise")
        if _seen["arrive"] is not None:
            _seen["arrive"]()
        return _next(_seen["serials"])

    return observe


class Tracked(int):
    """The int the grader puts in database_value: it reports each + 1 done on
    it (and each int() of it), which comes after the read and before the write."""

    def __new__(cls, value: int, observe, serial: int = 0, *, _new=_int_new) -> Tracked:
        obj = _new(cls, value)
        obj.serial = serial
        obj._observe = observe
        return obj

    def _arith(self, op, other, *, _tracked=None, _ni=NotImplemented):
        result = op(self, other)
        if result is _ni:
            return result
        observe = self._observe
        return _tracked(result, observe, observe(self))

    def __add__(self, other, *, _op=_int_add):
        return self._arith(_op, other)

    def __radd__(self, other, *, _op=_int_radd):
        return self._arith(_op, other)

    def __sub__(self, other, *, _op=_int_sub):
        return self._arith(_op, other)

    def __int__(self, *, _add=_int_add):
        self._observe(self)
        return _add(self, 0)

    __index__ = __int__


# Bound now: the method above must not look Tracked up in our globals later.
Tracked._arith.__kwdefaults__["_tracked"] = Tracked


def snapshot(value: object, *, _isinstance=_isinstance, _int=int, _add=_int_add,
             _getattr=_getattr, _type=_type, _short=_short) -> dict:
    """database_value as plain data: an int (and its serial if Tracked), else a repr."""
    if _isinstance(value, _int):
        serial = _getattr(value, "serial", None)
        return {"value": _add(value, 0), "serial": serial if _type(serial) is _int else None}
    return {"value": _short(value), "serial": None}


class SpyLock:
    """The lock the grader hands to increase: a real, non-reentrant Lock
    that records every hold. Its parts (``spy_lock``) are hidden functions;
    replacing one only loses records."""

    __slots__ = ("_acquire", "_release", "_locked")

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._acquire(blocking, timeout)

    def release(self) -> None:
        self._release()

    def locked(self) -> bool:
        return self._locked()

    def __enter__(self) -> bool:
        return self._acquire(True, -1)

    def __exit__(self, *exc) -> None:
        self._release()

    def __repr__(self) -> str:
        return f"<the lock given by the grader, {'locked' if self._locked() else 'unlocked'}>"


def spy_lock(module, *, SpyLock=SpyLock, _Lock=_Lock, _get_ident=_get_ident, _list=_list,
             _perf=_perf, _vars=_vars, len=len, snapshot=snapshot) -> tuple:
    """(lock, spy): the SpyLock, and the probe's view of it: ``spy["held"]()``
    (the number of the current hold if this thread holds it, else None),
    ``spy["report"]()`` ({"count", "waiters", "holds", "locked"})."""
    real = _Lock()
    state = {"owner": None, "count": 0, "waiters": 0, "holds": [], "current": None}
    meta = _Lock()

    def peek(*, _module=module, _vars=_vars, _snapshot=snapshot) -> dict:
        return _snapshot(_vars(_module).get("database_value"))

    def acquire(blocking=True, timeout=-1, *, _real=real, _state=state, _meta=meta,
                _ident=_get_ident, _perf=_perf, _peek=peek) -> bool:
        with _meta:
            _state["waiters"] += 1
        try:
            got = _real.acquire(blocking, timeout)
        finally:
            with _meta:
                _state["waiters"] -= 1
        if got:
            _state["owner"] = _ident()
            _state["count"] += 1
            _state["current"] = {"n": _state["count"], "thread": _state["owner"],
                                 "start": _perf(), "before": _peek()}
        return got

    def release(*, _real=real, _state=state, _ident=_get_ident, _perf=_perf,
                _peek=peek, _len=len) -> None:
        hold = _state["current"]
        if hold is not None and _real.locked():
            hold["seconds"] = _perf() - hold.pop("start")
            hold["after"] = _peek()
            hold["by_owner"] = _ident() == hold["thread"]
            if _len(_state["holds"]) < 1000:
                _state["holds"].append(hold)
            _state["current"] = None
            _state["owner"] = None
        _real.release()

    def held(*, _state=state, _ident=_get_ident):
        return _state["count"] if _state["owner"] == _ident() else None

    def report(*, _state=state, _meta=meta, _real=real, _list=_list) -> dict:
        with _meta:
            return {"count": _state["count"], "waiters": _state["waiters"],
                    "holds": _list(_state["holds"]), "locked": _real.locked()}

    def waiters(*, _state=state) -> int:
        return _state["waiters"]

    lock = SpyLock()
    lock._acquire, lock._release, lock._locked = acquire, release, real.locked
    return lock, {"held": held, "report": report, "waiters": waiters}


class TimeShim:
    """Stands in for the time module inside the submission: records each
    sleep (and whether the spy lock was held) and can make it raise."""

    __slots__ = ("sleep",)

    def __getattr__(self, name, *, _time=_time_module, _getattr=_getattr):
        return _getattr(_time, name)


def time_shim(seen: dict, *, Injected=Injected, TimeShim=TimeShim, _float=_float,
              _sleep=_sleep, _type=_type, int=int) -> TimeShim:
    def sleep(seconds, *, _seen=seen, _type=_type, _int=int, _float=_float, _sleep=_sleep,
              _injected=Injected):
        held = _seen["held"]() is not None
        number = _type(seconds) in (_int, _float)
        with _seen["lock"]:
            _seen["sleeps"].append({"seconds": _float(seconds) if number else None,
                                    "held": held})
            inject = _seen["inject"]
            if inject:
                _seen["injected"] += 1
        if inject:
            raise _injected("the grader made this time.sleep raise")
        _sleep(seconds * _seen["scale"] if number else seconds)

    shim = TimeShim()
    shim.sleep = sleep
    return shim


# -- q3: the grader's own increase -------------------------------------------
def grader_increase(module, expected: int, *, SPY_LATENCY=SPY_LATENCY, _Lock=_Lock,
                    _getattr=_getattr, _list=_list, _me=_me, _sleep=_sleep, _type=_type,
                    callable=callable, gate=gate, id=id) -> tuple:
    """(increase, calls, gate report): a correct increase(lock) that stands in
    for the student's in run_increase, and records the thread and the lock
    of each call (``calls()``: [(lock type, id of lock, ident, native id)],
    and how many calls are in progress now)."""
    calls: list = []
    meta = _Lock()
    waiting = [0]
    active = [0]

    def count_waiting(*, _waiting=waiting) -> int:
        return _waiting[0]

    arrive, report = gate(expected - 1, count_waiting, timeout=0.3)

    def increase(lock, *, _body=None, _calls=calls, _meta=meta, _active=active, _me=_me,
                 _type=_type, _id=id) -> None:
        ident, native = _me()
        with _meta:
            _calls.append((_type(lock).__name__, _id(lock), ident, native))
            _active[0] += 1
        try:
            _body(lock)
        finally:
            with _meta:
                _active[0] -= 1

    def body(lock, *, _module=module, _meta=meta, _waiting=waiting, _arrive=arrive,
             _sleep=_sleep, _callable=callable, _getattr=_getattr,
             _latency=SPY_LATENCY) -> None:
        if not (_callable(_getattr(lock, "acquire", None))
                and _callable(_getattr(lock, "release", None))):
            value = _module.database_value
            _sleep(_latency)
            _module.database_value = value + 1
            return
        with _meta:
            _waiting[0] += 1
        try:
            lock.acquire()
        finally:
            with _meta:
                _waiting[0] -= 1
        try:
            value = _module.database_value
            _arrive()
            _sleep(_latency)
            _module.database_value = value + 1
        finally:
            lock.release()

    increase.__kwdefaults__["_body"] = body

    def seen(*, _calls=calls, _meta=meta, _active=active, _list=_list) -> tuple[list, int]:
        with _meta:
            return _list(_calls), _active[0]

    return increase, seen, report


# -- q4: the amount handed to increment ----------------------------------------
_yields = _count()


class Amount(int):
    """An amount handed to increment: adding it (or converting it with int())
    lets the other threads run, right in the middle of the read-modify-write."""

    @staticmethod
    def _yield(*, _next=_yields.__next__, _sleep=_sleep) -> None:
        _sleep(0.001 if _next() % 8 == 0 else 0)

    def _add(self, op, other, *, _ni=NotImplemented, _pause=None):
        result = op(self, other)
        if result is _ni:
            return result
        _pause()
        return result

    def __add__(self, other, *, _op=_int_add):
        return self._add(_op, other)

    def __radd__(self, other, *, _op=_int_radd):
        return self._add(_op, other)

    def __int__(self, *, _add=_int_add, _pause=None):
        _pause()
        return _add(self, 0)

    __index__ = __int__

    def __float__(self, *, _add=_int_add, _float=_float, _pause=None):
        _pause()
        return _float(_add(self, 0))


# Bound now, not looked up later: Amount's methods find nothing in our globals.
for _method in (Amount._add, Amount.__int__, Amount.__float__):
    _method.__kwdefaults__["_pause"] = Amount._yield
del _method


# -- q5: the beats list --------------------------------------------------------
class BeatLog(list):
    """The beats list handed to start_heartbeat: it remembers which threads
    wrote to it (through a hidden ``note``; replacing it loses the record)."""

    __slots__ = ("_note",)

    def append(self, item, *, _append=list.append) -> None:
        self._note()
        _append(self, item)

    def extend(self, items, *, _extend=list.extend) -> None:
        self._note()
        _extend(self, items)

    def insert(self, index, item, *, _insert=list.insert) -> None:
        self._note()
        _insert(self, index, item)

    def __iadd__(self, items, *, _iadd=list.__iadd__):
        self._note()
        return _iadd(self, items)


def beat_log(*, BeatLog=BeatLog, _get_ident=_get_ident, set=set) -> tuple:
    """(beats, writers): the list, and ``writers()``, the idents that wrote to it."""
    writers: set = set()

    def note(*, _writers=writers, _ident=_get_ident) -> None:
        _writers.add(_ident())

    def seen(*, _writers=writers, _set=set) -> set:
        return _set(_writers)

    beats = BeatLog()
    beats._note = note
    return beats, seen


# -- q6: the worker handed to process_queue --------------------------------------
def worker(delays: dict, wait, *, _sleep=_sleep, call_log=call_log, repr=repr) -> tuple:
    """(worker, calls): ``worker(item)`` records the call and its thread,
    sleeps ``delays[item]``, with a barrier's ``wait`` waits for the other
    calls, and returns "w(<item>)". ``calls()`` as ``call_log``."""
    note, done, seen = call_log()

    def worker(item, *, _note=note, _done=done, _delays=delays, _wait=wait, _sleep=_sleep,
               _repr=repr) -> str:
        _note(item)
        try:
            if _wait is not None:
                _wait()
            delay = _delays.get(item)
            if delay:
                _sleep(delay)
        finally:
            _done()
        return f"w({_repr(item)})"

    return worker, seen
