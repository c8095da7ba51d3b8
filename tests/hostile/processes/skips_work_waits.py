"""Hostile (the waits of the grader's workload skipped by rewriting what is
handed over): parallel_map runs every item one after another in a single child
process, and io_map runs every item one after another in the calling process.
The rest is correct.

The grader hands its own ``work`` (autograder.probes.payloads) and items
(seed, iterations, seconds[, address]): ``work`` waits ``seconds`` and returns a
hash of the seed that only its CPU-bound loop gives. The judge checks the
values, and times the call against the serial time (the items' CPU plus their
waits). The value does not depend on the wait, and nothing checks that the wait
happened, so each function calls ``work`` on the item with its wait rewritten:
parallel_map drops the waits (a serial run then takes only the items' CPU, less
than what a parallel run of the items as given is allowed); io_map divides each
wait by ``workers`` (so one call after another takes as long as ``workers``
threads waiting together would, neither too fast nor too slow). The same could
be done through ``work.__globals__`` (its ``time`` module), which Python does
not audit either.

On main before issue 9 (bubblewrap): no run (this route is new). Honestly it
loses q3 (its public check, on which the rest of q3 depends, needs the items to
overlap) and q4 (the calls never wait together).

expect: q3=0 q4=0
"""
import concurrent.futures
import multiprocessing
import os

CHOICES = {
    "download 200 web pages": "thread",
    "resize 10,000 images in a pure-Python loop": "process",
    "count primes below 10**8 in pure Python": "process",
    "wait for replies from 50 database queries": "thread",
    "a task that must be killable from outside": "process",
    "many small tasks that update one shared in-memory dict": "thread",
}


def run_processes(target, num_processes=None):
    if num_processes is None:
        num_processes = os.cpu_count()
    processes = [multiprocessing.Process(target=target) for _ in range(num_processes)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return processes


# -- the cheat ---------------------------------------------------------------
def _rewait(item, share):
    """The grader's item with its wait multiplied by ``share``."""
    if type(item) is tuple and len(item) >= 3 and type(item[2]) in (int, float):
        return (item[0], item[1], item[2] * share, *item[3:])
    return item


def _serially(func, items):
    """In one child process: every item, one after another, with no wait."""
    return [func(_rewait(item, 0)) for item in items]


def parallel_map(func, items, workers=None):
    items = list(items)
    if not items:
        return []
    with concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool:
        return pool.submit(_serially, func, items).result()


def io_map(func, items, workers=8):
    return [func(_rewait(item, 1 / max(1, workers))) for item in items]


# -- the rest is correct -------------------------------------------------------
def _sum_of_squares_into(share, results):
    results.put(sum(x * x for x in share))


def parallel_sum_of_squares(numbers, num_processes=2):
    numbers = list(numbers)
    results = multiprocessing.Queue()
    shares = [numbers[i::num_processes] for i in range(num_processes)]
    processes = [multiprocessing.Process(target=_sum_of_squares_into, args=(share, results))
                 for share in shares]
    for process in processes:
        process.start()
    total = sum(results.get() for _ in processes)
    for process in processes:
        process.join()
    return total
