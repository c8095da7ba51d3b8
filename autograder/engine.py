"""The judge: run an assignment's tests (pytest, in this trusted process)
against submissions (each in its own student process) and build the results.

One pytest session grades many submissions of one assignment: pytest
starts and collects the tests once, then runs every test again for each
submission (``GradingPlugin.pytest_runtestloop``), each with its own
sandbox, student process and outcomes (``Grading``). A submission's result
depends on nothing an earlier one did: the ``student`` fixture is per test,
the student process is per submission, and every test module's state that
lasts keys on that process.

Several jobs (processes, ``api.grade_submissions``) may grade at once. They
share the CPUs through ``CpuShare``: a test marked ``timing`` (speedup,
concurrency, latency) runs only while every other job waits.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

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

HERE = Path(__file__).resolve().parent
_PYTEST_VERSION = tuple(int(part) for part in pytest.__version__.split(".")[:2] if part.isdigit())
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
    # Folders the student process must never see besides its own submission's:
    # the whole class being graded (other students' work) and where results go.
    private: tuple[Path, ...] = ()


# -- sharing the CPUs between jobs -------------------------------------------
class CpuShare:
    """The CPUs of one grading run, shared by its jobs (one process each): a
    readers-writer lock on two files of the run's scratch folder
    (``fcntl.flock``: it spans processes, and the kernel drops the locks of a
    job that dies).

    A job holds the lock shared whenever it works (starting sandboxes,
    pytest, ordinary tests) and lets go of it only when it waits for work
    or, between two tests, when a timing test waits. A timing test takes the
    turnstile, then the lock exclusively: once it holds the turnstile no job
    gets the lock again, so the jobs at work finish their current test and
    stop, and the timing test runs with the CPUs to itself."""

    def __init__(self, folder: Path) -> None:
        self._lock = os.open(folder / "cpus.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._turnstile = os.open(folder / "cpus.turnstile", os.O_RDWR | os.O_CREAT, 0o600)
        self._held = False

    def work(self) -> None:
        """Hold the lock shared (after any timing test that is waiting)."""
        if self._held:
            return
        fcntl.flock(self._turnstile, fcntl.LOCK_SH)
        fcntl.flock(self._turnstile, fcntl.LOCK_UN)
        fcntl.flock(self._lock, fcntl.LOCK_SH)
        self._held = True

    def rest(self) -> None:
        """Let go of the lock (waiting for work uses no CPU)."""
        if self._held:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._held = False

    def between(self) -> None:
        """Between two tests: if a timing test waits, let it run first."""
        try:
            fcntl.flock(self._turnstile, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            self.rest()
        else:
            fcntl.flock(self._turnstile, fcntl.LOCK_UN)
        self.work()

    @contextmanager
    def alone(self) -> Iterator[None]:
        """The CPUs to ourselves: every other job waits until we are done."""
        self.rest()
        fcntl.flock(self._turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock, fcntl.LOCK_UN)
        finally:
            fcntl.flock(self._turnstile, fcntl.LOCK_UN)
        self.work()

    def close(self) -> None:
        for fd in (self._lock, self._turnstile):
            os.close(fd)


@dataclass
class Job:
    """Where grading runs: one job of a run (``slot``, of the run started by
    process ``owner``), which gives its sandboxes a uid of their own, and the
    run's ``CpuShare`` (None when this job grades alone)."""

    slot: int = 0
    owner: int | None = None
    share: CpuShare | None = None

    @contextmanager
    def test(self, timing: bool) -> Iterator[None]:
        """Run one test: alone if it is ``timing``, beside the other jobs' otherwise."""
        if self.share is None:
            yield
        elif timing:
            with self.share.alone():
                yield
        else:
            self.share.between()
            yield

    def work(self) -> None:
        if self.share is not None:
            self.share.work()

    def rest(self) -> None:
        if self.share is not None:
            self.share.rest()


class Feed(Protocol):
    """Where a job gets submissions and leaves their results, one at a time:
    ``give`` finishes the submission ``take`` handed out last."""

    def take(self, assignment: str | None) -> Submission | None:
        """The next submission (preferably of ``assignment``), None when there is none."""

    def give(self, result: SubmissionResult) -> None:
        """The result of the submission taken last."""


# -- one submission's run of the tests ----------------------------------------
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


class Grading:
    """One submission's run of the tests: its student process, what it
    defines, and each test's outcome."""

    def __init__(self, sub: Submission, assignment: assignments.Assignment,
                 process: StudentProcess | None, settings: Settings,
                 items: list[pytest.Item]) -> None:
        self.sub = sub
        self.assignment = assignment
        self.process = process
        self.settings = settings
        self.items = items
        self.outcomes: dict[str, _Outcome] = {}
        self.load_report: dict | None = None
        self.load_problem: str | None = None
        self.started = time.monotonic()
        self.timeouts: dict[str, int] = {}
        self.students: dict[str, Student] = {}  # each test's view, for its notes

    def student(self, node: pytest.Item) -> Student:
        """The ``student`` fixture of one test."""
        spec = _spec(node)
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
        self.students[node.nodeid] = student
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

    def setup(self, item: pytest.Item) -> None:
        """Before a test: skip it when its question timed out too often or a
        test it needs did not pass."""
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

    def record(self, item: pytest.Item, call: pytest.CallInfo) -> None:
        """A test's setup, call or teardown is over: keep its outcome."""
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


# -- one pytest session, many submissions ---------------------------------------
class GradingPlugin:
    """A pytest plugin for one session: the tests of one assignment, collected
    once, run for one submission after another from ``feed`` (as long as it
    hands out submissions of this assignment)."""

    def __init__(self, assignment: assignments.Assignment, settings: Settings, job: Job,
                 feed: Feed, first: Submission) -> None:
        self.assignment = assignment
        self.settings = settings
        self.job = job
        self.feed = feed
        self.first: Submission | None = first  # not graded yet: the session never ran
        self.leftover: Submission | None = None  # taken, of another assignment
        self.items: list[pytest.Item] = []
        self.current: Grading | None = None
        self.escaped: BaseException | None = None  # what stopped the loop over submissions
        self.interrupted = False  # Ctrl-C while pytest ran (collecting, say)

    # -- collection -------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "check: a graded test (see autograder.testing.check)")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        kept = [item for item in items if _spec(item)]
        if self.settings.public_only:
            kept = [item for item in kept if not _spec(item)["hidden"]]
        items[:] = kept
        self.items = list(kept)

    # -- one submission's tests ---------------------------------------------
    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> Student:
        return self.current.student(request.node)

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.current.setup(item)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo) -> pytest.TestReport | None:
        self.current.record(item, call)
        if call.excinfo is not None and call.excinfo.errisinstance(pytest.skip.Exception):
            return None  # pytest's own report says why
        # Our own report, so that pytest does not format a traceback (its
        # source, its locals) for every failed test: the outcome is kept above.
        failed = call.excinfo is not None
        return pytest.TestReport(
            item.nodeid, item.location, {}, "failed" if failed else "passed",
            str(call.excinfo.value) if failed else None, call.when, duration=call.duration,
            start=call.start, stop=call.stop, user_properties=[])

    # -- the loop over submissions ----------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if session.testsfailed:
            raise session.Interrupted(f"{session.testsfailed} errors during collection")
        if not self.items:
            return True  # pytest says so (no tests collected): a grader error
        try:
            self._loop(session)
        except BaseException as exc:
            # pytest would keep it (an internal error, an interruption): our
            # caller raises it again once the session is over.
            self.escaped = exc
            raise
        return True

    def _loop(self, session: pytest.Session) -> None:
        sub, self.first = self.first, None
        while sub is not None:
            if testable(sub) is None:
                self.feed.give(_untestable(sub))
            else:
                try:
                    result, broken = self._grade(session, sub), False
                except Exception as exc:  # noqa: BLE001 - one grader failure must not stop the class
                    result, broken = grader_failure(sub, describe(exc)), True
                self.feed.give(result)
                if broken:
                    break  # this session may be in disorder: the next submission gets a new one
            sub = _take(self.feed, self.job, self.assignment.slug)
            if sub is not None and testable(sub) not in (None, self.assignment.slug):
                self.leftover = sub  # another assignment's: its own session
                break

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo) -> None:
        # pytest stops a session with errors in collection by an Interrupted of its own.
        if not isinstance(excinfo.value, pytest.Session.Interrupted):
            self.interrupted = True

    def _grade(self, session: pytest.Session, sub: Submission) -> SubmissionResult:
        started = time.monotonic()
        result = _new_result(sub)
        result.max_score = self.assignment.max_score
        settings, assignment = self.settings, self.assignment
        items = part_of(self.items, sub.part)
        if not items:  # a part with no tests (more parts than questions)
            result.questions = Grading(sub, assignment, None, settings, []).results()
            return result
        with tempfile.TemporaryDirectory(prefix="advpy-") as scratch:
            try:
                module_file = prepare(sub, Path(scratch) / "work")
            except SubmissionError as exc:
                return _without_tests(result, assignment, [str(exc)], "failed", started)
            try:
                box = sandbox.choose(settings.sandbox, secrets=not settings.public_only,
                                     slot=self.job.slot, owner=self.job.owner)
                launch = box.launch(module_file, Path(scratch), settings.limits, hidden=[
                    assignments.PACKAGE, assignments.course_root(), sub.path.parent,
                    *([settings.hidden_tests] if settings.hidden_tests else []),
                    *settings.private])
            except (OSError, RuntimeError) as exc:
                reason = f"{GRADER_ERROR}: the sandbox could not be set up ({exc})"
                return _without_tests(result, assignment, [reason], "error", started)
            result.sandbox = box.name
            process = StudentProcess(module_file, assignment.slug, settings.limits, launch,
                                     guard=settings.guard)
            grading = self.current = Grading(sub, assignment, process, settings, items)
            try:
                for index, item in enumerate(items):
                    after = items[index + 1] if index + 1 < len(items) else None
                    item._report_sections = []  # each run's captured output, not all of them
                    with self.job.test(bool(_spec(item).get("timing"))):
                        session.config.hook.pytest_runtest_protocol(item=item, nextitem=after)
            finally:
                self.current = None
                process.close()
                if launch.cgroup:
                    launch.cgroup.remove()
        result.questions = grading.results()
        result.errors.extend(_load_errors(grading))
        result.errors.extend(grading.grader_errors())
        result.complete = not any(t.status == "error" for q in result.questions for t in q.tests)
        result.score, _ = total(result.questions)
        result.seconds = time.monotonic() - started
        return result


def part_of(items: list[pytest.Item], part: tuple[int, int] | None) -> list[pytest.Item]:
    """The tests of part ``k`` of ``n`` (all of them for None), in their order.

    Parts are made of whole questions (a question's time-outs and points stay
    together), and questions joined by an ``after`` stay in one part; the
    groups go to the part with the fewest tests so far, largest first. Every
    job computes the same parts from the same collected tests."""
    if part is None:
        return list(items)
    k, n = part
    question_of = {item.name: _spec(item)["question"] for item in items}
    leader: dict[str, str] = {}

    def find(question: str) -> str:
        while leader.setdefault(question, question) != question:
            question = leader[question]
        return question

    for item in items:
        for needed in _spec(item)["after"]:
            if needed in question_of:
                leader[find(question_of[needed])] = find(_spec(item)["question"])
    groups: dict[str, list[str]] = {}
    for question in dict.fromkeys(question_of.values()):
        groups.setdefault(find(question), []).append(question)
    size = {question: 0 for question in question_of.values()}
    for question in question_of.values():
        size[question] += 1
    loads, chosen = [0] * n, set()
    by_size = sorted(groups.values(), key=lambda g: -sum(size[q] for q in g))
    for group in by_size:
        lightest = loads.index(min(loads))
        loads[lightest] += sum(size[q] for q in group)
        if lightest == k:
            chosen.update(group)
    return [item for item in items if _spec(item)["question"] in chosen]


def pytest_args(assignment: assignments.Assignment, public_only: bool,
                hidden_tests: Path | None = None) -> list[str]:
    hidden_tests = hidden_tests or assignment.hidden_tests
    targets = [str(assignment.public_tests)]
    if not public_only:
        targets.append(str(hidden_tests))
    # Plugins the judge does not need cost time on every session
    # (unraisableexception alone runs gc.collect() several times).
    quiet = ["cacheprovider", "terminal", "stepwise", "unraisableexception", "threadexception",
             "doctest", "junitxml", "pastebin", "faulthandler", "logging", "warnings"]
    # The instructor's other pytest plugins (pytest-randomly, -xdist, -timeout,
    # trio's...) would reorder, time or slow down what the judge runs.
    autoload = ["--disable-plugin-autoload"] if _PYTEST_VERSION >= (8, 4) else []
    # The student package has no hidden tests, so no folder of them to root at.
    root = hidden_tests.parent if hidden_tests.parent.is_dir() else assignment.public_tests.parent
    return [*targets, *(arg for name in quiet for arg in ("-p", f"no:{name}")), *autoload,
            "--assert=plain", "-c", os.devnull, "--rootdir", str(root),
            "--import-mode=importlib"]


# -- grading: a stream of submissions, or one ------------------------------------
def grade_stream(feed: Feed, settings: Settings | None = None, job: Job | None = None) -> None:
    """Grade every submission ``feed`` hands out and give it its result: one
    pytest session for as long as the submissions are of one assignment.
    Never raises for anything a submission does; KeyboardInterrupt stops it
    (the submission it interrupted gets no result)."""
    settings = settings or Settings()
    job = job or Job()
    sub = _take(feed, job, None)
    while sub is not None:
        slug = testable(sub)
        if slug is None:
            feed.give(_untestable(sub))
            sub = _take(feed, job, None)
            continue
        assignment = assignments.get(slug)
        plugin = GradingPlugin(assignment, settings, job, feed, sub)
        code = pytest.main(pytest_args(assignment, settings.public_only, settings.hidden_tests),
                           plugins=[plugin])
        if plugin.escaped is not None:
            raise plugin.escaped
        if plugin.interrupted:
            raise KeyboardInterrupt
        if plugin.first is not None:  # the session could not run its tests
            reason = f"{GRADER_ERROR}: the tests could not run (pytest exit status {int(code)})"
            feed.give(_without_tests(_new_result(sub), assignment, [reason], "error",
                                     time.monotonic()))
            sub = _take(feed, job, None)
        else:
            sub = plugin.leftover or _take(feed, job, None)
    job.rest()


def _take(feed: Feed, job: Job, assignment: str | None) -> Submission | None:
    """The next submission; waiting for it uses no share of the CPUs."""
    job.rest()
    sub = feed.take(assignment)
    job.work()
    return sub


@dataclass
class OneFeed:
    """A feed of one submission (a local grade_one, a Dask worker's task):
    ``result`` holds what the session gave back."""

    sub: Submission | None
    result: SubmissionResult | None = None

    def take(self, assignment: str | None) -> Submission | None:
        sub, self.sub = self.sub, None
        return sub

    def give(self, result: SubmissionResult) -> None:
        self.result = result


def grade_one(sub: Submission, settings: Settings | None = None) -> SubmissionResult:
    """Grade one submission; never raises for anything the submission does."""
    feed = OneFeed(sub)
    grade_stream(feed, settings)
    return feed.result


def testable(sub: Submission) -> str | None:
    """The assignment whose tests ``sub`` runs, None when it cannot run any."""
    if sub.problems or not sub.assignment:
        return None
    try:
        assignments.get(sub.assignment)
    except KeyError:
        return None
    return sub.assignment


def _untestable(sub: Submission) -> SubmissionResult:
    """The result of a submission whose tests cannot run (its problems, or an
    unknown assignment): every question failed, no points."""
    result = _new_result(sub)
    problems = list(sub.problems)
    try:
        assignment = assignments.get(sub.assignment) if sub.assignment else None
    except KeyError as exc:
        assignment = None
        problems.append(str(exc.args[0]))
    if assignment is not None:
        result.max_score = assignment.max_score
    return _without_tests(result, assignment, problems, "failed", time.monotonic())


def _new_result(sub: Submission) -> SubmissionResult:
    return SubmissionResult(str(sub.path), sub.student, sub.assignment, 0.0, 0.0,
                            name=sub.name, lms_id=sub.lms_id, late=sub.late,
                            notes=list(sub.notes))


def grader_failure(sub: Submission, reason: str) -> SubmissionResult:
    """The result of a submission that the grader itself failed on (an
    exception of ours, a grading process that died): every question a grader
    error, no points, incomplete."""
    result = _new_result(sub)
    try:
        assignment = assignments.get(sub.assignment) if sub.assignment else None
    except KeyError:
        assignment = None
    if assignment is not None:
        result.max_score = assignment.max_score
    return _without_tests(result, assignment, [f"{GRADER_ERROR}: {reason}"], "error",
                          time.monotonic())


def describe(exc: BaseException) -> str:
    """An exception of ours, and where in the grader it was raised (for
    whoever fixes it)."""
    ours = [(Path(f.filename).resolve(), f.lineno)
            for f in traceback.extract_tb(exc.__traceback__)]
    ours = [(path, line) for path, line in ours if HERE in path.parents]
    where = f" (at {ours[-1][0].name}:{ours[-1][1]})" if ours else ""
    return f"{type(exc).__name__}: {exc}{where}"


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


def _load_errors(grading: Grading) -> list[str]:
    if grading.load_problem:
        return [grading.load_problem]
    report = grading.load_report or {}
    messages = []
    for error in report.get("errors", []):
        where = error.get("where")
        messages.append(f"{grading.sub.display}{', ' + where if where else ''}: "
                        f"{error['type']}: {error['message']} (raised at import; what was "
                        "defined before it is still graded)")
    for error in report.get("cell_errors", []):
        line = f", line {error['line']}" if error.get("line") else ""
        if error.get("type") == "NotRun":  # a magic or shell line skipped, not an error
            messages.append(f"{grading.sub.display}, cell {error['cell']}: {error['message']}")
            continue
        messages.append(f"{grading.sub.display}, cell {error['cell']}{line}: {error['type']}: "
                        f"{error['message']} (the cells after it still ran)")
    return [bound(m, 400) for m in messages]


def _untested(assignment: assignments.Assignment, reason: str,
              status: str) -> list[QuestionResult]:
    """Every question as one test with ``status``, scoring 0."""
    return [QuestionResult(q.id, q.name, 0.0, q.points,
                           [TestResult(UNTESTED, status, 0.0,
                                       q.points, False, bound(reason))])
            for q in assignment.questions]
