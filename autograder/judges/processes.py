"""The trusted side of the processes assignment: what each probe promises to return.

Pids, times and CPU seconds are measurements, typed and bounded; the values
the student's functions returned are ``Json``. A probe that runs several
cases reports one observation per case, and fewer only when the last one is
the exception that stopped it.
"""

from typing import Annotated, Any, Literal

from annotated_types import Ge, Le

from autograder.probes import processes as probe
from autograder.shapes import (
    ByArguments,
    Count,
    Error,
    ExitCode,
    Instant,
    Json,
    Name,
    Pid,
    Seconds,
    Text,
    TypedDict,
    keyed,
    listof,
    per_case,
    row,
)

MOST = 10_000  # no probe hands more items than this to the student's code
CpuCount = Annotated[int, Ge(1), Le(1 << 16)]
CpuShare = Annotated[float, Ge(0), Le(1 << 16)]
# [pid, start, end, cpu seconds] of one item, as ``work`` returns them
Item = row(Pid, Instant, Instant, Seconds)


class Cpus(TypedDict):
    affinity: CpuCount
    quota: CpuShare | None
    usable: CpuShare
    cpu_count: CpuCount | None


class Failed(TypedDict):
    """The exception that stopped a case (or a start method's run)."""

    error: Error


# -- q1 -------------------------------------------------------------------------
class Choices(TypedDict):
    type: Name
    repr: Text
    pairs: listof(row(Text, Text | None, Name, Text), 50) | None


# -- q2 -------------------------------------------------------------------------
class Record(TypedDict):
    pid: Pid
    start: Instant
    end: Instant


class NotProcess(TypedDict):
    type: Name
    is_process: Literal[False]


class IsProcess(TypedDict):
    type: Name
    is_process: Literal[True]
    pid: Pid | None
    exitcode: ExitCode | None


class RunProcesses(TypedDict):
    caller: Pid
    called_at: Instant
    returned_at: Instant
    type: Name
    repr: Text
    list_type: Name | None
    returned: listof(IsProcess | NotProcess, 200) | None
    records: listof(Record, MOST)
    cpus: Cpus


# -- q3 and q4 ------------------------------------------------------------------
class _Mapped(TypedDict):
    caller: Pid
    type: Name | None
    repr: Text
    elapsed: Seconds


class _Values(TypedDict):
    values: listof(Json, MOST)
    records: listof(Item | None, MOST)


class _NoValues(TypedDict):
    values: None
    records: None


class MappedList(_Mapped, _Values):
    pass


class MappedNothing(_Mapped, _NoValues):
    pass


Mapped = MappedList | MappedNothing


class _Speedup(TypedDict):
    caller: Pid
    cpus: Cpus
    iterations: Count
    elapsed: Seconds
    type: Name | None


class _Measured(TypedDict):
    ours_before: listof(Item, MOST, least=1)
    ours_after: listof(Item, MOST, least=1) | None


class _Unmeasured(TypedDict):
    ours_before: None
    ours_after: None


class MeasuredList(_Speedup, _Values, _Measured):
    pass


class MeasuredNothing(_Speedup, _NoValues, _Measured):
    pass


class UnmeasuredList(_Speedup, _Values, _Unmeasured):
    pass


class UnmeasuredNothing(_Speedup, _NoValues, _Unmeasured):
    pass


def _speedup(workers, count, item_seconds, sleep, measure) -> Any:
    if measure:
        return MeasuredList | MeasuredNothing
    return UnmeasuredList | UnmeasuredNothing


# -- q5 -------------------------------------------------------------------------
class Trace(TypedDict):
    pid: Pid
    kind: Name
    time: Instant


class Sum(TypedDict):
    caller: Pid
    value: Json
    type: Name
    repr: Text
    traces: listof(Trace, MOST)
    started: Count


# -- several start methods ------------------------------------------------------
class SeenRunProcesses(TypedDict):
    seen: RunProcesses


class SeenMapped(TypedDict):
    seen: Mapped


class SeenSum(TypedDict):
    seen: Sum


class TimedOut(TypedDict):
    timeout: Seconds


_SEEN = {"run_processes": SeenRunProcesses, "mapped": SeenMapped, "sum_of_squares": SeenSum}


SHAPES = {
    probe.choices: Choices,
    probe.usable_cpus: Cpus,
    probe.run_processes: RunProcesses,
    probe.mapped: Mapped,
    probe.mapped_cases: ByArguments(
        lambda name, cases: per_case(Mapped | Failed, len(cases), stop="error")),
    probe.speedup: ByArguments(_speedup),
    probe.sum_of_squares: Sum,
    probe.sum_cases: ByArguments(
        lambda cases: per_case(Sum | Failed, len(cases), stop="error")),
    probe.under_start_methods: ByArguments(
        lambda name, methods, args, deadline: keyed(_SEEN[name] | Failed | TimedOut, methods)),
}
