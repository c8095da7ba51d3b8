"""Grading many submissions at once changes no score.

- A mixed class of real submissions (all three assignments, right and
  wrong, timing-sensitive ones among them) graded with the default jobs
  gets exactly the results of the same class graded with ``jobs=1``.
- A test marked ``timing`` never runs while another job works: a course of
  our own whose tests log when they run, graded with two jobs.
- Fewer submissions than jobs: one submission's tests are shared out over
  the jobs in parts of whole questions, graded at once, and merged into the
  result ``jobs=1`` gives (``api.merge_parts``: a grader error in any part
  leaves the submission incomplete).
- ``CpuShare`` itself: a timing test waits for the jobs at work and keeps
  them waiting; a waiting timing test is not starved by jobs that come and go.
- Eager code fails where the kernel's evidence already decides, not at a
  time-out (which would only make grading slow): a memory cap on a call that
  should need nothing, an endless source that ends once it is drained.
"""

from __future__ import annotations

import multiprocessing
import shutil
import time
from pathlib import Path

import pytest
from conftest import ROOT, SUBMISSIONS, assert_scores, expected_scores

from autograder import api, engine, model
from autograder.engine import CpuShare, Settings
from autograder.model import QuestionResult, SubmissionResult
from autograder.probes import machine

# A small class: for each assignment the reference and wrong submissions
# whose scores hang on timing (eager code that fails fast, a serial map, a
# heartbeat of a fixed interval, shares fixed in advance).
CLASS = [
    ("generators", ROOT / "solutions" / "generators" / "generators.py"),
    ("generators", SUBMISSIONS / "generators" / "q3_builds_list_first.py"),
    ("generators", SUBMISSIONS / "generators" / "q7_eager.py"),
    ("threads", ROOT / "solutions" / "threads" / "threads.py"),
    ("threads", SUBMISSIONS / "threads" / "q5_fixed_interval.py"),
    ("threads", SUBMISSIONS / "threads" / "q6_fixed_shares.py"),
    ("processes", ROOT / "solutions" / "processes" / "processes.py"),
    ("processes", SUBMISSIONS / "processes" / "q3_serial.py"),
]


def _class(folder: Path) -> list[Path]:
    """The class as one folder a student each, in an order that mixes the
    assignments (so that sessions change assignment as they go)."""
    paths = []
    for number, (slug, source) in enumerate(CLASS):
        student = folder / f"student{number:02d}"
        student.mkdir()
        shutil.copy(source, student / f"{slug}.py")
        paths.append(student)
    return paths


def _scores(results):
    return [(Path(r.submission).name, r.score, r.complete,
             [(q.id, q.score, [t.status for t in q.tests]) for q in r.questions])
            for r in results]


def test_the_default_jobs_give_the_scores_of_one_job(tmp_path):
    paths = _class(tmp_path)
    assert api.default_jobs() == max(1, int(machine.cpus()["usable"]))
    one = api.grade(paths, jobs=1)
    many = api.grade(paths)  # the default: as many jobs as CPUs
    assert _scores(many) == _scores(one)
    for (_, source), result in zip(CLASS, many, strict=True):
        wanted = {} if source.parent.parent.name == "solutions" else expected_scores(source)
        assert_scores(result, wanted)


# A course of our own for the generators assignment: every test logs when it
# ran and in which grading process; one of them is marked timing.
LOGGED = '''
import os
import time

from autograder.testing import check

LOG = {log!r}


def _run(kind, seconds):
    start = time.monotonic()
    time.sleep(seconds)
    with open(LOG, "a") as log:
        log.write(f"{{kind}} {{os.getpid()}} {{start}} {{time.monotonic()}}\\n")


@check("q1", timing=True)
def test_timed(student):
    """a timing test"""
    _run("timing", 0.3)


@check("q2")
def test_one(student):
    """an ordinary test"""
    _run("shared", 0.1)


@check("q3")
def test_two(student):
    """another ordinary test"""
    _run("shared", 0.1)
'''


def test_a_timing_test_runs_while_no_other_job_works(tmp_path):
    log = tmp_path / "log.txt"
    course = tmp_path / "hidden"
    course.mkdir()
    (course / "test_logged.py").write_text(LOGGED.format(log=str(log)))
    folder = tmp_path / "class"
    folder.mkdir()
    for number in range(6):
        shutil.copy(ROOT / "solutions" / "generators" / "generators.py",
                    folder / f"s{number}.py")
    results = api.grade([folder], assignment="generators", jobs=2,
                        settings=Settings(hidden_tests=course))
    assert all(r.complete for r in results), [r.errors for r in results]
    runs = [line.split() for line in log.read_text().splitlines()]
    runs = [(kind, int(pid), float(start), float(end)) for kind, pid, start, end in runs]
    assert len(runs) == 18 and len({pid for _, pid, _, _ in runs}) == 2
    for kind, pid, start, end in runs:
        if kind == "timing":
            beside = [(s, e) for k, p, s, e in runs if p != pid and s < end and e > start]
            assert not beside, f"a timing test ran from {start} to {end} beside {beside}"


def test_one_submission_is_graded_in_parts_at_once(tmp_path):
    log = tmp_path / "log.txt"
    course = tmp_path / "hidden"
    course.mkdir()
    (course / "test_logged.py").write_text(LOGGED.format(log=str(log)))
    solution = ROOT / "solutions" / "generators" / "generators.py"
    settings = Settings(hidden_tests=course)
    [parts] = api.grade([solution], assignment="generators", jobs=2, settings=settings)
    runs = [line.split() for line in log.read_text().splitlines()]
    assert len(runs) == 3 and len({pid for _, pid, _, _ in runs}) == 2, runs
    log.unlink()
    [alone] = api.grade([solution], assignment="generators", jobs=1, settings=settings)
    runs = [line.split() for line in log.read_text().splitlines()]
    assert len(runs) == 3 and len({pid for _, pid, _, _ in runs}) == 1, runs
    assert parts.complete and parts.score == parts.max_score
    assert _scores([parts]) == _scores([alone])


@pytest.mark.parametrize("source", [SUBMISSIONS / "generators" / "q7_eager.py",
                                    SUBMISSIONS / "threads" / "q6_fixed_shares.py"],
                         ids=lambda p: p.stem)
def test_a_submission_in_parts_gets_the_result_of_one_job(source):
    """Scores, statuses and the feedback of every test, in the same order."""
    slug = source.parent.name
    parts, alone = (api.grade([source], assignment=slug, jobs=jobs)[0] for jobs in (2, 1))
    assert_scores(parts, expected_scores(source))
    assert [(q.id, q.score, [(t.name, t.status, t.feedback) for t in q.tests])
            for q in parts.questions] == [
        (q.id, q.score, [(t.name, t.status, t.feedback) for t in q.tests])
        for q in alone.questions]


def _part(questions: dict[str, list[str]], *, complete: bool = True,
          errors: tuple[str, ...] = ()) -> SubmissionResult:
    """A part's result: each question with tests of these statuses (a point each)."""
    made = [QuestionResult(qid, qid, float(statuses.count("passed")),
                           float(len(statuses)),
                           [model.TestResult(f"{qid} test {n}", status,
                                             float(status == "passed"), 1.0, False)
                            for n, status in enumerate(statuses)])
            for qid, statuses in questions.items()]
    return SubmissionResult("s.py", "s", "generators", sum(q.score for q in made), 6.0,
                            questions=made, errors=list(errors), complete=complete)


def test_merging_parts_takes_each_question_from_the_part_that_judged_it():
    merged = api.merge_parts([
        _part({"q1": ["passed", "failed"], "q2": []}, errors=("load: NameError",)),
        _part({"q1": [], "q2": ["passed", "passed"]}, errors=("load: NameError",))])
    assert [(q.id, q.score) for q in merged.questions] == [("q1", 1.0), ("q2", 2.0)]
    assert merged.score == 3.0 and merged.complete and merged.errors == ["load: NameError"]


def test_a_grader_error_in_one_part_leaves_the_submission_incomplete():
    judged = _part({"q1": ["passed", "passed"], "q2": []})
    broken = _part({"q1": ["error"], "q2": ["error"]}, complete=False,
                   errors=("grader error: the grading process ended",))
    for parts in ([judged, broken], [broken, judged]):
        merged = api.merge_parts(parts)
        assert not merged.complete and merged.score == 0.0
        assert merged.errors == ["grader error: the grading process ended"]


def test_a_submission_that_fails_whole_in_every_part_fails_once():
    """It could not be prepared: each part says so for every question."""
    whole = {"q1": ["failed"], "q2": ["failed"]}
    merged = api.merge_parts([_part(whole, errors=("bad notebook",)),
                              _part(whole, errors=("bad notebook",))])
    assert [(q.id, len(q.tests)) for q in merged.questions] == [("q1", 1), ("q2", 1)]
    assert merged.complete and merged.score == 0.0 and merged.errors == ["bad notebook"]


# -- CpuShare, process against process -------------------------------------------
def _job(folder: str, log: str, timing: bool, hold: float) -> None:
    share = CpuShare(Path(folder))
    job = engine.Job(slot=0, share=share)
    job.work()
    with job.test(timing):
        start = time.monotonic()
        time.sleep(hold)
        with open(log, "a") as file:
            file.write(f"{'timing' if timing else 'shared'} {start} {time.monotonic()}\n")
    job.rest()
    share.close()


def _start(context, *args):
    process = context.Process(target=_job, args=args)
    process.start()
    return process


def test_a_timing_test_waits_for_the_jobs_at_work_and_keeps_them_waiting(tmp_path):
    context = multiprocessing.get_context("spawn")
    log = tmp_path / "log.txt"
    # Jobs at work first (spawned processes take a while to start); then a
    # timing test asks; then more jobs arrive while it waits or runs.
    first = [_start(context, tmp_path, log, False, 1.5) for _ in range(2)]
    time.sleep(1.0)
    timed = _start(context, tmp_path, log, True, 0.4)
    time.sleep(0.3)
    later = [_start(context, tmp_path, log, False, 0.3) for _ in range(2)]
    for process in [*first, timed, *later]:
        process.join(30)
        assert process.exitcode == 0
    runs = [line.split() for line in log.read_text().splitlines()]
    runs = [(kind, float(start), float(end)) for kind, start, end in runs]
    (timing,) = [(s, e) for k, s, e in runs if k == "timing"]
    shared = [(s, e) for k, s, e in runs if k == "shared"]
    assert len(shared) == 4
    assert all(e <= timing[0] or s >= timing[1] for s, e in shared), (timing, shared)


# -- failing fast ---------------------------------------------------------------------
def _feedback(result, title_start):
    return next(t.feedback for q in result.questions for t in q.tests
                if t.name.startswith(title_start))


def test_eager_code_fails_on_the_evidence_not_at_a_time_out():
    builds_list, reads_all = api.grade(
        [SUBMISSIONS / "generators" / "q3_builds_list_first.py",
         SUBMISSIONS / "generators" / "q7_eager.py"], assignment="generators", jobs=1)
    # Stopped once its memory had grown by the cap, the feedback says so.
    huge = _feedback(builds_list, "firstn_generator(10**18) yields its first items")
    assert "allocated more than 64.0 MiB when the grader stopped it" in huge, huge
    # The endless source ends once drained: the test sees every item pulled.
    infinite = _feedback(reads_all, "chunked works lazily on an infinite source")
    assert "4096 items had been pulled" in infinite, infinite
