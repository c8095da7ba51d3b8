"""What a submission is, and how a whole class is found in what an LMS downloads.

A submission is a .py, an .ipynb, a folder holding one, or a .zip of those.
``discover_class`` walks the paths it is given (files, folders, zips, zips in
zips) and returns every submission, one a student, and every file it does not
grade with the reason (``Discovery.skipped``): no file is dropped in silence.
Only debris of operating systems and tools is passed over without a word:
``__MACOSX``, ``__pycache__``, ``.DS_Store``, ``._*``, ``Thumbs.db``,
``desktop.ini``. Other hidden files and folders, symbolic links (never
followed) and zips nested deeper than ``MAX_NESTED_ZIPS`` are listed.

The rules, in the order they apply to a folder:

1. Gradescope's export: a folder holding ``submission_metadata.yml``. Each
   entry it names (``submission_<id>/``, or a file) is the work of its
   ``:submitters:``: ``name`` is ``:name:``, ``lms_id`` is ``:sid:`` (else
   ``:email:``), and that id is the student. The entry is one submission
   whatever it holds. A group submission is graded once for each member. The
   export has no late flag (``:created_at:`` but no due date), so ``late``
   stays False. An entry the metadata lists but the export lacks is a
   submission with a problem; entries it does not list follow rule 3.
2. Canvas's "download submissions": files named
   ``<name>[_LATE]_<user id>_<submission id>_<file name>`` (``LATE`` or
   ``late``). All the files of one user id are one submission: the student is
   the user id (the key Canvas's gradebook is imported by, and stable where
   names are not), ``name`` the name part, ``lms_id`` the user id, ``late``
   the marker. A zip among them is opened; its files are candidates too.
3. Any other folder is one student's work or a class.
   - It is one student's work when the .py and .ipynb files directly in it
     that are named for the assignment (its slug in the name, test files
     aside) have at most one owner, or when none is named for it and it holds
     at most one such file and no subfolder or zip with any. Everything under
     it, subfolders and zips included, is that student's.
   - Otherwise it is a class. Each owner's named files are one submission
     (the student: the owner); each subfolder and each zip is one student's
     (the student: its name, or the owner in its name), unless it is a class
     itself. A student's folder whose only work is in one subfolder or zip
     passes its student on to it. Files not named for the assignment are a
     student each (named by the file) only where nothing is named for it;
     otherwise they are listed as skipped, as are test files and files of
     other types.

The owner of a file named for the assignment is the text before the slug
(``alice_generators.py``: alice), else the text after it
(``generators_alice.py``). Copy and version marks (``-1``, `` (2)``, ``v2``,
``final``, ``old``...) own nothing: ``generators.py`` and
``generators-1.py`` are one student's two files.

Which of one student's files is graded, by the first rule that tells two
apart: named for the assignment before not; directly in the student's folder
before in a subfolder or zip; a notebook before a module; the latest upload
(Canvas's submission id, then the copy number ``-1``, ``-2`` that Canvas and
browsers add to a repeated upload); then by name. The graded submission's
``notes`` say which file was graded and which were not, and each of those is
in ``skipped`` with its reason.

A path named on the command line is one student's (or a class): its student
is unknown (None) unless its name says it (Canvas, an owner in the name).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import tempfile
import textwrap
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

import yaml

from autograder import assignments

SOURCE_SUFFIXES = (".ipynb", ".py")
MAX_SOURCE_BYTES = 5 * 1024 * 1024
MAX_ZIP_BYTES = 200 * 1024 * 1024
MAX_NESTED_ZIPS = 3  # a class zip, a student's zip, one zip inside it; deeper ones are listed
# Canvas names each file <name>[_LATE]_<user id>_<submission id>_<original name>.
CANVAS = re.compile(r"^(?P<name>[^_]+)_(?:(?P<late>late)_)?(?P<uid>\d+)_(?P<sid>\d+)_"
                    r"(?P<file>.+)$", re.IGNORECASE)
GRADESCOPE_METADATA = "submission_metadata.yml"
JUNK = frozenset({"__MACOSX", "__pycache__", ".DS_Store", "Thumbs.db", "desktop.ini"})
SEPARATORS = "_-. "
COPY = re.compile(r"(?:-(\d+)|\s*\((\d+)\))$")  # generators-1, generators (2)
# Words in a file name that say which version it is, not whose it is.
MARKS = re.compile(r"v?\d+|copy|of|final|old|new|backup|draft|orig|original|my|latest",
                   re.IGNORECASE)


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
    name: str | None = None  # as the LMS download names the student (see SubmissionResult)
    lms_id: str | None = None
    late: bool = False
    notes: list[str] = field(default_factory=list)
    # The graded file (or the zip that could not be opened) where the
    # instructor finds it: inside a zip, the zip's path / the member's path.
    origin: Path | None = None
    # (k, n): only the k-th of n parts of the assignment's tests, graded beside
    # the other parts in other jobs (engine.part_of; api merges the parts).
    part: tuple[int, int] | None = None

    @property
    def display(self) -> str:
        return self.source.name if self.source else self.path.name


@dataclass
class Skipped:
    """A file (or a hidden folder, a link) that is not graded, and why."""

    path: Path  # where the instructor finds it (inside a zip: the zip's path / the member's)
    reason: str  # begins with the path, relative to the folder holding the path given


@dataclass
class Discovery:
    """All that a class's paths hold: the submissions and the files not graded."""

    submissions: list[Submission]
    skipped: list[Skipped]


def infer_assignment(path: Path) -> str | None:
    """The slug that the file or folder name mentions, if exactly one."""
    name = path.name.lower()
    found = [slug for slug in assignments.slugs() if slug in name]
    return found[0] if len(found) == 1 else None


def extract_zip(path: Path, into: Path) -> Path:
    """Unpack an LMS download safely: no paths outside ``into``, bounded size."""
    root = into.resolve()
    try:
        with zipfile.ZipFile(path) as archive:
            size = sum(info.file_size for info in archive.infolist())
            if size > MAX_ZIP_BYTES:
                raise SubmissionError(f"{path.name} unpacks to {size} bytes, over the limit")
            for info in archive.infolist():
                target = (into / info.filename).resolve()
                if target != root and root not in target.parents:
                    raise SubmissionError(f"{path.name} holds a path outside the archive: "
                                          f"{info.filename}")
            archive.extractall(into)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as exc:
        raise SubmissionError(f"{path.name} is not a valid zip file ({exc})") from exc
    for junk in into.rglob("__MACOSX"):
        shutil.rmtree(junk, ignore_errors=True)
    return into


def discover_class(paths: list[Path], assignment: str | None, scratch: Path) -> Discovery:
    """Every submission under ``paths`` (one a student) and every file not
    graded, with the reason; zips are unpacked into ``scratch``, which must
    outlive the grading. The rules are in this module's docstring."""
    walk = _Walk(assignment, Path(scratch))
    found: list[Submission] = []
    for path in paths:
        for sub in walk.top(Path(path)):
            where = walk.label(sub.source or sub.path)  # never a scratch path: it is shown
            if sub.assignment is None and sub.source is not None:
                sub.assignment = infer_assignment(sub.source)
            if sub.source is None and not sub.problems:
                sub.problems.append(f"{where}: holds no .py or .ipynb file to grade")
            if sub.assignment is None and not sub.problems:
                sub.problems.append(
                    f"{where}: cannot tell which assignment this is; name the file after it "
                    f"({', '.join(assignments.slugs())}) or pass -a SLUG")
            found.append(sub)
    walk.skipped.sort(key=lambda s: str(s.path))
    return Discovery(found, walk.skipped)


def discover(paths: list[Path], assignment: str | None, scratch: Path) -> list[Submission]:
    """Every submission under ``paths``, one a student (see ``discover_class``)."""
    return discover_class(paths, assignment, scratch).submissions


@dataclass
class _Who:
    """Whose work a unit is, as far as the layout tells."""

    student: str | None = None
    name: str | None = None
    lms_id: str | None = None
    late: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class _File:
    """A file of one student's work, with what decides whether it is the graded one."""

    path: Path  # on disk (inside a zip: where it was unpacked)
    name: str  # its own name (a Canvas file's original name, without the prefix)
    depth: int = 0  # 0 directly in the student's folder; one more a subfolder or zip
    member: Path | None = None  # the entry it came in (itself, or the zip holding it)
    upload: int = 0  # Canvas's submission id


def _copy_number(stem: str) -> int:
    match = COPY.search(stem)
    return int(match.group(1) or match.group(2)) if match else 0


def _marks_only(text: str) -> bool:
    return all(MARKS.fullmatch(word) for word in re.split(r"[_\-. ()]+", text) if word)


def _owner(stem: str, slug: str) -> str:
    """Whose file this is, from a name that holds the slug ("" when it does not say)."""
    stem = COPY.sub("", stem)
    at = stem.lower().find(slug)
    if at < 0 or not slug:
        return ""
    for part in (stem[:at], stem[at + len(slug):]):
        part = part.strip(SEPARATORS)
        if part and not _marks_only(part):
            return part
    return ""


def _is_test(name: str) -> bool:
    stem = name.rsplit(".", 1)[0].lower()
    return stem.startswith("test_") or stem.endswith("_test")


def _junk(name: str) -> bool:
    return name in JUNK or name.startswith("._")


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _gradescope_submitters(meta: Path) -> dict[str, list[_Who]]:
    """Who handed in each entry of a Gradescope export, from its
    ``submission_metadata.yml`` (Ruby symbols as keys: ``:submitters:``)."""
    try:
        data = yaml.safe_load(meta.read_text(encoding="utf-8", errors="replace"))
    except (yaml.YAMLError, OSError) as exc:
        raise SubmissionError(f"cannot be read ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''})") from exc
    if not isinstance(data, dict):
        raise SubmissionError("is not Gradescope's format (a mapping from each submission "
                              "to its :submitters:)")
    found: dict[str, list[_Who]] = {}
    for key, record in data.items():
        people = record.get(":submitters") if isinstance(record, dict) else None
        whos = []
        for person in people if isinstance(people, list) else []:
            if not isinstance(person, dict):
                continue
            name = _text(person.get(":name"))
            lms_id = _text(person.get(":sid")) or _text(person.get(":email"))
            whos.append(_Who(student=lms_id or name, name=name, lms_id=lms_id))
        found[str(key)] = whos
    return found


class _Walk:
    """One walk over the paths of a class: the submissions each call returns,
    the files not graded in ``skipped``."""

    def __init__(self, assignment: str | None, scratch: Path) -> None:
        self.assignment = assignment
        self.scratch = scratch
        self.skipped: list[Skipped] = []
        self.unpacked: dict[Path, Path] = {}  # where a zip was unpacked -> where the zip is shown
        self.base = Path()  # labels are relative to the folder holding the path given

    # -- where things are, as the instructor sees them -------------------------
    def shown(self, path: Path) -> Path:
        for folder, archive in self.unpacked.items():
            if path == folder or folder in path.parents:
                return archive / path.relative_to(folder)
        return path

    def label(self, path: Path) -> str:
        shown = self.shown(path)
        try:
            return shown.relative_to(self.base).as_posix()
        except ValueError:
            return shown.as_posix()

    def skip(self, path: Path, why: str) -> None:
        self.skipped.append(Skipped(self.shown(path), f"{self.label(path)}: {why}"))

    def slug_for(self, path: Path, inherited: str | None) -> str | None:
        return self.assignment or infer_assignment(path) or inherited

    def named(self, name: str, slug: str | None) -> str | None:
        """The slug a file name is named for (``slug`` itself when it is known)."""
        if slug:
            return slug if slug in name.lower() else None
        return infer_assignment(Path(name))

    def name_who(self, entry: Path, slug: str | None) -> _Who:
        """A class member's identity from its folder or zip name."""
        stem = entry.name if entry.is_dir() else entry.stem
        named = self.named(stem, slug)
        return _Who(student=(_owner(stem, named) if named else stem) or None)

    def submission(self, path: Path, slug: str | None, who: _Who | None,
                   source: Path | None = None, problems: list[str] | None = None,
                   origin: Path | None = None) -> Submission:
        who = who or _Who()
        return Submission(path, slug, who.student, source, list(problems or []), name=who.name,
                          lms_id=who.lms_id, late=who.late, notes=list(who.notes),
                          origin=self.shown(source) if source else origin)

    # -- reading folders and zips ----------------------------------------------
    def entries(self, folder: Path) -> list[Path]:
        """The files and folders in ``folder`` worth a look; the rest listed or passed over."""
        try:
            children = sorted(folder.iterdir(), key=lambda p: p.name)
        except OSError as exc:
            self.skip(folder, f"cannot be read ({exc.strerror or exc}), not graded")
            return []
        kept = []
        for entry in children:
            if _junk(entry.name):
                continue
            if entry.is_symlink():
                self.skip(entry, "a symbolic link, not followed; not graded")
            elif entry.name.startswith("."):
                kind = "folder" if entry.is_dir() else "file"
                self.skip(entry, f"a hidden {kind} (its name starts with a dot), not graded")
            elif entry.is_dir() or entry.is_file():
                kept.append(entry)
            else:
                self.skip(entry, "not a regular file or folder, not graded")
        return kept

    def unpack(self, archive: Path, zips: int) -> Path:
        """Where ``archive`` is unpacked; SubmissionError if it cannot be."""
        if zips >= MAX_NESTED_ZIPS:
            raise SubmissionError(f"{archive.name} is a zip inside {zips} zips; "
                                  "the grader opens no deeper ones")
        target = Path(tempfile.mkdtemp(prefix="zip-", dir=self.scratch))
        self.unpacked[target] = self.shown(archive)
        extract_zip(archive, target)
        return target

    def has_work(self, entry: Path) -> bool:
        """Whether a folder holds a .py, .ipynb or .zip anywhere (a zip counts as work)."""
        if entry.is_file():
            return True
        for _root, dirs, files in os.walk(entry):
            dirs[:] = [d for d in dirs if not _junk(d) and not d.startswith(".")]
            if any(Path(f).suffix in (*SOURCE_SUFFIXES, ".zip") for f in files
                   if not _junk(f) and not f.startswith(".")):
                return True
        return False

    def gather(self, entry: Path, depth: int, member: Path, zips: int,
               into: list[_File]) -> None:
        """Every file of one student's work under ``entry`` (zips unpacked)."""
        if entry.is_dir():
            for child in self.entries(entry):
                self.gather(child, depth + 1, member, zips, into)
        elif entry.suffix.lower() == ".zip":
            try:
                folder = self.unpack(entry, zips)
            except SubmissionError as exc:
                self.skip(entry, f"{exc}; not graded")
                return
            for child in self.entries(folder):
                self.gather(child, depth + 1, member, zips + 1, into)
        else:
            into.append(_File(entry, entry.name, depth, member))

    # -- the paths given -------------------------------------------------------
    def top(self, path: Path) -> list[Submission]:
        self.base = path.parent
        slug = self.slug_for(path, None)
        if not path.exists():
            return [Submission(path, slug, problems=[f"{path}: no such file or folder"])]
        if path.is_dir():
            return self.folder(path, slug, None, zips=0)
        if path.suffix.lower() == ".zip":
            return self.archive(path, slug, None, zips=0)
        canvas = CANVAS.match(path.name)
        if canvas:
            return self.canvas([(path, canvas)], slug, zips=0)
        if path.suffix not in SOURCE_SUFFIXES:
            return [Submission(path, slug, problems=[
                f"{path.name}: not a .py, .ipynb or .zip file, so not a submission"])]
        return self.one([_File(path, path.name, 0, path)], slug, None, at=None)

    def archive(self, path: Path, slug: str | None, who: _Who | None, zips: int,
                forced: bool = False) -> list[Submission]:
        """A zip that is a student's work or a class."""
        try:
            folder = self.unpack(path, zips)
        except SubmissionError as exc:
            return [self.submission(path, slug, who, problems=[str(exc)],
                                    origin=self.shown(path))]
        subs = self.folder(folder, slug, who, zips=zips + 1, forced=forced)
        for sub in subs:
            if sub.path == folder:
                sub.path = path  # the student's own work: the zip is what they handed in
        return subs

    def folder(self, folder: Path, slug: str | None, who: _Who | None, zips: int,
               forced: bool = False) -> list[Submission]:
        """A folder that is one student's work (``forced``: it must be) or a class."""
        entries = self.entries(folder)
        if forced:
            return self.student_folder(folder, entries, slug, who, zips)
        meta = next((e for e in entries if e.name == GRADESCOPE_METADATA and e.is_file()), None)
        if meta is not None:
            return self.gradescope(folder, meta, entries, slug, zips)
        files = [e for e in entries if e.is_file()]
        if any(CANVAS.match(f.name) for f in files):
            return self.klass(folder, entries, slug, who, zips)
        loose = [f for f in files if f.suffix in SOURCE_SUFFIXES and not _is_test(f.name)]
        named = [(f, slug_) for f in loose if (slug_ := self.named(f.stem, slug))]
        owners = {_owner(f.stem, slug_).casefold() for f, slug_ in named} - {""}
        others = [e for e in entries if e.is_dir() or e.suffix.lower() == ".zip"]
        if (named and len(owners) <= 1) or (
                not named and len(loose) <= 1 and not any(self.has_work(e) for e in others)):
            return self.student_folder(folder, entries, slug, who, zips)
        return self.klass(folder, entries, slug, who, zips)

    def student_folder(self, folder: Path, entries: list[Path], slug: str | None,
                       who: _Who | None, zips: int) -> list[Submission]:
        files: list[_File] = []
        for entry in entries:
            self.gather(entry, 0, entry, zips, files)
        return self.one(files, slug, who, at=folder)

    def one(self, files: list[_File], slug: str | None, who: _Who | None,
            at: Path | None) -> list[Submission]:
        """One student's submission from their files: the graded one picked,
        the rest listed. ``at`` is the student's folder (None: the graded
        file, or the zip it came in, is the submission)."""
        sources: list[tuple[tuple, _File]] = []
        tests = []
        for file in files:
            if file.path.suffix not in SOURCE_SUFFIXES:
                self.skip(file.path, "not a .py or .ipynb file, not graded")
            elif _is_test(file.name):
                tests.append(file.name)
                self.skip(file.path, "a test file (test_*.py, *_test.py), not graded")
            else:
                stem = file.name.rsplit(".", 1)[0]
                key = (self.named(stem, slug) is None, file.depth,
                       SOURCE_SUFFIXES.index(file.path.suffix), -file.upload,
                       -_copy_number(stem), file.name.lower(), str(file.path))
                sources.append((key, file))
        if not sources:
            unit = at or files[0].member or files[0].path
            besides = f" (test files are not graded: {', '.join(tests)})" if tests else ""
            return [self.submission(unit, slug, who, problems=[
                f"{self.label(unit)}: holds no .py or .ipynb file to grade{besides}"])]
        sources.sort(key=lambda pair: pair[0])
        (best_key, best), rest = sources[0], sources[1:]
        if who is None:  # a path given on its own: its name may say whose it is
            stem = best.name.rsplit(".", 1)[0]
            named = self.named(stem, slug)
            who = _Who(student=(_owner(stem, named) or None) if named else None)
        not_graded = []
        for key, other in rest:
            why = self.why(best_key, key, slug)
            not_graded.append(f"{self.label(other.path)} ({why})")
            self.skip(other.path, f"{self.label(best.path)} was graded instead ({why})")
        sub = self.submission(at or best.member or best.path, slug, who, source=best.path)
        if not_graded:
            sub.notes.append(f"Graded {self.label(best.path)}; not graded: "
                             f"{'; '.join(not_graded)}.")
        return [sub]

    @staticmethod
    def why(best: tuple, other: tuple, slug: str | None) -> str:
        """Why the file with key ``other`` lost to the one with key ``best``."""
        reasons = [
            f"not named for {slug or 'the assignment'}",
            "in a subfolder or zip: a file directly in the student's folder comes first",
            "a notebook is graded before a module",
            "an earlier Canvas submission",
            "an earlier upload: Canvas and browsers add -1, -2... to a repeated one",
        ]
        for index, reason in enumerate(reasons):
            if best[index] != other[index]:
                return reason
        return "both look like the work: the first by name is graded; rename the other"

    # -- a class and the LMS layouts -------------------------------------------
    def klass(self, folder: Path, entries: list[Path], slug: str | None, who: _Who | None,
              zips: int) -> list[Submission]:
        """A folder of several students' work: one unit each, in name order."""
        if slug is None:
            # The class's assignment, if its file names agree on one: a student
            # with nothing gradable still gets its points to lose.
            named = {infer_assignment(Path(match["file"] if match else e.name))
                     for e in entries if e.is_file()
                     for match in [CANVAS.match(e.name)]} - {None}
            slug = named.pop() if len(named) == 1 else None
        units: list[tuple[str, Callable[[], list[Submission]]]] = []
        canvas: dict[str, list[tuple[Path, re.Match[str]]]] = {}
        by_owner: dict[str, list[Path]] = {}
        unnamed: list[Path] = []
        for entry in entries:
            match = CANVAS.match(entry.name) if entry.is_file() else None
            if match:
                canvas.setdefault(match["uid"], []).append((entry, match))
            elif entry.is_file() and entry.suffix in SOURCE_SUFFIXES:
                named = self.named(entry.stem, slug)
                if _is_test(entry.name):
                    self.skip(entry, "a test file (test_*.py, *_test.py), not graded")
                elif named:
                    by_owner.setdefault(_owner(entry.stem, named).casefold(), []).append(entry)
                else:
                    unnamed.append(entry)
            elif entry.is_file() and entry.suffix.lower() != ".zip":
                self.skip(entry, "not a .py or .ipynb file, not graded")
        for group in canvas.values():
            units.append((group[0][0].name, lambda g=group: self.canvas(g, slug, zips)))
        for group in by_owner.values():
            owner = _owner(group[0].stem, self.named(group[0].stem, slug) or "")
            person = _Who(student=owner or None)
            if not owner:
                person.notes.append("The file name does not say whose work this is.")
            files = [_File(f, f.name, 0, f) for f in group]
            units.append((group[0].name, lambda f=files, p=person: self.one(f, slug, p, at=None)))
        for entry in unnamed:
            if canvas or by_owner:
                self.skip(entry, f"not named for {slug or 'an assignment'}: in a class folder "
                                 f"only files named for it are graded, one owner each (rename "
                                 f"it <student>_{slug or '<assignment>'}{entry.suffix})")
            else:
                person = _Who(student=entry.stem)
                files = [_File(entry, entry.name, 0, entry)]
                units.append((entry.name, lambda f=files, p=person: self.one(f, slug, p, None)))
        members = [e for e in entries if e.is_dir() or (
            e.is_file() and e.suffix.lower() == ".zip" and not CANVAS.match(e.name))]
        # A folder whose only work is one subfolder or zip: that is the same student's.
        passes_on = (who is not None and not canvas and not by_owner and not unnamed
                     and sum(self.has_work(e) for e in members) == 1)
        for entry in members:
            inner = self.slug_for(entry, slug)
            person = who if passes_on and self.has_work(entry) else self.name_who(entry, inner)
            if entry.is_dir():
                units.append((entry.name, lambda e=entry, s=inner, p=person:
                              self.folder(e, s, p, zips)))
            else:
                units.append((entry.name, lambda e=entry, s=inner, p=person:
                              self.archive(e, s, p, zips)))
        found: list[Submission] = []
        for _, make in sorted(units, key=lambda unit: unit[0]):
            found.extend(make())
        return found

    def canvas(self, group: list[tuple[Path, re.Match[str]]], slug: str | None,
               zips: int) -> list[Submission]:
        """One Canvas student's files (one user id, each with its name's match): one
        submission."""
        first = group[0][1]
        who = _Who(student=first["uid"], name=first["name"], lms_id=first["uid"],
                   late=any(match["late"] for _, match in group))
        files: list[_File] = []
        for path, match in group:
            slug = slug or infer_assignment(Path(match["file"]))
            if path.suffix.lower() == ".zip":
                gathered: list[_File] = []
                self.gather(path, 0, path, zips, gathered)
                for file in gathered:
                    file.upload = int(match["sid"])
                files.extend(gathered)
            else:
                files.append(_File(path, match["file"], 0, path, int(match["sid"])))
        return self.one(files, slug, who, at=None)

    def gradescope(self, folder: Path, meta: Path, entries: list[Path], slug: str | None,
                   zips: int) -> list[Submission]:
        """Gradescope's export: each entry that the metadata names is its submitters'."""
        rest = [e for e in entries if e != meta]
        try:
            records = _gradescope_submitters(meta)
        except SubmissionError as exc:
            self.skip(meta, f"Gradescope's list of submitters {exc}; the students are named "
                            "by their folders instead")
            return self.klass(folder, rest, slug, None, zips)
        self.skip(meta, "Gradescope's list of submitters, read for the students' names and "
                        "ids; not graded")
        by_name = {e.name: e for e in rest}
        units: list[tuple[str, Callable[[], list[Submission]]]] = []
        for key, whos in records.items():
            entry = by_name.pop(key, None)
            units.append((key, lambda k=key, e=entry, w=whos:
                          self.gradescope_entry(folder, k, e, w, slug, zips)))
        left = [by_name[name] for name in sorted(by_name)]
        found: list[Submission] = []
        for _, make in sorted(units, key=lambda unit: unit[0]):
            found.extend(make())
        return found + (self.klass(folder, left, slug, None, zips) if left else [])

    def gradescope_entry(self, folder: Path, key: str, entry: Path | None, whos: list[_Who],
                         slug: str | None, zips: int) -> list[Submission]:
        if not whos:
            whos = [_Who(student=key, notes=[f"{GRADESCOPE_METADATA} lists no submitter for "
                                             f"{key}."])]
        if len(whos) > 1:
            for person in whos:
                mates = [f"{w.name or w.student}" + (f" ({w.lms_id})" if w.lms_id else "")
                         for w in whos if w is not person]
                person.notes.append(f"A group submission, graded for each member; with "
                                    f"{', '.join(mates)}.")
        first = whos[0]
        if entry is None:
            subs = [self.submission(folder / key, slug, first, problems=[
                f"{self.label(folder / key)}: listed in {GRADESCOPE_METADATA} but not in the "
                "export; download it again"])]
        elif entry.is_dir():
            subs = self.folder(entry, self.slug_for(entry, slug), first, zips, forced=True)
        elif entry.suffix.lower() == ".zip":
            subs = self.archive(entry, self.slug_for(entry, slug), first, zips, forced=True)
        else:
            subs = self.one([_File(entry, entry.name, 0, entry)], slug, first, at=None)
        for person in whos[1:]:
            subs += [replace(sub, student=person.student, name=person.name,
                             lms_id=person.lms_id, late=person.late, notes=list(person.notes)
                             + sub.notes[len(first.notes):], problems=list(sub.problems))
                     for sub in subs[:1]]
        return subs


# How Jupyter treats a cell whose first line is a cell magic (IPython's own
# magics, as ``%lsmagic`` lists them). The grader runs Python only, without
# IPython: the magics whose body is Python run in the notebook's namespace
# run it here too; the others are skipped and the feedback says so.
RUNS_PYTHON = frozenset({"time", "timeit", "prun", "debug", "capture"})
OTHER_PROCESS = frozenset({"python", "python2", "python3", "pypy"})  # %%script python: a subprocess
NOT_PYTHON = frozenset({"bash", "sh", "script", "perl", "ruby", "!", "sx", "system", "html",
                        "HTML", "javascript", "js", "latex", "markdown", "svg", "SVG",
                        "code_wrap"})
WRITES_FILE = frozenset({"writefile", "file"})
MAX_WRITTEN_BYTES = 1024 * 1024  # all that %%writefile cells may write beside the module
MAX_WRITTEN_FILES = 20
NOT_RUN = "NotRun"  # the type of the notes on what was not run, beside the cells' errors
# ``name = %magic ...`` and ``name = !command``: IPython's assignment forms.
ASSIGNED = re.compile(r"(?P<lhs>[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*"
                      r"(?P<escape>!|%(?=\w))(?P<rest>.*)")
HELP = re.compile(r"%{0,2}[\w.*]+\?{1,2}")  # ``obj?``, ``obj??``: IPython's help


@dataclass
class _Cell:
    """One code cell as the student module runs it (see probes/notebook.py)."""

    number: int
    lines: list[str]  # the Python to run, one a line of the cell ("" where nothing runs)
    runs: bool = False
    notes: list[tuple[int | None, str, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, magic or shell line)
    timeit: set[int] | str = field(default_factory=set)  # "cell" for %%timeit
    capture: dict | None = None
    writes: list[tuple[str, str, bool]] = field(default_factory=list)  # (name, text, append)

    def skip(self, name: str, why: str = "the grader runs Python only") -> None:
        self.notes.append((None, NOT_RUN, f"the cell starts with %%{name}: "
                                          f"its body was not run ({why})"))

    def spec(self) -> dict:
        spec: dict = {"cell": self.number,
                      "source": "\n".join(self.lines) if self.runs else None}
        notes = list(self.notes)
        if self.skipped:
            shown = ", ".join(f"line {line} `{text[:60]}`" for line, text in self.skipped[:4])
            more = f" and {len(self.skipped) - 4} more" if len(self.skipped) > 4 else ""
            notes.append((None, NOT_RUN, "IPython magics and shell commands were not run (the "
                                         f"grader runs Python only): {shown}{more}"))
        if notes:
            spec["notes"] = notes
        if self.timeit:
            spec["timeit"] = self.timeit if self.timeit == "cell" else sorted(self.timeit)
        if self.capture is not None:
            spec["capture"] = self.capture
        return spec


def _split_args(args: str) -> list[str]:
    try:
        return shlex.split(args)
    except ValueError:
        return args.split()


def _time_code(args: str) -> str:
    """The statement of ``%time args``: its one option, ``--no-raise-error``, removed."""
    words = args.split(" ")
    while words and words[0] in ("", "--no-raise-error"):
        words.pop(0)
    return " ".join(words).strip()


def _after_options(args: str, with_value: str = "", long_values: tuple[str, ...] = ()) -> str:
    """``args`` without the options before it (read as IPython's getopt-style
    ``parse_options`` reads them: letters in ``with_value`` take a value, as
    do the long options in ``long_values``): the rest is code."""
    rest = args.strip()
    while rest.startswith("-"):
        head, _, rest = rest.partition(" ")
        rest = rest.lstrip()
        if head == "--":
            break
        if head.startswith("--"):
            if head in long_values:
                rest = rest.partition(" ")[2].lstrip()
            continue
        letters = head[1:]
        for index, letter in enumerate(letters):
            if letter in with_value:
                if index == len(letters) - 1:  # its value is the next word
                    rest = rest.partition(" ")[2].lstrip()
                break
    return rest


class _Scanner:
    """Where the logical lines of Python start: not inside a string, a
    bracket or a backslash continuation. IPython looks for its escapes
    (``%``, ``!``...) only there; elsewhere they are the student's text."""

    def __init__(self) -> None:
        self.quote: str | None = None
        self.depth = 0
        self.continued = False

    def at_start(self) -> bool:
        return self.quote is None and self.depth == 0 and not self.continued

    def feed(self, line: str) -> None:
        self.continued = False
        index = 0
        while index < len(line):
            char = line[index]
            if self.quote is not None:
                if char == "\\":
                    index += 2
                    continue
                if line.startswith(self.quote, index):
                    index += len(self.quote)
                    self.quote = None
                    continue
            elif char == "#":
                break
            elif char in "\"'":
                self.quote = char * 3 if line.startswith(char * 3, index) else char
                index += len(self.quote)
                continue
            elif char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            elif char == "\\" and index == len(line) - 1:
                self.continued = True
            index += 1
        if self.quote is not None and len(self.quote) == 1 and not line.endswith("\\"):
            self.quote = None  # an unclosed one-line string: a syntax error Python reports


def _line_magic(cell: _Cell, text: str, line: int) -> str:
    """The Python for one line of IPython syntax (``%magic``, ``!command``,
    ``obj?``...) at the start of a logical line; what is not run is noted."""
    assigned = ASSIGNED.fullmatch(text)
    if assigned:
        lhs, escape, rest = assigned["lhs"], assigned["escape"], assigned["rest"]
        name, _, args = rest.partition(" ")
        code = _time_code(args) if name == "time" else ""
        if escape == "%" and code:
            return f"{lhs} = {code}"  # %time returns the value of its expression
        cell.skipped.append((line, text))
        # !command gives a list of its output lines; a magic, its result: none here
        return f"{lhs} = {'[]' if escape == '!' else 'None'}"
    if text.startswith("%") and not text.startswith("%%"):
        name, _, args = text[1:].partition(" ")
        if name in ("time", "timeit", "prun"):
            # IPython runs the statement: %time and %prun in the namespace,
            # %timeit in a function (once here: timing is not graded).
            code = (_time_code(args) if name == "time"
                    else _after_options(args, "nrpv" if name == "timeit" else "DlsT"))
            if name == "timeit" and isinstance(cell.timeit, set):
                cell.timeit.add(line)
            return code or "pass"
    elif text.startswith(("/", ",", ";")) and len(text) > 1 and not text[1].isspace():
        # IPython's autocall escapes: /f a b is f(a, b), ,f a b is f("a", "b"), ;f a b is f("a b")
        name, _, args = text[1:].partition(" ")
        if text[0] == "/":
            return f"{name}({', '.join(args.split())})"
        if text[0] == ",":
            return f"{name}({', '.join(repr(word) for word in args.split())})"
        return f"{name}({args.strip()!r})"
    cell.skipped.append((line, text))
    return "pass"


def _is_ipython_syntax(text: str) -> bool:
    return (text.startswith(("%", "!", "?", "/", ",", ";")) or bool(ASSIGNED.fullmatch(text))
            or bool(HELP.fullmatch(text.rstrip())))


def _python(cell: _Cell, lines: list[str], start: int) -> None:
    """Lines of Python (IPython's line syntax allowed) into ``cell.lines``
    from index ``start``; each IPython line becomes Python on the same line."""
    cell.runs = True
    scanner = _Scanner()
    index = 0
    while index < len(lines):
        line = lines[index]
        text = line.lstrip()
        if scanner.at_start() and _is_ipython_syntax(text):
            end = index  # IPython joins the backslash-continued lines of a magic
            while lines[end].endswith("\\") and end + 1 < len(lines):
                end += 1
            parts = [text, *lines[index + 1:end + 1]]
            joined = " ".join([p.rstrip()[:-1] for p in parts[:-1]] + [parts[-1].rstrip()])
            indent = line[:len(line) - len(text)]
            cell.lines[start + index] = indent + _line_magic(cell, joined, start + index + 1)
            index = end + 1
            continue
        cell.lines[start + index] = line
        scanner.feed(line)
        index += 1


def _cell_magic(cell: _Cell, head: str, body: list[str], at: int) -> None:
    """A cell whose first line (index ``at``) is ``%%head``, as Jupyter runs it."""
    name, _, args = head.partition(" ")
    if name in RUNS_PYTHON:
        code = ""  # what the first line adds before the body, as IPython joins them
        if name == "time":
            extra = [word for word in args.split() if word != "--no-raise-error"]
            if extra:
                cell.notes.append((at + 1, "UsageError", "Can't use statement directly after "
                                   "'%%time'! (Jupyter does not run this cell either)"))
                return
        elif name == "timeit":
            code = _after_options(args, "nrpv")  # the setup statement
            cell.timeit = "cell"
        elif name == "prun":
            code = _after_options(args, "DlsT")
        elif name == "debug":
            code = _after_options(args, "b", long_values=("--breakpoint",))
        elif name == "capture":
            words = [w for w in _split_args(args) if not w.startswith("-")]
            cell.capture = {"stdout": "--no-stdout" not in args,
                            "stderr": "--no-stderr" not in args}
            if words and words[0].isidentifier():
                cell.capture["name"] = words[0]
        if code:
            cell.lines[at] = code
            cell.runs = True
        _cell_source(cell, body, at + 1)
    elif name in WRITES_FILE:
        words = _split_args(args)
        names = [w for w in words if w not in ("-a", "--append")]
        text = "\n".join(body)
        if text and not text.endswith("\n"):
            text += "\n"
        if len(names) != 1:
            cell.notes.append((at + 1, NOT_RUN, f"%%{name} {args}: no file was written "
                                                "(it takes one file name)"))
        else:
            cell.writes.append((names[0], text, "-a" in words or "--append" in words))
    elif name in OTHER_PROCESS:
        cell.skip(name, "Jupyter runs it in a separate process: nothing it defines reaches "
                        "the notebook")
    elif name in NOT_PYTHON:
        cell.skip(name)
    else:
        cell.skip(name, "not one of IPython's own magics; the grader runs Python only")


def _cell_source(cell: _Cell, lines: list[str], start: int) -> None:
    """The lines of a cell (or of a cell magic's body, from index ``start``),
    as IPython transforms them: common indentation removed, then a first line
    ``%%magic`` makes it a cell magic."""
    lines = textwrap.dedent("\n".join(lines)).split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return
    head = lines[first]
    if head.startswith("%%") and not re.match(r"%%\w+\?", head):
        _cell_magic(cell, head[2:].rstrip(), lines[first + 1:], start + first)
    else:
        _python(cell, lines[first:], start + first)


def _translate(number: int, source: str) -> _Cell:
    """One code cell's source as the module runs it."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cell = _Cell(number, [""] * len(lines))
    _cell_source(cell, lines, 0)
    return cell


def _safe_name(name: str) -> bool:
    """Whether ``%%writefile name`` stays in the submission's own folder (the
    grader copies no subfolder, so only a plain file name)."""
    parts = [p for p in PurePosixPath(name).parts if p != "."]
    return (len(parts) == 1 and parts[0] not in ("..", "/", "__pycache__")
            and not parts[0].startswith("~") and "\\" not in parts[0] and "\0" not in parts[0])


def _read_notebook(path: Path) -> list:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        cells = raw["cells"]
        if not isinstance(cells, list):
            raise TypeError("cells is not a list")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise SubmissionError(
            f"{path.name} is not valid notebook JSON ({type(exc).__name__}: {exc}); "
            "download it again from Jupyter (File > Download) and resubmit") from exc
    return cells


def _convert(path: Path, module_name: str | None = None
             ) -> tuple[str, list[tuple[str, str, bool]]]:
    """The module for a notebook, and the files its ``%%writefile`` cells
    write (name, text, append), in order."""
    specs, files = [], []
    written = 0
    number = 0
    for raw in _read_notebook(path):
        if not isinstance(raw, dict) or raw.get("cell_type") != "code":
            continue
        number += 1
        source = raw.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        cell = _translate(number, source if isinstance(source, str) else "")
        for name, text, append in cell.writes:
            size = len(text.encode("utf-8", "replace"))
            why = ("its path leaves the submission's folder" if not _safe_name(name)
                   else "it would replace the module the grader makes of this notebook"
                   if PurePosixPath(name).name == module_name
                   else "over the grader's limit on written files"
                   if written + size > MAX_WRITTEN_BYTES or len(files) >= MAX_WRITTEN_FILES
                   else None)
            if why:
                cell.notes.append((None, NOT_RUN, f"%%writefile {name[:80]}: the file was not "
                                                  f"written ({why})"))
            else:
                written += size
                files.append((name, text, append))
        specs.append(cell.spec())
    module = (
        f'"""Made by advpy from {path.name}: its code cells, in order, as one module."""\n'
        "from autograder.probes.notebook import run_cells as __advpy_run_cells__\n\n"
        f"__advpy_cell_errors__ = __advpy_run_cells__(globals(), __file__, {specs!r})\n"
    )
    return module, files


def notebook_to_module(path: Path) -> str:
    """The notebook's code cells, in order, as a module that runs them one by
    one (a failing cell is reported and the rest still run). IPython's syntax
    becomes what Jupyter would run: the body of ``%%time``, ``%%capture``...
    and the statement of ``%time`` run; shell lines, other magics and cells
    of other languages are skipped, with a note for the feedback."""
    return _convert(path)[0]


def helper_files(sub: Submission) -> list[Path]:
    """The .py files beside the source in the student's own folder, which
    grading puts beside the module (none for a lone file in a class folder)."""
    assert sub.source is not None
    if sub.source.parent == sub.path.parent and not sub.path.is_dir():
        return []
    # A symlink could name any file the grader can read (a hidden test): only
    # the student's own regular files go in.
    return [sibling for sibling in sorted(sub.source.parent.iterdir())
            if sibling != sub.source and sibling.suffix == ".py" and not sibling.is_symlink()
            and sibling.is_file()]


def prepare(sub: Submission, workdir: Path) -> Path:
    """Write the submission as ``workdir/<slug>.py`` (with its sibling files,
    and for a notebook the files its ``%%writefile`` cells write), the real
    module file the student process imports."""
    assert sub.source is not None and sub.assignment is not None
    if sub.source.stat().st_size > MAX_SOURCE_BYTES:
        raise SubmissionError(f"{sub.source.name} is larger than "
                              f"{MAX_SOURCE_BYTES // 1024 // 1024} MB")
    workdir.mkdir(parents=True, exist_ok=True)
    for sibling in helper_files(sub):
        shutil.copy(sibling, workdir / sibling.name)
    target = workdir / f"{sub.assignment}.py"
    if sub.source.suffix == ".ipynb":
        module, files = _convert(sub.source, target.name)
        for name, text, append in files:
            # As Jupyter's %%writefile: beside the notebook (the module here),
            # a sibling of the same name replaced, in the order of the cells.
            written = workdir / PurePosixPath(name).name
            if written.is_symlink():
                continue
            try:
                with written.open("a" if append else "w", encoding="utf-8",
                                  errors="replace") as file:
                    file.write(text)
            except OSError:
                continue  # a name Jupyter could not write either (a folder's, say)
        target.write_text(module, encoding="utf-8")
    else:
        shutil.copy(sub.source, target)
    return target
