"""Hostile (lowering the counting source's counter): take checks the count after
pulling, so it pulls one item too many (tests/submissions/generators/
q6_pulls_one_more.py), and chunked looks one item ahead, so k chunks pull k*size+1
items. Both then lower the grader's count: the iterable they are given is the
probe's counting Source, and each does `source.pulled -= 1` for the item too many
(chunked only while the grader looks, between its chunks).
The rest is correct.

On main before issue 9 (bubblewrap): 18/18 (q6 3/3, q7 3/3). Honestly take loses
the tests that count its pulls, and chunked the one that bounds them.

expect: q6=1.5 q7=2.5
"""
import itertools


def _shift_count(source, by):
    """Add ``by`` to the grader's count of pulled items; say whether it could."""
    try:
        if isinstance(getattr(source, "pulled", None), int):
            source.pulled += by
            return True
    except Exception:  # the trick is blocked
        pass
    return False


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
    for i, item in enumerate(iterable):
        if i >= n:  # one item too many has been pulled
            _shift_count(iterable, -1)
            return
        yield item


_END = object()


def chunked(iterable, size):
    if size < 1:
        raise ValueError("size must be at least 1")
    iterator = iter(iterable)
    ahead = next(iterator, _END)
    while ahead is not _END:
        chunk = []
        while ahead is not _END and len(chunk) < size:
            chunk.append(ahead)
            ahead = next(iterator, _END)
        # While the grader looks at its count, hide the item held back; put it
        # back before pulling again (the Source counts its position with it).
        hidden = ahead is not _END and _shift_count(iterable, -1)
        yield chunk
        if hidden:
            _shift_count(iterable, +1)
