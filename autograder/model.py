"""The one results model that every renderer (table, JSON, Gradescope, CSV) reads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["passed", "failed", "error"]
FEEDBACK_LIMIT = 1200
GRADER_ERROR = "grader error"  # how each of our own failures begins in ``errors``
# What an incomplete submission says, wherever its results are shown.
INCOMPLETE = "grading failed on our side, this submission will be regraded"
# The one stand-in test of each question when a submission's tests could not
# run at all (the engine writes it; the class report recognises it).
UNTESTED = "the submission could be graded"
# What a test with a grader error says to its student, wherever it is shown.
ERROR_TEST_NOTE = ("Grading failed on our side, not because of your code: this test scores 0 "
                   "for now, and the submission will be regraded.")


def bound(text: str, limit: int = FEEDBACK_LIMIT) -> str:
    """Feedback a student reads stays short, whatever the student's code printed."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class TestResult:
    name: str
    status: Status
    score: float
    max_score: float
    hidden: bool
    feedback: str = ""


@dataclass
class QuestionResult:
    id: str
    name: str
    score: float
    max_score: float
    tests: list[TestResult] = field(default_factory=list)


@dataclass
class SubmissionResult:
    submission: str
    student: str | None
    assignment: str | None
    score: float
    max_score: float
    questions: list[QuestionResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # False when a grader error kept a test (or all of them) from being judged:
    # the score lacks those tests' points and the submission must be regraded.
    complete: bool = True
    sandbox: str = "not run"  # the isolation used, or "not run" when no student code ran
    seconds: float = 0.0
    # Who handed it in, as the class's download names them (Canvas, Gradescope):
    # kept in every result and every output. None where the download does not say.
    name: str | None = None  # the student's name ("doejane", "Jane Doe")
    lms_id: str | None = None  # the LMS's user id (Canvas) or SID/e-mail (Gradescope)
    late: bool = False  # the LMS marked it late
    notes: list[str] = field(default_factory=list)  # e.g. which of two files was graded

    def to_json(self) -> dict:
        """The JSON object of the spec's Interfaces section."""
        data = asdict(self)
        data.pop("seconds")
        return data

    @property
    def has_grader_errors(self) -> bool:
        return not self.complete

    @property
    def grader_errors(self) -> list[str]:
        """Our own failures among ``errors``: why the submission is incomplete."""
        return [e for e in self.errors if e.startswith(GRADER_ERROR)]

    def incomplete_note(self) -> str | None:
        """The line an incomplete submission shows (with its first reason); None when complete."""
        if self.complete:
            return None
        reasons = self.grader_errors
        more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
        return f"{INCOMPLETE}: {bound(reasons[0], 400)}{more}" if reasons else INCOMPLETE


def total(questions: list[QuestionResult]) -> tuple[float, float]:
    return (round(sum(q.score for q in questions), 4),
            round(sum(q.max_score for q in questions), 4))
