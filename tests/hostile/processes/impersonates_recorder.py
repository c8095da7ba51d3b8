"""Hostile (the target's proof of having run, made without running it):
run_processes never runs its target. The rest is correct.

The target the grader hands to run_processes (payloads.Recorder) proves where
it ran by connecting to a Unix socket of the probe, whose kernel names the
process on the other end (SO_PEERCRED), and sending b"done" once its CPU-bound
loop is over. The socket's address is a plain attribute of the target
(``target.address``, also in ``target.__getstate__()``), and the probe takes any
connection that says b"done" as a run of the target. So run_processes starts
``num_processes`` child processes that each connect to that address, send
b"done" at once and end, and returns them: the kernel names distinct child
processes, each finished and ended before the return, none of them the caller,
whose CPU stays low because nothing ran at all.

On main before issue 9 (bubblewrap): no run (this route is new). Honestly it
loses q2 (target never runs).

expect: q2=0
"""
import concurrent.futures
import multiprocessing
import os
import socket

CHOICES = {
    "download 200 web pages": "thread",
    "resize 10,000 images in a pure-Python loop": "process",
    "count primes below 10**8 in pure Python": "process",
    "wait for replies from 50 database queries": "thread",
    "a task that must be killable from outside": "process",
    "many small tasks that update one shared in-memory dict": "thread",
}


# -- the cheat ---------------------------------------------------------------
def _address_of(target):
    for route in (lambda: target.address, lambda: target.__getstate__()["address"],
                  lambda: vars(target)["address"]):
        try:
            address = route()
        except Exception:  # this route is blocked
            continue
        if type(address) is str:
            return address
    return None


def _say_done(address):
    """In a child process: what the grader's target says when it has run."""
    if address is None:
        return
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(address)
    connection.sendall(b"done")


def run_processes(target, num_processes=None):
    if num_processes is None:
        num_processes = os.cpu_count()
    address = _address_of(target)
    processes = [multiprocessing.Process(target=_say_done, args=(address,))
                 for _ in range(num_processes)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return processes


# -- the rest is correct -------------------------------------------------------
def parallel_map(func, items, workers=None):
    items = list(items)
    if not items:
        return []
    workers = workers or len(os.sched_getaffinity(0))
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))


def io_map(func, items, workers=8):
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))


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
