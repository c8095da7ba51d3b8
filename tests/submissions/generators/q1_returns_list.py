"""Wrong (q1): mygenerator returns the list [3, 2, 1], a new one at each call:
not a generator, so no test of a generator's behaviour may pass for it (not
even "each call returns a new, independent generator"). The rest is correct.

expect: q1=0
"""
import itertools


def mygenerator():
    return [3, 2, 1]


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
