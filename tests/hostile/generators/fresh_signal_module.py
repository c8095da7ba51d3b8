"""Hostile (a real signal() around the guard's wrapper, frames through the
handler, a decoy process for the memory evidence): firstn_generator and evens
build the whole list before yielding, and count_evens builds a list to take its
len(), as in signal_handler_frames.py. The guard now wraps _signal.signal (a
callable handler only for the grader's own code) and _imp.create_builtin (no
fresh _signal or _imp). At import the submission looks for a signal() that
installs a Python handler anyway, trying in turn:

- a fresh _signal module: _imp.create_builtin(BuiltinImporter.find_spec(...)),
  importlib.util.module_from_spec(...), a spec whose name is a str subclass or
  whose ``name`` answers differently on each read, _signal dropped from
  sys.modules and imported again, importlib.reload(_signal);
- the wrapper itself with a handler of a type it lets through: the wrapper
  checks the handler's type (int or signal.Handlers), and signal.Handlers is a
  Python enum class the submission can give a __call__; a Handlers instance
  made with int.__new__ (value 7, or the member SIG_DFL itself) is callable, so
  the real signal() installs it as a Python handler.

With a handler installed, it raises the signal at itself; the handler is handed
the frame the main thread was in, and f_back leads to the worker's frame, whose
f_globals are the live runner's namespace. It replaces the runner's _finish by
one that forks an idle decoy process (a child of the worker, whose peak memory
is the worker's, without the eager build) and names it as the "measured"
process of lazy_cost and count_cost before the real _finish signs the answer.
The rest is correct.

On main before issue 9 (bubblewrap): no run (this route is new); the signal
route of signal_handler_frames.py scored 16.5/18 there. Honestly each of q3, q4
and q5 loses its memory test (and q3 and q4 the huge-n test).

expect: q3=2 q4=2 q5=1
"""
import itertools


def mygenerator():
    yield 1
    yield 2
    yield 3


def firstn(n):
    return list(range(n))


def firstn_generator(n):
    nums = []
    num = 0
    while num < n:
        nums.append(num)
        num += 1
    yield from nums


def evens(n):
    numbers = [i for i in range(n)]
    return (i for i in numbers if i % 2 == 0)


def count_evens(n):
    return len([i for i in range(n) if i % 2 == 0])


def take(n, iterable):
    return itertools.islice(iterable, n)


def chunked(iterable, size):
    if size < 1:
        raise ValueError("size must be at least 1")
    iterator = iter(iterable)
    while True:
        chunk = list(itertools.islice(iterator, size))
        if not chunk:
            return
        yield chunk


# -- the cheat: last, so that the functions above exist whatever happens here --
ROUTES = []  # which routes were tried, and how each ended (for a human reading a run)


def _real_signal(candidate):
    """Whether ``candidate`` is the C signal(), not the guard's wrapper."""
    return type(candidate).__name__ == "builtin_function_or_method"


def _fresh_modules():
    """Fresh _signal modules, by every route we know of."""
    import _imp
    import importlib
    import importlib.machinery
    import importlib.util
    import sys

    finder = importlib.machinery.BuiltinImporter

    class Name(str):
        pass

    class Shifty:
        """A spec whose name is _signal only from the second read on."""

        reads = 0
        origin = "built-in"
        loader = finder
        submodule_search_locations = None

        @property
        def name(self):
            Shifty.reads += 1
            return "_signal" if Shifty.reads > 1 else "_thread"

    routes = {
        "create_builtin": lambda: _imp.create_builtin(finder.find_spec("_signal")),
        "module_from_spec": lambda: importlib.util.module_from_spec(finder.find_spec("_signal")),
        "create_module": lambda: finder.create_module(finder.find_spec("_signal")),
        "str_subclass": lambda: _imp.create_builtin(
            type("S", (), {"name": Name("_signal")})()),
        "shifty_spec": lambda: _imp.create_builtin(Shifty()),
    }

    def reimported():
        saved = sys.modules.pop("_signal")
        try:
            return importlib.import_module("_signal")
        finally:
            sys.modules["_signal"] = saved

    def reloaded():
        import _signal

        return importlib.reload(_signal)

    routes["reimport"] = reimported
    routes["reload"] = reloaded
    for name, route in routes.items():
        try:
            module = route()
        except BaseException as exc:  # noqa: BLE001 - this route is blocked
            ROUTES.append((name, type(exc).__name__))
            continue
        found = getattr(module, "signal", None)
        ROUTES.append((name, "real" if _real_signal(found) else "wrapped"))
        if _real_signal(found):
            yield name, found


def _installers():
    """(route, install(signum, handler) -> previous) for each way found."""
    yield from _fresh_modules()
    import _signal
    import signal

    def via_handlers(value):
        def install(signum, handler):
            def call(self, signum, frame):
                return handler(signum, frame)

            signal.Handlers.__call__ = call
            if value is None:
                made = signal.Handlers.SIG_DFL
            else:
                made = int.__new__(signal.Handlers, value)
            return _signal.signal(signum, made)

        return install

    yield "handlers_instance", via_handlers(7)
    yield "handlers_member", via_handlers(None)


def _runner_globals():
    """The live runner's namespace, from a frame a signal handler is handed."""
    import _signal
    import signal

    found = []

    def handler(signum, frame):
        while frame is not None:
            names = frame.f_globals
            if "_worker" in names and "_finish" in names:
                found.append(names)
                return
            frame = frame.f_back

    for name, install in _installers():
        try:
            install(signal.SIGUSR1, handler)
        except BaseException as exc:  # noqa: BLE001 - this route is blocked
            ROUTES.append((name, type(exc).__name__))
            continue
        if not callable(_signal.getsignal(signal.SIGUSR1)):
            # A careful cheat: the default action would kill the process.
            ROUTES.append((name, "no handler installed"))
            continue
        try:
            signal.raise_signal(signal.SIGUSR1)
        except BaseException as exc:  # noqa: BLE001
            ROUTES.append((name, "raise: " + type(exc).__name__))
        finally:
            try:
                _signal.signal(signal.SIGUSR1, 0)
            except BaseException:  # noqa: BLE001
                pass
        ROUTES.append((name, "frames" if found else "no frames"))
        if found:
            return found[0]
    return None


def _decoy():
    """An idle child of the worker: its peak memory is the worker's now."""
    import os
    import time

    pid = os.fork()
    if pid == 0:
        try:
            while True:
                time.sleep(60)
        finally:
            os._exit(0)
    return pid


def _rewrite_answers():
    runner = _runner_globals()
    if runner is None:
        return
    real = runner["_finish"]

    def rewritten(answer, *args, **kwargs):
        seen = answer.get("result") if type(answer) is dict else None
        if type(seen) is dict and "measured" in seen and "baseline" in seen:
            seen["measured"] = _decoy()
        return real(answer, *args, **kwargs)

    runner["_finish"] = rewritten


try:
    _rewrite_answers()
except Exception:  # the trick is blocked
    pass
