"""Benchmark: `nbgrader autograde` on advpy's course vs `advpy grade` vs a native nbgrader course.

    python tests/bench_nbgrader.py [--students N] [--keep]

One generators class (the reference, the stub, and the wrong modules of
tests/submissions/generators that parse, each as the student fills the
release in) is graded three ways, each timed as one command:

- `nbgrader autograde generators` on the course of `advpy export nbgrader`
  (advpy's engine grades every notebook, the class at once);
- `advpy grade CLASS -a generators --format json` on the same notebooks
  (default jobs);
- `nbgrader autograde generators` on the native nbgrader course of
  tests/bench_class/nbgrader (asserts in the kernel): nbgrader's own cost.

Printed: wall seconds and seconds per submission of each, the ratio of ours
to nbgrader's own (the issue's target: at most 1.5), and whether the
gradebook's scores equal advpy grade's, question by question. Exit status 1
when a target is missed. Timing-sensitive: run it alone, never in CI (pytest
does not collect it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from bench_class import nbgrader_course, released_notebook
from rich.console import Console
from rich.table import Table
from test_nbgrader import filled

from autograder import assignments
from autograder.exporters import nbgrader as nbgrader_export

ROOT = Path(__file__).resolve().parent.parent
SLUG = "generators"
TARGET = 1.5  # ours at most this many times nbgrader's own cost per submission


def sources(limit: int | None) -> dict[str, Path | None]:
    """Student -> the module they hand in (None: the stub as released)."""
    found: dict[str, Path | None] = {"reference": ROOT / "solutions" / SLUG / f"{SLUG}.py",
                                     "stub": None}
    for path in sorted((ROOT / "tests" / "submissions" / SLUG).glob("*.py")):
        try:
            compile(path.read_text("utf-8"), str(path), "exec")
        except SyntaxError:
            continue
        found[path.stem] = path
    names = list(found)[:limit] if limit else list(found)
    return {name: found[name] for name in names}


def timed(argv: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    return time.perf_counter() - start, done


def gradebook(course: Path, students: list[str], by_question: bool) -> dict[str, dict]:
    from nbgrader.api import Gradebook, MissingEntry

    questions = [q.id for q in assignments.get(SLUG).questions]
    scores: dict[str, dict] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as book:
        for student in students:
            try:
                if by_question:
                    scores[student] = {q: float(book.find_grade(q, SLUG, SLUG, student).score)
                                       for q in questions}
                else:
                    scores[student] = {"total": float(
                        book.find_submission(SLUG, student).score)}
            except MissingEntry:
                scores[student] = {}
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, help="only the first N students")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="advpy-bench-nbgrader-"))
    console = Console()
    try:
        ours, native, plain = scratch / "ours", scratch / "native", scratch / "class"
        nbgrader_export.export(ours, slugs=[SLUG])
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", SLUG, "--force"],
                       cwd=ours, check=True, capture_output=True)
        release = nbformat.read(ours / "release" / SLUG / f"{SLUG}.ipynb", as_version=4)
        native_release = nbgrader_course(native)
        students = sources(args.students)
        for student, source in students.items():
            mine = release if source is None else filled(release, source.read_text("utf-8"))
            theirs = native_release if source is None else released_notebook(native_release,
                                                                            source)
            for course, notebook in ((ours, mine), (native, theirs)):
                path = course / "submitted" / student / SLUG / f"{SLUG}.ipynb"
                path.parent.mkdir(parents=True)
                nbformat.write(notebook, str(path))
            (plain / student).mkdir(parents=True)
            shutil.copy(ours / "submitted" / student / SLUG / f"{SLUG}.ipynb",
                        plain / student / f"{SLUG}.ipynb")
        count = len(students)
        console.print(f"{count} students in {scratch}")
        nb_ours, done_ours = timed([sys.executable, "-m", "nbgrader", "autograde", SLUG], ours)
        nb_native, done_native = timed([sys.executable, "-m", "nbgrader", "autograde", SLUG],
                                       native)
        advpy, done_advpy = timed([sys.executable, "-m", "autograder", "grade", str(plain), "-a",
                                   SLUG, "--format", "json"], ROOT)
        problems = [f"{label}: exit {done.returncode}: {done.stderr[-1500:]}"
                    for label, done in (("nbgrader autograde (advpy course)", done_ours),
                                        ("nbgrader autograde (native course)", done_native))
                    if done.returncode != 0]
        graded = json.loads(done_advpy.stdout)
        by_advpy = {Path(r["submission"]).relative_to(plain).parts[0]: {q["id"]: q["score"]
                                                        for q in r["questions"]}
                    for r in graded}
        by_nbgrader = gradebook(ours, list(students), by_question=True)
        differ = sorted(s for s in students if by_advpy.get(s) != by_nbgrader.get(s))
        table = Table(title=f"{SLUG}: {count} notebooks, {os.cpu_count()} CPUs")
        for column in ("command", "wall s", "s / submission", "vs nbgrader's own"):
            table.add_column(column, justify="left" if column == "command" else "right")
        for label, wall in (("nbgrader autograde, advpy course", nb_ours),
                            ("advpy grade (default jobs)", advpy),
                            ("nbgrader autograde, native course", nb_native)):
            table.add_row(label, f"{wall:.1f}", f"{wall / count:.2f}", f"{wall / nb_native:.2f}x")
        console.print(table)
        ratio = nb_ours / nb_native
        console.print(f"target: nbgrader autograde on advpy's course <= {TARGET}x nbgrader's own: "
                      f"{ratio:.2f}x " + ("met" if ratio <= TARGET else "MISSED"))
        console.print("scores: the gradebook's = advpy grade's, every question: "
                      + ("yes" if not differ else f"NO for {', '.join(differ)}"))
        for line in problems:
            console.print(line, style="red", markup=False)
        return 0 if ratio <= TARGET and not differ and not problems else 1
    finally:
        if args.keep:
            console.print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
