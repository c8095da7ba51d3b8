"""Probes for the generators assignment: what a generator yields, what it
pulls from its source, and what creating and advancing it costs."""

from __future__ import annotations

import builtins
import inspect
import types
from sys import getsizeof
from time import perf_counter
from tracemalloc import get_traced_memory, reset_peak
from tracemalloc import start as start_tracing
from tracemalloc import stop as stop_tracing

from autograder.probes.common import is_iterator, jsonable, pull, short

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
    head = next(iter(first))
    second = function()
    return {"same_object": first is second, "first_head": jsonable(head),
            "second_items": jsonable(pull(iter(second), 10)[0]),
            "is_generator_function": inspect.isgeneratorfunction(function)}


def _traced(action) -> tuple[object, float, int]:
    """Run ``action()`` under tracemalloc: its result, seconds, and the peak
    of memory allocated above what was already allocated."""
    reset_peak()
    before, _ = get_traced_memory()
    start = perf_counter()
    result = action()
    seconds = perf_counter() - start
    _, peak = get_traced_memory()
    return result, seconds, peak - before


def cost(module, name: str, args: tuple, take: int) -> dict:
    """Time and traced peak memory to create the object and pull ``take`` items,
    beside the same for a trivial generator of ours, in the same process."""
    function = getattr(module, name)
    # A first small call does one-time work (imports, caches) outside the measure.
    pull(iter(function(10)), take)
    start_tracing()
    try:
        _, baseline_seconds, baseline_peak = _traced(
            lambda: pull(_trivial_range(args[0] if args else 0), take))
        (value, got), seconds, peak = _traced(
            lambda: (lambda v: (v, pull(iter(v), take)[0]))(function(*args)))
    finally:
        stop_tracing()
    return {"items": jsonable(got), "seconds": seconds, "peak": peak,
            "baseline_seconds": baseline_seconds, "baseline_peak": baseline_peak,
            **describe(value)}


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


def count_cost(module, name: str, n: int) -> dict:
    """The value of ``name(n)`` and the traced peak memory of computing it."""
    function = getattr(module, name)
    function(10)  # one-time work (imports, caches) outside the measure
    start_tracing()
    try:
        value, _, peak = _traced(lambda: function(n))
    finally:
        stop_tracing()
    return {"value": jsonable(value), "type": type(value).__name__, "peak": peak}


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

