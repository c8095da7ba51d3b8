"""Probes for the generators assignment: what a generator yields, what it
pulls from its source, and what creating and advancing it costs."""

from __future__ import annotations

import builtins
import inspect
import types
from json import dumps as _dumps
from json import loads as _loads
from os import _exit
from os import close as _close
from os import fork as _fork
from os import pipe as _pipe
from os import read as _read
from sys import getsizeof
from warnings import catch_warnings as _catch_warnings
from warnings import simplefilter as _simplefilter

from autograder.probes.common import is_iterator, jsonable, pull, short
from autograder.probes.wire import read_frame as _read_frame
from autograder.probes.wire import write_frame as _write_frame

# Our own copy of the builtins, taken before any student code runs: a
# submission that patches builtins (next, isinstance, ...) does not reach us.
__builtins__ = dict(vars(builtins))
from autograder.probes.common import call as call_value  # noqa: F401 - re-exported for tests

# Taken before any student code runs: a submission that rebinds
# types.GeneratorType does not change what we compare against.
GENERATOR = types.GeneratorType


def _trivial():
    yield 0


def describe(value: object) -> dict:
    return {"type": type(value).__name__, "repr": short(value),
            "is_generator": type(value) is GENERATOR, "is_iterator": is_iterator(value)}


def items(module, name: str, args: tuple, limit: int) -> dict:
    """Call ``name(*args)`` and pull at most ``limit`` items from what it returns."""
    value = getattr(module, name)(*args)
    seen = describe(value)
    if not seen["is_iterator"]:
        try:
            value = iter(value)
        except TypeError:
            return {**seen, "items": None, "stopped": False}
    got, stopped = pull(value, limit)
    after = None
    if stopped:
        # A finished generator keeps raising StopIteration.
        again, _ = pull(value, 1)
        after = jsonable(again)
    return {**seen, "items": jsonable(got), "item_types": [type(i).__name__ for i in got],
            "stopped": stopped, "after_stop": after}


def fresh_each_call(module, name: str) -> dict:
    """Two calls: are they two independent generators?"""
    function = getattr(module, name)
    first = function()
    kind, iterator = type(first).__name__, is_iterator(first)
    head = next(iter(first))
    second = function()
    return {"type": kind, "is_iterator": iterator,
            "same_object": first is second, "first_head": jsonable(head),
            "second_items": jsonable(pull(iter(second), 10)[0]),
            "is_generator_function": inspect.isgeneratorfunction(function)}


def _trivial_range(n):
    num = 0
    while num < n:
        yield num
        num += 1


def sizes(module, name: str, small: int, large: int) -> dict:
    """sys.getsizeof of what ``name`` returns for a small and a large n, and of
    a trivial generator on this interpreter."""
    function = getattr(module, name)
    a, b = function(small), function(large)
    return {"small": getsizeof(a), "large": getsizeof(b),
            "trivial": getsizeof(_trivial()), "type": type(b).__name__}


def _parked(action) -> tuple[int, dict]:
    """Run ``action()`` in a child forked now: (its pid, its result as JSON),
    once the result is back.

    A fresh process's peak resident memory (the kernel's VmHWM) starts at
    what it holds when forked, so the child's peak tells what ``action``
    needed. The child then waits, alive, until the worker is killed: the
    supervisor reads that peak from /proc itself, where no code in the
    student process can lower it (tracemalloc can be stopped, restarted or
    fooled from inside)."""
    read_fd, write_fd = _pipe()
    hold_r, hold_w = _pipe()
    with _catch_warnings():
        # 3.12+ warns about forking with threads running (the worker's signer
        # is one); a submission that turned warnings into errors must not fail.
        _simplefilter("ignore", DeprecationWarning)
        pid = _fork()
    if pid == 0:
        try:
            _close(read_fd)
            try:
                result = {"ok": action()}
            except BaseException as exc:  # noqa: BLE001 - the student's error is reported
                result = {"raised": {"type": type(exc).__name__, "message": short(str(exc))}}
            _write_frame(write_fd, _dumps(result, default=repr).encode())
            _close(write_fd)
            while True:
                _read(hold_r, 1)  # parked until the supervisor kills us
        finally:
            _exit(0)
    _close(write_fd)
    frame = _read_frame(read_fd)
    _close(read_fd)
    return pid, (_loads(frame) if frame else {"raised": {"type": "SystemExit",
                                                          "message": "the process ended"}})


def lazy_cost(module, name: str, args: tuple, take: int) -> dict:
    """Create ``name(*args)`` and take ``take`` items in a fresh child, and a
    trivial generator of ours in another: the supervisor reads both peaks
    ("measured", "baseline" are their pids)."""
    function = getattr(module, name)
    # A first small call does one-time work (imports, caches) before the forks.
    pull(iter(function(10)), take)
    n = args[0] if args else 0
    baseline, _ = _parked(lambda: jsonable(pull(_trivial_range(n), take)[0]))

    def measured():
        value = function(*args)
        got = pull(iter(value), take)[0]
        return {"items": jsonable(got), **describe(value)}

    pid, outcome = _parked(measured)
    return {"measured": pid, "baseline": baseline, **outcome}


def count_cost(module, name: str, n: int) -> dict:
    """The value of ``name(n)``, computed in a fresh child whose peak memory
    the supervisor reads ("measured"; "baseline": a child that does nothing)."""
    function = getattr(module, name)
    function(10)  # one-time work (imports, caches) before the forks
    baseline, _ = _parked(lambda: None)
    pid, outcome = _parked(lambda: (lambda v: {"value": jsonable(v),
                                               "type": type(v).__name__})(function(n)))
    return {"measured": pid, "baseline": baseline, **outcome}


def take_pulls(module, n: int, limit: int, *, source) -> dict:
    """take(n, source) on the supervisor's counting source, then at most
    ``limit`` items of it. The pulls are counted by the supervisor, from the
    kernel's pipe, not here."""
    value = module.take(n, source)
    seen = describe(value)
    got, stopped = pull(iter(value), limit) if limit else ([], False)
    return {**seen, "items": jsonable(got), "stopped": stopped}


def take_from_list(module, n: int, data: list) -> dict:
    value = module.take(n, list(data))
    got, stopped = pull(iter(value), len(data) + 5)
    return {"items": jsonable(got), "stopped": stopped, **describe(value)}


def chunks(module, size: int, count: int, *, source) -> dict:
    """Pull at most ``count`` chunks of chunked(source, size) from the
    supervisor's counting source; report the chunks (the supervisor counts
    the pulls)."""
    iterator = iter(module.chunked(source, size))
    got, types_ = [], []
    for _ in range(count):
        try:
            chunk = next(iterator)
        except StopIteration:
            break
        got.append(jsonable(chunk))
        types_.append(type(chunk).__name__)
    return {"chunks": got, "types": types_}


def chunks_of(module, data: list, size: int) -> dict:
    got = [jsonable(chunk) for chunk in pull(iter(module.chunked(list(data), size)), 1000)[0]]
    return {"chunks": got}


def raises(module, name: str, args: tuple) -> dict:
    """What ``name(*args)`` raises, at the call or when iteration starts."""
    try:
        value = getattr(module, name)(*args)
    except Exception as exc:  # noqa: BLE001 - the exception is the observation
        return {"raised": type(exc).__name__, "when": "call",
                "is_value_error": isinstance(exc, ValueError)}
    try:
        next(iter(value))
    except StopIteration:
        return {"raised": None, "when": "iteration", "is_value_error": False}
    except Exception as exc:  # noqa: BLE001
        return {"raised": type(exc).__name__, "when": "iteration",
                "is_value_error": isinstance(exc, ValueError)}
    return {"raised": None, "when": None, "is_value_error": False}

