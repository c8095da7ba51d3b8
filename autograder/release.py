"""``advpy release DIR``: the student bundle, and the check that it leaks nothing.

For each assignment, ``DIR/<slug>/`` holds what students get: the stubs
(``<slug>.py`` and the notebook ``<slug>.ipynb``, with otter's
``grader.check`` cells), the public tests (``test_<slug>.py``, for
``advpy check``) and otter's test files (``tests/qN.py``, for
``grader.check``). :func:`verify` then proves that no reference solution and
no hidden test is inside: a release that would leak one is refused.
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

from autograder import assignments
from autograder.exporters.otter import write_test_files

MARKER = ".advpy-release"
README = """# {slug}

Your exercises: `{slug}.ipynb` (a Jupyter notebook) or `{slug}.py` (the same
stubs as a module); work in either one.

In the notebook, run the first code cell, then run `grader.check("q1")` after
each question: it runs that question's public checks on the code you have run
(you need the `advpy` package installed, which also brings otter-grader). From
a terminal, `advpy check {slug}.ipynb` (or `{slug}.py`) runs all of them.

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
    """Write the student bundle of each assignment (all by default) under
    ``target``, verify it, and return the assignment folders."""
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
        (folder / "README.md").write_text(README.format(slug=slug), encoding="utf-8")
        (folder / MARKER).write_text(f"{slug}\n", encoding="utf-8")
        folders.append(folder)
    verify(target)
    return folders


# -- the check -----------------------------------------------------------------

def _code(path: Path) -> list[str]:
    """The Python sources in a file: a module, or a notebook's code cells."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        try:
            cells = json.loads(text).get("cells", [])
        except ValueError:
            return [text]
        return ["".join(c.get("source", "")) if isinstance(c.get("source"), list)
                else str(c.get("source", "")) for c in cells if c.get("cell_type") == "code"]
    return [text]


def _definitions(source: str) -> dict[str, str]:
    """Every function and class defined in ``source``: its name and its AST."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    return {ast.dump(node): node.name for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _file_definitions(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for source in _code(path):
        found.update(_definitions(source))
    return found


def _secrets(slug: str) -> tuple[dict[str, str], dict[bytes, str], set[str]]:
    """What must not leak for ``slug``: the reference's definitions that the
    stub does not share, the solution and hidden-test files' bytes, and the
    hidden tests' function names."""
    assignment = assignments.get(slug)
    stub = {}
    for path in (assignment.student_dir / f"{slug}.py", assignment.student_dir / f"{slug}.ipynb"):
        if path.is_file():
            stub.update(_file_definitions(path))
    definitions, contents, hidden_names = {}, {}, set()
    solution_files = sorted(assignment.solution_dir.glob("*")) if assignment.solution_dir.is_dir() \
        else []
    for path in solution_files:
        if path.is_file():
            contents[path.read_bytes()] = f"the reference solution {path.name}"
            definitions.update({dump: f"the reference solution's {name}"
                                for dump, name in _file_definitions(path).items()
                                if dump not in stub})
    public = _file_definitions(assignment.public_tests) if assignment.public_tests.is_file() \
        else {}
    for path in sorted(assignment.hidden_tests.rglob("*.py")):
        if path.name == "__init__.py":
            continue
        contents[path.read_bytes()] = f"the hidden tests {path.name}"
        for dump, name in _file_definitions(path).items():
            if dump in public:
                continue  # a helper the public tests share
            definitions[dump] = f"the hidden test {name}"
            if name.startswith("test_") and name not in public.values():
                hidden_names.add(name)
    return definitions, contents, hidden_names


def _public_test_problems(path: Path) -> list[str]:
    """A test in a bundled test file that is not declared public is a hidden test."""
    problems = []
    for source in _code(path):
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


def verify(root: Path | str) -> None:
    """Raise ReleaseError if any file under ``root`` holds a reference
    solution or a hidden test of any assignment."""
    root = Path(root)
    secrets = [_secrets(slug) for slug in assignments.available()]
    problems = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        where = path.relative_to(root)
        data = path.read_bytes()
        for definitions, contents, hidden_names in secrets:
            if data in contents:
                problems.append(f"{where} is {contents[data]}")
            if path.suffix not in (".py", ".ipynb"):
                continue
            for dump, name in _file_definitions(path).items():
                if dump in definitions:
                    problems.append(f"{where} holds {definitions[dump]}")
                elif name in hidden_names:
                    problems.append(f"{where} defines {name}, the name of a hidden test")
        if path.suffix not in (".py", ".ipynb"):
            continue
        if "autograder.hidden" in data.decode(errors="replace"):
            problems.append(f"{where} refers to the hidden tests (autograder.hidden)")
        problems.extend(f"{where}: {problem}" for problem in _public_test_problems(path))
    if problems:
        raise ReleaseError("the student bundle must not hold solutions or hidden tests:\n  "
                           + "\n  ".join(sorted(set(problems))))
