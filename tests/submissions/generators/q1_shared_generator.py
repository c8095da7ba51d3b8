"""Bug: mygenerator returns one module-level generator, so a second call
gets the same, already advanced object.

expect: q1=1.5
"""
import itertools


_ONLY = (i for i in (1, 2, 3))


def mygenerator():
    return _ONLY


def firstn(n):
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
