"""Hostile (frames through a signal handler, observations rewritten before they are
signed): firstn_generator and evens build the whole list before yielding, and
count_evens builds a list to take its len(), as in tests/submissions/generators/
q3_builds_list_first.py, q4_genexpr_over_list.py and q5_builds_list.py. At import
the submission gets frames without sys._getframe: it raises SIGUSR1 at itself,
and its handler is handed the frame the main thread was in; f_back leads to the
worker's frame, whose f_globals are the live runner's namespace. It replaces the
runner's _finish (looked up there when the worker answers; _dumps before answers
were signed) by one that lowers the memory peaks in the probe's observation and
then calls the real one, which encodes, signs and sends it. The rest is correct.

On main before issue 9 (bubblewrap): 16.5/18 (q3 3/4, q4 2.5/3, q5 2/2): the
memory tests passed. Honestly each loses its memory test (and the huge-n test).

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
def _runner_globals():
    """Frames without sys._getframe: a signal handler is handed the frame the
    main thread was in. Raise a signal at ourselves and walk up from there to
    the worker's frame; its f_globals are the live runner module's namespace."""
    import signal

    found = []

    def handler(signum, frame):
        while frame is not None:
            names = frame.f_globals
            if "_worker" in names and ("_finish" in names or "_dumps" in names):
                found.append(names)
                return
            frame = frame.f_back

    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        signal.raise_signal(signal.SIGUSR1)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    return found[0] if found else None


def _lower_peaks(answer):
    """The probe's observation with the peaks of an eager build taken out."""
    seen = answer.get("result") if type(answer) is dict else None
    if type(seen) is dict and "peak" in seen:
        seen["peak"] = seen.get("baseline_peak", 0)
    return answer


def _rewrite_answers():
    runner = _runner_globals()
    if runner is None:
        return
    name = "_finish" if "_finish" in runner else "_dumps"
    real = runner[name]

    def rewritten(answer, *args, **kwargs):
        return real(_lower_peaks(answer), *args, **kwargs)

    runner[name] = rewritten


try:
    _rewrite_answers()
except Exception:  # the trick is blocked
    pass
