"""Hidden tests for the processes assignment.

Feedback says what is checked and what the student's code did, never the
expected answer of a hidden test.

What decides points comes from where the student's code cannot write
(``autograder/probes/processes.py`` says how each is observed):

- values: ``work`` returns a hash of a seed picked for each call that only
  its CPU-bound loop gives; the expected values are computed here, or by the
  grader's own processes (``probes/machine.py``) in the supervisor;
- where work ran: the worker's own CPU and its reaped children's CPU, read by
  the supervisor from the kernel when the probe starts and when it answers
  (work done in the calling process shows in its own CPU, whatever its
  return values say); for run_processes, the pid the kernel names on the
  other end of the target's socket, counted only when the target's answer
  to a nonce picked here proves it did the target's work;
- waits: where they are timed, each item's value needs a salt that the
  grader's salt server (in the supervisor) releases only once the item's
  wait is over, and the server names the processes that asked;
- speed: the wall time of the call on the supervisor's clock, against the
  serial time (the items' work at the fastest pace this machine showed, plus
  their waits), against what the grader's own processes did with the same
  items just before and just after it in the same sandbox, and, when the run
  started fresh interpreters (spawn, forkserver), against the time they take
  to start here (a pool pays that once). A serial run, whatever idle or busy
  processes sit beside it, takes at least the serial time, and a run is only
  judged when what it is allowed is clearly less than that (longer items
  otherwise). Where fewer than two CPUs are usable, or the machine is too
  busy to show our own processes' speedup, items that mostly wait (and
  compute a little) are used instead: waiting in several processes at once
  shows as wall time well under the serial sum, while the calling process's
  own CPU stays low and the salt server names at least two worker processes.

PYTEST_DONT_REWRITE: feedback is the assert message alone, never pytest's
explanation (which would show a hidden test's expected answer).
"""

import dataclasses
import math
import multiprocessing
import os
import weakref

from autograder.judges import processes as judge
from autograder.probes import machine
from autograder.probes import processes as probe
from autograder.testing import StudentFailure, check

ANSWERS = {
    "download 200 web pages": "thread",
    "resize 10,000 images in a pure-Python loop": "process",
    "count primes below 10**8 in pure Python": "process",
    "wait for replies from 50 database queries": "thread",
    "a task that must be killable from outside": "process",
    "many small tasks that update one shared in-memory dict": "thread",
}
# Every test runs under this platform's default start method; these tests
# add the others, one call each.
START_METHODS = [m for m in ("fork", "spawn", "forkserver")
                 if m in multiprocessing.get_all_start_methods()
                 and m != multiprocessing.get_context().get_start_method()]
METHOD_SECONDS = 10.0  # for one call under the spawn or the forkserver start method
METHOD_ITEM = 0.025  # CPU seconds of each item mapped under another start method

# q2: each target spends this much CPU, so that running it in the calling
# process shows in that process's CPU (the kernel's count, not a record).
TARGET_CPU = 0.1
CALLER_SHARE_OF_TARGET = 0.6

# q3 speedup. At most MAX_MEASURED_CPUS CPUs are measured, with ITEMS_PER_CPU
# CPU-bound items of ITEM CPU seconds each per CPU. A try is clean when the
# grader's own processes, run just before and just after, reached at least
# CLEAN of the ideal gain; a busy machine switches to items that wait.
MAX_MEASURED_CPUS = 4
ITEMS_PER_CPU = 4
ITEM = 0.03
CLEAN = 0.6
TRIES = 6
MAX_SCALE = 4.0
# Items that mostly wait (seconds waited, CPU seconds): on one CPU, or a busy one.
WAITING_ITEM = (0.05, 0.025)
WAITING_COUNT, WAITING_WORKERS = 8, 4

# q4: items that wait, and compute a little in the calling process.
IO_WAIT, IO_CPU, IO_COUNT, IO_WORKERS = 0.1, 0.01, 10, 4



def _cases(student, probe_function, *args, whats, timeout=10):
    """Run several calls in one probe call; yield (observation, what) for each,
    failing at the first that raised."""
    seen = judge.observe(student, probe_function, *args, what="; then ".join(whats),
                         timeout=timeout, hint=judge.HANGS).result
    for observation, what in zip(seen, whats, strict=False):
        if "error" in observation:
            raise StudentFailure(judge.raised(student, what, observation["error"]))
        yield observation, what


# q1 ----------------------------------------------------------------------
_choices_seen = weakref.WeakKeyDictionary()


def _choices(student):
    """CHOICES as the student process reports it, read once per submission."""
    key = getattr(student, "_process", None)
    if key is None or key not in _choices_seen:
        seen = student.call(probe.choices, what="reading CHOICES")
        if key is None:
            return seen
        _choices_seen[key] = seen
    return _choices_seen[key]


def _choice_test(number, workload):
    @check("q1", after="test_choices_shape")
    def test(student):
        seen = _choices(student)
        given = {pair[0]: pair[1] for pair in seen["pairs"] or []}
        assert given.get(workload) == ANSWERS[workload], (
            f"CHOICES[{workload!r}] is {given.get(workload)!r}, which is not the kind of "
            "worker a CPython program should use for it. Ask what this work spends its "
            "time on (running Python code, or waiting) and whether it needs something only "
            "one of the two gives (being stopped from outside, sharing memory cheaply).")

    test.__name__ = test.__qualname__ = f"test_choice_{number}"
    test.__doc__ = f"CHOICES picks the right kind of worker for {workload!r}"
    return test


for _number, _workload in enumerate(ANSWERS, start=1):
    globals()[f"test_choice_{_number}"] = _choice_test(_number, _workload)


# q2 ----------------------------------------------------------------------
def _targets(seen, what, answers):
    """The processes the target ran in (named by the kernel, proven by their
    answers), each once; fails when the target ran in the calling process."""
    result = seen.result
    pids = judge.proven(what, result["ran"], answers).pids
    assert result["caller"] not in pids, (
        f"{what}: target ran in the calling process; call start() on each Process (run() or "
        "calling target yourself runs it there)")
    assert len(set(pids)) == len(pids), f"{what}: target ran more than once in one process"
    return pids


def _not_in_caller(seen, what, targets):
    """The calling process's own CPU (the kernel's count) shows no target ran there."""
    spent = judge.caller_cpu(seen.evidence)
    assert spent < CALLER_SHARE_OF_TARGET * TARGET_CPU + 0.004 * targets, (
        f"{what}: the calling process used {spent:.2f} s of CPU, as much as running target "
        "there takes: call start() on each Process, never target() or run() yourself")


@check("q2", timeout=15, after="test_run_processes_runs_target")
def test_run_processes_default_and_join(student):
    """run_processes(target) starts os.cpu_count() processes by default and joins them all"""
    what = "run_processes(target) with the default num_processes"
    iterations = judge.iterations_for(0.02)
    # One nonce per CPU, and spares: the default may be any count of CPUs here.
    nonces = judge.nonces(max(os.cpu_count() or 1, os.sysconf("SC_NPROCESSORS_ONLN")) + 2)
    answers = judge.meanwhile(judge.proofs, nonces, iterations)
    seen = judge.observe(student, probe.run_processes, probe.DEFAULT, iterations, nonces,
                         what=what, timeout=15)
    answers = answers.result()
    result = seen.result
    pids = _targets(seen, what, answers)
    expected = {result["cpu_count"], result["affinity"]}
    assert len(pids) in expected, (
        f"with the default num_processes, target ran in {len(pids)} process(es); "
        f"os.cpu_count() is {result['cpu_count']} on this machine")
    finished = {p["pid"] for p in judge.runs(result["at_return"], answers).done if p["ended"]}
    late = [pid for pid in pids if pid not in finished]
    # The kernel closes a process's end of the socket when it ends; the
    # supervisor also sees a child that was never joined still there at the end.
    unjoined = set(pids) & judge.live_pids(seen.evidence)
    assert not late and not unjoined, (
        f"run_processes returned while {max(len(late), len(unjoined))} of its processes had "
        "not ended: join() every process before returning")
    returned = result["returned"] or []
    assert len(returned) == len(pids) and all(p["is_process"] for p in returned), (
        f"run_processes returned {result['repr']}, not the list of the processes it started")
    assert {p["pid"] for p in returned} == set(pids), (
        "the processes that run_processes returned are not the ones that ran target")
    assert all(p["exitcode"] == 0 for p in returned), (
        f"when run_processes returned, the exit codes of its processes were "
        f"{[p['exitcode'] for p in returned]}: join() each one so that it has ended")


@check("q2", timeout=15, after="test_run_processes_runs_target")
def test_run_processes_start_methods(student):
    """run_processes works under every start method (fork, spawn, forkserver)"""
    iterations = judge.iterations_for(TARGET_CPU)
    for method in START_METHODS:
        what = f"run_processes(target, 1) with the {method!r} start method"
        nonces = judge.nonces(1)
        answers = judge.meanwhile(judge.proofs, nonces, iterations)
        seen = judge.observe(student, probe.run_processes, 1, iterations, nonces, method,
                             what=what, timeout=METHOD_SECONDS, hint=judge.HANGS)
        pids = _targets(seen, what, answers.result())
        assert len(pids) == 1, (
            f"{what}: target ran in {len(pids)} child process(es), not once in one")
        _not_in_caller(seen, what, 1)


# q3 ----------------------------------------------------------------------
@check("q3", timeout=30, after="test_parallel_map_values")
def test_parallel_map_edges(student):
    """parallel_map keeps the order of items; handles no items, few items, default workers"""
    slow_first = judge.work_items(7, 2000, [0.005 * (7 - x) for x in range(7)])
    cases = [("square", [], 2), ("square", [3, -2], 4), ("work", slow_first, 3),
             ("square", list(range(-5, 15)), probe.DEFAULT)]
    whats = ["parallel_map(f, [], workers=2)", "parallel_map(f, [3, -2], workers=4)",
             "parallel_map(f, 7 items, workers=3), the first items the slowest",
             "parallel_map(f, 20 items) with the default workers"]
    wants = [[], [9, 4], judge.values(slow_first), [x * x for x in range(-5, 15)]]
    for (seen, what), want in zip(_cases(student, probe.mapped_cases, "parallel_map", cases,
                                         whats=whats, timeout=30), wants, strict=False):
        assert seen["values"] == want, (
            f"{what} returned {judge.shown(seen)}, not f(x) for each x, in order")


@check("q3", timeout=15, after="test_parallel_map_values")
def test_parallel_map_start_methods(student):
    """parallel_map works in worker processes under every start method (fork, spawn, forkserver)"""
    for method in START_METHODS:
        items = judge.work_items(6, judge.iterations_for(METHOD_ITEM))
        what = f"parallel_map(f, 6 items, workers=1) with the {method!r} start method"
        want = judge.meanwhile(judge.values, items)
        seen = judge.observe(student, probe.mapped, "parallel_map", "work", items, 1, method,
                             what=what, timeout=METHOD_SECONDS, hint=judge.HANGS)
        assert seen.result["values"] == want.result(), (
            f"{what} returned {judge.shown(seen.result)}, not f(x) for each x, in order")
        spent = judge.caller_cpu(seen.evidence)
        assert spent < judge.CALLER_SHARE * 6 * METHOD_ITEM + 0.01, (
            f"{what}: the calling process used {spent:.2f} s of CPU, about what the items "
            "need: f ran there, not in worker processes")


def _speedup_title(usable):
    """The title of the speedup test says how this machine judges it."""
    workers = min(int(usable), MAX_MEASURED_CPUS)
    if workers < 2:
        return ("parallel_map runs CPU-bound items in several processes at once (speedup not "
                f"measurable here: only {usable:g} CPU available)")
    return (f"parallel_map runs CPU-bound work on {workers} CPUs close to {workers} times as "
            "fast as a serial loop (timed when the machine has CPU to spare)")


def _plan(mode, workers, scale):
    """The items and workers of one try: CPU-bound items on ``workers`` CPUs,
    or items that mostly wait on WAITING_WORKERS processes; and the fastest
    pace of this machine now (CPU seconds per iteration)."""
    fastest = judge.pace()
    if mode == "cpu":
        items = judge.work_items(ITEMS_PER_CPU * workers, int(ITEM * scale / fastest))
        return (items, workers, fastest,
                f"parallel_map(f, {len(items)} CPU-bound items, workers={workers})")
    wait, cpu = WAITING_ITEM
    items = judge.work_items(WAITING_COUNT, int(cpu / fastest), wait * scale)
    return (items, WAITING_WORKERS, fastest,
            f"parallel_map(f, {WAITING_COUNT} items that wait and compute a little, "
            f"workers={WAITING_WORKERS})")


def _distinct_processes(seen, what):
    """Items that wait overlap in threads too: the salt server must have
    released salts to at least two worker processes (the kernel named them)."""
    pids = set(seen.evidence["around"]["after"]["pids"]) - {seen.result["caller"]}
    assert len(pids) >= 2, (
        f"{what}: the items ran in {len(pids)} worker process(es); their waits overlapped, but "
        "CPU-bound items need several processes at once (threads in one process take turns "
        "running Python code)")


@check("q3", weight=2, timeout=60, after="test_parallel_map_values")
def test_parallel_map_speedup(student):
    """parallel_map runs CPU-bound work in parallel, as fast as this machine allows"""
    usable = machine.cpus()["usable"]
    workers = min(int(usable), MAX_MEASURED_CPUS)
    mode, scale, short, busy = ("cpu" if workers >= 2 else "waiting"), 1.0, [], False
    measure_start = False
    for _ in range(TRIES):
        items, count, fastest, what = _plan(mode, workers, scale)
        # Waits are timed by the grader's salt server: no item's value skips its wait.
        salts = judge.salt_server() if mode == "waiting" else None
        seen = judge.observe(student, probe.mapped, "parallel_map", "work", items, count,
                             None, salts, what=what, timeout=20, hint=judge.HANGS,
                             around=(machine.calibrate_map, (items, count, measure_start, salts)))
        before, after = seen.evidence["around"]["before"], seen.evidence["around"]["after"]
        assert seen.result["values"] == after["values"], (
            f"{what} returned {judge.shown(seen.result)}, not f(x) for each item, in order")
        judge.unsalted(what, after["values"])
        run = judge.map_run(seen, items, count, fastest)
        assert not run.in_caller, judge.in_caller_text(what, run) + "."
        if mode == "waiting":
            _distinct_processes(seen, what)
        sandbox = min(before["cpus"]["usable"], after["cpus"]["usable"])
        if mode == "cpu" and (sandbox < 2 or run.gain < 1 + CLEAN * (workers - 1)):
            # No CPU to spare for our own processes: speed cannot be timed now.
            mode, scale, busy = "waiting", 1.0, True
            continue
        quick = dataclasses.replace(run, start=judge.START_MARGIN)
        if quick.decidable and quick.fast:  # fast even without time to start interpreters
            student.note(_passed_note(mode, busy, usable, run))
            return
        if run.start_unknown:  # it may have started interpreters: time that here next try
            measure_start = True
            continue
        if not run.decidable:
            # Starting processes takes long here now: longer items, so that a serial
            # run surely takes longer than what a parallel one is allowed.
            waits = sum(item[2] for item in items)
            grows = run.serial if mode == "cpu" else waits  # what ``scale`` multiplies
            wanted = run.serial_needed - (run.serial - grows)
            scale = min(MAX_SCALE, max(1.25 * scale, scale * wanted / max(grows, 1e-6)))
            continue
        if run.fast:
            student.note(_passed_note(mode, busy, usable, run))
            return
        short.append(run)
        if len(short) == 2:
            break
    if short:
        slowest = max(short, key=lambda r: r.window / r.allowed)
        raise StudentFailure(f"{judge.slow_text(what, slowest)} ({len(short)} tries).")
    raise RuntimeError("the machine was too busy to judge parallel_map's speed in "
                       f"{TRIES} tries; regrade this submission later")


def _passed_note(mode, busy, usable, run):
    if mode == "cpu":
        return (f"Ran in {run.window:.2f} s where a serial loop needs {run.serial:.2f} s "
                f"({run.serial / max(run.window, 1e-3):.1f} times as fast; the grader's own "
                f"{run.workers} processes: {run.gain:.1f} times).")
    why = ("the machine was too busy to time a speedup" if busy else
           f"speedup cannot be measured here (only {usable:g} CPU available)")
    return (f"As {why}, the grader checked instead that items which wait ran at the same time "
            f"in distinct worker processes: {run.window:.2f} s where one after another takes "
            f"{run.serial:.2f} s.")


# q4 ----------------------------------------------------------------------
@check("q4", timeout=10, after="test_io_map_values")
def test_io_map_uses_workers_threads(student):
    """io_map(f, 10 waiting items, workers=4) overlaps up to 4 calls, in the calling process"""
    what = f"io_map(f, {IO_COUNT} items that wait, workers={IO_WORKERS})"
    iterations = judge.iterations_for(IO_CPU)
    waits = IO_COUNT * IO_WAIT
    rounds = math.ceil(IO_COUNT / IO_WORKERS) * IO_WAIT
    problem = None
    for _ in range(3):
        items = judge.work_items(IO_COUNT, iterations, IO_WAIT)
        salts = judge.salt_server()  # the waits are the grader's: none can be skipped
        seen = judge.observe(student, probe.mapped, "io_map", "work", items, IO_WORKERS,
                             None, salts, what=what, timeout=10,
                             around=(machine.serve_salts, (items, salts)))
        want = seen.evidence["around"]["after"]["values"]
        assert seen.result["values"] == want, (
            f"{what} returned {judge.shown(seen.result)}, not f(x) for each x, in order")
        judge.unsalted(what, want)
        evidence, cpu = seen.evidence, IO_COUNT * IO_CPU
        children, caller = judge.children_cpu(evidence), judge.caller_cpu(evidence)
        assert children < 0.5 * cpu and caller >= 0.5 * cpu, (
            f"{what}: the calls ran in other processes (the calling process used {caller:.3f} s "
            f"of CPU, its child processes {children:.3f} s, where the calls need {cpu:.3f} s); "
            "use threads of the calling process")
        took = judge.window(evidence)
        # Too fast is final: load only ever makes a call slower.
        assert took >= 0.9 * rounds, (
            f"{what}: it took {took:.2f} s, less than {IO_COUNT} waits of {IO_WAIT:g} s take "
            f"{IO_WORKERS} at a time: more than {IO_WORKERS} calls waited at once")
        if took > 0.5 * waits + 3 * cpu:
            problem = (f"it took {took:.2f} s, where the waits add up to {waits:.2f} s: the "
                       "calls did not wait together")
        else:
            return
    raise StudentFailure(f"{what}: {problem} (in each of 3 tries).")


@check("q4", timeout=10, after="test_io_map_values")
def test_io_map_edges(student):
    """io_map keeps the order of items, and handles no items and the default workers"""
    slow_first = judge.work_items(6, 2000, [0.005 * (6 - x) for x in range(6)])
    cases = [("square", [], 3), ("work", slow_first, 3),
             ("square", list(range(-3, 12)), probe.DEFAULT)]
    whats = ["io_map(f, [], workers=3)",
             "io_map(f, 6 items, workers=3), the first items the slowest",
             "io_map(f, 15 items) with the default workers"]
    wants = [[], judge.values(slow_first), [x * x for x in range(-3, 12)]]
    for (seen, what), want in zip(_cases(student, probe.mapped_cases, "io_map", cases,
                                         whats=whats), wants, strict=False):
        assert seen["values"] == want, (
            f"{what} returned {judge.shown(seen)}, not f(x) for each x, in order")


# q5 ----------------------------------------------------------------------
def _check_sum(seen, numbers, what):
    want = sum(x * x for x in numbers)
    value = seen["value"]
    assert isinstance(value, (int, float)) and not isinstance(value, bool) and value == want, (
        f"{what} returned {seen['repr']}, which is not the sum of the squares")


@check("q5", timeout=20, after="test_parallel_sum_of_squares_values")
def test_parallel_sum_of_squares_edges(student):
    """parallel_sum_of_squares is right for any numbers and any number of processes"""
    cases = [([], 2), ([7], 3), (list(range(-50, 51)), 4), (list(range(1000)), 1),
             (list(range(1, 100)), 3)]
    whats = ["parallel_sum_of_squares([], 2)", "parallel_sum_of_squares([7], 3)",
             "parallel_sum_of_squares(range(-50, 51), 4)",
             "parallel_sum_of_squares(range(1000), 1)", "parallel_sum_of_squares(range(1, 100), 3)"]
    for (seen, what), (numbers, _) in zip(
            _cases(student, probe.sum_cases, cases, whats=whats, timeout=20), cases,
            strict=False):
        _check_sum(seen, numbers, what)
    judge.squared_in_children(student, 3)


@check("q5", timeout=15, after="test_parallel_sum_of_squares_values")
def test_parallel_sum_of_squares_start_methods(student):
    """parallel_sum_of_squares squares in child processes under every start method"""
    for method in START_METHODS:
        what = (f"parallel_sum_of_squares({judge.HOW_MANY} numbers, 1) with the {method!r} "
                "start method")
        judge.squared_in_children(student, 1, method, what=what, timeout=METHOD_SECONDS,
                                  cpu=METHOD_ITEM)


# The title is fixed when this module is imported, from the CPUs the grader
# may use, so that it is the same for every submission graded on a machine
# (and for one whose speedup test did not run).
test_parallel_map_speedup.__doc__ = _speedup_title(machine.cpus()["usable"])
