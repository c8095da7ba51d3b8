"""Hostile (the instruments' records and the probe's helpers, reached through
the functions handed to the student): increase reads database_value before it
takes the lock (the stub's racy read-modify-write, with only the latency and
the write under the lock). The rest is correct.

Each call of increase looks, from the SpyLock it is handed (its parts, their
class's methods, the Tracked value's hook, the time shim's sleep), for the
records the judge reads, by every route a student who read
threads_instruments.py would try: ``__kwdefaults__``, ``__defaults__``,
``__closure__``, ``inspect.getclosurevars``, ``__self__``, bound methods'
``__func__``, ``functools.partial`` ``args``/``keywords``, ``__wrapped__``,
``vars()``, ``__class__``. Where it finds the spy's state or the probe's watch
(dicts with "holds" or "adds"), it forges a hold around the whole call and
marks every recorded + 1 and sleep as done while holding the lock.

Then ``__globals__``, which Python does not audit: every instrument's
``__globals__`` is threads_instruments' namespace, which holds ``short``
(autograder.probes.common), and ``short.__globals__`` is common's live
namespace, where ``short`` looks ``_repr`` up at each call. snapshot() (the
judge's view of database_value, for the holds and the final value) calls
``short`` for anything that is not an int. So increase reads the Tracked value
with int.__add__ (the C slot: no + 1 is reported), and writes a non-int
``Shown`` that carries the number of writes so far; a ``_repr`` of ours makes
``short`` report that number as the value. With 5 threads the real value is 1
(updates lost), the reported one 5.

On main before issue 9 (bubblewrap): no run (this route is new). Honestly it
loses all of q2 (database_value ends as an object that is not an int, and the
read is outside the lock).

expect: q2=0
"""
import itertools
import queue
import threading
import time

database_value = 0
ROUTES = []  # what each route gave (for a human reading a run)


def run_threads(target, num_threads=10):
    threads = [threading.Thread(target=target) for _ in range(num_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return threads


# -- the cheat ---------------------------------------------------------------
_WRITES = itertools.count(1)


class Shown:
    """What increase writes: a value, and how many writes were done so far."""

    def __init__(self, value, writes):
        self.value = value
        self.writes = writes

    def __repr__(self):
        return f"Shown({self.value})"


def _read(value):
    """database_value as an int, without reporting a + 1 to the grader."""
    if type(value) is Shown:
        return value.value
    try:
        return int.__add__(value, 0)
    except TypeError:
        return 0


def _near(obj):
    """What an object of the grader's leads to, by every route we know."""
    import functools
    import inspect

    routes = {
        "__kwdefaults__": lambda: list((obj.__kwdefaults__ or {}).values()),
        "__defaults__": lambda: list(obj.__defaults__ or ()),
        "__closure__": lambda: [c.cell_contents for c in obj.__closure__ or ()],
        "getclosurevars": lambda: [v for part in inspect.getclosurevars(obj)[:2]
                                   for v in part.values()],
        "__self__": lambda: [obj.__self__],
        "__func__": lambda: [obj.__func__],
        "__wrapped__": lambda: [obj.__wrapped__],
        "vars": lambda: list(vars(obj).values()),
        "slots": lambda: [getattr(obj, name) for name in type(obj).__slots__],
        "class_methods": lambda: [v for k, v in vars(type(obj)).items()
                                  if not k.startswith("__") or k in ("__enter__", "__exit__")],
    }
    if isinstance(obj, functools.partial):
        routes["partial"] = lambda: [obj.func, *obj.args, *obj.keywords.values()]
    found = []
    for name, route in routes.items():
        try:
            got = route()
        except Exception as exc:  # this route is blocked or empty
            ROUTES.append((name, type(exc).__name__))
            continue
        found += got
    return found


def _records(start):
    """Dicts of the grader's records reachable from ``start``."""
    seen, todo, records = set(), [start], []
    while todo and len(seen) < 400:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if type(obj) is dict:
            if "holds" in obj or "adds" in obj:
                records.append(obj)
            todo += list(obj.values())
        elif type(obj) in (list, tuple):
            todo += list(obj)
        elif callable(obj) or type(obj).__module__.startswith("autograder"):
            todo += _near(obj)
    return records


def _forge(records, lock):
    for record in records:
        try:
            if "holds" in record and "count" in record:
                record["count"] += 1
                record["holds"].append({"n": record["count"], "thread": threading.get_ident(),
                                        "seconds": 0.03, "before": {"value": 0, "serial": 0},
                                        "after": {"value": 1, "serial": None},
                                        "by_owner": True})
            for add in record.get("adds", []):
                add["held"], add["hold"] = True, 1
            for sleep in record.get("sleeps", []):
                sleep["held"] = True
            ROUTES.append(("forged", sorted(record)))
        except Exception as exc:  # the trick is blocked
            ROUTES.append(("forge", type(exc).__name__))


class _Repr:
    """Stands in for common._repr: a Shown is reported as its number of writes."""

    def __init__(self, real):
        self.real = real

    def repr(self, value):
        if type(value) is Shown:
            return value.writes
        return self.real.repr(value)


def _common_namespace(lock):
    """autograder.probes.common's live namespace, through __globals__."""
    for start in (lambda: type(lock).acquire, lambda: lock._acquire,
                  lambda: database_value._observe, lambda: time.sleep):
        try:
            names = start().__globals__
            short = names["short"]
            return short.__globals__
        except Exception as exc:  # this route is blocked
            ROUTES.append(("__globals__", type(exc).__name__))
    return None


def _rewire(lock):
    names = _common_namespace(lock)
    if names is not None and type(names.get("_repr")) is not _Repr:
        names["_repr"] = _Repr(names["_repr"])
        ROUTES.append(("_repr", "replaced"))


def increase(lock):
    global database_value
    try:
        _forge(_records(lock) + _records(database_value) + _records(time.sleep), lock)
    except Exception:  # the trick is blocked
        pass
    try:
        _rewire(lock)
    except Exception:  # the trick is blocked
        pass
    local_copy = _read(database_value)  # read, without the lock
    local_copy += 1
    with lock:
        time.sleep(0.03)
        database_value = Shown(local_copy, next(_WRITES))  # write, with the lock


# -- the rest is correct -------------------------------------------------------
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
