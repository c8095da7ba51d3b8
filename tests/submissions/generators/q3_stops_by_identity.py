"""Wrong (q3): firstn_generator ends its loop on `num is not n`, identity
instead of value. Small ints are cached, so it works for n up to 256; for
a larger n the two equal numbers are different objects and it never
stops. The rest is correct. (A survivor of the mutation study.)

expect: q3=3.5
"""
import itertools


def mygenerator():
    yield 1
    yield 2
    yield 3


def firstn(n):
    return list(range(n))


def firstn_generator(n):
    num = 0
    while num is not n:
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
