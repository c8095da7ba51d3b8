"""The student package, ``advpy-student``: a wheel written here, byte by byte.

It holds what ``advpy check FILE`` and a notebook's ``grader.check("qN")``
need (the engine, the sandbox, the probes, the public judges, each
assignment's manifest and public tests) and nothing of the hidden tests, the
demo class, the solutions or the instructor's tools. ``advpy release`` writes
it into the bundle, and its leak check opens it like any other file.

The wheel is written with :mod:`zipfile` following the wheel format (PEP 427,
PEP 491: ``*.dist-info/METADATA``, ``WHEEL``, ``entry_points.txt``, ``RECORD``
with each file's sha256), so that an instructor's machine needs no build
backend and no network to make it. Fixed timestamps and sorted entries: the
same course gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import autograder
from autograder import assignments

DISTRIBUTION = "advpy-student"
# What the package's modules import at top level, with the bounds of
# pyproject.toml (tests/test_packaging.py checks both). Left out: matplotlib
# (a class report) and nbgrader (an instructor's export), never a student's.
REQUIRES = (
    "pytest>=7.4",
    "nbformat>=5.9",
    "rich>=13",
    "otter-grader>=5",
    "pydantic>=2.5",
    "annotated-types>=0.6",
    "typing_extensions>=4.6",
    "PyYAML>=6",
    "tomli>=1.1; python_version < '3.11'",
)
# Parts of the package a student never gets: hidden tests, the demo class, the
# course as an instructor's install carries it (solutions included; ours is
# added below), and the tools that make releases and exports for other
# graders (otter, nbgrader), of which a student needs only what the test
# cells of the notebooks import (otter's tests/qN.py, nbgrader's check cells);
# and a class's grading (its outputs, Dask), which the CLI imports only for it.
LEFT_OUT = ("hidden/", "demo/", f"{assignments.BUNDLED}/", "exporters/", "release.py",
            "student_wheel.py", "classroom.py", "cluster.py", "report.py")
KEPT = ("exporters/__init__.py", "exporters/otter_checks.py", "exporters/nbgrader_cells.py")
# Present only in this package: the CLI refuses what it cannot do (grade,
# release, export) with this sentence instead of a traceback.
MARKER = "autograder/_student.py"
MARKER_SOURCE = '''"""Present only in the student package, advpy-student (written by
autograder/student_wheel.py): it has no hidden tests and cannot grade."""

REFUSAL = ("this is the student package advpy-student: it has no hidden tests; "
           "`advpy check FILE` runs the public checks")
'''
SUMMARY = "The public checks of the advpy course: advpy check FILE, and grader.check in notebooks"
DESCRIPTION = """# advpy-student

The student side of the advpy course: `advpy check FILE` runs an
assignment's public checks on your work (a `.py` file or a notebook), and
`grader.check("q1")` in the course notebooks runs those of one question.
The grader also runs hidden tests, which this package does not hold.

Install it from the file your course gave you:

    pip install {wheel}

It is the instructor's package `advpy` without what grades: do not install
both in one environment (they share the `autograder` package and the `advpy`
command).
"""
# 1980-01-01, the earliest time a zip can hold: the same bytes on every build.
EPOCH = (1980, 1, 1, 0, 0, 0)


def wheel_name(version: str | None = None) -> str:
    version = version or autograder.__version__
    return f"{DISTRIBUTION.replace('-', '_')}-{version}-py3-none-any.whl"


def _left_out(rel: str) -> bool:
    """Whether a file of the package (``rel``: its path inside it) stays out."""
    if "__pycache__" in rel.split("/") or rel.endswith((".pyc", ".pyo")):
        return True
    return rel not in KEPT and any(rel == part or part.endswith("/") and rel.startswith(part)
                                   for part in LEFT_OUT)


def package_files() -> dict[str, bytes]:
    """The wheel's files outside its ``.dist-info``: name in the wheel, bytes."""
    files: dict[str, bytes] = {}
    for path in sorted(assignments.PACKAGE.rglob("*")):
        rel = path.relative_to(assignments.PACKAGE).as_posix()
        if path.is_file() and not _left_out(rel):
            files[f"autograder/{rel}"] = path.read_bytes()
    files[MARKER] = MARKER_SOURCE.encode()
    for slug in assignments.slugs():
        assignment = assignments.get(slug)
        for source in (assignment.student_dir / assignments.MANIFEST, assignment.public_tests):
            name = f"autograder/{assignments.BUNDLED}/assignments/{slug}/{source.name}"
            files[name] = source.read_bytes()
    return files


def _metadata(version: str) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {DISTRIBUTION}", f"Version: {version}",
             f"Summary: {SUMMARY}", "Requires-Python: >=3.10",
             *(f"Requires-Dist: {requirement}" for requirement in REQUIRES),
             "Description-Content-Type: text/markdown"]
    return "\n".join(lines) + "\n\n" + DESCRIPTION.format(wheel=wheel_name(version))


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def wheel_files(version: str | None = None) -> dict[str, bytes]:
    """Every file of the wheel, in the order it is written (RECORD last)."""
    version = version or autograder.__version__
    info = f"{DISTRIBUTION.replace('-', '_')}-{version}.dist-info"
    files = dict(sorted(package_files().items()))
    files[f"{info}/METADATA"] = _metadata(version).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: advpy (autograder.student_wheel)\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\nadvpy = autograder.cli:main\n"
    files[f"{info}/top_level.txt"] = b"autograder\n"
    record = [_record_line(name, data) for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    return files


def build_student_wheel(target: Path | str) -> Path:
    """Write the student wheel into the folder ``target``; its path."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    path = target / wheel_name()
    partial = path.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w") as wheel:
        for name, data in wheel_files().items():
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data, compresslevel=9)
    partial.replace(path)  # never a half-written wheel under the real name
    return path
