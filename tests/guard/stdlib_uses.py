"""What correct code does with the standard library, which must keep working
under the audit hook, beside the routes into the grader that it must deny.
``report()`` tries each one and returns {name: repr of the result, or
"DENIED <exception>"}; tests/test_guard.py runs it in a real worker."""


def report():
    out = {}

    def attempt(name, fn):
        try:
            out[name] = repr(fn())[:60]
        except BaseException as exc:  # noqa: BLE001
            out[name] = "DENIED " + type(exc).__name__ + ": " + str(exc)[:50]

    import asyncio
    import signal

    async def co():
        await asyncio.sleep(0)
        return 5
    attempt("asyncio.run", lambda: asyncio.run(co()))
    attempt("signal handler", lambda: signal.signal(signal.SIGUSR1, lambda *a: None))
    attempt("signal SIG_IGN", lambda: signal.signal(signal.SIGUSR1, signal.SIG_IGN))
    attempt("getsignal", lambda: signal.getsignal(signal.SIGINT))
    import _imp
    import types
    attempt("fresh _signal", lambda: _imp.create_builtin(types.SimpleNamespace(name="_signal")))
    import concurrent.futures as cf
    import multiprocessing as mp

    def sq(x):
        return x * x
    attempt("threadpool", lambda: list(cf.ThreadPoolExecutor(2).map(sq, range(4))))
    for method in ("fork", "spawn", "forkserver"):
        def run(method=method):
            with mp.get_context(method).Pool(2) as pool:
                return pool.map(abs, [-1, -2])
        attempt("pool " + method, run)
    attempt("procpool", lambda: list(cf.ProcessPoolExecutor(2).map(abs, [-3, 4])))
    import ctypes

    def shared_numbers():
        value, array = mp.Value("i", 7), mp.Array(ctypes.c_double, [1.0, 2.0])
        raw = mp.sharedctypes.RawValue(ctypes.c_int64, 3)
        return [value.value, list(array), raw.value]
    attempt("shared numbers", shared_numbers)

    def shared_pointer():
        class Poke(ctypes.Union):  # an address in, any memory out
            _fields_ = [("address", ctypes.c_void_p), ("at", ctypes.POINTER(ctypes.c_char))]
        poke = mp.sharedctypes.RawValue(Poke)
        poke.address = id(out)
        return poke.at[0]
    attempt("shared pointer", shared_pointer)
    def fresh_stdlib_import():
        import fractions  # not loaded yet: importlib reads its .pyc
        return fractions.Fraction(1, 3)
    attempt("stdlib import", fresh_stdlib_import)

    @types.coroutine
    def old_style():
        yield
    attempt("types.coroutine", lambda: type(old_style()).__name__)

    def crafted_bytecode():
        import marshal
        return marshal.loads(marshal.dumps(report.__code__))
    attempt("marshal.loads", crafted_bytecode)
    attempt("code.replace", lambda: report.__code__.replace(co_consts=()))

    def crafted_pyc():
        import importlib.util
        import marshal
        import os
        import tempfile
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "crafted.pyc")
        with open(path, "wb") as file:
            file.write(importlib.util.MAGIC_NUMBER + b"\0" * 12
                       + marshal.dumps(compile("x = 1", "crafted", "exec")))
        spec = importlib.util.spec_from_file_location("crafted", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.x
    attempt("crafted pyc", crafted_pyc)
    def subinterpreter():
        import _xxsubinterpreters as interpreters
        return interpreters.create()
    attempt("subinterpreter", subinterpreter)
    attempt("_testcapi", lambda: __import__("_testcapi"))
    import pickle
    attempt("pickle", lambda: pickle.loads(pickle.dumps({1: [2]})))
    import logging
    import traceback
    attempt("logging.exception", lambda: logging.getLogger("x").exception("expected"))
    attempt("format_exc", lambda: traceback.format_stack()[-1])
    import collections
    import dataclasses
    import enum
    attempt("namedtuple", lambda: collections.namedtuple("P", "x y")(1, 2))
    attempt("dataclass", lambda: dataclasses.make_dataclass("D", ["a"])(1))
    attempt("enum", lambda: enum.Enum("E", "A B").A)
    import inspect
    attempt("inspect.stack", lambda: len(inspect.stack()))
    attempt("threading.setprofile", lambda: __import__("threading").setprofile(print))
    import sys
    attempt("_getframe", lambda: sys._getframe())
    import gc
    attempt("gc.get_objects", lambda: len(gc.get_objects()))
    return out
