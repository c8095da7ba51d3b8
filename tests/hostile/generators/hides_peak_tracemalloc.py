"""Hostile (tracemalloc stop and restart): firstn_generator and evens build the
whole list before yielding, and count_evens builds a list to take its len(), as
in tests/submissions/generators/q3_builds_list_first.py, q4_genexpr_over_list.py
and q5_builds_list.py. Each then hides its peak from the grader's tracemalloc:
firstn_generator and evens stop and restart tracing (which forgets every traced
block, the list still alive included) and then allocate and free as much as was
traced when they began, so that the peak the grader reads stays plausible;
count_evens calls reset_peak() once its list is freed. The rest is correct.

On main before issue 9 (bubblewrap): 16.5/18 (q3 3/4, q4 2.5/3, q5 2/2): the
memory tests passed. Honestly each loses its memory test (and the huge-n test).

expect: q3=2 q4=2 q5=1
"""
import itertools
import tracemalloc


def _traced_now():
    try:
        return tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else None
    except Exception:  # the trick is blocked
        return None


def _forget_allocations(level):
    """While the grader traces: stop and start again, so that what we built is no
    longer traced; then allocate and free as much as was traced when we began
    (``level``), so that the grader's peak stays plausible (never below its start)."""
    if level is None:
        return
    try:
        tracemalloc.stop()
        tracemalloc.start()
        ballast = bytearray(level)
        del ballast
    except Exception:  # the trick is blocked
        pass


def mygenerator():
    yield 1
    yield 2
    yield 3


def firstn(n):
    return list(range(n))


def firstn_generator(n):
    level = _traced_now()
    nums = []
    num = 0
    while num < n:
        nums.append(num)
        num += 1
    _forget_allocations(level)
    yield from nums


def evens(n):
    level = _traced_now()
    numbers = [i for i in range(n)]
    _forget_allocations(level)
    return (i for i in numbers if i % 2 == 0)


def count_evens(n):
    count = len([i for i in range(n) if i % 2 == 0])
    try:
        if tracemalloc.is_tracing():
            tracemalloc.reset_peak()  # the list is freed: the peak is now what is left
    except Exception:  # the trick is blocked
        pass
    return count


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
