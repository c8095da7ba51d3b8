"""``advpy export nbgrader COURSE``: an nbgrader course that ``nbgrader autograde``
grades with ``advpy grade``'s scores.

The course folder gets:

- ``source/<slug>/<slug>.ipynb`` for each assignment, built from the
  percent-format reference (``solutions/<slug>/<slug>.py``) beside the stub
  (``assignments/<slug>/<slug>.py``), cell by cell. Markdown cells are locked.
  A code cell that defines a question's name (or that differs from the stub)
  is a solution cell: the reference's lines that the stub lacks sit between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``, and the stub's cell is kept
  in the cell's ``advpy`` metadata, which the release step
  (:class:`~autograder.exporters.nbgrader_plugin.AdvpyStubs`) puts back, so
  that students get our stub word for word rather than nbgrader's generic one.
  After the cell that defines each question comes one locked autograder-test
  cell worth the manifest's points (:func:`test_cell_source`): the public
  checks, visible, and the hidden call between nbgrader's hidden-test markers.
- ``nbgrader_config.py`` (:func:`config_text`): nbgrader's pipelines with our
  preprocessors (:mod:`autograder.exporters.nbgrader_plugin`) in them, so that
  ``nbgrader autograde`` takes every score from advpy's sandboxed engine and
  never runs student code in its own kernel, and ``nbgrader generate_feedback``
  drops the hidden tests.
- ``NBGRADER.md``: the steps, from ``generate_assignment`` to Canvas.

Nothing here is imported where nbgrader grades: the plugin and the cells'
module (:mod:`autograder.exporters.nbgrader_cells`) stand on their own.
"""

from __future__ import annotations

import ast
import difflib
import re
from pathlib import Path

import nbformat

from autograder import assignments, notebooks

CONFIG_NAME = "nbgrader_config.py"
GUIDE_NAME = "NBGRADER.md"
COURSE_ID = "advpy"
PLUGIN = "autograder.exporters.nbgrader_plugin"
CELLS = "autograder.exporters.nbgrader_cells"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB_KEY = "stub"  # where a solution cell keeps the student's stub (cell.metadata.advpy)

TEST_CELL = '''\
# advpy's checks of {qid}, `{name}` ({points:g} point{s}): run this cell after your code.
# It runs the public checks of {qid} (those of `advpy check`) on the code this notebook
# has run, in advpy's sandbox; the grader runs more.
if __name__ == "__main__":  # advpy's grader runs a notebook as a module: it skips this
    from {cells} import check
    check("{slug}", "{qid}")
### BEGIN HIDDEN TESTS
# The autograder grades {qid} with advpy, outside this kernel, hidden tests included:
{titles}
check("{slug}", "{qid}", hidden=True) if __name__ == "__main__" else None
### END HIDDEN TESTS'''


def hidden_titles(slug: str) -> dict[str, list[str]]:
    """The titles (docstrings' first lines) of each question's hidden tests,
    read from the test files without importing them."""
    titles: dict[str, list[str]] = {}
    for path in sorted(assignments.get(slug).hidden_tests.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for decorator in node.decorator_list:
                func = getattr(decorator, "func", None)
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                if not (isinstance(decorator, ast.Call) and name == "check" and decorator.args
                        and isinstance(decorator.args[0], ast.Constant)):
                    continue
                hidden = next((k.value for k in decorator.keywords if k.arg == "hidden"), None)
                if isinstance(hidden, ast.Constant) and not hidden.value:
                    continue
                doc = (ast.get_docstring(node) or node.name).strip().splitlines()[0]
                titles.setdefault(str(decorator.args[0].value), []).append(doc)
    return titles


def test_cell_source(slug: str, question: assignments.Question,
                     titles: list[str] | None = None) -> str:
    """The autograder-test cell of one question (see the module's docstring)."""
    listed = "\n".join(f"# - {title}" for title in titles or []) or "# (no hidden test)"
    return TEST_CELL.format(slug=slug, qid=question.id, name=question.name,
                            points=question.points, s="" if question.points == 1 else "s",
                            cells=CELLS, titles=listed)


def _indent(lines: list[str]) -> str:
    sizes = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    return " " * min(sizes) if sizes else ""


def solution_source(stub: str, solution: str) -> str:
    """``solution`` with the lines that the stub lacks between nbgrader's
    solution markers (one region a difference, indented as its lines)."""
    old, new = stub.splitlines(), solution.splitlines()
    lines: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines += new[j1:j2]
        elif j2 > j1:  # what the student writes; a pure deletion leaves nothing to mark
            indent = _indent(new[j1:j2]) or _indent(old[i1:i2])
            lines += [indent + BEGIN, *new[j1:j2], indent + END]
    return "\n".join(lines)


def _meta(grade_id: str, *, grade: bool = False, solution: bool = False,
          locked: bool = False, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution}
    if grade:
        meta["points"] = points
    return meta


def _pairs(stub: list[tuple[str, str]], solution: list[tuple[str, str]]
           ) -> list[tuple[tuple[str, str] | None, tuple[str, str] | None]]:
    """(stub cell, reference cell) in order; None where one side has no such cell."""
    def key(cell: tuple[str, str]) -> tuple:
        kind, source = cell
        return (kind, source) if kind == "markdown" else (kind, tuple(sorted(
            notebooks._defined(source))) or source)

    matcher = difflib.SequenceMatcher(None, [key(c) for c in stub], [key(c) for c in solution],
                                      autojunk=False)
    pairs: list = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("equal", "replace") and i2 - i1 == j2 - j1:
            pairs += list(zip(stub[i1:i2], solution[j1:j2], strict=True))
        else:
            pairs += [(cell, None) for cell in stub[i1:i2]]
            pairs += [(None, cell) for cell in solution[j1:j2]]
    return pairs


def source_notebook(slug: str) -> nbformat.NotebookNode:
    """The instructor's nbgrader notebook of ``slug`` (see the module's docstring)."""
    assignment = assignments.get(slug)
    stub = notebooks.split_cells((assignment.student_dir / f"{slug}.py").read_text("utf-8"))
    reference = notebooks.split_cells((assignment.solution_dir / f"{slug}.py").read_text("utf-8"))
    titles = hidden_titles(slug)
    questions = list(assignment.questions)
    notebook = nbformat.v4.new_notebook()
    # The kernel every grading machine has: nbgrader writes the source's
    # kernelspec over the student's (OverwriteKernelspec).
    notebook.metadata["kernelspec"] = dict(notebooks.KERNEL)
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.metadata["advpy"] = {"assignment": slug}
    used: set[str] = set()

    def unique(grade_id: str) -> str:
        grade_id = re.sub(r"[^A-Za-z0-9_-]", "-", grade_id)[:60]
        base, number = grade_id, 1
        while grade_id in used:
            number += 1
            grade_id = f"{base}-{number}"
        used.add(grade_id)
        return grade_id

    def add(cell: nbformat.NotebookNode, grade_id: str) -> None:
        cell["id"] = grade_id
        notebook.cells.append(cell)

    for index, (old, new) in enumerate(_pairs(stub, reference)):
        kind, text = new or old
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(text)
            grade_id = unique(f"text-{index}")
            cell.metadata["nbgrader"] = _meta(grade_id, locked=True)
            add(cell, grade_id)
            continue
        defined = [q for q in questions if q.name in notebooks._defined(text)]
        stub_text = old[1] if old else ""
        if old is not None and new is not None and old[1] == new[1] and not defined:
            add(nbformat.v4.new_code_cell(text), unique(f"code-{index}"))  # the same for all
            continue
        if new is None:  # only in the stub: the student's, as it is
            add(nbformat.v4.new_code_cell(stub_text), unique(f"code-{index}"))
            continue
        grade_id = unique(f"answer-{defined[0].name}" if defined else f"answer-{index}")
        cell = nbformat.v4.new_code_cell(solution_source(stub_text, text))
        cell.metadata["nbgrader"] = _meta(grade_id, solution=True)
        cell.metadata["advpy"] = {STUB_KEY: stub_text}
        add(cell, grade_id)
        for question in defined:
            add(_test_cell(slug, question, titles.get(question.id)), unique(question.id))
            questions.remove(question)
    for question in questions:  # defined nowhere in the reference: checked at the end
        add(_test_cell(slug, question, titles.get(question.id)), unique(question.id))
    return notebook


def _test_cell(slug: str, question: assignments.Question,
               titles: list[str] | None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(test_cell_source(slug, question, titles))
    cell.metadata["nbgrader"] = _meta(question.id, grade=True, locked=True,
                                      points=question.points)
    return cell


CONFIG = '''"""nbgrader's configuration for the advpy course (written by `advpy export nbgrader`).

Run nbgrader in this folder (the course root): the gradebook is gradebook.db
here. advpy must be installed in the Python that runs nbgrader (and, for the
students' check cells, in their Jupyter kernel: the advpy-student wheel).

What differs from nbgrader's defaults, and why:

- generate_assignment: AdvpyStubs puts advpy's stub of each answer cell in
  the release (nbgrader's ClearSolutions alone would write its generic
  `raise NotImplementedError()` there).
- autograde: nbgrader never runs student code. AdvpyRepair makes a tampered
  notebook's nbgrader metadata valid (one such notebook would otherwise stop
  the whole run); AdvpyGrade grades each notebook with advpy's engine (student
  code in advpy's sandbox, the judge outside it; the whole class of an
  assignment at the first notebook, in parallel); AdvpyVerdicts writes each
  question's verdict into its test cell (the feedback on stdout and the points
  earned as the cell's value, which nbgrader takes as partial credit), so
  nothing student code prints or does can change a score. AdvpyFlag marks a
  question that advpy could not judge (a grader error) as needing manual
  grading and logs it: regrade it once fixed. A notebook that cannot be read
  (not JSON) becomes its test cells alone (AdvpyExporter) and scores 0 with
  advpy's reason, without failing the student or the run.
- generate_feedback: ClearHiddenTests first, so no hidden test source reaches
  the students.

To also run the notebooks in nbgrader's kernel (the students' own outputs in
the feedback; scores unchanged, but student code then runs unsandboxed as
you), put "nbgrader.preprocessors.Execute" after AdvpyGrade below.
"""

c = get_config()  # noqa: F821 - nbgrader's config loader defines get_config

c.CourseDirectory.course_id = {course_id!r}

PLUGIN = "{plugin}"

c.GenerateAssignment.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearSolutions",
    PLUGIN + ".AdvpyStubs",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]

c.Autograde.exporter_class = PLUGIN + ".AdvpyExporter"
c.Autograde.sanitize_preprocessors = [
    PLUGIN + ".AdvpyRepair",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    PLUGIN + ".AdvpyGrade",
    PLUGIN + ".AdvpyVerdicts",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    PLUGIN + ".AdvpyFlag",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# A test cell a student deleted comes back, and is graded like the others.
c.OverwriteCells.add_missing_cells = True

# advpy's grading: the sandbox (auto: the strongest this machine has), the
# memory a submission may use, and the submissions graded at once (0: the CPUs
# available).
c.AdvpyGrade.sandbox = "auto"
c.AdvpyGrade.memory_gib = 2.0
c.AdvpyGrade.jobs = 0

c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
'''


def config_text(course_id: str = COURSE_ID) -> str:
    """The course's ``nbgrader_config.py``."""
    return CONFIG.format(course_id=course_id, plugin=PLUGIN)


def guide(slugs: list[str], course_id: str) -> str:
    """NBGRADER.md: from this folder to grades in Canvas."""
    rows = "\n".join(f"| `{slug}` | {assignments.get(slug).max_score:g} | "
                     + ", ".join(f"{q.id} {q.points:g}" for q in assignments.get(slug).questions)
                     + " |" for slug in slugs)
    return f"""# The advpy course on nbgrader (course id `{course_id}`)

Made by `advpy export nbgrader`. Run every command in this folder, with advpy
installed in the Python that runs nbgrader.

| assignment | points | test cells (points) |
| --- | --- | --- |
{rows}

1. `nbgrader generate_assignment SLUG` writes `release/SLUG/SLUG.ipynb`: advpy's
   stubs in the answer cells, the public checks in the test cells, no solution
   and no hidden test. Students need the `advpy-student` wheel (from
   `advpy release`) in their kernel for the check cells.
2. Collect the notebooks into `submitted/STUDENT/SLUG/SLUG.ipynb`
   (`nbgrader collect`, `nbgrader zip_collect`, or by hand).
3. `nbgrader autograde SLUG`: every score is advpy's (see `nbgrader_config.py`).
   A question that advpy could not judge is flagged "needs manual grading":
   fix the cause and run `nbgrader autograde SLUG --student ID --force`.
4. `nbgrader generate_feedback SLUG` (no hidden test source in it).
5. `nbgrader export` writes `grades.csv`: a row per student and assignment
   (`assignment, duedate, timestamp, student_id, last_name, first_name, email,
   raw_score, late_submission_penalty, score, max_score`). For Canvas: keep
   the rows of one assignment, and copy `score` into the assignment's column of
   Canvas's gradebook export (*Grades > Export*), matching `student_id` to
   Canvas's `SIS Login ID` (or `ID`), then *Grades > Import* it. Or grade the
   same notebooks with `advpy grade submitted -a SLUG --out DIR`, which writes
   `DIR/canvas.csv` ready to import.
"""


def export(target: Path | str, *, slugs: list[str] | None = None,
           course_id: str = COURSE_ID) -> list[Path]:
    """Write the nbgrader course under ``target`` (the assignments with hidden
    tests here, by default); return the files written."""
    target = Path(target)
    slugs = list(slugs or assignments.available())
    for slug in slugs:
        assignments.get(slug)  # an unknown slug fails before anything is written
    written = []
    for slug in slugs:
        path = target / "source" / slug / f"{slug}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(source_notebook(slug), str(path))
        written.append(path)
    config = target / CONFIG_NAME
    config.write_text(config_text(course_id), encoding="utf-8")
    (target / GUIDE_NAME).write_text(guide(slugs, course_id), encoding="utf-8")
    return [config, *written, target / GUIDE_NAME]
