"""Hostile (os.dup2 over the answer pipe): the stub, plus, at import: find the
answer pipe (the only write-only pipe in /proc/self/fd besides stdout and
stderr), fork a relay that keeps the real pipe, and os.dup2 a new pipe over the
answer descriptor. The worker then answers into the relay, which passes the
"loaded" marker on and rewrites the answer frame to {"status": "ok", "result":
null} with its own nonce.

On main before issue 9 (bubblewrap): 17/17, every test a "grader error" that
kept its points. Its honest part is the stub's: nothing.

expect: q1=0 q2=0 q3=0 q4=0 q5=0
"""
import concurrent.futures  # noqa: F401
import multiprocessing  # noqa: F401
import os
import time

CHOICES = {
    "download 200 web pages": None,
    "resize 10,000 images in a pure-Python loop": None,
    "count primes below 10**8 in pure Python": None,
    "wait for replies from 50 database queries": None,
    "a task that must be killable from outside": None,
    "many small tasks that update one shared in-memory dict": None,
}


def run_processes(target, num_processes=None):
    raise NotImplementedError("write run_processes")


def parallel_map(func, items, workers=None):
    raise NotImplementedError("write parallel_map")


def io_map(func, items, workers=8):
    raise NotImplementedError("write io_map")


def parallel_sum_of_squares(numbers, num_processes=2):
    raise NotImplementedError("write parallel_sum_of_squares")


# -- the cheat: last, so that the functions above exist whatever happens here --
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


def _relay(source, sink):
    """In a child process: pass the "loaded" marker on, rewrite the answer frame."""
    import json
    import os
    import struct

    buffer = b""
    while True:
        chunk = os.read(source, 65536)
        if not chunk:
            return
        buffer += chunk
        if buffer.startswith(b"\0\0\0\0"):  # the "loaded" marker
            os.write(sink, buffer[:4])
            buffer = buffer[4:]
        if len(buffer) >= 4:
            (size,) = struct.unpack(">I", buffer[:4])
            if len(buffer) >= 4 + size:
                answer = json.loads(buffer[4:4 + size])
                result = answer.get("result")
                if not (isinstance(result, dict) and result.get("status") == "loaded"):
                    answer = {"status": "ok", "result": None, "nonce": answer["nonce"]}
                body = json.dumps(answer).encode()
                os.write(sink, struct.pack(">I", len(body)) + body)
                return


def _intercept_answers():
    import os

    if os.getpgid(0) != os.getpid():
        return  # not the grader's worker (it leads its own process group)
    answer_fd = _answer_pipe()
    if answer_fd is None:
        return
    read_end, write_end = os.pipe()
    if os.fork() == 0:
        try:
            os.close(write_end)
            _relay(read_end, answer_fd)
        finally:
            os._exit(0)
    os.close(read_end)
    os.dup2(write_end, answer_fd)  # the worker now answers into our relay
    os.close(write_end)


try:
    _intercept_answers()
except Exception:  # the trick is blocked: the stub is all that is left
    pass
