"""Hostile (the eager build moved to a process the judge does not look at):
firstn_generator, evens and count_evens each build the whole list before
giving anything back, as in tests/submissions/generators/q3_builds_list_first.py,
q4_genexpr_over_list.py and q5_builds_list.py, but they build it in a helper
process they fork for the call.

Laziness is judged by the kernel's peak resident memory (VmHWM) of the child
the probe forks to make the call, beside a child that runs a trivial generator;
processes that child starts are not counted. So firstn_generator and evens fork
a helper that builds the list and writes it into a pipe (blocking, holding the
list, once the pipe is full), and return a generator that reads the items from
the pipe; count_evens has its helper build the list, take its len() and send
that back. The child that made the call holds none of the list. The rest is
correct.

On main before issue 9 (bubblewrap): no run (the memory evidence was
tracemalloc's then). Honestly each of q3, q4 and q5 loses its memory test
(and q3 and q4 the huge-n test: the helper never finishes its list).

expect: q3=2 q4=2 q5=1
"""
import itertools
import os
import struct

_ITEM = struct.Struct(">q")


def _in_helper(build):
    """Fork a helper that calls ``build()`` (a list of ints) and writes its
    items into a pipe; return the read end."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            data = build()
            with os.fdopen(write_fd, "wb") as out:
                for value in data:
                    out.write(_ITEM.pack(value))
        finally:
            os._exit(0)
    os.close(write_fd)
    return read_fd


def _read_items(read_fd):
    with os.fdopen(read_fd, "rb") as stream:
        while True:
            chunk = stream.read(_ITEM.size)
            if len(chunk) < _ITEM.size:
                return
            yield _ITEM.unpack(chunk)[0]


def mygenerator():
    yield 1
    yield 2
    yield 3


def firstn(n):
    return list(range(n))


def _firstn_list(n):
    nums = []
    num = 0
    while num < n:
        nums.append(num)
        num += 1
    return nums


def firstn_generator(n):
    yield from _read_items(_in_helper(lambda: _firstn_list(n)))


def evens(n):
    read_fd = _in_helper(lambda: [i for i in range(n) if i % 2 == 0])
    return (i for i in _read_items(read_fd))


def count_evens(n):
    read_fd = _in_helper(lambda: [len([i for i in range(n) if i % 2 == 0])])
    return next(_read_items(read_fd), 0)


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
