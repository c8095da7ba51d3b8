"""A class graded into a folder, for real: the grades, Canvas's gradebook
file, the students' feedback and the report; resuming a run (nothing finished
is graded twice) and a run killed half way (nobody lost, nobody twice)."""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ROOT, SUBMISSIONS, expected_scores

from autograder import assignments, classroom, cli, render, report
from autograder.model import QuestionResult, SubmissionResult
from autograder.model import TestResult as Outcome  # not collected as a test class
from autograder.submissions import Submission

GENERATORS = SUBMISSIONS / "generators"
# A small class: one correct, two with one bug each, one that cannot load;
# dan's file is named as Canvas names a late one (name, LATE, user id, submission id).
CLASS = {
    "alice_generators.py": ROOT / "solutions" / "generators" / "generators.py",
    "bob_generators.py": GENERATORS / "q5_off_by_one.py",
    "carol_generators.py": GENERATORS / "syntax_error.py",
    "dandoe_LATE_4242_777_generators.py": GENERATORS / "q1_yields_four.py",
}
DAN = "4242"  # Canvas's user id: the student key
STUDENTS = ["4242", "alice", "bob", "carol"]


NOT_GRADED = "notes.txt"  # a file of the class that is not a submission: listed, not graded


def make_class(folder: Path, files: dict[str, Path] = CLASS) -> Path:
    folder.mkdir(parents=True)
    for name, source in files.items():
        shutil.copy(source, folder / name)
    (folder / NOT_GRADED).write_text("remember to grade this class\n")
    return folder


def result_files(out: Path) -> dict[str, int]:
    """Each finished result's file, with its modification time (ns)."""
    return {p.stem: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("class")
    klass = make_class(root / "class")
    seen: list[SubmissionResult] = []
    run = classroom.grade_class([klass], assignment="generators", out=root / "out",
                                progress=seen.append)
    return SimpleNamespace(root=root, klass=klass, out=root / "out", run=run, seen=seen)


def by_key(run: classroom.ClassRun) -> dict[str, SubmissionResult]:
    return dict(zip(run.keys, run.results, strict=True))


def test_every_student_is_graded_once_and_saved(graded):
    assert sorted(graded.run.keys) == STUDENTS
    assert sorted(r.student for r in graded.seen) == STUDENTS  # each reported as it finished
    assert sorted(result_files(graded.out)) == STUDENTS
    results = by_key(graded.run)
    assert results["alice"].score == 18 and results["alice"].complete
    for key, file in ((DAN, "dandoe_LATE_4242_777_generators.py"), ("bob", "bob_generators.py")):
        want = expected_scores(CLASS[file])  # the scores its bug must get, from its expect: line
        assert {q.id: q.score for q in results[key].questions} == {
            q.id: want.get(q.id, q.max_score) for q in results[key].questions}
    assert results["carol"].score == 0 and results["carol"].complete  # a zero with its reason
    assert any("SyntaxError" in e for e in results["carol"].errors)
    saved = json.loads((graded.out / "results" / "bob.json").read_text())
    assert saved[classroom.SOURCE_HASH] and saved["seconds"] > 0
    assert saved["score"] == results["bob"].score


def test_grades_csv_has_a_row_a_student_and_a_column_a_question(graded):
    with (graded.out / "grades.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    questions = [q.id for q in assignments.get("generators").questions]
    assert list(rows[0]) == ["student", "name", "lms_id", "late", *questions, "total", "max",
                             "complete", "submission"]
    assert [row["student"] for row in rows] == graded.run.keys
    for row, result in zip(rows, graded.run.results, strict=True):
        assert float(row["total"]) == result.score and float(row["max"]) == 18
        assert {q: float(row[q]) for q in questions} == {q.id: q.score for q in result.questions}
        assert row["late"] == ("true" if result.late else "false")
        assert row["complete"] == "true"
        assert row["name"] == (result.name or "") and row["lms_id"] == (result.lms_id or "")
    dan = next(row for row in rows if row["student"] == DAN)
    assert (dan["name"], dan["lms_id"], dan["late"]) == ("dandoe", DAN, "true")
    assert dan["submission"] == str(graded.klass / "dandoe_LATE_4242_777_generators.py")


def test_canvas_csv_follows_the_gradebook_import_format(graded):
    with (graded.out / "canvas.csv").open(newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "generators"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][1:] == ["", "", "", "", "18"]
    students = rows[2:]
    assert len(students) == len(STUDENTS)
    got = {row[0]: (*row[1:4], float(row[5])) for row in students}
    assert got == {(r.name or r.student): (*render.canvas_ids(r), r.score)
                   for r in graded.run.results}
    assert got["dandoe"][:3] == (DAN, "", "")  # Canvas's user id, in ID


def hidden_source_lines() -> set[str]:
    """Every line of the hidden tests' code long enough to mean something."""
    lines = set()
    for path in (assignments.PACKAGE / "hidden").rglob("*.py"):
        lines |= {line.strip() for line in path.read_text().splitlines()
                  if len(line.strip()) >= 20}
    return lines


def test_feedback_for_each_student_reveals_no_hidden_test(graded):
    hidden = hidden_source_lines()
    assert len(hidden) > 50
    for key, result in by_key(graded.run).items():
        for suffix in (".md", ".html"):
            text = (graded.out / "feedback" / f"{key}{suffix}").read_text()
            assert f"{result.score:g} / 18" in text
            shown = html.escape if suffix == ".html" else report.markdown_inline
            for question in result.questions:
                for test in question.tests:  # every test, hidden ones by their title
                    assert shown(test.name) in text
            leaked = [line for line in hidden if line in text]
            assert not leaked, f"{key}{suffix} shows hidden test code: {leaked[:3]}"
    carol = (graded.out / "feedback" / "carol.md").read_text()
    assert "SyntaxError" in carol and "Problems in your file" in carol
    bob = (graded.out / "feedback" / "bob.html").read_text()
    assert "(hidden)" in bob and "failed" in bob


def test_report_has_the_pictures_pass_rates_failures_and_times(graded):
    text = (graded.out / "report.html").read_text()
    # Readable offline: nothing to fetch, nothing to run.
    assert not re.search(r'(src|href)\s*=\s*["\']?\w+:', text)
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert text.count("<svg") == 3  # scores, pass rate per test, time per submission
    assert "Pass rate per test" in text and "Most common failures" in text
    for key in STUDENTS:
        assert f'href="feedback/{key}.html"' in text
    bob = by_key(graded.run)["bob"]
    failed = [(q.id, t) for q in bob.questions for t in q.tests if t.status == "failed"]
    assert failed
    rows = re.findall(r"<tr>(.*?)</tr>", text)
    for qid, test in failed:  # its row of pass rates counts the class's outcomes
        outcomes = [t.status for r in graded.run.results for q in r.questions
                    if q.id == qid for t in q.tests if t.name == test.name]
        passed, ran = outcomes.count("passed"), len(outcomes)
        kind = "hidden" if test.hidden else "public"
        row = (f"<td>{qid}</td><td>{html.escape(test.name)}</td><td>{kind}</td>"
               f"<td class=num>{passed}</td><td class=num>{ran - passed}</td>"
               f"<td class=num>0</td><td class=num>{100 * passed / ran:.0f}%</td>")
        assert row in rows, row
    assert [item.path.name for item in graded.run.skipped] == [NOT_GRADED]
    assert "Files not graded" in text and NOT_GRADED in text
    assert "Incomplete submissions" in text


def test_report_lists_skipped_files_and_incomplete_submissions_escaped():
    """Student text and file names are escaped; skipped files and the
    submissions to regrade are listed."""
    evil = "<script>alert(1)</script>"
    test = Outcome(f"a test {evil}", "error", 0.0, 2.0, True, f"it printed {evil}")
    result = SubmissionResult("x.py", "eve", "generators", 0.0, 2.0,
                              [QuestionResult("q1", "mygenerator", 0.0, 2.0, [test])],
                              errors=[f"grader error: q1: {evil}"], complete=False,
                              name=f"Eve {evil}", seconds=1.5)
    skipped = [SimpleNamespace(path=Path(f"class/{evil}.txt"), reason="not a .py or .ipynb")]
    page = report.class_report([result], ["eve"], skipped)
    assert evil not in page and "&lt;script&gt;" in page
    assert "not a .py or .ipynb" in page and "Fix the cause" in page
    page = report.feedback_html(result)
    assert evil not in page and "Incomplete" in page
    markdown = report.feedback_markdown(result)
    assert "Incomplete" in markdown and "it printed" in markdown
    assert evil not in outside_code_blocks(markdown)  # in a code block it is only text


def outside_code_blocks(markdown: str) -> str:
    kept, fence = [], None
    for line in markdown.splitlines():
        mark = line.strip()
        if fence is None and mark.startswith("```"):
            fence = mark[:len(mark) - len(mark.lstrip("`"))]
        elif fence is not None and mark == fence:
            fence = None
        elif fence is None:
            kept.append(line)
    return "\n".join(kept)


def copy_run(graded, tmp_path: Path) -> tuple[Path, Path]:
    klass = tmp_path / "class"
    shutil.copytree(graded.klass, klass)
    out = tmp_path / "out"
    shutil.copytree(graded.out, out)  # keeps the files' times
    return klass, out


def test_a_second_run_regrades_nothing(graded, tmp_path):
    klass, out = copy_run(graded, tmp_path)  # another folder: the same files
    before = result_files(out)
    seen: list[SubmissionResult] = []
    run = classroom.grade_class([klass], assignment="generators", out=out, progress=seen.append)
    assert seen == [] and run.graded == [] and sorted(run.reused) == STUDENTS
    assert result_files(out) == before
    assert [r.score for r in run.results] == [r.score for r in graded.run.results]
    assert [r.seconds for r in run.results] == pytest.approx(
        [r.seconds for r in graded.run.results], abs=0.001)
    assert (out / "report.html").is_file()


def test_the_command_resumes_and_shows_the_table_the_skipped_files_and_the_report(
        graded, tmp_path, capsys):
    klass, out = copy_run(graded, tmp_path)
    before = result_files(out)
    code = cli.main(["grade", str(klass), "-a", "generators", "--out", str(out)])
    shown = capsys.readouterr()
    assert code == 0, shown.err
    assert result_files(out) == before  # all kept: nothing to grade
    assert "0 graded now, 4 kept" in shown.out
    assert all(key in shown.out for key in STUDENTS) and "18/18" in shown.out  # the table
    assert NOT_GRADED in shown.out
    assert f"Report: {out / 'report.html'}" in shown.out.replace("\n", "")


def test_a_deleted_changed_or_incomplete_result_is_regraded_alone(graded, tmp_path):
    klass, out = copy_run(graded, tmp_path)
    (out / "results" / "bob.json").unlink()
    with (klass / "alice_generators.py").open("a") as file:
        file.write("\n# changed after grading\n")
    dan = json.loads((out / "results" / f"{DAN}.json").read_text())
    (out / "results" / f"{DAN}.json").write_text(json.dumps({**dan, "complete": False}))
    before = result_files(out)
    seen: list[SubmissionResult] = []
    run = classroom.grade_class([klass], assignment="generators", out=out, progress=seen.append)
    assert sorted(r.student for r in seen) == [DAN, "alice", "bob"]
    assert sorted(run.graded) == [DAN, "alice", "bob"] and run.reused == ["carol"]
    after = result_files(out)
    assert after["carol"] == before["carol"]
    assert after["alice"] != before["alice"] and after[DAN] != before[DAN]
    assert json.loads((out / "results" / f"{DAN}.json").read_text())["complete"] is True


def test_regrade_grades_everything_again(tmp_path):
    klass = make_class(tmp_path / "class", {"erin_generators.py": CLASS["carol_generators.py"]})
    out = tmp_path / "out"
    classroom.grade_class([klass], assignment="generators", out=out)
    seen: list[SubmissionResult] = []
    run = classroom.grade_class([klass], assignment="generators", out=out, regrade=True,
                                progress=seen.append)
    assert [r.student for r in seen] == ["erin"] and run.graded == ["erin"]


def test_keys_are_safe_unique_and_stable():
    def sub(student: str | None, path: str, slug: str | None = "generators") -> Submission:
        return Submission(Path(path), slug, student=student, source=Path(path))

    subs = [sub("ann", "b/ann.py"), sub("Ann", "a/ann.py"), sub("../../etc/passwd", "x.py"),
            sub("ann-2", "c.py"), sub(None, "d/zoe_generators.py"), sub("", "e.py")]
    keys = classroom.submission_keys(subs)
    assert keys == ["ann-3", "Ann", "etc_passwd", "ann-2", "zoe_generators", "e"]
    assert keys == classroom.submission_keys(list(subs))  # the same class, the same names
    assert len({k.casefold() for k in keys}) == len(keys)
    mixed = classroom.submission_keys([sub("ann", "g.py"), sub("ann", "t.py", "threads")])
    assert mixed == ["generators-ann", "threads-ann"]
    # A file whose assignment is not known does not make a class mixed.
    assert classroom.submission_keys([sub("ann", "g.py"), sub("bo", "b.py", None)]) == [
        "ann", "bo"]


def test_killed_run_resumes_without_losing_or_regrading_anyone(tmp_path):
    klass = make_class(tmp_path / "class")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "grade", str(klass), "-a", "generators",
               "--out", str(out), "--jobs", "1"]
    # A session of its own: the kill reaches the grader and its children, as
    # Ctrl-C in a terminal reaches the whole foreground group.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not result_files(out) and process.poll() is None:
            assert time.monotonic() < deadline, "no result was written in 120 s"
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    finally:
        try:  # whatever of that session is still running (the grader's children too)
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, stderr = process.communicate()
    assert process.returncode == 130, stderr  # Ctrl-C stops the run at once
    assert "run the same command again" in " ".join(stderr.split())
    kept = result_files(out)
    assert 1 <= len(kept) < len(STUDENTS), "the run was not stopped half way"
    contents = {key: (out / "results" / f"{key}.json").read_bytes() for key in kept}
    assert all(json.loads(c)["complete"] for c in contents.values())

    seen: list[SubmissionResult] = []
    run = classroom.grade_class([klass], assignment="generators", out=out, progress=seen.append)
    assert sorted(r.student for r in seen) == sorted(set(STUDENTS) - set(kept))
    assert sorted(run.keys) == STUDENTS and sorted(result_files(out)) == STUDENTS
    for key, mtime in kept.items():  # what was finished is untouched
        assert result_files(out)[key] == mtime
        assert (out / "results" / f"{key}.json").read_bytes() == contents[key]
    with (out / "grades.csv").open(newline="") as file:
        assert sorted(row["student"] for row in csv.DictReader(file)) == STUDENTS
    assert not list(out.rglob(f"{classroom.TMP_PREFIX}*"))  # no half-written file left


def test_canvas_ids_go_where_canvas_matches_them():
    def result(path: str, lms_id: str | None) -> SubmissionResult:
        return SubmissionResult(path, lms_id, "generators", 1.0, 18.0, lms_id=lms_id)

    canvas = result("class/doejane_12345_67890_generators.py", "12345")
    gradescope = result("export/submission_1/generators.py", "20123456")  # the school's SID
    email = result("export/submission_2/generators.py", "jane@school.edu")
    plain = result("class/alice_generators.py", None)
    assert render.canvas_ids(canvas) == ("12345", "", "")
    assert render.canvas_ids(gradescope) == ("", "20123456", "")
    assert render.canvas_ids(email) == ("", "", "jane@school.edu")
    assert render.canvas_ids(plain) == ("", "", "")
