"""Hang reports of the threads probes: where every thread is.

A call that does not return in time (a deadlock, workers that never stop) is
interrupted by an alarm, and the probe reports where every thread was: the
innermost line of the submission each one was running, or the library call
it waited in. Exceptions that ended threads are described the same way.
This module reads frames; none of its objects is handed to student code (the
alarm's handler is an instrument's, which holds ``where_threads`` hidden).
Whether threads still run is asked of the kernel (``/proc/self/task``), not of
``threading``, whose Python code a submission may patch.
"""

from __future__ import annotations

import builtins
import os
import sys
import threading
import time
from linecache import getline as _getline
from os.path import abspath as _abspath
from os.path import basename as _basename
from os.path import dirname as _dirname
from signal import ITIMER_REAL, SIGALRM
from signal import setitimer as _setitimer
from signal import signal as _set_handler

from autograder.probes.threads_instruments import Hung, alarm

# Our own copy of the builtins, taken before any student code runs: a
# submission that patches builtins (len, isinstance, ...) does not reach us.
__builtins__ = dict(vars(builtins))

_enumerate = threading.enumerate
_main_thread = threading.main_thread
_current_frames = sys._current_frames
_monotonic = time.monotonic
_sleep = time.sleep
_listdir = os.listdir

HANG_AFTER = 3.0  # a call that has not returned by then is reported as hung
GRACE = 0.5  # threads still alive this long after a call returned were left running
# The folder of our probes: a frame whose code is there is the grader's.
_PROBES = _dirname(_abspath(__file__))


def guarded(module, action, seconds: float = HANG_AFTER) -> tuple[bool, object]:
    """Run ``action()`` in this (the main) thread. If it has not returned
    after ``seconds``, interrupt it and return (False, where the threads were)."""
    handler, threads = alarm(lambda: where_threads(module))
    previous = _set_handler(SIGALRM, handler)
    try:
        try:
            _setitimer(ITIMER_REAL, seconds)
            value = action()
        finally:
            _setitimer(ITIMER_REAL, 0)
    except Hung:
        return False, {"hung": True, "after": seconds, "threads": threads()}
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


def _ours(frame) -> bool:
    return _dirname(_abspath(frame.f_code.co_filename)) == _PROBES


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
    while outer is not None and not _ours(outer):
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


def describe_error(exc: BaseException, module) -> dict:
    """What an exception was, and the last place in the submission it passed through."""
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


def errors_report(caught: list, module) -> list[dict]:
    """The first few exceptions that ended threads (an alarm's Hung is none of them)."""
    return [describe_error(exc, module) for exc in caught
            if not isinstance(exc, Hung)][:5]


def tasks() -> set[int] | None:
    """The kernel's ids of this process's threads (None where /proc is missing)."""
    try:
        return {int(name) for name in _listdir("/proc/self/task")}
    except OSError:
        return None


def alive(natives: set[int]) -> int:
    """How many of these kernel thread ids still run in this process."""
    now = tasks()
    if now is None:  # no /proc: ask threading instead
        now = {t.native_id for t in _enumerate() if t.is_alive()}
    return len(natives & now)


def wait_ended(natives: set[int], seconds: float) -> None:
    """Wait up to ``seconds`` for these threads to end."""
    deadline = _monotonic() + seconds
    while alive(natives) and _monotonic() < deadline:
        _sleep(0.005)


def left_running(before: set[int] | None, module, grace: float = GRACE) -> list[dict]:
    """Threads started since ``before`` (``tasks()`` then) that are still
    running ``grace`` seconds later: where they are."""
    if before is None:
        return []
    deadline = _monotonic() + grace
    while True:
        left = (tasks() or set()) - before
        if not left or _monotonic() >= deadline:
            break
        _sleep(0.005)
    if not left:
        return []
    idents = {t.ident for t in _enumerate() if t.native_id in left}
    found = where_threads(module, idents) if idents else []
    if sum(group["count"] for group in found) < len(left):
        found.append({"main": False, "count": len(left) - sum(g["count"] for g in found),
                      "daemon": False, "where": None, "grader": False, "code": "",
                      "function": None})
    return found[:8]
