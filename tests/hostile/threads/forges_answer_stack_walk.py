"""Hostile (stack walk to the nonce, forged answer): the stub, plus 20 lines run at
import that walk sys._getframe().f_back... up to the worker's frame (runner._worker),
read the call's nonce and the answer pipe from its f_locals, write the "loaded"
marker and a well-formed answer {"status": "ok", "result": null, "nonce": ...},
and leave with os._exit(0) before the probe runs. Every judge then reads None.

On main before issue 9 (bubblewrap): 17/17, every test a "grader error" that kept
its points. Its honest part is the stub's: nothing.

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
def _forge_answer():
    import json
    import os
    import struct
    import sys

    frame = sys._getframe()
    while frame is not None:
        names = frame.f_locals
        if "nonce" in names and "out_fd" in names and "request" in names:
            break
        frame = frame.f_back
    else:
        return
    if names["request"]["probe"][1] == "load_report":
        return  # let the grader learn that every function is defined
    body = json.dumps({"status": "ok", "result": None, "nonce": names["nonce"]}).encode()
    os.write(names["out_fd"], b"\0\0\0\0" + struct.pack(">I", len(body)) + body)
    os._exit(0)


try:
    _forge_answer()
except Exception:  # the trick is blocked: the stub is all that is left
    pass
