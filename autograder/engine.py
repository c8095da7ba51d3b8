"""The judge: run an assignment's tests (pytest, in this trusted process)
against one submission (in its own student process) and build the results.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder import assignments, sandbox
from autograder.child import Limits, StudentProcess
from autograder.model import (
    GRADER_ERROR,
    UNTESTED,
    QuestionResult,
    SubmissionResult,
    TestResult,
    bound,
    total,
)
from autograder.probes import common
from autograder.submissions import Submission, SubmissionError, prepare
from autograder.testing import Student, StudentFailure, split_points

# After this many time-outs in one question, its other tests are not run: a
# hang costs its question, not minutes of everyone's grading.
TIMEOUTS_PER_QUESTION = 2


@dataclass
class Settings:
    """How a grading run behaves; the CLI's options map onto these fields."""

    limits: Limits = field(default_factory=Limits)
    public_only: bool = False
    sandbox: str = "auto"
    # A folder of tests to run instead of the assignment's hidden tests (the
    # project's own tests use it to grade against a course of their making).
    hidden_tests: Path | None = None
    # The audit hook in each worker (see probes/guard.py). Off only in the
    # benchmark that measures what it costs: without it nothing is trusted.
    guard: bool = True


@dataclass
class _Outcome:
    status: str
    feedback: str
    # For a test not run because a test it needs had a grader error: that
    # test's title (the root cause, passed on down a chain of prerequisites).
    cause: str | None = None


class NotRun(Exception):
    """A test that needs a test which had a grader error: it is not judged at
    all (status error, no points, no blame) until the submission is regraded."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"Not run: “{cause}” had a grader error; this test will run when "
                         "the submission is regraded.")
        self.cause = cause


def _title(item: pytest.Item) -> str:
    doc = getattr(item.function, "__doc__", None) or item.name
    return doc.strip().splitlines()[0]


def _spec(item: pytest.Item) -> dict | None:
    marker = item.get_closest_marker("check")
    return dict(marker.kwargs) if marker else None


class GradingPlugin:
    """A pytest plugin, one per submission: gives tests the ``student``
    fixture, runs prerequisites, and records each test's outcome."""

    def __init__(self, sub: Submission, assignment: assignments.Assignment,
                 process: StudentProcess | None, settings: Settings) -> None:
        self.sub = sub
        self.assignment = assignment
        self.process = process
        self.settings = settings
        self.items: list[pytest.Item] = []
        self.outcomes: dict[str, _Outcome] = {}
        self.load_report: dict | None = None
        self.load_problem: str | None = None
        self.started = time.monotonic()
        self.timeouts: dict[str, int] = {}
        self.students: dict[str, Student] = {}  # each test's view, for its notes

    # -- collection -------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "check: a graded test (see autograder.testing.check)")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        kept = [item for item in items if _spec(item)]
        if self.settings.public_only:
            kept = [item for item in kept if not _spec(item)["hidden"]]
        items[:] = kept
        self.items = list(kept)

    # -- the fixture ------------------------------------------------------
    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> Student:
        spec = _spec(request.node)
        question = self.assignment.question(spec["question"])
        problem = self._load_problem()
        if problem:
            raise StudentFailure(problem)
        defined = (self.load_report or {}).get("defined", {})
        if question.name not in defined:
            raise StudentFailure(f"{self.sub.display} defines no "
                                 f"{'function' if question.name[0].islower() else 'name'} "
                                 f"`{question.name}`; write it with exactly that name.")
        if time.monotonic() - self.started > self.settings.limits.submission_seconds:
            raise StudentFailure(
                f"Not run: grading {self.sub.display} used up its "
                f"{self.settings.limits.submission_seconds:g} s; the tests before this one "
                "took too long.")
        if self.process.cpu_used > self.settings.limits.submission_cpu:
            raise StudentFailure(
                f"Not run: {self.sub.display} used up its {self.settings.limits.submission_cpu:g} "
                "s of CPU time in the tests before this one.")
        student = Student(self.process, self.sub.display, spec["timeout"])
        self.students[request.node.nodeid] = student
        return student

    def _load_problem(self) -> str | None:
        """Load the submission once (in a worker) to learn what it defines."""
        if self.load_report is None and self.load_problem is None:
            student = Student(self.process, self.sub.display, 5.0)
            what = f"importing {self.sub.display}"
            answer = student.outcome(common.load_report, what=what)
            if answer["status"] != "ok":
                self.load_problem = student.explain(answer, what)
            else:
                self.load_report = answer["result"]
                if self.load_report.get("status") != "loaded":
                    error = self.load_report.get("error", {})
                    where = error.get("where")
                    self.load_problem = (
                        f"{self.sub.display}{', ' + where if where else ''}: "
                        f"{error.get('type')}: {error.get('message')}. Fix this first: "
                        "nothing in the file can be graded until it loads.")
        return self.load_problem

    # -- running ----------------------------------------------------------
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        spec = _spec(item)
        if self.timeouts.get(spec["question"], 0) >= TIMEOUTS_PER_QUESTION:
            raise StudentFailure(
                f"Not run: {TIMEOUTS_PER_QUESTION} earlier tests of {spec['question']} did not "
                "finish in time, so the rest of this question is not run (it would only wait).")
        by_name = {i.name: i for i in self.items}
        for needed in spec["after"]:
            outcome = self.outcomes.get(by_name[needed].nodeid) if needed in by_name else None
            if outcome is not None and outcome.status == "error":
                raise NotRun(outcome.cause or _title(by_name[needed]))
            if outcome is None or outcome.status != "passed":
                raise StudentFailure(
                    f"Not run: this test needs “{_title(by_name[needed])}” to pass first."
                    if needed in by_name else f"Not run: prerequisite {needed} is missing.")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> None:
        if item.nodeid in self.outcomes and self.outcomes[item.nodeid].status != "passed":
            return  # the first failure (setup or call) is the one that explains
        excinfo = call.excinfo
        if excinfo is None:
            if call.when == "call":
                student = self.students.get(item.nodeid)
                notes = "; ".join(student.notes) if student else ""
                self.outcomes[item.nodeid] = _Outcome("passed", notes)
            return
        error = excinfo.value
        if isinstance(error, StudentFailure) and error.kind == "timeout":
            question = _spec(item)["question"]
            self.timeouts[question] = self.timeouts.get(question, 0) + 1
        if isinstance(error, NotRun):
            self.outcomes[item.nodeid] = _Outcome("error", str(error), cause=error.cause)
        elif isinstance(error, AssertionError):
            self.outcomes[item.nodeid] = _Outcome("failed", str(error) or "the check failed")
        else:
            self.outcomes[item.nodeid] = _Outcome(
                "error", f"the grader failed ({call.when}): {type(error).__name__}: {error}")

    # -- results ----------------------------------------------------------
    def results(self) -> list[QuestionResult]:
        by_question: dict[str, list[pytest.Item]] = {}
        for item in self.items:
            by_question.setdefault(_spec(item)["question"], []).append(item)
        questions = []
        for question in self.assignment.questions:
            items = by_question.get(question.id, [])
            shares = split_points(question.points, [_spec(i)["weight"] for i in items])
            tests = []
            for item, share in zip(items, shares, strict=False):
                outcome = self._outcome(item)
                # A grader error earns nothing: it marks the submission incomplete instead.
                earned = share if outcome.status == "passed" else 0.0
                tests.append(TestResult(_title(item), outcome.status, earned, share,
                                        _spec(item)["hidden"], bound(outcome.feedback)))
            max_score = question.points if items else 0.0
            questions.append(QuestionResult(question.id, question.name,
                                            round(sum(t.score for t in tests), 4),
                                            max_score, tests))
        return questions

    def _outcome(self, item: pytest.Item) -> _Outcome:
        return self.outcomes.get(item.nodeid) or _Outcome(
            "error", "the grader never ran this test")

    def grader_errors(self) -> list[str]:
        """Each test that had a grader error of its own (not those it kept
        from running), for the submission's ``errors``."""
        return [f"{GRADER_ERROR}: {_spec(item)['question']}: {_title(item)}: "
                f"{bound(outcome.feedback, 400)}"
                for item in self.items
                if (outcome := self._outcome(item)).status == "error" and outcome.cause is None]


def pytest_args(assignment: assignments.Assignment, public_only: bool,
                hidden_tests: Path | None = None) -> list[str]:
    hidden_tests = hidden_tests or assignment.hidden_tests
    targets = [str(assignment.public_tests)]
    if not public_only:
        targets.append(str(hidden_tests))
    # Plugins the judge does not need cost time on every submission
    # (unraisableexception alone runs gc.collect() several times).
    quiet = ["cacheprovider", "terminal", "stepwise", "unraisableexception", "threadexception",
             "doctest", "junitxml", "pastebin", "faulthandler", "logging", "warnings"]
    return [*targets, *(arg for name in quiet for arg in ("-p", f"no:{name}")),
            "--assert=plain", "-c", os.devnull, "--rootdir", str(hidden_tests.parent),
            "--import-mode=importlib"]


def grade_one(sub: Submission, settings: Settings | None = None) -> SubmissionResult:
    """Grade one submission; never raises for anything the submission does."""
    settings = settings or Settings()
    started = time.monotonic()
    result = SubmissionResult(str(sub.path), sub.student, sub.assignment, 0.0, 0.0,
                              name=sub.name, lms_id=sub.lms_id, late=sub.late,
                              notes=list(sub.notes))
    try:
        assignment = assignments.get(sub.assignment) if sub.assignment else None
    except KeyError as exc:
        assignment = None
        sub.problems.append(str(exc.args[0]))
    if assignment is not None:
        result.max_score = assignment.max_score
    if sub.problems or assignment is None:
        return _without_tests(result, assignment, sub.problems, "failed", started)
    with tempfile.TemporaryDirectory(prefix="advpy-") as scratch:
        try:
            module_file = prepare(sub, Path(scratch) / "work")
        except SubmissionError as exc:
            return _without_tests(result, assignment, [str(exc)], "failed", started)
        try:
            box = sandbox.choose(settings.sandbox, secrets=not settings.public_only)
            launch = box.launch(module_file, Path(scratch), settings.limits, hidden=[
                assignments.PACKAGE, assignments.course_root(), sub.path.parent,
                *([settings.hidden_tests] if settings.hidden_tests else [])])
        except (OSError, RuntimeError) as exc:
            reason = f"{GRADER_ERROR}: the sandbox could not be set up ({exc})"
            return _without_tests(result, assignment, [reason], "error", started)
        result.sandbox = box.name
        process = StudentProcess(module_file, assignment.slug, settings.limits, launch,
                                 guard=settings.guard)
        plugin = GradingPlugin(sub, assignment, process, settings)
        try:
            code = pytest.main(pytest_args(assignment, settings.public_only,
                                           settings.hidden_tests), plugins=[plugin])
        finally:
            process.close()
            if launch.cgroup:
                launch.cgroup.remove()
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        reason = f"{GRADER_ERROR}: the tests could not run (pytest exit status {int(code)})"
        return _without_tests(result, assignment, [reason], "error", started)
    result.questions = plugin.results()
    result.errors.extend(_load_errors(plugin))
    result.errors.extend(plugin.grader_errors())
    result.complete = not any(t.status == "error" for q in result.questions for t in q.tests)
    result.score, _ = total(result.questions)
    result.seconds = time.monotonic() - started
    return result


def grader_failure(sub: Submission, reason: str) -> SubmissionResult:
    """The result of a submission that the grader itself failed on (an
    exception of ours, a grading process that died): every question a grader
    error, no points, incomplete."""
    result = SubmissionResult(str(sub.path), sub.student, sub.assignment, 0.0, 0.0,
                              name=sub.name, lms_id=sub.lms_id, late=sub.late,
                              notes=list(sub.notes))
    try:
        assignment = assignments.get(sub.assignment) if sub.assignment else None
    except KeyError:
        assignment = None
    if assignment is not None:
        result.max_score = assignment.max_score
    return _without_tests(result, assignment, [f"{GRADER_ERROR}: {reason}"], "error",
                          time.monotonic())


def _without_tests(result: SubmissionResult, assignment: assignments.Assignment | None,
                   reasons: list[str], status: str, started: float) -> SubmissionResult:
    """Finish a result whose tests could not run: every question as one test
    with ``status`` (failed: the submission's fault; error: ours, which leaves
    the submission incomplete). Either way no points."""
    result.errors.extend(reasons)
    if assignment is not None:
        result.questions = _untested(assignment, "; ".join(reasons), status=status)
    result.complete = status != "error"
    result.score, _ = total(result.questions)
    result.seconds = time.monotonic() - started
    return result


def _load_errors(plugin: GradingPlugin) -> list[str]:
    if plugin.load_problem:
        return [plugin.load_problem]
    report = plugin.load_report or {}
    messages = []
    for error in report.get("errors", []):
        where = error.get("where")
        messages.append(f"{plugin.sub.display}{', ' + where if where else ''}: "
                        f"{error['type']}: {error['message']} (raised at import; what was "
                        "defined before it is still graded)")
    for error in report.get("cell_errors", []):
        line = f", line {error['line']}" if error.get("line") else ""
        if error.get("type") == "NotRun":  # a magic or shell line skipped, not an error
            messages.append(f"{plugin.sub.display}, cell {error['cell']}: {error['message']}")
            continue
        messages.append(f"{plugin.sub.display}, cell {error['cell']}{line}: {error['type']}: "
                        f"{error['message']} (the cells after it still ran)")
    return [bound(m, 400) for m in messages]


def _untested(assignment: assignments.Assignment, reason: str,
              status: str) -> list[QuestionResult]:
    """Every question as one test with ``status``, scoring 0."""
    return [QuestionResult(q.id, q.name, 0.0, q.points,
                           [TestResult(UNTESTED, status, 0.0,
                                       q.points, False, bound(reason))])
            for q in assignment.questions]
