"""Public checks for the processes assignment. Run them with

    advpy check processes.py        (or processes.ipynb)

The grader runs these and more: passing them all does not mean full marks.

The functions these checks hand to your code (probe.work, probe.square and
the targets) are defined at the top level of an importable module, so they
pickle whatever the start method; each one reports the process it ran in.

PYTEST_DONT_REWRITE: feedback is the assert message alone, never pytest's
explanation (which would show a hidden test's expected answer).
"""

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
PICKLING = (" That is a pickling error: a process pool sends the function to call to its "
            "workers by pickling it, as its module and its name, and only functions defined "
            "at the top level of a module pickle. Pass a module-level function, not a lambda "
            "or a function defined inside another one.")


def _run(student, probe_function, *args, what, timeout=None, **kwargs):
    """Call the probe; on failure, say what went wrong, naming pickling when it was that."""
    answer = student.outcome(probe_function, *args, what=what, timeout=timeout, **kwargs)
    if answer["status"] == "ok":
        return answer["result"]
    message = student.explain(answer, what)
    error = answer.get("error") or {}
    text = f"{error.get('type', '')} {error.get('message', '')}".lower()
    if "pickl" in text or "local object" in text:
        message += PICKLING
    raise StudentFailure(message, kind=answer["status"])


def _shown(seen):
    """What a map returned, as its values (f's results carry our pids and times too)."""
    values = seen.get("values")
    if values is None:
        return seen["repr"]
    head = ", ".join(repr(v) for v in values[:12])
    return f"the values [{head}{', …' if len(values) > 12 else ''}]"


def _concurrency(records):
    """The largest number of (start, end) intervals open at one instant."""
    events = sorted([(r[1], 1) for r in records] + [(r[2], -1) for r in records])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


@check("q1", weight=0, hidden=False)
def test_choices_shape(student):
    """CHOICES maps each of the six workloads to 'thread' or 'process'"""
    seen = _run(student, probe.choices, what="reading CHOICES")
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
    seen = _run(student, probe.run_processes, 3, 0.05, what="run_processes(target, 3)",
                timeout=10)
    returned = seen["returned"]
    assert returned is not None, f"run_processes returned {seen['repr']}, not a list of processes"
    assert len(returned) == 3 and all(p["is_process"] for p in returned), (
        f"run_processes(target, 3) returned {seen['repr']}: a list of 3 "
        "multiprocessing.Process objects was expected")
    pids = [r["pid"] for r in seen["records"]]
    assert len(pids) == 3, f"target ran {len(pids)} times, not 3"
    assert seen["caller"] not in pids, (
        "target ran in the calling process: call start() on each Process (run() or calling "
        "target yourself runs it here)")
    assert len(set(pids)) == 3, f"target ran in {len(set(pids))} distinct processes, not 3"


@check("q3", hidden=False, timeout=10)
def test_parallel_map_values(student):
    """parallel_map(f, 8 items, workers=2) returns f's results in order, from 2 processes at once"""
    items = [(x, 0, 0.005 * (8 - x)) for x in range(8)]  # the first items take longest
    want = [x * x for x in range(8)]
    problem = None
    for _ in range(3):  # a pool may be slow to start its second worker: try again
        seen = _run(student, probe.mapped, "parallel_map", "work", items, 2,
                    what="parallel_map(f, 8 items, workers=2)", timeout=10)
        assert seen["values"] == want, (
            f"parallel_map(f, items, 2) returned {_shown(seen)}; f(x) for each item, in "
            f"order, has the values {want}")
        assert None not in seen["records"], "parallel_map did not return what f returned"
        pids = {r[0] for r in seen["records"]}
        assert seen["caller"] not in pids, (
            "f ran in the calling process: threads or a plain loop cannot run Python code on "
            "two CPUs at once; use worker processes (a process pool)")
        if len(pids) < 2:
            problem = "every item ran in one worker process: use `workers` processes"
        elif _concurrency(seen["records"]) < 2:
            problem = ("the items never ran at the same time in two processes: start all the "
                       "workers before waiting for any of them")
        else:
            return
    raise StudentFailure(f"{problem} (in each of 3 tries)")


@check("q4", hidden=False, timeout=10)
def test_io_map_values(student):
    """io_map(f, 8 waiting items, workers=8) returns f's results in order, waiting together"""
    items = [(x, 0, 0.005 * (8 - x)) for x in range(8)]  # the first items take longest
    seen = _run(student, probe.mapped, "io_map", "work", items, 8,
                what="io_map(f, 8 items, workers=8)", timeout=10)
    want = [x * x for x in range(8)]
    assert seen["values"] == want, (
        f"io_map(f, items, 8) returned {_shown(seen)}; f(x) for each item, in order, has the "
        f"values {want}")
    assert None not in seen["records"], "io_map did not return what f returned"
    outside = [r for r in seen["records"] if r[0] != seen["caller"]]
    assert not outside, (
        f"{len(outside)} of the 8 calls ran in another process: for waiting, use threads in "
        "the calling process, which cost far less to start and share its memory")
    assert _concurrency(seen["records"]) >= 2, (
        "the calls ran one after another: run them in `workers` threads so that they wait "
        "at the same time")


@check("q5", hidden=False, timeout=10)
def test_parallel_sum_of_squares_values(student):
    """parallel_sum_of_squares([1, ..., 10]) is 385, squared in child processes"""
    seen = _run(student, probe.sum_of_squares, list(range(1, 11)), traced=True,
                what="parallel_sum_of_squares([1, 2, ..., 10])", timeout=10)
    assert seen["value"] == 385, (
        f"parallel_sum_of_squares([1, ..., 10]) returned {seen['repr']}, not 385")
    squared_here = [t for t in seen["traces"]
                    if t["kind"] == "square" and t["pid"] == seen["caller"]]
    assert not squared_here, (
        "the numbers were squared in the calling process: each child process must square "
        "and add up its own share")
    in_children = [t for t in seen["traces"] if t["pid"] != seen["caller"]]
    assert in_children or seen["started"], (
        "no child process was started: start num_processes processes (or a pool) and let "
        "each one sum the squares of its share")
