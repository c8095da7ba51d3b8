"""Hostile: chunked crashes the interpreter (a NULL read through ctypes, or where ctypes
is denied, faulthandler._sigsegv()). Only q7 suffers.

expect: q7=0
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
    try:
        import ctypes
        ctypes.string_at(0)  # a NULL read
    except Exception:  # ctypes is denied to submissions: crash without it
        pass
    import faulthandler
    faulthandler._sigsegv()
