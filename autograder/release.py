"""``advpy release DIR``: the student bundle, and the check that it leaks nothing.

For each assignment, ``DIR/<slug>/`` holds what students get: the stubs
(``<slug>.py`` and the notebook ``<slug>.ipynb``, with otter's
``grader.check`` cells), the public tests (``test_<slug>.py``, for
``advpy check``) and otter's test files (``tests/qN.py``, for
``grader.check``). ``DIR`` itself holds the student package, the wheel of
``advpy-student`` (:mod:`autograder.student_wheel`) that runs those checks.
:func:`verify` then proves that no reference solution and no hidden test is
inside, the wheel's members included: a release that would leak one is refused.
"""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder import assignments
from autograder.exporters.otter import write_test_files
from autograder.student_wheel import build_student_wheel, wheel_name

MARKER = ".advpy-release"
README = """# {slug}

Your exercises: `{slug}.ipynb` (a Jupyter notebook) or `{slug}.py` (the same
stubs as a module); work in either one.

First install the course's checks, the package `advpy-student`, from the
wheel beside this folder (once for every assignment; it brings otter-grader):

    pip install ../{wheel}

In the notebook, run the first code cell, then run `grader.check("q1")` after
each question: it runs that question's public checks on the code you have run.
From a terminal, `advpy check {slug}.ipynb` (or `{slug}.py`) runs all of them.

The grader runs these checks and more (hidden tests): passing every public
check does not mean full marks. Hand in the one file you worked in.
"""


class ReleaseError(Exception):
    """The bundle would give students a solution or a hidden test."""


def bundle_files(slug: str) -> list[Path]:
    """The files of ``assignments/<slug>/`` that students get, named one by one."""
    student = assignments.get(slug).student_dir
    return [student / f"{slug}.py", student / f"{slug}.ipynb", student / f"test_{slug}.py"]


def release(target: Path | str, *, slugs: list[str] | None = None) -> list[Path]:
    """Write the student bundle of each assignment (all by default) and the
    student wheel under ``target``, verify it, and return the assignment folders."""
    target = Path(target)
    slugs = list(slugs or assignments.available())
    for slug in slugs:
        assignments.get(slug)
    folders = []
    for slug in slugs:
        folder = target / slug
        if folder.exists():
            if not (folder / MARKER).is_file():
                raise ReleaseError(f"{folder} exists and is not an advpy release; "
                                   "choose an empty folder")
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for path in bundle_files(slug):
            shutil.copyfile(path, folder / path.name)
        write_test_files(slug, folder / "tests")
        (folder / "README.md").write_text(README.format(slug=slug, wheel=wheel_name()),
                                          encoding="utf-8")
        (folder / MARKER).write_text(f"{slug}\n", encoding="utf-8")
        folders.append(folder)
    wheel = build_student_wheel(target)
    try:
        verify(target)
    except ReleaseError:
        # Nothing that leaks stays behind to be handed out by mistake.
        wheel.unlink()
        for folder in folders:
            shutil.rmtree(folder)
        raise
    return folders


# -- the check -----------------------------------------------------------------

SOURCES = (".py", ".ipynb")
ARCHIVES = (".whl", ".zip")
# Folders that no file of the bundle, and no member of a wheel in it, may be in.
FORBIDDEN = ("autograder/hidden/", f"{assignments.BUNDLED}/solutions/")
# A line of a reference solution is a secret when it is in neither the stub
# nor the public tests and says something: at least this long (stripped), not
# a comment, not an import (``import threading`` is in the grader too).
MIN_LINE = 20
MAX_DEPTH = 3  # archives inside archives inside archives


def solution_lines(source: str, known: set[str]) -> set[str]:
    """The lines of a reference ``source`` that are secrets (see MIN_LINE),
    stripped; ``known``: the stripped lines of the stub and public tests."""
    return {line for line in (raw.strip() for raw in source.splitlines())
            if len(line) >= MIN_LINE and not line.startswith(("#", "import ", "from "))
            and line not in known}


def _code(text: str, suffix: str) -> list[str]:
    """The Python sources in a file's text: a module, or a notebook's code cells."""
    if suffix == ".ipynb":
        try:
            cells = json.loads(text).get("cells", [])
        except (ValueError, AttributeError):
            return [text]
        return ["".join(c.get("source", "")) if isinstance(c.get("source"), list)
                else str(c.get("source", "")) for c in cells
                if isinstance(c, dict) and c.get("cell_type") == "code"]
    return [text]


def _read_code(path: Path) -> list[str]:
    return _code(path.read_text(encoding="utf-8", errors="replace"), path.suffix)


def _definitions(source: str) -> dict[str, str]:
    """Every function and class defined in ``source``: its name and its AST."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    return {ast.dump(node): node.name for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _code_definitions(sources: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for source in sources:
        found.update(_definitions(source))
    return found


@dataclass
class _Secrets:
    """What must not leak for one assignment."""

    definitions: dict[str, str] = field(default_factory=dict)  # AST dump: what it is
    contents: dict[bytes, str] = field(default_factory=dict)  # a whole file: what it is
    hidden_names: set[str] = field(default_factory=set)  # the hidden tests' names
    lines: dict[str, str] = field(default_factory=dict)  # a reference line: its file

    def names_pattern(self) -> re.Pattern[str] | None:
        names = sorted(self.hidden_names)
        return re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b") if names else None


def _secrets(slug: str) -> _Secrets:
    """What must not leak for ``slug``: the solution and hidden-test files'
    bytes, the reference's definitions and lines that the stub and the public
    tests do not share, the hidden tests' definitions and their names."""
    assignment = assignments.get(slug)
    secrets = _Secrets()
    stub: dict[str, str] = {}
    known: set[str] = set()
    for path in (assignment.student_dir / f"{slug}.py", assignment.student_dir / f"{slug}.ipynb",
                 assignment.public_tests):
        if path.is_file():
            code = _read_code(path)
            known.update(line.strip() for source in code for line in source.splitlines())
            if path != assignment.public_tests:
                stub.update(_code_definitions(code))
    solution_files = sorted(assignment.solution_dir.glob("*")) if assignment.solution_dir.is_dir() \
        else []
    for path in solution_files:
        if path.is_file():
            secrets.contents[path.read_bytes()] = f"the reference solution {path.name}"
            code = _read_code(path)
            secrets.definitions.update({dump: f"the reference solution's {name}"
                                        for dump, name in _code_definitions(code).items()
                                        if dump not in stub})
            for source in code:
                secrets.lines.update(dict.fromkeys(solution_lines(source, known),
                                                   f"the reference solution {path.name}"))
    public = _code_definitions(_read_code(assignment.public_tests)) \
        if assignment.public_tests.is_file() else {}
    for path in sorted(assignment.hidden_tests.rglob("*.py")):
        if path.name == "__init__.py":
            continue
        secrets.contents[path.read_bytes()] = f"the hidden tests {path.name}"
        for dump, name in _code_definitions(_read_code(path)).items():
            if dump in public:
                continue  # a helper the public tests share
            secrets.definitions[dump] = f"the hidden test {name}"
            if name.startswith("test_") and name not in public.values():
                secrets.hidden_names.add(name)
    return secrets


def _public_test_problems(sources: list[str]) -> list[str]:
    """A test in a bundled test file that is not declared public is a hidden test."""
    problems = []
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for decorator in node.decorator_list:
                if not (isinstance(decorator, ast.Call) and getattr(
                        decorator.func, "id", getattr(decorator.func, "attr", None)) == "check"):
                    continue
                hidden = [k.value for k in decorator.keywords if k.arg == "hidden"]
                if not (hidden and isinstance(hidden[0], ast.Constant)
                        and hidden[0].value is False):
                    problems.append(f"{node.name} is a test not declared hidden=False")
    return problems


@dataclass(frozen=True)
class _Item:
    """A file of the bundle, or a member of an archive there."""

    where: str  # as a problem names it
    name: PurePosixPath  # its own path (in its folder or its archive)
    data: bytes
    unreadable: str | None = None  # an archive that could not be opened to check


def _items(root: Path) -> Iterator[_Item]:
    """Every file under ``root`` and every member of every archive (a wheel,
    a zip) among them."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        yield from _with_members(_Item(rel, PurePosixPath(rel), path.read_bytes()), 0)


def _with_members(item: _Item, depth: int) -> Iterator[_Item]:
    yield item
    if item.name.suffix not in ARCHIVES:
        return
    if depth >= MAX_DEPTH:
        yield _Item(item.where, item.name, b"", "archives nested too deep to check")
        return
    try:
        with zipfile.ZipFile(io.BytesIO(item.data)) as archive:
            members = [(info.filename, archive.read(info)) for info in archive.infolist()
                       if not info.is_dir()]
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as exc:
        yield _Item(item.where, item.name, b"", f"cannot be opened to check it ({exc})")
        return
    for name, content in members:
        yield from _with_members(_Item(f"{name} in {item.where}", PurePosixPath(name), content),
                                 depth + 1)


def _problems(item: _Item, secrets: list[_Secrets]) -> list[str]:
    where, name, data = item.where, item.name, item.data
    if item.unreadable:
        return [f"{where} {item.unreadable}"]
    problems = [f"{where} is in {folder}, which students must not get"
                for folder in FORBIDDEN if f"/{folder}" in f"/{name.as_posix()}"]
    if name.suffix in ARCHIVES:
        return problems  # its members are checked one by one
    text = data.decode("utf-8", errors="replace")
    code = _code(text, name.suffix) if name.suffix in SOURCES else [text]
    searched = "\n".join(code)
    definitions = _code_definitions(code) if name.suffix in SOURCES else {}
    for secret in secrets:
        if data in secret.contents:
            problems.append(f"{where} is {secret.contents[data]}")
        problems.extend(f"{where} holds {secret.definitions[dump]}"
                        for dump in definitions if dump in secret.definitions)
        pattern = secret.names_pattern()
        problems.extend(f"{where} names {found}, a hidden test"
                        for found in sorted(set(pattern.findall(searched)) if pattern else ()))
        problems.extend(f"{where} holds this line of {what}: {line}"
                        for line, what in secret.lines.items() if line in searched)
    if name.suffix in SOURCES:
        if "autograder.hidden" in text:
            problems.append(f"{where} refers to the hidden tests (autograder.hidden)")
        problems.extend(f"{where}: {problem}" for problem in _public_test_problems(code))
    return problems


def verify(root: Path | str) -> None:
    """Raise ReleaseError if any file under ``root``, or any member of a
    wheel or zip there, holds a reference solution or a hidden test of any
    assignment (a whole file, a definition, a line of the reference, a hidden
    test's name), or lies in the hidden tests' or the solutions' folder."""
    root = Path(root)
    secrets = [_secrets(slug) for slug in assignments.available()]
    problems = []
    for item in _items(root):
        problems.extend(_problems(item, secrets))
    if problems:
        raise ReleaseError("the student bundle must not hold solutions or hidden tests:\n  "
                           + "\n  ".join(sorted(set(problems))))
