"""Hostile (the barrier passed by one thread, re-entering it through
threading.Condition): run_threads joins each thread right after starting it
(serial), and process_queue runs a single worker thread. The rest is correct.

The barrier the judge's target and worker wait at (threads_instruments.barrier)
keeps its state out of reach, but it waits with ``_cond.wait(left)`` on a
threading.Condition, whose Python methods are looked up on the class at each
call, and the student may rebind them. Before the call it hands the target
(or the worker) over, the submission replaces threading.Condition.wait: in a
thread that is inside a call of the grader's function, a wait releases the
condition's lock and calls that function again, in the same thread, so that
the next arrival happens at once; the last arrival completes the barrier, and
every nested wait then sees the generation change. run_threads stops starting
threads once the barrier was passed that way; process_queue's single worker
takes the next items from its queue inside the wait. Everything else uses the
real wait.

On main before issue 9 (bubblewrap): no run (this route is new). Honestly: q1
loses its concurrency test, q6 its concurrency test.

expect: q1=2 q6=3
"""
import queue
import threading
import time

database_value = 0

# -- the cheat ---------------------------------------------------------------
_real_wait = threading.Condition.wait
_local = threading.local()  # .again: what a wait in this thread calls instead of waiting
_passed = []  # set once a barrier was passed by re-entering it


def _wait(self, timeout=None):
    again = getattr(_local, "again", None)
    if again is None or getattr(_local, "depth", 0) > 16:
        return _real_wait(self, timeout)
    _local.depth = getattr(_local, "depth", 0) + 1
    self._lock.release()
    try:
        ran = again()
    finally:
        self._lock.acquire()
        _local.depth -= 1
    if not ran:  # nothing left to call: wait for real
        return _real_wait(self, timeout)
    _passed.append(True)
    return True


try:
    threading.Condition.wait = _wait
except Exception:  # the trick is blocked
    pass


def run_threads(target, num_threads=10):
    _passed.clear()
    left = [num_threads - 1]

    def again():
        if left[0] <= 0:
            return False
        left[0] -= 1
        target()
        return True

    def body():
        _local.again = again
        try:
            target()
        finally:
            _local.again = None

    threads = []
    for _ in range(num_threads):
        if _passed:  # the barrier was passed inside the first thread
            break
        thread = threading.Thread(target=body)
        threads.append(thread)
        thread.start()
        thread.join()
    return threads


_STOP = object()


def process_queue(items, worker, num_workers=4):
    items = list(items)
    tasks = queue.Queue()
    results = [None] * len(items)

    def again():
        try:
            task = tasks.get_nowait()
        except queue.Empty:
            return False
        if task is _STOP:
            tasks.put(_STOP)
            return False
        index, item = task
        results[index] = worker(item)
        return True

    def work():
        while True:
            task = tasks.get()
            if task is _STOP:
                return
            index, item = task
            _local.again = again
            try:
                results[index] = worker(item)
            finally:
                _local.again = None

    for task in enumerate(items):
        tasks.put(task)
    tasks.put(_STOP)
    thread = threading.Thread(target=work)  # one worker, whatever num_workers says
    thread.start()
    thread.join()
    return results


# -- the rest is correct -------------------------------------------------------
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
