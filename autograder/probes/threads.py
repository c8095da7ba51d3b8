"""Probes for the threads assignment: one entry point per question.

They run in the student process and report observations, never verdicts:
which threads ran, what an instrumented lock saw, whether a daemon let a
fresh interpreter exit. The objects handed to the student's code are the
instruments of ``threads_instruments`` (which makes races show every time);
a call that does not return in time is interrupted and reported with where
the threads were (``threads_hangs``). The grader's judges
(``autograder/judges/threads.py``) check the shape of these reports and word
the feedback.
"""

from __future__ import annotations

import builtins
import sys
import threading
import time
from json import loads as _json_loads
from os import read as _os_read
from os import urandom as _urandom
from os.path import abspath as _abspath
from os.path import dirname as _dirname
from select import select as _select
from subprocess import DEVNULL, PIPE, Popen, TimeoutExpired

from autograder.probes.common import jsonable
from autograder.probes.threads_hangs import (
    describe_error,
    errors_report,
    guarded,
    left_running,
    tasks,
    wait_ended,
)
from autograder.probes.threads_instruments import (
    BARRIER_WAIT,
    Amount,
    Injected,
    Tracked,
    barrier,
    beat_log,
    contender,
    error_log,
    first_asker_waits,
    first_holder_waits,
    gate,
    grader_increase,
    other_writer,
    snapshot,
    spawn,
    spy_lock,
    target,
    time_shim,
    tracked_hook,
    watch,
    worker,
)

# Our own copy of the builtins, taken before any student code runs: a
# submission that patches builtins (len, isinstance, ...) does not reach us.
__builtins__ = dict(vars(builtins))

# Taken at import, in the supervisor, before any student code runs: a
# submission that patches these names does not change what the probes use.
_Thread = threading.Thread
_get_native_id = threading.get_native_id
_monotonic = time.monotonic
_sleep = time.sleep
_time_module = time
_executable = sys.executable
_int_add = int.__add__
_CHILD = _abspath(_dirname(__file__) + "/threads_child.py")
_MARK = b"@@advpy-main-ends@@ "


def _run_all(bodies: list) -> None:
    """Run each body in a thread of ours (started by ``_thread``: see
    ``spawn``), all at once, and wait for them all."""
    ended = [spawn(body) for body in bodies]
    for lock in ended:
        lock.acquire()


def _threads_of(calls: list) -> set:
    """The kernel ids of the threads that made these calls (Python's idents
    are reused as soon as a thread ends, the kernel's ids are not)."""
    return {call[-1] for call in calls}


# -- q1: run_threads -------------------------------------------------------
def run_threads(module, num_threads: int | None, barrier_: bool, hold: float) -> dict:
    """run_threads(target, num_threads) with a recording target; with
    ``barrier_`` each call waits for the others (only concurrent threads pass)."""
    caller = _get_native_id()
    parties = 10 if num_threads is None else num_threads
    wait, met = barrier(parties) if barrier_ else (None, None)
    function, calls = target(wait, hold)
    hook, _, caught = error_log()
    threading.excepthook = hook
    args = (function,) if num_threads is None else (function, num_threads)
    ok, value = guarded(module, lambda: module.run_threads(*args))
    if not ok:
        return value
    made, _, running = calls()
    wait_ended(_threads_of(made) - {caller}, BARRIER_WAIT + 1)
    ran, _, _ = calls()
    natives = _threads_of(ran)
    items = list(value) if isinstance(value, (list, tuple)) else []
    met = met() if met else {"passed": None, "missed": None}
    return {
        "returned_type": type(value).__name__, "is_list": type(value) is list,
        "returned_len": len(items) if isinstance(value, (list, tuple)) else None,
        "returned_threads": sum(isinstance(t, _Thread) for t in items),
        "returned_distinct": len({id(t) for t in items}),
        "returned_that_ran": sum(isinstance(t, _Thread) and t.native_id in natives
                                 for t in {id(t): t for t in items}.values()),
        "calls": len(ran), "threads": len(natives),
        "in_caller": sum(call[2] == caller for call in ran),
        "alive_at_return": running,
        "barrier_passed": met["passed"], "barrier_missed": met["missed"],
        "errors": errors_report(caught(), module),
    }


# -- q2: increase ----------------------------------------------------------
def _shim_time(module, seen: dict) -> list[tuple[str, object]]:
    """Put a time shim where the submission has the time module (or
    time.sleep); return what to put back."""
    shim = time_shim(seen)
    replaced = []
    for name, value in list(vars(module).items()):
        if value is _time_module:
            replaced.append((name, value))
            setattr(module, name, shim)
        elif value is _sleep:
            replaced.append((name, value))
            setattr(module, name, shim.sleep)
    return replaced


def _holds_report(holds: list) -> list[dict]:
    return [{k: h[k] for k in ("n", "seconds", "before", "after", "by_owner")}
            for h in holds[:50]]


def _adds_report(adds: list) -> list[dict]:
    """The first 20 + 1s, those done without the lock first."""
    ordered = [a for a in adds if not a["held"]] + [a for a in adds if a["held"]]
    return [{k: a[k] for k in ("held", "hold", "operand")} for a in ordered[:20]]


def _instrument(module, inject: bool = False, scale: float = 1.0) -> tuple:
    """database_value = Tracked(0), a spy lock, and the time shim, all
    reporting to one record; (lock, spy, record, what to put back)."""
    seen = watch(module, inject=inject, scale=scale)
    lock, spy = spy_lock(module)
    seen["held"] = spy["held"]
    module.database_value = Tracked(0, tracked_hook(seen))
    return lock, spy, seen, _shim_time(module, seen)


def _as_int(value: object) -> int | None:
    return _int_add(value, 0) if issubclass(type(value), int) else None


def _with_other_writer(module) -> dict:
    """One more call of increase(spy lock), single-threaded, in which the
    grader plays another thread: as increase asks for the lock, it adds one
    to database_value. A value written that is one more than the value
    before that write was computed from a read made before the lock: that
    is a + 1 outside the lock, whatever arithmetic made it (the Tracked value
    sees only +, - and int()), unless it is the very value a + 1 the Tracked
    value saw under the lock made, on that read (a read before the lock, a
    + 1 under it: the contention test judges that one)."""
    lock, spy, seen, replaced = _instrument(module, scale=1 / 3)
    spy["turns"]["asking"], wrote = other_writer(seen)
    try:
        ok, hung = guarded(module, lambda: module.increase(lock))
    finally:
        for name, value in replaced:
            setattr(module, name, value)
    if not ok:
        return hung
    before, written = wrote()
    final = vars(module).get("database_value")
    with seen["lock"]:
        records = list(seen["adds"])
    outside = [a for a in records if not a["held"]]
    if (written is not None and final is not written
            and _as_int(final) == _int_add(before, 1)
            and not any(a["made"] is final and a["held"] and a["stale"] for a in records)):
        serial = getattr(before, "serial", None)
        outside.append({"held": False, "hold": None,
                        "operand": serial if type(serial) is int else 0})
    return {"outside": [{k: a[k] for k in ("held", "hold", "operand")} for a in outside]}


def increase_once(module, inject: bool = False) -> dict:
    """One call of increase(spy lock) with database_value = Tracked(0); with
    ``inject`` the + 1 (or the sleep) raises inside the body. Without it,
    another call with the grader's write as it asks for the lock (in random
    order, so that no call of a submission can tell which one is watched):
    a + 1 found outside the lock there joins this call's ``adds``."""
    other = None
    other_first = not inject and _urandom(1)[0] & 1
    if other_first:
        other = _with_other_writer(module)
        if other.get("hung"):
            return other
    lock, spy, seen, replaced = _instrument(module, inject=inject)
    raised = None

    def call():
        nonlocal raised
        try:
            module.increase(lock)
        except Injected as exc:
            raised = {"type": "Injected", "message": str(exc), "where": None, "ours": True}
        except Exception as exc:  # noqa: BLE001 - the observation
            if inject:
                raised = {**describe_error(exc, module), "ours": False}
            else:
                raise

    try:
        ok, hung = guarded(module, call)
    finally:
        for name, value in replaced:
            setattr(module, name, value)
    if not ok:
        return hung
    final = vars(module).get("database_value")
    state = spy["report"]()
    with seen["lock"]:
        adds = _adds_report(seen["adds"])
        sleeps = list(seen["sleeps"][:20])
        injected = seen["injected"]
    if not inject and not other_first:
        other = _with_other_writer(module)
        if other.get("hung"):
            return other
    if other is not None:
        adds = (other["outside"] + adds)[:20]
    return {"final": snapshot(final), "holds": _holds_report(state["holds"]), "adds": adds,
            "sleeps": sleeps, "acquired": state["count"], "still_locked": state["locked"],
            "injected": injected, "raised": raised}


def increase_contention(module, num_threads: int, first: str = "holder") -> dict:
    """``num_threads`` threads, released together, each call increase(spy)
    once; the first reader waits at the gate for proof of a race or of none.
    The lock forces the turns: with ``first="holder"`` the first thread to
    get it keeps it until every other one waits for it, with ``"asker"`` the
    first to ask for it waits until another has held it; either way a value
    read before the lock is stale when it is written."""
    # The gate, not the latency, makes the race show: the submission's sleeps are cut.
    lock, spy, seen, replaced = _instrument(module, scale=1 / 3)
    seen["arrive"], race = gate(num_threads - 1, spy["waiters"])
    if first == "asker":
        spy["turns"]["asking"] = first_asker_waits(spy["released"])
    else:
        spy["turns"]["got"] = first_holder_waits(num_threads - 1, spy["waiters"])
    _, add_error, caught = error_log()
    start, _ = barrier(num_threads)
    bodies = [contender(start, add_error, module.increase, (lock,)) for _ in range(num_threads)]
    try:
        ok, hung = guarded(module, lambda: _run_all(bodies))
    finally:
        for name, value in replaced:
            setattr(module, name, value)
    if not ok:
        return hung
    state, gated = spy["report"](), race()
    with seen["lock"]:
        reads = len(seen["adds"])
        stale = sum(a["stale"] for a in seen["adds"])
    return {"final": snapshot(vars(module).get("database_value")), "race": gated["race"],
            "gate_timed_out": gated["timed_out"], "acquired": state["count"],
            "still_locked": state["locked"], "errors": errors_report(caught(), module),
            "reads": reads, "stale": stale}


# -- q3: run_increase with the grader's own increase ------------------------
def run_increase(module, num_threads: int | None, start_value: int = 0) -> dict:
    """Replace the submission's increase by a correct, recording one, then
    call run_increase(num_threads) (or run_increase() when None)."""
    caller = _get_native_id()
    increase, calls, race = grader_increase(module, 2 if num_threads is None else num_threads)
    module.database_value = start_value
    module.increase = increase
    hook, _, caught = error_log()
    threading.excepthook = hook
    args = () if num_threads is None else (num_threads,)
    ok, value = guarded(module, lambda: module.run_increase(*args))
    if not ok:
        return value
    made, running = calls()
    natives = _threads_of(made)
    return {"returned": jsonable(value), "returned_type": type(value).__name__,
            "database_value": jsonable(vars(module).get("database_value")),
            "calls": len(made), "threads": len(natives),
            "in_caller": sum(call[3] == caller for call in made),
            "alive_at_return": running,
            "locks": len({call[1] for call in made}),
            "lock_types": sorted({call[0] for call in made})[:20],
            "race": race()["race"], "errors": errors_report(caught(), module)}


# -- q4: ThreadSafeCounter -------------------------------------------------
def _number(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return _int_add(value, 0)
    return jsonable(value)


def counter_contention(module, amounts: list[int], per_thread: int) -> dict:
    """One counter; one thread per amount, released together, each calling
    increment(Amount(amount)) ``per_thread`` times."""
    counter = module.ThreadSafeCounter()
    start, _ = barrier(len(amounts))
    _, add_error, caught = error_log()
    bodies = [contender(start, add_error, counter.increment, (Amount(a),), times=per_thread)
              for a in amounts]

    def run():
        _run_all(bodies)
        return counter.value

    ok, value = guarded(module, run)
    if not ok:
        return value
    return {"value": _number(value), "type": type(value).__name__,
            "errors": errors_report(caught(), module)}


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
def heartbeat(module, interval: float, watch: float, enough: int | None = None) -> dict:
    """start_heartbeat(interval, beats), then watch the beats for ``watch``
    seconds (or until ``enough`` beats)."""
    beats, writers = beat_log()
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
    wrote = writers()
    return {
        "type": type(thread).__name__, "is_thread": is_thread,
        "daemon": bool(getattr(thread, "daemon", False)) if is_thread else None,
        "alive_at_return": alive_at_return, "alive_at_end": is_thread and thread.is_alive(),
        "started": started, "returned": returned, "ended": ended,
        "beats": [v if type(v) is float else jsonable(v) for v in values[:200]],
        "count": len(values),
        "writer_is_returned": (wrote == {thread.ident}) if is_thread and wrote else None,
        "writers": len(wrote),
    }


def _package_root() -> str:
    return _dirname(_dirname(_dirname(_abspath(__file__))))


def heartbeat_exit(module, interval: float, grace: float, start_within: float = 6.0) -> dict:
    """A fresh interpreter imports the submission, starts a heartbeat, and
    lets its main thread end: does the program exit within ``grace`` s?"""
    argv = [_executable, "-I", _CHILD, _package_root(), module.__file__,
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
                    report = None
                if type(report) is not dict:
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
    ``barrier`` calls to run at once; with ``hold`` ([item, others,
    seconds]), the call of that item waits until ``others`` other calls have
    ended. Reports results, calls, threads, and the threads left running."""
    reports = []
    hook, _, caught = error_log()
    threading.excepthook = hook
    caller = _get_native_id()
    for case in cases:
        items = list(case["items"])
        delays = {int(k): v for k, v in case.get("delays", {}).items()}
        wait, met = barrier(case["barrier"]) if case.get("barrier") else (None, None)
        before = tasks()
        names = None if before is None else frozenset(str(native) for native in before)
        hold = case.get("hold")  # [item, others, seconds]
        function, calls, started, held = worker(delays, wait, names,
                                                tuple(hold) if hold else None)
        args = (items, function) if case.get("workers") is None else (items, function,
                                                                       case["workers"])
        ok, value = guarded(module, lambda args=args: module.process_queue(*args))
        if not ok:
            reports.append(value)
            break
        # What it returned, as it was when it returned: worker threads still
        # running would go on filling it while left_running waits for them.
        _, _, busy = calls()
        results, kind = jsonable(value), type(value).__name__
        left = left_running(before, module)
        made, peak, _ = calls()
        natives = _threads_of(made)
        met = met() if met else {"passed": None, "missed": None}
        reports.append({
            "calls": jsonable([call[0] for call in made]), "threads": len(natives),
            "caller_worked": caller in natives, "peak": peak, "started": started(),
            "busy_at_return": busy, "results": results, "type": kind, "left_running": left,
            "barrier_passed": met["passed"], "barrier_missed": met["missed"],
            "held": held(),
            "errors": errors_report(caught(), module),
        })
    return reports
