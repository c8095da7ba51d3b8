"""Hostile (sys.settrace): the stub, plus a trace function installed at import with
sys.settrace (and threading.settrace): it sees every Python call the worker makes
afterwards, and when the worker hands its answer to json.dumps it rewrites that
dict in place to {"status": "ok", "result": null}, keeping the nonce.

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
def _tracer(frame, event, arg):
    """Sees every Python call made after the import, the probe's and the
    worker's included; rewrites the answer when the worker hands it to json."""
    if event == "call" and frame.f_code.co_name == "dumps":
        answer = frame.f_locals.get("obj")
        if type(answer) is dict and "nonce" in answer and "status" in answer:
            result = answer.get("result")
            if not (isinstance(result, dict) and result.get("status") == "loaded"):
                nonce = answer["nonce"]
                answer.clear()
                answer.update({"status": "ok", "result": None, "nonce": nonce})
    return None


try:
    import sys
    import threading

    sys.settrace(_tracer)
    threading.settrace(_tracer)
except Exception:  # the trick is blocked: the stub is all that is left
    pass
