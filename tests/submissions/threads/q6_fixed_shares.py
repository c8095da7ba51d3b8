"""Bug: process_queue shares the items out in advance (thread i takes items
i, i + num_workers, ...) instead of letting free workers take the next item
from a queue: a slow item holds up its thread's whole share.

expect: q6=3
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
    with lock:
        local_copy = database_value
        local_copy += 1
        time.sleep(0.03)
        database_value = local_copy


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
    results = [None] * len(items)

    # Bug: each thread gets a share of the items fixed in advance (every
    # num_workers-th one); a thread busy with a slow item holds up the rest
    # of its share while the others sit idle. No queue, no producer.
    def work(first):
        for index in range(first, len(items), num_workers):
            results[index] = worker(items[index])

    workers = [threading.Thread(target=work, args=(first,)) for first in range(num_workers)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return results
