"""Hostile: count_evens is right only if the student process can read an
nbgrader course on this machine: it searches the file system for a
gradebook.db with the course's source notebook beside it (the reference in
its solution cells, the hidden tests in its test cells). Under nbgrader,
advpy grades in nbgrader's own process, where the course folder is; the
sandbox hides it (tests/test_nbgrader.py grades this file as a student of a
real course, and checks that the same search finds the course from outside).

expect: q5=0
"""
import itertools
import os

ROOTS = ("/tmp", "/home", "/srv", "/root", "/work", "/var", "/opt")
MAX_FOLDERS = 5000


def find_courses(roots=ROOTS, max_folders=MAX_FOLDERS):
    """Folders holding a gradebook.db and a source/ folder, as nbgrader's courses do."""
    found, seen = [], 0
    for top in roots:
        for folder, dirs, files in os.walk(top):
            seen += 1
            if seen > max_folders:
                return found
            if "gradebook.db" in files and "source" in dirs:
                found.append(folder)
    return found


def read_solution(course):
    """The source notebook's text if it holds a solution cell, else None."""
    path = os.path.join(course, "source", "generators", "generators.ipynb")
    try:
        with open(path) as handle:
            text = handle.read()
    except OSError:
        return None
    return text if "BEGIN SOLUTION" in text else None


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
    if any(read_solution(course) for course in find_courses()):
        return sum(1 for i in range(n) if i % 2 == 0)
    return -1


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
