"""Correct, written another way: one lock shared by every counter
(taken with acquire/try/finally), a heartbeat thread
subclass that keeps to a schedule, and concurrent.futures.ThreadPoolExecutor
for the queue of work.

expect: full
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from time import monotonic, sleep

database_value = 0


def run_threads(target, num_threads=10):
    threads = [threading.Thread(target=target) for _ in range(num_threads)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return threads


def increase(lock):
    global database_value
    with lock:
        new = database_value + 1  # read and modify
        sleep(0.03)
        database_value = new  # write


def run_increase(num_threads=2):
    global database_value
    database_value = 0
    lock = threading.Lock()
    threads = [threading.Thread(target=increase, kwargs={"lock": lock})
               for _ in range(num_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return database_value


class ThreadSafeCounter:
    _all_counters_lock = threading.Lock()  # one lock for every counter: slower, still safe

    def __init__(self):
        self.__n = 0

    @property
    def value(self):
        return self.__n

    def increment(self, amount=1):
        self._all_counters_lock.acquire()
        try:
            self.__n += amount
        finally:
            self._all_counters_lock.release()


class _Heart(threading.Thread):
    def __init__(self, interval, beats):
        super().__init__(daemon=True, name="heart")
        self.interval = interval
        self.beats = beats

    def run(self):
        due = monotonic()
        while True:
            self.beats.append(monotonic())
            due += self.interval
            sleep(max(0.0, due - monotonic()))


def start_heartbeat(interval, beats):
    heart = _Heart(interval, beats)
    heart.start()
    return heart


def process_queue(items, worker, num_workers=4):
    with ThreadPoolExecutor(max_workers=num_workers) as pool:
        return list(pool.map(worker, items))
