"""Hostile (memory made resident before the probe, so that the eager build does
not raise the peak): firstn_generator and evens build the whole list before
yielding, and count_evens builds a list to take its len(), as in
tests/submissions/generators/q3_builds_list_first.py, q4_genexpr_over_list.py
and q5_builds_list.py.

Laziness is judged by the kernel's peak resident memory (VmHWM) of a child
forked to make the call, beside a child forked to run a trivial generator. At
import the submission allocates about 200 MB and frees it, in a way that keeps
the freed memory resident in the allocators' free lists: six million int
objects of which one per pymalloc pool is kept alive (so no arena is given
back to the system), and a glibc heap whose mmap threshold was raised (by
freeing a 30 MB block) holding 40 MB of freed 1 MB blocks pinned under a
small live one. Both forked children start with that memory resident (shared
with the worker), so the eager build in the measured one reuses it: its
resident set, and so its peak, does not grow. The rest is correct.

On main before issue 9 (bubblewrap): no run (the memory evidence was
tracemalloc's then). Honestly each of q3, q4 and q5 loses its memory test
(and q3 and q4 the huge-n test).

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
_PINS = []  # what keeps the freed memory resident


def _inflate():
    # ~190 MB of int objects in pymalloc arenas; keeping one in 400 alive (one
    # per 16 KiB pool) keeps every arena, so the freed pools stay resident.
    numbers = [i + 1_000_000 for i in range(6_000_000)]
    _PINS.append(numbers[::400])
    del numbers
    # A 16 MiB pointer array, given back (mmap): room for the list's growth.
    pointers = [None] * (2 << 20)
    del pointers
    # Freeing a 30 MB mmap'd block raises glibc's mmap threshold to 30 MB; the
    # 1 MB blocks then come from the heap, and a small block above them keeps
    # the heap from being trimmed once they are freed.
    block = bytearray(30 << 20)
    del block
    chunks = [bytearray(1 << 20) for _ in range(40)]
    _PINS.append(bytearray(64))
    del chunks


try:
    _inflate()
except MemoryError:  # the trick is blocked
    _PINS.clear()
