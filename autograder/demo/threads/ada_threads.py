"""Correct, written another way: an RLock and explicit acquire/try/finally,
a counter whose methods re-enter its RLock, a heartbeat that loops on
Event.wait, and workers that stop on a shared Event once the queue is drained.

"""
import queue
import threading
import time

database_value = 0


def run_threads(target, num_threads=10):
    threads = []
    for _ in range(num_threads):
        threads.append(threading.Thread(target=target))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return threads


def increase(lock):
    global database_value
    lock.acquire()
    try:
        value = database_value
        value = value + 1
        time.sleep(0.03)
        database_value = value
    finally:
        lock.release()


def run_increase(num_threads=2):
    global database_value
    database_value = 0
    shared = threading.RLock()
    run_threads(lambda: increase(shared), num_threads)
    return database_value


class ThreadSafeCounter:
    def __init__(self):
        self._count = 0
        self._lock = threading.RLock()

    @property
    def value(self):
        with self._lock:
            return self._count

    def increment(self, amount=1):
        with self._lock:
            current = self.value  # re-enters the RLock: fine
            time.sleep(0)
            self._count = current + amount


def start_heartbeat(interval, beats):
    stop = threading.Event()

    def loop():
        beats.append(time.monotonic())
        while not stop.wait(interval):
            beats.append(time.monotonic())

    t = threading.Thread(target=loop)
    t.daemon = True
    t.start()
    return t


def process_queue(items, worker, num_workers=4):
    jobs = queue.Queue()
    items = list(items)
    out = {}
    out_lock = threading.Lock()
    done = threading.Event()

    def run():
        while True:
            try:
                i, x = jobs.get(timeout=0.01)
            except queue.Empty:
                if done.is_set():
                    return
                continue
            r = worker(x)
            with out_lock:
                out[i] = r
            jobs.task_done()

    threads = [threading.Thread(target=run) for _ in range(num_workers)]
    for t in threads:
        t.start()
    for pair in enumerate(items):
        jobs.put(pair)
    jobs.join()
    done.set()
    for t in threads:
        t.join()
    return [out[i] for i in range(len(items))]
