"""The instruments of the threads probes: every object the student's code is
handed, or can find (``threading.excepthook``, the SIGALRM handler).

Student code can reach whatever these objects refer to: their attributes,
``vars()``, a function's ``__closure__`` and ``__globals__`` (reading them is
not audited). So an instrument keeps what it records where none of those
lead: in the keyword-only defaults of functions made for one probe call
(``__kwdefaults__``, whose reading the audit hook can deny), and it binds
everything it calls there too, so that rewriting this module's globals (or
its builtins) changes nothing. This module's namespace (every instrument's
``__globals__``) holds no function of another module of ours: ``short`` is
bound in ``snapshot``'s defaults and deleted. The probe keeps its own
references to the functions that report (``report``, ``calls``, ...):
replacing an instrument's parts can only lose records, which fails the test,
never add any. Threads are counted by ``_thread.get_ident()``, a C function,
not by Thread objects (whose methods a submission may patch), and barriers
and gates wait on ``_thread`` locks, whose methods a submission cannot
rebind (``threading.Condition``'s are Python, looked up at each call).

This module holds nothing else of ours: no frames, no hang reports, no
building of observations (``threads_hangs`` and ``threads`` do that).

- ``spy_lock``, the lock handed to ``increase``: a real Lock that records who
  held it, how long, and what ``database_value`` was when it was taken and
  released; the probe can hook the moment a thread asks for it and the
  moment it gets it, to force an interleaving (``first_holder_waits``,
  ``first_asker_waits``, ``other_writer``): whatever arithmetic a submission
  uses, a value read before the lock then shows in the final value;
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
- ``barrier`` and ``gate``, which only concurrent threads pass;
- ``spawn`` and ``contender``: our own threads, started by ``_thread``.
"""

from __future__ import annotations

import _thread
import builtins
import time
from itertools import count as _count
from os import listdir as _listdir

from autograder.probes.common import short

# Our own copy of the builtins, taken before any student code runs: a
# submission that patches builtins (len, isinstance, ...) does not reach us.
__builtins__ = dict(vars(builtins))

# Taken at import, in the supervisor, before any student code runs, and bound
# again as defaults below: nothing a submission rebinds reaches them.
_Lock = _thread.allocate_lock
_start_new_thread = _thread.start_new_thread
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
# They wait on C locks of _thread only: the methods of a threading.Condition
# are Python code looked up on its class at each call, and a submission may
# rebind them (a wait that calls the target again, in the same thread).
def barrier(parties: int, timeout: float = BARRIER_WAIT, *, _Lock=_Lock,
            _get_ident=_get_ident, _dict=_dict, len=len) -> tuple:
    """A reusable barrier that never raises: (wait, report). ``wait()`` says
    whether ``parties`` distinct threads were there at once (a thread that is
    already waiting and arrives again, re-entered, is a miss); after one
    timeout it gives up, so that a serial program pays the wait only once.
    ``report()`` gives {"passed": threads that met the others, "missed":
    waits in vain}."""
    state = {"waiting": [], "passed": 0, "missed": 0, "gave_up": False}
    meta = _Lock()

    def wait(*, _state=state, _meta=meta, _parties=parties, _timeout=timeout, _Lock=_Lock,
             _ident=_get_ident, _dict=_dict, _len=len) -> bool:
        me = _ident()
        with _meta:
            if _state["gave_up"]:
                _state["missed"] += 1
                return False
            waiting = _state["waiting"]
            for other in waiting:
                if other["ident"] == me:
                    _state["missed"] += 1
                    return False
            if _len(waiting) + 1 >= _parties:
                for other in waiting:
                    other["passed"] = True
                    other["lock"].release()
                _state["waiting"] = []
                _state["passed"] += _parties
                return True
            mine = _dict(ident=me, lock=_Lock(), passed=None)
            mine["lock"].acquire()
            waiting.append(mine)
        # Released by the thread that completes the barrier, or by one that gave up.
        mine["lock"].acquire(True, _timeout)
        with _meta:
            if mine["passed"] is None:  # nobody came in time: give up, and let the others go
                _state["gave_up"] = True
                for other in _state["waiting"]:
                    other["passed"] = False
                    _state["missed"] += 1
                    if other is not mine:
                        other["lock"].release()
                _state["waiting"] = []
            return mine["passed"]

    def report(*, _state=state, _meta=meta) -> dict:
        with _meta:
            return {"passed": _state["passed"], "missed": _state["missed"]}

    return wait, report


def gate(others: int, waiting, timeout: float = GATE_WAIT, *, _Lock=_Lock,
         _get_ident=_get_ident, _monotonic=_monotonic) -> tuple:
    """(arrive, report): holds the first thread that reached the middle of its
    read-modify-write until a second thread reaches it too (a race, proven),
    or until ``waiting()`` threads (every other one) wait for the lock (no
    race is possible), or a timeout. ``report()``: {"race", "timed_out"}."""
    state = {"first": None, "open": others <= 0, "race": False, "timed_out": False}
    meta = _Lock()
    opened = _Lock()  # released by the second thread to arrive
    opened.acquire()

    def arrive(*, _state=state, _meta=meta, _opened=opened, _others=others,
               _waiting=waiting, _timeout=timeout, _now=_monotonic, _ident=_get_ident) -> None:
        me = _ident()
        with _meta:
            if _state["open"]:
                return
            if _state["first"] is not None:
                if me != _state["first"]:
                    _state["race"] = _state["open"] = True
                    _opened.release()
                return
            _state["first"] = me
        deadline = _now() + _timeout
        while True:
            if _opened.acquire(True, 0.002):
                return  # a second thread arrived
            with _meta:
                if _state["open"]:
                    return
                if _waiting() >= _others:
                    _state["open"] = True
                    return
                if _now() >= deadline:
                    _state["open"] = _state["timed_out"] = True
                    return

    def report(*, _state=state, _meta=meta) -> dict:
        with _meta:
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
def spawn(body, *, _start=_start_new_thread, _Lock=_Lock) -> object:
    """Run ``body()`` in a new thread started by ``_thread`` (threading.Thread's
    start and join are Python code a submission may rebind, to run our
    threads one after another); return a C lock released when it ends."""
    ended = _Lock()
    ended.acquire()

    def run(*, _body=body, _ended=ended) -> None:
        try:
            _body()
        finally:
            _ended.release()

    _start(run, ())
    return ended


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
            "arrive": None, "observe": None}


class Injected(Exception):  # noqa: N818 - the name the student sees in a traceback
    """Raised by the grader inside the body of increase, to see whether the lock is released."""


class Tracked(int):
    """The int the grader puts in database_value: it reports each + 1 done on
    it (and each int() of it), which comes after the read and before the write.
    ``_root`` is the value of database_value it was computed from."""

    def __new__(cls, value: int, observe, serial: int = 0, root: Tracked | None = None, *,
                _new=_int_new) -> Tracked:
        obj = _new(cls, value)
        obj.serial = serial
        obj._observe = observe
        obj._root = obj if root is None else root
        return obj

    def _arith(self, op, other, *, _ni=NotImplemented):
        result = op(self, other)
        if result is _ni:
            return result
        return self._observe(self, result)

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


def tracked_hook(seen: dict, *, Injected=Injected, Tracked=Tracked, _getattr=_getattr,
                 _perf=_perf, _vars=_vars, len=len, next=next):
    """What a Tracked value calls on each + 1 (or int()) done on it."""

    def observe(value, result=None, *, _seen=seen, _vars=_vars, _perf=_perf,
                _injected=Injected, _tracked=Tracked, _self=None, _getattr=_getattr,
                _len=len, _next=next):
        """Record one + 1 (or int()); return the Tracked value it makes (for
        int(), its serial). The record keeps that value, so that the probe can
        tell a value this + 1 made from one the submission made otherwise."""
        hold = _seen["held"]()
        # Read (or computed from a read) before the lock was taken: another
        # thread has written since.
        current = _vars(_seen["module"]).get("database_value")
        stale = (hold is not None and current is not value
                 and current is not _getattr(value, "_root", value))
        serial = _next(_seen["serials"])
        made = None if result is None else _tracked(result, _self, serial,
                                                     _getattr(value, "_root", value))
        with _seen["lock"]:
            # Bounded, but never at the cost of a + 1 done without the lock.
            if _len(_seen["adds"]) < 1000 or hold is None:
                _seen["adds"].append({"held": hold is not None, "hold": hold,
                                      "operand": _getattr(value, "serial", 0), "stale": stale,
                                      "at": _perf(), "made": made})
            inject = _seen["inject"]
            if inject:
                _seen["injected"] += 1
        if inject:
            raise _injected("the grader made this step of increase raise")
        if _seen["arrive"] is not None:
            _seen["arrive"]()
        return serial if made is None else made

    observe.__kwdefaults__["_self"] = observe
    seen["observe"] = observe
    return observe


def snapshot(value: object, *, _isinstance=_isinstance, _int=int, _str=str, _add=_int_add,
             _getattr=_getattr, _type=_type, _short=short) -> dict:
    """database_value as plain data: an int (and its serial if Tracked), else a repr
    (a string, whatever a rebound repr answers)."""
    if _isinstance(value, _int):
        serial = _getattr(value, "serial", None)
        return {"value": _add(value, 0), "serial": serial if _type(serial) is _int else None}
    shown = _short(value)
    return {"value": shown if _type(shown) is _str else "<unprintable>", "serial": None}


# Every instrument's __globals__ is this namespace: it must lead to no other
# module of ours (short.__globals__ is common's), so short lives on only in
# snapshot's defaults.
del short


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
    ``spy["report"]()`` ({"count", "waiters", "holds", "locked"}),
    ``spy["waiters"]()``, ``spy["released"]()`` (holds ended so far), and
    ``spy["turns"]``, where the probe may put an "asking" hook (run as a
    thread asks for the lock, counted as waiting) and a "got" hook (run by
    the thread that has just got it) to force an interleaving."""
    real = _Lock()
    state = {"owner": None, "count": 0, "waiters": 0, "holds": [], "current": None,
             "released": 0}
    turns = {"asking": None, "got": None}
    meta = _Lock()

    def peek(*, _module=module, _vars=_vars, _snapshot=snapshot) -> dict:
        return _snapshot(_vars(_module).get("database_value"))

    def acquire(blocking=True, timeout=-1, *, _real=real, _state=state, _meta=meta,
                _turns=turns, _ident=_get_ident, _perf=_perf, _peek=peek) -> bool:
        with _meta:
            _state["waiters"] += 1
        try:
            asking = _turns["asking"]
            if asking is not None:
                asking()
            got = _real.acquire(blocking, timeout)
        finally:
            with _meta:
                _state["waiters"] -= 1
        if got:
            holding = _turns["got"]
            if holding is not None:
                holding()
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
            _state["released"] += 1
        _real.release()

    # Not real.locked itself: its __self__ would hand out the real lock.
    def locked(*, _real=real) -> bool:
        return _real.locked()

    def held(*, _state=state, _ident=_get_ident):
        return _state["count"] if _state["owner"] == _ident() else None

    def report(*, _state=state, _meta=meta, _real=real, _list=_list) -> dict:
        with _meta:
            return {"count": _state["count"], "waiters": _state["waiters"],
                    "holds": _list(_state["holds"]), "locked": _real.locked()}

    def waiters(*, _state=state) -> int:
        return _state["waiters"]

    def released(*, _state=state) -> int:
        return _state["released"]

    lock = SpyLock()
    lock._acquire, lock._release, lock._locked = acquire, release, locked
    return lock, {"held": held, "report": report, "waiters": waiters, "released": released,
                  "turns": turns}


# -- q2: forced interleavings (hooks of the spy lock) ---------------------------
# What a thread read before it held the lock is shown stale by a write that
# comes before its own: these put one there, whatever arithmetic it used.
def first_holder_waits(others: int, waiting, timeout: float = GATE_WAIT, *,
                       _monotonic=_monotonic, _sleep=_sleep) -> object:
    """A "got" hook: the first thread to get the lock keeps it until ``others``
    threads wait for it (``waiting()``), or a timeout; they have all read
    whatever they read before asking for it by then."""
    done = [False]  # only the holder of the lock reads or sets it

    def got(*, _done=done, _others=others, _waiting=waiting, _timeout=timeout,
            _now=_monotonic, _sleep=_sleep) -> None:
        if _done[0]:
            return
        _done[0] = True
        deadline = _now() + _timeout
        while _waiting() < _others and _now() < deadline:
            _sleep(0.001)

    return got


def first_asker_waits(released, timeout: float = 1.0, *, _Lock=_Lock,
                      _get_ident=_get_ident, _monotonic=_monotonic, _sleep=_sleep) -> object:
    """An "asking" hook: the first thread to ask for the lock waits (before it
    gets it) until another thread has held and released it (``released()``),
    or a timeout; what it read before asking is stale by then."""
    first = [None]
    meta = _Lock()

    def asking(*, _first=first, _meta=meta, _released=released, _timeout=timeout,
               _ident=_get_ident, _now=_monotonic, _sleep=_sleep) -> None:
        with _meta:
            if _first[0] is not None:
                return
            _first[0] = _ident()
        deadline = _now() + _timeout
        while _released() < 1 and _now() < deadline:
            _sleep(0.001)

    return asking


def other_writer(seen: dict, *, Tracked=Tracked, _Lock=_Lock, _vars=_vars, _type=_type,
                 _int=int, _add=_int_add, issubclass=issubclass, next=next) -> tuple:
    """(asking, wrote): an "asking" hook that plays another thread: as the
    first call asks for the lock, it adds one to database_value (a new
    Tracked value). ``wrote()``: (the value before, the value it wrote), or
    (None, None) if it did not."""
    state = {"done": False, "before": None, "wrote": None}
    meta = _Lock()

    def asking(*, _state=state, _meta=meta, _seen=seen, _tracked=Tracked, _vars=_vars,
               _type=_type, _int=_int, _add=_add, _issubclass=issubclass,
               _next=next) -> None:
        with _meta:
            if _state["done"]:
                return
            _state["done"] = True
            names = _vars(_seen["module"])
            value = names.get("database_value")
            if not _issubclass(_type(value), _int):
                return
            new = _tracked(_add(value, 1), _seen["observe"], _next(_seen["serials"]))
            names["database_value"] = new
            _state["before"], _state["wrote"] = value, new

    def wrote(*, _state=state, _meta=meta) -> tuple:
        with _meta:
            return _state["before"], _state["wrote"]

    return asking, wrote


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
def worker(delays: dict, wait, before: frozenset | None = None,
           hold: tuple | None = None, *, _sleep=_sleep, call_log=call_log, repr=repr,
           _Lock=_Lock, _listdir=_listdir, _set=set, _len=len, _OSError=OSError,
           _monotonic=_monotonic) -> tuple:
    """(worker, calls, started, held): ``worker(item)`` records the call and
    its thread, sleeps ``delays[item]``, with a barrier's ``wait`` waits for
    the other calls, and returns "w(<item>)". ``calls()`` as ``call_log``.
    ``started()``: the most threads that were running at a call and not
    among ``before`` (the kernel's thread ids, as /proc/self/task names them,
    before process_queue was called), or None without /proc. Counted at each
    call, when every worker thread started so far is alive, so that a thread
    too many is seen even if it never gets an item.

    ``hold`` = (item, others, seconds): the call of that item keeps its
    thread busy until ``others`` other calls have ended, or ``seconds``
    have passed. ``held()``: {"ended": other calls that ended meanwhile,
    "released": whether they all did}, or None before that call ended."""
    note, done, seen = call_log()
    most: list = [None]
    ended: list = [0, None]  # calls ended (but the held one); the held call's report
    lock = _Lock()

    def worker(item, *, _note=note, _done=done, _delays=delays, _wait=wait, _sleep=_sleep,
               _repr=repr, _before=before, _most=most, _lock=lock, _listdir=_listdir,
               _set=_set, _len=_len, _OSError=_OSError, _hold=hold, _ended=ended,
               _now=_monotonic) -> str:
        if _before is not None:
            try:
                now = _len(_set(_listdir("/proc/self/task")) - _before)
            except _OSError:
                now = None
            if now is not None:
                with _lock:
                    if _most[0] is None or now > _most[0]:
                        _most[0] = now
        _note(item)
        held = _hold is not None and item == _hold[0]
        try:
            if _wait is not None:
                _wait()
            delay = _delays.get(item)
            if delay:
                _sleep(delay)
            if held:
                deadline = _now() + _hold[2]
                while _ended[0] < _hold[1] and _now() < deadline:
                    _sleep(0.002)
                with _lock:
                    _ended[1] = {"ended": _ended[0], "released": _ended[0] >= _hold[1]}
        finally:
            if not held:
                with _lock:
                    _ended[0] += 1
            _done()
        return f"w({_repr(item)})"

    def started(*, _most=most, _lock=lock) -> int | None:
        with _lock:
            return _most[0]

    def held(*, _ended=ended, _lock=lock) -> dict | None:
        with _lock:
            return _ended[1]

    return worker, seen, started, held
