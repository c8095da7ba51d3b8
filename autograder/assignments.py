"""Where each exercise set lives, and what it is: one slug names it in every tree.

An assignment is a folder ``assignments/<slug>/`` holding its manifest,
``assignment.toml`` (title, place in the course, the files students get, the
CPUs its timing tests want, and each question's id, name and points), its
stubs and its public tests; ``solutions/<slug>/`` holds the reference and
``autograder/hidden/<slug>/`` the hidden tests. Everything else (the list of
assignments, the exporters, the release) is derived from the manifests: adding
an assignment touches no code (DEVELOPING.md, "Adding an assignment").

The course is found through the package: an installed advpy (a wheel) carries
it as package data in ``autograder/_course``; a checkout (an editable install)
uses its own ``assignments/`` and ``solutions/``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from autograder.testing import Question

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PACKAGE = Path(__file__).resolve().parent
MANIFEST = "assignment.toml"
BUNDLED = "_course"  # the course's folder inside an installed package


class ManifestError(ValueError):
    """An assignment's manifest is missing a field or has a wrong one."""


def course_root() -> Path:
    """The folder holding assignments/ (and, for an instructor, solutions/):
    the copy an installed package carries, or the checkout it runs from."""
    bundled = resources.files("autograder").joinpath(BUNDLED)
    if bundled.is_dir():
        return Path(str(bundled))
    checkout = PACKAGE.parent
    if (checkout / "assignments").is_dir():
        return checkout
    raise FileNotFoundError(
        "cannot find the advpy course: this advpy has neither autograder/_course (an "
        "installed wheel) nor an assignments/ folder beside the package (a checkout); "
        "reinstall it with `pip install advpy` or `pip install .` in the checkout")


@dataclass(frozen=True)
class Assignment:
    slug: str
    title: str
    order: int
    files: tuple[str, ...]
    cpus: int
    questions: tuple[Question, ...]

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def hidden_tests(self) -> Path:
        return PACKAGE / "hidden" / self.slug

    @property
    def has_hidden_tests(self) -> bool:
        """False in the student package, which carries none."""
        return any(self.hidden_tests.glob("test_*.py"))

    @property
    def student_dir(self) -> Path:
        return course_root() / "assignments" / self.slug

    @property
    def solution_dir(self) -> Path:
        return course_root() / "solutions" / self.slug

    @property
    def public_tests(self) -> Path:
        return self.student_dir / f"test_{self.slug}.py"

    @property
    def measures_speedup(self) -> bool:
        """Its timing tests want more than one CPU (a parallel speedup)."""
        return self.cpus > 1

    def question(self, qid: str) -> Question:
        for question in self.questions:
            if question.id == qid:
                return question
        raise KeyError(f"{self.slug} has no question {qid!r}")


def _field(data: dict, key: str, kind: type | tuple[type, ...], where: str):
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ManifestError(f"{where}: `{key}` must be given as "
                            f"{getattr(kind, '__name__', 'a number')}, not {value!r}")
    return value


def read_manifest(path: Path) -> Assignment:
    """The assignment a manifest describes; ManifestError, naming the file and
    the field, when it is not one."""
    slug = path.parent.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read it as TOML ({exc})") from None
    questions = []
    for index, entry in enumerate(data.get("questions") or [], 1):
        where = f"{path}, question {index}"
        if not isinstance(entry, dict):
            raise ManifestError(f"{where}: write it as a [[questions]] table")
        questions.append(Question(_field(entry, "id", str, where),
                                  _field(entry, "name", str, where),
                                  float(_field(entry, "points", (int, float), where))))
    if not questions:
        raise ManifestError(f"{path}: no [[questions]]; an assignment needs at least one")
    if len({q.id for q in questions}) != len(questions):
        raise ManifestError(f"{path}: two questions share an id")
    files = data.get("files", [f"{slug}.py", f"{slug}.ipynb", f"test_{slug}.py"])
    if not (isinstance(files, list) and all(isinstance(f, str) and "/" not in f for f in files)):
        raise ManifestError(f"{path}: `files` must be a list of file names in {path.parent}")
    return Assignment(slug=slug, title=str(data.get("title", slug)),
                      order=int(_field(data, "order", int, str(path))) if "order" in data else 0,
                      files=tuple(files),
                      cpus=int(_field(data, "cpus", int, str(path))) if "cpus" in data else 1,
                      questions=tuple(questions))


@cache
def _course(root: Path) -> dict[str, Assignment]:
    found = [read_manifest(path) for path in sorted((root / "assignments").glob(f"*/{MANIFEST}"))]
    return {a.slug: a for a in sorted(found, key=lambda a: (a.order, a.slug))}


def slugs() -> list[str]:
    """Every assignment of the course, in course order."""
    return list(_course(course_root()))


def available() -> list[str]:
    """The assignments this installation can grade with hidden tests, in
    course order (none in the student package)."""
    return [slug for slug in slugs() if get(slug).has_hidden_tests]


def get(slug: str) -> Assignment:
    course = _course(course_root())
    if slug not in course:
        raise KeyError(f"unknown assignment {slug!r}; the assignments are: "
                       + ", ".join(course))
    return course[slug]
