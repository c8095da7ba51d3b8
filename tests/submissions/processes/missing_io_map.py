"""Bug: io_map is missing (misspelled io_mapp).

expect: q4=0
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
    processes = [multiprocessing.Process(target=target)
                 for _ in range(num_processes or os.cpu_count())]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return processes


def parallel_map(func, items, workers=None):
    with concurrent.futures.ProcessPoolExecutor(workers) as pool:
        return list(pool.map(func, items))


def io_mapp(func, items, workers=8):
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(func, items))


def _squares(share):
    return sum(x * x for x in share)


def parallel_sum_of_squares(numbers, num_processes=2):
    with concurrent.futures.ProcessPoolExecutor(num_processes) as pool:
        return sum(pool.map(_squares, [numbers[i::num_processes] for i in range(num_processes)]))
