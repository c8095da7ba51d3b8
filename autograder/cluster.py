"""A class graded on a Dask cluster (``distributed``): one task a submission.

The client (``grade_submissions``) never runs or imports student code. It
sends each submission as bytes (``Parcel``: the graded file, the helper
files beside it, who handed it in), never as a path a worker may not see. A
worker writes the parcel into a folder of its own and grades it with the
engine and sandbox of a local run (``grade_parcel``); the result comes back
as the model's JSON, which the client checks before it believes it, as it
would check any input from another machine.

Fairness: every task asks for the worker resource ``exclusive=1``, so a
worker started with ``--resources exclusive=1`` grades one submission at a
time; the workers of one machine share its CPUs through the engine's
``CpuShare`` (a lock folder per machine), so a timing test runs while no
other grading on that machine works, as with local jobs.

Robustness: a task whose worker is lost is run again elsewhere by the
scheduler; one that raises is retried ``RETRIES`` times; one that ends its
worker every time (the scheduler's ``allowed-failures``) becomes an
incomplete result, a grader error, never a lost student. Results are handed
to ``progress`` as each task finishes, so ``classroom.grade_class`` saves
them at once and an interrupted run resumes as a local one does.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import hashlib
import json
import logging
import math
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

import autograder
from autograder import assignments
from autograder.engine import (
    CpuShare,
    Job,
    OneFeed,
    Settings,
    describe,
    grade_one,
    grade_stream,
    grader_failure,
    testable,
)
from autograder.model import SubmissionResult, total
from autograder.submissions import MAX_SOURCE_BYTES, Submission, helper_files

EXCLUSIVE = "exclusive"  # the worker resource one grading holds
LOCAL = "local:"  # --dask local:N, a LocalCluster of N worker processes here
RETRIES = 2  # a task that raises is run again this many times
# The scheduler gives up a task once more workers than this died running it
# (LocalCluster's; a remote scheduler has its own setting, by default 3).
ALLOWED_FAILURES = 2
CONNECT_SECONDS = 60  # to reach the scheduler and see its first worker
SLOTS_SECONDS = 2.0  # how often the workers are counted again


class ClusterError(RuntimeError):
    """The cluster cannot grade (unreachable, no worker fit for it, the run lost):
    what is finished is kept, the same command resumes."""


# -- a submission as bytes ---------------------------------------------------
@dataclass(frozen=True)
class Parcel:
    """A submission as a worker receives it: contents, never paths."""

    filename: str  # the graded file's name (the feedback names it)
    source: bytes
    # The .py files beside it in the student's own folder, which
    # ``submissions.prepare`` copies beside the module (name, contents).
    helpers: tuple[tuple[str, bytes], ...]
    assignment: str
    student: str | None = None
    name: str | None = None
    lms_id: str | None = None
    late: bool = False
    notes: tuple[str, ...] = ()


def pack(sub: Submission) -> Parcel:
    """``sub`` as bytes. Raises OSError when its files cannot be read."""
    assert sub.source is not None and sub.assignment is not None
    with sub.source.open("rb") as file:
        # prepare refuses a larger file: one byte more is enough for it to say so.
        source = file.read(MAX_SOURCE_BYTES + 1)
    helpers = tuple((path.name, path.read_bytes()) for path in helper_files(sub))
    return Parcel(sub.source.name, source, helpers, sub.assignment, sub.student,
                  sub.name, sub.lms_id, sub.late, tuple(sub.notes))


def _plain(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"not a plain file name: {name!r}")
    return name


def unpack(parcel: Parcel, into: Path) -> Submission:
    """The parcel written into ``into``: a submission as discovery would
    find it there (a file, or a student's folder when it has helpers)."""
    folder = into / "submission"
    folder.mkdir()
    source = folder / _plain(parcel.filename)
    source.write_bytes(parcel.source)
    for name, data in parcel.helpers:
        (folder / _plain(name)).write_bytes(data)
    return Submission(path=folder if parcel.helpers else source, assignment=parcel.assignment,
                      student=parcel.student, source=source, name=parcel.name,
                      lms_id=parcel.lms_id, late=parcel.late, notes=list(parcel.notes))


def fingerprint(slug: str, settings: Settings) -> str:
    """What decides the scores of assignment ``slug`` here (sha256): advpy's
    version, the assignment's manifest, public and hidden tests, its judges
    and probes. A worker must grade with the client's."""
    assignment = assignments.get(slug)
    hidden = settings.hidden_tests or assignment.hidden_tests
    files = [assignment.student_dir / assignments.MANIFEST, assignment.public_tests,
             *sorted(hidden.glob("*.py")),
             *(path for folder in ("judges", "probes")
               for path in sorted((assignments.PACKAGE / folder).glob(f"{slug}*.py")))]
    digest = hashlib.sha256(autograder.__version__.encode())
    for path in files:
        digest.update(f"\0{path.parent.name}/{path.name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# -- on a worker ----------------------------------------------------------------
def machine_share() -> Path:
    """The lock folder that the workers of this machine share its CPUs through
    (one per user, in the system's temporary folder)."""
    folder = Path(tempfile.gettempdir()) / f"advpy-cpus-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if folder.is_symlink() or info.st_uid != os.getuid():
        raise RuntimeError(f"{folder} is not a folder of ours: remove it")
    return folder


def _worker_folder() -> str | None:
    """The running worker's own folder: Dask removes it once the worker is
    gone, even killed (then this task's scratch is not left behind)."""
    try:
        return _dask()[1].get_worker().local_directory
    except ValueError:  # not in a worker
        return None


def grade_parcel(parcel: Parcel, settings: Settings) -> tuple[str, str]:
    """The Dask task: grade one submission on this worker as a local run
    does. Returns (``fingerprint``, the result as JSON)."""
    grader = fingerprint(parcel.assignment, settings)  # the tests this session loads
    share = CpuShare(machine_share())
    try:
        with tempfile.TemporaryDirectory(prefix="advpy-", dir=_worker_folder()) as scratch:
            feed = OneFeed(unpack(parcel, Path(scratch)))
            grade_stream(feed, settings, Job(slot=0, owner=os.getpid(), share=share))
    finally:
        share.close()
    result = feed.result
    if result is None:  # grade_stream gives every submission a result
        raise RuntimeError("the engine gave no result")
    return grader, json.dumps({**result.to_json(), "seconds": result.seconds})


# -- on the client ------------------------------------------------------------------
class _BadResult(ValueError):
    pass


@cache
def _results() -> TypeAdapter:
    return TypeAdapter(SubmissionResult)


def _inconsistency(result: SubmissionResult, assignment: assignments.Assignment) -> str | None:
    """What in ``result`` breaks the rules every result of the engine keeps."""
    if result.assignment != assignment.slug or result.max_score != assignment.max_score:
        return "the result of another assignment"
    if [q.id for q in result.questions] != [q.id for q in assignment.questions]:
        return "other questions than the assignment's"
    for question in result.questions:
        for test in question.tests:
            if not (math.isfinite(test.max_score) and 0 <= test.score <= test.max_score):
                return f"a score out of bounds in {question.id}"
            if test.status != "passed" and test.score != 0:
                return f"points for a test that did not pass in {question.id}"
        if question.score != round(sum(t.score for t in question.tests), 4):
            return f"a score of {question.id} that is not the sum of its tests"
    if result.score != total(result.questions)[0] or not math.isfinite(result.seconds):
        return "a score that is not the sum of its questions"
    if result.complete != (not any(t.status == "error" for q in result.questions
                                   for t in q.tests)):
        return "complete where a test had a grader error, or the reverse"
    return None


def checked(answer: object, sub: Submission, grader: str) -> SubmissionResult:
    """The result a worker sent for ``sub``, once it is one. Who handed the
    submission in and where it is are this side's word, not the worker's."""
    if not (isinstance(answer, tuple) and len(answer) == 2
            and all(isinstance(part, str) for part in answer)):
        raise _BadResult(f"an answer of another shape ({type(answer).__name__})")
    theirs, text = answer
    if theirs != grader:
        raise _BadResult("a result graded by another advpy (its version, or the "
                         "assignment's tests, judges or probes, differ from this one's): "
                         "install the same advpy on every worker")
    try:
        result = _results().validate_json(text, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise _BadResult(f"a result that is not one ({where}: {first['msg']})") from None
    why = _inconsistency(result, assignments.get(sub.assignment))
    if why:
        raise _BadResult(why)
    return dataclasses.replace(result, submission=str(sub.path), student=sub.student,
                               name=sub.name, lms_id=sub.lms_id, late=sub.late,
                               notes=list(sub.notes))


def _dask() -> tuple:
    try:
        import dask
        import distributed
    except ImportError as exc:
        raise ClusterError(f"--dask needs Dask's distributed ({exc}): install advpy[dask], "
                           "on this machine and on every worker") from None
    return dask, distributed


@contextmanager
def connect(address: str) -> Iterator[object]:
    """A ``distributed.Client`` of the cluster at ``address``, or of a
    LocalCluster of N worker processes for ``local:N``."""
    dask, distributed = _dask()
    if address.startswith(LOCAL):
        try:
            workers = int(address[len(LOCAL):])
        except ValueError:
            workers = 0
        if workers < 1:
            raise ClusterError(f"--dask {address}: give local:N, N worker processes (N >= 1)")
        # No dashboard, and its HTTP server (health, metrics) on a free port.
        with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                              "distributed.scheduler.dashboard.address": ":0"}):
            cluster = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                resources={EXCLUSIVE: 1}, host="127.0.0.1", dashboard_address=None,
                silence_logs=logging.ERROR)
        with cluster, distributed.Client(cluster) as client:
            yield client
        return
    try:
        client = distributed.Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, asyncio.TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except (TimeoutError, asyncio.TimeoutError):
            raise ClusterError(f"the Dask scheduler at {address} has no worker") from None
        if not slots(client):
            raise ClusterError(
                f"no worker of the Dask cluster at {address} offers the resource "
                f"{EXCLUSIVE}=1 that each grading holds: start the workers with "
                f"`dask worker {address} --nthreads 1 --resources {EXCLUSIVE}=1`")
        yield client


def slots(client: object) -> int:
    """How many gradings the cluster runs at once: its workers' ``exclusive``."""
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    return int(sum(w.get("resources", {}).get(EXCLUSIVE, 0) for w in workers))


def _failure(sub: Submission, exc: BaseException) -> SubmissionResult:
    if isinstance(exc, _dask()[1].KilledWorker):
        return grader_failure(sub, "grading it ended a Dask worker each time it was tried "
                                    f"(the scheduler gave up: {exc})")
    return grader_failure(sub, f"on a Dask worker, {describe(exc)}")


def grade_submissions(subs: list[Submission], *, address: str, settings: Settings | None = None,
                      progress: Callable[[SubmissionResult], None] | None = None,
                      retries: int = RETRIES) -> list[SubmissionResult]:
    """Grade discovered submissions on the Dask cluster at ``address`` (or
    ``local:N``); one result each, in the order of ``subs``, ``progress``
    called with each as it finishes, as ``api.grade_submissions``.

    Raises ClusterError when the cluster cannot grade or loses the run (the
    results handed to ``progress`` so far stay valid)."""
    settings = settings or Settings()
    results: dict[int, SubmissionResult] = {}

    def finish(index: int, result: SubmissionResult) -> None:
        results[index] = result
        if progress:
            progress(result)

    sendable = []
    for index, sub in enumerate(subs):
        if testable(sub) is None or sub.source is None:
            finish(index, grade_one(sub, settings))  # no student code runs: done here
        else:
            sendable.append(index)
    if not sendable:
        return [results[i] for i in range(len(subs))]
    graders = {slug: fingerprint(slug, settings) for slug in {subs[i].assignment for i in sendable}}
    run = uuid.uuid4().hex[:8]
    with connect(address) as client:
        waiting = iter(sendable)
        futures: dict[object, int] = {}
        finished = _dask()[1].as_completed()
        seen = [0, -math.inf]  # the cluster's slots, and when they were counted

        def send() -> None:
            # As many tasks as the cluster grades at once, no more: a task
            # queued on a worker that dies counts as one that killed it (the
            # scheduler's allowed-failures), and the scheduler keeps every
            # parcel it holds (a class may have ten thousand).
            if time.monotonic() - seen[1] > SLOTS_SECONDS:
                seen[:] = [slots(client), time.monotonic()]
            while len(futures) < max(1, seen[0]) and (index := next(waiting, None)) is not None:
                sub = subs[index]
                try:
                    parcel = pack(sub)
                except OSError as exc:
                    finish(index, grader_failure(sub, f"cannot read it: {exc}"))
                    continue
                future = client.submit(grade_parcel, parcel, settings,
                                       key=f"advpy-grade-{run}-{index}", pure=False,
                                       resources={EXCLUSIVE: 1}, retries=retries)
                futures[future] = index
                finished.add(future)

        try:
            send()
            for future in finished:
                index = futures.pop(future)
                send()  # first: a worker waits for it, not for this result's checks and save
                sub = subs[index]
                try:
                    answer = future.result()
                except concurrent.futures.CancelledError:
                    raise ClusterError(f"the Dask cluster at {address} lost the run (its "
                                       "scheduler ended or dropped this client)") from None
                except Exception as exc:  # noqa: BLE001 - the submission's grader error
                    result = _failure(sub, exc)
                else:
                    try:
                        result = checked(answer, sub, graders[sub.assignment])
                    except _BadResult as exc:
                        result = grader_failure(sub, f"a Dask worker sent back {exc}")
                finish(index, result)
        finally:
            if futures and client.status == "running":  # stopped early: the rest is not wanted
                client.cancel(list(futures))
    return [results[i] for i in range(len(subs))]
