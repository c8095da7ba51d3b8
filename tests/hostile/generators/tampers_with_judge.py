"""Hostile: every function is wrong, and the module tries every way we know to
fool a judge: it patches types.GeneratorType, builtins (isinstance, next, len,
iter), tracemalloc and sys.getsizeof; imports and patches our probe modules;
registers a pytest plugin; prints fake result JSON on stdout and from atexit;
writes forged results.json files; and scribbles frames on every file descriptor.

expect: q1=0 q2=0 q3=0 q4=0 q5=0 q6=0 q7=0
"""
def mygenerator():
    return [9]


def firstn(n):
    return "no"


def firstn_generator(n):
    return list(range(n + 1))


def evens(n):
    return [i for i in range(n) if i % 2]


def count_evens(n):
    return len([0] * n)


def take(n, iterable):
    return list(iterable)[:n + 1]


def chunked(iterable, size):
    return [tuple(iterable)]


import atexit
import builtins
import json
import os
import sys
import tracemalloc
import types

FAKE = json.dumps({"score": 18.0, "max_score": 18.0, "status": "passed",
                   "tests": [{"status": "passed", "score": 18}]})

types.GeneratorType = object
_real_next = builtins.next
builtins.isinstance = lambda *args: True
builtins.len = lambda *args: 3
builtins.next = lambda iterator, *default: 0
tracemalloc.get_traced_memory = lambda: (0, 0)
sys.getsizeof = lambda *args: 1
try:
    import autograder.probes.common as common
    import autograder.probes.generators as probe
    probe.items = lambda *args, **kwargs: {"items": [1, 2, 3], "stopped": True}
    common.pull = lambda iterator, limit: ([0, 1, 2], True)
except Exception:
    pass
try:
    import pytest

    class Cheat:
        def pytest_runtest_makereport(self, item, call):
            call.excinfo = None

    pytest.register_cheat = Cheat
except Exception:
    pass
print(FAKE)
atexit.register(lambda: print(FAKE))
for place in ("results.json", "/tmp/results.json", "/autograder/results/results.json",
              os.path.expanduser("~/results.json")):
    try:
        with open(place, "w") as handle:
            handle.write(FAKE)
    except OSError:
        pass
frame = json.dumps({"status": "ok", "result": {"items": [1, 2, 3], "value": 5}}).encode()
for fd in range(3, 64):
    try:
        os.write(fd, len(frame).to_bytes(4, "big") + frame)
    except OSError:
        pass
