"""Benchmark: one class graded by `advpy grade`, by `otter run` and by `nbgrader autograde`.

    python tests/bench_class.py [--only generators|threads|processes] [--skip-otter]
        [--skip-nbgrader] [--jobs N] [--save FILE] [--baseline FILE] [--tolerance 0.10]
        [--keep]

Three classes are built at run time in a temporary folder, one notebook a
student (`<class>/<student>/<slug>.ipynb`), from the corpus of
tests/submissions/ and the reference solutions: the lists are CLASSES below.
Each source's `expect:` line (none for a reference: full marks) says the
scores advpy must give it.

- generators (23 students: correct in several styles, eager, fake-lazy,
  basic bugs, broken): graded by `advpy grade CLASS -a generators --format
  json` (the grader's default jobs, and --jobs 1), by `otter run -a ZIP FILE`
  one student after the other with a native otter autograder (the OK-format
  doctests of tests/bench_class/otter/tests, zipped by `otter generate`), and
  by `nbgrader autograde generators` on a native nbgrader course
  (tests/bench_class/nbgrader: a source notebook with solution regions and one
  hidden assert cell per question, released by `nbgrader generate_assignment`).
  Every student's notebook is the released notebook with the student's code
  in the solution cells, the same file for the three tools.
- threads and processes (8 students each): advpy only.

Printed per class: wall seconds, seconds per submission, peak memory (the
largest process of the tree, from the kernel's rusage of the reaped tree and
from samples, and the sum of the tree's RSS sampled every 0.2 s), and whether
the scores agree: advpy's with the `expect:` lines (every question);
otter's and nbgrader's with advpy's in direction (full marks or not).
Their tests check values only, so they cannot see eager or fake-lazy code:
the per-student table says which tool caught what. That is the point of
the comparison, not a failure.

Targets (exit status 1 on a miss): on generators, advpy's wall time at most
nbgrader's / 4 and otter's / 10; on every class, advpy's scores equal the
`expect:` lines; with --baseline (a JSON written by --save on an earlier
main), threads and processes no slower per submission than the baseline
(within --tolerance, the noise of one run) and with identical scores.
tests/bench_class/baseline.json is such a file, recorded on main before the
engine of issue 11.

advpy runs as `python -m autograder` from this checkout (cwd and PYTHONPATH
are its root), so a clone grades with its own engine. Slow (minutes) and
timing-sensitive: run it alone on the machine, never in CI (pytest does not
collect it: it is not named test_*.py).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
from conftest import expected_scores
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "bench_class"
SLUGS = ("generators", "threads", "processes")
NBGRADER_TARGET = 4.0  # advpy at least this many times faster than nbgrader autograde
OTTER_TARGET = 10.0  # ... and than otter run, one submission after the other
TIMEOUT = 3600  # seconds for one command; a run that takes longer is stopped and reported

# (source, kind) per class. A student is named after the source's stem; the
# reference is "reference". Kept out: submissions whose .py semantics a
# notebook changes or that need the network (correct_cell_magics runs pip).
CLASSES: dict[str, list[tuple[str, str]]] = {
    "generators": [
        ("solutions/generators/generators.py", "correct: reference"),
        ("tests/submissions/generators/correct_classes.py", "correct: iterator classes"),
        ("tests/submissions/generators/correct_imports_inside.py", "correct: imports inside"),
        ("tests/submissions/generators/correct_itertools.py", "correct: itertools"),
        ("tests/submissions/generators/correct_magics_broken_cell.ipynb",
         "correct: magics, broken demo cell"),
        ("tests/submissions/generators/q3_returns_list.py", "eager"),
        ("tests/submissions/generators/q4_list_comprehension.py", "eager"),
        ("tests/submissions/generators/q5_builds_list.py", "eager"),
        ("tests/submissions/generators/q6_eager.py", "eager"),
        ("tests/submissions/generators/q7_eager.py", "eager (hangs on an infinite source)"),
        ("tests/submissions/generators/q3_builds_list_first.py", "fake-lazy"),
        ("tests/submissions/generators/q4_genexpr_over_list.py", "fake-lazy"),
        ("tests/submissions/generators/q1_returns_list.py", "bug"),
        ("tests/submissions/generators/q1_shared_generator.py", "bug"),
        ("tests/submissions/generators/q1_yields_four.py", "bug"),
        ("tests/submissions/generators/q2_returns_generator.py", "bug"),
        ("tests/submissions/generators/q3_stops_by_identity.py", "bug (n > 256 never stops)"),
        ("tests/submissions/generators/q5_off_by_one.py", "bug"),
        ("tests/submissions/generators/q6_pulls_one_more.py", "bug (laziness)"),
        ("tests/submissions/generators/q7_no_value_error.py", "bug"),
        ("tests/submissions/generators/q7_tuples.py", "bug"),
        ("tests/submissions/generators/missing_function.py", "broken: a function missing"),
        ("tests/submissions/generators/syntax_error.py", "broken: syntax error"),
    ],
    "threads": [
        ("solutions/threads/threads.py", "correct: reference"),
        ("tests/submissions/threads/correct_shared_lock_executor.py", "correct: executor"),
        ("tests/submissions/threads/correct_notebook_none_sentinels.ipynb", "correct: notebook"),
        ("tests/submissions/threads/q1_joins_each_before_next.py", "bug"),
        ("tests/submissions/threads/q2_read_before_lock.py", "race"),
        ("tests/submissions/threads/q4_deadlock.py", "deadlock"),
        ("tests/submissions/threads/q5_not_daemon.py", "bug"),
        ("tests/submissions/threads/q6_workers_never_stop.py", "hang"),
    ],
    "processes": [
        ("solutions/processes/processes.py", "correct: reference"),
        ("tests/submissions/processes/correct_pool.py", "correct: pool"),
        ("tests/submissions/processes/correct_notebook_helpers.ipynb", "correct: notebook"),
        ("tests/submissions/processes/q1_two_wrong.py", "bug"),
        ("tests/submissions/processes/q2_threads.py", "threads for processes"),
        ("tests/submissions/processes/q3_serial.py", "serial"),
        ("tests/submissions/processes/q4_serial.py", "serial"),
        ("tests/submissions/processes/q5_lost_in_child.py", "bug"),
    ],
}

# A top-level statement that starts a new cell when a module becomes a notebook.
TOP_LEVEL = re.compile(r"^(?:@|def |async def |class |if __name__)")
DEFINES = re.compile(r"^(?:async\s+def|def|class)\s+(\w+)", re.M)
DOCSTRING = re.compile(r'\A\s*[rRuU]?("""|\'\'\')(.*?)\1[ \t]*\n?', re.S)


# --- building the class ----------------------------------------------------------------------

@dataclass
class Student:
    name: str
    kind: str
    source: Path
    notebook: Path  # <class>/<name>/<slug>.ipynb: what advpy and otter grade
    expected: dict[str, float]  # question id -> score, the questions the expect line names


def student_name(source: Path) -> str:
    return "reference" if source.parent.parent.name == "solutions" else source.stem


def expectation(source: Path) -> dict[str, float]:
    """What the source's ``expect:`` line says (a reference has none: full marks)."""
    try:
        return expected_scores(source)
    except ValueError:
        return {}


def split_module(text: str) -> tuple[str, list[str]]:
    """A module's docstring and its code in chunks, one per top-level
    definition (with the comments right above it). A module that does not
    parse stays one chunk: as a file it defines nothing at all, and a notebook
    that split it would run the cells that do parse."""
    match = DOCSTRING.match(text)
    doc = match.group(2).strip() if match else ""
    body = text[match.end():] if match else text
    try:
        ast.parse(body)
    except SyntaxError:
        return doc, [body.strip("\n")]
    chunks: list[str] = []
    current: list[str] = []
    for line in body.splitlines():
        code = [kept for kept in current if kept.strip() and not kept.startswith("#")]
        if TOP_LEVEL.match(line) and not (code and code[-1].startswith("@")):
            above: list[str] = []
            while current and (current[-1].startswith("#") or not current[-1].strip()):
                above.insert(0, current.pop())
            if code:
                chunks.append("\n".join(current).strip("\n"))
            current = above
        current.append(line)
    if any(line.strip() for line in current):
        chunks.append("\n".join(current).strip("\n"))
    return doc, chunks


def source_cells(source: Path) -> tuple[str, list[str]]:
    """Markdown to head the notebook and the code cells of a corpus source."""
    if source.suffix == ".ipynb":
        notebook = nbformat.read(source, as_version=4)
        doc = "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
        return doc, [c.source for c in notebook.cells if c.cell_type == "code"]
    return split_module(source.read_text(encoding="utf-8"))


def _notebook(cells: list) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                       "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def plain_notebook(source: Path) -> nbformat.NotebookNode:
    """A module as a student's notebook: its docstring, then a cell a definition."""
    if source.suffix == ".ipynb":
        return nbformat.read(source, as_version=4)
    doc, chunks = split_module(source.read_text(encoding="utf-8"))
    return _notebook([nbformat.v4.new_markdown_cell(doc)]
                     + [nbformat.v4.new_code_cell(chunk) for chunk in chunks])


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {}) if cell.cell_type == "code" else {}


def released_notebook(release: nbformat.NotebookNode, source: Path) -> nbformat.NotebookNode:
    """The released notebook as this student hands it in: each solution cell
    holds the student's definition of its function (a cell that defines
    several questions' functions sits in the first one's), the student's other
    code is in cells of its own under the answer it follows (helpers are
    defined before the test cell that needs them), the student's imports
    replace the instructor's, and the locked test cells are untouched."""
    doc, chunks = source_cells(source)
    answer_of: dict[str, str] = {}  # function name -> grade_id of its solution cell
    for cell in release.cells:
        if _nbgrader(cell).get("solution"):
            names = DEFINES.findall(cell.source)
            if names:
                answer_of[names[0]] = _nbgrader(cell)["grade_id"]
    order = list(answer_of)
    preamble: list[str] = []  # the student's code above the first answer
    answers: dict[str, str] = {}  # grade_id -> the student's answer
    below: dict[str, list[str]] = {}  # grade_id -> the student's cells under that answer
    for chunk in chunks:
        defined = [name for name in DEFINES.findall(chunk) if name in answer_of]
        first = min(defined, key=order.index) if defined else None
        if first is not None and answer_of[first] not in answers:
            answers[answer_of[first]] = chunk
            below[answer_of[first]] = extra = []
        elif answers:  # a helper or a demo: where the student wrote it, under the answer above
            extra.append(chunk)
        else:
            preamble.append(chunk)
    cells = [nbformat.v4.new_markdown_cell(doc)] if doc else []
    cells += [nbformat.v4.new_code_cell(chunk) for chunk in preamble]
    for cell in release.cells:
        meta = _nbgrader(cell)
        if cell.cell_type == "code" and not meta:  # the instructor's imports: the student's own
            continue
        if not meta.get("solution"):
            cells.append(cell)
            continue
        answer = nbformat.from_dict(dict(cell))
        answer.source = answers.get(meta["grade_id"], "")
        cells.append(answer)
        cells += [nbformat.v4.new_code_cell(chunk) for chunk in below.get(meta["grade_id"], [])]
    notebook = nbformat.from_dict(dict(release))
    notebook.cells = cells
    return notebook


def build_class(slug: str, folder: Path,
                release: nbformat.NotebookNode | None = None) -> list[Student]:
    """Write each student's notebook to ``folder/<student>/<slug>.ipynb``."""
    students = []
    for relative, kind in CLASSES[slug]:
        source = ROOT / relative
        name = student_name(source)
        notebook = (released_notebook(release, source) if release is not None
                    else plain_notebook(source))
        path = folder / name / f"{slug}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, str(path))
        students.append(Student(name, kind, source, path, expectation(source)))
    return students


# --- measuring one command -------------------------------------------------------------------

@dataclass
class Run:
    """One command: wall seconds, peak memory, exit status and output."""

    wall: float
    largest_mib: float  # the largest process of the tree (rusage, and sampled)
    tree_mib: float  # the sum of the tree's RSS, sampled
    returncode: int
    stdout: str
    stderr: str


class TreeSampler(threading.Thread):
    """Samples the RSS of a process and its descendants: their sum (the
    student processes of parallel jobs live at once) and the largest one (the
    kernel's rusage misses sandboxed processes that the grader does not reap
    itself)."""

    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.total = self.largest = 0
        self.done = threading.Event()

    def run(self) -> None:
        try:
            import psutil
        except ImportError:  # then only the rusage of the reaped tree is known
            return
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(self.pid)
            while not self.done.wait(self.every):
                sizes = []
                with contextlib.suppress(psutil.Error):
                    for process in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error):
                            sizes.append(process.memory_info().rss)
                self.total = max(self.total, sum(sizes))
                self.largest = max(self.largest, *sizes, 0)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None,
        timeout: float = TIMEOUT) -> Run:
    """Run ``argv`` to its end in a session of its own. ``os.wait4`` gives the
    rusage of the tree it reaped, this command's alone (RUSAGE_CHILDREN would
    keep the largest of every command before it)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=err, start_new_session=True)
        sampler = TreeSampler(process.pid)
        sampler.start()
        timer = threading.Timer(timeout, _kill_group, (process.pid,))
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:  # Ctrl-C: take the whole group down with us
            _kill_group(process.pid)
            os.wait4(process.pid, 0)
            raise
        finally:
            timer.cancel()
            sampler.done.set()
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        _kill_group(process.pid)  # what the command left behind
        sampler.join()
        out.seek(0)
        err.seek(0)
        largest = max(usage.ru_maxrss * 1024, sampler.largest)
        return Run(wall, largest / 1024**2, sampler.total / 1024**2, process.returncode,
                   out.read().decode(errors="replace"), err.read().decode(errors="replace"))


# --- the three tools -------------------------------------------------------------------------

@dataclass
class ToolResult:
    """One tool on one class: its figures and each student's scores."""

    tool: str
    submissions: int
    wall: float = 0.0
    largest_mib: float = 0.0
    tree_mib: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)  # student -> total
    max_scores: dict[str, float] = field(default_factory=dict)
    questions: dict[str, dict[str, float]] = field(default_factory=dict)  # student -> q -> score
    question_max: dict[str, dict[str, float]] = field(default_factory=dict)
    problem: str = ""  # why the tool did not run to the end, if it did not

    @property
    def short(self) -> str:
        """The tool's name in the per-student table."""
        return re.sub(r" (grade|run|autograde)\b|,.*", "", self.tool)

    @property
    def per_submission(self) -> float:
        return self.wall / self.submissions if self.submissions else 0.0

    def full(self, student: str) -> bool | None:
        if student not in self.scores:
            return None
        return self.scores[student] >= self.max_scores[student] - 1e-9


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def advpy(slug: str, folder: Path, students: list[Student], jobs: int | None) -> ToolResult:
    argv = [sys.executable, "-m", "autograder", "grade", str(folder), "-a", slug,
            "--format", "json"] + (["--jobs", str(jobs)] if jobs else [])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    label = "advpy grade" + (f" --jobs {jobs}" if jobs else " (default jobs)")
    result = ToolResult(label, len(students))
    done = run(argv, cwd=ROOT, env=env)
    result.wall, result.largest_mib, result.tree_mib = done.wall, done.largest_mib, done.tree_mib
    try:
        graded = json.loads(done.stdout)
    except json.JSONDecodeError:
        result.problem = f"exit {done.returncode}, no JSON on stdout:\n{_tail(done.stderr)}"
        return result
    for entry in graded if isinstance(graded, list) else [graded]:
        where = Path(entry.get("submission") or "")
        name = (where.relative_to(folder).parts[0] if where.is_relative_to(folder)
                and where != folder else entry.get("student"))
        result.scores[name] = float(entry["score"])
        result.max_scores[name] = float(entry["max_score"])
        result.questions[name] = {q["id"]: float(q["score"]) for q in entry["questions"]}
        result.question_max[name] = {q["id"]: float(q["max_score"]) for q in entry["questions"]}
        if not entry.get("complete", True):  # a grader error: its score cannot be trusted
            why = "; ".join(map(str, entry.get("errors", [])))
            result.problem += f"{name}: incomplete: {why[:300]}\n"
    if done.returncode not in (0, 3):  # 3: some submission incomplete, said above
        result.problem += f"exit {done.returncode}:\n{_tail(done.stderr)}"
    return result


def otter_autograder(scratch: Path) -> Path:
    """The native otter autograder zip, made by `otter generate` from our test files."""
    shutil.copytree(FIXTURES / "otter", scratch)
    output = scratch / "generators-autograder.zip"
    subprocess.run([sys.executable, "-m", "otter", "generate", "-t", "tests", "-o", str(output),
                    "--no-config", "--no-requirements", "--no-environment"],
                   cwd=scratch, check=True, capture_output=True)
    return output


def otter(autograder: Path, students: list[Student], scratch: Path) -> ToolResult:
    """`otter run` one student after the other, as otter grades without Docker."""
    result = ToolResult("otter run, one by one", len(students))
    for student in students:
        out = scratch / "otter-results" / student.name
        out.mkdir(parents=True)
        done = run([sys.executable, "-m", "otter", "run", "-a", str(autograder), "-o", str(out),
                    "--no-logo", str(student.notebook)], cwd=scratch)
        result.wall += done.wall
        result.largest_mib = max(result.largest_mib, done.largest_mib)
        result.tree_mib = max(result.tree_mib, done.tree_mib)
        try:
            graded = json.loads((out / "results.json").read_text())
        except (OSError, json.JSONDecodeError):
            result.problem += f"{student.name}: exit {done.returncode}: {_tail(done.stderr, 3)}\n"
            continue
        tests = [t for t in graded.get("tests", []) if "max_score" in t]
        result.scores[student.name] = float(graded.get("score",
                                                       sum(t["score"] for t in tests)))
        result.max_scores[student.name] = float(sum(t["max_score"] for t in tests))
    return result


def nbgrader_course(course: Path) -> nbformat.NotebookNode:
    """The native nbgrader course in ``course``, its assignment released:
    returns the released notebook that the students fill in."""
    shutil.copytree(FIXTURES / "nbgrader", course)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "generators",
                    "--force"], cwd=course, check=True, capture_output=True)
    return nbformat.read(course / "release" / "generators" / "generators.ipynb", as_version=4)


def nbgrader(course: Path, students: list[Student]) -> ToolResult:
    """`nbgrader autograde generators` on the whole class, one command."""
    for student in students:
        target = course / "submitted" / student.name / "generators"
        target.mkdir(parents=True)
        shutil.copy(student.notebook, target / "generators.ipynb")
    result = ToolResult("nbgrader autograde", len(students))
    done = run([sys.executable, "-m", "nbgrader", "autograde", "generators"], cwd=course)
    result.wall, result.largest_mib, result.tree_mib = done.wall, done.largest_mib, done.tree_mib
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in students:
            try:
                submission = gradebook.find_submission("generators", student.name)
            except MissingEntry:
                result.problem += f"{student.name}: not autograded\n"
                continue
            result.scores[student.name] = float(submission.score)
            result.max_scores[student.name] = float(submission.max_score)
    if done.returncode != 0:
        result.problem += f"exit {done.returncode}:\n{_tail(done.stderr)}"
    return result


# --- judging and reporting -------------------------------------------------------------------

@dataclass
class ClassRun:
    slug: str
    students: list[Student]
    tools: list[ToolResult]  # the first is advpy with the default (or --jobs) jobs


def expect_mismatches(result: ToolResult, students: list[Student]) -> list[str]:
    """The students whose advpy scores differ from their expect line, and how."""
    wrong = []
    for student in students:
        got = result.questions.get(student.name)
        if got is None:
            wrong.append(f"{student.name}: not graded")
            continue
        full = result.question_max[student.name]
        want = {q: student.expected.get(q, full[q]) for q in got}
        if got != want:
            wrong.append(f"{student.name}: " + ", ".join(
                f"{q} {got[q]:g} (want {want[q]:g})" for q in got if got[q] != want[q]))
    return wrong


def score_mismatches(result: ToolResult, other: dict[str, dict[str, float]]) -> list[str]:
    """The students whose scores per question differ between two advpy runs."""
    names = sorted(set(result.questions) | set(other))
    return [name for name in names if result.questions.get(name) != other.get(name)]


def measure_class(slug: str, scratch: Path, args: argparse.Namespace) -> ClassRun:
    folder = scratch / slug / "class"
    course = scratch / slug / "nbgrader-course"
    # The nbgrader release is the notebook every generators student fills in,
    # so it is made even when nbgrader autograde itself is skipped.
    release = nbgrader_course(course) if slug == "generators" else None
    students = build_class(slug, folder, release)
    tools = [advpy(slug, folder, students, args.jobs)]
    if args.jobs != 1:
        tools.append(advpy(slug, folder, students, 1))
    if slug == "generators" and not args.skip_otter:
        tools.append(otter(otter_autograder(scratch / slug / "otter"), students, scratch / slug))
    if slug == "generators" and not args.skip_nbgrader:
        tools.append(nbgrader(course, students))
    return ClassRun(slug, students, tools)


def _figures(result: ToolResult) -> list[str]:
    return [f"{result.wall:.1f}", f"{result.per_submission:.2f}", f"{result.largest_mib:.0f}",
            f"{result.tree_mib:.0f}" if result.tree_mib else "-"]


def _total(scores: dict[str, float] | None) -> str:
    return "?" if scores is None else f"{sum(scores.values()):g}"


Target = tuple[str, bool | None]  # a target's line, and whether it is met (None: not measured)


def targets(run: ClassRun, baseline: dict | None, tolerance: float) -> list[Target]:
    """The class's target lines."""
    ours = run.tools[0]
    lines: list[Target] = []
    wrong = expect_mismatches(ours, run.students)
    lines.append((f"{ours.tool}: scores = the expect lines, every question "
                  f"({len(run.students) - len(wrong)}/{len(run.students)})"
                  + "".join(f"\n      {line}" for line in wrong), not wrong))
    by_tool = {tool.tool: tool for tool in run.tools}
    if run.slug == "generators":
        for label, factor in (("nbgrader autograde", NBGRADER_TARGET),
                              ("otter run, one by one", OTTER_TARGET)):
            other = by_tool.get(label)
            if other is None or other.problem:
                why = other.problem.strip().splitlines()[0] if other else "skipped"
                lines.append((f"advpy <= {label} / {factor:g}: not measured ({why})", None))
                continue
            budget = other.wall / factor
            lines.append((f"advpy {ours.wall:.1f} s <= {label} {other.wall:.1f} s / {factor:g} "
                          f"= {budget:.1f} s ({other.wall / ours.wall:.1f}x faster)",
                          ours.wall <= budget))
    past = (baseline or {}).get("classes", {}).get(run.slug)
    if past is None:
        if run.slug != "generators":
            lines.append(("no slower per submission than the baseline: not measured "
                          "(no --baseline for this class)", None))
        return lines
    before = past["advpy"]
    if sorted(before["scores"]) != sorted(s.name for s in run.students):
        lines.append(("baseline: another class (other students): not compared", None))
        return lines
    limit = before["wall"] / before["submissions"] * (1 + tolerance)
    timing = (f"advpy {ours.per_submission:.2f} s/submission <= baseline "
              f"{before['wall'] / before['submissions']:.2f} s/submission "
              f"+ {tolerance:.0%} = {limit:.2f}")
    changed = score_mismatches(ours, before["questions"])
    identical = (f"advpy scores = the baseline's, every question "
                 f"({len(run.students) - len(changed)}/{len(run.students)})"
                 + (f": differ for {', '.join(changed)}" if changed else ""))
    if run.slug == "generators":  # its target is the other tools; this is for the record
        lines += [(f"(for the record) {timing}", None), (f"(for the record) {identical}", None)]
    else:
        lines += [(timing, ours.per_submission <= limit), (identical, not changed)]
    return lines


def report(console: Console, run: ClassRun, baseline: dict | None,
           tolerance: float) -> bool:
    """Print the class's tables and targets; False when a target is missed."""
    ours, n = run.tools[0], len(run.students)
    table = Table(title=f"{run.slug}: {n} submissions, one run ({os.cpu_count()} CPUs)")
    for column in ("tool", "wall s", "s / submission", "peak MiB (largest process)",
                   "peak MiB (tree, sampled)", "scores agree"):
        table.add_column(column, justify="left" if column in ("tool", "scores agree") else "right")
    for tool in run.tools:
        if tool.tool.startswith("advpy"):
            wrong = expect_mismatches(tool, run.students)
            agree = f"{n - len(wrong)}/{n} = expect lines"
            if tool is not ours:
                same = not score_mismatches(tool, ours.questions)
                agree += "; = default jobs" if same else "; DIFFERS from default jobs"
        else:
            same = [s for s in run.students if tool.full(s.name) is not None
                    and tool.full(s.name) == ours.full(s.name)]
            agree = f"{len(same)}/{n} pass/fail as advpy (values only)"
        if tool.problem:
            agree += " [red](did not finish, see below)[/red]"
        table.add_row(tool.tool, *_figures(tool), agree)
    past = (baseline or {}).get("classes", {}).get(run.slug)
    if past:
        before = ToolResult(**{k: v for k, v in past["advpy"].items() if k != "per_submission"})
        table.add_row(f"baseline {past.get('commit', '?')}: {before.short}",
                      *_figures(before), f"(recorded {past.get('recorded', '?')})")
    console.print(table)

    others = run.tools[1:]
    detail = Table(title=f"{run.slug}: each submission's total (full marks or not: "
                         "green as advpy, yellow not)")
    for column in ("student", "kind", "expect", ours.short, *[tool.short for tool in others],
                   "not full marks from"):
        detail.add_column(column, justify="left" if column in ("student", "kind") else "right")
    for student in run.students:
        full = ours.question_max.get(student.name)
        expected = ("?" if full is None else
                    f"{sum(student.expected.get(q, m) for q, m in full.items()):g}")
        cells = [_total(ours.questions.get(student.name))]
        for tool in others:
            score = tool.scores.get(student.name)
            if score is None:
                cells.append("?")
                continue
            color = "green" if tool.full(student.name) == ours.full(student.name) else "yellow"
            cells.append(f"[{color}]{score:g}/{tool.max_scores[student.name]:g}[/{color}]")
        graders = [ours, *(t for t in others if not t.tool.startswith("advpy"))]
        caught = [t.short.split()[0] for t in graders if t.full(student.name) is False]
        detail.add_row(student.name, student.kind, expected, *cells, ", ".join(caught) or "-")
    console.print(detail)

    met = True
    for text, ok in targets(run, baseline, tolerance):
        mark = "[green]PASS[/green]" if ok else "[red]MISS[/red]" if ok is False else "[dim]-[/dim]"
        console.print(f"  target: {text}: {mark}")
        met = met and ok is not False
    for tool in run.tools:
        if tool.problem:
            console.print(f"[red]{tool.tool} did not finish:[/red]\n{tool.problem}")
            met = False
    return met


def _commit() -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)
    return done.stdout.strip() or "?"


def save(path: Path, class_run: ClassRun) -> None:
    """Write the class's figures into ``path`` (as --baseline reads them),
    keeping the other classes that the file holds."""
    data = json.loads(path.read_text()) if path.exists() else {"classes": {}}
    tools = [{**asdict(tool), "per_submission": tool.per_submission} for tool in class_run.tools]
    data["classes"][class_run.slug] = {
        "recorded": datetime.datetime.now().isoformat(timespec="seconds"),
        "commit": _commit(), "cpus": os.cpu_count(),
        "python": ".".join(map(str, sys.version_info[:3])),
        "submissions": len(class_run.students), "advpy": tools[0], "tools": tools}
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=SLUGS, help="measure this class only")
    parser.add_argument("--skip-otter", action="store_true", help="generators: no otter run")
    parser.add_argument("--skip-nbgrader", action="store_true",
                        help="generators: no nbgrader autograde")
    parser.add_argument("--jobs", type=int, default=None,
                        help="advpy's --jobs for the main row (default: the grader's own)")
    parser.add_argument("--save", type=Path, metavar="FILE",
                        help="write each class's figures into this JSON (other classes kept)")
    parser.add_argument("--baseline", type=Path, metavar="FILE",
                        help="compare with the JSON of an earlier --save")
    parser.add_argument("--tolerance", type=float, default=0.10,
                        help="baseline time comparison: the noise allowed (default 0.10)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    console = Console(width=160)
    scratch = Path(tempfile.mkdtemp(prefix="advpy-bench-class-"))
    met = True
    try:
        for slug in [args.only] if args.only else SLUGS:
            console.print(f"[bold]{slug}[/bold]: grading ...")
            class_run = measure_class(slug, scratch, args)
            met = report(console, class_run, baseline, args.tolerance) and met
            if args.save:  # class by class: an interrupted run keeps what it measured
                save(args.save, class_run)
                console.print(f"{slug}: figures written to {args.save}")
    finally:
        if args.keep:
            console.print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
