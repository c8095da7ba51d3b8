"""The grader's interfaces and its handling of bad input, through the real CLI
and library: JSON alone on stdout, exit status, classes, zips, LMS downloads."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT, SUBMISSIONS
from rich.console import Console

from autograder import api, cli, render
from autograder.engine import Settings
from autograder.model import ERROR_TEST_NOTE, INCOMPLETE

GOOD = ROOT / "solutions" / "generators" / "generators.py"
STUB = ROOT / "assignments" / "generators" / "generators.py"


def advpy(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, timeout=600, check=check)


def test_json_for_one_submission_is_alone_on_stdout():
    done = advpy("grade", str(GOOD), "--format", "json")
    result = json.loads(done.stdout)
    assert set(result) >= {"submission", "student", "assignment", "score", "max_score",
                           "questions", "errors", "complete"}
    assert result["score"] == result["max_score"] == 18.0
    assert result["complete"] is True and done.returncode == 0
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
    """Never a silent loss: every test is a loud grader error, scoring 0, and
    the submission is incomplete (to be regraded)."""
    from autograder import sandbox
    from autograder.engine import Settings

    real = sandbox.Plain.launch

    def broken(self, module_path, scratch, limits=None, hidden=()):
        launch = real(self, module_path, scratch, limits, hidden)
        launch.prefix = ["/bin/false"]
        return launch

    monkeypatch.setattr(sandbox.Plain, "launch", broken)
    result = api.grade([GOOD], settings=Settings(sandbox="none"))[0]
    statuses = {t.status for q in result.questions for t in q.tests}
    assert statuses == {"error"}
    assert result.score == 0 and not result.complete and result.has_grader_errors
    assert any("did not start" in e for e in result.errors)



def test_a_sandbox_that_breaks_its_pipe_before_starting_is_a_grader_error(monkeypatch):
    """A wrapper that exits before the grader hands over the configuration
    (a broken pipe, a race CI once lost) is the grader's fault: no test is
    failed, no prerequisite is blamed on the student."""
    from autograder import child
    from autograder.engine import Settings

    real = child.wire.write_frame

    def broken_pipe(fd, data):
        if b"load_timeout" in data:  # only the configuration, sent before "ready"
            raise BrokenPipeError(32, "Broken pipe")
        return real(fd, data)

    monkeypatch.setattr(child.wire, "write_frame", broken_pipe)
    result = api.grade([GOOD], settings=Settings(sandbox="none"), jobs=1)[0]
    statuses = {t.status for q in result.questions for t in q.tests}
    assert statuses == {"error"}
    assert result.score == 0 and not result.complete
    assert any("did not start" in e for e in result.errors)


def test_advpy_check_says_when_a_check_could_not_run(monkeypatch, capsys):
    """A student's check with a grader error exits 3, as `advpy grade` does,
    and says the fault is not the student's code."""
    from autograder import cli, sandbox

    real = sandbox.Plain.launch

    def broken(self, module_path, scratch, limits=None, hidden=()):
        launch = real(self, module_path, scratch, limits, hidden)
        launch.prefix = ["/bin/false"]
        return launch

    monkeypatch.setattr(sandbox.Plain, "launch", broken)
    assert cli.main(["check", str(STUB), "--sandbox", "none"]) == cli.EXIT_INCOMPLETE
    assert "not a fault of your code" in capsys.readouterr().err
    monkeypatch.undo()
    assert cli.main(["check", str(STUB), "--sandbox", "none"]) == 0

# -- grader errors: no points given, none silently taken ----------------------

# Hidden tests of our making for the generators assignment: one whose judge
# crashes (a bug of ours, as a TypeError on odd data would be), two that need
# it (directly and through the first), and one that passes.
BROKEN_JUDGE = '''
from autograder.testing import check


@check("q1", hidden=True)
def test_judge_crashes(student):
    """the judge of this test crashes"""
    raise RuntimeError("the judge crashed")


@check("q1", hidden=True, after="test_judge_crashes")
def test_needs_the_crashed_one(student):
    """a test that needs the crashed one"""


@check("q1", hidden=True, after="test_needs_the_crashed_one")
def test_needs_that_one(student):
    """a test two steps after the crash"""


@check("q2", hidden=True)
def test_passes(student):
    """a hidden test that passes"""
'''
CRASHED = "the judge of this test crashes"


@pytest.fixture(scope="module")
def broken_judge(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hidden")
    (folder / "test_broken_judge.py").write_text(BROKEN_JUDGE)
    return folder / "test_broken_judge.py"


@pytest.fixture(scope="module")
def incomplete(broken_judge):
    """The reference solution, graded with the broken judge's hidden tests."""
    return api.grade([GOOD], settings=Settings(hidden_tests=broken_judge.parent))[0]


def _tests(result, question: str) -> dict:
    return {t.name: t for q in result.questions if q.id == question for t in q.tests}


def test_a_grader_error_scores_nothing_and_leaves_the_submission_incomplete(incomplete):
    q1 = _tests(incomplete, "q1")
    crashed = q1[CRASHED]
    assert (crashed.status, crashed.score) == ("error", 0.0) and crashed.max_score > 0
    assert "RuntimeError: the judge crashed" in crashed.feedback
    assert q1["mygenerator() yields 1, 2, 3"].status == "passed"  # the public test
    assert _tests(incomplete, "q2")["a hidden test that passes"].status == "passed"
    assert incomplete.complete is False and incomplete.has_grader_errors
    lost = sum(t.max_score for t in q1.values() if t.status == "error")
    assert incomplete.score == round(incomplete.max_score - lost, 4)
    # One reason to fix, not one a test it kept from running.
    assert len(incomplete.grader_errors) == 1 and CRASHED in incomplete.grader_errors[0]


def test_dependants_of_an_errored_test_are_not_run(incomplete):
    q1 = _tests(incomplete, "q1")
    note = (f"Not run: “{CRASHED}” had a grader error; this test will run when the "
            "submission is regraded.")
    for name in ("a test that needs the crashed one", "a test two steps after the crash"):
        assert (q1[name].status, q1[name].score, q1[name].feedback) == ("error", 0.0, note)


def test_an_incomplete_submission_says_so_in_every_format(incomplete):
    data = json.loads(render.to_json([incomplete], single=True))
    keys = list(data)
    assert data["complete"] is False and keys.index("complete") == keys.index("errors") + 1
    rows = list(csv.DictReader(io.StringIO(render.to_csv([incomplete]))))
    assert rows[0]["complete"] == "false" and rows[0]["score"] == f"{incomplete.score:g}"
    gradescope = render.to_gradescope(incomplete)
    assert INCOMPLETE in gradescope["output"].splitlines()[0]
    errored = [t for t in gradescope["tests"] if t["name"].endswith(CRASHED)]
    assert errored[0]["score"] == 0 and errored[0]["output"].startswith(ERROR_TEST_NOTE)
    assert round(sum(t["score"] for t in gradescope["tests"]), 4) == gradescope["score"]
    for show in (lambda c: render.class_table([incomplete], c),
                 lambda c: render.submission_table(incomplete, c, show_hidden=True)):
        console = Console(file=io.StringIO(), width=300)
        show(console)
        assert INCOMPLETE in console.file.getvalue()
    console = Console(file=io.StringIO(), width=300)
    render.class_table([incomplete], console)
    assert f"{INCOMPLETE}: grader error: q1: {CRASHED}" in console.file.getvalue()


def test_grade_exits_3_when_a_submission_is_incomplete(broken_judge, tmp_path, monkeypatch,
                                                       capsys):
    # The grader's pytest reads PYTEST_ADDOPTS like any pytest run: here it
    # collects the broken judge beside the real hidden tests.
    monkeypatch.setenv("PYTEST_ADDOPTS", str(broken_judge))
    out = tmp_path / "result.json"
    assert cli.main(["grade", str(GOOD), "--format", "json", "-o", str(out)]) == 3
    result = json.loads(out.read_text())
    assert result["complete"] is False and 0 < result["score"] < result["max_score"]
    assert "GRADER ERROR" in capsys.readouterr().err


def test_tests_that_cannot_run_leave_the_submission_incomplete(tmp_path):
    """pytest itself fails (here: no such folder of tests): no question is
    judged, none scores, and the submission is to be regraded."""
    result = api.grade([GOOD], settings=Settings(hidden_tests=tmp_path / "missing"))[0]
    assert result.score == 0 and not result.complete
    assert {t.status for q in result.questions for t in q.tests} == {"error"}
    assert "the tests could not run" in result.grader_errors[0]
