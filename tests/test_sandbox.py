"""The sandbox: the namespaces sandbox graded for real (what the student's
code can see, write and reach, observed through its score), and ``choose``,
which never hands out a sandbox that runs student code as root with our files
readable."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT, assert_scores, expected_scores

from autograder import api, assignments, cli, sandbox
from autograder.child import Limits
from autograder.engine import Settings

SOLUTION = ROOT / "solutions" / "generators" / "generators.py"
STUB = ROOT / "assignments" / "generators" / "generators.py"
READS_HIDDEN = ROOT / "tests" / "hostile" / "generators" / "reads_hidden_tests.py"

needs_namespaces = pytest.mark.skipif(
    not sandbox.namespaces_work(),
    reason=f"the namespaces sandbox cannot be built here: {sandbox.namespaces_problem()}")

# Appended to the reference solution: each fact about what the student process
# can reach decides one question (a false fact replaces that function with None).
SPY = '''

# --- what this process can reach: each fact decides one question ---
import os as _os
import socket as _socket
import sys as _sys


def _cannot_write(path):
    try:
        with open(path, "w"):
            pass
    except Exception:  # noqa: BLE001 - refused, whatever refused it
        return True
    return False


def _offline():
    try:
        _socket.create_connection(("1.1.1.1", 53), timeout=1).close()
    except Exception:  # noqa: BLE001
        return True
    return False


def _host_processes_visible():
    for entry in _os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if b"pytest" in handle.read():
                    return True
        except Exception:  # noqa: BLE001
            pass
    return False


_FACTS = {
    "mygenerator": _os.getuid() != 0 and _os.geteuid() != 0,
    "firstn": not any(_os.path.exists(p) for p in GRADER_PATHS),
    "firstn_generator": not _host_processes_visible(),
    "evens": not _os.path.exists(HOST_TMP_MARKER),
    "count_evens": _cannot_write(_os.path.join(_os.path.dirname(__file__), "spy.txt")),
    "take": _cannot_write(_os.path.join(_sys.prefix, "spy.txt")),
    "chunked": _offline() and not _os.path.exists(ORIGINAL),
}
for _name, _holds in _FACTS.items():
    if not _holds:
        globals()[_name] = None
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The reference, the stub, the disk-searching hostile and the spy, graded
    in one class with the namespaces sandbox forced."""
    folder = tmp_path_factory.mktemp("spy")
    spy = folder / "spy_generators.py"
    course = assignments.course_root()
    grader_paths = [str(sandbox.PACKAGE), str(course / "solutions"),
                    str(course / "autograder" / "hidden"), str(course / "tests")]
    with tempfile.NamedTemporaryFile(dir="/tmp", prefix="advpy-host-marker-") as marker:
        spy.write_text(SOLUTION.read_text(encoding="utf-8") + SPY.replace(
            "GRADER_PATHS", repr(grader_paths)).replace(
            "HOST_TMP_MARKER", repr(marker.name)).replace("ORIGINAL", repr(str(spy))))
        results = api.grade([SOLUTION, STUB, READS_HIDDEN, spy], assignment="generators",
                            settings=Settings(sandbox="namespaces"))
    return {Path(r.submission).name if Path(r.submission) != STUB else "stub": r
            for r in results}


@needs_namespaces
def test_reference_gets_full_marks_and_the_stub_none(graded):
    reference, stub = graded["generators.py"], graded["stub"]
    assert reference.sandbox == stub.sandbox == "namespaces"
    assert (reference.score, reference.max_score) == (18.0, 18.0)
    assert_scores(reference, {})
    assert stub.score == 0.0 and not stub.has_grader_errors, stub.errors


@needs_namespaces
def test_searching_the_disk_for_the_grader_finds_nothing(graded):
    assert_scores(graded["reads_hidden_tests.py"], expected_scores(READS_HIDDEN))


@needs_namespaces
def test_the_student_process_reaches_nothing_of_ours(graded):
    """Not root; no grader package, course or other submission; no host
    processes, no host /tmp; submission and Python read-only; no network."""
    assert_scores(graded["spy_generators.py"], {})


@needs_namespaces
def test_namespaces_view_covers_hidden_paths_inside_what_it_shows(tmp_path):
    """What the caller hides is covered even inside a folder the student sees
    (advpy installed in the Python it runs); nothing is mounted on the host."""
    inside_python = Path(sysconfig.get_paths()["stdlib"]) / "idlelib"
    if not inside_python.is_dir():
        pytest.skip("this Python has no idlelib to stand for a package inside it")
    work = tmp_path / "work"
    work.mkdir()
    (work / "generators.py").write_text("x = 1\n")
    launch = sandbox.Namespaces().launch(work / "generators.py", tmp_path, Limits(),
                                         hidden=[inside_python])
    look = ("import os, sys; idle, package = sys.argv[1:]; "
            "print(os.listdir(idle), os.path.exists(package), sorted(os.listdir('/tmp')), "
            "os.path.isfile('/opt/advpy/autograder/probes/runner.py'), "
            "os.listdir('/submission'), os.access('/submission', os.W_OK))")
    try:
        done = subprocess.run(
            launch.command([sys.executable, "-I", "-c", look, str(inside_python),
                            str(sandbox.PACKAGE)]),
            capture_output=True, text=True, timeout=60, cwd=launch.cwd,
            env={"PATH": "/usr/bin:/bin", **launch.env})
    finally:
        if launch.cgroup:
            launch.cgroup.remove()
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "False", "[]", "True", "['generators.py']", "False"]
    assert os.listdir(tmp_path / "sandbox-root") == []
    assert str(tmp_path) not in Path("/proc/self/mountinfo").read_text()


def test_the_sandbox_does_not_read_the_course():
    """The engine says what to hide: importing the sandbox pulls in no course."""
    code = ("import sys, autograder.sandbox; "
            "print(sorted(m for m in sys.modules if m.startswith('autograder')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.strip() == "['autograder', 'autograder.sandbox']"


@pytest.fixture
def nothing_protects(monkeypatch):
    """This machine as one without bubblewrap, namespaces or a usable process sandbox."""
    monkeypatch.setattr(sandbox, "bubblewrap_works", lambda: False)
    monkeypatch.setattr(sandbox, "namespaces_problem", lambda: "simulated: unshare refused")
    monkeypatch.setattr(sandbox, "process_protects", lambda: False)


def test_choose_refuses_when_nothing_protects(nothing_protects):
    with pytest.raises(sandbox.Unprotected) as refused:
        sandbox.choose("auto")
    message = str(refused.value)
    for advice in ("apt-get install bubblewrap", "run as root", "--sandbox none",
                   "simulated: unshare refused"):
        assert advice in message
    for mode in ("bubblewrap", "namespaces", "process"):
        with pytest.raises(sandbox.Unprotected, match=f"--sandbox {mode}"):
            sandbox.choose(mode)
    assert isinstance(sandbox.choose("none"), sandbox.Plain)


@pytest.mark.skipif(os.geteuid() != 0, reason="as root only")
def test_root_never_runs_student_code_unprotected(nothing_protects):
    """Not even for a public check: as root, unprotected means student code as root."""
    with pytest.raises(sandbox.Unprotected):
        sandbox.choose("auto", secrets=False)


def test_choose_prefers_bubblewrap_then_namespaces(monkeypatch):
    monkeypatch.setattr(sandbox, "bubblewrap_works", lambda: True)
    assert isinstance(sandbox.choose("auto"), sandbox.Bubblewrap)
    monkeypatch.setattr(sandbox, "bubblewrap_works", lambda: False)
    monkeypatch.setattr(sandbox, "namespaces_problem", lambda: None)
    assert isinstance(sandbox.choose("auto"), sandbox.Namespaces)


@pytest.mark.skipif(sandbox.process_protects() or os.geteuid() != 0,
                    reason="only where this Python is out of other users' reach, as root")
def test_process_sandbox_refuses_to_run_student_code_as_root(tmp_path):
    """This machine's case (a pyenv Python under /root, mode 0700): the uid
    cannot run Python, and the process sandbox does not fall back to root."""
    with pytest.raises(sandbox.Unprotected, match="as root"):
        sandbox.choose("process")
    (tmp_path / "work").mkdir()
    with pytest.raises(sandbox.Unprotected):
        sandbox.Process().launch(tmp_path / "work" / "generators.py", tmp_path, Limits())


def test_advpy_grade_refuses_unprotected(nothing_protects, capsys):
    code = cli.main(["grade", str(SOLUTION), "-a", "generators"])
    assert code == 2
    err = capsys.readouterr().err
    assert "refusing" in err and "apt-get install bubblewrap" in err and "--sandbox none" in err


def test_the_demo_alone_may_run_unprotected(nothing_protects, capsys):
    demo = argparse.Namespace(demo=True, paths=[], sandbox="auto")
    assert cli._protected(demo, cli.Console(stderr=True))
    assert demo.sandbox == "none" and "WITHOUT a sandbox" in capsys.readouterr().err
    mixed = argparse.Namespace(demo=True, paths=[SOLUTION], sandbox="auto")
    assert not cli._protected(mixed, cli.Console(stderr=True))


def test_hiding_never_touches_shared_or_top_level_folders(tmp_path):
    """The process sandbox strips other users' access from what it is told to
    hide, but never from /, /tmp, a top-level folder or what it must keep."""
    course, keep = tmp_path / "course", tmp_path / "keep"
    (keep / "inner").mkdir(parents=True)
    course.mkdir()
    before = {p: os.stat(p).st_mode for p in ("/", "/tmp", "/usr")}
    sandbox._hide_from_others(["/", "/tmp", "/usr", str(course), str(keep)],
                              keep=[str(keep / "inner")])
    assert {p: os.stat(p).st_mode for p in before} == before
    assert course.stat().st_mode & 0o007 == 0
    assert keep.stat().st_mode & 0o005 == 0o005


# Appended to the reference: reading a classmate's file costs one question.
PEEK = '''

def _classmate_visible():
    try:
        with open(CLASSMATE, encoding="utf-8") as handle:
            return bool(handle.read())
    except Exception:  # noqa: BLE001 - refused, whatever refused it
        return False


if _classmate_visible():
    firstn = None
'''


@pytest.mark.skipif(not sandbox.bubblewrap_works(), reason="bubblewrap does not work here")
def test_a_student_never_sees_another_students_work(monkeypatch):
    """In class folders readable by everyone, a student's code reads nothing of
    a classmate's, and the sandbox is told to hide every folder graded (for the
    process sandbox, which has no mount namespace to leave them out of)."""
    told: list[list[str]] = []
    launch = sandbox.Bubblewrap.launch

    def launch_and_note(self, module_path, scratch, limits, hidden=()):
        told.append([str(p) for p in hidden])
        return launch(self, module_path, scratch, limits, hidden=hidden)

    monkeypatch.setattr(sandbox.Bubblewrap, "launch", launch_and_note)
    folder = Path(tempfile.mkdtemp(prefix="advpy-class-", dir="/tmp"))
    # Two sections graded in one run: no folder above alice's holds bob's.
    alice, bob = folder / "section-a" / "alice", folder / "section-b" / "bob"
    folders = (folder, alice.parent, alice, bob.parent, bob)
    try:
        for path in folders[1:]:
            path.mkdir()
        (bob / "generators.py").write_text(SOLUTION.read_text(encoding="utf-8"))
        (alice / "generators.py").write_text(SOLUTION.read_text(encoding="utf-8") + PEEK.replace(
            "CLASSMATE", repr(str(bob / "generators.py"))))
        for path in folders:
            path.chmod(0o755)
        results = api.grade([alice.parent, bob.parent], assignment="generators", jobs=1,
                            settings=Settings(sandbox="bubblewrap"))
    finally:
        for path in folders:
            if path.exists():
                path.chmod(0o755)
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    assert sorted(r.student for r in results) == ["alice", "bob"], [r.student for r in results]
    for result in results:
        assert_scores(result, {})
    assert len(told) == 2 and all(str(bob.parent.resolve()) in hidden for hidden in told)
