"""Hidden tests for the threads assignment.

Races are made to show every time: the lock handed to increase is
instrumented, database_value is an int that reports the + 1 done on it,
and the first thread in the middle of its read-modify-write is held there
until another thread joins it (a race, proven) or every other thread waits
for the lock. Concurrency is checked with barriers that only threads running
at the same time can pass; hangs are interrupted and reported with where
the threads were.

Feedback says what is checked and what the student's code did, never the
expected answer of a hidden test.

PYTEST_DONT_REWRITE: feedback is the assert message alone, never pytest's
explanation (which would show a hidden test's expected answer).
"""

from statistics import median

from autograder.hidden.threads import judges_hidden as hidden
from autograder.hidden.threads.judges_hidden import NOT_DAEMON
from autograder.judges import threads as judge
from autograder.judges.threads import run_probe
from autograder.probes import threads as probe
from autograder.testing import check

# q6: how long the call of item 0 keeps its thread busy, at most, while the
# free workers should process every other item (a few ms of work each).
HOLD_SECONDS = 2.0

# q1 ----------------------------------------------------------------------
@check("q1", after="test_run_threads_runs_target", timing=True)
def test_run_threads_concurrent(student):
    """run_threads starts all its threads before joining any (they meet at a barrier)"""
    seen = run_probe(student, probe.run_threads, 6, True, 0.0, what="run_threads(target, 6)")
    assert seen["barrier_passed"] == 6 and seen["barrier_missed"] == 0, (
        f"each of the 6 calls of target waited at a barrier that only threads running at "
        f"the same time can pass; {seen['barrier_passed']} got through and "
        f"{seen['barrier_missed']} waited in vain. Start every thread first, then join them.")


@check("q1", weight=0.5, after="test_run_threads_runs_target")
def test_run_threads_joins(student):
    """every thread has finished when run_threads returns (it joins them all)"""
    seen = run_probe(student, probe.run_threads, 5, False, 0.02, what="run_threads(target, 5)")
    assert seen["alive_at_return"] == 0, (
        f"when run_threads(target, 5) returned, {seen['alive_at_return']} of its threads were "
        "still running target: join every thread before returning")


@check("q1", weight=0.5)
def test_run_threads_default(student):
    """run_threads(target) starts the default number of threads"""
    seen = run_probe(student, probe.run_threads, None, False, 0.0, what="run_threads(target)")
    why = ("; target ran in the calling thread itself: give it to threading.Thread(target=…)"
           if seen["in_caller"] else "; check the default of num_threads")
    assert seen["calls"] == 10 and seen["threads"] == 10 and seen["returned_that_ran"] == 10, (
        f"run_threads(target) ran target {seen['calls']} time(s) in {seen['threads']} "
        f"thread(s) and returned {seen['returned_that_ran']} of them{why}."
        f"{judge.errors_text(seen['errors'])}")


# q2 ----------------------------------------------------------------------
@check("q2", after="test_increase_uses_the_lock", timing=True)
def test_increase_lock_covers_everything(student):
    """the lock is held across the whole read, latency and write of increase"""
    seen = run_probe(student, probe.increase_once, what="increase(lock)")
    outside = [a for a in seen["adds"] if not a["held"]]
    assert not outside, (
        "increase added one to the value it read from database_value while the lock was "
        "not held: the read and the + 1 must happen inside the lock too")
    holds = seen["holds"]
    final = seen["final"]
    writes = [h for h in holds if h["after"] != h["before"] and h["after"] == final]
    assert writes, (
        "database_value was written while the lock was not held (it did not change while "
        "increase held the lock): the write must happen inside the lock")
    write = writes[-1]
    if seen["adds"]:
        assert all(a["hold"] == write["n"] for a in seen["adds"]), (
            "increase released the lock between the read and the write, and took it again: "
            "another thread can slip in between; hold it once for the whole sequence")
    slept_outside = [s for s in seen["sleeps"] if not s["held"] and (s["seconds"] or 0) > 0]
    assert write["seconds"] >= 0.8 * hidden.LATENCY and not slept_outside, (
        f"the lock was held for {write['seconds']:.3f} s around the write"
        f"{' and time.sleep ran while it was not held' if slept_outside else ''}: the "
        f"simulated latency (time.sleep({hidden.LATENCY:g})) between the read and the write "
        "must happen while the lock is held")
    # The first thread to ask for the lock waits until the other has held it:
    # whatever it read before asking is stale then, however it adds one.
    what = "2 threads each calling increase(lock) once, sharing one lock"
    seen = run_probe(student, probe.increase_contention, 2, "asker", what=what)
    assert not seen["stale"], (
        "with 2 threads, one of them added one to the value of database_value it had read "
        "before it took the lock, after the other thread had written a new value: read "
        "database_value inside the lock")
    assert not seen["errors"], f"increase raised in a thread.{judge.errors_text(seen['errors'])}"
    value = seen["final"]["value"]
    assert value == 2, (
        f"{what}, the first to ask for the lock waiting until the other had held it: "
        f"database_value ended at {value!r}, an update was lost. A value of database_value "
        "read before the lock was taken was written back: read, add one and write all "
        "while holding the lock")


@check("q2", after="test_increase_uses_the_lock", timing=True)
def test_increase_under_contention(student):
    """5 threads calling increase(lock) at once, sharing the lock, lose no update"""
    seen = run_probe(student, probe.increase_contention, 5,
                     what="5 threads each calling increase(lock) once, sharing one lock")
    assert not seen["errors"], f"increase raised in a thread.{judge.errors_text(seen['errors'])}"
    value = seen["final"]["value"]
    race = (" While one thread was between its read and its write, another thread read "
            "database_value too: both wrote the same value." if seen["race"] else "")
    assert value == 5, (
        f"5 threads each called increase(lock) once, all with the same lock, and "
        f"database_value ended at {value!r}: updates were lost.{race} Hold the lock given "
        "to increase across the read, the latency and the write.")


@check("q2", after="test_increase_uses_the_lock")
def test_increase_releases_on_error(student):
    """increase releases the lock even when its body raises"""
    seen = run_probe(student, probe.increase_once, True,
                     what="increase(lock) whose body raises halfway")
    assert seen["injected"], (
        "the grader makes the + 1 or the time.sleep inside increase raise, but increase "
        "did neither; keep the read, + 1, time.sleep, write shape of the stub")
    assert seen["acquired"] >= 1, "increase never acquired the lock it was given"
    assert not seen["still_locked"], (
        "when the body of increase raised an exception, the lock stayed locked: every later "
        "call would wait for it forever. Use `with lock:`, or release it in a `finally:`.")


# q3 ----------------------------------------------------------------------
@check("q3")
def test_run_increase_resets(student):
    """run_increase sets database_value to 0 before its threads start"""
    seen = run_probe(student, probe.run_increase, 3, 7,
                     what="run_increase(3) with database_value = 7")
    assert seen["returned"] == 3, (
        f"with database_value at 7 beforehand, run_increase(3) returned {seen['returned']!r}"
        f".{judge.errors_text(seen['errors'])}")
    seen = run_probe(student, probe.run_increase, None, 5,
                     what="run_increase() with database_value = 5")
    assert seen["returned"] == 2, (
        f"run_increase() returned {seen['returned']!r}; check the default of num_threads"
        f".{judge.errors_text(seen['errors'])}")


@check("q3", weight=2, after="test_run_increase_two")
def test_run_increase_threads_and_lock(student):
    """run_increase(6) runs 6 threads that share one lock, joins them, and returns database_value"""
    seen = run_probe(student, probe.run_increase, 6, what="run_increase(6)")
    assert seen["calls"] == 6 and seen["threads"] == 6 and seen["in_caller"] == 0, (
        f"run_increase(6) called increase {seen['calls']} times from {seen['threads']} "
        f"threads ({seen['in_caller']} times from the calling thread itself)")
    assert seen["locks"] == 1, (
        f"the 6 calls of increase were given {seen['locks']} different locks "
        f"({', '.join(seen['lock_types'])}); a lock protects only if every thread uses the "
        "same one: make one lock before starting the threads")
    assert "NoneType" not in seen["lock_types"], "run_increase called increase(None)"
    assert seen["alive_at_return"] == 0, (
        f"when run_increase(6) returned, {seen['alive_at_return']} of its threads were still "
        "running: join them before reading database_value")
    assert seen["returned"] == seen["database_value"] and seen["returned"] == 6, (
        f"run_increase(6) returned {seen['returned']!r} while database_value was "
        f"{seen['database_value']!r}.{judge.errors_text(seen['errors'])}")


# q4 ----------------------------------------------------------------------
@check("q4", after="test_counter_under_contention", timing=True)
def test_counter_amounts_under_contention(student):
    """8 threads incrementing one counter by different amounts at once lose no update"""
    amounts = list(range(1, 9))
    seen = run_probe(student, probe.counter_contention, amounts, 15,
                     what="8 threads each calling counter.increment(k) 15 times, k = 1 … 8")
    assert not seen["errors"], f"increment raised in a thread.{judge.errors_text(seen['errors'])}"
    assert seen["value"] == 15 * sum(amounts), (
        f"8 threads each called counter.increment(k) 15 times (k = 1 … 8), and counter.value "
        f"ended at {seen['value']!r}: updates were lost or amounts ignored")


@check("q4", after="test_counter_under_contention")
def test_counter_basics(student):
    """value starts at 0, increment() adds 1, counters count separately, value is read-only"""
    seen = run_probe(student, probe.counter_basics, what="ThreadSafeCounter() and its methods")
    assert seen["initial"] == 0, f"a new counter's value was {seen['initial']!r}"
    assert seen["after_one"] == 1 and seen["after_six"] == 6, (
        f"after increment() its value was {seen['after_one']!r}, and after increment(5) "
        f"{seen['after_six']!r}")
    assert seen["second"] == 2 and seen["first_again"] == 6, (
        f"a second counter incremented by 2 had value {seen['second']!r} and the first one "
        f"then had {seen['first_again']!r}: each counter must keep its own count")
    assert seen["set_raised"] and seen["after_set"] == 6, (
        "counter.value = 100 " + ("raised nothing" if not seen["set_raised"] else
                                  f"raised {seen['set_raised']}")
        + f" and value was then {seen['after_set']!r}: value must be a read-only property")


# q5 ----------------------------------------------------------------------
@check("q5", after="test_heartbeat_runs", timing=True)
def test_heartbeat_interval(student):
    """the heartbeat appends time.monotonic() about every interval (0.01, 0.05 s), forever"""
    # Two intervals, so that a heartbeat which sleeps a fixed time whatever
    # `interval` says shows; each judged by the median gap (a loaded machine
    # makes a few sleeps late, never early).
    for interval, watch, enough in ((0.01, 0.09, None), (0.05, 0.6, 7)):
        what = f"start_heartbeat({interval}, beats)"
        seen = run_probe(student, probe.heartbeat, interval, watch, enough, what=what)
        _judge_beats(seen, what, interval, watch, enough or 4)


def _judge_beats(seen: dict, what: str, interval: float, watch: float, enough: int) -> None:
    beats = seen["beats"]
    assert seen["daemon"] and seen["alive_at_end"], (
        f"{what}: the heartbeat thread stopped, or is no daemon")
    assert all(isinstance(b, float) for b in beats), (
        f"beats held {beats[:3]!r}…: append the float time.monotonic() returns")
    assert all(seen["started"] - 0.001 <= b <= seen["ended"] + 0.001 for b in beats), (
        "the beats are not time.monotonic() readings taken since start_heartbeat was called "
        "(time.time() and time.perf_counter() are other clocks)")
    assert beats == sorted(beats) and len(beats) >= 4, (
        f"{what}: in {seen['ended'] - seen['started']:.2f} s the heartbeat appended "
        f"{len(beats)} beats{'' if beats == sorted(beats) else ', out of order'}")
    gap = median(b - a for a, b in zip(beats, beats[1:], strict=False))
    assert 0.7 * interval <= gap <= 2 * interval + 0.01, (
        f"{what}: the beats came {gap:.4f} s apart (median), not about every {interval} s: "
        "sleep `interval` seconds between beats")
    assert beats[-1] >= seen["ended"] - (3 * interval + 0.05), (
        f"{what}: the heartbeat stopped beating; it should go on forever")
    assert seen["writer_is_returned"] in (True, None), (
        "the beats were appended by another thread than the one start_heartbeat returned")


@check("q5", weight=2, timeout=15, timing=True)
def test_heartbeat_lets_program_exit(student):
    """a program that started a heartbeat exits when its main thread ends"""
    what = "a fresh Python program that calls start_heartbeat(0.01, beats) and then ends"
    seen = run_probe(student, probe.heartbeat_exit, 0.01, 2.0, what=what, hint=NOT_DAEMON,
                     timeout=12)
    assert seen["reported"], (
        f"{what}: start_heartbeat did not return (or the module did not import) within "
        f"{seen['seconds']:.0f} s")
    report = seen["report"]
    assert report.get("started"), (
        f"{what}: " + (report.get("error") or "start_heartbeat did not return"))
    assert report.get("beats"), (
        f"{what}: the heartbeat did not beat once in 1 s; start the thread before returning it")
    alive = report.get("non_daemon")
    assert seen["exited"], (
        f"{what}: the program was still running 2 s after its main thread ended"
        f"{f' ({alive} non-daemon thread(s) were alive)' if alive else ''}. {NOT_DAEMON}")


# q6 ----------------------------------------------------------------------
def _judge_case(seen: dict, what: str, items: list, workers: int) -> None:
    # Judged as it was at the return: threads still running afterwards would
    # fill the results in later (mutation study: no join at all).
    assert not seen["busy_at_return"], (
        f"{what} returned while the worker was still running on {seen['busy_at_return']} "
        "item(s): wait for the workers to finish (join them) before returning the results")
    want = [f"w({i!r})" for i in items]
    assert seen["results"] == want, (
        f"{what} returned {str(seen['results'])[:200]}: not the worker's result for every "
        f"item, in the order of the items.{judge.errors_text(seen['errors'])}")
    # Counted while the worker runs: a thread too many is seen even when it
    # gets no item (mutation study: a default of 5 workers).
    assert seen["started"] is None or seen["started"] <= workers, (
        f"{what} had {seen['started']} threads of its own running at once while the worker "
        f"ran, more than {workers}: start exactly num_workers worker threads, and let the "
        "calling thread put the items on the queue")
    assert hidden.counts(seen["calls"]) == hidden.counts(items), (
        f"{what} called the worker {len(seen['calls'])} times for {len(items)} items: each "
        "item must be processed exactly once")
    assert seen["threads"] <= workers, (
        f"{what} ran the worker in {seen['threads']} different threads, more than {workers}")
    assert not seen["left_running"], (
        f"{what} returned but threads were still running: "
        f"{judge.threads_text(seen['left_running'])}. Tell every worker to stop (a sentinel "
        "each) and join them before returning.")


@check("q6", after="test_process_queue_results", timing=True)
def test_process_queue_concurrent(student):
    """process_queue runs num_workers workers at once, each free one taking the next item"""
    cases = [{"items": list(range(6)), "workers": 3, "barrier": 3},
             {"items": list(range(8)), "workers": None, "barrier": 4}]
    # Producer and consumers: while one worker is busy with item 0, the free
    # ones take every other item from the queue. Items shared out in advance
    # (items[i::3], or in slices) leave some waiting behind item 0.
    held = {"items": list(range(9)), "workers": 3, "hold": [0, 8, HOLD_SECONDS]}
    cases.append(held)
    seen = run_probe(student, probe.process_queue, cases, what="process_queue with a barrier")
    for case, report in zip(cases, seen, strict=True):
        n = len(case["items"])
        workers = case["workers"]
        what = (f"process_queue(range({n}), worker" + (f", {workers})" if workers else ")"))
        if case is held:
            _judge_case(report, what, case["items"], workers)
            hold = report["held"]
            assert hold is not None and hold["released"], (
                f"{what}: while one worker thread was busy with item 0, the 2 free ones "
                f"processed only {hold['ended'] if hold else 'some'} of the other 8 items in "
                f"{HOLD_SECONDS:g} s: the rest waited for the busy thread. Let each worker take "
                "the next item from one shared queue whenever it is free, rather than a share "
                "of the items fixed in advance.")
            continue
        _judge_case(report, what, case["items"], case["barrier"])
        assert report["barrier_missed"] == 0, (
            f"{what}: each call of the worker waited at a barrier that only "
            f"{case['barrier']} calls running at the same time can pass; "
            f"{report['barrier_passed']} got through and {report['barrier_missed']} waited in "
            f"vain (at most {report['peak']} ran at once). Start all the workers before "
            "waiting for any, and let each take its own items from the queue.")


@check("q6", after="test_process_queue_results")
def test_process_queue_exactly_once(student):
    """every item is processed exactly once and results keep the order, duplicates included"""
    items = [5, 3, 5, 1, 9, 3, 0, 7, 2, 5, 4, 8]
    delays = {i: 0.002 * ((7 * i) % 5) for i in set(items)}
    cases = [{"items": items, "workers": 3, "delays": delays}]
    (seen,) = run_probe(student, probe.process_queue, cases,
                        what="process_queue(12 items with repeats, worker, 3)")
    _judge_case(seen, "process_queue(12 items with repeats, worker, 3)", items, 3)


@check("q6", after="test_process_queue_results")
def test_process_queue_edges(student):
    """no items, more workers than items, and a single worker"""
    cases = [{"items": [], "workers": 4}, {"items": [7, 8], "workers": 5},
             {"items": list(range(5)), "workers": 1, "delays": {i: 0.003 for i in range(5)}}]
    seen = run_probe(student, probe.process_queue, cases, what="process_queue on edge cases")
    names = ["process_queue([], worker, 4)", "process_queue([7, 8], worker, 5)",
             "process_queue(range(5), worker, 1)"]
    for case, report, name in zip(cases, seen, names, strict=True):
        _judge_case(report, name, case["items"], case["workers"])
