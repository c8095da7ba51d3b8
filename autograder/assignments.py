"""Where each exercise set lives: one slug names it in every tree."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from autograder.testing import Question

PACKAGE = Path(__file__).resolve().parent
SLUGS = ("generators", "threads", "processes")


def course_root() -> Path:
    """The folder holding assignments/ and solutions/: the checkout, or the
    copy that a wheel carries inside the package."""
    for root in (PACKAGE.parent, PACKAGE / "_course"):
        if (root / "assignments").is_dir():
            return root
    raise FileNotFoundError("cannot find the assignments/ folder of the advpy course")


@dataclass(frozen=True)
class Assignment:
    slug: str
    questions: tuple[Question, ...]

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def hidden_tests(self) -> Path:
        return PACKAGE / "hidden" / self.slug

    @property
    def student_dir(self) -> Path:
        return course_root() / "assignments" / self.slug

    @property
    def solution_dir(self) -> Path:
        return course_root() / "solutions" / self.slug

    @property
    def public_tests(self) -> Path:
        return self.student_dir / f"test_{self.slug}.py"

    def question(self, qid: str) -> Question:
        for question in self.questions:
            if question.id == qid:
                return question
        raise KeyError(f"{self.slug} has no question {qid!r}")


def available() -> list[str]:
    """The slugs whose hidden tests exist in this installation, in course order."""
    return [slug for slug in SLUGS if (PACKAGE / "hidden" / slug / "__init__.py").is_file()]


@cache
def get(slug: str) -> Assignment:
    if slug not in available():
        raise KeyError(f"unknown assignment {slug!r}; the assignments are: "
                       + ", ".join(available()))
    manifest = importlib.import_module(f"autograder.hidden.{slug}")
    return Assignment(slug=slug, questions=tuple(manifest.QUESTIONS))
