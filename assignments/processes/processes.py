# %% [markdown]
# # Threads or processes?
#
# Python gives you two ways to do several things at once: **threads**, which
# share one process and its memory, and **processes**, each a separate
# program with memory of its own. Which one helps depends on what your work
# spends its time on.
#
# ## The GIL
#
# CPython, the Python most people run, has a *global interpreter lock* (GIL):
# inside one process, only the thread that holds it may execute Python
# bytecode. Ten threads running a pure-Python loop therefore take turns; they
# do not run side by side on ten cores, and together they finish no sooner
# than one thread doing all of the work (often a little later, because of the
# switching).
#
# A thread gives up the GIL while it *waits*: for the network, a disk, a
# database, a `time.sleep`, a lock. Many C libraries also release it while they
# crunch numbers (`hashlib`, `zlib`, NumPy), so threads can run those in
# parallel. (Free-threaded builds of Python 3.13 and later can run without the
# GIL; this course is about the usual build.)
#
# ## CPU-bound or I/O-bound?
#
# - **CPU-bound** work keeps a core busy: pure-Python loops, parsing, image
#   maths written in Python. It goes faster only with more cores working at
#   once, so with **processes**: each has its own interpreter and its own GIL.
# - **I/O-bound** work mostly waits. Waiting needs no core, so many
#   **threads** can wait at the same time, cheaply, in one process.
#
# ## What a process costs
#
# Nothing about a process is free, so it pays off only when each task computes
# for much longer than the process costs to use:
#
# - **Starting one.** `fork` copies the running process (milliseconds, Linux
#   and other Unixes); `spawn` starts a fresh interpreter that imports your
#   module again (tens to hundreds of milliseconds; the default on macOS and
#   Windows); `forkserver` forks copies of a small server process (the default
#   on Linux from Python 3.14). A thread starts in microseconds.
# - **Memory.** Each process holds its own interpreter and its own copy of the
#   data it works on.
# - **Talking to it.** Processes share no memory. Everything a process receives
#   or sends back (arguments, results, the function to call) is *pickled*,
#   copied through a pipe and unpickled on the other side.
# - **Naming functions.** Pickle sends a function as its module and its name;
#   the other process imports it from there. Only functions defined at the top
#   level of a module can travel that way: a `lambda` or a function defined
#   inside another function cannot, and the pool reports a pickling error.
# - **Guarding your script.** With `spawn` and `forkserver`, a child process
#   imports your main module. Code at the top level of a script runs again in
#   every child, so a script that starts processes must do it under
#   `if __name__ == "__main__":`. (A script without that guard may work on
#   Linux with `fork` and fail everywhere else.)
#
# A quick demo that starts a few processes which each do a few hundred
# multiplications and throw the products away measures nothing but the start
# cost: the work is far smaller than the price of the processes, and results
# computed in a child are lost unless the child sends them back.
#
# ## How many workers?
#
# `os.cpu_count()` counts the CPUs of the machine, not the ones your program
# may use: a container or a scheduler can give it fewer (CPU affinity, a CPU
# quota). `os.sched_getaffinity(0)` (Linux) or `os.process_cpu_count()`
# (Python 3.13+) tell you how many you may run on. More CPU-bound processes than
# that only take turns.
#
# ## Inter-process communication
#
# A child process changes only its own copy of your variables. To get
# something back, send it:
#
# - a **pool** (`multiprocessing.Pool`, `concurrent.futures.ProcessPoolExecutor`)
#   returns the results of the function calls it ran for you;
# - a **`multiprocessing.Queue`** carries any picklable objects, from any
#   process to any other;
# - a **`Pipe()`** joins exactly two ends;
# - a **`Value`** or an **`Array`** is a number or an array in shared memory,
#   with a lock you must hold to update it safely.
#
# One more difference: a process can be stopped from outside
# (`process.terminate()`), a thread cannot; a thread has to notice that it
# should stop and return.
#
# Run `advpy check processes.py` (or `processes.ipynb`) to run the public
# checks on your work. The grader runs more checks than these.

# %%
import concurrent.futures  # noqa: F401 - for your parallel_map and io_map
import multiprocessing  # noqa: F401 - for your run_processes
import os
import time

# %% [markdown]
# ## q1. Thread or process?
#
# For each workload, write `"thread"` or `"process"`: what a CPython program
# should use to run many of them at once. Ask what the work spends its time on
# (computing Python code, or waiting), and whether it needs something only one
# of the two gives (being stopped from outside, sharing memory cheaply).

# %%
CHOICES = {
    "download 200 web pages": None,
    "resize 10,000 images in a pure-Python loop": None,
    "count primes below 10**8 in pure Python": None,
    "wait for replies from 50 database queries": None,
    "a task that must be killable from outside": None,
    "many small tasks that update one shared in-memory dict": None,
}


# %% [markdown]
# ## q2. Starting processes by hand
#
# `multiprocessing.Process(target=f)` describes a process that will call
# `f()`; `start()` launches it and `join()` waits for it to end. Start them all
# first and join them afterwards, or each one would wait for the one before.


# %%
def run_processes(target, num_processes=None):
    """Start num_processes multiprocessing.Process objects that each run
    target(), wait until all of them have finished, and return them in a list.

    num_processes defaults to os.cpu_count(). target runs once in each child
    process, never in the calling process.
    """
    raise NotImplementedError("write run_processes")


# %% [markdown]
# ## q3. A parallel map for CPU-bound work
#
# A pool keeps a few worker processes alive and hands them the calls to make,
# so you pay the start cost once per worker, not once per item. `map` returns
# the results in the order of the items, whichever worker finished first.
# Handing each worker a *chunk* of items at a time saves a round trip per item
# when the items are many and small.


# %%
def parallel_map(func, items, workers=None):
    """Return [func(x) for x in items], computed by a pool of worker processes.

    workers is how many processes to use (None: one per CPU). The results are
    in the order of items, and on k free CPUs the work runs close to k times
    faster than a serial loop. func must pickle: a function defined at the top
    level of a module, not a lambda or a nested function.
    """
    raise NotImplementedError("write parallel_map")


# %% [markdown]
# ## q4. A map for I/O-bound work
#
# For work that waits, threads are enough and much cheaper: no new process,
# nothing pickled, and they share the caller's memory. While one thread waits,
# the others run.


# %%
def io_map(func, items, workers=8):
    """Return [func(x) for x in items], computed by workers threads of the
    calling process, in the order of items.

    Meant for work that mostly waits (network, disk, sleep): with workers
    threads, up to workers calls wait at the same time.
    """
    raise NotImplementedError("write io_map")


# %% [markdown]
# ## q5. Sending results back
#
# Here each child process gets a share of the numbers and must send its partial
# sum back to the parent. A `Queue` is one way (a `Pipe`, a `Value` or a
# pool's return value would do as well). Read the queue *before* joining: a
# child that has put data on a queue may not end until that data has been
# read, and joining it first can wait forever.


# %%
def parallel_sum_of_squares(numbers, num_processes=2):
    """Return the sum of x * x for x in numbers, computed by num_processes
    child processes.

    Each child process sums the squares of its share of numbers and sends that
    partial sum back to the parent (through a Queue, a Pipe, a Value or a pool's
    results); the parent adds up the partial sums.
    """
    raise NotImplementedError("write parallel_sum_of_squares")


# %% [markdown]
# ## Helpers for trying it out
#
# These are given: a CPU count that respects the limits put on this process,
# a CPU-bound task and an I/O-bound one. They are defined at the top level so
# that a pool can send them to its workers.


# %%
def usable_cpu_count():
    """How many CPUs this process may run on (its affinity or, on Python 3.13+,
    os.process_cpu_count()); os.cpu_count() where neither is known."""
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def count_primes_below(n):
    """CPU-bound: how many primes are below n, by trial division in pure Python."""
    count = 0
    for candidate in range(2, n):
        if all(candidate % d for d in range(2, int(candidate**0.5) + 1)):
            count += 1
    return count


def pretend_download(url):
    """I/O-bound: wait a tenth of a second, as a download would, and return url."""
    time.sleep(0.1)
    return url


# %% [markdown]
# ## Try it
#
# Where the start method is `fork` (Linux, up to Python 3.13) this cell runs in
# a notebook too. Where it is `spawn` (macOS, Windows) or `forkserver` (Linux
# from Python 3.14), worker processes cannot import functions defined in a
# notebook: run `python processes.py` in a terminal, or put the functions you
# hand to a pool in a `.py` file and import them from there.

# %%
if __name__ == "__main__":
    work = [60_000] * 8
    start = time.perf_counter()
    serial = [count_primes_below(n) for n in work]
    middle = time.perf_counter()
    parallel = parallel_map(count_primes_below, work)
    end = time.perf_counter()
    print(f"serial {middle - start:.2f} s, parallel_map {end - middle:.2f} s "
          f"on {usable_cpu_count()} CPUs; same results: {serial == parallel}")
    start = time.perf_counter()
    pages = io_map(pretend_download, [f"page{i}" for i in range(40)], workers=20)
    print(f"40 downloads of 0.1 s each took {time.perf_counter() - start:.2f} s")
    print(parallel_sum_of_squares(range(10)), "== 285")
