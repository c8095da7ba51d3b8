"""Correct alternative: ProcessPoolExecutor with submit() and futures in order,
a Pipe per child for the sum of squares, executor.map for io_map.

expect: full
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
    count = os.cpu_count() if num_processes is None else num_processes
    processes = [multiprocessing.Process(target=target) for _ in range(count)]
    [p.start() for p in processes]
    [p.join() for p in processes]
    return processes


def parallel_map(func, items, workers=None):
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as executor:
        futures = [executor.submit(func, item) for item in items]
        return [future.result() for future in futures]


def io_map(func, items, workers=8):
    with concurrent.futures.ThreadPoolExecutor(workers) as executor:
        return list(executor.map(func, items))


def _child(numbers, connection):
    connection.send(sum(n * n for n in numbers))
    connection.close()


def parallel_sum_of_squares(numbers, num_processes=2):
    pipes, processes = [], []
    for index in range(num_processes):
        receiver, sender = multiprocessing.Pipe(duplex=False)
        process = multiprocessing.Process(target=_child,
                                          args=(numbers[index::num_processes], sender))
        process.start()
        sender.close()
        pipes.append(receiver)
        processes.append(process)
    total = sum(receiver.recv() for receiver in pipes)
    for process in processes:
        process.join()
    return total
