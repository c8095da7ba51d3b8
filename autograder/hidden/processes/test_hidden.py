"""Hidden tests for the processes assignment.

Feedback says what is checked and what the student's code did, never the
expected answer of a hidden test.

Which process did the work is observed, not guessed: the functions handed to
the student's code are the grader's own (``autograder.probes.processes``),
importable so that they pickle under every start method, and each reports its
pid and when it ran. Pid checks never count pids over trivial items (a
correct pool may give them all to one worker): they look for items that ran
at the same time in distinct processes, which only parallel code produces.

Speed is judged against this machine as it is during the test, on the CPUs
this process may really use (affinity and cgroup quota, not os.cpu_count()):
the serial baseline is the CPU time the items take (what a serial loop needs
on a free CPU), and the grader's own processes run the same items just before
and just after the student's code, in the same run, to show what the machine
can do right now; best of a few tries. On a machine too busy to give our own
processes a clear speedup, only the structure is judged (items in distinct
processes at the same time). Where fewer than two CPUs are usable, speedup
cannot be measured at all: the test's title says so, and the structure alone
is judged.

PYTEST_DONT_REWRITE: feedback is the assert message alone, never pytest's
explanation (which would show a hidden test's expected answer).
"""

import multiprocessing
import weakref

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
# add the others.
START_METHODS = [m for m in ("fork", "spawn", "forkserver")
                 if m in multiprocessing.get_all_start_methods()
                 and m != multiprocessing.get_context().get_start_method()]
PICKLING = (" That is a pickling error: a process pool sends the function to call to its "
            "workers by pickling it, as its module and its name, and only functions defined "
            "at the top level of a module pickle. Pass a module-level function, not a lambda "
            "or a function defined inside another one.")
METHOD_SECONDS = 8.0  # for one call under the spawn or the forkserver start method
HANGS = (" A pool can wait forever when a worker process cannot import the function it is "
         "given, or when a process is joined before its queue has been read.")

# Speedup. At most MAX_MEASURED_CPUS CPUs are measured, with 4 CPU-bound
# items of about ITEM seconds each per CPU. Parallelism is CPU seconds of work
# done per second of wall-clock time, once all the processes are up (a serial
# loop on a free CPU reaches 1).
# A try is clean when the grader's own processes, run just before and just
# after the student's code, both reached at least CLEAN of the ideal gain; on
# a clean try the student's code must reach SHARE_OF_GAIN of the gain that
# ours reached. Two clean tries that fall short fail the test. Where a try
# finds the machine too busy to measure, only the structure (items in distinct
# processes at the same time) is judged.
MAX_MEASURED_CPUS = 4
ITEM = 0.02
CLEAN = 0.6
SHARE_OF_GAIN = 0.5
TRIES = 3


def _run(student, probe_function, *args, what, timeout=None, hint="", **kwargs):
    """Call the probe; on failure, say what went wrong, naming pickling when it was that."""
    answer = student.outcome(probe_function, *args, what=what, timeout=timeout, **kwargs)
    if answer["status"] == "ok":
        return answer["result"]
    message = student.explain(answer, what)
    error = answer.get("error") or {}
    text = f"{error.get('type', '')} {error.get('message', '')}".lower()
    if "pickl" in text or "local object" in text:
        message += PICKLING
    elif answer["status"] == "timeout":
        message += hint
    raise StudentFailure(message, kind=answer["status"])


def _raised(student, what, error):
    """Feedback for a call that raised inside a probe that runs several calls."""
    where = f" ({student.display}, {error['where']})" if error.get("where") else ""
    message = f"{what} raised {error['type']}: {error['message']}{where}."
    text = f"{error['type']} {error['message']}".lower()
    return message + (PICKLING if "pickl" in text or "local object" in text else "")


def _calls(student, probe_function, *args, whats, timeout=10):
    """Run several calls in one probe call; yield (observation, what) for each,
    failing at the first that raised."""
    seen = _run(student, probe_function, *args, what="; then ".join(whats), timeout=timeout,
                hint=HANGS)
    for observation, what in zip(seen, whats, strict=False):
        if "error" in observation:
            raise StudentFailure(_raised(student, what, observation["error"]))
        yield observation, what


def _under_start_methods(student, probe_name, args, what):
    """Run a probe under each start method that is not the default, at once;
    yield (method, observation, what) for each, failing at the first that
    raised or hung. ``what(method)`` describes the call for the feedback."""
    if not START_METHODS:
        return
    seen = _run(student, probe.under_start_methods, probe_name, START_METHODS, args,
                METHOD_SECONDS, timeout=METHOD_SECONDS + 4, hint=HANGS,
                what=" and ".join(what(method) for method in START_METHODS))
    for method in START_METHODS:
        answer, described = seen.get(method) or {}, what(method)
        if "timeout" in answer:
            raise StudentFailure(f"{described} did not finish within {answer['timeout']:g} s."
                                 + HANGS, kind="timeout")
        if "error" in answer:
            raise StudentFailure(_raised(student, described, answer["error"]))
        yield method, answer["seen"], described


def _shown(seen):
    """What a map returned, as its values (f's results carry our pids and times too)."""
    values = seen.get("values")
    if values is None:
        return seen["repr"]
    head = ", ".join(repr(v) for v in values[:12])
    return f"the values [{head}{', …' if len(values) > 12 else ''}]"


def _concurrency(records):
    """The largest number of [pid, start, end, cpu] intervals open at one instant."""
    events = sorted([(r[1], 1) for r in records] + [(r[2], -1) for r in records])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def _overlap_in_distinct_processes(records):
    """Two items that ran at the same time in two different processes?"""
    for i, (pid, start, end, _) in enumerate(records):
        for other, start2, end2, _ in records[i + 1:]:
            if other != pid and min(end, end2) > max(start, start2):
                return True
    return False


def _span(records):
    return max(r[2] for r in records) - min(r[1] for r in records)


def _window(records):
    """From the moment the last of the processes started its first item to the
    last item's end: the time when all of them were up (a pool starts its
    processes once, and then serves every item; start-up is not speed)."""
    firsts = {}
    for pid, start, _, _ in records:
        firsts[pid] = min(firsts.get(pid, start), start)
    return max(firsts.values()), max(r[2] for r in records)


def _parallelism(records):
    """CPU seconds of work done per second of that window (each item's CPU time
    spread evenly over its run). A serial loop on a free CPU reaches 1."""
    begin, end = _window(records)
    if end <= begin:
        return 0.0
    work = sum(cpu * max(0.0, stop - max(start, begin)) / max(stop - start, 1e-9)
               for _, start, stop, cpu in records)
    return work / (end - begin)


# q1 ----------------------------------------------------------------------
_choices_seen = weakref.WeakKeyDictionary()


def _choices(student):
    """CHOICES as the student process reports it, read once per submission."""
    key = getattr(student, "_process", None)
    if key is None or key not in _choices_seen:
        seen = _run(student, probe.choices, what="reading CHOICES")
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
@check("q2", timeout=10, after="test_run_processes_runs_target")
def test_run_processes_default_and_join(student):
    """run_processes(target) starts os.cpu_count() processes by default and joins them all"""
    seen = _run(student, probe.run_processes, probe.DEFAULT, 0.05, timeout=10,
                what="run_processes(target) with the default num_processes")
    cpus, records = seen["cpus"], seen["records"]
    pids = [r["pid"] for r in records]
    assert len(pids) in (cpus["cpu_count"], cpus["affinity"]), (
        f"with the default num_processes, target ran {len(pids)} time(s); os.cpu_count() "
        f"is {cpus['cpu_count']} on this machine")
    assert seen["caller"] not in pids and len(set(pids)) == len(pids), (
        "target did not run once in each of distinct child processes")
    late = [r for r in records if r["end"] > seen["returned_at"]]
    assert not late, (
        f"run_processes returned while {len(late)} target(s) were still running: join() "
        "every process before returning")
    returned = seen["returned"] or []
    assert len(returned) == len(pids) and all(p["is_process"] for p in returned), (
        f"run_processes returned {seen['repr']}, not the list of the processes it started")
    assert {p["pid"] for p in returned} == set(pids), (
        "the processes that run_processes returned are not the ones that ran target")
    assert all(p["exitcode"] == 0 for p in returned), (
        f"when run_processes returned, the exit codes of its processes were "
        f"{[p['exitcode'] for p in returned]}: join() each one so that it has ended")


@check("q2", timeout=15, after="test_run_processes_runs_target")
def test_run_processes_start_methods(student):
    """run_processes works under every start method (fork, spawn, forkserver)"""
    for _, seen, what in _under_start_methods(
            student, "run_processes", (1, 0.0),
            lambda method: f"run_processes(target, 1) with the {method!r} start method"):
        pids = [r["pid"] for r in seen["records"]]
        assert len(pids) == 1 and seen["caller"] not in pids, (
            f"{what}: target ran {len(pids)} time(s), "
            f"{'in the calling process' if seen['caller'] in pids else 'in child processes'}; "
            "it should run once, in a child process")


# q3 ----------------------------------------------------------------------
@check("q3", timeout=30, after="test_parallel_map_values")
def test_parallel_map_edges(student):
    """parallel_map keeps the order of items; handles no items, few items, default workers"""
    slow_first = [(x, 0, 0.005 * (7 - x)) for x in range(7)]
    cases = [("square", [], 2), ("square", [3, -2], 4), ("work", slow_first, 3),
             ("square", list(range(-5, 15)), probe.DEFAULT)]
    whats = ["parallel_map(f, [], workers=2)", "parallel_map(f, [3, -2], workers=4)",
             "parallel_map(f, 7 items, workers=3), the first items the slowest",
             "parallel_map(f, 20 items) with the default workers"]
    wants = [[], [9, 4], [x * x for x in range(7)], [x * x for x in range(-5, 15)]]
    for (seen, what), want in zip(_calls(student, probe.mapped_cases, "parallel_map", cases,
                                         whats=whats), wants, strict=False):
        assert seen["values"] == want, (
            f"{what} returned {_shown(seen)}, not f(x) for each x, in order")


@check("q3", timeout=15, after="test_parallel_map_values")
def test_parallel_map_start_methods(student):
    """parallel_map works in worker processes under every start method (fork, spawn, forkserver)"""
    items = [(x, 0, 0.0) for x in range(6)]
    for _, seen, what in _under_start_methods(
            student, "mapped", ("parallel_map", "work", items, 1),
            lambda method: f"parallel_map(f, 6 items, workers=1) with the {method!r} start "
                           "method"):
        assert seen["values"] == [x * x for x in range(6)], (
            f"{what} returned {_shown(seen)}, not f(x) for each x, in order")
        assert None not in seen["records"], f"{what} did not return what f returned"
        assert all(r[0] != seen["caller"] for r in seen["records"]), (
            f"{what}: f ran in the calling process, not in worker processes")


def _structure(seen, count):
    """Why the items of a speedup run do not show parallel processes, or None;
    and whether another try could change that."""
    want = [x * x for x in range(count)]
    if seen["values"] != want:
        return "it did not return f(x) for each item, in order", True
    records = seen["records"]
    if None in records:
        return "it did not return what f returned", True
    in_caller = sum(1 for r in records if r[0] == seen["caller"])
    if in_caller:
        return (f"{in_caller} of the {count} items ran in the calling process, not in worker "
                "processes; threads or a plain loop run Python code on one CPU at a time",
                True)
    if len({r[0] for r in records}) < 2:
        return "all the items ran in one worker process", False
    if not _overlap_in_distinct_processes(records):
        return "no two items ran at the same time in two different processes", False
    begin, end = _window(records)
    if end - begin < 0.25 * _span(records):
        return ("most items ran in one worker process before the others had started", False)
    return None, False


def _speedup_title(usable):
    """The title of the speedup test says how this machine judges it."""
    workers = min(int(usable), MAX_MEASURED_CPUS)
    if workers < 2:
        return ("parallel_map runs CPU-bound items in several processes at once (speedup not "
                f"measurable here: only {usable:g} CPU available)")
    return (f"parallel_map runs CPU-bound work on {workers} CPUs close to {workers} times as "
            "fast as a serial loop (timed when the machine has CPU to spare)")


@check("q3", weight=2, timeout=60, after="test_parallel_map_values")
def test_parallel_map_speedup(student):
    """parallel_map runs CPU-bound work in parallel, as fast as this machine allows"""
    # The CPUs are counted both here and in the student's process (whose
    # sandbox may hide the cgroup files); the smaller count holds.
    cpus = _run(student, probe.usable_cpus, what="counting the CPUs")
    usable = min(cpus["usable"], probe.cpus()["usable"])
    workers = min(int(usable), MAX_MEASURED_CPUS)
    if workers < 2:
        _judge_concurrency_only(student, usable)
        student.note(f"Speedup cannot be measured here (only {usable:g} CPU available): the "
                     "grader checked instead that items ran at the same time in distinct "
                     "worker processes.")
        return
    count = 4 * workers
    what = f"parallel_map(f, {count} CPU-bound items, workers={workers})"
    clean = 1 + CLEAN * (workers - 1)
    short, problem = [], None
    for _ in range(TRIES):
        seen = _run(student, probe.speedup, workers, count, ITEM, 0.0, clean, what=what,
                    timeout=20, hint=HANGS)
        problem, final = _structure(seen, count)
        if final:
            raise StudentFailure(f"{what}: {problem}.")
        if problem:
            continue
        if seen["ours_after"] is None or _parallelism(seen["ours_after"]) < clean:
            # The machine had no CPU to spare for our own processes just before
            # or just after: speed cannot be judged now, only the structure.
            student.note("The machine was too busy to time a speedup, so only the parallel "
                         "structure (items at the same time in distinct processes) was judged.")
            return
        ours = min(_parallelism(seen["ours_before"]), _parallelism(seen["ours_after"]))
        theirs = _parallelism(seen["records"])
        needed = 1 + SHARE_OF_GAIN * (ours - 1)
        if theirs >= needed:
            student.note(f"Got through {theirs:.2f} s of CPU work per second on {workers} CPUs "
                         f"(the grader's own processes: {ours:.2f}).")
            return
        short.append((theirs, ours, needed))
        if len(short) == 2:
            break
    assert problem is None, f"{what}: {problem} (in each of {TRIES} tries)."
    if len(short) < 2:
        return
    theirs, ours, needed = max(short)
    raise StudentFailure(
        f"{what}: the items need {_serial(seen):.2f} s of CPU in all, so a serial loop on one "
        f"free CPU takes that long. parallel_map got through {theirs:.2f} s of that work per "
        f"second (from the first item's start to the last one's end), where {workers} "
        f"processes of the grader's, timed just before and after it, got through {ours:.2f} "
        f"s per second; at least {needed:.2f} was needed (two tries).")


def _serial(seen):
    return sum(r[3] for r in seen["records"])


def _judge_concurrency_only(student, usable):
    count, workers = 8, 2
    what = f"parallel_map(f, {count} CPU-bound items, workers={workers})"
    problem = None
    for _ in range(TRIES):
        seen = _run(student, probe.speedup, workers, count, 0.01, 0.02, False, what=what,
                    timeout=20, hint=HANGS)
        problem, final = _structure(seen, count)
        if problem is None or final:
            break
    assert problem is None, (
        f"This machine gives the grader only {usable:g} CPU, so speedup cannot be measured "
        f"here; instead the grader checked that the items ran in at least two worker "
        f"processes at the same time. {what}: {problem}.")


# q4 ----------------------------------------------------------------------
@check("q4", timeout=10, after="test_io_map_values")
def test_io_map_uses_workers_threads(student):
    """io_map(f, 10 waiting items, workers=4) overlaps up to 4 calls, in the calling process"""
    what = "io_map(f, 10 items that wait, workers=4)"
    seen = _run(student, probe.mapped, "io_map", "work", [(x, 0, 0.025) for x in range(10)], 4,
                what=what, timeout=10)
    assert seen["values"] == [x * x for x in range(10)], (
        f"{what} returned {_shown(seen)}, not f(x) for each x, in order")
    assert None not in seen["records"], f"{what} did not return what f returned"
    assert all(r[0] == seen["caller"] for r in seen["records"]), (
        f"{what}: some calls ran in another process; use threads of the calling process")
    most = _concurrency(seen["records"])
    assert most <= 4, f"{what}: {most} calls were waiting at the same time, more than workers"
    assert most >= 2, f"{what}: the calls ran one after another, never waiting together"


@check("q4", timeout=10, after="test_io_map_values")
def test_io_map_edges(student):
    """io_map keeps the order of items, and handles no items and the default workers"""
    slow_first = [(x, 0, 0.005 * (6 - x)) for x in range(6)]
    cases = [("square", [], 3), ("work", slow_first, 3),
             ("square", list(range(-3, 12)), probe.DEFAULT)]
    whats = ["io_map(f, [], workers=3)",
             "io_map(f, 6 items, workers=3), the first items the slowest",
             "io_map(f, 15 items) with the default workers"]
    wants = [[], [x * x for x in range(6)], [x * x for x in range(-3, 12)]]
    for (seen, what), want in zip(_calls(student, probe.mapped_cases, "io_map", cases,
                                         whats=whats), wants, strict=False):
        assert seen["values"] == want, (
            f"{what} returned {_shown(seen)}, not f(x) for each x, in order")


# q5 ----------------------------------------------------------------------
def _check_sum(seen, numbers, what):
    want = sum(x * x for x in numbers)
    value = seen["value"]
    assert isinstance(value, (int, float)) and not isinstance(value, bool) and value == want, (
        f"{what} returned {seen['repr']}, which is not the sum of the squares")


def _squared_in_children(seen, what):
    caller = seen["caller"]
    squared_here = [t for t in seen["traces"] if t["kind"] == "square" and t["pid"] == caller]
    assert not squared_here, f"{what}: numbers were squared in the calling process"
    in_children = [t for t in seen["traces"] if t["pid"] != caller]
    assert in_children or seen["started"], (
        f"{what}: no child process was started, so no child process did the work")


@check("q5", timeout=20, after="test_parallel_sum_of_squares_values")
def test_parallel_sum_of_squares_edges(student):
    """parallel_sum_of_squares is right for any numbers and any number of processes"""
    cases = [([], 2, False), ([7], 3, False), (list(range(-50, 51)), 4, False),
             (list(range(1000)), 1, False), (list(range(1, 100)), 3, True)]
    whats = ["parallel_sum_of_squares([], 2)", "parallel_sum_of_squares([7], 3)",
             "parallel_sum_of_squares(range(-50, 51), 4)",
             "parallel_sum_of_squares(range(1000), 1)", "parallel_sum_of_squares(range(1, 100), 3)"]
    for (seen, what), (numbers, _, traced) in zip(
            _calls(student, probe.sum_cases, cases, whats=whats, timeout=20), cases,
            strict=False):
        _check_sum(seen, numbers, what)
        if traced:
            _squared_in_children(seen, what)


@check("q5", timeout=15, after="test_parallel_sum_of_squares_values")
def test_parallel_sum_of_squares_start_methods(student):
    """parallel_sum_of_squares squares in child processes under every start method"""
    numbers = list(range(1, 51))
    for _, seen, what in _under_start_methods(
            student, "sum_of_squares", (numbers, 1, True),
            lambda method: f"parallel_sum_of_squares(range(1, 51), 1) with the {method!r} "
                           "start method"):
        _check_sum(seen, numbers, what)
        _squared_in_children(seen, what)


# The title is fixed when this module is imported, from the CPUs the grader
# may use, so that it is the same for every submission graded on a machine
# (and for one whose speedup test did not run).
test_parallel_map_speedup.__doc__ = _speedup_title(probe.cpus()["usable"])
