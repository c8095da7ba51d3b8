"""The one results model that every renderer (table, JSON, Gradescope, CSV) reads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["passed", "failed", "error"]
FEEDBACK_LIMIT = 1200


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
    sandbox: str = "not run"  # the isolation used, or "not run" when no student code ran
    seconds: float = 0.0

    def to_json(self) -> dict:
        """The JSON object of the spec's Interfaces section."""
        data = asdict(self)
        data.pop("seconds")
        return data

    @property
    def has_grader_errors(self) -> bool:
        return any(t.status == "error" for q in self.questions for t in q.tests) or bool(
            self.errors and not self.questions)


def total(questions: list[QuestionResult]) -> tuple[float, float]:
    return (round(sum(q.score for q in questions), 4),
            round(sum(q.max_score for q in questions), 4))
