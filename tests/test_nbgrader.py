"""nbgrader grades advpy's course with advpy's scores.

The real thing, no mock: ``advpy export nbgrader`` writes a course, the real
``nbgrader generate_assignment`` releases it, students' notebooks are made
from the release (the reference, the stub as released, wrong modules of our
corpus, a correct one that writes to stderr and warns, one whose nbgrader
metadata and test cells were tampered with, and one that is not JSON), and
the real ``nbgrader autograde``, ``export`` and ``generate_feedback`` run on
them. Every question's score in nbgrader's gradebook must be the one
``advpy grade`` gives the same notebook.
"""

from __future__ import annotations

import ast
import copy
import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, SUBMISSIONS

from autograder import api, assignments, cli, notebooks
from autograder.exporters import nbgrader as nbgrader_export

SLUG = "generators"
# A student who searches the machine for the course folder (its source
# notebook holds the reference and the hidden tests).
SNOOP = ROOT / "tests" / "hostile" / SLUG / "snoops_nbgrader_course.py"
TIMEOUT = 600
WRONG = ("q1_yields_four.py", "q5_off_by_one.py")  # each with one named bug, cheap to grade
NOISY = '''import sys
import warnings

print("debugging output", file=sys.stderr)
warnings.warn("a warning from correct code")'''


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                          capture_output=True, text=True, timeout=TIMEOUT)
    return done


def module_parts(text: str) -> tuple[list[str], dict[str, str]]:
    """A module's top-level statements other than definitions, and each
    definition's source (decorators included) by name."""
    tree = ast.parse(text)
    lines = text.splitlines()
    others, defined = [], {}
    for node in tree.body:
        first = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])
        source = "\n".join(lines[first - 1:node.end_lineno])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined[node.name] = source
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            others.append(source)
    return others, defined


def filled(release: nbformat.NotebookNode, module: str) -> nbformat.NotebookNode:
    """The released notebook as a student hands it in, with the module's
    code: its imports and globals in the first plain code cell, each
    answer cell holding the module's definitions of the names the stub
    defines there, and the module's other definitions (helpers) right after
    the imports."""
    others, defined = module_parts(module)
    notebook = copy.deepcopy(release)
    used: set[str] = set()
    answers = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    for cell in answers:
        names = sorted(notebooks._defined(cell.source), key=cell.source.index)
        cell.source = "\n\n\n".join(defined[n] for n in names if n in defined)
        used.update(names)
    helpers = [source for name, source in defined.items() if name not in used]
    plain = next(i for i, c in enumerate(notebook.cells)
                 if c.cell_type == "code" and "nbgrader" not in c.metadata)
    notebook.cells[plain].source = "\n".join(others)
    notebook.cells[plain + 1:plain + 1] = [nbformat.v4.new_code_cell(h) for h in helpers]
    return notebook


def tampered(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A correct notebook whose locked cells a student changed: a newer
    nbgrader schema on a markdown cell (it would stop nbgrader's whole run),
    the q2 test cell deleted, and the q1 test cell rewritten to print its
    points, with a forged output."""
    notebook = copy.deepcopy(notebook)
    markdown = next(c for c in notebook.cells if c.cell_type == "markdown")
    markdown.metadata["nbgrader"]["schema_version"] = 99
    notebook.cells = [c for c in notebook.cells
                      if c.metadata.get("nbgrader", {}).get("grade_id") != "q2"]
    q1 = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q1")
    q1.source = "2.0"
    q1.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2.0"},
                                         execution_count=1)]
    return notebook


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """The exported course with generators released and a class submitted."""
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    assert cli.main(["export", "nbgrader", str(course), "-a", SLUG]) == 0
    done = nbgrader(course, "generate_assignment", SLUG, "--force")
    assert done.returncode == 0, done.stderr[-3000:]
    release = nbformat.read(course / "release" / SLUG / f"{SLUG}.ipynb", as_version=4)
    reference = filled(release, (ROOT / "solutions" / SLUG / f"{SLUG}.py").read_text("utf-8"))
    noisy = copy.deepcopy(reference)
    noisy.cells.insert(2, nbformat.v4.new_code_cell(NOISY))
    firstn = next(c for c in noisy.cells if c.source.startswith("def firstn("))
    firstn.source = firstn.source.replace(
        "    return list(range(n))",
        '    print("firstn called", file=sys.stderr)\n    return list(range(n))')
    students = {"reference": reference, "stub": release, "noisy": noisy,
                "tampered": tampered(reference)}
    for name in WRONG:
        students[Path(name).stem] = filled(release, (SUBMISSIONS / SLUG / name).read_text("utf-8"))
    students["snoop"] = filled(release, SNOOP.read_text("utf-8"))
    for student, notebook in students.items():
        path = course / "submitted" / student / SLUG / f"{SLUG}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, str(path))
    broken = course / "submitted" / "broken" / SLUG / f"{SLUG}.ipynb"
    broken.parent.mkdir(parents=True)
    broken.write_text('{"cells": [ this is not JSON', encoding="utf-8")
    return course


def submitted(course: Path) -> dict[str, Path]:
    return {p.parent.parent.name: p for p in sorted(course.glob(f"submitted/*/{SLUG}/*.ipynb"))}


def gradebook_scores(course: Path, students: list[str]) -> dict[str, dict[str, float]]:
    from nbgrader.api import Gradebook

    questions = [q.id for q in assignments.get(SLUG).questions]
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in students:
            scores[student] = {qid: float(gradebook.find_grade(qid, SLUG, SLUG, student).score)
                               for qid in questions}
    return scores


@pytest.fixture(scope="module")
def autograded(course: Path) -> subprocess.CompletedProcess:
    return nbgrader(course, "autograde", SLUG)


def test_the_source_is_valid_nbgrader_with_the_manifests_points(course):
    source = nbformat.read(course / "source" / SLUG / f"{SLUG}.ipynb", as_version=4)
    assert source.metadata["kernelspec"]["name"] == "python3"
    tests = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
             for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert tests == {q.id: q.points for q in assignments.get(SLUG).questions}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader")
        if cell.cell_type == "markdown":
            assert meta["locked"] and meta["schema_version"] == 3
        if meta and meta["grade"]:
            assert meta["locked"] and "### BEGIN HIDDEN TESTS" in cell.source


def test_the_release_is_our_stub_without_solutions_or_hidden_tests(course):
    release = nbformat.read(course / "release" / SLUG / f"{SLUG}.ipynb", as_version=4)
    text = nbformat.writes(release)
    stub = notebooks.split_cells((ROOT / "assignments" / SLUG / f"{SLUG}.py").read_text("utf-8"))
    answers = [c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")]
    stub_code = [source for kind, source in stub if kind == "code"]
    assert answers and all(answer in stub_code for answer in answers)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "hidden=True" not in text
    for titles in nbgrader_export.hidden_titles(SLUG).values():
        for title in titles:
            assert title not in text, title
    _, reference = module_parts((ROOT / "solutions" / SLUG / f"{SLUG}.py").read_text("utf-8"))
    for name, source in reference.items():
        body = [line for line in source.splitlines()[1:] if line.strip()
                and not line.strip().startswith(('"""', "#"))]
        assert not all(line in text for line in body), f"the reference of {name} is released"


@pytest.mark.parametrize("slug", [s for s in assignments.available() if s != SLUG])
def test_every_assignment_releases_its_stub(tmp_path, slug):
    """The other assignments' courses release as well: answer cells are the
    stub's cells, and nothing of the reference or the hidden tests is left."""
    assert cli.main(["export", "nbgrader", str(tmp_path), "-a", slug]) == 0
    done = nbgrader(tmp_path, "generate_assignment", slug, "--force")
    assert done.returncode == 0, done.stderr[-3000:]
    release = nbformat.read(tmp_path / "release" / slug / f"{slug}.ipynb", as_version=4)
    stub = notebooks.split_cells((ROOT / "assignments" / slug / f"{slug}.py").read_text("utf-8"))
    answers = [c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers and all(answer in [s for k, s in stub if k == "code"] for answer in answers)
    text = nbformat.writes(release)
    assert "SOLUTION" not in text and "HIDDEN TESTS" not in text and "hidden=True" not in text
    points = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert points == {q.id: q.points for q in assignments.get(slug).questions}


def test_autograde_gives_advpy_grade_scores(course, autograded):
    # The broken notebook stops nothing: nbgrader exits 0 and grades everyone.
    assert autograded.returncode == 0, autograded.stderr[-4000:]
    files = submitted(course)
    results = api.grade(list(files.values()), assignment=SLUG)
    ours = {student: {q.id: q.score for q in result.questions}
            for student, result in zip(files, results, strict=True)}
    theirs = gradebook_scores(course, list(files))
    assert theirs == ours
    full = {q.id: q.points for q in assignments.get(SLUG).questions}
    assert theirs["reference"] == theirs["noisy"] == theirs["tampered"] == full
    assert sum(theirs["stub"].values()) == 0 and sum(theirs["broken"].values()) == 0
    assert theirs["q1_yields_four"]["q1"] < full["q1"]
    assert theirs["q5_off_by_one"]["q5"] < full["q5"]
    assert all(result.complete for result in results)


def test_the_broken_notebook_scores_zero_with_its_reason(course, autograded):
    graded = nbformat.read(course / "autograded" / "broken" / SLUG / f"{SLUG}.ipynb", as_version=4)
    tests = [c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(tests) == len(assignments.get(SLUG).questions)
    for cell in tests:
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert "not graded" in text or "0 of" in text, text
        assert cell.outputs[-1]["data"]["text/plain"] == "0"


def test_the_verdicts_replace_what_the_notebook_says(course, autograded):
    graded = nbformat.read(course / "autograded" / "tampered" / SLUG / f"{SLUG}.ipynb",
                           as_version=4)
    q1 = next(c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q1")
    assert "hidden=True" in q1.source  # nbgrader restored the locked cell
    assert q1.outputs[0]["name"] == "stdout" and "q1 (mygenerator)" in q1.outputs[0]["text"]
    assert q1.outputs[-1]["data"]["text/plain"] == "2"


def test_student_code_cannot_read_the_course(course, autograded):
    """The hostile snoop's search finds the course's source notebook from
    outside the sandbox, and not from inside it: its count_evens, right only
    if it read the reference, scores 0 in the gradebook; the rest is full."""
    spec = importlib.util.spec_from_file_location("snoop", SNOOP)
    snoop = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(snoop)
    found = snoop.find_courses(roots=(str(course.parent),))
    assert [Path(c) for c in found] == [course] and snoop.read_solution(found[0])
    scores = gradebook_scores(course, ["snoop"])["snoop"]
    full = {q.id: q.points for q in assignments.get(SLUG).questions}
    assert scores == {**full, "q5": 0.0}


def test_nbgrader_export_writes_the_totals(course, autograded):
    done = nbgrader(course, "export")
    assert done.returncode == 0, done.stderr[-3000:]
    with (course / "grades.csv").open(newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    theirs = gradebook_scores(course, list(submitted(course)))
    for student, scores in theirs.items():
        assert float(rows[student]["score"]) == pytest.approx(sum(scores.values()))
        assert float(rows[student]["max_score"]) == assignments.get(SLUG).max_score


def test_feedback_holds_no_hidden_test_source(course, autograded):
    done = nbgrader(course, "generate_feedback", SLUG)
    assert done.returncode == 0, done.stderr[-3000:]
    pages = sorted(course.glob(f"feedback/*/{SLUG}/{SLUG}.html"))
    assert {p.parent.parent.name for p in pages} == set(submitted(course))
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "hidden=True" not in html and "HIDDEN TESTS" not in html
        assert "outside this kernel, hidden tests included" not in html


def _with_config(course: Path, text: str) -> None:
    (course / nbgrader_export.CONFIG_NAME).write_text(text, encoding="utf-8")


def test_a_kernel_that_runs_the_notebook_changes_no_score(course, autograded):
    """With nbgrader's Execute put back (student code in nbgrader's kernel too),
    the noisy notebook's stderr and warnings in that kernel cost nothing."""
    config = nbgrader_export.config_text()
    with_kernel = config.replace('    PLUGIN + ".AdvpyVerdicts",',
                                 '    "nbgrader.preprocessors.Execute",\n'
                                 '    PLUGIN + ".AdvpyVerdicts",')
    assert with_kernel != config
    _with_config(course, with_kernel)
    try:
        done = nbgrader(course, "autograde", SLUG, "--student", "noisy", "--force")
    finally:
        _with_config(course, config)
    assert done.returncode == 0, done.stderr[-3000:]
    full = {q.id: q.points for q in assignments.get(SLUG).questions}
    assert gradebook_scores(course, ["noisy"])["noisy"] == full
    graded = nbformat.read(course / "autograded" / "noisy" / SLUG / f"{SLUG}.ipynb", as_version=4)
    outputs = [o for c in graded.cells for o in c.get("outputs", [])]
    assert any(o.get("name") == "stderr" for o in outputs)  # the kernel did run it


def test_nbgraders_own_pipeline_grades_in_the_kernel(course, autograded):
    """Under nbgrader's default autograde (a course config without advpy's
    steps), the hidden call in each test cell grades the notebook with advpy
    from the kernel: the same scores."""
    config = nbgrader_export.config_text()
    _with_config(course, f'c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = '
                         f'"{nbgrader_export.COURSE_ID}"\n')
    try:
        done = nbgrader(course, "autograde", SLUG, "--student", "q5_off_by_one", "--force")
    finally:
        _with_config(course, config)
    assert done.returncode == 0, done.stderr[-3000:]
    result = api.grade([submitted(course)["q5_off_by_one"]], assignment=SLUG)[0]
    assert gradebook_scores(course, ["q5_off_by_one"])["q5_off_by_one"] == {
        q.id: q.score for q in result.questions}


def test_a_students_check_cell_runs_the_public_checks(course):
    """In a student's kernel, a released test cell runs the public checks of
    its question on the code the kernel has run: silent success for a right
    answer, a failing cell (the report on stdout, never stderr) for the stub."""
    from nbclient import NotebookClient

    release = nbformat.read(course / "release" / SLUG / f"{SLUG}.ipynb", as_version=4)
    reference = filled(release, (ROOT / "solutions" / SLUG / f"{SLUG}.py").read_text("utf-8"))

    def q1_cells(notebook: nbformat.NotebookNode) -> list:
        ids = ("answer-mygenerator", "q1")
        return [copy.deepcopy(c) for c in notebook.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") in ids]

    for cells, passes in ((q1_cells(reference), True), (q1_cells(release), False)):
        notebook = nbformat.v4.new_notebook(cells=cells)
        notebook.metadata["kernelspec"] = release.metadata["kernelspec"]
        NotebookClient(notebook, timeout=300, allow_errors=True,
                       resources={"metadata": {"path": str(course)}}).execute()
        outputs = notebook.cells[-1].outputs
        text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
        assert not any(o.get("name") == "stderr" for o in outputs), outputs
        assert "q1 (mygenerator)" in text and "public checks" in text, outputs
        failed = [o for o in outputs if o.output_type == "error"]
        assert (not failed) if passes else failed[0]["ename"] == "AssertionError", outputs


def test_a_grader_error_is_flagged_not_scored(course, autograded):
    """When advpy cannot judge (here: a sandbox that does not exist), each
    question scores 0 with an AdvpyGraderError in its cell, is marked as
    needing manual grading, and the log says how to regrade."""
    from nbgrader.api import Gradebook

    config = nbgrader_export.config_text()
    broken = config.replace('c.AdvpyGrade.sandbox = "auto"', 'c.AdvpyGrade.sandbox = "no-such"')
    assert broken != config
    _with_config(course, broken)
    try:
        done = nbgrader(course, "autograde", SLUG, "--student", "reference", "--force")
    finally:
        _with_config(course, config)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "could not be judged" in done.stderr and "--student reference --force" in done.stderr
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for question in assignments.get(SLUG).questions:
            grade = gradebook.find_grade(question.id, SLUG, SLUG, "reference")
            assert grade.score == 0 and grade.needs_manual_grade
    graded = nbformat.read(course / "autograded" / "reference" / SLUG / f"{SLUG}.ipynb",
                           as_version=4)
    errors = [o for c in graded.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert len(errors) == len(assignments.get(SLUG).questions)
    assert all(e["ename"] == "AdvpyGraderError" for e in errors)
