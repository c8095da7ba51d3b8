"""otter-grader grades advpy's assignments with advpy's scores.

The real thing, no mock: ``advpy export otter`` writes the zips with otter's
own ``otter generate``, and the real ``otter run`` (no Docker) grades the
reference notebooks and modules, the stubs, and wrong notebooks of ours
(``tests/otter_submissions/<slug>/``, each with an ``expect:`` line); every
question must get the score that ``advpy grade`` gives.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, expected_scores

from autograder import api, assignments, cli
from autograder.exporters import otter as otter_export
from autograder.exporters import otter_checks, otter_common
from autograder.exporters.otter_plugin import grader_error_result
from autograder.model import ERROR_TEST_NOTE

SLUGS = assignments.available()
OURS = Path(__file__).resolve().parent / "otter_submissions"
OTTER_TIMEOUT = 600


def _cases() -> list:
    cases = []
    for slug in SLUGS:
        cases += [pytest.param(slug, ROOT / "solutions" / slug / f"{slug}.ipynb", "full",
                               id=f"{slug}-reference.ipynb"),
                  pytest.param(slug, ROOT / "solutions" / slug / f"{slug}.py", "full",
                               id=f"{slug}-reference.py"),
                  pytest.param(slug, ROOT / "assignments" / slug / f"{slug}.ipynb", "zero",
                               id=f"{slug}-stub.ipynb")]
        if (OURS / slug).is_dir():
            cases += [pytest.param(slug, path, "expect", id=f"{slug}-{path.name}")
                      for path in sorted((OURS / slug).glob("*.ipynb"))]
    return cases


@pytest.fixture(scope="module")
def zips(tmp_path_factory) -> dict[str, Path]:
    target = tmp_path_factory.mktemp("export")
    assert cli.main(["export", "otter", str(target)]) == 0
    return {slug: target / f"{slug}-autograder.zip" for slug in SLUGS}


def otter_run(autograder: Path, submission: Path, out: Path) -> dict:
    """``otter run -a ZIP SUBMISSION``: otter's results.json."""
    out.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "otter", "run", "-a", str(autograder),
                           "-o", str(out), "--no-logo", str(submission)],
                          capture_output=True, text=True, timeout=OTTER_TIMEOUT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((out / "results.json").read_text())


def question_scores(otter_results: dict) -> dict[str, float]:
    return {t["name"]: round(t["score"], 4) for t in otter_results["tests"] if "score" in t}


@pytest.mark.slow
@pytest.mark.parametrize("slug, path, expectation", _cases())
def test_otter_run_gives_advpy_scores(slug, path, expectation, zips, tmp_path):
    theirs = otter_run(zips[slug], path, tmp_path / "out")
    otter_scores = question_scores(theirs)
    runs = []
    # Two gradings are two runs of timing-based tests: on a machine loaded
    # by something else, one of them may differ; a second grading by advpy
    # tells that apart from a difference between otter and advpy.
    for _ in range(2):
        ours = api.grade([path], assignment=slug)[0]
        runs.append({q.id: round(q.score, 4) for q in ours.questions})
        if runs[-1] == otter_scores:
            break
    assert otter_scores == runs[-1], f"otter {otter_scores}, advpy {runs}"
    assert not ours.has_grader_errors, ours.errors
    total = sum(t["score"] for t in theirs["tests"] if "score" in t)
    assert round(total, 4) == round(ours.score, 4)
    want = {q.id: q.max_score for q in ours.questions}
    if expectation == "zero":
        want = {qid: 0.0 for qid in want}
    elif expectation == "expect":
        want.update(expected_scores(path))
    assert {q.id: q.score for q in ours.questions} == want
    # Hidden tests' results wait for publication; the public summary shows at once.
    visibility = {t["name"]: t.get("visibility") for t in theirs["tests"]}
    assert visibility.pop("Public Tests") == "visible"
    assert set(visibility.values()) == {"after_published"}
    assert theirs.get("stdout_visibility", "hidden") == "hidden"


@pytest.mark.parametrize("slug", SLUGS)
def test_the_zip_is_otters(slug, zips, tmp_path):
    with zipfile.ZipFile(zips[slug]) as archive:
        names = set(archive.namelist())
        config = json.loads(archive.read("otter_config.json"))
        environment = archive.read("environment.yml").decode()
        archive.extractall(tmp_path)
    assert {"run_autograder", "setup.sh", "run_otter.py", "environment.yml"} <= names
    questions = assignments.get(slug).questions
    assert {n for n in names if n.startswith("tests/")} == {f"tests/{q.id}.py" for q in questions}
    plugin = config["plugins"][0][otter_export.PLUGIN]
    # The fingerprint the plugin checks is the one of the advpy the zip carries.
    assert plugin == {"assignment": slug,
                      "fingerprint": otter_common.tree_fingerprint(tmp_path / "files" / "advpy")}
    assert "/autograder/source/files/advpy" in environment
    assert "files/advpy/pyproject.toml" in names
    assert f"files/advpy/autograder/hidden/{slug}/__init__.py" in names
    assert not any(n.startswith("files/advpy/autograder/hidden/") and n.split("/")[4] not in
                   (slug, "__init__.py") for n in names), "other assignments' hidden tests"
    assert not any("solutions" in n or "/demo/" in n or "__pycache__" in n for n in names)


def test_guide_names_the_cpu_setting(zips):
    guide = (next(iter(zips.values())).parent / "GRADESCOPE.md").read_text()
    assert "Autograder Settings" in guide and "CPU" in guide
    for slug in SLUGS:
        assert f"{slug}-autograder.zip" in guide


def test_verdicts_follow_advpy_statuses():
    result = {"questions": [{"id": "q1", "tests": [
        {"name": "a", "status": "passed", "max_score": 1.0, "hidden": False,
         "feedback": "judged from concurrent processes on 1 CPU"},
        {"name": "b", "status": "failed", "max_score": 2.0, "hidden": True, "feedback": "no"},
        {"name": "c", "status": "error", "max_score": 1.0, "hidden": True, "feedback": "oops"},
    ]}], "errors": []}
    graded = otter_checks.tests_of(result, "q1")
    assert [(t.passed, t.points, t.hidden) for t in graded] == [
        (True, 1.0, False), (False, 2.0, True), (False, 1.0, True)]
    # A grader error scores 0 and says whose fault it is, and that it will be regraded.
    assert graded[2].feedback.startswith(ERROR_TEST_NOTE) and "oops" in graded[2].feedback
    assert graded[0].note == "judged from concurrent processes on 1 CPU"  # shown to the student
    unreadable = otter_checks.tests_of({"questions": [], "errors": ["unreadable"]}, "q1")
    assert unreadable[0].feedback == "unreadable"


def test_otter_lines_are_stripped_for_the_grader():
    source = ('# a comment\nimport otter\ngrader = otter.Notebook(tests_dir="tests")\n'
              'x = 1\ngrader.check("q1")\nif __name__ == "__main__":\n'
              '    grader.check("q2")\n')
    assert otter_checks.strip_plumbing(source).splitlines() == [
        "# a comment", "pass", "pass", "x = 1", "pass", "pass"]
    assert otter_checks.strip_plumbing("%timeit x\n") == "%timeit x\n"


# -- Gradescope's results.json -------------------------------------------------

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def check_gradescope_spec(data: dict) -> None:
    """Gradescope's autograder results format, field by field."""
    assert isinstance(data["score"], (int, float)) and not isinstance(data["score"], bool)
    assert isinstance(data["execution_time"], (int, float))
    assert data["stdout_visibility"] == "hidden"
    assert data.get("visibility", "visible") in VISIBILITY
    assert isinstance(data.get("output", ""), str)
    for test in data["tests"]:
        assert {"name", "number", "score", "max_score", "status", "output",
                "visibility"} <= set(test)
        assert isinstance(test["name"], str) and isinstance(test["number"], str)
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"],
                                                                      (int, float))
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in VISIBILITY
    assert round(sum(t["score"] for t in data["tests"]), 4) == round(data["score"], 4)


@pytest.mark.parametrize("slug", SLUGS)
def test_gradescope_results_json(slug, tmp_path):
    path = ROOT / "tests" / "submissions" / slug
    wrong = sorted(path.glob("q*.py"))[:1] if path.is_dir() else []
    for submission in [ROOT / "solutions" / slug / f"{slug}.py", *wrong]:
        out = tmp_path / f"{submission.stem}-results.json"
        assert cli.main(["grade", str(submission), "-a", slug, "--format", "json",
                         "-o", str(tmp_path / "x.json"), "--gradescope", str(out)]) == 0
        data = json.loads(out.read_text())
        check_gradescope_spec(data)
        ours = json.loads((tmp_path / "x.json").read_text())
        assert data["score"] == ours["score"]
        hidden = [t for q in ours["questions"] for t in q["tests"] if t["hidden"]]
        assert len([t for t in data["tests"] if t["visibility"] == "after_published"]) \
            == len(hidden)
        assert {t["visibility"] for t in data["tests"]} <= {"visible", "after_published"}


def test_when_advpy_cannot_grade_the_submission_is_incomplete():
    """No points given, and the student is told the submission will be regraded."""
    slug = SLUGS[0]
    result = grader_error_result(slug, "the engine crashed")
    assert result["score"] == 0 and result["max_score"] == assignments.get(slug).max_score
    assert result["complete"] is False
    assert result["errors"] == ["grader error: the engine crashed"]
    tests = otter_checks.tests_of(result, "q1")
    assert [t.passed for t in tests] == [False]
    assert tests[0].feedback.startswith(ERROR_TEST_NOTE) and "the engine crashed" in \
        tests[0].feedback
