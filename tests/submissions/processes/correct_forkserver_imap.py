"""Correct alternative: every process comes from an explicit "forkserver"
context; parallel_map is Pool.imap (one process per usable CPU when workers is
None), io_map is workers threads fed by a queue.Queue with task_done()/join(),
and the sum of squares is a ProcessPoolExecutor of num_processes workers, one
share each.

expect: full
"""
import concurrent.futures
import multiprocessing
import os
import queue
import threading

FORKSERVER = multiprocessing.get_context("forkserver")

CHOICES = {
    "download 200 web pages": "thread",
    "resize 10,000 images in a pure-Python loop": "process",
    "count primes below 10**8 in pure Python": "process",
    "wait for replies from 50 database queries": "thread",
    "a task that must be killable from outside": "process",
    "many small tasks that update one shared in-memory dict": "thread",
}


def run_processes(target, num_processes=None):
    count = os.cpu_count() if num_processes is None else num_processes
    processes = [FORKSERVER.Process(target=target) for _ in range(count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return processes


def _usable_cpus():
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count() or 1
    return len(os.sched_getaffinity(0))


def parallel_map(func, items, workers=None):
    with FORKSERVER.Pool(workers or _usable_cpus()) as pool:
        return list(pool.imap(func, items))


def io_map(func, items, workers=8):
    items = list(items)
    results = [None] * len(items)
    todo = queue.Queue()

    def worker():
        while True:
            job = todo.get()
            if job is None:
                todo.task_done()
                return
            index, item = job
            try:
                results[index] = func(item)
            finally:
                todo.task_done()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for job in enumerate(items):
        todo.put(job)
    for _ in threads:
        todo.put(None)
    todo.join()
    for thread in threads:
        thread.join()
    return results


def _sum_of_squares(share):
    return sum(x * x for x in share)


def parallel_sum_of_squares(numbers, num_processes=2):
    numbers = list(numbers)
    shares = [numbers[i::num_processes] for i in range(num_processes)]
    with concurrent.futures.ProcessPoolExecutor(num_processes, mp_context=FORKSERVER) as pool:
        return sum(pool.map(_sum_of_squares, shares))
