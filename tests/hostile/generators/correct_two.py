"""Correct, written another way: iterator classes instead of generator functions.

expect: full
"""


def mygenerator():
    for value in range(1, 4):
        yield value


def firstn(n):
    result = []
    for i in range(n):
        result.append(i)
    return result


class firstn_generator:  # noqa: N801 - the name the question asks for
    def __init__(self, n):
        self.n = n
        self.i = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self.i >= self.n:
            raise StopIteration
        self.i += 1
        return self.i - 1


def evens(n):
    return (i for i in range(n) if not i & 1)


def count_evens(n):
    return len(range(0, n, 2))


class take:  # noqa: N801
    def __init__(self, n, iterable):
        self.left = n
        self.iterable = iterable
        self.iterator = None

    def __iter__(self):
        return self

    def __next__(self):
        if self.left <= 0:
            raise StopIteration
        if self.iterator is None:
            self.iterator = iter(self.iterable)
        self.left -= 1
        return next(self.iterator)


class chunked:  # noqa: N801
    def __init__(self, iterable, size):
        if size < 1:
            raise ValueError(size)
        self.iterator = iter(iterable)
        self.size = size

    def __iter__(self):
        return self

    def __next__(self):
        chunk = []
        for item in self.iterator:
            chunk.append(item)
            if len(chunk) == self.size:
                break
        if not chunk:
            raise StopIteration
        return chunk
