"""Hostile (the + 1 done where the grader's value cannot see it): increase reads
database_value and adds one without the lock, and holds the lock only around
the latency and the write (as q2_lock_around_write_only.py, with the sleep
moved inside). The rest is correct.

The grader puts in database_value a Tracked int that reports each + 1 done on
it (__add__, __radd__, __sub__, __int__, __index__), with whether the lock was
held then; the judge requires every reported + 1 to be under the lock, and its
contention probe counts a + 1 made on a value read before the lock as stale.
int.__add__(database_value, 1) calls the C slot of int directly, so nothing is
reported: no + 1 outside the lock, nothing stale, and the one hold (around
the sleep and the write) changes database_value as the judge wants. Only the
5-thread test, which reads the final value, sees the lost updates.

On main before issue 9 (bubblewrap): no run (this route is new). Honestly it
loses all of q2 (the read and the + 1 are outside the lock).

expect: q2=0
"""
import queue
import threading
import time

database_value = 0


def run_threads(target, num_threads=10):
    threads = [threading.Thread(target=target) for _ in range(num_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return threads


def increase(lock):
    global database_value
    # read and + 1 without the lock; int.__add__ is the C slot itself, so the
    # grader's Tracked value never hears of the + 1
    local_copy = int.__add__(database_value, 1)
    with lock:
        time.sleep(0.03)
        database_value = local_copy  # the latency and the write under the lock


def run_increase(num_threads=2):
    global database_value
    database_value = 0
    lock = threading.Lock()
    threads = [threading.Thread(target=increase, args=(lock,)) for _ in range(num_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return database_value


class ThreadSafeCounter:
    def __init__(self):
        self._value = 0
        self._lock = threading.Lock()

    @property
    def value(self):
        return self._value

    def increment(self, amount=1):
        with self._lock:
            current = self._value
            time.sleep(0)
            self._value = current + amount


def start_heartbeat(interval, beats):
    def beat():
        while True:
            beats.append(time.monotonic())
            time.sleep(interval)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    return thread


_STOP = object()


def process_queue(items, worker, num_workers=4):
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

    workers = [threading.Thread(target=work) for _ in range(num_workers)]
    for thread in workers:
        thread.start()
    for task in enumerate(items):
        tasks.put(task)
    for _ in workers:
        tasks.put(_STOP)
    for thread in workers:
        thread.join()
    return results
