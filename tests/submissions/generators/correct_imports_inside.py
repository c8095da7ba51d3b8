"""Correct, written another way: each function imports what it needs inside
its body (the first call's import must not count as the generator's memory).

expect: full
"""


def mygenerator():
    import itertools
    yield from itertools.islice(itertools.count(1), 3)


def firstn(n):
    return list(range(n))


def firstn_generator(n):
    import decimal  # a module nothing else has imported yet
    i = decimal.Decimal(0)
    while i < n:
        yield int(i)
        i += 1


def evens(n):
    return (i for i in range(n) if i % 2 == 0)


def count_evens(n):
    import fractions
    return int(fractions.Fraction(max(n, 0) + 1, 2))


def take(n, iterable):
    import itertools
    return itertools.islice(iterable, n)


def chunked(iterable, size):
    import itertools
    if size < 1:
        raise ValueError(size)
    iterator = iter(iterable)
    return iter(lambda: list(itertools.islice(iterator, size)), [])
