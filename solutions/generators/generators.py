# %% [markdown]
# # Lazy generators
#
# A list holds every one of its items at once. A generator holds only the
# recipe and where it stopped: it computes the next item when, and only when,
# somebody asks for it with `next()` (a `for` loop asks for you). That is
# *laziness*, and it buys three things:
#
# - **memory**: a million items cost as much as three, because only one
#   exists at a time;
# - **time to the first item**: you can start using results before the last
#   one is computed, or without ever computing it;
# - **infinity**: a generator may never end (`itertools.count()`), and you
#   take from it only what you need.
#
# The price: a generator can be walked through only once, and it has no
# `len()` and no indexing.
#
# Run `advpy check generators.py` (or `generators.ipynb`) to run the public
# checks on your work. The grader runs more checks than these.

# %%
import itertools
import sys

# %% [markdown]
# ## q1. A first generator function
#
# Any function whose body contains `yield` is a *generator function*. Calling
# it runs none of its body: it returns a new generator object, which runs the
# body up to the next `yield` each time `next()` is called on it, and raises
# `StopIteration` when the body ends.


# %%
def mygenerator():
    """Yield 1, then 2, then 3, and stop.

    Each call returns a new, independent generator.
    """
    yield 1
    yield 2
    yield 3


# %% [markdown]
# ## q2 and q3. Eager and lazy
#
# `firstn` builds the whole list before it returns: memory grows with `n`,
# and nothing is available before everything is. `firstn_generator` yields the
# same numbers one by one.
#
# A note on measuring: `sys.getsizeof(obj)` reports the size of `obj` itself,
# not of what it refers to. For a list that is the array of references
# (8 bytes per item on a 64-bit build), *not* the int objects they point to,
# so the real cost of `firstn(10**6)` is several times what `getsizeof`
# says. For a generator, `getsizeof` is a small constant whatever `n` is,
# which is the point. `tracemalloc` measures what was really allocated.


# %%
def firstn(n):
    """Return the list [0, 1, ..., n-1], built eagerly."""
    return list(range(n))


# %%
def firstn_generator(n):
    """Yield 0, 1, ..., n-1 one at a time, lazily.

    Creating the generator and taking its first items must cost the same
    small time and memory whatever n is (n may be 10**18).
    """
    num = 0
    while num < n:
        yield num
        num += 1


# %% [markdown]
# ## q4 and q5. Generator expressions
#
# `(expr for x in iterable if cond)` is a generator written inline, as a list
# comprehension is with square brackets. Round brackets make it lazy. A
# generator expression is only as lazy as what it loops over: looping over a
# list that you build first still builds that list.


# %%
def evens(n):
    """Return a generator expression over the even numbers in range(n), in order."""
    return (i for i in range(n) if i % 2 == 0)


# %%
def count_evens(n):
    """Return how many even numbers range(n) holds, without building a list
    or other sequence of them."""
    return sum(1 for _ in evens(n))


# %% [markdown]
# ## q6 and q7. Working with any iterable, even an infinite one
#
# A lazy helper takes from its source only what its caller asks for. Pulling
# one item too many is a real bug: from a file or a network stream, that item
# is gone for whoever reads next.


# %%
def take(n, iterable):
    """Return an iterator over the first n items of iterable.

    Creating it consumes nothing from iterable; exhausting it consumes
    exactly min(n, len(iterable)) items, never one more. iterable may be
    infinite.
    """
    return itertools.islice(iterable, n)


# %%
def chunked(iterable, size):
    """Lazily yield lists of size consecutive items of iterable; the last
    list may be shorter.

    Works on infinite iterables: producing k lists consumes at most
    k * size items. A size below 1 raises ValueError.
    """
    if size < 1:
        raise ValueError(f"size must be at least 1, not {size!r}")
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


# %% [markdown]
# ## Try it

# %%
if __name__ == "__main__":
    print(list(mygenerator()))
    print(sys.getsizeof(firstn(1000)), "bytes for the list object alone")
    print(sys.getsizeof(firstn_generator(10**18)), "bytes for a generator of 10**18 items")
    print(count_evens(10), list(take(3, itertools.count())), list(chunked(range(7), 3)))
