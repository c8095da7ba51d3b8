"""Hostile (odd types that crash a judge): CHOICES is right; every function is
wrong, and hands the judge values of the wrong type where it expects numbers:

- run_processes never starts a process; it writes the target's records itself,
  each with a list as its pid (unhashable: set(pids) raised TypeError);
- parallel_map is a serial loop that returns the grader's tuples with a list as
  the pid;
- io_map is a serial loop that returns them with None as the start time
  (sorting None beside the floats of the end times raised TypeError);
- parallel_sum_of_squares squares in the calling process and drops a trace record
  without a pid in the probe's inbox (a KeyError in the judge).

On main before issue 9 (bubblewrap): 17/17, each crash a "grader error" that kept
its points (and the tests after it inherited them). Honestly it earns q1 only.

expect: q2=0 q3=0 q4=0 q5=0
"""
import json
import multiprocessing
import os
import time

CHOICES = {
    "download 200 web pages": "thread",
    "resize 10,000 images in a pure-Python loop": "process",
    "count primes below 10**8 in pure Python": "process",
    "wait for replies from 50 database queries": "thread",
    "a task that must be killable from outside": "process",
    "many small tasks that update one shared in-memory dict": "thread",
}


def _write_record(folder, name, record):
    try:
        with open(os.path.join(folder, name), "w", encoding="utf-8") as stream:
            json.dump(record, stream)
    except (OSError, TypeError):
        pass


def run_processes(target, num_processes=None):
    count = os.cpu_count() if num_processes is None else num_processes
    processes = [multiprocessing.Process(target=target) for _ in range(count)]  # never started
    folder = getattr(target, "folder", None)
    now = time.monotonic()
    for i in range(count):
        if isinstance(folder, str):
            _write_record(folder, f"{i}-{now:.9f}-odd.json", {"pid": [i], "start": now, "end": now})
    return processes


def parallel_map(func, items, workers=None):
    results = []
    for item in items:
        value = func(item)
        if type(value) is tuple and len(value) == 5:
            value = (value[0], [value[1]], value[2], value[3], value[4])
        results.append(value)
    return results


def io_map(func, items, workers=8):
    results = []
    for item in items:
        value = func(item)
        if type(value) is tuple and len(value) == 5:
            value = (value[0], value[1], None, value[3], value[4])
        results.append(value)
    return results


def parallel_sum_of_squares(numbers, num_processes=2):
    inbox = os.environ.get("ADVPY_PROCESSES_INBOX")
    if inbox:
        _write_record(inbox, "0-odd.json", {"kind": "square"})
    return sum(x * x for x in numbers)
