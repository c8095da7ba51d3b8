"""Bug: the heartbeat ignores interval and sleeps a fixed 0.01 s between beats
(right for start_heartbeat(0.01, ...), five times too fast for 0.05).

expect: q5=1.5
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
            time.sleep(0.01)

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
