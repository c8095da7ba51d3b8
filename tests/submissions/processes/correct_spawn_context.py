"""Correct alternative: every process is started with an explicit "spawn"
context (slower to start, as on macOS and Windows), whatever the default.

expect: full
"""
import concurrent.futures
import multiprocessing
import os

SPAWN = multiprocessing.get_context("spawn")

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
    processes = [SPAWN.Process(target=target) for _ in range(num_processes)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return processes


def parallel_map(func, items, workers=None):
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=SPAWN) as pool:
        return list(pool.map(func, items))


def io_map(func, items, workers=8):
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(func, items))


def sum_squares(numbers):
    return sum(n * n for n in numbers)


def parallel_sum_of_squares(numbers, num_processes=2):
    shares = [numbers[i::num_processes] for i in range(num_processes)]
    with SPAWN.Pool(num_processes) as pool:
        return sum(pool.map(sum_squares, shares))
