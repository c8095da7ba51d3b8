"""What otter's test files of an advpy assignment (``tests/qN.py``) run.

Each test file asks :func:`question_tests` for the tests of its question and
makes each one an otter test case. Where the verdicts come from depends on
who runs the file:

- otter grading a submission (``otter run``, Gradescope): advpy's own results,
  every test of the question, hidden ones included. The plugin
  :class:`autograder.exporters.otter_plugin.AdvpyPlugin` graded the submission
  with ``advpy grade`` (started before otter's kernel) and writes the results
  to the file that ``$ADVPY_OTTER_RESULTS`` names. (Without the
  plugin, this module grades the submission file itself.)
- a student's notebook, ``grader.check("q3")``: advpy's public checks of q3
  (what ``advpy check`` runs), in advpy's sandbox, on the code cells that the
  kernel has run so far.

This module is imported in otter's kernel and in the student's: it imports
nothing heavy until a verdict is needed.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from glob import glob
from pathlib import Path

from autograder.model import ERROR_TEST_NOTE

RESULTS_ENV = "ADVPY_OTTER_RESULTS"

_results: dict[str, dict] = {}


@dataclass(frozen=True)
class OtterTest:
    """One of advpy's tests as an otter test case, with its verdict."""

    name: str
    points: float
    hidden: bool
    passed: bool
    feedback: str = ""
    note: str | None = None


def tests_of(result: dict, qid: str) -> list[OtterTest]:
    """The tests of question ``qid`` in ``result`` (advpy's JSON of one
    submission). A grader error scores 0, as in advpy, and its feedback says
    whose fault it is and that the submission will be regraded; the same
    when otter grades and in a student's check."""
    for question in result.get("questions", []):
        if question["id"] != qid:
            continue
        tests = []
        for test in question["tests"]:
            status, feedback = test["status"], test.get("feedback") or ""
            if status == "error":
                tests.append(OtterTest(test["name"], test["max_score"], test["hidden"], False,
                                       f"{ERROR_TEST_NOTE}\n{feedback}".strip()))
            elif status == "passed":  # a passing test may say how it was judged here
                tests.append(OtterTest(test["name"], test["max_score"], test["hidden"], True,
                                       note=feedback or None))
            else:
                tests.append(OtterTest(test["name"], test["max_score"], test["hidden"], False,
                                       feedback or "the check failed"))
        return tests
    problems = "; ".join(result.get("errors", [])) or f"advpy has no results for {qid}"
    return [OtterTest("the submission could be graded", 0.0, False, False, problems)]


def question_tests(slug: str, qid: str) -> list[OtterTest]:
    """The tests of ``qid`` with their verdicts, for whoever runs the test file."""
    path = os.environ.get(RESULTS_ENV)
    if path:
        return tests_of(_load(path), qid)
    if _otter_grading():
        return tests_of(_grade_submission_here(slug), qid)
    return tests_of(_student_check(slug), qid)


def _load(path: str, patience: float = 3600.0) -> dict:
    """The results the plugin writes (at once, by a rename) when ``advpy grade``
    is done; it started before this kernel did."""
    if path not in _results:
        deadline = time.monotonic() + patience
        while not Path(path).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"advpy's results never came ({path})")
            time.sleep(0.02)
        _results[path] = json.loads(Path(path).read_text(encoding="utf-8"))
    return _results[path]


def _otter_grading() -> bool:
    """Whether otter's grading mode is on in this kernel (``otter run``
    without our plugin)."""
    otter = sys.modules.get("otter")
    notebook = getattr(otter, "Notebook", None)
    return bool(getattr(notebook, "_grading_mode", False))


def submission_in(folder: Path) -> Path | None:
    """The file otter grades in ``folder``: its one notebook, else its one
    ``.py`` (otter's own rule)."""
    notebooks = sorted(glob(str(folder / "*.ipynb")))
    if len(notebooks) == 1:
        return Path(notebooks[0])
    scripts = [p for p in sorted(glob(str(folder / "*.py"))) if Path(p).name != "__init__.py"]
    return Path(scripts[0]) if len(scripts) == 1 and not notebooks else None


def _grade_submission_here(slug: str) -> dict:
    key = f"grade:{slug}"
    if key not in _results:
        from autograder import api

        found = submission_in(Path.cwd())
        if found is None:
            _results[key] = {"questions": [], "errors": [
                f"no single notebook or .py to grade in {Path.cwd()}"]}
        else:
            _results[key] = api.grade([found], assignment=slug)[0].to_json()
    return _results[key]


# -- a student's check ---------------------------------------------------------

def _is_plumbing(node: ast.stmt) -> bool:
    """otter's own lines in a notebook: ``import otter``, ``grader = otter.Notebook(...)``,
    ``grader.check("q1")`` and the ``if __name__ == "__main__":`` that guards them."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [
            alias.name for alias in node.names]
        return all(name.split(".")[0] == "otter" for name in names)
    if isinstance(node, ast.If) and not node.orelse and all(_is_plumbing(n) for n in node.body):
        return "__name__" in ast.unparse(node.test)
    if isinstance(node, (ast.Expr, ast.Assign)):
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        return bool(names & {"grader", "otter"})
    return False


def strip_plumbing(source: str) -> str:
    """``source`` without otter's lines (each becomes ``pass``, so line
    numbers stay), for the grader to run it as a module."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source  # magics and broken cells: the grader deals with them
    lines = source.splitlines()
    for node in tree.body:
        if _is_plumbing(node):
            lines[node.lineno - 1] = "pass"
            for number in range(node.lineno, node.end_lineno or node.lineno):
                lines[number] = ""
    return "\n".join(lines)


def kernel_cells() -> list[str] | None:
    """The code cells this IPython kernel has run, in order, as typed, without
    otter's lines; None outside IPython. Cell n is the one Jupyter shows as
    ``[n]``, so the grader's "cell n" names it."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None:
        return None
    cells = [strip_plumbing(cell) for cell in list(shell.history_manager.input_hist_raw)[1:]]
    while cells and cells[-1].strip() in ("", "pass"):
        cells.pop()  # the check being run, and checks since the last code
    return cells


def _student_check(slug: str) -> dict:
    """advpy's public checks on what the kernel has run (or, outside a
    kernel, on the main script)."""
    import nbformat

    from autograder import api

    cells = kernel_cells()
    if cells is None:
        main = getattr(sys.modules.get("__main__"), "__file__", None)
        if not main:
            return {"questions": [], "errors": [
                "grader.check runs in a Jupyter notebook; elsewhere run `advpy check FILE`"]}
        key = f"file:{main}:{Path(main).stat().st_mtime_ns}"
        if key not in _results:
            _results[key] = api.check(main, assignment=slug).to_json()
        return _results[key]
    key = "cells:" + hashlib.sha256(json.dumps([slug, cells]).encode()).hexdigest()
    if key not in _results:
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
        with tempfile.TemporaryDirectory(prefix="advpy-check-") as scratch:
            path = Path(scratch) / f"{slug}.ipynb"
            nbformat.write(notebook, str(path))
            _results[key] = api.check(path, assignment=slug).to_json()
    return _results[key]
