"""Probes any assignment can use, and helpers for writing probes.

A probe is ``probe(module, *args)``: it runs in the student process, calls
the student's code, and returns JSON data (observations), never a verdict.
"""

from __future__ import annotations

import builtins
import itertools
import reprlib

# Our own copy of the builtins, taken before any student code runs: a
# submission that patches builtins (next, isinstance, ...) does not reach us.
__builtins__ = dict(vars(builtins))

_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlist = 12


def short(value: object) -> str:
    """A repr that stays short, whatever the object."""
    try:
        return _repr.repr(value)
    except Exception as exc:  # noqa: BLE001 - a student's __repr__ may raise
        return f"<{type(value).__name__} whose repr raised {type(exc).__name__}>"


def jsonable(value: object, depth: int = 0) -> object:
    """Plain JSON data for the judge: numbers, strings, lists and dicts of
    them; anything else becomes {"repr": ..., "type": ...}."""
    if value is None or type(value) in (bool, int, float, str):
        if type(value) is int and abs(value) > 2**63:
            return {"repr": short(value), "type": "int"}
        return value if type(value) is not str else value[:1000]
    if depth < 4 and type(value) in (list, tuple):
        return [jsonable(v, depth + 1) for v in itertools.islice(value, 1000)]
    if depth < 4 and type(value) is dict:
        return {str(k): jsonable(v, depth + 1) for k, v in itertools.islice(value.items(), 200)}
    return {"repr": short(value), "type": type(value).__name__}


def type_name(value: object) -> str:
    return type(value).__name__


def load_report(module) -> dict:
    """Handled by the runner itself: it reports what the submission defines."""
    raise RuntimeError("load_report is answered by the runner")


def call(module, name: str, args: tuple = (), kwargs: dict | None = None) -> dict:
    """Call ``name(*args)`` and report what came back."""
    value = getattr(module, name)(*args, **(kwargs or {}))
    return {"value": jsonable(value), "type": type_name(value), "repr": short(value)}


def is_iterator(value: object) -> bool:
    try:
        return iter(value) is value and hasattr(type(value), "__next__")
    except TypeError:
        return False


def pull(iterator, limit: int) -> tuple[list, bool]:
    """Take at most ``limit`` items with next(); say whether it stopped by itself."""
    items = []
    for _ in range(limit):
        try:
            items.append(next(iterator))
        except StopIteration:
            return items, True
    return items, False
