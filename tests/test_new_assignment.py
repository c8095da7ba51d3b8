"""Adding an assignment is three folders and no code (DEVELOPING.md, "Adding
an assignment"): a small fourth one, added to a temporary copy of the course,
is listed, graded, released and checked like the course's own three.

The copy runs as its own checkout (PYTHONPATH points at it), so nothing of
/work's course or installed advpy is used: whatever the fourth assignment
needs from the engine, the engine must already give it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SLUG = "squares"

MANIFEST = '''\
title = "Squares"
order = 4
files = ["squares.py", "squares.ipynb", "test_squares.py"]
cpus = 1

[[questions]]
id = "q1"
name = "squares"
points = 2

[[questions]]
id = "q2"
name = "sum_of_squares"
points = 1
'''

# The stub and the reference share their docstrings word for word.
MODULE = '''\
# %% [markdown]
# # Squares
#
# A small assignment that shows how a course grows.

# %%
def squares(n):
    """Yield 0, 1, 4, ... up to (n - 1) ** 2, one at a time."""
{squares}


# %%
def sum_of_squares(n):
    """The sum of the squares of 0 ... n - 1."""
{total}
'''
STUB = MODULE.format(squares='    raise NotImplementedError("write squares")',
                     total='    raise NotImplementedError("write sum_of_squares")')
REFERENCE = MODULE.format(squares="    for i in range(n):\n        yield i * i",
                          total="    return sum(i * i for i in range(n))")
# A list is the right values but not lazy: the hidden test of q1 fails it.
EAGER = MODULE.format(squares="    return [i * i for i in range(n)]",
                      total="    return sum(i * i for i in range(n))")
# Counts one square too many: the hidden test of q2 fails it.
OFF_BY_ONE = MODULE.format(squares="    for i in range(n):\n        yield i * i",
                           total="    return sum(i * i for i in range(n + 1))")

PUBLIC_TESTS = '''\
"""Public checks for the squares assignment: `advpy check squares.py`.

PYTEST_DONT_REWRITE
"""

from autograder.probes import generators as probe
from autograder.testing import check


@check("q1", hidden=False)
def test_squares_values(student):
    """squares(4) yields 0, 1, 4, 9"""
    seen = student.call(probe.items, "squares", (4,), 10, what="list(squares(4))")
    assert seen["items"] == [0, 1, 4, 9], f"list(squares(4)) gave {seen['items']!r}"
'''

HIDDEN_TESTS = '''\
"""Hidden tests of the squares assignment."""

from autograder.errors import StudentFailure
from autograder.probes import generators as probe
from autograder.testing import check


@check("q1", hidden=True, after="test_squares_values", timeout=3)
def test_squares_stays_lazy(student):
    """squares(10**18) yields its first items at once"""
    try:
        seen = student.call(probe.items, "squares", (10**18,), 3,
                            what="squares(10**18) and taking 3 items", memory=64 * 2**20)
    except StudentFailure as failure:
        raise StudentFailure(f"{failure}; yield each square instead of building a list") from None
    assert seen["items"] == [0, 1, 4], f"it began with {seen['items']!r}"


@check("q2", hidden=True)
def test_sum_of_squares_value(student):
    """sum_of_squares(4) is 14"""
    seen = student.call(probe.call_value, "sum_of_squares", (4,), what="sum_of_squares(4)")
    assert seen["value"] == 14, f"sum_of_squares(4) returned {seen['repr']}"
'''


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A copy of the course with the fourth assignment added: three folders."""
    root = tmp_path_factory.mktemp("course")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for tree in ("autograder", "assignments", "solutions"):
        shutil.copytree(ROOT / tree, root / tree, ignore=ignore)
    student = root / "assignments" / SLUG
    student.mkdir()
    (student / "assignment.toml").write_text(MANIFEST)
    (student / f"{SLUG}.py").write_text(STUB)
    (student / f"test_{SLUG}.py").write_text(PUBLIC_TESTS)
    (root / "solutions" / SLUG).mkdir()
    (root / "solutions" / SLUG / f"{SLUG}.py").write_text(REFERENCE)
    hidden = root / "autograder" / "hidden" / SLUG
    hidden.mkdir()
    (hidden / "__init__.py").write_text('"""The hidden tests of squares."""\n')
    (hidden / "test_hidden.py").write_text(HIDDEN_TESTS)
    # The notebook is built from the module, as for every assignment.
    run(root, "-m", "autograder.notebooks", str(student / f"{SLUG}.py"))
    return root


def run(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    if check and done.returncode not in (0, 3):
        raise AssertionError(f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def grade(root: Path, path: Path) -> dict:
    """SPEC's JSON of one submission."""
    done = run(root, "-m", "autograder", "grade", str(path), "-a", SLUG, "--format", "json")
    return json.loads(done.stdout)


def test_the_copy_is_what_runs(course):
    """The temporary course, not this checkout, is what the commands use."""
    where = run(course, "-c", "import autograder; print(autograder.__file__)").stdout
    assert Path(where.strip()).resolve().is_relative_to(course.resolve())


def test_the_fourth_assignment_is_listed_after_the_others(course):
    """The manifests alone make the list of assignments, in course order."""
    listed = run(course, "-c", "from autograder import assignments; "
                               "print(*assignments.slugs()); print(*assignments.available())")
    every, graded = listed.stdout.splitlines()
    assert every.split() == ["generators", "threads", "processes", SLUG]
    assert graded.split() == every.split()


@pytest.mark.parametrize(("source", "scores"), [
    (REFERENCE, {"q1": 2, "q2": 1}),
    (STUB, {"q1": 0, "q2": 0}),
    (EAGER, {"q1": 1, "q2": 1}),  # its values pass, its laziness does not
    (OFF_BY_ONE, {"q1": 2, "q2": 0}),
], ids=["reference", "stub", "eager", "off-by-one"])
def test_the_fourth_assignment_is_graded(course, tmp_path, source, scores):
    """The reference gets full marks, the stub zero, an eager version loses
    exactly the laziness test's points, with the hidden test's feedback."""
    path = tmp_path / f"{SLUG}.py"
    path.write_text(source)
    result = grade(course, path)
    assert result["complete"], result
    assert result["max_score"] == 3
    assert {q["id"]: q["score"] for q in result["questions"]} == scores
    if source is EAGER:
        lazy = [t for q in result["questions"] for t in q["tests"] if t["status"] == "failed"]
        assert [t["name"] for t in lazy] == ["squares(10**18) yields its first items at once"]
        assert "yield each square" in lazy[0]["feedback"]


def test_the_fourth_assignment_is_released_and_checked(course, tmp_path):
    """`advpy release` bundles it (its leak check passes) and `advpy check`
    runs its public test on the bundled stub: not passed, and nothing hidden
    is in the bundle."""
    bundle = tmp_path / "release"
    run(course, "-m", "autograder", "release", str(bundle), "-a", SLUG)
    assert {p.name for p in (bundle / SLUG).iterdir()} >= {
        f"{SLUG}.py", f"{SLUG}.ipynb", f"test_{SLUG}.py"}
    for path in bundle.rglob("*.py"):
        assert "test_squares_stays_lazy" not in path.read_text()
    stub = run(course, "-m", "autograder", "check", str(bundle / SLUG / f"{SLUG}.py"),
               check=False)
    assert "0 of 1 public checks passed" in " ".join(stub.stdout.split())
    (tmp_path / f"{SLUG}.py").write_text(REFERENCE)
    reference = run(course, "-m", "autograder", "check", str(tmp_path / f"{SLUG}.py"))
    assert "1 of 1 public checks passed" in " ".join(reference.stdout.split())
