"""Public checks for the processes assignment. Run them with

    advpy check processes.py        (or processes.ipynb)

The grader runs these and more: passing them all does not mean full marks.

The functions these checks hand to your code (``work``, ``square`` and the
target of run_processes, in autograder.probes.payloads) are defined at the
top level of an importable module, so they pickle whatever the start method.
Where your code ran, and how long it took, the grader reads from the
operating system, not from what your functions return. Call them on the
items as given: where the checks time the waits, each value needs something
only the grader's own server gives out once the item's wait is over, and the
target proves it ran by answering the grader.

PYTEST_DONT_REWRITE: feedback is the assert message alone, never pytest's
explanation (which would show a hidden test's expected answer).
"""

import dataclasses

from autograder.judges import processes as judge
from autograder.probes import machine
from autograder.probes import processes as probe
from autograder.testing import StudentFailure, check

WORKLOADS = (
    "download 200 web pages",
    "resize 10,000 images in a pure-Python loop",
    "count primes below 10**8 in pure Python",
    "wait for replies from 50 database queries",
    "a task that must be killable from outside",
    "many small tasks that update one shared in-memory dict",
)
TARGET_CPU = 0.1  # CPU seconds each target spends: running it in the caller shows


@check("q1", weight=0, hidden=False)
def test_choices_shape(student):
    """CHOICES maps each of the six workloads to 'thread' or 'process'"""
    seen = student.call(probe.choices, what="reading CHOICES")
    assert seen["pairs"] is not None, f"CHOICES is a {seen['type']}, not a dict"
    keys = [pair[0] for pair in seen["pairs"]]
    missing = [w for w in WORKLOADS if w not in keys]
    assert not missing, f"CHOICES has no key {missing[0]!r}; keep the six keys of the stub"
    extra = [k for k in keys if k not in WORKLOADS]
    assert not extra, f"CHOICES has a key that is not one of the six workloads: {extra[0]!r}"
    for key, value, kind, text in seen["pairs"]:
        assert value in ("thread", "process"), (
            f"CHOICES[{key!r}] is {text} ({kind}); write \"thread\" or \"process\"")


@check("q2", hidden=False, timeout=10)
def test_run_processes_runs_target(student):
    """run_processes(target, 3) runs target in 3 child processes and returns the 3 Processes"""
    what = "run_processes(target, 3)"
    iterations = judge.iterations_for(TARGET_CPU)
    nonces = judge.nonces(3)  # one per run: each answer proves one run of target
    answers = judge.meanwhile(judge.proofs, nonces, iterations)
    seen = judge.observe(student, probe.run_processes, 3, iterations, nonces, what=what,
                         timeout=10)
    result = seen.result
    returned = result["returned"]
    assert returned is not None, (
        f"run_processes returned {result['repr']}, not a list of processes")
    assert len(returned) == 3 and all(p["is_process"] for p in returned), (
        f"run_processes(target, 3) returned {result['repr']}: a list of 3 "
        "multiprocessing.Process objects was expected")
    pids = judge.proven(what, result["ran"], answers.result()).pids
    spent = judge.caller_cpu(seen.evidence)
    assert result["caller"] not in pids and spent < 0.6 * TARGET_CPU + 0.012, (
        "target ran in the calling process: call start() on each Process (run() or calling "
        "target yourself runs it here)")
    assert len(pids) == 3, f"target ran {len(pids)} times, not 3"
    assert len(set(pids)) == 3, f"target ran in {len(set(pids))} distinct processes, not 3"


@check("q3", hidden=False, timeout=20, timing=True)
def test_parallel_map_values(student):
    """parallel_map(f, 8 items, workers=4) returns f's results in order; items overlap in workers"""
    what = "parallel_map(f, 8 items, workers=4)"
    scale, problem, measure_start = 1.0, None, False
    for _ in range(4):  # a busy machine may slow a pool's start: try again, with longer items
        fastest = judge.pace()
        iterations = int(0.025 / fastest)
        # The first items wait longest, so that results in the order they finish are wrong.
        items = judge.work_items(8, iterations, [scale * 0.005 * (10 - x) for x in range(8)])
        salts = judge.salt_server()  # the waits are the grader's: none can be skipped
        seen = judge.observe(student, probe.mapped, "parallel_map", "work", items, 4, None,
                             salts, what=what, timeout=20, hint=judge.HANGS,
                             around=(machine.calibrate_map, (items, 4, measure_start, salts)))
        want = seen.evidence["around"]["after"]["values"]
        assert seen.result["values"] == want, (
            f"{what} returned {judge.shown(seen.result)}; f(x) for each item, in order, has "
            f"{judge.shown({'values': want})}")
        judge.unsalted(what, want)
        run = judge.map_run(seen, items, 4, fastest)
        assert not run.in_caller, judge.in_caller_text(what, run) + "; use worker processes."
        # Overlap is checked here, not how many workers there are (hidden
        # tests judge that): the gain asked for is at most what a pool of one
        # process per CPU here reaches (starting it and pickling cost a
        # fifth), wherever a serial run still cannot pass that.
        around = seen.evidence["around"]
        cpus = min(around["before"]["cpus"]["usable"], around["after"]["cpus"]["usable"])
        capped = dataclasses.replace(run, gain=min(run.gain, 0.8 * max(2.0, cpus)))
        quick = dataclasses.replace(capped, start=judge.START_MARGIN)
        if quick.decidable and quick.fast:
            return
        if capped.decidable:
            run = capped
        if run.start_unknown:  # it may have started fresh interpreters: time that here
            measure_start = True
            continue
        if not run.decidable:
            # Starting processes takes long here now: longer waits, so that one
            # process after another surely takes longer than what is allowed.
            waits = sum(item[2] for item in items)
            wanted = run.serial_needed - (run.serial - waits)
            scale = min(5.0, max(1.25 * scale, scale * wanted / waits))
            continue
        if run.fast:
            return
        problem = judge.slow_text(what, run)
    if problem:
        raise StudentFailure(f"{problem}: the items did not run at the same time in 4 "
                             "processes; start all the workers before waiting for any of them.")
    raise RuntimeError("the machine was too busy to check that items ran at the same time")


@check("q4", hidden=False, timeout=10, timing=True)
def test_io_map_values(student):
    """io_map(f, 8 waiting items, workers=8) returns f's results in order, waiting together"""
    what = "io_map(f, 8 items, workers=8)"
    cpu = 8 * 0.01
    items = judge.work_items(8, judge.iterations_for(0.01),
                             [0.02 * (8 - x) for x in range(8)])  # the first items wait longest
    salts = judge.salt_server()  # the waits are the grader's: none can be skipped
    seen = judge.observe(student, probe.mapped, "io_map", "work", items, 8, None, salts,
                         what=what, timeout=10, around=(machine.serve_salts, (items, salts)))
    want = seen.evidence["around"]["after"]["values"]
    assert seen.result["values"] == want, (
        f"{what} returned {judge.shown(seen.result)}; f(x) for each item, in order, has "
        f"{judge.shown({'values': want})}")
    judge.unsalted(what, want)
    children, caller = judge.children_cpu(seen.evidence), judge.caller_cpu(seen.evidence)
    assert children < 0.5 * cpu and caller >= 0.5 * cpu, (
        f"{what}: the calls ran in other processes (the calling process used {caller:.3f} s of "
        f"CPU, child processes {children:.3f} s): for waiting, use threads in the calling "
        "process, which cost far less to start and share its memory")
    waits = sum(item[2] for item in items)
    took = judge.window(seen.evidence)
    assert took <= 0.6 * waits + 3 * cpu, (
        f"{what} took {took:.2f} s where the waits add up to {waits:.2f} s: the calls ran one "
        "after another; run them in `workers` threads so that they wait at the same time")


@check("q5", hidden=False, timeout=10)
def test_parallel_sum_of_squares_values(student):
    """parallel_sum_of_squares([1, ..., 10]) is 385; costly numbers are squared in children"""
    seen = student.call(probe.sum_of_squares, list(range(1, 11)),
                        what="parallel_sum_of_squares([1, 2, ..., 10])", timeout=10)
    assert seen["value"] == 385, (
        f"parallel_sum_of_squares([1, ..., 10]) returned {seen['repr']}, not 385")
    judge.squared_in_children(student, 2)
