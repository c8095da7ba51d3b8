"""Hostile: evens is right only if the student process can read the hidden tests or the
reference solution from disk (it searches the file system for them). The sandbox hides them.

expect: q4=0.5
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


def _leaked():
    import os
    for top in ("/", "/work", "/opt", "/root", "/home", "/usr", "/tmp", "/autograder", "/submission"):
        for folder, dirs, files in os.walk(top):
            if folder.startswith(("/proc", "/sys", "/dev")):
                dirs[:] = []
                continue
            for name in files:
                if name in ("test_hidden.py", "generators.py") and (
                        "hidden" in folder or "solutions" in folder):
                    try:
                        with open(os.path.join(folder, name)) as handle:
                            return "def " in handle.read()
                    except OSError:
                        pass
    return False


def evens(n):
    if _leaked():
        return (i for i in range(n) if i % 2 == 0)
    return (i for i in range(n) if i % 2 == 1)


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
