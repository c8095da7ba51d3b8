"""Finding a class's submissions (``submissions.discover_class``): every
student once, with the identity the LMS gives, and every file either graded
or listed as skipped with its reason. Discovery only: nothing is graded here."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from autograder import api
from autograder.submissions import Discovery, Submission, discover, discover_class

# OS debris that may pass unlisted; every other file must be graded or listed.
DEBRIS = {".DS_Store", "Thumbs.db", "desktop.ini"}
CODE = "def mygenerator():\n    yield 1\n"
NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
GRADESCOPE = "submission_metadata.yml"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def zipped(archive: Path, files: dict[str, str]) -> Path:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return archive


def found(tmp_path: Path, *paths: Path, assignment: str | None = "generators") -> Discovery:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    return discover_class(list(paths), assignment, scratch)


def by_student(discovery: Discovery) -> dict[str | None, Submission]:
    students = [sub.student for sub in discovery.submissions]
    assert len(students) == len(set(students)), students
    return {sub.student: sub for sub in discovery.submissions}


def reasons(discovery: Discovery) -> dict[Path, str]:
    return {skipped.path: skipped.reason for skipped in discovery.skipped}


def assert_nothing_dropped(discovery: Discovery, *roots: Path) -> None:
    """Every file under ``roots`` (a zip: every member, as zip/member) is the
    source of a submission or listed as skipped (itself or a folder holding
    it), and none is both."""
    everything = set()
    for root in roots:
        if root.suffix == ".zip":
            with zipfile.ZipFile(root) as zf:
                everything |= {root / name for name in zf.namelist() if not name.endswith("/")}
            continue
        for folder, _, files in os.walk(root):
            everything |= {Path(folder) / name for name in files if name not in DEBRIS}
    graded = {sub.origin for sub in discovery.submissions if sub.origin is not None}
    listed = {skipped.path for skipped in discovery.skipped}

    def is_listed(path: Path) -> bool:
        return path in listed or any(parent in listed for parent in path.parents)

    for path in everything:
        if "__pycache__" in path.parts or "__MACOSX" in path.parts:
            continue
        assert (path in graded) != is_listed(path), (
            f"{path}: {'graded and listed' if path in graded else 'silently dropped'}")


def test_two_students_with_assignment_named_files_are_two_submissions(tmp_path):
    write(tmp_path / "class", {"alice_generators.py": CODE, "bob_generators.py": CODE})
    for assignment in ("generators", None):  # -a given, or taken from the file names
        discovery = found(tmp_path, tmp_path / "class", assignment=assignment)
        assert [(s.student, s.source.name, s.assignment) for s in discovery.submissions] == [
            ("alice", "alice_generators.py", "generators"),
            ("bob", "bob_generators.py", "generators")]
        assert discovery.skipped == []


def test_a_students_folder_with_helpers_is_one_submission(tmp_path):
    write(tmp_path / "alice", {"generators.py": CODE, "helpers.py": "X = 1\n",
                               "notes.txt": "my notes"})
    discovery = found(tmp_path, tmp_path / "alice")
    (sub,) = discovery.submissions
    assert sub.path == tmp_path / "alice" and sub.source == tmp_path / "alice" / "generators.py"
    skipped = reasons(discovery)
    assert skipped[tmp_path / "alice" / "notes.txt"] == (
        "alice/notes.txt: not a .py or .ipynb file, not graded")
    assert skipped[tmp_path / "alice" / "helpers.py"] == (
        "alice/helpers.py: alice/generators.py was graded instead (not named for generators)")
    assert_nothing_dropped(discovery, tmp_path / "alice")


def test_a_folder_with_a_notebook_and_a_module_says_which_was_graded(tmp_path):
    write(tmp_path / "class", {"alice/generators.py": CODE, "alice/generators.ipynb": NOTEBOOK,
                               "bob/generators.py": CODE})
    discovery = found(tmp_path, tmp_path / "class")
    subs = by_student(discovery)
    assert set(subs) == {"alice", "bob"}
    alice = subs["alice"]
    assert alice.source == tmp_path / "class" / "alice" / "generators.ipynb"
    assert alice.path == tmp_path / "class" / "alice"  # its folder: helpers go with it
    assert alice.notes == ["Graded class/alice/generators.ipynb; not graded: "
                           "class/alice/generators.py (a notebook is graded before a module)."]
    assert reasons(discovery) == {tmp_path / "class" / "alice" / "generators.py": (
        "class/alice/generators.py: class/alice/generators.ipynb was graded instead "
        "(a notebook is graded before a module)")}
    assert subs["bob"].notes == []
    assert_nothing_dropped(discovery, tmp_path / "class")


def test_one_owners_files_in_a_class_folder_are_one_submission(tmp_path):
    write(tmp_path / "class", {"alice_generators.py": CODE, "alice_generators.ipynb": NOTEBOOK,
                               "bob_generators.py": CODE, "bob_generators (1).py": CODE})
    discovery = found(tmp_path, tmp_path / "class")
    subs = by_student(discovery)
    assert {s: sub.source.name for s, sub in subs.items()} == {
        "alice": "alice_generators.ipynb", "bob": "bob_generators (1).py"}
    # A file in a class folder is its own submission: no other student's file goes with it.
    assert subs["bob"].path == subs["bob"].source
    assert "an earlier upload" in reasons(discovery)[tmp_path / "class" / "bob_generators.py"]
    assert_nothing_dropped(discovery, tmp_path / "class")


CANVAS_FILES = {
    "doejane_12345_67890_generators.py": CODE,
    "smithjohn_LATE_23456_78901_generators.py": CODE,
    "smithjohn_LATE_23456_78901_generators-1.py": CODE,  # uploaded again: Canvas adds -1
    "leepat_late_34567_89012_generators.ipynb": NOTEBOOK,
    "kimlee_45678_90123_generators.ipynb": NOTEBOOK,
    "kimlee_45678_90123_generators.py": CODE,
    "kimlee_45678_90123_report.pdf": "%PDF",
    "ngo_56789_91234_essay.pdf": "%PDF",
}


@pytest.mark.parametrize("layout", ["folder", "zip"])
def test_canvas_download_keeps_each_students_identity(tmp_path, layout):
    if layout == "folder":
        write(tmp_path / "canvas", CANVAS_FILES)
        given = where = tmp_path / "canvas"
    else:
        given = zipped(tmp_path / "submissions.zip", CANVAS_FILES)
        where = given  # members are shown inside the zip: submissions.zip/<member>
    discovery = found(tmp_path, given, assignment=None)
    subs = by_student(discovery)
    assert {s: (sub.name, sub.lms_id, sub.late) for s, sub in subs.items()} == {
        "12345": ("doejane", "12345", False),
        "23456": ("smithjohn", "23456", True),
        "34567": ("leepat", "34567", True),
        "45678": ("kimlee", "45678", False),
        "56789": ("ngo", "56789", False)}
    assert {s: sub.origin for s, sub in subs.items()} == {
        "12345": where / "doejane_12345_67890_generators.py",
        "23456": where / "smithjohn_LATE_23456_78901_generators-1.py",
        "34567": where / "leepat_late_34567_89012_generators.ipynb",
        "45678": where / "kimlee_45678_90123_generators.ipynb",
        "56789": None}
    assert all(sub.assignment == "generators" for sub in subs.values())
    # Nothing to grade is a zero with the reason, never a student left out.
    assert subs["56789"].problems == [
        f"{where.name}/ngo_56789_91234_essay.pdf: holds no .py or .ipynb file to grade"]
    assert subs["23456"].notes == [
        f"Graded {where.name}/smithjohn_LATE_23456_78901_generators-1.py; not graded: "
        f"{where.name}/smithjohn_LATE_23456_78901_generators.py (an earlier upload: Canvas "
        "and browsers add -1, -2... to a repeated one)."]
    skipped = reasons(discovery)
    assert skipped[where / "kimlee_45678_90123_generators.py"] == (
        f"{where.name}/kimlee_45678_90123_generators.py: {where.name}/"
        "kimlee_45678_90123_generators.ipynb was graded instead (a notebook is graded before "
        "a module)")
    assert skipped[where / "kimlee_45678_90123_report.pdf"].endswith(
        "not a .py or .ipynb file, not graded")
    assert len(discovery.skipped) == 4
    assert_nothing_dropped(discovery, given)


def test_a_canvas_student_who_uploaded_a_zip(tmp_path):
    work = zipped(tmp_path / "work.zip", {"hw/generators.py": CODE, "hw/helpers.py": "X = 1\n",
                                          "hw/.DS_Store": ""})
    canvas = tmp_path / "canvas"
    canvas.mkdir()
    work.rename(canvas / "doejane_12345_67890_work.zip")
    discovery = found(tmp_path, canvas)
    (sub,) = discovery.submissions
    archive = canvas / "doejane_12345_67890_work.zip"
    assert (sub.student, sub.name, sub.path, sub.origin) == (
        "12345", "doejane", archive, archive / "hw" / "generators.py")
    assert sub.source.name == "generators.py" and sub.source.is_file()
    assert reasons(discovery) == {archive / "hw" / "helpers.py": (
        "canvas/doejane_12345_67890_work.zip/hw/helpers.py: canvas/doejane_12345_67890_work.zip"
        "/hw/generators.py was graded instead (not named for generators)")}


GRADESCOPE_METADATA = """\
---
submission_132970515:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1001'
    :email: ada@example.edu
  :created_at: 2024-03-01 21:03:57.297916000 Z
  :score: 0.0
  :status: processed
  :results:
    tests: []
  :history:
  - :submitters: []
    :created_at: 2024-02-28 07:46:21.167770000 Z
    :score: 0.0
    :status: processed
submission_132970516:
  :submitters:
  - :name: Bob Byte
    :email: bob@example.edu
  - :name: Cy Cycle
    :sid: '1003'
    :email: cy@example.edu
  :created_at: 2024-03-02 10:00:00.000000000 Z
  :score: 0.0
  :status: processed
  :history: []
submission_132970517:
  :submitters:
  - :name: Dee Gone
    :sid: '1004'
    :email: dee@example.edu
  :created_at: 2024-03-02 11:00:00.000000000 Z
  :score: 0.0
  :status: processed
  :history: []
"""


def test_gradescope_export_keeps_each_submitter(tmp_path):
    export = tmp_path / "assignment_123_export"
    write(export, {"submission_132970515/generators.py": CODE,
                   "submission_132970515/README.md": "readme",
                   "submission_132970516/hw/generators.ipynb": NOTEBOOK,
                   "submission_132970516/hw/generators.py": CODE,
                   GRADESCOPE: GRADESCOPE_METADATA})
    discovery = found(tmp_path, export)
    subs = by_student(discovery)
    assert {s: (sub.name, sub.lms_id, sub.late) for s, sub in subs.items()} == {
        "1001": ("Ada Lovelace", "1001", False),
        "bob@example.edu": ("Bob Byte", "bob@example.edu", False),  # no SID: the e-mail
        "1003": ("Cy Cycle", "1003", False),
        "1004": ("Dee Gone", "1004", False)}
    assert subs["1001"].source == export / "submission_132970515" / "generators.py"
    # A group submission is graded for each member, from the same file.
    group = export / "submission_132970516"
    assert subs["bob@example.edu"].source == subs["1003"].source == (
        group / "hw" / "generators.ipynb")
    assert subs["1003"].notes[0] == (
        "A group submission, graded for each member; with Bob Byte (bob@example.edu).")
    assert subs["1004"].source is None and "not in the export" in subs["1004"].problems[0]
    skipped = reasons(discovery)
    assert skipped[export / GRADESCOPE].startswith(
        "assignment_123_export/submission_metadata.yml: Gradescope's list of submitters")
    assert "graded instead (a notebook is graded before a module)" in skipped[
        group / "hw" / "generators.py"]
    assert_nothing_dropped(discovery, export)


def test_unreadable_gradescope_metadata_is_said_and_folders_still_graded(tmp_path):
    export = tmp_path / "export"
    write(export, {"submission_1/generators.py": CODE, GRADESCOPE: ":a: [\n"})
    discovery = found(tmp_path, export)
    assert [sub.student for sub in discovery.submissions] == ["submission_1"]
    assert "named by their folders instead" in reasons(discovery)[export / GRADESCOPE]


def test_files_not_named_for_the_assignment_in_a_class_are_listed(tmp_path):
    write(tmp_path / "class", {"alice_generators.py": CODE, "bob_generators.py": CODE,
                               "helpers.py": "X = 1\n", "test_generators.py": "def test(): 0\n",
                               ".hidden.py": CODE, ".DS_Store": "", "__pycache__/x.pyc": ""})
    discovery = found(tmp_path, tmp_path / "class")
    assert [sub.student for sub in discovery.submissions] == ["alice", "bob"]
    skipped = reasons(discovery)
    assert skipped[tmp_path / "class" / "helpers.py"] == (
        "class/helpers.py: not named for generators: in a class folder only files named for it "
        "are graded, one owner each (rename it <student>_generators.py)")
    assert "a test file" in skipped[tmp_path / "class" / "test_generators.py"]
    assert "hidden file" in skipped[tmp_path / "class" / ".hidden.py"]
    assert len(skipped) == 3  # .DS_Store and __pycache__ are debris
    assert_nothing_dropped(discovery, tmp_path / "class")


def test_a_class_of_files_not_named_for_the_assignment_is_a_student_each(tmp_path):
    write(tmp_path / "class", {"alice.py": CODE, "bob.ipynb": NOTEBOOK})
    discovery = found(tmp_path, tmp_path / "class")
    assert [(s.student, s.source.name) for s in discovery.submissions] == [
        ("alice", "alice.py"), ("bob", "bob.ipynb")]


def test_a_students_work_in_a_subfolder_stays_theirs(tmp_path):
    write(tmp_path / "class", {"alice/hw1/generators.py": CODE, "alice/README.txt": "hi",
                               "bob/generators.py": CODE, "cy/report.pdf": "%PDF"})
    discovery = found(tmp_path, tmp_path / "class")
    subs = by_student(discovery)
    assert subs["alice"].source == tmp_path / "class" / "alice" / "hw1" / "generators.py"
    assert subs["bob"].source == tmp_path / "class" / "bob" / "generators.py"
    assert subs["cy"].problems == ["class/cy: holds no .py or .ipynb file to grade"]
    assert_nothing_dropped(discovery, tmp_path / "class")


def test_zips_in_a_class_folder(tmp_path):
    zipped(tmp_path / "class" / "alice_generators.zip", {"generators.py": CODE,
                                                         "__MACOSX/._generators.py": ""})
    zipped(tmp_path / "class" / "bob.zip", {"bob/generators.ipynb": NOTEBOOK})
    (tmp_path / "class" / "cy_generators.zip").write_bytes(b"PK not a zip")
    discovery = found(tmp_path, tmp_path / "class")
    subs = by_student(discovery)
    assert sorted(subs) == ["alice", "bob", "cy"]
    assert subs["alice"].path == tmp_path / "class" / "alice_generators.zip"
    assert subs["alice"].origin == tmp_path / "class" / "alice_generators.zip" / "generators.py"
    assert subs["bob"].origin == tmp_path / "class" / "bob.zip" / "bob" / "generators.ipynb"
    assert "not a valid zip" in subs["cy"].problems[0]
    assert discovery.skipped == []


def test_a_symbolic_link_is_listed_and_not_followed(tmp_path):
    write(tmp_path / "class", {"alice_generators.py": CODE, "bob_generators.py": CODE})
    (tmp_path / "secret.py").write_text("ANSWER = 42\n")
    (tmp_path / "class" / "eve_generators.py").symlink_to(tmp_path / "secret.py")
    discovery = found(tmp_path, tmp_path / "class")
    assert [sub.student for sub in discovery.submissions] == ["alice", "bob"]
    assert "symbolic link" in reasons(discovery)[tmp_path / "class" / "eve_generators.py"]


def test_discover_is_the_submissions_of_discover_class(tmp_path):
    write(tmp_path / "class", {"alice_generators.py": CODE, "notes.txt": "n",
                               "bob_generators.py": CODE})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert discover([tmp_path / "class"], None, scratch) == discover_class(
        [tmp_path / "class"], None, scratch).submissions


def test_the_demo_class_is_every_student_once(tmp_path):
    discovery = found(tmp_path, *api.demo_paths(), assignment=None)
    sources = {f for path in api.demo_paths() for f in path.iterdir()
               if f.suffix in (".py", ".ipynb")}
    assert {sub.origin for sub in discovery.submissions} == sources
    assert len(discovery.submissions) == len(sources)
    assert all(sub.student and sub.assignment and not sub.problems
               for sub in discovery.submissions)
    assert_nothing_dropped(discovery, *api.demo_paths())
