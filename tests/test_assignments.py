"""Every assignment: the reference scores full marks, the stub zero, and each
submission of ours under tests/submissions/<slug>/ the scores its
``expect:`` line names (each wrong one carries one bug, named in its docstring)."""

from __future__ import annotations

import pytest
from conftest import ROOT, assert_scores, expected_scores, grade_file, submissions

from autograder import assignments

SLUGS = assignments.available()


@pytest.mark.parametrize("suffix", [".py", ".ipynb"])
@pytest.mark.parametrize("slug", SLUGS)
def test_reference_scores_full_marks(slug, suffix):
    result = grade_file(ROOT / "solutions" / slug / f"{slug}{suffix}", slug)
    assert result.max_score == assignments.get(slug).max_score
    assert_scores(result, {})


@pytest.mark.parametrize("suffix", [".py", ".ipynb"])
@pytest.mark.parametrize("slug", SLUGS)
def test_stub_scores_zero(slug, suffix):
    result = grade_file(ROOT / "assignments" / slug / f"{slug}{suffix}", slug)
    assert result.score == 0, [(q.id, q.score) for q in result.questions]
    assert not result.has_grader_errors, result.errors


@pytest.mark.parametrize("path", [p for slug in SLUGS for p in submissions(slug)])
def test_submission_of_ours(path):
    slug = path.parent.name
    assert_scores(grade_file(path, slug), expected_scores(path))
