"""Hostile (the int() escape): CHOICES is right; parallel_sum_of_squares squares
every number in the calling process, after turning the grader's tracing int into
a plain one (int(x), x + 0, x.real, operator.index(x) in turn: only a "convert",
never a "square", is recorded, and x + 0 and x.real record nothing), and starts
one dummy process (time.sleep(0)) so that "a child process was started".

On main before issue 9 (bubblewrap): 6/17 (q5 3/3). Honestly it earns q1 only.

expect: q2=0 q3=0 q4=0 q5=0
"""
import multiprocessing
import operator
import time

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


def _plain(index, x):
    """x as a plain int, four ways that Traced does not see as a square."""
    return (int(x), x + 0, x.real, operator.index(x))[index % 4]


def parallel_sum_of_squares(numbers, num_processes=2):
    dummy = multiprocessing.Process(target=time.sleep, args=(0,))
    dummy.start()
    dummy.join()
    total = 0
    for index, x in enumerate(numbers):
        plain = _plain(index, x)
        total += plain * plain  # here, in the calling process
    return total
