"""Hostile (student code in the grader's own forked children, through
os.register_at_fork): firstn_generator and evens build the whole list before
yielding, and count_evens builds a list to take its len(), as in
tests/submissions/generators/q3_builds_list_first.py, q4_genexpr_over_list.py
and q5_builds_list.py.

Laziness is judged by the kernel's peak resident memory (VmHWM) of a child the
probe forks to make the call, minus that of a child it forks to run a trivial
generator. os.fork() runs every after_in_child callback registered with
os.register_at_fork, in the child, before the grader's code there goes on. At
import the submission registers one that writes 96 MB and frees it: both
children's peaks start 96 MB up, and the eager build (about 40 MB, made after
that memory was given back) no longer raises the measured child's peak, so the
difference is nothing. Faults counted instead of the peak would be raised in
both children the same way. The rest is correct.

On main before issue 9 (bubblewrap): no run (the memory evidence was
tracemalloc's then). Honestly each of q3, q4 and q5 loses its memory test
(and q3 and q4 the huge-n test).

expect: q3=2 q4=2 q5=1
"""
import itertools
import os


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
def _raise_peak():
    """In every child forked from now on: write 96 MB, then give it back."""
    try:
        block = b"\x01" * (96 << 20)
        del block
    except MemoryError:
        pass


try:
    os.register_at_fork(after_in_child=_raise_peak)
except Exception:  # the trick is blocked
    pass
