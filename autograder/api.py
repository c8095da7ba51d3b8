"""The library behind the CLI: each command is a function with keyword defaults."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import tempfile
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from autograder import assignments
from autograder.engine import Settings, grade_one, grader_failure
from autograder.model import SubmissionResult
from autograder.submissions import Submission, discover

HERE = Path(__file__).resolve().parent
DEMO = HERE / "demo"


def demo_paths() -> list[Path]:
    """The bundled sample class: a folder per assignment that exists so far."""
    return [DEMO / slug for slug in assignments.available() if (DEMO / slug).is_dir()]


def grade(paths: Iterable[Path | str], *, assignment: str | None = None, jobs: int | None = 1,
          settings: Settings | None = None,
          progress: Callable[[SubmissionResult], None] | None = None) -> list[SubmissionResult]:
    """Grade every submission under ``paths``; one result each, in order.

    ``jobs`` > 1 grades several submissions at once, in separate grader
    processes (pytest runs one session at a time per process). Timing-based
    tests stay fair because they calibrate in the same run, but they are
    most exact with ``jobs=1``.

    A failure of the grader itself on one submission (an exception of ours, a
    grading process that died) does not stop the class: that submission's
    result is incomplete (``complete`` False), to be regraded.
    """
    with tempfile.TemporaryDirectory(prefix="advpy-batch-") as scratch:
        subs = discover([Path(p) for p in paths], assignment, Path(scratch))
        return grade_submissions(subs, jobs=jobs, settings=settings, progress=progress)


def grade_submissions(subs: list[Submission], *, jobs: int | None = 1,
                      settings: Settings | None = None,
                      progress: Callable[[SubmissionResult], None] | None = None
                      ) -> list[SubmissionResult]:
    """Grade discovered submissions (their files must exist until it returns);
    one result each, in the order of ``subs``. ``progress`` is called with each
    result as soon as it is finished (so in the order they finish)."""
    settings = settings or Settings()
    # None: one at a time, until timing tests can be kept from sharing CPUs.
    if jobs is None or jobs <= 1 or len(subs) <= 1:
        results = []
        for sub in subs:
            results.append(_guarded(sub, settings))
            if progress:
                progress(results[-1])
        return results
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = {pool.submit(grade_one, sub, settings): index for index, sub in enumerate(subs)}
        done: dict[int, SubmissionResult] = {}
        for future in concurrent.futures.as_completed(futures):
            index = futures[future]
            done[index] = _result_or_error(future, subs[index])
            if progress:
                progress(done[index])
        return [done[index] for index in range(len(subs))]


def _guarded(sub: Submission, settings: Settings) -> SubmissionResult:
    try:
        return grade_one(sub, settings)
    except Exception as exc:  # noqa: BLE001 - one grader failure must not stop the class
        return grader_failure(sub, _describe(exc))


def _result_or_error(future: concurrent.futures.Future, sub: Submission) -> SubmissionResult:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - one grader failure must not stop the class
        return grader_failure(sub, _describe(exc))


def _describe(exc: BaseException) -> str:
    """The exception, and where in the grader it was raised (for whoever fixes
    it; not known for one raised in a pool's process)."""
    ours = [(Path(f.filename).resolve(), f.lineno)
            for f in traceback.extract_tb(exc.__traceback__)]
    ours = [(path, line) for path, line in ours
            if HERE in path.parents and path != Path(__file__).resolve()]
    where = f" (at {ours[-1][0].name}:{ours[-1][1]})" if ours else ""
    return f"{type(exc).__name__}: {exc}{where}"


def check(path: Path | str, *, assignment: str | None = None,
          settings: Settings | None = None) -> SubmissionResult:
    """A student's check: the public tests only."""
    settings = settings or Settings()
    settings.public_only = True
    return grade([path], assignment=assignment, settings=settings)[0]
