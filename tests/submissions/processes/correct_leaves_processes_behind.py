"""Correct, but untidy: it leaves processes behind. Importing it in the main
process starts a child that sleeps forever; parallel_map never closes its
pool; parallel_sum_of_squares joins nothing, and each of its children starts
a grandchild that leaves the session (os.setsid) and sleeps. The grader must
end them all after each call, and they must not slow anything graded later.
Each process it leaves behind is named advpy-leftover (/proc/PID/comm), so
that tests/test_processes_grading.py can look for survivors.

(The child started at import sleeps rather than spins: a spinning one would
take a CPU from this submission's own parallel_map while its speed is timed,
against the grader's calibration in a sandbox where nothing else runs.)

expect: full
"""
import multiprocessing
import os
import time
from concurrent.futures import ThreadPoolExecutor

CHOICES = {
    "download 200 web pages": "thread",
    "resize 10,000 images in a pure-Python loop": "process",
    "count primes below 10**8 in pure Python": "process",
    "wait for replies from 50 database queries": "thread",
    "a task that must be killable from outside": "process",
    "many small tasks that update one shared in-memory dict": "thread",
}


def _mark():
    """Name this process advpy-leftover (its /proc/self/comm)."""
    try:
        with open("/proc/self/comm", "w") as comm:
            comm.write("advpy-leftover")
    except OSError:
        pass


def sleep_forever():
    _mark()
    while True:
        time.sleep(1000)


if multiprocessing.current_process().name == "MainProcess":
    multiprocessing.Process(target=sleep_forever).start()


def run_processes(target, num_processes=None):
    processes = [multiprocessing.Process(target=target)
                 for _ in range(num_processes or os.cpu_count())]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return processes


def parallel_map(func, items, workers=None):
    pool = multiprocessing.Pool(workers, initializer=_mark)
    return pool.map(func, items)


def io_map(func, items, workers=8):
    return list(ThreadPoolExecutor(workers).map(func, items))


def _sleep_in_own_session():
    _mark()
    os.setsid()
    time.sleep(1000)


def _sum_squares(share, results):
    multiprocessing.Process(target=_sleep_in_own_session).start()
    results.put(sum(x * x for x in share))


def parallel_sum_of_squares(numbers, num_processes=2):
    results = multiprocessing.Queue()
    for i in range(num_processes):
        multiprocessing.Process(target=_sum_squares,
                                args=(numbers[i::num_processes], results)).start()
    return sum(results.get() for _ in range(num_processes))
