# %% [markdown]
# # Threads: races, locks, daemons and queues
#
# A *thread* is one line of execution inside a process. A process can run
# many of them, and they all work on the same objects in the same memory:
# a list that one thread appends to is the very list another thread reads.
# That makes handing data between threads cheap, and it makes one mistake
# easy: two threads changing the same thing at the same time.
#
# In CPython only one thread executes Python bytecode at any instant (the
# *global interpreter lock*, GIL). The interpreter still switches between
# threads every few milliseconds, and at once whenever a thread waits:
# for a sleep, for a file or a socket, for a lock. So threads take turns
# (they run *concurrently*) but do not compute side by side on several cores
# (they do not run in *parallel*). They shine when most of the time is spent
# waiting; they do not make pure-Python number crunching faster.
#
# A few things the course notebook gets wrong, so that they do not confuse
# you here:
#
# - its thread example speaks of *processes* in its comments. A thread is not
#   a process: a process has memory of its own, the threads of one process
#   share theirs (the `processes` assignment is about the difference);
# - its table says a program runs until its main thread finishes. The rule is
#   that Python exits when the main thread *and every non-daemon thread* have
#   finished (q5 is about this);
# - the GIL limits *parallelism*, not concurrency: threads do overlap their
#   waiting, which is what makes them useful;
# - it presents a queue as a way around lock trouble. A `queue.Queue` does its
#   own locking and hands each item to exactly one consumer, which is why
#   workers fed by a queue need no lock of their own for the queue (q6); it
#   does not protect any other shared data.
#
# Run `advpy check threads.py` (or `threads.ipynb`) to run the public checks
# on your work. The grader runs more checks than these: it makes races happen
# on purpose, so racy code fails every time, not once in a while.

# %%
import queue
import threading
import time

# %% [markdown]
# ## q1. Start them all, then wait for them all
#
# `threading.Thread(target=f)` only creates a thread object. `start()` makes
# the new thread run `f()` and returns at once; `join()` waits until that
# thread has finished. If you start one thread and join it before starting
# the next, the threads run one after another and nothing overlaps. Start
# every thread first, then join every one of them.


# %%
def run_threads(target, num_threads=10):
    """Create num_threads threading.Thread objects that each run target(),
    start all of them before joining any, join them all, and return the
    list of threads."""
    threads = [threading.Thread(target=target) for _ in range(num_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return threads


# %% [markdown]
# ## q2 and q3. Races and locks
#
# `database_value` plays a record in a database. Adding one to it takes three
# steps: read the value, compute the new one, write it back. A real database
# takes a while to answer, which `time.sleep(0.03)` imitates between the
# read and the write.
#
# Two threads doing this at the same time can lose an update:
#
# | time | thread A | thread B | database_value |
# |---|---|---|---|
# | 1 | reads 0 | | 0 |
# | 2 | (waits for the database) | reads 0 | 0 |
# | 3 | writes 1 | (waits for the database) | 1 |
# | 4 | | writes 1 | 1 |
#
# Two increments, one effect. When the result depends on how the threads
# happen to be interleaved, the code has a *race condition*.
#
# A lock lets one thread at a time through a piece of code: `acquire()` waits
# until no other thread holds the lock, `release()` lets the next one in. It
# prevents the race above only if
#
# - **every thread uses the same lock object**. A lock created inside the
#   function is a new lock on every call: each thread gets its own, never
#   waits, and nothing is protected;
# - **it covers the whole read-modify-write**, latency included. Locking only
#   the write still lets two threads read the same old value first;
# - **it is released on every path out**, including an exception. `with lock:`
#   does that for you. With a bare `acquire()` … `release()`, an exception in
#   between leaves the lock taken, and every thread that asks for it later
#   waits forever.
#
# Why the latency? On CPython 3.10 and later, a bare `counter += 1` is
# almost never interrupted halfway, so a racy counter usually *seems* to
# work. It is still wrong: any real work between the read and the write (a
# database call, a log line, a sleep) opens the window wide.

# %%
database_value = 0


# %%
def increase(lock):
    """Add one to the module global database_value while holding lock.

    The lock is held for the whole read, latency, write sequence, and it is
    released even if that sequence raises.
    """
    global database_value
    with lock:
        local_copy = database_value  # read
        local_copy += 1  # modify
        time.sleep(0.03)  # the database takes its time
        database_value = local_copy  # write


# %%
def run_increase(num_threads=2):
    """Set database_value to 0, run num_threads threads that each call
    increase(lock) with one Lock shared by all of them, join them, and
    return the final database_value."""
    global database_value
    database_value = 0
    lock = threading.Lock()
    threads = [threading.Thread(target=increase, args=(lock,)) for _ in range(num_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return database_value


# %% [markdown]
# ## q4. Keep the lock inside the object
#
# A class can own its lock, so that its callers cannot forget to use it. The
# stub below reads the count, calls `time.sleep(0)` and writes it back:
# `sleep(0)` waits for nothing, but it tells the interpreter that another
# thread may run now, right between the read and the write, so the race
# shows at once. Make `increment` safe with a lock that every call of every
# thread shares.
#
# One trap: `threading.Lock` is not *reentrant*. A thread that holds it and
# asks for it again (say, `increment` holds the lock and reads `self.value`,
# which takes the lock too) waits for itself forever: a *deadlock*. Either
# take the lock once, or use a `threading.RLock`, which its owner may take
# again (and must release as many times).


# %%
class ThreadSafeCounter:
    """A counter that any number of threads may increment at the same time
    without losing an update."""

    def __init__(self):
        self._value = 0
        self._lock = threading.Lock()

    @property
    def value(self):
        """The current count (read-only)."""
        with self._lock:
            return self._value

    def increment(self, amount=1):
        """Add amount to the count."""
        with self._lock:
            current = self._value
            time.sleep(0)  # let another thread run between the read and the write
            self._value = current + amount


# %% [markdown]
# ## q5. Daemon threads
#
# When the main thread reaches the end of the program, Python still waits
# for every thread that is not a *daemon*. A daemon thread does not count:
# once only daemon threads are left, the interpreter exits and they stop
# wherever they are, without running their `finally` blocks. That suits
# background chores that may stop at any moment (a heartbeat, a monitor, a
# cache refresher), and not work that must finish (writing a file). Mark the
# thread with `daemon=True` *before* you start it.


# %%
def start_heartbeat(interval, beats):
    """Start and return a daemon thread that appends time.monotonic() to the
    list beats every interval seconds, forever.

    Being a daemon, it does not keep the program alive once the main thread
    has finished.
    """

    def beat():
        while True:
            beats.append(time.monotonic())
            time.sleep(interval)

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    return thread


# %% [markdown]
# ## q6. Producer and consumers with a queue
#
# `queue.Queue` is a first-in, first-out queue that any number of threads may
# use at once: `put()` adds an item, `get()` takes the oldest one and, if the
# queue is empty, waits until there is one. The producer (here, the calling
# thread) puts the work in; each worker thread loops: get an item, process
# it, get the next.
#
# How does a worker learn that the work is over? `get()` on an empty queue
# just waits. The usual answer is a *sentinel*: a special value that means
# "stop". Put one sentinel per worker after the real items. The queue is
# first-in, first-out, so every real item comes out before any sentinel;
# each worker stops at the first sentinel it gets, so every worker gets
# exactly one. Make the sentinel a fresh `object()`: it cannot be mistaken
# for a real item, which `None` or `-1` could be. Then join the workers:
# once they are joined, all the work is done and no thread is left running.
#
# Workers finish in any order. To return the results in the order of the
# items, queue `(index, item)` pairs and store each result at its index.
#
# Other correct designs: a shared `threading.Event` that tells workers to
# stop once the queue is drained, or `concurrent.futures.ThreadPoolExecutor`,
# which is this pattern, packaged.

# %%
_STOP = object()  # the sentinel: no item can be this object


# %%
def process_queue(items, worker, num_workers=4):
    """Apply worker to every item of items with num_workers threads that take
    their work from a queue.Queue.

    Each item is processed exactly once, the threads work at the same time,
    the results come back in the order of items, and no thread is left
    running when this returns.
    """
    items = list(items)
    tasks = queue.Queue()
    results = [None] * len(items)

    def work():
        while True:
            task = tasks.get()
            if task is _STOP:
                return
            index, item = task
            results[index] = worker(item)

    workers = [threading.Thread(target=work) for _ in range(num_workers)]
    for thread in workers:
        thread.start()
    for task in enumerate(items):
        tasks.put(task)
    for _ in workers:
        tasks.put(_STOP)
    for thread in workers:
        thread.join()
    return results


# %% [markdown]
# ## Try it

# %%
if __name__ == "__main__":
    print(len(run_threads(lambda: None, 5)), "threads ran")
    print("run_increase(4) =", run_increase(4))
    counter = ThreadSafeCounter()
    run_threads(lambda: [counter.increment() for _ in range(100)], 4)
    print("counter.value =", counter.value)
    beats = []
    start_heartbeat(0.05, beats)
    time.sleep(0.2)
    print(len(beats), "beats so far")
    print(process_queue(range(8), lambda x: x * x, num_workers=3))
