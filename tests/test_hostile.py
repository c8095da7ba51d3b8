"""Hostile submissions, graded in one class beside correct ones, with the real
sandbox: each gets what its honest part deserves and no more, every correct
one gets full marks, and nothing they started is left running."""

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

HOSTILE = Path(__file__).resolve().parent / "hostile"

pytestmark = pytest.mark.skipif(not sandbox.bubblewrap_works(),
                                reason="the hostile corpus runs only inside bubblewrap")


def _sandbox_processes() -> list[int]:
    """Live processes of any sandbox uid on this machine."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            uid = int(status.split("Uid:")[1].split()[0])
            state = status.split("State:")[1].split()[0]
            if sandbox.UID_BASE <= uid < sandbox.UID_BASE + 4000 and state != "Z":
                found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def graded():
    settings = Settings(limits=Limits(load_timeout=3.0), sandbox="bubblewrap")
    started = time.monotonic()
    results = api.grade([HOSTILE], assignment="generators", settings=settings)
    return results, time.monotonic() - started


def test_every_submission_gets_a_result(graded):
    results, seconds = graded
    files = sorted(p.name for p in HOSTILE.glob("*.py"))
    assert sorted(Path(r.submission).name for r in results) == files
    assert all(r.sandbox == "bubblewrap" for r in results)
    assert seconds < 240, f"the hostile class took {seconds:.0f} s"


@pytest.mark.parametrize("name", sorted(p.name for p in HOSTILE.glob("*.py")))
def test_hostile_scores_what_its_honest_part_deserves(graded, name):
    results, _ = graded
    result = next(r for r in results if Path(r.submission).name == name)
    assert_scores(result, expected_scores(HOSTILE / name))


def test_nothing_is_left_running(graded):
    deadline = time.monotonic() + 5
    while _sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _sandbox_processes() == []


def test_feedback_names_the_limit_hit(graded):
    results, _ = graded
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
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(HOSTILE / "tampers_with_judge.py"),
         "-a", "generators", "--format", "json"],
        capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(done.stdout)
    assert result["score"] == 0.0 and result["max_score"] == 18.0
