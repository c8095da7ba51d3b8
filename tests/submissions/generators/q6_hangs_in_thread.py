"""Bug: take joins a helper thread that waits forever, so every call hangs.
The per-test timeout ends it; only q6 is lost.

expect: q6=0
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
    import threading
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)  # nobody ever sets it
    worker.start()
    worker.join()
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
