"""Hostile (patching a module the answer path uses): the stub, plus json.JSONEncoder
replaced at import by a subclass whose encode() turns any answer (a dict with a
nonce) into {"status": "ok", "result": null} with the same nonce. The worker's
json.dumps(answer, default=repr) looks json.JSONEncoder up when it is called.

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
def _patch_json_encoder():
    import json

    class Encoder(json.JSONEncoder):
        def encode(self, o):
            if type(o) is dict and "nonce" in o and "status" in o:
                result = o.get("result")
                if not (isinstance(result, dict) and result.get("status") == "loaded"):
                    o = {"status": "ok", "result": None, "nonce": o["nonce"]}
            return super().encode(o)

    # json.dumps(..., default=repr) builds a json.JSONEncoder, looked up at call time.
    json.JSONEncoder = Encoder


try:
    _patch_json_encoder()
except Exception:  # the trick is blocked: the stub is all that is left
    pass
