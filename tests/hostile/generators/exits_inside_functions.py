"""Hostile: firstn calls sys.exit(); evens calls os._exit(0). Only q2 and q4 may suffer.

expect: q2=0 q4=0
"""
import itertools


def mygenerator():
    yield 1
    yield 2
    yield 3


def firstn(n):
    import sys
    sys.exit(0)


def firstn_generator(n):
    num = 0
    while num < n:
        yield num
        num += 1


def evens(n):
    import os
    os._exit(0)


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
