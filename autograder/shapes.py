"""The shape of what comes back from the student process, checked before a judge reads it.

Whatever a probe returns was computed in the student's process, where the
student's code runs and may have rewritten it: it is untrusted input, like
the answer around it. Each probe promises the shape of its observation (the
``SHAPES`` table of ``autograder/judges/<slug>.py``, trusted code), and
``Student`` (``testing.py``) checks every answer against it before a test
reads it. An answer of another shape *fails* the test ("the grader could not
read what your code produced (...)"): it is the student's process at fault,
never a grader error.

The check is strict (a bool is not an int, "3" is not 3), finite (no NaN or
infinity) and bounded (lengths and ranges), so that a judge can do arithmetic
on a measurement (seconds, counts, pids, peaks) without a TypeError. Fields
that carry the student's own values are ``Json``: anything JSON can hold,
which a judge only compares with ``==`` (or uses after an isinstance check).

This module is a leaf: it imports nothing of the grader but its exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

from annotated_types import Ge, Le, MaxLen, MinLen
from pydantic import AfterValidator, ConfigDict, JsonValue, Strict, TypeAdapter, ValidationError
from typing_extensions import NotRequired, TypedDict

from autograder.errors import StudentFailure

__all__ = [
    "CONFIG", "ByArguments", "Count", "Error", "Evidence", "ExitCode", "Instant", "Json",
    "Name", "NotRequired", "Pid", "Seconds", "Signal", "Size", "Text", "TypedDict",
    "check_answer", "check_evidence", "keyed", "listof", "per_case", "read", "row",
    "unreadable",
]

CONFIG = ConfigDict(strict=True, allow_inf_nan=False)

# The vocabulary of shapes. A TypedDict here must be typing_extensions' (pydantic
# needs it before Python 3.12); judges import it from this module.
Json = JsonValue  # the student's own value: compare it with ==, nothing else
Seconds = Annotated[float, Ge(0), Le(7 * 24 * 3600.0)]  # a duration
Instant = Annotated[float, Ge(0), Le(1e12)]  # a reading of time.monotonic() or perf_counter()
Count = Annotated[int, Ge(0), Le(10**12)]
Size = Annotated[int, Ge(0), Le(2**50)]  # bytes
Pid = Annotated[int, Ge(1), Le(2**22)]  # Linux's pid_max is at most 2**22
Name = Annotated[str, MaxLen(200)]  # a type or function name, a place in the source
Text = Annotated[str, MaxLen(4000)]  # a message, a repr
ExitCode = Annotated[int, Ge(-255), Le(255)]
Signal = Annotated[int, Ge(1), Le(128)]


def listof(item: Any, most: int, least: int = 0) -> Any:
    """A list of ``item``, of ``least`` to ``most`` elements."""
    return Annotated[list[item], MinLen(least), MaxLen(most)]


def row(*fields: Any) -> Any:
    """A fixed-length JSON array whose elements have these shapes, in order
    (JSON has no tuples: it arrives as a list, and stays one)."""
    return Annotated[tuple[fields], Strict(False), AfterValidator(list)]


@dataclass(frozen=True)
class _PerCase:
    cases: int
    stop: str

    def __call__(self, seen: list) -> list:
        stopped = bool(seen) and isinstance(seen[-1], dict) and self.stop in seen[-1]
        if len(seen) < self.cases and not stopped:
            raise ValueError(f"{len(seen)} observations for {self.cases} cases")
        return seen


def per_case(item: Any, cases: int, stop: str) -> Any:
    """One observation of shape ``item`` per case asked for; fewer only when
    the last one has the key ``stop`` (the probe stopped there: a hang, an
    exception)."""
    return Annotated[list[item], MinLen(min(cases, 1)), MaxLen(cases),
                     AfterValidator(_PerCase(cases, stop))]


@dataclass(frozen=True)
class _Keys:
    keys: frozenset

    def __call__(self, seen: dict) -> dict:
        if set(seen) != self.keys:
            raise ValueError("not one entry for each key asked for")
        return seen


def keyed(value: Any, keys: Iterable[str]) -> Any:
    """A dict with exactly the keys ``keys``, each mapped to a ``value``."""
    return Annotated[dict[str, value], AfterValidator(_Keys(frozenset(keys)))]


class Error(TypedDict):
    """An exception the student's code raised, as a probe reports it."""

    type: Name
    message: Text
    where: Name | None


class ByArguments:
    """A shape that depends on the probe's arguments (after the module), such
    as a list with one report per case asked for: ``function(*args, **kwargs)``
    returns it."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function

    def __call__(self, args: tuple, kwargs: dict) -> Any:
        return self.function(*args, **kwargs)


# -- the answer around the result ------------------------------------------
# The worker writes ok and raised answers (the student's code can reach that
# pipe), the supervisor the others. Fields added later pass unchecked here:
# the evidence has its own check (check_evidence), cpu is the grader's own.
class _Answer(TypedDict):
    status: Name


class _Ok(_Answer):
    result: Any  # checked against the probe's own shape


class _Raised(_Answer):
    error: Error


class _TimedOut(_Answer):
    seconds: Seconds
    processes: NotRequired[Count]


class _LoadTimedOut(_Answer):
    seconds: Seconds


class _Died(_Answer):
    code: ExitCode | None
    signal: Signal | None


ANSWERS: dict[str, Any] = {"ok": _Ok, "raised": _Raised, "timeout": _TimedOut,
                           "load-timeout": _LoadTimedOut, "died": _Died}


# -- the supervisor's evidence (probes/runner.py, run_in_fork) -------------------
# The supervisor runs in the sandbox beside the student's code, so what it
# writes is checked like the answer it comes with.
CpuSeconds = Annotated[float, Ge(0), Le(1e9)]  # a process's CPU time, as the kernel counts it


class Reading(TypedDict):
    """The supervisor's clock and the worker's CPU (its own and its reaped
    children's), at "go" or at the "end" of a call."""

    t: Instant
    cpu: CpuSeconds
    children: CpuSeconds
    # bytes: resident now, and the peak since "go" (VmHWM); None when the
    # kernel does not say; absent in answers written before they were added
    rss: NotRequired[Size | None]
    hwm: NotRequired[Size | None]


class Live(TypedDict):
    """Another live process of the submission, at the end of the call."""

    pid: Pid
    ppid: Annotated[int, Ge(0), Le(2**22)]  # 0 for a parent outside the pid namespace
    cpu: CpuSeconds
    threads: Count
    rss: NotRequired[Size | None]  # as in a Reading (hwm: its peak since it started)
    hwm: NotRequired[Size | None]
    # page faults (minor and major) of the process and of its reaped children
    # since it started: each page it touched first, or copied on write
    faults: NotRequired[Count | None]


class Around(TypedDict):
    """The grader's calibration, run by the supervisor before and after the worker."""

    before: Json
    after: NotRequired[Json]


class Evidence(TypedDict):
    """What the supervisor saw of one call (``Student.observe``)."""

    pid: NotRequired[Pid | None]  # the worker's
    go: Reading | None
    end: Reading | None
    live: listof(Live, 500) | None
    pulled: Annotated[int, Ge(-1), Le(10**12)] | None  # -1: the source was tampered with
    around: Around | None


# -- the check ---------------------------------------------------------------
@lru_cache(maxsize=512)
def _adapter(shape: Any) -> TypeAdapter:
    # TypeAdapter takes no config for a bare TypedDict (it could carry its
    # own); around a 1-tuple it does, and the config reaches every type inside.
    return TypeAdapter(tuple[shape], config=CONFIG)


def _reason(exc: ValidationError) -> str:
    """The first problem pydantic found: where, and what (never the input)."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    if not errors:
        return "of an unexpected shape"
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"][1:7])[:80]
    text = f"{where}: {first['msg']}" if where else str(first["msg"])
    return text[:160]


def unreadable(what: str, reason: str) -> StudentFailure:
    """The failure for data from the student process that has the wrong shape."""
    return StudentFailure(f"{what}: the grader could not read what your code produced "
                          f"({reason[:160]}).")


def read(shape: Any, value: object, what: str) -> Any:
    """``value`` checked against ``shape`` (extra keys of a TypedDict dropped);
    StudentFailure when it does not fit."""
    try:
        (checked,) = _adapter(shape).validate_python((value,))
    except ValidationError as exc:
        raise unreadable(what, _reason(exc)) from None
    return checked


def check_answer(answer: object, shape: Any, what: str) -> dict:
    """A raw answer of the student process, its status's fields checked and an
    ok answer's result checked against ``shape`` (the probe's promise)."""
    head = read(_Answer, answer, what)
    read(ANSWERS.get(head["status"], _Answer), answer, what)
    if head["status"] != "ok":
        return answer
    return {**answer, "result": read(shape, answer["result"], what)}


@lru_cache(maxsize=64)
def _around(shape: Any) -> Any:
    return TypedDict("Around", {"before": shape, "after": NotRequired[shape]})


def check_evidence(evidence: object, what: str, around: Any = Json) -> dict:
    """The evidence of an answer (``Evidence``), its extra keys dropped and the
    keys added later (``pid``; ``rss`` and ``hwm`` of the readings and of the
    live processes) set to None where missing; StudentFailure when it does
    not fit. ``around`` is the shape the calibration promises (see
    ``autograder.judges``), when the caller knows it."""
    checked = read(Evidence, evidence, what)
    if checked["around"] is not None and around is not Json:
        checked["around"] = read(_around(around), checked["around"], what)
    checked.setdefault("pid", None)
    for key in ("go", "end"):
        if checked[key] is not None:
            checked[key] = _with_memory(checked[key])
    if checked["live"] is not None:
        checked["live"] = [_with_memory(entry) for entry in checked["live"]]
    return checked


def _with_memory(reading: dict) -> dict:
    return {**reading, "rss": reading.get("rss"), "hwm": reading.get("hwm"),
            **({"faults": reading.get("faults")} if "ppid" in reading else {})}
