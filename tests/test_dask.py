"""A class graded on a real Dask cluster: a scheduler and two workers started
here as the README says (``dask scheduler``, ``dask worker --nthreads 1
--resources exclusive=1``), no mock. The scores equal a local run's test by
test; a worker killed mid-run, a submission that crashes its worker every
time and a run interrupted half way lose no student; ``--dask local:N``
grades from the command line."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ROOT, SUBMISSIONS, expected_scores
from distributed import Client

from autograder import classroom, cluster
from autograder.engine import Settings
from autograder.submissions import Submission

GENERATORS = SUBMISSIONS / "generators"
SOLUTION = ROOT / "solutions" / "generators" / "generators.py"
# The reference, two with a bug, one that cannot load, a notebook, and a
# student's folder whose module imports a helper file beside it.
CLASS = {
    "alice_generators.py": SOLUTION,
    "bob_generators.py": GENERATORS / "q5_off_by_one.py",
    "carol_generators.py": GENERATORS / "syntax_error.py",
    "dan_generators.ipynb": GENERATORS / "correct_cell_magics.ipynb",
    "erin/generators.py": None,  # from helper import *
    "erin/helper.py": SOLUTION,
    "gus_generators.py": GENERATORS / "q7_eager.py",
}
EXPECTED = {"alice": {}, "bob": expected_scores(GENERATORS / "q5_off_by_one.py"),
            "carol": expected_scores(GENERATORS / "syntax_error.py"), "dan": {}, "erin": {},
            "gus": expected_scores(GENERATORS / "q7_eager.py")}
STARTUP = 120  # seconds for a process of the cluster to start, on a loaded machine
# A hidden test whose judge ends the process it runs in (the worker) when the
# submission's file is named crash_...: a grader bug no retry can get past.
CRASHING_JUDGE = '''
import os
import signal

from autograder.testing import check


@check("q1", hidden=True)
def test_grader_survives(student):
    """the grader survives this submission"""
    if student.display.startswith("crash"):
        os.kill(os.getpid(), signal.SIGKILL)
'''

# Every test logs when it ran and in which process (worker); one is a timing test.
LOGGED = '''
import os
import time

from autograder.testing import check


def _run(kind, seconds):
    start = time.monotonic()
    time.sleep(seconds)
    with open({log!r}, "a") as log:
        log.write(f"{{kind}} {{os.getpid()}} {{start}} {{time.monotonic()}}\\n")


@check("q1", timing=True)
def test_timed(student):
    """a timing test"""
    _run("timing", 0.3)


@check("q2")
def test_one(student):
    """an ordinary test"""
    _run("shared", 0.2)
'''


def make_class(folder: Path) -> Path:
    for name, source in CLASS.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if source is None:
            path.write_text("from helper import *  # noqa: F403\n")
        else:
            shutil.copy(source, path)
    return folder


def outcomes(run: classroom.ClassRun) -> dict[str, tuple]:
    """Each student's result, test by test, without the time it took."""
    return {key: (r.score, r.complete, r.submission, r.errors,
                  [(q.id, q.score, [(t.name, t.status, t.score) for t in q.tests])
                   for q in r.questions])
            for key, r in zip(run.keys, run.results, strict=True)}


def assert_expected(run: classroom.ClassRun) -> None:
    assert sorted(run.keys) == sorted(EXPECTED)
    for key, result in zip(run.keys, run.results, strict=True):
        assert result.complete, (key, result.errors)
        want = {q.id: EXPECTED[key].get(q.id, q.max_score) for q in result.questions}
        assert {q.id: q.score for q in result.questions} == want, key


def _spawn(args: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    # A session of its own: killing the process group ends a worker, its
    # nanny and its students, as a lost machine would.
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, **(env or {})})


def _end(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A scheduler and two workers on localhost, on random ports."""
    folder = tmp_path_factory.mktemp("dask")
    file = folder / "scheduler.json"
    # A task whose worker dies twice is given up (distributed's default: 4 times).
    scheduler = _spawn(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                        "--dashboard-address", ":0", "--scheduler-file", str(file)],
                       folder / "scheduler.log",
                       env={"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"})
    workers = {}
    try:
        deadline = time.monotonic() + STARTUP
        while not file.exists() or not file.read_text().strip():
            assert scheduler.poll() is None and time.monotonic() < deadline, (
                (folder / "scheduler.log").read_text())
            time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        for name in ("w0", "w1"):
            workers[name] = _spawn(["worker", address, "--name", name, "--nthreads", "1",
                                    "--resources", "exclusive=1", "--host", "127.0.0.1",
                                    "--no-dashboard"], folder / f"{name}.log")
        with Client(address, timeout=STARTUP) as client:
            client.wait_for_workers(2, timeout=STARTUP)
            yield SimpleNamespace(address=address, workers=workers, folder=folder)
    finally:
        for process in [*workers.values(), scheduler]:
            _end(process)


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_class(tmp_path_factory.mktemp("class"))


@pytest.fixture(scope="module")
def local(klass: Path, tmp_path_factory: pytest.TempPathFactory) -> classroom.ClassRun:
    """The class graded on this machine (the default jobs)."""
    return classroom.grade_class([klass], assignment="generators",
                                 out=tmp_path_factory.mktemp("local"))


def test_the_cluster_grades_a_class_as_a_local_run_does(dask_cluster, klass, local, tmp_path):
    seen = []
    run = classroom.grade_class([klass], assignment="generators", out=tmp_path / "out",
                                dask=dask_cluster.address, progress=seen.append)
    assert_expected(local)
    assert outcomes(run) == outcomes(local)
    assert sorted(r.student for r in seen) == sorted(EXPECTED)  # each reported as it came
    for name in ("grades.csv", "canvas.csv"):
        assert (tmp_path / "out" / name).read_text() == (local.out / name).read_text()
    for key in run.keys:  # saved as a local run saves it, hash of the source and all
        theirs = json.loads((tmp_path / "out" / "results" / f"{key}.json").read_text())
        ours = json.loads((local.out / "results" / f"{key}.json").read_text())
        assert theirs.pop("seconds") > 0 and ours.pop("seconds") > 0
        assert theirs == ours
        assert (tmp_path / "out" / "feedback" / f"{key}.html").is_file()
    assert (tmp_path / "out" / "report.html").is_file()


def test_a_result_that_breaks_the_rules_is_a_grader_error_not_a_score(local, klass):
    """The client believes only a result of the right shape, from the same advpy."""
    alice = local.results[local.keys.index("alice")]
    sub = Submission(path=klass / "alice_generators.py", assignment="generators",
                     student="alice", source=klass / "alice_generators.py")
    grader = cluster.fingerprint("generators", Settings())
    data = {**alice.to_json(), "seconds": 1.0}
    assert cluster.checked((grader, json.dumps(data)), sub, grader).score == 18
    lies = [
        {**data, "score": 19.0},  # more than its questions
        {**data, "complete": "yes"},
        {**data, "assignment": "threads"},
        {**data, "questions": data["questions"][1:]},
        {**data, "questions": [{**data["questions"][0], "tests": [
            {**t, "status": "failed"} for t in data["questions"][0]["tests"]]},
            *data["questions"][1:]]},  # points for tests that failed
    ]
    for lie in lies:
        with pytest.raises(ValueError):
            cluster.checked((grader, json.dumps(lie)), sub, grader)
    with pytest.raises(ValueError, match="another advpy"):
        cluster.checked(("0" * 64, json.dumps(data)), sub, grader)
    with pytest.raises(ValueError):
        cluster.checked(data, sub, grader)


def test_packing_keeps_what_prepare_reads(klass, tmp_path):
    """A student's folder travels with its helpers; a lone file without its neighbours."""
    erin = Submission(path=klass / "erin", assignment="generators", student="erin",
                      source=klass / "erin" / "generators.py")
    parcel = cluster.pack(erin)
    assert [name for name, _ in parcel.helpers] == ["helper.py"]
    rebuilt = cluster.unpack(parcel, tmp_path)
    assert rebuilt.path.is_dir() and (rebuilt.path / "helper.py").read_bytes() == (
        SOLUTION.read_bytes())
    alice = dataclasses.replace(erin, path=klass / "alice_generators.py",
                                source=klass / "alice_generators.py")
    assert cluster.pack(alice).helpers == ()


def test_a_submission_that_crashes_its_worker_every_time_is_incomplete(dask_cluster, tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_crash.py").write_text(CRASHING_JUDGE)
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("crash_generators.py", "alice_generators.py"):
        shutil.copy(SOLUTION, folder / name)
    run = classroom.grade_class([folder], assignment="generators", out=tmp_path / "out",
                                dask=dask_cluster.address,
                                settings=Settings(hidden_tests=hidden))
    results = dict(zip(run.keys, run.results, strict=True))
    crash, alice = results["crash"], results["alice"]
    assert not crash.complete and crash.score == 0
    assert any("ended a Dask worker" in error for error in crash.grader_errors), crash.errors
    assert alice.complete and alice.score == 18
    assert sorted(p.stem for p in (tmp_path / "out" / "results").glob("*.json")) == [
        "alice", "crash"]
    assert "crash" in (tmp_path / "out" / "grades.csv").read_text()
    with Client(dask_cluster.address, timeout=STARTUP) as client:
        client.wait_for_workers(2, timeout=STARTUP)  # the nannies restart what crashed


def test_a_timing_test_runs_while_no_other_worker_of_its_machine_grades(dask_cluster,
                                                                          tmp_path):
    log = tmp_path / "log.txt"
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_logged.py").write_text(LOGGED.format(log=str(log)))
    folder = tmp_path / "class"
    folder.mkdir()
    for number in range(6):
        shutil.copy(SOLUTION, folder / f"s{number}_generators.py")
    run = classroom.grade_class([folder], assignment="generators", out=tmp_path / "out",
                                dask=dask_cluster.address,
                                settings=Settings(hidden_tests=hidden))
    assert all(r.complete for r in run.results), [r.errors for r in run.results]
    runs = [line.split() for line in log.read_text().splitlines()]
    runs = [(kind, int(pid), float(start), float(end)) for kind, pid, start, end in runs]
    assert len(runs) == 12 and len({pid for _, pid, _, _ in runs}) == 2  # both workers graded
    for kind, pid, start, end in runs:
        if kind == "timing":
            beside = [(s, e) for k, p, s, e in runs if p != pid and s < end and e > start]
            assert not beside, f"a timing test ran from {start} to {end} beside {beside}"


def test_an_interrupted_cluster_run_resumes_with_local_workers(dask_cluster, klass, local,
                                                               tmp_path):
    out = tmp_path / "out"
    seen = []

    def stop_after_two(result) -> None:
        seen.append(result)
        if len(seen) == 3:
            raise KeyboardInterrupt  # as Ctrl-C: this third result is not kept

    with pytest.raises(KeyboardInterrupt):
        classroom.grade_class([klass], assignment="generators", out=out,
                              dask=dask_cluster.address, progress=stop_after_two)
    kept = {p.stem: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    assert len(kept) == 2
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(klass), "-a",
                           "generators", "--out", str(out), "--dask", "local:2"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "4 graded now, 2 kept from an earlier run" in " ".join(done.stdout.split())
    assert "Warning" not in done.stderr, done.stderr
    now = {p.stem: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    assert sorted(now) == sorted(EXPECTED)
    assert all(now[key] == mtime for key, mtime in kept.items())  # not graded again
    assert (out / "grades.csv").read_text() == (local.out / "grades.csv").read_text()


def test_a_worker_killed_mid_run_loses_no_result(dask_cluster, klass, local, tmp_path):
    """Last in this module: it leaves the cluster one worker."""
    killed = []
    with Client(dask_cluster.address, timeout=STARTUP) as observer:

        def kill_a_busy_worker(result) -> None:
            if killed:
                return
            busy = {address: keys for address, keys in observer.processing().items() if keys}
            assert busy, "no worker has a task in hand"
            address, keys = next(iter(busy.items()))
            name = observer.scheduler_info(n_workers=-1)["workers"][address]["name"]
            _end(dask_cluster.workers[name], signal.SIGKILL)
            killed.append((name, keys))

        run = classroom.grade_class([klass], assignment="generators", out=tmp_path / "out",
                                    dask=dask_cluster.address, progress=kill_a_busy_worker)
    assert killed and killed[0][1]
    assert outcomes(run) == outcomes(local)  # the lost worker's task ran again elsewhere
    assert sorted(p.stem for p in (tmp_path / "out" / "results").glob("*.json")) == sorted(
        EXPECTED)
    assert (tmp_path / "out" / "grades.csv").read_text() == (
        local.out / "grades.csv").read_text()
