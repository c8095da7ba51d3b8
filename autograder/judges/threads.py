"""The trusted side of the threads assignment: the shapes its probes promise,
the one way its tests call a probe, and the wording of feedback.

This runs in the grader, on observations that the shapes have checked. The
reports of ``autograder.probes.threads`` may all be a hang report instead
(``Hung``: where the threads were when the call was interrupted).
"""

from typing import Any, Literal

from autograder.errors import StudentFailure
from autograder.probes import threads as probe
from autograder.shapes import (
    ByArguments,
    Count,
    Error,
    ExitCode,
    Instant,
    Json,
    Name,
    NotRequired,
    Seconds,
    Text,
    TypedDict,
    listof,
    per_case,
)

STUCK = ("Is a lock never released, or taken twice by the same thread (a Lock is not "
         "reentrant)? Do your threads ever stop? Did you join them?")


# -- shapes --------------------------------------------------------------------
class Place(TypedDict):
    """Where some threads were (threads_hangs.where_threads)."""

    main: bool
    count: Count
    daemon: bool
    where: Name | None
    code: Text
    function: Name | None
    grader: NotRequired[bool]


Places = listof(Place, 50)
Errors = listof(Error, 20)


class Hung(TypedDict):
    hung: Literal[True]
    after: Seconds
    threads: Places


class RunThreads(TypedDict):
    returned_type: Name
    is_list: bool
    returned_len: Count | None
    returned_threads: Count
    returned_distinct: Count
    returned_that_ran: Count
    calls: Count
    threads: Count
    in_caller: Count
    alive_at_return: Count
    barrier_passed: Count | None
    barrier_missed: Count | None
    errors: Errors


class Snapshot(TypedDict):
    value: Json
    serial: Count | None


class Hold(TypedDict):
    n: Count
    seconds: Seconds
    before: Snapshot
    after: Snapshot
    by_owner: bool


class Add(TypedDict):
    held: bool
    hold: Count | None
    operand: Count


class Sleep(TypedDict):
    seconds: float | None  # the student's own argument to time.sleep (finite)
    held: bool


class Raised(Error):
    ours: bool


class IncreaseOnce(TypedDict):
    final: Snapshot
    holds: listof(Hold, 50)
    adds: listof(Add, 20)
    sleeps: listof(Sleep, 20)
    acquired: Count
    still_locked: bool
    injected: Count
    raised: Raised | None


class IncreaseContention(TypedDict):
    final: Snapshot
    race: bool
    gate_timed_out: bool
    acquired: Count
    still_locked: bool
    errors: Errors
    reads: Count
    stale: Count


class RunIncrease(TypedDict):
    returned: Json
    returned_type: Name
    database_value: Json
    calls: Count
    threads: Count
    in_caller: Count
    alive_at_return: Count
    locks: Count
    lock_types: listof(Name, 20)
    race: bool
    errors: Errors


class CounterContention(TypedDict):
    value: Json
    type: Name
    errors: Errors


class CounterBasics(TypedDict):
    initial: Json
    after_one: Json
    after_six: Json
    second: Json
    first_again: Json
    set_raised: Name | None
    after_set: Json
    value_type: Name


class Heartbeat(TypedDict):
    type: Name
    is_thread: bool
    daemon: bool | None
    alive_at_return: bool
    alive_at_end: bool
    started: Instant
    returned: Instant
    ended: Instant
    beats: listof(Json, 200)
    count: Count
    writer_is_returned: bool | None
    writers: Count


class ChildReport(TypedDict, total=False):
    """What the fresh interpreter printed (threads_child.py); its stdout is the student's too."""

    loaded: bool
    started: bool
    beats: Count
    daemon: bool | None
    non_daemon: Count
    error: Text


class _Exit(TypedDict):
    exited: bool
    code: ExitCode | None
    seconds: Seconds


class Unreported(_Exit):
    reported: Literal[False]


class Reported(_Exit):
    reported: Literal[True]
    report: ChildReport


class Held(TypedDict):
    ended: Count
    released: bool


class QueueReport(TypedDict):
    calls: listof(Json, 1000)
    threads: Count
    caller_worked: bool
    peak: Count
    started: Count | None  # most threads of process_queue alive at a call (None: no /proc)
    busy_at_return: Count  # calls of the worker still running when it returned
    results: Json
    type: Name
    left_running: Places
    barrier_passed: Count | None
    barrier_missed: Count | None
    held: Held | None  # the held call's report (None: no hold, or it never ended)
    errors: Errors


SHAPES = {
    probe.run_threads: RunThreads | Hung,
    probe.increase_once: IncreaseOnce | Hung,
    probe.increase_contention: IncreaseContention | Hung,
    probe.run_increase: RunIncrease | Hung,
    probe.counter_contention: CounterContention | Hung,
    probe.counter_basics: CounterBasics | Hung,
    probe.heartbeat: Heartbeat | Hung,
    probe.heartbeat_exit: Reported | Unreported,
    probe.process_queue: ByArguments(
        lambda cases: per_case(QueueReport | Hung, len(cases), stop="hung")),
}


# -- calling a probe -------------------------------------------------------------
def run_probe(student, function, *args: Any, what: str, hint: str = STUCK,
              timeout: float = 8) -> Any:
    """Run a threads probe and return its (checked) report; a call that hangs
    fails with where the threads were."""
    answer = student.outcome(function, *args, what=what, timeout=timeout)
    if answer["status"] == "timeout":
        raise StudentFailure(f"{what}: the threads were still alive after "
                             f"{answer['seconds']:g} s. {hint}", kind="timeout")
    if answer["status"] != "ok":
        raise StudentFailure(student.explain(answer, what), kind=answer["status"])
    seen = answer["result"]
    for report in seen if isinstance(seen, list) else [seen]:
        if report.get("hung"):
            raise StudentFailure(hang_text(report, what, hint), kind="timeout")
    return seen


# -- wording feedback from observations -------------------------------------------
def threads_text(groups: list[dict]) -> str:
    """'the main thread at line 12 (`t.join()`) in run_threads; 3 threads at …'"""
    parts = []
    for group in groups:
        count = group.get("count", 1)
        who = ("the main thread" if group.get("main")
               else "a thread" if count == 1 else f"{count} threads")
        if group.get("where"):
            place = f"at {group['where']}"
            if group.get("code"):
                place += f" (`{group['code']}`)"
            if group.get("function"):
                place += f" in {group['function']}"
        elif group.get("grader"):
            place = "in the grader's code, waiting for your threads"
        else:
            place = f"outside your code ({group.get('function') or 'unknown'})"
        parts.append(f"{who} {place}")
    return "; ".join(parts)


def hang_text(seen: dict, what: str, hint: str) -> str:
    """Feedback for a call that was interrupted: where the threads were."""
    where = threads_text(seen["threads"])
    return (f"{what} had not returned after {seen['after']:g} s: the threads "
            f"were still alive. Where they were: {where or 'unknown'}. {hint}").strip()


def errors_text(errors: list[dict]) -> str:
    """' A thread raised ValueError: … (line 3).' for the first exception of a thread."""
    if not errors:
        return ""
    first = errors[0]
    where = f" ({first['where']})" if first.get("where") else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f" A thread raised {first['type']}: {first['message']}{where}{more}."
