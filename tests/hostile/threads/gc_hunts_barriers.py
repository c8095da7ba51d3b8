"""Hostile (gc hunting): the stub, but run_threads joins each thread right after
starting it (serial) and process_queue runs a single worker thread. Both find the
judge's SoftBarrier with the gc module (gc.get_objects() in run_threads,
gc.get_referents(worker), its defaults or its attributes, in process_queue) and set parties = 1,
so every lone thread passes the barrier that only concurrent threads should pass.

On main before issue 9 (bubblewrap): 7/17 (q1 3/3, q6 4/4, the rest the stub's
0). Honestly: q1 loses its concurrency test, q6 its concurrency test.

expect: q1=2 q2=0 q3=0 q4=0 q5=0 q6=3
"""
import gc
import queue
import threading
import time


def _open(obj):
    if type(obj).__name__ == "SoftBarrier":
        obj.parties = 1


def run_threads(target, num_threads=10):
    try:
        for obj in gc.get_objects():
            _open(obj)
    except Exception:  # the trick is blocked
        pass
    threads = [threading.Thread(target=target) for _ in range(num_threads)]
    for thread in threads:
        thread.start()
        thread.join()
    return threads


database_value = 0


def increase(lock):
    global database_value
    local_copy = database_value  # read
    local_copy += 1  # modify
    time.sleep(0.03)  # the database takes its time
    database_value = local_copy  # write


def run_increase(num_threads=2):
    raise NotImplementedError("write run_increase")


class ThreadSafeCounter:
    def __init__(self):
        self._value = 0

    @property
    def value(self):
        return self._value

    def increment(self, amount=1):
        current = self._value
        time.sleep(0)
        self._value = current + amount


def start_heartbeat(interval, beats):
    raise NotImplementedError("write start_heartbeat")


_STOP = object()


def process_queue(items, worker, num_workers=4):
    try:
        for obj in gc.get_referents(worker):  # its defaults, or its instance dict
            inner = obj.values() if type(obj) is dict else obj if type(obj) is tuple else (obj,)
            for value in inner:
                _open(value)
    except Exception:  # the trick is blocked
        pass
    items = list(items)
    tasks = queue.Queue()
    results = [None] * len(items)

    def work():
        while True:
            task = tasks.get()
            if task is _STOP:
                return
            index, item = task
            results[index] = worker(item)

    workers = [threading.Thread(target=work)]  # one worker, whatever num_workers says
    for thread in workers:
        thread.start()
    for task in enumerate(items):
        tasks.put(task)
    for _ in workers:
        tasks.put(_STOP)
    for thread in workers:
        thread.join()
    return results
