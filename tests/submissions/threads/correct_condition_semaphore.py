"""Correct, written another way: run_increase shares a Semaphore(1) (a lock
is any object with acquire/release), the counter guards its count with a
Condition, the heartbeat is a Thread subclass, and process_queue waits on
queue.join() (task_done for every item) before stopping its workers with
one sentinel each.

expect: full
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
    lock.acquire()
    try:
        local_copy = database_value
        local_copy += 1
        time.sleep(0.03)
        database_value = local_copy
    finally:
        lock.release()


def run_increase(num_threads=2):
    global database_value
    database_value = 0
    gate = threading.Semaphore(1)
    threads = [threading.Thread(target=increase, args=(gate,)) for _ in range(num_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return database_value


class ThreadSafeCounter:
    def __init__(self):
        self._count = 0
        self._guard = threading.Condition()

    @property
    def value(self):
        with self._guard:
            return self._count

    def increment(self, amount=1):
        with self._guard:
            before = self._count
            time.sleep(0)
            self._count = before + amount


class _Heartbeat(threading.Thread):
    def __init__(self, interval, beats):
        super().__init__(daemon=True)
        self.interval = interval
        self.beats = beats

    def run(self):
        while True:
            self.beats.append(time.monotonic())
            time.sleep(self.interval)


def start_heartbeat(interval, beats):
    heart = _Heartbeat(interval, beats)
    heart.start()
    return heart


_DONE = object()


def process_queue(items, worker, num_workers=4):
    items = list(items)
    results = [None] * len(items)
    tasks = queue.Queue()

    def consume():
        while True:
            task = tasks.get()
            try:
                if task is _DONE:
                    return
                index, item = task
                results[index] = worker(item)
            finally:
                tasks.task_done()

    threads = [threading.Thread(target=consume) for _ in range(num_workers)]
    for thread in threads:
        thread.start()
    for task in enumerate(items):
        tasks.put(task)
    tasks.join()  # every item processed
    for _ in threads:
        tasks.put(_DONE)
    for thread in threads:
        thread.join()
    return results
