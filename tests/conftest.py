"""Shared helpers for the project's own tests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autograder import api
from autograder.model import SubmissionResult

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
EXPECT = re.compile(r"expect:\s*([^\n\\\"]*)")


def expected_scores(path: Path) -> dict[str, float]:
    """The scores a submission of ours must get, from its ``expect:`` line:
    ``expect: full`` or ``expect: q3=0 q5=1.5`` (questions not named get full marks)."""
    match = EXPECT.search(path.read_text(encoding="utf-8"))
    if not match:
        raise ValueError(f"{path} has no 'expect:' line")
    words = match.group(1).split()
    if words == ["full"]:
        return {}
    return {qid: float(score) for qid, score in (w.split("=") for w in words)}


def grade_file(path: Path, slug: str) -> SubmissionResult:
    return api.grade([path], assignment=slug)[0]


def assert_scores(result: SubmissionResult, expected: dict[str, float]) -> None:
    got = {q.id: q.score for q in result.questions}
    want = {q.id: expected.get(q.id, q.max_score) for q in result.questions}
    details = "\n".join(f"{q.id} {t.status}: {t.name}: {t.feedback}"
                        for q in result.questions for t in q.tests if t.status != "passed")
    assert got == want, f"{result.submission}: got {got}, want {want}\n{details}"
    assert not result.has_grader_errors, result.errors


def submissions(slug: str) -> list[pytest.param]:
    folder = SUBMISSIONS / slug
    if not folder.is_dir():
        return []
    return [pytest.param(p, id=f"{slug}/{p.name}") for p in sorted(folder.iterdir())
            if p.suffix in (".py", ".ipynb")]


def grader_check_outputs(notebook) -> dict[str, str]:
    """What each ``grader.check("qN")`` cell of an executed notebook
    displayed, by question; a check cell that raised fails the test."""
    shown = {}
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.startswith("grader.check("):
            qid = cell.source.split('"')[1]
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, (qid, errors[0].ename, errors[0].evalue)
            shown[qid] = "".join(o.get("data", {}).get("text/plain", "")
                                 for o in cell.outputs if o.output_type == "execute_result")
    return shown
