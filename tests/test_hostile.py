"""Hostile submissions, graded as one class per assignment beside correct ones,
with every real sandbox this machine can run (bubblewrap, and the namespaces
fallback): each gets exactly what its honest part deserves and no more, every
correct one gets full marks, no grader error, and nothing they started is left
running.

``tests/hostile/<slug>/`` holds the submissions that attack ``<slug>``: resource
abuse (generators: fork and memory bombs, hangs, crashes, network, reading our
files) and the cheats of issue 9 (forged answers, judges crashed by odd types,
forged evidence, hidden memory peaks and pull counts, rewritten instruments).
Each file's docstring names its attack, what it scored before the defence, and
the ``expect:`` line of its honest part.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import assert_scores, expected_scores

from autograder import api, sandbox
from autograder.child import Limits
from autograder.engine import Settings
from autograder.model import SubmissionResult

HOSTILE = Path(__file__).resolve().parent / "hostile"
SLUGS = sorted(p.name for p in HOSTILE.iterdir() if p.is_dir() and any(p.glob("*.py")))
SUBMISSIONS = sorted(p.relative_to(HOSTILE).as_posix() for p in HOSTILE.glob("*/*.py"))
SANDBOXES = ("bubblewrap", "namespaces")
# Seconds one submission of a hostile class may take on average in one
# sandbox: generous (eager cheats wait out time-outs; CI may be loaded), yet
# far below a submission's own budget (Limits.submission_seconds), so a
# submission that holds the grader up to that budget is still caught.
SUBMISSION_SECONDS = 20


def _why_not(box: str) -> str | None:
    """Why ``box`` cannot run here (None when it can). The namespaces sandbox is
    skipped where this checkout does not have it yet."""
    if box == "bubblewrap":
        return None if sandbox.bubblewrap_works() else "bubblewrap cannot run here"
    works = getattr(sandbox, "namespaces_work", None)
    if works is None:
        return "this checkout has no namespaces sandbox"
    return None if works() else "the namespaces sandbox cannot run here"


@pytest.fixture(scope="module", params=SANDBOXES)
def box(request: pytest.FixtureRequest) -> str:
    reason = _why_not(request.param)
    if reason:
        pytest.skip(reason)
    return request.param


@pytest.fixture(scope="module")
def classes() -> dict[tuple[str, str], tuple[list[SubmissionResult], float]]:
    """Each class graded once per sandbox, on first use: (results, seconds)."""
    return {}


def _graded(classes: dict, box: str, slug: str) -> tuple[list[SubmissionResult], float]:
    if (box, slug) not in classes:
        settings = Settings(limits=Limits(load_timeout=3.0), sandbox=box)
        started = time.monotonic()
        results = api.grade([HOSTILE / slug], assignment=slug, settings=settings)
        classes[box, slug] = (results, time.monotonic() - started)
    return classes[box, slug]


def _sandbox_processes() -> list[int]:
    """Live processes of this grader's sandbox uid (of any sandbox uid when we
    are not root): other graders may be running on this machine."""
    mine = sandbox.sandbox_uids()  # one uid per grading job
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            uid = int(status.split("Uid:")[1].split()[0])
            state = status.split("State:")[1].split()[0]
            ours = uid in mine if mine else (
                sandbox.UID_BASE <= uid < sandbox.UID_BASE + 4000)
            if ours and state != "Z":
                found.append(int(entry))
    return found


@pytest.mark.parametrize("slug", SLUGS)
def test_every_submission_gets_a_result(classes, box, slug):
    results, seconds = _graded(classes, box, slug)
    files = sorted(p.name for p in (HOSTILE / slug).glob("*.py"))
    assert sorted(Path(r.submission).name for r in results) == files
    assert all(r.sandbox == box for r in results), {r.sandbox for r in results}
    budget = SUBMISSION_SECONDS * len(files)
    assert seconds < budget, f"the hostile {slug} class took {seconds:.0f} s in {box}"


@pytest.mark.parametrize("submission", SUBMISSIONS)
def test_hostile_scores_what_its_honest_part_deserves(classes, box, submission):
    slug, name = submission.split("/")
    results, _ = _graded(classes, box, slug)
    result = next(r for r in results if Path(r.submission).name == name)
    assert_scores(result, expected_scores(HOSTILE / submission))


def test_nothing_is_left_running(classes, box):
    for slug in SLUGS:
        _graded(classes, box, slug)
    deadline = time.monotonic() + 5
    while _sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _sandbox_processes() == []


def test_feedback_names_the_limit_hit(classes, box):
    results, _ = _graded(classes, box, "generators")
    by_name = {Path(r.submission).name: r for r in results}

    def feedback(name, qid):
        question = next(q for q in by_name[name].questions if q.id == qid)
        return " ".join(t.feedback for t in question.tests)

    assert "GiB" in feedback("memory_bomb.py", "q6")
    assert "os._exit" in feedback("exits_inside_functions.py", "q4")
    assert "sys.exit" in feedback("exits_inside_functions.py", "q2")
    assert "SIGSEGV" in feedback("segfault.py", "q7")
    assert "did not finish within 3 s" in by_name["infinite_loop_at_import.py"].errors[0]


def test_fake_output_does_not_reach_the_json_on_stdout():
    if all(_why_not(box) for box in SANDBOXES):
        pytest.skip("no sandbox that isolates student code runs here")
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade",
         str(HOSTILE / "generators" / "tampers_with_judge.py"),
         "-a", "generators", "--format", "json"],
        capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(done.stdout)
    assert result["score"] == 0.0 and result["max_score"] == 18.0
