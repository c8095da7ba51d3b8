"""Hostile (reaching the runner's globals): the stub, plus, at import,
sys.modules["__main__"].main.__globals__: the supervisor runs as
`python -c "...from autograder.probes.runner import main; main()"`, so __main__
holds the runner's main, and its globals are the live runner's (a fresh import
of autograder.probes.runner would be another module). The cheat replaces the
runner's _dumps, which the worker calls to answer, by one that answers
{"status": "ok", "result": null} with the call's nonce.

On main before issue 9 (bubblewrap): 17/17, every test a "grader error" that
kept its points. Its honest part is the stub's: nothing.

expect: q1=0 q2=0 q3=0 q4=0 q5=0 q6=0
"""
import queue  # noqa: F401
import threading  # noqa: F401
import time


def run_threads(target, num_threads=10):
    raise NotImplementedError("write run_threads")


database_value = 0


def increase(lock):
    global database_value
    local_copy = database_value  # read
    local_copy += 1  # modify
    time.sleep(0.03)  # the database takes its time
    database_value = local_copy  # write


def run_increase(num_threads=2):
    raise NotImplementedError("write run_increase")


class ThreadSafeCounter:
    def __init__(self):
        self._value = 0

    @property
    def value(self):
        return self._value

    def increment(self, amount=1):
        current = self._value
        time.sleep(0)
        self._value = current + amount


def start_heartbeat(interval, beats):
    raise NotImplementedError("write start_heartbeat")


def process_queue(items, worker, num_workers=4):
    raise NotImplementedError("write process_queue")


# -- the cheat: last, so that the functions above exist whatever happens here --
def _patch_runner():
    """The supervisor was started with `python -c "...from autograder.probes.runner
    import main; main()"`: __main__ holds `main`, whose __globals__ are the live
    runner's (a fresh `import autograder.probes.runner` would be another module).
    The worker looks its `_dumps` up there when it answers."""
    import sys

    runner = sys.modules["__main__"].main.__globals__
    real_dumps = runner["_dumps"]

    def dumps(answer, **kwargs):
        if type(answer) is dict and "nonce" in answer:
            result = answer.get("result")
            if not (isinstance(result, dict) and result.get("status") == "loaded"):
                answer = {"status": "ok", "result": None, "nonce": answer["nonce"]}
        return real_dumps(answer, **kwargs)

    runner["_dumps"] = dumps


try:
    _patch_runner()
except Exception:  # the trick is blocked: the stub is all that is left
    pass
