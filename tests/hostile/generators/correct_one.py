"""Correct, written another way: yield from, itertools, closed forms.

expect: full
"""
import itertools


def mygenerator():
    yield from (1, 2, 3)


def firstn(n):
    return [*range(n)]


def firstn_generator(n):
    yield from itertools.islice(itertools.count(), n)


def evens(n):
    return (i for i in range(0, n, 2))


def count_evens(n):
    return max(0, (n + 1) // 2)


def take(n, iterable):
    iterator = iter(iterable)
    for _ in range(n):
        try:
            yield next(iterator)
        except StopIteration:
            return


def chunked(iterable, size):
    if size < 1:
        raise ValueError("size must be positive")
    return map(list, itertools.zip_longest(*[iter(iterable)] * size)) if False else _chunks(
        iter(iterable), size)


def _chunks(iterator, size):
    chunk = []
    for item in iterator:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
