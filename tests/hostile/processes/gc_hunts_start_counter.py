"""Hostile (gc hunting): CHOICES is right; parallel_sum_of_squares squares every
number in the calling process (x.real strips the grader's tracing int, so no
"square" is recorded) and starts no process at all: it finds the probe's
process-start counter (_StartCounter) with gc.get_objects() and adds one to it,
so the judge reads that "a child process was started".

On main before issue 9 (bubblewrap): 6/17 (q5 3/3). Honestly it earns q1 only.

expect: q2=0 q3=0 q4=0 q5=0
"""
import gc

CHOICES = {
    "download 200 web pages": "thread",
    "resize 10,000 images in a pure-Python loop": "process",
    "count primes below 10**8 in pure Python": "process",
    "wait for replies from 50 database queries": "thread",
    "a task that must be killable from outside": "process",
    "many small tasks that update one shared in-memory dict": "thread",
}


def run_processes(target, num_processes=None):
    raise NotImplementedError("write run_processes")


def parallel_map(func, items, workers=None):
    raise NotImplementedError("write parallel_map")


def io_map(func, items, workers=8):
    raise NotImplementedError("write io_map")


def _bump_start_counters():
    try:
        for obj in gc.get_objects():
            if type(obj).__name__ == "_StartCounter" and isinstance(getattr(obj, "started", None), int):
                obj.started += 1
    except Exception:  # the trick is blocked
        pass


def parallel_sum_of_squares(numbers, num_processes=2):
    _bump_start_counters()
    return sum(x.real * x.real for x in numbers)  # here, in the calling process
