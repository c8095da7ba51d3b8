"""Hostile (/proc/self/mem): the stub, whose functions (and CHOICES.items()) first
look for the call's nonce in the process's own memory: /proc/self/mem read over
every anonymous read-write mapping, a live str of 24 hex digits recognised by its
object header (reference count, type, length). The answer pipe is the only
write-only pipe in /proc/self/fd besides stdout and stderr. The forged answer is
{"status": "ok", "result": null}.

On main before issue 9 (bubblewrap): 17/17, every test a "grader error" that
kept its points. Its honest part is the stub's: nothing.

expect: q1=0 q2=0 q3=0 q4=0 q5=0
"""
import concurrent.futures  # noqa: F401
import multiprocessing  # noqa: F401
import os
import time


class _Choices(dict):
    def items(self):
        _forge()  # the grader reads CHOICES with .items()
        return super().items()


CHOICES = _Choices({
    "download 200 web pages": None,
    "resize 10,000 images in a pure-Python loop": None,
    "count primes below 10**8 in pure Python": None,
    "wait for replies from 50 database queries": None,
    "a task that must be killable from outside": None,
    "many small tasks that update one shared in-memory dict": None,
})


def run_processes(target, num_processes=None):
    _forge()
    raise NotImplementedError("write run_processes")


def parallel_map(func, items, workers=None):
    _forge()
    raise NotImplementedError("write parallel_map")


def io_map(func, items, workers=8):
    _forge()
    raise NotImplementedError("write io_map")


def parallel_sum_of_squares(numbers, num_processes=2):
    _forge()
    raise NotImplementedError("write parallel_sum_of_squares")


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
    """Read this process's anonymous memory through /proc/self/mem and look for a
    live str of 24 hex digits (os.urandom(12).hex()), checked by its object header
    (reference count, type pointer, length), which freed copies no longer have."""
    import re
    import sys

    header = sys.getsizeof("") - 1  # a compact ASCII str's data follows its header
    pattern = re.compile(rb"(?<![0-9a-f])[0-9a-f]{24}\x00")
    with open("/proc/self/maps", encoding="ascii") as stream:
        maps = stream.read().splitlines()
    with open("/proc/self/mem", "rb", buffering=0) as memory:
        for line in maps:
            fields = line.split()
            if not fields[1].startswith("rw") or (len(fields) > 5 and fields[5] != "[heap]"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            try:
                memory.seek(start)
                data = memory.read(end - start)
            except OSError:
                continue
            for match in pattern.finditer(data):
                at = match.start() - header
                if at < 0:
                    continue
                refcnt = int.from_bytes(data[at:at + 8], sys.byteorder, signed=True)
                kind = int.from_bytes(data[at + 8:at + 16], sys.byteorder)
                length = int.from_bytes(data[at + 16:at + 24], sys.byteorder)
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
