"""What a test author writes with: the ``check`` decorator and the ``student`` fixture.

A test is a small pytest function in the grader's own (trusted) process. Its
docstring is the title the student sees. It asks the student process to run a
probe (``student.call``), receives plain observations, and judges them with
``assert`` statements whose message is the feedback::

    @check("q3", weight=2, hidden=True, timeout=3)
    def test_lazy(student):
        \"\"\"firstn_generator(10**18) starts at once\"\"\"
        seen = student.call(probe.items, "firstn_generator", (10**18,), 3,
                            what="firstn_generator(10**18) and taking 3 items")
        assert seen["items"] == [0, 1, 2], f"it gave {seen['items']!r}"
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from autograder import judges, shapes
from autograder.errors import ChannelBroken, StudentFailure

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Question:
    """One question of an assignment, as the spec fixes it."""

    id: str
    name: str
    points: float


def check(question: str, *, weight: float = 1.0, hidden: bool = True,
          timeout: float | None = None, after: str | tuple[str, ...] = (),
          timing: bool = False) -> Callable:
    """Declare a test of ``question``: its share of the points (``weight``,
    relative to the question's other tests), its visibility, its time limit,
    and the tests (function names) that must pass before it can run.

    ``timing``: what the test judges depends on how fast things run (a
    speedup, waits that must overlap, an interval, a deadline a correct
    solution meets only on CPUs that are not busy elsewhere). When several
    submissions are graded at once, such a test runs alone: every other
    job waits until it is over (``engine.CpuShare``)."""
    if isinstance(after, str):
        after = (after,)
    marker = pytest.mark.check(question=question, weight=float(weight), hidden=hidden,
                               timeout=timeout or DEFAULT_TIMEOUT, after=tuple(after),
                               timing=bool(timing))
    return marker


def split_points(points: float, weights: list[float]) -> list[float]:
    """The one place that decides how a question's points split over its tests."""
    total = sum(weights)
    if total <= 0:
        return [0.0 for _ in weights]
    return [round(points * w / total, 4) for w in weights]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _error_text(error: dict, display: str) -> str:
    kind, message = error.get("type", "Exception"), error.get("message", "")
    where = error.get("where")
    text = f"{kind}: {message}" if message else kind
    return f"{text} ({display}, {where})" if where else text


@dataclass(frozen=True)
class Seen:
    """What one probe call gave: the probe's result (from the student process,
    shape-checked) and the evidence the supervisor took itself (see
    ``Student.observe``)."""

    result: Any
    evidence: dict


class Student:
    """The student's submission, as a test sees it: a process to run probes in."""

    def __init__(self, process, display: str, timeout: float) -> None:
        self._process = process
        self.display = display
        self.timeout = timeout
        self.limits = process.limits
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        """Feedback for a test that passes: how it was judged here ("speedup
        cannot be measured on 1 CPU; judged from concurrent processes")."""
        self.notes.append(text)

    def call(self, probe: Callable, *args: Any, what: str, timeout: float | None = None,
             memory: int | None = None, **kwargs: Any) -> Any:
        """Run ``probe(module, *args, **kwargs)`` in the student process and
        return what it observed. ``what`` says, for the feedback, what the
        probe does with the student's code ("list(evens(10))"). ``memory``
        caps how many bytes the worker's resident memory may grow by while
        the probe runs: for a call that should need next to nothing, so that
        eager code is stopped at once rather than at the time-out.

        Raises StudentFailure when the student's code raised, hung, crashed or
        hit a limit, with a message that says which.
        """
        answer = self.outcome(probe, *args, what=what, timeout=timeout, memory=memory, **kwargs)
        if answer["status"] == "ok":
            return answer["result"]
        raise StudentFailure(self.explain(answer, what), kind=answer["status"])

    def observe(self, probe: Callable, *args: Any, what: str, timeout: float | None = None,
                source: int | None = None, around: tuple | None = None,
                **kwargs: Any) -> Seen:
        """Like ``call``, with the evidence the student's code cannot write: the
        supervisor's clock and the kernel's CPU counters when the probe starts
        ("go") and when its answer arrives ("end"), the other live processes
        ("live", with each one's parent, CPU and peak memory), the items
        taken from a counting source (``source``: N items, or -1 for endless;
        the probe gets it as its ``source`` argument), and
        ``around=(function, args)`` run by the supervisor before and after the
        worker. The evidence is shape-checked (``shapes.check_evidence``)."""
        options: dict = {"evidence": True}
        if source is not None:
            options["source"] = source
        around_shape: Any = shapes.Json
        if around is not None:
            function, around_args = around
            options["around"] = (function.__module__, function.__name__, tuple(around_args))
            around_shape = judges.shape_of(function, tuple(around_args), {})
        answer = self.outcome(probe, *args, what=what, timeout=timeout, options=options,
                              **kwargs)
        if answer["status"] != "ok":
            raise StudentFailure(self.explain(answer, what), kind=answer["status"])
        # The supervisor shares the sandbox with the student's code: its
        # evidence is checked like everything else that comes from there.
        evidence = shapes.check_evidence(answer.get("evidence"), what, around_shape)
        # What was asked for must be there: a test reads it without checking.
        wanted = [("go", True), ("end", True), ("pid", True), ("live", True),
                  ("pulled", source is not None), ("around", around is not None)]
        missing = [key for key, asked in wanted if asked and evidence.get(key) is None]
        if around is not None and evidence.get("around") and "after" not in evidence["around"]:
            missing.append("around.after")
        if missing:
            raise shapes.unreadable(what, f"no {', '.join(missing)} in the evidence")
        return Seen(answer["result"], evidence)

    def outcome(self, probe: Callable, *args: Any, what: str, timeout: float | None = None,
                options: dict | None = None, memory: int | None = None,
                **kwargs: Any) -> dict:
        """Like ``call`` but returns the raw answer ({"status": ..., ...}) for
        tests that expect the student's code to raise. It comes from the
        student process, so it is checked first: its status's fields, and an
        ok answer's result against the shape the probe promises
        (``autograder.judges``); StudentFailure when it does not fit."""
        shape = judges.shape_of(probe, args, kwargs)
        limit = timeout or self.timeout
        if memory is not None:
            options = {**(options or {}), "memory": int(memory)}
        try:
            answer = self._process.call(probe, args, kwargs, timeout=limit, options=options)
            answer = shapes.check_answer(answer, shape, what)
            if answer["status"] == "memory":
                # The cap is the grader's own number, not what came back.
                answer = {"status": "memory", "cap": memory}
            return answer
        except ChannelBroken as exc:
            raise StudentFailure(
                f"{what}: the student process stopped answering the grader ({exc}); "
                "did your code kill its parent process or write to the grader's pipes?"
            ) from None

    def explain(self, answer: dict, what: str) -> str:
        """Feedback for an answer that is not ``ok``."""
        status = answer["status"]
        if status == "raised":
            error = answer["error"]
            if error.get("type") == "MemoryError":
                gib = self.limits.memory / 1024**3
                return (f"{what}: your code used more than {gib:g} GiB of memory "
                        f"({_error_text(error, self.display)}).")
            if error.get("type") == "SystemExit":
                return (f"{what} called sys.exit() ({_error_text(error, self.display)}); "
                        "a function should return or raise, not end the program.")
            return f"{what} raised {_error_text(error, self.display)}."
        if status == "timeout" and answer.get("processes", 0) >= 0.8 * self.limits.processes:
            return (f"{what} did not finish within {answer['seconds']:g} s and had started "
                    f"about {answer['processes']} processes (the limit is "
                    f"{self.limits.processes}): does it fork without end?")
        if status == "timeout":
            return (f"{what} did not finish within {answer['seconds']:g} s: is there an "
                    "infinite loop, a blocking call, or a thread that never ends?")
        if status == "memory" and answer.get("cap"):
            return (f"{what}: its memory had grown by more than {answer['cap'] / 1024**2:g} "
                    "MiB when the grader stopped it, far more than this needs.")
        if status == "load-timeout":
            return (f"importing {self.display} did not finish within {answer['seconds']:g} s: "
                    "does code at the top level loop forever or wait for input?")
        if status == "died":
            if answer.get("signal"):
                name = _signal_name(answer["signal"])
                cgroup = getattr(getattr(self._process, "launch", None), "cgroup", None)
                if name == "SIGKILL" and cgroup is not None and cgroup.oom_killed():
                    gib = self.limits.memory / 1024**3
                    return f"{what}: your code used more than {gib:g} GiB of memory."
                if name == "SIGKILL":
                    return (f"{what}: the process was killed (SIGKILL), usually for using "
                            "too much memory or starting too many processes.")
                if name == "SIGXCPU":
                    return (f"{what}: your code used more than {self.limits.cpu} s of CPU "
                            "time and was stopped.")
                if name == "SIGXFSZ":
                    return (f"{what}: your code wrote a file larger than "
                            f"{self.limits.file_size // 1024**2} MB and was stopped.")
                return f"{what}: the process crashed ({name})."
            return (f"{what}: the process exited with code {answer.get('code')} before "
                    "answering; did your code call os._exit() or sys.exit()?")
        if status == "tampered":
            return (f"{what}: something other than the grader's probe wrote to the grader's "
                    "pipe, so this answer cannot be trusted and counts as failed.")
        if status == "unloadable":
            return f"{self.display} could not be loaded."
        return f"{what}: the student process gave an answer the grader does not understand."
