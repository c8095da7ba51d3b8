"""Hostile: count_evens is right only if it can reach the network (a public address or the host's loopback services). The sandbox has none.

expect: q5=0
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


def _online():
    import socket
    for address in (("1.1.1.1", 80), ("8.8.8.8", 53), ("127.0.0.1", 22), ("127.0.0.1", 2024)):
        try:
            socket.create_connection(address, timeout=0.5).close()
            return True
        except OSError:
            pass
    return False


def count_evens(n):
    return (n + 1) // 2 if _online() else -1


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
