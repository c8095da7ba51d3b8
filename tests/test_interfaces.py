"""The grader's interfaces and its handling of bad input, through the real CLI
and library: JSON alone on stdout, exit status, classes, zips, LMS downloads."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT, SUBMISSIONS

from autograder import api, render

GOOD = ROOT / "solutions" / "generators" / "generators.py"
STUB = ROOT / "assignments" / "generators" / "generators.py"


def advpy(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, timeout=600, check=check)


def test_json_for_one_submission_is_alone_on_stdout():
    done = advpy("grade", str(GOOD), "--format", "json")
    result = json.loads(done.stdout)
    assert set(result) >= {"submission", "student", "assignment", "score", "max_score",
                           "questions", "errors"}
    assert result["score"] == result["max_score"] == 18.0
    question = result["questions"][0]
    assert set(question) == {"id", "name", "score", "max_score", "tests"}
    assert set(question["tests"][0]) == {"name", "status", "score", "max_score", "hidden",
                                         "feedback"}
    assert "graded" in done.stderr  # progress goes to stderr


def test_json_for_several_is_an_array_and_exit_status_is_zero(tmp_path):
    shutil.copy(GOOD, tmp_path / "ada_generators.py")
    shutil.copy(STUB, tmp_path / "bob_generators.py")
    done = advpy("grade", str(tmp_path), "--format", "json")
    results = json.loads(done.stdout)
    assert [(r["student"], r["score"]) for r in results] == [("ada", 18.0), ("bob", 0.0)]


def test_syntax_error_names_file_and_line(tmp_path):
    broken = tmp_path / "generators.py"
    broken.write_text("def mygenerator():\n    yield 1\n\ndef firstn(n)\n    return []\n")
    result = api.grade([broken])[0]
    assert result.score == 0
    assert "generators.py, line 4" in result.errors[0] and "SyntaxError" in result.errors[0]
    assert "line 4" in result.questions[0].tests[0].feedback


def test_broken_notebook_says_it_is_not_valid_json(tmp_path):
    broken = tmp_path / "generators.ipynb"
    broken.write_text('{"cells": [')
    result = api.grade([broken])[0]
    assert result.score == 0 and "not valid notebook JSON" in result.errors[0]


def test_missing_function_fails_its_question_only():
    result = api.grade([SUBMISSIONS / "generators" / "missing_function.py"],
                       assignment="generators")[0]
    q4 = next(q for q in result.questions if q.id == "q4")
    assert q4.score == 0
    assert "defines no function `evens`" in q4.tests[0].feedback
    assert result.score == 15


def test_bad_input_does_not_stop_the_class(tmp_path):
    shutil.copy(GOOD, tmp_path / "ada_generators.py")
    (tmp_path / "bob_generators.ipynb").write_text("not json")
    (tmp_path / "cy_generators.py").write_text("def mygenerator(:\n")
    (tmp_path / "dee_generators.zip").write_bytes(b"PK not a zip")
    results = api.grade([tmp_path])
    assert [(r.student, r.score) for r in results] == [
        ("ada", 18.0), ("bob", 0.0), ("cy", 0.0), ("dee", 0.0)]
    assert "not a valid zip" in results[3].errors[0]


def test_unknown_assignment_is_explained(tmp_path):
    mystery = tmp_path / "homework.py"
    mystery.write_text("x = 1\n")
    result = api.grade([mystery])[0]
    assert "cannot tell which assignment" in result.errors[0]
    assert "-a SLUG" in result.errors[0]


def test_canvas_zip_keeps_the_students(tmp_path):
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(GOOD, "smithjane_12345_67890_generators.py")
        zf.write(STUB, "doejohn_late_23456_78901_generators-1.py")
    results = api.grade([archive], assignment="generators")
    assert sorted((r.student, r.score) for r in results) == [("12345", 18.0), ("23456", 0.0)]


def test_gradescope_export_keeps_the_student(tmp_path):
    for number, source in (("111", GOOD), ("222", STUB)):
        folder = tmp_path / f"submission_{number}"
        folder.mkdir()
        shutil.copy(source, folder / "generators.py")
    (tmp_path / "submission_metadata.yml").write_text(
        "submission_111:\n  :submitters:\n  - :name: Ada\n    :sid: '1001'\n"
        "    :email: ada@example.edu\n"
        "submission_222:\n  :submitters:\n  - :name: Bob\n    :sid: '1002'\n"
        "    :email: bob@example.edu\n")
    results = api.grade([tmp_path], assignment="generators")
    assert sorted((r.student, r.score) for r in results) == [
        ("1001", 18.0), ("1002", 0.0)]


def test_folder_with_one_submission_is_one_submission(tmp_path):
    shutil.copy(GOOD, tmp_path / "generators.py")
    (tmp_path / "notes.txt").write_text("my notes")
    results = api.grade([tmp_path])
    assert len(results) == 1 and results[0].score == 18.0


def test_check_shows_public_tests_only(tmp_path):
    done = advpy("check", str(GOOD))
    assert "public checks passed" in done.stdout
    assert "(hidden)" not in done.stdout
    assert "10**18" not in done.stdout  # a hidden test's title


def test_demo_grades_every_assignment():
    done = advpy("grade", "--demo")
    for slug in api.assignments.available():
        assert slug in done.stdout
    assert "0/18" in done.stdout and "18/18" in done.stdout


def test_gradescope_results_format():
    result = api.grade([SUBMISSIONS / "generators" / "q5_builds_list.py"],
                       assignment="generators")[0]
    data = render.to_gradescope(result)
    assert data["score"] == 17.0 and isinstance(data["execution_time"], float)
    assert data["stdout_visibility"] == "hidden"
    hidden = [t for t in data["tests"] if t["visibility"] == "after_published"]
    assert hidden and all(set(t) >= {"name", "number", "score", "max_score", "status",
                                     "output", "visibility"} for t in data["tests"])


@pytest.mark.parametrize("jobs", [2])
def test_jobs_give_the_same_scores(tmp_path, jobs):
    for name in ("q3_builds_list_first.py", "q6_eager.py", "correct_classes.py"):
        shutil.copy(SUBMISSIONS / "generators" / name, tmp_path / name)
    one = [r.score for r in api.grade([tmp_path], assignment="generators")]
    many = [r.score for r in api.grade([tmp_path], assignment="generators", jobs=jobs)]
    assert one == many == [18.0, 16.0, 17.5]


def test_a_sandbox_that_cannot_start_is_a_grader_error(monkeypatch):
    """Never the student's loss: every test is a loud grader error, with its points."""
    from autograder import sandbox
    from autograder.engine import Settings

    real = sandbox.Plain.launch

    def broken(self, module_path, scratch, limits=None):
        launch = real(self, module_path, scratch, limits)
        launch.prefix = ["/bin/false"]
        return launch

    monkeypatch.setattr(sandbox.Plain, "launch", broken)
    result = api.grade([GOOD], settings=Settings(sandbox="none"))[0]
    statuses = {t.status for q in result.questions for t in q.tests}
    assert statuses == {"error"}
    assert result.score == result.max_score and result.has_grader_errors
    assert any("did not start" in e for e in result.errors)
