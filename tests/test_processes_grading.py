"""The processes assignment, beyond the scores of tests/test_assignments.py:
pickling errors are named in the feedback, a single CPU switches the speedup
test to judging concurrency (and says so), and nothing a submission starts
outlives its grading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, SUBMISSIONS, grade_file

OURS = SUBMISSIONS / "processes"
REFERENCE = ROOT / "solutions" / "processes" / "processes.py"


def _feedback(result, qid):
    return [t.feedback for q in result.questions if q.id == qid for t in q.tests]


@pytest.mark.parametrize("name", ["q3_lambda.py", "q3_lambda_notebook.ipynb"])
def test_a_lambda_handed_to_a_pool_is_named_pickling(name):
    result = grade_file(OURS / name, "processes")
    first = _feedback(result, "q3")[0]
    assert "pickl" in first.lower() and "module-level function" in first, first


def _grade_on_one_cpu(paths):
    """Grade in a child process whose CPU affinity is a single CPU."""
    cpu = min(os.sched_getaffinity(0))
    code = ("import json, sys; from autograder import api; "
            "print(json.dumps([r.to_json() for r in api.grade(sys.argv[1:], "
            "assignment='processes')]))")
    out = subprocess.run([sys.executable, "-c", code, *map(str, paths)], cwd=ROOT,
                         capture_output=True, text=True, check=True,
                         preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity")
def test_one_cpu_judges_concurrency_and_says_so():
    reference, serial, one_worker = _grade_on_one_cpu(
        [REFERENCE, OURS / "q3_serial.py", OURS / "q3_one_worker.py"])
    assert reference["score"] == 17, reference
    titles = [t["name"] for q in reference["questions"] for t in q["tests"]]
    assert any("speedup not measurable here" in title and "1 CPU" in title for title in titles), (
        titles)
    for wrong in (serial, one_worker):
        q3 = next(q for q in wrong["questions"] if q["id"] == "q3")
        assert q3["score"] == 0, wrong


def _leftovers():
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and Path(f"/proc/{entry}/comm").read_text().strip() == (
                    "advpy-leftover"):
                found.append(int(entry))
        except OSError:
            continue
    return found


def test_nothing_a_submission_starts_outlives_its_grading():
    untidy = grade_file(OURS / "correct_leaves_processes_behind.py", "processes")
    assert untidy.score == 17, [(q.id, q.score) for q in untidy.questions]
    deadline = time.monotonic() + 5
    while _leftovers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _leftovers(), "processes of the untidy submission survived its grading"
    after = grade_file(REFERENCE, "processes")
    assert after.score == 17, [(q.id, q.score) for q in after.questions]
