"""Correct alternative: parallel_map by hand (one Process per share of the
items, results on a Queue with their indexes), a shared Value with its lock for
the sum of squares, io_map with threads reading a queue.Queue.

expect: full
"""
import multiprocessing
import os
import queue
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
    num_processes = num_processes or os.cpu_count()
    processes = [multiprocessing.Process(target=target) for _ in range(num_processes)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return processes


def _map_share(func, indexed, results):
    results.put([(i, func(x)) for i, x in indexed])


def parallel_map(func, items, workers=None):
    items = list(items)
    workers = workers or os.cpu_count()
    results = multiprocessing.Queue()
    indexed = list(enumerate(items))
    processes = [multiprocessing.Process(target=_map_share,
                                         args=(func, indexed[w::workers], results))
                 for w in range(workers)]
    for p in processes:
        p.start()
    out = [None] * len(items)
    for _ in processes:
        for i, value in results.get():
            out[i] = value
    for p in processes:
        p.join()
    return out


def io_map(func, items, workers=8):
    items = list(items)
    results = [None] * len(items)
    todo = queue.Queue()
    for pair in enumerate(items):
        todo.put(pair)

    def worker():
        while True:
            try:
                i, x = todo.get_nowait()
            except queue.Empty:
                return
            results[i] = func(x)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _add_squares(share, total):
    partial = sum(x * x for x in share)
    with total.get_lock():
        total.value += partial


def parallel_sum_of_squares(numbers, num_processes=2):
    total = multiprocessing.Value("q", 0)
    processes = [multiprocessing.Process(target=_add_squares,
                                         args=(numbers[i::num_processes], total))
                 for i in range(num_processes)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return total.value
