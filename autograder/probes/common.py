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


# short and jsonable are handed on inside objects the student's code gets
# (their __globals__ are readable without an audit event): what they use is
# bound as keyword-only defaults, so rebinding this module's names changes
# nothing. (A repr is for display only: never judge by it.)
def short(value: object, *, _repr=_repr.repr, _type=type, _error=Exception) -> str:
    """A repr that stays short, whatever the object."""
    try:
        return _repr(value)
    except _error as exc:  # a student's __repr__ may raise
        return f"<{_type(value).__name__} whose repr raised {_type(exc).__name__}>"


def jsonable(value: object, depth: int = 0, *, _self=None, _short=short, _type=type,
             _plain=(bool, int, float, str), _seq=(list, tuple), _dict=dict, _abs=abs,
             _str=str, _int=int, _islice=itertools.islice) -> object:
    """Plain JSON data for the judge: numbers, strings, lists and dicts of
    them; anything else becomes {"repr": ..., "type": ...}."""
    if value is None or _type(value) in _plain:
        if _type(value) is _int and _abs(value) > 2**63:
            return {"repr": _short(value), "type": "int"}
        return value if _type(value) is not _str else value[:1000]
    if depth < 4 and _type(value) in _seq:
        return [_self(v, depth + 1) for v in _islice(value, 1000)]
    if depth < 4 and _type(value) is _dict:
        return {_str(k): _self(v, depth + 1) for k, v in _islice(value.items(), 200)}
    return {"repr": _short(value), "type": _type(value).__name__}


jsonable.__kwdefaults__["_self"] = jsonable


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
