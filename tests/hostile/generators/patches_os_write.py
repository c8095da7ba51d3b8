"""Hostile (patching a module the answer path uses): the stub, plus an os.write
replaced at import. The worker's answer goes out through wire.write_frame, which
calls os.write from the shared os module: the new one takes each answer frame,
keeps its nonce, and writes {"status": "ok", "result": null} instead (the load
report passes, so that every function counts as defined).

On main before issue 9 (bubblewrap): 18/18, every test a "grader error" that
kept its points. Its honest part is the stub's: nothing.

expect: q1=0 q2=0 q3=0 q4=0 q5=0 q6=0 q7=0
"""
def mygenerator():
    raise NotImplementedError("write mygenerator")


def firstn(n):
    raise NotImplementedError("write firstn")


def firstn_generator(n):
    raise NotImplementedError("write firstn_generator")


def evens(n):
    raise NotImplementedError("write evens")


def count_evens(n):
    raise NotImplementedError("write count_evens")


def take(n, iterable):
    raise NotImplementedError("write take")


def chunked(iterable, size):
    raise NotImplementedError("write chunked")


# -- the cheat: last, so that the functions above exist whatever happens here --
def _forged(body):
    """The answer every probe call gets: ok and None, with the call's own nonce
    (the load report passes, so that the grader sees every function defined)."""
    import json

    answer = json.loads(body)
    result = answer.get("result")
    if isinstance(result, dict) and result.get("status") == "loaded":
        return body
    return json.dumps({"status": "ok", "result": None, "nonce": answer["nonce"]}).encode()


def _patch_os_write():
    import os
    import struct

    real_write = os.write

    def write(fd, data):
        try:
            raw = bytes(data)
            (size,) = struct.unpack(">I", raw[:4])
            if size == len(raw) - 4 and b'"nonce"' in raw:
                body = _forged(raw[4:])
                real_write(fd, struct.pack(">I", len(body)) + body)
                return len(raw)
        except Exception:  # not an answer frame: write it as it is
            pass
        return real_write(fd, data)

    os.write = write


try:
    _patch_os_write()
except Exception:  # the trick is blocked: the stub is all that is left
    pass
