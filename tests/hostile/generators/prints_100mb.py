"""Noisy but correct: firstn prints 100 MB each time it is called. Output is bounded and drained; full marks.

expect: full
"""
import itertools


def mygenerator():
    yield 1
    yield 2
    yield 3


def firstn(n):
    import sys
    block = "x" * (1024 * 1024)
    for _ in range(100):
        sys.stdout.write(block)
    return list(range(n))


def firstn_generator(n):
    num = 0
    while num < n:
        yield num
        num += 1


def evens(n):
    return (i for i in range(n) if i % 2 == 0)


def count_evens(n):
    return sum(1 for i in range(n) if i % 2 == 0)


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
