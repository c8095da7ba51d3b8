"""What the autograder-test cells of advpy's nbgrader notebooks run, in a Jupyter kernel.

Each test cell (written by :mod:`autograder.exporters.nbgrader`) calls::

    check("generators", "q1")               # everyone: the public checks of q1
    check("generators", "q1", hidden=True)  # the instructor's source only: its points

- In a student's notebook, ``check(slug, qid)`` runs the public checks of the
  question (those of ``advpy check``) on the code cells this kernel has run,
  in advpy's sandbox, in a separate interpreter (``python -I``): nothing the
  notebook defined or patched in this kernel takes part in the verdict. It
  prints a short report on stdout (never stderr: nbgrader scores a test cell
  with any stderr output 0) and returns None when every check passed; else
  it raises AssertionError, as nbgrader's own test cells do, so that
  ``nbgrader validate`` (the students' Validate button) reports the failure.
- ``check(slug, qid, hidden=True)`` grades the whole saved notebook
  (``<slug>.ipynb`` in the kernel's folder, as ``advpy grade`` does, hidden
  tests included), prints the question's feedback and returns the points
  earned: as the cell's value, nbgrader takes it as partial credit. The
  notebook is graded once per kernel (keyed by its sha256); the other cells
  reuse the result.
- Under ``nbgrader autograde`` with advpy's configuration, the grading was
  done outside the kernel (``nbgrader_plugin.AdvpyGrade`` sets
  ``ADVPY_NBGRADER``) and the cells' outputs are replaced by advpy's
  verdicts: the cells only say so. Under nbgrader's own autograde pipeline
  (``NBGRADER_EXECUTION=autograde`` without it), the public call does nothing
  and the hidden call grades as above.

A grader error (an incomplete result) raises :class:`GraderError` in the
hidden call: the cell fails (0 points) with a message that says it must be
regraded, never a silent 0 or an unearned point.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.model import ERROR_TEST_NOTE, INCOMPLETE, bound

GRADED_OUTSIDE = "ADVPY_NBGRADER"  # set by nbgrader_plugin.AdvpyGrade before any kernel starts
REPORT_LIMIT = 3000  # characters a cell prints
TIMEOUT = 900  # seconds for one grading of a notebook


class GraderError(RuntimeError):
    """advpy could not judge this question: regrade it once the cause is fixed."""


class _Cache:
    """Results of this kernel (one kernel is one student's): by what was graded."""

    def __init__(self) -> None:
        self.results: dict[str, dict] = {}


_cache = _Cache()


def check(slug: str, qid: str, *, hidden: bool = False) -> float | None:
    """Run advpy's checks of question ``qid`` of ``slug`` (see the module's docstring)."""
    if os.environ.get(GRADED_OUTSIDE):
        print(f"{qid}: advpy grades this question outside the notebook's kernel.")
        return None
    autograding = os.environ.get("NBGRADER_EXECUTION") == "autograde"
    if not hidden:
        if autograding:
            return None  # the hidden call of this cell does the grading
        result = _grade(_kernel_notebook(slug), slug, public=True)
        print(report(result, qid, public=True))
        question = _question(result, qid) or {}
        failed = [t for t in question.get("tests", []) if t.get("status") != "passed"]
        if failed or not question:
            # As nbgrader's own test cells do: a failing check fails the cell
            # (what `nbgrader validate` looks for). The report above says why.
            raise AssertionError(f"{len(failed)} of {len(question.get('tests', []))} public "
                                 f"checks of {qid} did not pass" if question else
                                 f"{qid} could not be checked")
        return None
    result = _grade(_saved_notebook(slug), slug, public=False)
    question = _question(result, qid)
    print(report(result, qid, public=False))
    if question is None or _has_error(question) or (not result.get("complete", True)
                                                    and not question.get("tests")):
        raise GraderError(f"{qid}: {INCOMPLETE}")
    return round(float(question["score"]), 4)


def _question(result: dict, qid: str) -> dict | None:
    return next((q for q in result.get("questions", []) if q.get("id") == qid), None)


def _has_error(question: dict) -> bool:
    return any(t.get("status") == "error" for t in question.get("tests", []))


def report(result: dict, qid: str, *, public: bool) -> str:
    """What a test cell prints about ``qid``: each test's verdict, bounded."""
    question = _question(result, qid)
    if question is None:
        problems = "; ".join(result.get("errors", [])) or "no result"
        return bound(f"{qid}: not graded: {problems}", REPORT_LIMIT)
    kind = "public checks" if public else "tests"
    lines = [f"{qid} ({question.get('name')}): {question['score']:g} of "
             f"{question['max_score']:g} points from advpy's {kind}"]
    for test in question.get("tests", []):
        mark = {"passed": "passed", "failed": "FAILED", "error": "GRADER ERROR"}.get(
            test.get("status"), test.get("status"))
        hidden = " (hidden)" if test.get("hidden") else ""
        lines.append(f"- {mark}{hidden}: {test.get('name')}")
        feedback = test.get("feedback") or ""
        if test.get("status") == "error":
            feedback = f"{ERROR_TEST_NOTE} {feedback}".strip()
        if feedback and test.get("status") != "passed":
            lines.append("  " + bound(feedback, 600).replace("\n", "\n  "))
    if not result.get("complete", True):
        lines.append(INCOMPLETE)
    if public:
        lines.append("The grader also runs hidden tests: passing these does not mean full marks.")
    return bound("\n".join(lines), REPORT_LIMIT)


# -- what is graded --------------------------------------------------------------

def _kernel_notebook(slug: str) -> bytes:
    """A notebook of the code cells this IPython kernel has run, in order
    (outside IPython: the saved notebook)."""
    import nbformat

    try:
        from IPython import get_ipython
    except ImportError:
        return _saved_notebook(slug)
    shell = get_ipython()
    if shell is None:
        return _saved_notebook(slug)
    cells = list(shell.history_manager.input_hist_raw)[1:]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    return nbformat.writes(notebook).encode()


def _saved_notebook(slug: str) -> bytes:
    """The notebook file of this kernel: Jupyter's session path, else
    ``<slug>.ipynb`` in the working folder."""
    here = [Path.cwd() / f"{slug}.ipynb"]
    session = [Path(os.environ["JPY_SESSION_NAME"])] if os.environ.get("JPY_SESSION_NAME") else []
    # nbgrader runs the notebook it grades in its own folder; a session name
    # there is the instructor's (nbgrader started from a notebook), not it.
    order = here + session if os.environ.get("NBGRADER_EXECUTION") else session + here
    for candidate in order:
        if candidate.suffix == ".ipynb" and candidate.is_file():
            return candidate.read_bytes()
    raise FileNotFoundError(f"cannot find {slug}.ipynb in {Path.cwd()}: save the notebook "
                            "under that name, or run `advpy check` on it")


def _grade(notebook: bytes, slug: str, *, public: bool) -> dict:
    """advpy's result (JSON) for ``notebook``: graded by a separate ``python -I``,
    once per content."""
    key = hashlib.sha256(f"{slug}:{public}:".encode() + notebook).hexdigest()
    if key not in _cache.results:
        with tempfile.TemporaryDirectory(prefix="advpy-nbgrader-") as scratch:
            path = Path(scratch) / f"{slug}.ipynb"
            path.write_bytes(notebook)
            argv = [sys.executable, "-I", "-m", __name__, str(path), slug]
            done = subprocess.run(argv + ([] if not public else ["--public"]), cwd=scratch,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=TIMEOUT)
        try:
            result = json.loads(done.stdout)
        except json.JSONDecodeError:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            return {"questions": [], "complete": False,
                    "errors": [f"advpy could not grade the notebook (exit {done.returncode}): "
                               f"{tail}"]}
        _cache.results[key] = result
    return _cache.results[key]


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.exporters.nbgrader_cells NOTEBOOK SLUG [--public]``:
    advpy's result for the notebook, as JSON on stdout."""
    from autograder import api

    args = list(sys.argv[1:] if argv is None else argv)
    public = "--public" in args
    path, slug = [a for a in args if a != "--public"][:2]
    result = (api.check if public else lambda p, **kw: api.grade([p], **kw)[0])(
        path, assignment=slug)
    sys.stdout.write(json.dumps(result.to_json()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
