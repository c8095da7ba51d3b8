"""``advpy export otter DIR``: an otter-grader autograder zip per assignment.

Each ``<slug>-autograder.zip`` is made by otter-grader's own ``otter generate``
and is ready to upload to Gradescope as a programming assignment. It holds:

- ``tests/qN.py``: one otter test file per question (see
  :mod:`autograder.exporters.otter_checks`), the files that a notebook's
  ``grader.check("qN")`` runs;
- ``otter_config.json``: the plugin :class:`~autograder.exporters.otter_plugin.AdvpyPlugin`,
  which grades the submission with advpy's sandboxed engine (hidden tests
  included) so that otter's scores are ``advpy grade``'s;
- ``files/advpy``: the part of advpy that grades this assignment, as a source
  tree that pip installs; ``requirements.txt`` installs it on Gradescope
  (``otter run`` uses the Python environment it runs in, where advpy must be
  installed).

The export also writes ``GRADESCOPE.md``: the steps on Gradescope, and the
CPU setting to choose.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from autograder import assignments
from autograder.exporters.otter_common import (
    BUNDLED_PACKAGE,
    fingerprint,
    grading_files,
)

PLUGIN = "autograder.exporters.otter_plugin.AdvpyPlugin"
GRADESCOPE_ROOT = "/autograder"  # where Gradescope unpacks the zip: source/ under it

TEST_FILE = '''"""otter-grader's test file for {qid} ({name}, {points:g} points) of advpy's {slug}.

In a student's notebook, grader.check("{qid}") runs advpy's public checks of
{qid} on the code the notebook has run (what `advpy check` runs). When otter
grades (otter run, Gradescope), its test cases are all of advpy's tests of
{qid}, hidden ones included, with the verdicts of advpy's sandboxed engine.
Made by `advpy export otter` and `advpy release`.
"""

from otter.test_files import test_case

from autograder.exporters.otter_checks import question_tests

OK_FORMAT = False
name = "{qid}"


def _verdict(test):
    def check():
        assert test.passed, test.feedback
    return check


for _number, _test in enumerate(question_tests("{slug}", "{qid}")):
    globals()[f"advpy_test_{{_number}}"] = test_case(
        name=_test.name, points=_test.points, hidden=_test.hidden,
        success_message=_test.note)(_verdict(_test))
'''

PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "advpy"
version = "{version}"
description = "The part of advpy that grades the {slug} assignment (made by advpy export otter)"
requires-python = ">=3.10"
dependencies = ["pytest>=7.4", "nbformat>=5.9", "rich>=13",
                "tomli>=1.1; python_version < '3.11'"]

[tool.setuptools.packages.find]
include = ["autograder*"]

[tool.setuptools.package-data]
"*" = ["*"]
autograder = ["_course/*/*/*"]
'''

# Gradescope's default container has half a CPU and 768 MB; a submission may
# use 2 GiB under advpy's default limits.
RESOURCES = {
    "speedup": ("at least 2 CPUs (4 is better) and at least 3 GB of memory",
                "with fewer than 2 CPUs no speedup can be measured: the grader then judges "
                "from evidence of concurrent work in distinct processes, and tells the "
                "student so"),
    "default": ("1 CPU and at least 3 GB of memory",
                "the default half CPU works but grades more slowly; advpy lets a "
                "submission use up to 2 GiB of memory"),
}


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _version() -> str:
    try:
        return version("advpy")
    except PackageNotFoundError:  # not installed: a checkout
        return "0"


def source_tree(slug: str, into: Path) -> Path:
    """Write the installable source tree of advpy for ``slug`` under ``into``."""
    for name, path in grading_files(slug).items():
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    (into / "pyproject.toml").write_text(PYPROJECT.format(version=_version(), slug=slug))
    return into


def write_test_files(slug: str, folder: Path) -> list[Path]:
    """One otter test file per question of ``slug``: ``folder/qN.py``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for question in assignments.get(slug).questions:
        path = folder / f"{question.id}.py"
        path.write_text(TEST_FILE.format(slug=slug, qid=question.id, name=question.name,
                                         points=question.points), encoding="utf-8")
        written.append(path)
    return written


def otter_config(slug: str) -> dict:
    return {
        "lang": "python",
        # Question rows (with the hidden tests' results) after grades are
        # published; a summary of the public tests at once.
        "show_hidden": True,
        "force_public_test_summary": True,
        "show_stdout": False,
        "plugins": [{PLUGIN: {"assignment": slug, "fingerprint": fingerprint(slug)}}],
    }


def build_zip(slug: str, output: Path) -> Path:
    """``output``: the autograder zip of ``slug``, made by ``otter generate``."""
    from otter.generate import main as otter_generate

    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="advpy-otter-") as scratch:
        staging = Path(scratch)
        write_test_files(slug, staging / "tests")
        source_tree(slug, staging / BUNDLED_PACKAGE)
        (staging / "otter_config.json").write_text(json.dumps(otter_config(slug), indent=2))
        (staging / "requirements.txt").write_text(
            f"{GRADESCOPE_ROOT}/source/files/{BUNDLED_PACKAGE}\n")
        with _chdir(staging):
            otter_generate(tests_dir="tests", output_path=str(output),
                           config="otter_config.json", requirements="requirements.txt",
                           no_environment=True, files=[BUNDLED_PACKAGE],
                           python_version=f"{sys.version_info.major}.{sys.version_info.minor}")
    return output


def guide(slugs: list[str]) -> str:
    """GRADESCOPE.md: from these zips to a Gradescope assignment."""
    lines = [
        "# Grading advpy assignments on Gradescope",
        "",
        "Made by `advpy export otter`. For each assignment:",
        "",
        "1. On Gradescope, in your course: *Assignments > Create Assignment > Programming "
        "Assignment*. Name it, give it the points below, and allow file uploads.",
        "2. *Configure Autograder*: choose *Zip file upload*, upload `<slug>-autograder.zip`, "
        "and wait for the image to build (a few minutes: it installs otter-grader and advpy).",
        "3. In the assignment's *Settings*, under *Autograder Settings*, choose the CPU and "
        "memory below, and a timeout of at least 10 minutes.",
        "4. *Test Autograder* with the reference notebook (full marks) and the student "
        "stub (zero), then publish the assignment.",
        "5. Students upload their one notebook (`<slug>.ipynb`) or module (`<slug>.py`).",
        "",
        "| zip | points | CPU and memory to choose | why |",
        "| --- | --- | --- | --- |",
    ]
    for slug in slugs:
        choice, why = RESOURCES["speedup" if assignments.get(slug).measures_speedup else "default"]
        points = assignments.get(slug).max_score
        lines.append(f"| `{slug}-autograder.zip` | {points:g} | {choice} | {why} |")
    lines += [
        "",
        "Gradescope gives an autograder half a CPU unless you choose more. advpy reads the "
        "CPUs it really has (affinity and cgroup quota) on every run.",
        "",
        "Scores are `advpy grade`'s: the zip's plugin runs `advpy grade` on the submission "
        "(advpy's sandboxed engine, hidden tests included) while otter starts its kernel, and the "
        "student's code never runs in otter's kernel. Students see a summary of the public "
        "checks at once and every question's results once grades are published; the "
        "autograder's stdout stays hidden from them.",
        "",
        "To try a zip locally (no Docker needed; advpy must be installed in the Python that "
        "runs otter): `otter run -a <slug>-autograder.zip SUBMISSION.ipynb`.",
        "",
        "Canvas: link the Gradescope course to Canvas and post the grades from Gradescope "
        "(*Post Grades to Canvas*), or grade a Canvas download with "
        "`advpy grade DOWNLOAD.zip -a <slug> --format csv -o grades.csv` and import the CSV "
        "in Canvas's gradebook.",
        "",
    ]
    return "\n".join(lines)


def export(target: Path | str, *, slugs: list[str] | None = None) -> list[Path]:
    """Write ``<slug>-autograder.zip`` for each assignment (all by default) and
    ``GRADESCOPE.md`` under ``target``; return the zips' paths."""
    target = Path(target)
    slugs = list(slugs or assignments.available())
    for slug in slugs:
        assignments.get(slug)  # an unknown slug fails before anything is written
    target.mkdir(parents=True, exist_ok=True)
    zips = [build_zip(slug, target / f"{slug}-autograder.zip") for slug in slugs]
    (target / "GRADESCOPE.md").write_text(guide(slugs), encoding="utf-8")
    return zips
