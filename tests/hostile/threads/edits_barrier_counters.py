"""Hostile (frame edits of barrier counters): run_threads joins each thread right
after starting it (serial), increase never takes its lock (the stub's racy
read-modify-write), and process_queue runs a single worker thread. Each reaches
the judge's instruments and rewrites them so that it looks right:

- run_threads finds the SoftBarrier its target waits at (in the target's
  attributes, closure or defaults, or up its own stack: sys._getframe(1).f_back...
  to the probe's frame) and sets parties = 1, so each lone thread "meets the
  others" at once;
- increase finds the probe's Watch (database_value.watch, the time shim's _watch,
  or type(lock).acquire.__globals__["_watch"]) and, in a finally, adds a forged
  hold to the SpyLock (count, holds) and marks every recorded read and sleep as
  done while holding it;
- process_queue finds the barrier of its worker (attributes, __defaults__,
  closure) and sets parties = 1.

On main before issue 9 (bubblewrap): 16.25/17 (q1 3/3, q2 2.25/3, q6 4/4). The
rest is correct; honestly it loses q1's concurrency test, all of q2, and q6's
concurrency test.

expect: q1=2 q2=0 q6=3
"""
import queue
import sys
import threading
import time

database_value = 0


def _open_barrier(barrier):
    if type(barrier).__name__ == "SoftBarrier":
        barrier.parties = 1


def _open_barriers_of(function):
    """The barriers a function or callable object carries: attributes, closure, defaults."""
    near = []
    for route in (lambda: list(vars(function).values()),
                  lambda: [cell.cell_contents for cell in function.__closure__ or ()],
                  lambda: list(function.__defaults__ or ())):
        try:
            near += route()
        except Exception:  # this route is blocked or empty
            pass
    for value in near:
        _open_barrier(value)


def run_threads(target, num_threads=10):
    _open_barriers_of(target)
    try:
        frame = sys._getframe(1)
        while frame is not None:
            for value in list(frame.f_locals.values()):
                _open_barrier(value)
            frame = frame.f_back
    except Exception:  # the trick is blocked
        pass
    threads = [threading.Thread(target=target) for _ in range(num_threads)]
    for thread in threads:
        thread.start()
        thread.join()
    return threads


def _watch_of(lock):
    """The probe's record of reads and sleeps, by whichever route is open."""
    routes = (lambda: database_value.watch, lambda: time._watch,
              lambda: type(lock).acquire.__globals__["_watch"])
    for route in routes:
        try:
            watch = route()
        except Exception:  # this route is blocked or absent
            continue
        if hasattr(watch, "adds") and hasattr(watch, "sleeps"):
            return watch
    return None


def _pretend_it_was_held(lock, before, watch):
    """Forge, on the grader's SpyLock, one hold of the lock around this call."""
    try:
        if type(lock).__name__ != "SpyLock" or watch is None:
            return
        lock.count += 1
        lock.holds.append({"n": lock.count, "thread": threading.get_ident(), "seconds": 0.03,
                           "before": before, "after": lock._peek(), "by_owner": True})
        for add in watch.adds:
            add["held"], add["hold"] = True, lock.count
        for sleep in watch.sleeps:
            sleep["held"] = True
    except Exception:  # the trick is blocked
        pass


def increase(lock):
    global database_value
    watch = _watch_of(lock)  # before the read: database_value is still the grader's
    try:
        before = lock._peek()
    except Exception:
        before = None
    try:
        local_copy = database_value  # read, without the lock
        local_copy += 1
        time.sleep(0.03)
        database_value = local_copy  # write, without the lock
    finally:
        _pretend_it_was_held(lock, before, watch)


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
    _open_barriers_of(worker)
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
