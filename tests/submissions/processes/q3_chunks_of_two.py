"""Bug: parallel_map hands out chunks of at least two items: two items on two
workers go to one worker process and run one after the other.

expect: q3=4.5
"""
import multiprocessing
import os
from multiprocessing.pool import ThreadPool

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
    processes = []
    for _ in range(num_processes):
        p = multiprocessing.Process(target=target)
        p.start()
        processes.append(p)
    for p in processes:
        p.join()
    return processes


def parallel_map(func, items, workers=None):
    items = list(items)
    workers = workers or os.cpu_count()
    # Bug: chunks of at least two items: two items on two workers share one.
    chunksize = max(2, len(items) // (workers * 4))
    with multiprocessing.Pool(workers) as pool:
        return pool.map(func, items, chunksize=chunksize)


def io_map(func, items, workers=8):
    with ThreadPool(workers) as pool:
        return pool.map(func, items)


def square_sum(chunk):
    return sum(x ** 2 for x in chunk)


def parallel_sum_of_squares(numbers, num_processes=2):
    size = -(-len(numbers) // num_processes) or 1
    chunks = [numbers[i:i + size] for i in range(0, len(numbers), size)]
    with multiprocessing.Pool(num_processes) as pool:
        return sum(pool.map(square_sum, chunks))
