"""What a submission is: a .py, an .ipynb, a folder holding one, or a .zip.

A folder of several submissions (or a zip of one, as an LMS downloads it) is a
class. This module finds the submissions, tells which assignment and student
each belongs to, and writes each one as a real module file for the student
process to import.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder import assignments

SOURCE_SUFFIXES = (".ipynb", ".py")
MAX_SOURCE_BYTES = 5 * 1024 * 1024
MAX_ZIP_BYTES = 200 * 1024 * 1024
# Canvas names each file <name>[_late]_<user id>_<submission id>_<original name>.
CANVAS = re.compile(r"^(?P<name>[a-z0-9-]+?)(?:_late)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$")
MAGIC = re.compile(r"^\s*(?:[%!]|\w+\s*=\s*[%!])")


class SubmissionError(Exception):
    """The submission cannot be graded; the message says why and what to do."""


@dataclass
class Submission:
    """One student's work for one assignment."""

    path: Path
    assignment: str | None
    student: str | None = None
    source: Path | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def display(self) -> str:
        return self.source.name if self.source else self.path.name


def infer_assignment(path: Path) -> str | None:
    """The slug that the file or folder name mentions, if exactly one."""
    name = path.name.lower()
    found = [slug for slug in assignments.SLUGS if slug in name]
    return found[0] if len(found) == 1 else None


def _candidates(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix in SOURCE_SUFFIXES and not p.name.startswith(".")
                  and not p.name.startswith("test_"))


def _pick_source(folder: Path, slug: str | None) -> Path | None:
    """The file in a student's folder that holds the work: the one named for
    the assignment, a notebook before a module."""
    files = _candidates(folder)
    if not files:
        nested = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
        return _pick_source(nested[0], slug) if len(nested) == 1 else None
    for suffix in SOURCE_SUFFIXES:
        named = [p for p in files if p.suffix == suffix and slug and slug in p.stem.lower()]
        if named:
            return named[0]
    for suffix in SOURCE_SUFFIXES:
        typed = [p for p in files if p.suffix == suffix]
        if len(typed) == 1:
            return typed[0]
    return files[0]


def _student_from_name(name: str, slug: str | None) -> str | None:
    match = CANVAS.match(name.lower())
    if match:
        return match["uid"]
    stem = name.rsplit(".", 1)[0]
    if slug:
        stem = re.sub(rf"[_\-. ]*{slug}[_\-. ]*", "", stem, flags=re.I)
    return stem or None


def _gradescope_students(folder: Path) -> dict[str, str]:
    """Gradescope's bulk export names folders submission_<id> and maps them to
    students in submission_metadata.yml; we read the e-mail or the SID."""
    meta = folder / "submission_metadata.yml"
    if not meta.is_file():
        return {}
    students, current = {}, None
    for line in meta.read_text(errors="replace").splitlines():
        head = re.match(r"^(submission_\d+):", line)
        if head:
            current = head.group(1)
            continue
        field_ = re.match(r"^\s*:(email|sid):\s*(\S+)", line)
        if current and field_ and current not in students:
            students[current] = field_.group(2).strip("'\"")
    return students


def extract_zip(path: Path, into: Path) -> Path:
    """Unpack an LMS download safely: no paths outside ``into``, bounded size."""
    try:
        with zipfile.ZipFile(path) as archive:
            size = sum(info.file_size for info in archive.infolist())
            if size > MAX_ZIP_BYTES:
                raise SubmissionError(f"{path.name} unpacks to {size} bytes, over the limit")
            for info in archive.infolist():
                target = (into / info.filename).resolve()
                if not str(target).startswith(str(into.resolve())):
                    raise SubmissionError(f"{path.name} holds a path outside the archive: "
                                          f"{info.filename}")
            archive.extractall(into)
    except zipfile.BadZipFile as exc:
        raise SubmissionError(f"{path.name} is not a valid zip file ({exc})") from exc
    for junk in into.rglob("__MACOSX"):
        shutil.rmtree(junk, ignore_errors=True)
    return into


def discover(paths: list[Path], assignment: str | None, scratch: Path) -> list[Submission]:
    """Every submission under ``paths``, one a student."""
    found: list[Submission] = []
    for path in paths:
        path = Path(path)
        slug = assignment or infer_assignment(path)
        if not path.exists():
            found.append(Submission(path, slug, problems=[f"{path}: no such file or folder"]))
        elif path.is_file() and path.suffix == ".zip":
            target = Path(tempfile.mkdtemp(prefix="zip-", dir=scratch))
            try:
                extract_zip(path, target)
            except SubmissionError as exc:
                found.append(Submission(path, slug, problems=[str(exc)]))
                continue
            inner = discover([target], slug, scratch)
            for sub in inner:
                if sub.path == target:
                    sub.path = path
            found.extend(inner)
        elif path.is_file():
            found.append(Submission(path, slug, source=path))
        elif _is_single(path, slug):
            found.append(Submission(path, slug, source=_pick_source(path, slug)))
        else:
            names = _gradescope_students(path)
            for entry in sorted(path.iterdir()):
                if entry.name.startswith((".", "__")) or entry.name.endswith(".yml"):
                    continue
                if entry.is_file() and entry.suffix not in SOURCE_SUFFIXES + (".zip",):
                    continue
                inner_slug = assignment or infer_assignment(entry) or slug
                for sub in discover([entry], inner_slug, scratch):
                    sub.student = names.get(entry.name) or sub.student or _student_from_name(
                        entry.name, sub.assignment)
                    found.append(sub)
    for sub in found:
        if sub.assignment is None and sub.source is not None:
            sub.assignment = infer_assignment(sub.source)
        if sub.source is None and not sub.problems:
            sub.problems.append(f"{sub.path}: holds no .py or .ipynb file to grade")
        if sub.assignment is None and not sub.problems:
            sub.problems.append(
                f"{sub.path}: cannot tell which assignment this is; name the file after it "
                f"({', '.join(assignments.SLUGS)}) or pass -a SLUG")
    return found


def _is_single(folder: Path, slug: str | None) -> bool:
    """A folder is one submission if it holds the work directly (a file named
    for the assignment, or a single source file)."""
    files = _candidates(folder)
    if slug and any(slug in p.stem.lower() for p in files):
        return len([p for p in files if slug in p.stem.lower()]) <= 2 and not any(
            CANVAS.match(p.name.lower()) for p in files)
    subdirs = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
    return len(files) == 1 and not subdirs


def notebook_to_module(path: Path) -> str:
    """The notebook's code cells, in order, as a module that runs them one by
    one (a failing cell is reported and the rest still run). IPython magics and
    shell lines are replaced by ``pass`` so that blocks stay valid."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        cells = raw["cells"]
        if not isinstance(cells, list):
            raise TypeError("cells is not a list")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise SubmissionError(
            f"{path.name} is not valid notebook JSON ({type(exc).__name__}: {exc}); "
            "download it again from Jupyter (File > Download) and resubmit") from exc
    code_cells = []
    number = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        if source.lstrip().startswith("%%"):
            continue
        lines = [re.match(r"^\s*", line).group(0) + "pass" if MAGIC.match(line) else line
                 for line in source.splitlines()]
        code_cells.append((number, "\n".join(lines)))
    return (
        f'"""Made by advpy from {path.name}: its code cells, in order, as one module."""\n'
        "from autograder.probes.notebook import run_cells as __advpy_run_cells__\n\n"
        f"__advpy_cell_errors__ = __advpy_run_cells__(globals(), __file__, {code_cells!r})\n"
    )


def prepare(sub: Submission, workdir: Path) -> Path:
    """Write the submission as ``workdir/<slug>.py`` (with its sibling files),
    the real module file the student process imports."""
    assert sub.source is not None and sub.assignment is not None
    if sub.source.stat().st_size > MAX_SOURCE_BYTES:
        raise SubmissionError(f"{sub.source.name} is larger than "
                              f"{MAX_SOURCE_BYTES // 1024 // 1024} MB")
    workdir.mkdir(parents=True, exist_ok=True)
    if sub.source.parent != sub.path.parent or sub.path.is_dir():
        for sibling in sub.source.parent.iterdir():
            # A symlink could name any file the grader can read (a hidden
            # test): only the student's own regular files go in.
            if sibling.is_symlink():
                continue
            if sibling.is_file() and sibling.suffix == ".py" and sibling != sub.source:
                shutil.copy(sibling, workdir / sibling.name)
    target = workdir / f"{sub.assignment}.py"
    if sub.source.suffix == ".ipynb":
        target.write_text(notebook_to_module(sub.source), encoding="utf-8")
    else:
        shutil.copy(sub.source, target)
    return target
