"""Public checks for the threads assignment. Run them with

    advpy check threads.py        (or threads.ipynb)

The grader runs these and more: passing them all does not mean full marks.
It makes races happen on purpose, so racy code fails these checks every time.

PYTEST_DONT_REWRITE: feedback is the assert message alone, never pytest's
explanation (which would show a hidden test's expected answer).
"""

from autograder.judges import threads as judge
from autograder.judges.threads import run_probe
from autograder.probes import threads as probe
from autograder.testing import check


@check("q1", hidden=False)
def test_run_threads_runs_target(student):
    """run_threads(target, 5) runs target once in each of 5 new threads and returns them"""
    seen = run_probe(student, probe.run_threads, 5, False, 0.0, what="run_threads(target, 5)")
    assert seen["calls"] == 5 and seen["threads"] == 5 and seen["in_caller"] == 0, (
        f"run_threads(target, 5) ran target {seen['calls']} time(s), in {seen['threads']} "
        f"distinct thread(s) ({seen['in_caller']} time(s) in the calling thread itself); "
        f"it should run it once in each of 5 new threads.{judge.errors_text(seen['errors'])}")
    assert seen["is_list"] and seen["returned_len"] == 5 and seen["returned_that_ran"] == 5, (
        f"run_threads(target, 5) returned a {seen['returned_type']}"
        f"{'' if seen['returned_len'] is None else ' of ' + str(seen['returned_len'])}; "
        "it should return the list of the 5 threading.Thread objects it started")


@check("q2", hidden=False)
def test_increase_uses_the_lock(student):
    """increase(lock) adds one to database_value, reading and writing it while holding lock"""
    seen = run_probe(student, probe.increase_once, what="increase(lock) with database_value = 0")
    final = seen["final"]
    assert final["value"] == 1, (
        f"after increase(lock), database_value was {final['value']!r}, not 1")
    assert seen["acquired"] >= 1, (
        "increase(lock) never acquired the lock it was given. Hold that lock (with lock:) "
        "around the read, the latency and the write; a lock made inside increase is a new "
        "lock on every call and protects nothing.")
    assert not seen["still_locked"], "increase(lock) returned with the lock still held"
    assert all(add["held"] for add in seen["adds"]), (
        "increase read database_value and added one to it while the lock was not held; "
        "locking only the write lets two threads read the same old value")
    assert any(h["after"] != h["before"] and h["after"] == final for h in seen["holds"]), (
        "database_value was written while the lock was not held; the write must happen "
        "inside the lock")


@check("q3", hidden=False)
def test_run_increase_two(student):
    """run_increase(2) returns 2 (run with the grader's own correct increase)"""
    seen = run_probe(student, probe.run_increase, 2, what="run_increase(2)")
    why = ""
    if seen["alive_at_return"]:
        why = f" It returned while {seen['alive_at_return']} of its threads were still running."
    elif seen["locks"] > 1:
        why = f" The {seen['calls']} calls of increase were given {seen['locks']} different locks."
    assert seen["returned"] == 2, (
        f"run_increase(2) returned {seen['returned']!r} ({seen['returned_type']}), not 2; "
        f"the grader's increase was called {seen['calls']} times.{why}"
        f"{judge.errors_text(seen['errors'])}")


@check("q4", hidden=False, timing=True)
def test_counter_under_contention(student):
    """4 threads each calling counter.increment(1) 30 times at once lose no update"""
    seen = run_probe(student, probe.counter_contention, [1, 1, 1, 1], 30,
                     what="4 threads each calling counter.increment(1) 30 times")
    assert not seen["errors"], f"increment raised in a thread.{judge.errors_text(seen['errors'])}"
    assert seen["value"] == 120, (
        f"4 threads each called counter.increment(1) 30 times at once, and counter.value "
        f"ended at {seen['value']!r}, not 120: updates were lost. Another thread ran between "
        "the read and the write of increment; hold one lock across both.")


@check("q5", hidden=False, timing=True)
def test_heartbeat_runs(student):
    """start_heartbeat(0.01, beats) returns a running daemon thread that appends to beats"""
    seen = run_probe(student, probe.heartbeat, 0.01, 0.3, 3, what="start_heartbeat(0.01, beats)")
    assert seen["is_thread"], (
        f"start_heartbeat returned a {seen['type']}, not the threading.Thread it started")
    assert seen["alive_at_return"], "the thread start_heartbeat returned was not running"
    assert seen["daemon"], (
        "the heartbeat thread is not a daemon, so it would keep the program alive forever; "
        "create it with daemon=True")
    assert seen["count"] >= 3, (
        f"beats held {seen['count']} item(s) 0.3 s after start_heartbeat(0.01, beats); "
        "it should get one every 0.01 s")


@check("q6", hidden=False)
def test_process_queue_results(student):
    """process_queue(range(8), worker, 4) returns the worker's results in input order"""
    items = list(range(8))
    case = {"items": items, "workers": 4, "delays": {i: 0.003 * (8 - i) for i in items}}
    (seen,) = run_probe(student, probe.process_queue, [case],
                        what="process_queue(range(8), worker, 4)")
    want = [f"w({i})" for i in items]
    assert seen["results"] == want, (
        f"process_queue(range(8), worker, 4) returned {seen['results']!r}; "
        f"the worker's results in input order are {want!r}.{judge.errors_text(seen['errors'])}")
    assert not seen["left_running"], (
        f"process_queue returned but threads were still running: "
        f"{judge.threads_text(seen['left_running'])}. Tell every worker to stop (a sentinel "
        "each) and join them before returning.")
