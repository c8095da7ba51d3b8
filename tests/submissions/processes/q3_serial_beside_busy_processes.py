"""Bug: parallel_map computes serially in one child process, while other
processes spin or sleep beside it (dummies that make the run look parallel
to anyone counting processes or CPU seconds).

expect: q3=0
"""
import concurrent.futures
import multiprocessing
import os
import threading

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


def _spin(seconds):
    import time
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _sleep(seconds):
    import time
    time.sleep(seconds)


def _serial(func, items):
    return [func(item) for item in items]


def parallel_map(func, items, workers=None):
    dummies = [multiprocessing.Process(target=_spin, args=(0.3,)),
               multiprocessing.Process(target=_sleep, args=(0.3,))]
    for dummy in dummies:
        dummy.start()
    with concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool:
        result = pool.submit(_serial, func, list(items)).result()
    for dummy in dummies:
        dummy.join()
    return result


def io_map(func, items, workers=8):
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))


def _sum_of_squares(share):
    return sum(x * x for x in share)


def parallel_sum_of_squares(numbers, num_processes=2):
    shares = [numbers[i::num_processes] for i in range(num_processes)]
    with multiprocessing.Pool(num_processes) as pool:
        return sum(pool.map(_sum_of_squares, shares))
