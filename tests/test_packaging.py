"""The two packages, installed as their users install them: offline, each
alone in a fresh virtual environment, used from a folder far from the checkout.

- The student package, ``advpy-student``: the wheel that ``advpy release``
  writes into the bundle. Installed alone it runs ``advpy check`` and a
  notebook's ``grader.check``, and no installed file holds a hidden test's
  name, a hidden judge or a line of a reference solution.
- The instructor package, ``advpy``: ``pip wheel`` of the checkout, which
  grades (hidden tests included) from any folder.

Each venv is made without the system site-packages. It gets the dependencies
(pytest, otter-grader, ...) from this interpreter through a path line in
``deps.pth``: a path line adds that folder to ``sys.path`` but does not run
the ``.pth`` files inside it, so the checkout's editable advpy (installed
there by a ``.pth`` import hook) is not importable in the venv, which the
tests assert. pip runs with ``--no-index --no-deps``: no network, nothing
installed but the wheel.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import site
import subprocess
import sys
import textwrap
import time
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import nbformat
import pytest
from conftest import grader_check_outputs

from autograder import assignments, student_wheel
from autograder.release import release

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent  # the checkout
SLUG = "generators"  # the assignment the venvs run (the cheapest to grade)
MAX_WHEEL_BYTES = 200 * 1024
# A line of a reference solution that no installed file may hold: stripped,
# at least this long, not a comment, not an import (``import threading`` is
# in the grader too), and in neither the stub nor the public tests.
MIN_LINE = 20

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="venv layout of POSIX")


# -- venvs -----------------------------------------------------------------------

@dataclass
class Venv:
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def site_packages(self) -> Path:
        return next((self.path / "lib").glob("python3*/site-packages"))

    def env(self) -> dict[str, str]:
        """An activated venv's environment, with nothing that would point
        Python or Jupyter back at this interpreter's folders."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")}
        env["PATH"] = f"{self.path / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(self.path)
        return env

    def run(self, *args: str | Path, cwd: Path, timeout: float = 120,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(a) for a in args], cwd=cwd, env=env or self.env(),
                              capture_output=True, text=True, timeout=timeout)

    def where_is_autograder(self, cwd: Path) -> subprocess.CompletedProcess[str]:
        return self.run(self.python, "-c", "import autograder; print(autograder.__file__)",
                        cwd=cwd)

    def install(self, wheel: Path, cwd: Path) -> None:
        # --ignore-installed: the checkout's editable advpy (same name and
        # version, visible to pip through deps.pth) must not make pip skip it.
        done = self.run(self.python, "-m", "pip", "install", "--no-deps", "--no-index",
                        "--ignore-installed", "--disable-pip-version-check", "-q", wheel,
                        cwd=cwd)
        assert done.returncode == 0, done.stdout + done.stderr

    def installed_files(self, distribution: str) -> list[Path]:
        """Every file pip installed for ``distribution``, from its RECORD."""
        info = next(self.site_packages.glob(f"{distribution.replace('-', '_')}-*.dist-info"))
        rows = (info / "RECORD").read_text().splitlines()
        return [(self.site_packages / row.rsplit(",", 2)[0]).resolve() for row in rows if row]


def make_venv(path: Path) -> Venv:
    # Without pip: deps.pth brings this interpreter's pip, which installs into
    # the venv (its sys.prefix); ensurepip would cost seconds for nothing.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True,
                   timeout=60)
    venv = Venv(path)
    deps = [p for p in [*site.getsitepackages(), site.getusersitepackages()] if Path(p).is_dir()]
    (venv.site_packages / "deps.pth").write_text("\n".join(deps) + "\n")
    return venv


def _assert_in(path: str, folder: Path) -> None:
    assert Path(path).resolve().is_relative_to(folder.resolve()), (path, folder)


# -- the student package ---------------------------------------------------------

@dataclass
class Student:
    bundle: Path
    wheel: Path
    venv: Venv
    work: Path  # a folder far from the checkout, the student's
    before_install: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> Student:
    bundle = tmp_path_factory.mktemp("bundle")
    release(bundle)
    wheels = sorted(bundle.glob("*.whl"))
    assert [w.name for w in wheels] == [student_wheel.wheel_name()]
    venv = make_venv(tmp_path_factory.mktemp("student") / "venv")
    work = tmp_path_factory.mktemp("work")
    before = venv.where_is_autograder(work)
    venv.install(wheels[0], work)
    return Student(bundle, wheels[0], venv, work, before)


def test_the_student_wheel_is_small_and_installs_alone(student):
    size = student.wheel.stat().st_size
    print(f"\nstudent wheel {student.wheel.name}: {size / 1024:.1f} KB")
    assert size < MAX_WHEEL_BYTES
    # Before the install no advpy is importable in the venv (the checkout's
    # editable one is not visible); after it, the wheel's.
    assert student.before_install.returncode != 0
    assert "ModuleNotFoundError" in student.before_install.stderr
    after = student.venv.where_is_autograder(student.work)
    assert after.returncode == 0, after.stderr
    _assert_in(after.stdout.strip(), student.venv.site_packages)
    installed = student.venv.installed_files(student_wheel.DISTRIBUTION)
    package = (student.venv.site_packages / "autograder").resolve()
    names = {p.relative_to(package).as_posix() for p in installed if p.is_relative_to(package)}
    assert f"{assignments.BUNDLED}/assignments/{SLUG}/test_{SLUG}.py" in names
    assert "exporters/otter_checks.py" in names  # what the bundle's tests/qN.py import
    assert "exporters/nbgrader_cells.py" in names  # what nbgrader's check cells import
    for tool in ("classroom.py", "cluster.py", "report.py"):  # a class's grading
        assert tool not in names
    for name in names:
        assert not name.startswith(("hidden/", "demo/", f"{assignments.BUNDLED}/solutions/")), name
    for tool in ("release.py", "student_wheel.py", "exporters/otter.py"):
        assert tool not in names  # an instructor's, and it would not run here
    assert (student.venv.path / "bin" / "advpy").is_file()
    # The modules a notebook's check cells import load without the instructor's.
    for module in ("autograder.exporters.otter_checks", "autograder.exporters.nbgrader_cells"):
        done = student.venv.run(student.venv.python, "-c", f"import {module}", cwd=student.work)
        assert done.returncode == 0, (module, done.stderr)


def test_the_student_wheel_is_the_same_every_time(tmp_path):
    first = student_wheel.build_student_wheel(tmp_path / "one").read_bytes()
    assert student_wheel.build_student_wheel(tmp_path / "two").read_bytes() == first


def test_advpy_check_from_the_student_package(student):
    folder = student.work / "check"
    folder.mkdir()
    stub = shutil.copy(student.bundle / SLUG / f"{SLUG}.py", folder / f"{SLUG}.py")
    started = time.perf_counter()
    done = student.venv.run("advpy", "check", stub, cwd=folder)
    seconds = time.perf_counter() - started
    print(f"\nadvpy check {SLUG}.py (the stub) from the student package: {seconds:.2f} s")
    assert done.returncode == 0, done.stdout + done.stderr  # checking ran, whatever passed
    assert "grader error" not in done.stdout.lower(), done.stdout  # failed, not unjudged
    passed, count = map(int, re.search(r"(\d+) of (\d+) public checks passed",
                                       done.stdout).groups())
    assert count > 0 and passed < count, done.stdout
    reference = folder / "reference" / f"{SLUG}.py"
    reference.parent.mkdir()
    shutil.copy(ROOT / "solutions" / SLUG / f"{SLUG}.py", reference)
    done = student.venv.run("advpy", "check", reference, cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{count} of {count} public checks passed" in done.stdout, done.stdout


def test_the_student_package_says_it_cannot_grade(student):
    stub = shutil.copy(student.bundle / SLUG / f"{SLUG}.py", student.work / "mine.py")
    for command in (["grade", stub, "-a", SLUG], ["grade", "--demo"],
                    ["release", student.work / "out"]):
        done = student.venv.run("advpy", *command, cwd=student.work)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        said = done.stderr.strip()
        assert len(said.splitlines()) == 1 and "Traceback" not in said, said
        assert "this is the student package advpy-student: it has no hidden tests" in said
        assert "`advpy check FILE` runs the public checks" in said


KERNEL_PROBE = ("import sys, autograder\n"
                "print('kernel:', sys.executable)\nprint('autograder:', autograder.__file__)")
RUN_NOTEBOOK = """
import sys
import nbformat
from nbclient import NotebookClient

path, folder = sys.argv[1], sys.argv[2]
notebook = nbformat.read(path, as_version=4)
NotebookClient(notebook, timeout=300, allow_errors=True, kernel_name="python3",
               resources={"metadata": {"path": folder}}).execute()
nbformat.write(notebook, path)
"""


def _reference_definition(name: str) -> str:
    source = (ROOT / "solutions" / SLUG / f"{SLUG}.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(source, node)
    raise LookupError(name)


def test_grader_check_runs_in_the_release_notebook(student, tmp_path):
    """The bundle's notebook, executed with nbclient by the venv's Python (so
    the kernel is the venv's): q1 filled in with the reference passes its
    check, q2 left as the stub fails it."""
    folder = tmp_path / SLUG
    shutil.copytree(student.bundle / SLUG, folder)
    path = folder / f"{SLUG}.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    questions = assignments.get(SLUG).questions
    q1, q2 = questions[0], questions[1]
    defining = [i for i, c in enumerate(notebook.cells)
                if c.cell_type == "code" and c.source.startswith(f"def {q1.name}(")]
    assert len(defining) == 1
    notebook.cells[defining[0]].source = _reference_definition(q1.name)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(KERNEL_PROBE))
    nbformat.write(notebook, str(path))
    # The kernel the venv's Jupyter would start: ipykernel run by the venv's python.
    kernels = tmp_path / "jupyter" / "kernels" / "python3"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(student.venv.python), "-m", "ipykernel_launcher", "-f",
                 "{connection_file}"], "display_name": "Python 3", "language": "python"}))
    env = student.venv.env() | {"JUPYTER_PATH": str(tmp_path / "jupyter")}
    done = student.venv.run(student.venv.python, "-c", RUN_NOTEBOOK, path, folder, cwd=folder,
                            timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    ran = nbformat.read(str(path), as_version=4)
    printed = "".join(o.get("text", "") for o in ran.cells[0].outputs)
    kernel = re.search(r"kernel: (.*)", printed).group(1)
    assert Path(kernel) == student.venv.python, printed  # not resolved: the venv's own link
    _assert_in(re.search(r"autograder: (.*)", printed).group(1), student.venv.site_packages)
    shown = grader_check_outputs(ran)
    assert sorted(shown) == sorted(q.id for q in questions)
    assert "All test cases passed!" in shown[q1.id], shown[q1.id]
    assert f"{q2.id} results:" in shown[q2.id] and "Test case failed" in shown[q2.id], shown[q2.id]


# -- what no installed file of the student package may hold ------------------------

def _code_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells
                         if c.cell_type == "code")
    return [line.strip() for line in text.splitlines()]


def secret_lines(slug: str) -> dict[str, Path]:
    """Each line of each reference solution of ``slug`` that is a secret (see
    MIN_LINE), with its file."""
    assignment = assignments.get(slug)
    known = {line for name in (f"{slug}.py", f"{slug}.ipynb", f"test_{slug}.py")
             for line in _code_lines(assignment.student_dir / name)}
    return {line: path for path in sorted(assignment.solution_dir.glob(f"{slug}.*"))
            for line in _code_lines(path)
            if len(line) >= MIN_LINE and not line.startswith(("#", "import ", "from "))
            and line not in known}


def hidden_names(slug: str) -> tuple[dict[str, Path], dict[str, Path]]:
    """The hidden tests' function names, and the names of the functions and
    classes that the hidden judges (the modules of ``autograder/hidden/<slug>/``
    that are not tests) define at their top level; each with its file."""
    tests, judges = {}, {}
    for path in sorted(assignments.get(slug).hidden_tests.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if path.name.startswith("test_"):
                if node.name.startswith("test_"):
                    tests[node.name] = path
            elif path.name != "__init__.py":
                judges[node.name] = path
    return tests, judges


def _searchable(path: Path) -> str:
    """A file's text as the search reads it: a notebook's code, else its bytes."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        return "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells
                         if c.cell_type == "code")
    return text


def _findings(text: str, lines: dict[str, Path], tests: dict[str, Path],
              judges: dict[str, Path]) -> set[str]:
    """What of the secrets ``text`` holds: a solution line anywhere in it, a
    hidden test's name as a word, a hidden judge's definition (``def name`` or
    ``class name``; the bare name may be an ordinary word)."""
    found = {line for line in lines if line in text}
    found |= {name for name in tests if re.search(rf"\b{re.escape(name)}\b", text)}
    found |= {name for name in judges
              if re.search(rf"\b(def|class)\s+{re.escape(name)}\b", text)}
    return found


def test_no_hidden_test_or_solution_line_is_installed(student):
    """Every file the student wheel installed (its RECORD, the ``advpy``
    script included) is searched for each secret of each assignment: each
    hidden test's function name, each hidden judge's definition, and each
    line of each reference solution (``.py`` and ``.ipynb``) that is at
    least MIN_LINE characters long once stripped, not a comment, not an
    import, and in neither the stub (module and notebook) nor the public
    tests. The same search must find every secret in the file it comes from,
    so that it cannot pass by searching for nothing."""
    installed = student.venv.installed_files(student_wheel.DISTRIBUTION)
    assert any(p.name == "cli.py" for p in installed) and len(installed) > 30
    texts = {path: _searchable(path) for path in installed}
    searched = 0
    for slug in assignments.available():
        lines = secret_lines(slug)
        tests, judges = hidden_names(slug)
        assert lines and tests, slug
        for secret, origin in {**lines, **tests, **judges}.items():
            assert secret in _findings(_searchable(origin), lines, tests, judges), (secret, origin)
        for path, text in texts.items():
            found = _findings(text, lines, tests, judges)
            assert not found, f"{path} holds secrets of {slug}: {sorted(found)}"
        searched += len(lines) + len(tests) + len(judges)
    print(f"\nsearched {len(texts)} installed files for {searched} secrets")


def test_the_wheel_declares_what_its_modules_import():
    """Requires-Dist covers every third-party module that a module of the
    student wheel imports at its top level, with the bounds of pyproject.toml."""
    files = student_wheel.package_files()
    imported = set()
    for name, data in files.items():
        if not name.endswith(".py"):
            continue
        for node in ast.parse(data).body:
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported - set(sys.stdlib_module_names)
                   if m not in ("autograder", "tomli")}  # tomli: only before 3.11

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    declared = {norm(re.split(r"[<>=!~;\s\[]", r)[0]) for r in student_wheel.REQUIRES}
    distributions = metadata.packages_distributions()
    for module in sorted(third_party):
        assert {norm(d) for d in distributions.get(module, [])} & declared, module
    # The tests' own files in the wheel import otter (bundle tests/qN.py do too).
    assert "otter-grader" in declared
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = {norm(r.replace(" ", "")) for r in pyproject["project"]["dependencies"]}
    for requirement in student_wheel.REQUIRES:
        assert norm(requirement.replace(" ", "")) in wanted, requirement


# -- the instructor package ------------------------------------------------------

def _source_copy(target: Path) -> Path:
    """The checkout as a fresh clone has it: what `pip wheel` builds from. A
    copy, so that the build's own folders (build/, *.egg-info) never land in
    the checkout, which others may be building at the same time."""
    ignore = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__",
                                    "*.pyc", ".ruff_cache", ".pytest_cache", ".venv", "tests")
    shutil.copytree(ROOT, target, ignore=ignore)
    return target


def _build_backend_here() -> bool:
    """Whether this environment can build the wheel itself: setuptools as
    recent as pyproject.toml asks, with bdist_wheel (its own from 70.1 on,
    else the ``wheel`` package's)."""
    try:
        version = tuple(int(part) for part in metadata.version("setuptools").split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        return False
    return version >= (68, 0) and (version >= (70, 1) or importlib.util.find_spec("wheel")
                                   is not None)


@pytest.mark.slow
def test_the_instructor_wheel_grades_from_any_folder(tmp_path):
    source = _source_copy(tmp_path / "advpy-src")
    wheels = tmp_path / "wheels"
    # Offline with the build backend of this environment when it has one that
    # pyproject.toml accepts; else as pip builds by default, in an isolated
    # environment with setuptools and wheel from the configured index.
    offline = ["--no-build-isolation", "--no-index"] if _build_backend_here() else []
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *offline,
         "--disable-pip-version-check", "-q", "-w", str(wheels), str(source)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = wheels.glob("advpy-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for name in (f"autograder/hidden/{SLUG}/test_hidden.py",
                 f"autograder/{assignments.BUNDLED}/assignments/{SLUG}/assignment.toml",
                 f"autograder/{assignments.BUNDLED}/solutions/{SLUG}/{SLUG}.py"):
        assert name in names, name
    venv = make_venv(tmp_path / "venv")
    work = tmp_path / "far" / "away"
    work.mkdir(parents=True)
    venv.install(wheel, work)
    where = venv.where_is_autograder(work)
    assert where.returncode == 0, where.stderr
    _assert_in(where.stdout.strip(), venv.site_packages)
    max_score = assignments.get(SLUG).max_score
    for name, source_file, expected in (
            ("reference", ROOT / "solutions" / SLUG / f"{SLUG}.py", max_score),
            ("stub", ROOT / "assignments" / SLUG / f"{SLUG}.py", 0.0)):
        (work / name).mkdir()
        submission = shutil.copy(source_file, work / name / f"{SLUG}.py")
        done = venv.run("advpy", "grade", submission, "-a", SLUG, "--format", "json",
                        cwd=work, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        result = json.loads(done.stdout)
        assert (result["score"], result["max_score"], result["complete"]) == (
            expected, max_score, True), textwrap.shorten(done.stdout, 2000)
