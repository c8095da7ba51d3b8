"""The library behind the CLI: each command is a function with keyword defaults."""

from __future__ import annotations

import dataclasses
import multiprocessing
import multiprocessing.connection
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from autograder import assignments
from autograder.engine import (
    CpuShare,
    Job,
    Settings,
    describe,
    grade_stream,
    grader_failure,
    testable,
)
from autograder.model import SubmissionResult, total
from autograder.probes import machine
from autograder.submissions import Submission, discover

HERE = Path(__file__).resolve().parent
DEMO = HERE / "demo"
# Grading processes that die before they take any submission, this many
# times in a row: the rest of the class is graded in this process instead.
MAX_FRUITLESS_STARTS = 3


def demo_paths() -> list[Path]:
    """The bundled sample class: a folder per assignment that exists so far."""
    return [DEMO / slug for slug in assignments.available() if (DEMO / slug).is_dir()]


def default_jobs() -> int:
    """How many submissions are graded at once by default: the CPUs this
    process may really use (its affinity, and its cgroup's CPU quota)."""
    return max(1, int(machine.cpus()["usable"]))


def grade(paths: Iterable[Path | str], *, assignment: str | None = None,
          jobs: int | None = None, settings: Settings | None = None,
          progress: Callable[[SubmissionResult], None] | None = None) -> list[SubmissionResult]:
    """Grade every submission under ``paths``; one result each, in order.

    ``jobs`` submissions are graded at once, each job in a grading process
    of its own (None: ``default_jobs()``, the CPUs really available;
    ``multiprocessing`` starts them, so a script that calls this guards its
    top level with ``if __name__ == "__main__":``). Tests marked ``timing``
    run while the other jobs wait, so the scores are those of ``jobs=1``.

    A failure of the grader itself on one submission (an exception of ours, a
    grading process that died) does not stop the class: that submission's
    result is incomplete (``complete`` False), to be regraded.
    """
    with tempfile.TemporaryDirectory(prefix="advpy-batch-") as scratch:
        paths = [Path(p) for p in paths]
        subs = discover(paths, assignment, Path(scratch))
        return grade_submissions(subs, jobs=jobs, settings=private(settings, paths),
                                 progress=progress)


def private(settings: Settings | None, paths: Iterable[Path]) -> Settings:
    """``settings`` with ``paths`` (a class: other students' work, where the
    results go) hidden from every student process, as its own folder is."""
    settings = settings or Settings()
    given = {Path(p).resolve() for p in paths}
    return dataclasses.replace(settings, private=tuple(sorted({*settings.private, *given})))


def grade_submissions(subs: list[Submission], *, jobs: int | None = None,
                      settings: Settings | None = None,
                      progress: Callable[[SubmissionResult], None] | None = None
                      ) -> list[SubmissionResult]:
    """Grade discovered submissions (their files must exist until it returns);
    one result each, in the order of ``subs``. ``progress`` is called with each
    result as soon as it is finished (so in the order they finish); if it
    raises, grading stops and the exception propagates. ``jobs`` as for ``grade``."""
    settings = settings or Settings()
    jobs = default_jobs() if jobs is None else jobs
    # Fewer submissions than jobs: each is graded in parts, one a job, at
    # once; only where a job starts at once (a fork: a spawned job imports
    # the grader again, which costs more than the parts save).
    parts = max(1, jobs // len(subs)) if subs and _forkable() else 1
    board = _Board(subs, progress, parts)
    jobs = max(1, min(jobs, len(board.todo)))
    if jobs > 1:
        _in_parallel(board, jobs, settings)
    # One job, or what grading processes could not do (they did not start:
    # a script that imports the grader without `if __name__ == "__main__":`).
    feed = _Here(board)
    while board.todo:
        try:
            grade_stream(feed, settings)
        except Exception as exc:  # noqa: BLE001 - one grader failure must not stop the class
            if feed.taken is None:
                raise
            board.fail(feed.taken, describe(exc))
            feed.taken = None
    return [board.results[index] for index in range(len(subs))]


@dataclass
class _Board:
    """What is still to grade, and the results so far. A task is a
    submission, or one of the ``parts`` it is graded in (a testable
    submission, when there are fewer submissions than jobs)."""

    subs: list[Submission]
    progress: Callable[[SubmissionResult], None] | None
    parts: int = 1
    tasks: list[Submission] = field(default_factory=list)  # what each job is handed
    owner: list[int] = field(default_factory=list)  # the submission of each task
    todo: list[int] = field(default_factory=list)  # tasks not handed out yet
    results: dict[int, SubmissionResult] = field(default_factory=dict)
    partial: dict[int, list[SubmissionResult]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for index, sub in enumerate(self.subs):
            n = self.parts if testable(sub) else 1
            for k in range(n):
                self.tasks.append(sub if n == 1 else dataclasses.replace(sub, part=(k, n)))
                self.owner.append(index)
        self.todo = list(range(len(self.tasks)))

    def next(self, assignment: str | None) -> int | None:
        """The next task: one of ``assignment`` if any is left (its pytest
        session goes on), else the first left."""
        if not self.todo:
            return None
        same = [t for t in self.todo if self.tasks[t].assignment == assignment and assignment]
        task = same[0] if same else self.todo[0]
        self.todo.remove(task)
        return task

    def finish(self, task: int, result: SubmissionResult) -> None:
        """A task is done: its submission's result once all its parts are."""
        index, part = self.owner[task], self.tasks[task].part
        if part is not None:
            done = self.partial.setdefault(index, [])
            done.append(result)
            if len(done) < part[1]:
                return
            result = merge_parts(done)
        self.results[index] = result
        if self.progress:
            self.progress(result)

    def fail(self, task: int, reason: str) -> None:
        """The grader failed on a task: its submission is incomplete, regraded later."""
        self.finish(task, grader_failure(self.tasks[task], reason))


def merge_parts(parts: list[SubmissionResult]) -> SubmissionResult:
    """One submission's result from the results of its parts: each question
    from the part that ran its tests. A question that several parts report
    comes from a result of the whole submission (it could not be prepared, or
    the grader failed): then a grader error wins, so the submission stays
    incomplete and no point is awarded that was not judged."""
    first = parts[0]
    questions = []
    for question in first.questions:
        found = [q for part in parts for q in part.questions if q.id == question.id]
        judged = [q for q in found if q.tests] or found
        errors = [q for q in judged if any(t.status == "error" for t in q.tests)]
        questions.append((errors or judged)[0])
    complete = all(part.complete for part in parts) and not any(
        t.status == "error" for q in questions for t in q.tests)
    return dataclasses.replace(
        first, questions=questions, score=total(questions)[0],
        errors=list(dict.fromkeys(e for part in parts for e in part.errors)),
        complete=complete, seconds=max(part.seconds for part in parts),
        sandbox=next((p.sandbox for p in parts if p.sandbox != "not run"), first.sandbox))


@dataclass
class _Here:
    """The feed of a job that runs in this process."""

    board: _Board
    taken: int | None = None

    def take(self, assignment: str | None) -> Submission | None:
        self.taken = self.board.next(assignment)
        return None if self.taken is None else self.board.tasks[self.taken]

    def give(self, result: SubmissionResult) -> None:
        index, self.taken = self.taken, None
        self.board.finish(index, result)


class _Pipe:
    """The feed of a job in a grading process: asks this process for work."""

    def __init__(self, connection: multiprocessing.connection.Connection) -> None:
        self.connection = connection

    def take(self, assignment: str | None) -> Submission | None:
        self.connection.send(("ready", assignment))
        return self.connection.recv()

    def give(self, result: SubmissionResult) -> None:
        self.connection.send(("done", result))


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _grading_process(connection: multiprocessing.connection.Connection, settings: Settings,
                     slot: int, owner: int, folder: str, inherited: list[int]) -> None:
    """One job of a parallel run, in a process of its own: grade what the
    run hands out until it says stop. ``inherited``: descriptors of the run's
    that a fork brought along, to close."""
    for fd in inherited:
        os.close(fd)
    # The run decides when to stop (Ctrl-C reaches it too); SIGTERM from it
    # ends grading here with every sandbox cleaned up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    share = CpuShare(Path(folder))
    job = Job(slot=slot, owner=owner, share=share)
    feed = _Pipe(connection)
    try:
        while True:
            try:
                grade_stream(feed, settings, job)
                return
            except Exception as exc:  # noqa: BLE001 - reported as the submission's grader error
                connection.send(("failed", describe(exc)))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        pass
    finally:
        share.close()


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: multiprocessing.connection.Connection
    taken: int | None = None
    graded: int = 0


def _forkable() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _in_parallel(board: _Board, jobs: int, settings: Settings) -> None:
    """Grade ``board``'s submissions in ``jobs`` grading processes."""
    # A fork starts at once, with pytest and the grader already imported; but
    # a fork of a process that runs other threads (a progress bar's) may
    # inherit a lock that one of them held: then a fresh interpreter.
    forkable = _forkable()
    context = multiprocessing.get_context("fork" if forkable else "spawn")
    with tempfile.TemporaryDirectory(prefix="advpy-jobs-") as folder:
        workers: dict[int, _Worker] = {}
        fruitless = 0

        def start(slot: int) -> None:
            ours, theirs = context.Pipe()
            # A fork inherits this process's ends of the pipes: it closes them,
            # so that each job sees its pipe end when this process does.
            ends = [w.connection.fileno() for w in workers.values()] + [ours.fileno()]
            process = context.Process(target=_grading_process, name=f"advpy-job-{slot}",
                                      args=(theirs, settings, slot, os.getpid(), folder,
                                            ends if forkable else []))
            process.start()
            theirs.close()
            workers[slot] = _Worker(process, ours)

        try:
            for slot in range(jobs):
                start(slot)
            while workers:
                waits = {w.connection: slot for slot, w in workers.items()}
                waits.update({w.process.sentinel: slot for slot, w in workers.items()})
                for ready in multiprocessing.connection.wait(list(waits)):
                    slot = waits[ready]
                    worker = workers.get(slot)
                    if worker is None:
                        continue
                    if not _serve(board, worker):
                        continue
                    # The process ended: what it held is a grader error, and
                    # another takes its place while work is left.
                    del workers[slot]
                    _end([worker])
                    if worker.taken is not None:
                        reason = ("the grading process ended unexpectedly (exit code "
                                  f"{worker.process.exitcode})")
                        board.fail(worker.taken, reason)
                    fruitless = 0 if worker.graded or worker.taken is not None else fruitless + 1
                    if board.todo and fruitless < MAX_FRUITLESS_STARTS:
                        start(slot)
        finally:
            _end(workers.values())


def _serve(board: _Board, worker: _Worker) -> bool:
    """Answer what ``worker`` sent; True once its process has ended."""
    while True:
        try:
            if not worker.connection.poll():
                return not worker.process.is_alive() and not worker.connection.poll()
            message = worker.connection.recv()
        except (EOFError, OSError):
            return True
        kind = message[0]
        if kind == "ready":
            index = board.next(message[1])
            try:
                worker.connection.send(None if index is None else board.tasks[index])
            except OSError:  # it ended meanwhile: the submission goes to another
                if index is not None:
                    board.todo.insert(0, index)
                return True
            worker.taken = index
        elif kind == "done" and worker.taken is not None:
            index, worker.taken = worker.taken, None
            worker.graded += 1
            board.finish(index, message[1])
        elif kind == "failed" and worker.taken is not None:
            index, worker.taken = worker.taken, None
            board.fail(index, message[1])


def _end(workers: Iterable[_Worker]) -> None:
    """Stop the grading processes still running, letting each clean up its sandboxes."""
    workers = list(workers)
    for worker in workers:
        if worker.process.is_alive():
            worker.process.terminate()
    for worker in workers:
        worker.process.join(10)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.connection.close()


def check(path: Path | str, *, assignment: str | None = None,
          settings: Settings | None = None) -> SubmissionResult:
    """A student's check: the public tests only."""
    settings = settings or Settings()
    settings.public_only = True
    return grade([path], assignment=assignment, settings=settings)[0]
