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
  own CPU stays low and the salt server names at least two worker processes;
- how many: the salt server holds a case's first items until as many
  requests as the case should allow wait at once (from as many distinct
  processes, where processes are counted), or until HOLD seconds have
  passed, and reports who asked and the most that waited at once: the
  worker processes of parallel_map, io_map's threads, the child processes
  that squared parallel_sum_of_squares' numbers (each one's value needs its
  salt) and, as a gate each target passes before its work, whether all of
  run_processes' targets ran at the same time (and when each one ended).
  A right-sized pool gathers at once, so only a wrong one waits the hold out.

Several tests judge parts of one probe call (``_once``): one call per
submission, each part costing only the points of its own clause.

PYTEST_DONT_REWRITE: feedback is the assert message alone, never pytest's
explanation (which would show a hidden test's expected answer).
"""

import dataclasses
import math
import multiprocessing
import os
import weakref

from autograder.hidden.processes import judges_hidden as hidden
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
# Targets that must all wait at the gate at once, and how long it holds the
# first before it lets it go alone (far longer than starting them all takes).
GATED, GATE_HOLD = 3, 4.0
# How long the salt server holds a group that has not gathered (q3, q4, q5):
# a pool of the right size gathers at once; only a wrong one waits this out.
HOLD = 3.0

# q3 speedup. At most MAX_MEASURED_CPUS CPUs are measured, with ITEMS_PER_CPU
# CPU-bound items of ITEM CPU seconds each per CPU: many small items, so that
# a pool that hands one worker most of them at once (too big a chunksize) is
# slow. A try is clean when the
# grader's own processes, run just before and just after, reached at least
# CLEAN of the ideal gain; a busy machine switches to items that wait.
MAX_MEASURED_CPUS = 4
ITEMS_PER_CPU = 24
ITEM = 0.01
CLEAN = 0.6
TRIES = 6
MAX_SCALE = 4.0
# Items that mostly wait (seconds waited, CPU seconds): on one CPU, or a busy one.
# Many of them, as above: a pool that hands one worker most of them in one
# chunk makes that worker wait them out one after the other.
WAITING_ITEM = (0.04, 0.01)
WAITING_COUNT, WAITING_WORKERS = 40, 4
# q3 pool sizes: items of workers=1 and workers=3 (more than a right pool
# needs, so that a bigger one shows), each waiting this long; the default's
# processes are counted up to COUNTED CPUs.
WORKERS_ITEMS, WORKERS_WAIT, COUNTED = (3, 6), 0.02, 16

# q4: items that wait, and compute a little in the calling process; and
# items that only wait, for the default.
IO_WAIT, IO_CPU, IO_COUNT, IO_WORKERS = 0.05, 0.015, 8, 4
DEFAULT_WAIT, DEFAULT_COUNT = 0.02, 12

# q5: SQUARED numbers (each SQUARING rounds of the mix: cheap, it is their
# salt that shows who squared them) for each count of processes: a multiple
# of every count, so that any way of sharing them out gives each a share.
SQUARERS, SQUARED, SQUARING = (1, 3, 4), 12, 200


def _cases(student, probe_function, *args, whats, timeout=10):
    """Run several calls in one probe call; yield (observation, what) for each,
    failing at the first that raised."""
    seen = judge.observe(student, probe_function, *args, what="; then ".join(whats),
                         timeout=timeout, hint=judge.HANGS).result
    for observation, what in zip(seen, whats, strict=False):
        if "error" in observation:
            raise StudentFailure(hidden.raised(student, what, observation["error"]))
        yield observation, what


_seen: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _once(student, name: str, observe):
    """``observe(student)``, made once per submission and shared by the tests
    that judge parts of it (one probe call, read by each)."""
    key = getattr(student, "_process", None)
    if key is None:
        return observe(student)
    seen = _seen.setdefault(key, {})
    if name not in seen:
        try:
            seen[name] = observe(student)
        except StudentFailure as failure:
            seen[name] = failure
            raise
    if isinstance(seen[name], StudentFailure):
        # The same failure for each test that reads the call, not a new call;
        # a call that timed out counts once towards the question's time-outs.
        raise StudentFailure(str(seen[name]))
    return seen[name]


# q1 ----------------------------------------------------------------------
def _choices(student):
    """CHOICES as the student process reports it, read once per submission."""
    return _once(student, "choices", lambda s: s.call(probe.choices, what="reading CHOICES"))


def _choice_test(number, workload):
    # Each workload is judged alone (half a point): a value left None, or a
    # key missing, costs that workload only; CHOICES that is no dict, all six.
    @check("q1")
    def test(student):
        seen = _choices(student)
        assert seen["pairs"] is not None, (
            f"CHOICES is a {seen['type']}, not a dict from each workload to \"thread\" or "
            "\"process\"")
        given = {pair[0]: pair for pair in seen["pairs"]}
        assert workload in given, (
            f"CHOICES has no key {workload!r}; keep the six keys of the stub")
        _, value, kind, text = given[workload]
        assert value in ("thread", "process"), (
            f"CHOICES[{workload!r}] is {text} ({kind}); write \"thread\" or \"process\"")
        assert value == ANSWERS[workload], (
            f"CHOICES[{workload!r}] is {value!r}, which is not the kind of "
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


@check("q2", timeout=20, after="test_run_processes_runs_target", timing=True)
def test_run_processes_starts_all_first(student):
    """run_processes starts all its processes before joining any (their targets wait together)"""
    what = f"run_processes(target, {GATED})"
    iterations = judge.iterations_for(0.005)  # the work proves a run; the gate times it
    nonces = judge.nonces(GATED)
    answers = judge.meanwhile(judge.proofs, nonces, iterations)
    # Each target asks the grader's gate before its work; the gate lets them
    # go once all GATED wait at once (or after GATE_HOLD s), and names them.
    gate = judge.salt_server()
    items = [[nonce, 0, 0.0] for nonce in nonces]
    seen = judge.observe(student, probe.run_processes, GATED, iterations, nonces, None, gate,
                         what=what, timeout=15, hint=judge.HANGS,
                         around=(machine.serve_salts, (items, gate, [[GATED, GATED, True]],
                                                       GATE_HOLD)))
    pids = _targets(seen, what, answers.result())
    assert len(pids) == GATED, (
        f"{what}: target ran in {len(pids)} child process(es), not {GATED}")
    hidden.started_together(what, pids, seen.evidence["around"]["after"]["items"])


@check("q2", weight=0.5, timeout=15, after="test_run_processes_runs_target")
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
    unjoined = set(pids) & hidden.live_pids(seen.evidence)
    assert not late and not unjoined, (
        f"run_processes returned while {max(len(late), len(unjoined))} of its processes had "
        "not ended: join() every process before returning")
    returned = result["returned"] or []
    assert len(returned) == len(pids) and all(p["is_process"] for p in returned), (
        f"run_processes returned {result['repr']}, not the list of the processes it started")
    assert result["is_list"], (
        f"run_processes returned a {result['type']}: return the processes in a list")
    assert {p["pid"] for p in returned} == set(pids), (
        "the processes that run_processes returned are not the ones that ran target")
    assert all(p["exitcode"] == 0 for p in returned), (
        f"when run_processes returned, the exit codes of its processes were "
        f"{[p['exitcode'] for p in returned]}: join() each one so that it has ended")


@check("q2", weight=0.5, timeout=15, after="test_run_processes_runs_target")
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
@check("q3", weight=0.5, timeout=30, after="test_parallel_map_values")
def test_parallel_map_edges(student):
    """parallel_map returns a list in the order of items; handles no items and few items"""
    slow_first = judge.work_items(7, 2000, [0.005 * (7 - x) for x in range(7)])
    cases = [("square", [], 2), ("square", [3, -2], 4), ("work", slow_first, 3)]
    whats = ["parallel_map(f, [], workers=2)", "parallel_map(f, [3, -2], workers=4)",
             "parallel_map(f, 7 items, workers=3), the first items the slowest"]
    wants = [[], [9, 4], hidden.values(slow_first)]
    for (seen, what), want in zip(_cases(student, probe.mapped_cases, "parallel_map", cases,
                                         whats=whats, timeout=30), wants, strict=False):
        assert seen["values"] == want, (
            f"{what} returned {judge.shown(seen)}, not f(x) for each x, in order")
        assert seen["is_list"], f"{what} returned a {seen['type']}, not a list"


def _pool_sizes(student):
    """parallel_map on items that wait, with workers=1, workers=3, the default
    and two items on workers=2, in one call: the salt server names the processes that ran each
    case's items, and holds each case's first items until as many distinct
    processes as it should have wait at once (so that a slow-starting worker
    of a right-sized pool still gets its share)."""
    counts = _cpu_counts(machine.cpus())
    most = min(max(counts), COUNTED)
    cases = [(1, WORKERS_ITEMS[0]), (3, WORKERS_ITEMS[1]), (probe.DEFAULT, most + 2), (2, 2)]
    items = [judge.work_items(size, 1000, WORKERS_WAIT) for _, size in cases]
    groups = [[len(items[0]), 1, True], [len(items[1]), 3, True],
              [len(items[2]), min(min(counts), COUNTED), True], [2, 2, True]]
    salts = judge.salt_server()
    whats = [f"parallel_map(f, {len(items[0])} items, workers=1)",
             f"parallel_map(f, {len(items[1])} items, workers=3)",
             f"parallel_map(f, {len(items[2])} items) with the default workers",
             "parallel_map(f, 2 items, workers=2)"]
    seen = judge.observe(student, probe.mapped_cases, "parallel_map",
                         [("work", some, workers, None, salts)
                          for (workers, _), some in zip(cases, items, strict=True)], False,
                         what="; then ".join(whats), timeout=30, hint=judge.HANGS,
                         around=(machine.serve_salts, ([i for some in items for i in some],
                                                       salts, groups, HOLD)))
    return seen, whats, [len(some) for some in items]


def _cpu_counts(cpus: dict) -> set[int]:
    """What "one per CPU" may mean here: os.cpu_count(), the affinity (what
    os.process_cpu_count() gives), or the usable CPUs with the quota."""
    usable = cpus["usable"]
    return {cpus["cpu_count"], cpus["affinity"], max(1, math.floor(usable)),
            max(1, math.ceil(usable))}


def _workers_of(student, seen, whats: list[str], sizes: list[int], case: int) -> set[int]:
    """The worker processes (named by the salt server) that ran case
    ``case``'s items, which must all have been given their salts."""
    result, after = seen.result, seen.evidence["around"]["after"]
    if len(result) <= case or len(after["groups"]) <= case:
        raise judge.unreadable(whats[case], "not one report for each case")
    observation, what = result[case], whats[case]
    if "error" in observation:
        raise StudentFailure(hidden.raised(student, what, observation["error"]))
    first = sum(sizes[:case])
    judge.unsalted(what, after["values"][first:first + sizes[case]])
    pids = set(after["groups"][case]["pids"])
    assert seen.evidence["pid"] not in pids, (
        f"{what}: items ran in the calling process; run them in the pool's worker processes")
    return pids


@check("q3", weight=0.5, timeout=40, after="test_parallel_map_values", timing=True)
def test_parallel_map_workers(student):
    """parallel_map(f, items, workers) runs the items in exactly `workers` processes"""
    seen, whats, sizes = _once(student, "pool sizes", _pool_sizes)
    for case, workers in ((0, 1), (1, 3)):
        pids = _workers_of(student, seen, whats, sizes, case)
        assert len(pids) == workers, (
            f"{whats[case]}: its items ran in {len(pids)} worker process(es), not {workers}: "
            "`workers` is how many processes to use (pass it to the pool)")
    # As many items as workers: each worker must get one, or the items run
    # one after the other (a chunk of items goes to one process whole).
    pids = _workers_of(student, seen, whats, sizes, 3)
    assert len(pids) == 2, (
        f"{whats[3]}: both items ran in one worker process, one after the other: with "
        "chunks of more than len(items) / workers items, some workers get none")


@check("q3", weight=0.5, timeout=40, after="test_parallel_map_values", timing=True)
def test_parallel_map_default_workers(student):
    """parallel_map(f, items) without workers runs one worker process per CPU"""
    seen, whats, sizes = _once(student, "pool sizes", _pool_sizes)
    pids = _workers_of(student, seen, whats, sizes, 2)
    cpus = seen.evidence["around"]["after"]["cpus"]  # as the sandbox sees them
    counts = _cpu_counts(machine.cpus()) | _cpu_counts(cpus)
    if max(counts) <= COUNTED:
        fine = len(pids) in counts
    else:  # more CPUs than items: count up to COUNTED
        fine = min(min(counts), COUNTED) <= len(pids) <= max(counts)
    assert fine, (
        f"{whats[2]}: its items ran in {len(pids)} worker process(es), where it may use "
        f"{cpus['usable']:g} CPU(s) here (os.cpu_count() is {cpus['cpu_count']}): "
        "workers=None means one process per CPU")


@check("q3", timeout=15, after="test_parallel_map_values")
def test_parallel_map_start_methods(student):
    """parallel_map works in worker processes under every start method (fork, spawn, forkserver)"""
    for method in START_METHODS:
        items = judge.work_items(6, judge.iterations_for(METHOD_ITEM))
        what = f"parallel_map(f, 6 items, workers=1) with the {method!r} start method"
        want = judge.meanwhile(hidden.values, items)
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
    or items that mostly wait on as many processes (WAITING_WORKERS on one
    CPU); and the fastest pace of this machine now (CPU seconds per iteration).
    A busy machine asks for the same count of workers as a free one, so that
    how many the student's pool has is judged by the workers tests alone."""
    fastest = judge.pace()
    if mode == "cpu":
        items = judge.work_items(ITEMS_PER_CPU * workers, int(ITEM * scale / fastest))
        return (items, workers, fastest,
                f"parallel_map(f, {len(items)} CPU-bound items, workers={workers})")
    wait, cpu = WAITING_ITEM
    count = workers if workers >= 2 else WAITING_WORKERS
    items = judge.work_items(WAITING_COUNT, int(cpu / fastest), wait * scale)
    return (items, count, fastest,
            f"parallel_map(f, {WAITING_COUNT} items that wait and compute a little, "
            f"workers={count})")


def _distinct_processes(seen, what):
    """Items that wait overlap in threads too: the salt server must have
    released salts to at least two worker processes (the kernel named them)."""
    pids = set(seen.evidence["around"]["after"]["pids"]) - {seen.result["caller"]}
    assert len(pids) >= 2, (
        f"{what}: the items ran in {len(pids)} worker process(es); their waits overlapped, but "
        "CPU-bound items need several processes at once (threads in one process take turns "
        "running Python code)")


@check("q3", weight=1.5, timeout=60, after="test_parallel_map_values", timing=True)
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
def _io_runs(student):
    """io_map on items that wait, with workers=4, the default, and workers=8,
    in one call. The salt server holds each case's first items until as many
    calls wait at once as the case should allow (4, 8, 8), and reports the
    most that ever waited at once: io_map's threads, counted."""
    fastest = judge.pace()
    items = [judge.work_items(IO_COUNT, int(IO_CPU / fastest), IO_WAIT),
             judge.work_items(DEFAULT_COUNT, 1000, DEFAULT_WAIT),
             judge.work_items(DEFAULT_COUNT, 1000, DEFAULT_WAIT)]
    salts = judge.salt_server()
    cases = [(IO_WORKERS, 0), (probe.DEFAULT, 1), (8, 2)]
    whats = [f"io_map(f, {IO_COUNT} items that wait, workers={IO_WORKERS})",
             f"io_map(f, {DEFAULT_COUNT} items that wait) with the default workers",
             f"io_map(f, {DEFAULT_COUNT} items that wait, workers=8)"]
    groups = [[IO_COUNT, IO_WORKERS, False], [DEFAULT_COUNT, 8, False],
              [DEFAULT_COUNT, 8, False]]
    seen = judge.observe(student, probe.mapped_cases, "io_map",
                         [("work", items[index], workers, None, salts)
                          for workers, index in cases], False,
                         what="; then ".join(whats), timeout=25,
                         around=(machine.serve_salts, ([i for some in items for i in some],
                                                       salts, groups, HOLD)))
    cpu = sum(item[1] for some in items for item in some) * fastest
    return seen, whats, items, cpu


def _waiting_at_once(student, seen, whats: list[str], case: int) -> int:
    """The most calls of case ``case`` that waited at once (the salt server's count)."""
    result, after = seen.result, seen.evidence["around"]["after"]
    if len(result) <= case or len(after["groups"]) <= case:
        raise judge.unreadable(whats[case], "not one report for each case")
    if "error" in result[case]:
        raise StudentFailure(hidden.raised(student, whats[case], result[case]["error"]))
    return after["groups"][case]["peak"]


@check("q4", timeout=30, after="test_io_map_values", timing=True)
def test_io_map_uses_workers_threads(student):
    """io_map(f, items, workers) runs `workers` threads of the calling process: 4, and 8"""
    seen, whats, items, cpu = _once(student, "io runs", _io_runs)
    what = whats[0]
    result, after = seen.result, seen.evidence["around"]["after"]
    if "error" in result[0]:
        raise StudentFailure(hidden.raised(student, what, result[0]["error"]))
    want = after["values"][:IO_COUNT]
    assert result[0]["values"] == want, (
        f"{what} returned {judge.shown(result[0])}, not f(x) for each x, in order")
    judge.unsalted(what, want)
    children, caller = judge.children_cpu(seen.evidence), judge.caller_cpu(seen.evidence)
    assert children < 0.5 * cpu and caller >= 0.5 * cpu, (
        f"io_map: the calls ran in other processes (the calling process used {caller:.3f} s "
        f"of CPU, its child processes {children:.3f} s, where the calls need {cpu:.3f} s); "
        "use threads of the calling process")
    for case, workers in ((0, IO_WORKERS), (2, 8)):
        peak = _waiting_at_once(student, seen, whats, case)
        assert peak <= workers, (
            f"{whats[case]}: {peak} calls waited at once; with workers={workers}, at most "
            f"{workers} may: run exactly `workers` threads")
        assert peak >= workers, (
            f"{whats[case]}: at most {peak} call(s) waited at once, though {workers} threads "
            "would have let them all wait together: run exactly `workers` threads")


@check("q4", weight=0.5, timeout=30, after="test_io_map_values", timing=True)
def test_io_map_default_workers(student):
    """io_map(f, items) without workers runs as many threads as with workers=8"""
    seen, whats, _, _ = _once(student, "io runs", _io_runs)
    default, eight = (_waiting_at_once(student, seen, whats, case) for case in (1, 2))
    assert default == eight, (
        f"{whats[1]}: {default} call(s) waited at once, where {eight} did with workers=8: "
        "workers defaults to 8")


@check("q4", weight=0.5, timeout=10, after="test_io_map_values")
def test_io_map_edges(student):
    """io_map returns a list in the order of items, and handles no items"""
    slow_first = judge.work_items(6, 2000, [0.005 * (6 - x) for x in range(6)])
    cases = [("square", [], 3), ("work", slow_first, 3)]
    whats = ["io_map(f, [], workers=3)",
             "io_map(f, 6 items, workers=3), the first items the slowest"]
    wants = [[], hidden.values(slow_first)]
    for (seen, what), want in zip(_cases(student, probe.mapped_cases, "io_map", cases,
                                         whats=whats), wants, strict=False):
        assert seen["values"] == want, (
            f"{what} returned {judge.shown(seen)}, not f(x) for each x, in order")
        assert seen["is_list"], f"{what} returned a {seen['type']}, not a list"


# q5 ----------------------------------------------------------------------
def _check_sum(seen, numbers, what):
    want = sum(x * x for x in numbers)
    value = seen["value"]
    assert isinstance(value, (int, float)) and not isinstance(value, bool) and value == want, (
        f"{what} returned {seen['repr']}, which is not the sum of the squares")


@check("q5", weight=0.5, timeout=20, after="test_parallel_sum_of_squares_values")
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


def _squarers(student):
    """parallel_sum_of_squares on SQUARED Numbers whose values need a salt from
    the grader's salt server, with 1, 3, 4 processes and the default, in one
    call (every case run): the server names the processes that squared each
    case's numbers, and holds each case's first numbers until as many distinct
    processes as it should have wait at once (a pool's slow-starting worker
    still gets its share)."""
    counts = [*SQUARERS, probe.DEFAULT]
    numbers = [[[seed, SQUARING] for seed in judge.seeds(SQUARED)] for _ in counts]
    items = [[seed, iterations, 0.0] for some in numbers for seed, iterations in some]
    groups = [[SQUARED, 2 if count == probe.DEFAULT else count, True] for count in counts]
    whats = [f"parallel_sum_of_squares({SQUARED} numbers, {count})" for count in SQUARERS]
    whats.append(f"parallel_sum_of_squares({SQUARED} numbers) with the default num_processes")
    salts = judge.salt_server()
    seen = judge.observe(student, probe.costly_sum_cases,
                         [(some, count) for some, count in zip(numbers, counts, strict=True)],
                         salts, what="; then ".join(whats), timeout=25, hint=judge.HANGS,
                         around=(machine.serve_salts, (items, salts, groups, HOLD)))
    return seen, whats


def _squared_by(student, seen, whats: list[str], case: int) -> set[int]:
    """The child processes that squared case ``case``'s numbers (each one's
    value needs its salt: the server named who asked)."""
    result, after = seen.result, seen.evidence["around"]["after"]
    if len(result) <= case or len(after["groups"]) <= case:
        raise judge.unreadable(whats[case], "not one report for each case")
    if "error" in result[case]:
        raise StudentFailure(hidden.raised(student, whats[case], result[case]["error"]))
    pids = set(after["groups"][case]["pids"])
    assert seen.evidence["pid"] not in pids, (
        f"{whats[case]}: the calling process squared numbers itself; each child process "
        "must square and add up its own share")
    return pids


@check("q5", weight=0.5, timeout=40, after="test_parallel_sum_of_squares_values", timing=True)
def test_parallel_sum_of_squares_processes(student):
    """parallel_sum_of_squares(numbers, n) squares in exactly n child processes (1, 3 and 4)"""
    seen, whats = _once(student, "squarers", _squarers)
    for case, count in enumerate(SQUARERS):
        pids = _squared_by(student, seen, whats, case)
        assert len(pids) == count, (
            f"{whats[case]}: the numbers were squared in {len(pids)} child process(es), not "
            f"{count}: split them over num_processes processes")


@check("q5", weight=0.5, timeout=40, after="test_parallel_sum_of_squares_values", timing=True)
def test_parallel_sum_of_squares_default(student):
    """parallel_sum_of_squares(numbers) squares in 2 child processes by default"""
    seen, whats = _once(student, "squarers", _squarers)
    pids = _squared_by(student, seen, whats, len(SQUARERS))
    assert len(pids) == 2, (
        f"{whats[-1]}: the numbers were squared in {len(pids)} child process(es): "
        "num_processes defaults to 2")


@check("q5", weight=0.5, timeout=15, after="test_parallel_sum_of_squares_values")
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
