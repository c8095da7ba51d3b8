"""The processes assignment, beyond the scores of tests/test_assignments.py:
pickling errors are named in the feedback, a single CPU switches the speedup
test to judging concurrency (and says so), nothing a submission starts
outlives its grading, the values and yardsticks the judges trust are
computed by the grader's own code, a timed wait cannot be skipped (salts),
and only the target's own work proves that it ran (nonces)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT, SUBMISSIONS, grade_file
from hypothesis import given
from hypothesis import strategies as st

from autograder.hidden.processes import judges_hidden as hidden
from autograder.judges import processes as judge
from autograder.probes import machine, payloads
from autograder.probes import processes as probe

OURS = SUBMISSIONS / "processes"
REFERENCE = ROOT / "solutions" / "processes" / "processes.py"


def _feedback(result, qid):
    return [t.feedback for q in result.questions if q.id == qid for t in q.tests]


@pytest.mark.parametrize("name", ["q3_lambda.py", "q3_lambda_notebook.ipynb"])
def test_a_lambda_handed_to_a_pool_is_named_pickling(name):
    result = grade_file(OURS / name, "processes")
    first = _feedback(result, "q3")[0]
    assert "pickl" in first.lower() and "module-level function" in first, first


def _grade_on_one_cpu(paths):
    """Grade in a child process whose CPU affinity is a single CPU."""
    cpu = min(os.sched_getaffinity(0))
    code = ("import json, sys; from autograder import api; "
            "print(json.dumps([r.to_json() for r in api.grade(sys.argv[1:], "
            "assignment='processes')]))")
    out = subprocess.run([sys.executable, "-c", code, *map(str, paths)], cwd=ROOT,
                         capture_output=True, text=True, check=True,
                         preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity")
def test_one_cpu_judges_concurrency_and_says_so():
    reference, serial, one_worker, threads = _grade_on_one_cpu(
        [REFERENCE, OURS / "q3_serial.py", OURS / "q3_one_worker.py",
         OURS / "q3_threads_in_one_child.py"])
    assert reference["score"] == 17, reference
    titles = [t["name"] for q in reference["questions"] for t in q["tests"]]
    assert any("speedup not measurable here" in title and "1 CPU" in title for title in titles), (
        titles)
    for wrong in (serial, one_worker):
        q3 = next(q for q in wrong["questions"] if q["id"] == "q3")
        assert q3["score"] == 0, wrong
    # Waits overlap in threads too: on one CPU, the kernel must name distinct processes.
    q3 = next(q for q in threads["questions"] if q["id"] == "q3")
    assert q3["score"] == 3, threads


def _leftovers():
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and Path(f"/proc/{entry}/comm").read_text().strip() == (
                    "advpy-leftover"):
                found.append(int(entry))
        except OSError:
            continue
    return found


def test_nothing_a_submission_starts_outlives_its_grading():
    untidy = grade_file(OURS / "correct_leaves_processes_behind.py", "processes")
    assert untidy.score == 17, [(q.id, q.score) for q in untidy.questions]
    deadline = time.monotonic() + 5
    while _leftovers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _leftovers(), "processes of the untidy submission survived its grading"
    after = grade_file(REFERENCE, "processes")
    assert after.score == 17, [(q.id, q.score) for q in after.questions]


def test_work_values_are_computed_by_the_grader_alike():
    """What ``work`` returns in the student's processes, what the judge computes
    in the grader and what the supervisor's calibration computes agree."""
    items = judge.work_items(5, 3000, 0.0)
    want = [payloads.work(tuple(item)) for item in items]
    assert hidden.values(items) == want
    assert machine.calibrate_map(items, 2)["values"] == want
    assert all(0 <= value <= payloads.MASK for value in want)
    assert len(set(want)) == 5  # a fresh seed for each item


def test_a_number_costs_its_loop_wherever_it_is_known():
    """parallel_sum_of_squares gets numbers whose value only their loop gives,
    in whichever process squares them or turns them into an int; they pickle
    as their seed, never as their value."""
    number = payloads.Number(987654321, 3000)
    want = payloads.mix(987654321, 3000) % (1 << 20)
    copy = pickle.loads(pickle.dumps(number))
    assert copy.known is None and int(copy) == want and copy.known == want
    assert number * number == pow(number, 2) == number**2 == want * want
    assert sum(x * x for x in [number, payloads.Number(5, 10)]) == want * want + (
        payloads.mix(5, 10) % (1 << 20)) ** 2
    assert pickle.loads(pickle.dumps(number)).known is None


@given(serial=st.floats(0.05, 20), gain=st.floats(0.5, 16), start=st.floats(0.0, 3.0),
       slower=st.floats(0.9, 3.0))
def test_a_serial_run_never_passes_a_decided_speed_test(serial, gain, start, slower):
    """However long pools take to start here, a run is judged only when a
    serial one (at least 90% of the serial time: CPU time is noisy) cannot pass."""
    run = judge.MapRun(window=slower * serial, caller=0.0, cpu=serial, serial=serial,
                       gain=gain, start=start, workers=4)
    assert not (run.decidable and run.fast)


@given(serial=st.floats(0.05, 20), gain=st.floats(1.2, 16), start=st.floats(0.0, 3.0))
def test_longer_items_make_a_speed_test_decidable(serial, gain, start):
    run = judge.MapRun(window=0.0, caller=0.0, cpu=serial, serial=serial, gain=gain,
                       start=start, workers=4)
    longer = judge.MapRun(window=0.0, caller=0.0, cpu=run.serial_needed,
                          serial=run.serial_needed, gain=gain, start=start, workers=4)
    assert run.decidable or longer.decidable or run.serial_needed == float("inf")


def _in_threads(function, items: list) -> tuple[list, float]:
    """``function`` on each item, each in a thread of its own: results, wall seconds."""
    results: list = [None] * len(items)

    def run(index: int) -> None:
        results[index] = function(items[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(items))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.monotonic() - started


def test_a_timed_wait_cannot_be_skipped():
    """An item that carries a salt server's address gets its value only once
    the server's wait (the seconds the grader told it) is over, whatever
    seconds the item says; the server names the process that asked."""
    items = judge.work_items(2, 1000, [0.3, 0.15])
    address = judge.salt_server()
    before = machine.serve_salts(items, address)
    assert before["values"] == [None, None] and before["pids"] == []
    assert before["items"] == [None, None] and before["groups"] == []
    rewritten = [(seed, iterations, 0, address) for seed, iterations, _ in items]
    got, took = _in_threads(payloads.work, rewritten)
    after = machine.serve_salts(items, address)
    assert took >= 0.3  # the longest wait, though the items said 0
    assert after["values"] == got and after["pids"] == [os.getpid()]
    assert [entry["pid"] for entry in after["items"]] == [os.getpid()] * 2
    assert after["cpus"] == machine.cpus()
    assert got != hidden.values(items)  # without its salt, no value is right
    # The calibration serves salts the same way, and computes the salted values.
    address = judge.salt_server()
    before = machine.calibrate_map(items, 2, False, address)
    assert before["values"] == [None, None] and before["pids"] == []
    got, took = _in_threads(payloads.work, [(*item, address) for item in items[:1]])
    after = machine.calibrate_map(items, 2, False, address)
    assert took >= 0.3 and after["values"] == [got[0], None]
    with pytest.raises(AssertionError, match="1 of the 2 items never got through their wait"):
        judge.unsalted("parallel_map(f, 2 items)", after["values"])


def test_only_the_targets_work_proves_that_it_ran():
    """A target takes a nonce from the probe's FIFO and answers with the mix
    of it; saying anything else, answering wrong or twice with one nonce
    proves nothing; runs that find every nonce taken count only once all
    were answered."""
    nonces = judge.nonces(2)
    answers = judge.proofs(nonces, 1000)
    listener = probe._Listener(nonces)
    try:
        target = payloads.Recorder(listener.address, listener.nonces, 1000)
        for _ in range(3):
            target()
        peers = listener.poll()
    finally:
        listener.close()
    assert [(p["nonce"], p["answer"], p["unserved"]) for p in peers] == [
        (nonces[0], answers[nonces[0]], False), (nonces[1], answers[nonces[1]], False),
        (None, None, True)]
    found = judge.proven("run_processes(target, 2)", peers, answers)
    assert found.pids == [os.getpid()] * 3  # two proven runs, and one more
    honest = {"pid": 7, "nonce": nonces[0], "answer": answers[nonces[0]], "unserved": False,
              "ended": True}
    for forged in ({**honest, "answer": answers[nonces[0]] ^ 1}, {**honest, "pid": 8},
                   {**honest, "nonce": 12345}):
        with pytest.raises(AssertionError, match="did not do target's work"):
            judge.proven("run_processes(target, 2)", [honest, forged], answers)
    unserved = {**honest, "nonce": None, "answer": None, "unserved": True}
    with pytest.raises(AssertionError, match="did not do target's work"):
        judge.proven("run_processes(target, 2)", [honest, unserved], answers)
    said_done = {**honest, "nonce": None, "answer": None}  # b"done", not an answer
    assert judge.runs([said_done], answers).pids == []


def _asking(address: str, seeds: list[int], pause: float = 0.0) -> None:
    """Ask the salt server for each seed, each in a thread of its own, ``pause``
    seconds apart; return once all have their salts."""
    threads = []
    for seed in seeds:
        threads.append(threading.Thread(target=payloads._salt, args=(address, seed)))
        threads[-1].start()
        time.sleep(pause)
    for thread in threads:
        thread.join()


def test_a_group_is_held_until_enough_wait_at_once():
    """A group of items is held until ``need`` requests wait at once (from as
    many processes, when they are counted) or its hold runs out; the server
    reports the most that waited at once, and how each salt went."""
    items = judge.work_items(6, 1000, 0.0)
    seeds = [item[0] for item in items]
    address = judge.salt_server()
    groups = [[3, 3, False], [3, 2, True]]
    machine.serve_salts(items, address, groups, 1.0)
    started = time.monotonic()
    _asking(address, seeds[:3])  # three threads at once: they gather
    gathered = time.monotonic() - started
    _asking(address, seeds[3:], pause=0.05)  # one process: never two distinct ones
    held = time.monotonic() - started - gathered
    time.sleep(0.05)  # for the server to hear the last ones hang up
    after = machine.serve_salts(items, address, groups, 1.0)
    assert gathered < 0.5 <= 0.9 <= held
    first, second = after["groups"]
    assert first["gathered"] and first["peak"] == 3 and first["peak_pids"] == 1
    assert not second["gathered"] and second["peak"] == 3 and second["peak_pids"] == 1
    assert first["pids"] == second["pids"] == [os.getpid()]
    assert [entry["how"] for entry in after["items"]] == [machine.GATHERED] * 3 + [
        machine.HELD_OUT] * 3
    assert all(entry["ended"] is not None for entry in after["items"])  # each hung up


def test_targets_run_one_after_another_are_named():
    """The gate's releases tell a run_processes whose targets all waited at
    once from one that started each only after the one before had ended."""
    pids = [11, 12, 13]

    def release(pid: int, how: int, asked: float, ended: float | None) -> dict:
        return {"pid": pid, "how": how, "asked": asked, "released": asked, "ended": ended}

    together = [release(pid, machine.GATHERED, 1.0 + pid / 100, 5.0) for pid in pids]
    hidden.started_together("run_processes(target, 3)", pids, together)
    serial = [release(11, machine.HELD_OUT, 1.0, 3.6), release(12, machine.OPEN, 3.7, 3.8),
              release(13, machine.OPEN, 3.9, 4.0)]
    with pytest.raises(AssertionError, match="the 2nd process started only after the 1st "
                                             "had ended: start them all, then join them all"):
        hidden.started_together("run_processes(target, 3)", pids, serial)
    overlapping = [release(11, machine.HELD_OUT, 1.0, 3.6), release(12, machine.OPEN, 1.1, 3.8),
                   release(13, machine.OPEN, 3.9, 4.0)]
    with pytest.raises(AssertionError, match="the 3rd process started only after the 2nd"):
        hidden.started_together("run_processes(target, 3)", pids, overlapping)


def test_a_salted_number_needs_its_salt():
    """A Number with a salt server's address asks it for its salt when its
    value is first needed (the server names who squared it), and pickles
    with the address, never with its value."""
    items = [[12345, 300, 0.0]]
    address = judge.salt_server()
    machine.serve_salts(items, address, [[1, 1, True]], 1.0)
    number = payloads.Number(12345, 300, address)
    copy = pickle.loads(pickle.dumps(number))
    assert copy.salts == address and copy.known is None
    value = int(copy)
    after = machine.serve_salts(items, address, [[1, 1, True]], 1.0)
    assert value == after["values"][0] & ((1 << 20) - 1)
    assert after["groups"][0]["pids"] == [os.getpid()]
