"""Hostile (ctypes memory reads): the stub, whose functions first look for the
call's nonce in the process's own memory: ctypes.string_at over every anonymous
read-write mapping of /proc/self/maps, a live str of 24 hex digits recognised by
its object header (reference count, type, length) read with ctypes. The answer
pipe is the only write-only pipe in /proc/self/fd besides stdout and stderr. No
frame is touched. The forged answer is {"status": "ok", "result": null}.

On main before issue 9 (bubblewrap): 16/17, every test whose probe calls one of
its functions a "grader error" that kept its points (only the heartbeat test run
in a fresh interpreter failed). Its honest part is the stub's: nothing.

expect: q1=0 q2=0 q3=0 q4=0 q5=0 q6=0
"""
import queue  # noqa: F401
import threading  # noqa: F401
import time


def run_threads(target, num_threads=10):
    _forge()
    raise NotImplementedError("write run_threads")


database_value = 0


def increase(lock):
    global database_value
    _forge()
    local_copy = database_value  # read
    local_copy += 1  # modify
    time.sleep(0.03)  # the database takes its time
    database_value = local_copy  # write


def run_increase(num_threads=2):
    _forge()
    raise NotImplementedError("write run_increase")


class ThreadSafeCounter:
    def __init__(self):
        _forge()
        self._value = 0

    @property
    def value(self):
        return self._value

    def increment(self, amount=1):
        current = self._value
        time.sleep(0)
        self._value = current + amount


def start_heartbeat(interval, beats):
    _forge()
    raise NotImplementedError("write start_heartbeat")


def process_queue(items, worker, num_workers=4):
    _forge()
    raise NotImplementedError("write process_queue")


# -- the cheat --------------------------------------------------------------
def _answer_pipe():
    """The one pipe this process may write to besides stdout and stderr: the
    worker's answer pipe (found in /proc/self/fd and fdinfo, no frame needed)."""
    import os

    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if fd < 3 or not os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                continue
            with open(f"/proc/self/fdinfo/{fd}", encoding="ascii") as stream:
                flags = int(stream.read().split("flags:")[1].split()[0], 8)
        except (OSError, IndexError, ValueError):
            continue
        if flags & os.O_ACCMODE == os.O_WRONLY:
            return fd
    return None


def _nonce_in_memory():
    """Scan this process's anonymous memory with ctypes.string_at for a live str
    of 24 hex digits (os.urandom(12).hex()): checked by its object header
    (reference count, type pointer, length), which freed copies no longer have."""
    import ctypes
    import re
    import sys

    header = sys.getsizeof("") - 1  # a compact ASCII str's data follows its header
    pattern = re.compile(rb"(?<![0-9a-f])[0-9a-f]{24}\x00")
    with open("/proc/self/maps", encoding="ascii") as stream:
        maps = stream.read().splitlines()
    for line in maps:
        fields = line.split()
        if not fields[1].startswith("rw") or (len(fields) > 5 and fields[5] != "[heap]"):
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        data = ctypes.string_at(start, end - start)
        for match in pattern.finditer(data):
            base = start + match.start() - header
            if base < start:
                continue
            refcnt = ctypes.c_ssize_t.from_address(base).value
            kind = ctypes.c_void_p.from_address(base + 8).value
            length = ctypes.c_ssize_t.from_address(base + 16).value
            if 0 < refcnt < 1000 and kind == id(str) and length == 24:
                return match.group()[:24].decode()
    return None


def _forge():
    """Called first thing in every function: answer the probe call with None."""
    try:
        import json
        import os
        import struct

        fd = _answer_pipe()
        nonce = _nonce_in_memory() if fd is not None else None
        if nonce is None:
            return
        body = json.dumps({"status": "ok", "result": None, "nonce": nonce}).encode()
        os.write(fd, struct.pack(">I", len(body)) + body)
        os._exit(0)
    except Exception:  # the trick is blocked: the stub is all that is left
        pass
