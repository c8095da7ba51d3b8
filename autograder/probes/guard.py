"""The audit hook (PEP 578) that keeps a submission out of the grader's frames and objects.

Installed in each worker after our modules are loaded and before the
submission is, it cannot be removed. It denies the student's code the ways
into the frames and objects of the code that observes it: ``sys._getframe``,
``sys._current_frames``, the ``tb_frame``/``gi_frame``/``cr_frame``/``ag_frame``
attributes, ``gc``'s object walks, ``sys.settrace``/``setprofile``, ``ctypes``,
new audit hooks, reading or rewriting the code and defaults of our functions
and classes, installing Python signal handlers (a handler is handed the
frame the main thread was in, whose ``f_back`` leads to ours), at-fork
callbacks (they would run first in the children we fork), and opening
the per-process files of ``/proc`` that expose memory or file descriptors.

Who asked is decided by code object identity, never by file or module name
(a submission can compile code under any file name): the code objects of our
own modules, and of a short list of standard-library functions that only read
names from the frames they take (``collections.namedtuple``, ``typing``,
``enum``, ``dataclasses``, ``logging``'s caller lookup, ``warnings``,
``traceback`` printing without locals). A standard-library function that
hands frames back to its caller (``traceback.walk_tb``, ``inspect.currentframe``)
is looked through: what counts is who consumes the frame.

Everything the hook uses is bound as a default argument when it is made, in
the supervisor, before any student code runs: rebinding a module's names
later does not change it, and no object of it is reachable from the student.
"""

from __future__ import annotations

import builtins
import os
import sys
from _thread import get_ident as _get_ident
from types import FunctionType, SimpleNamespace

# Our own copy of the builtins, taken before any student code runs.
__builtins__ = dict(vars(builtins))

FRAME_EVENTS = frozenset({"sys._getframe", "sys._current_frames", "sys._current_exceptions"})
FRAME_ATTRS = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
DENIED = frozenset({"gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.settrace",
                    "sys.setprofile", "sys._settraceallthreads", "sys._setprofileallthreads",
                    "sys.addaudithook", "os.symlink", "os.link",
                    # 3.12+: callbacks on every line of our code too
                    "sys.monitoring.register_callback",
                    # a subinterpreter has none of this interpreter's hooks
                    "cpython.PyInterpreterState_New"})
# Extension modules that hand out memory or interpreters: CPython's own test
# modules (pyenv and source builds install them) and subinterpreters.
DENIED_MODULES = ("_test", "_xxsub", "_xxinterp", "_interp", "_ctypes_test", "_xxtestfuzz")
SETTERS = frozenset({"object.__setattr__", "object.__delattr__"})
# What a function keeps that a submission must not read from ours: its code
# and its defaults (our per-call instruments keep their records there).
FUNCTION_INSIDES = frozenset({"__code__", "__defaults__", "__kwdefaults__"})
GUARDED = "advpy.guarded"  # the event our wrappers of unaudited functions raise
# Per-process files of /proc that reveal nothing but numbers and names.
SAFE_PROC = frozenset({"status", "stat", "statm", "cgroup", "mountinfo", "mounts", "cmdline",
                       "comm", "limits", "io", "sched", "schedstat", "cpuset", "oom_score",
                       "loginuid", "sessionid", "environ"})
# In a relative path (it may be opened against any directory fd) these names
# lead to a process's memory or file descriptors.
UNSAFE_PARTS = frozenset({"proc", "self", "thread-self", "mem", "pagemap", "clear_refs", "fd",
                          "fdinfo", "map_files", "task", "root", "cwd", "exe", "kcore"})

# (module, qualname prefix): standard-library code that takes frames and
# passes them only to code of the same list (or reads names from them).
CONSUMERS = (
    ("collections", "namedtuple"), ("typing", ""), ("enum", ""), ("dataclasses", ""),
    ("warnings", ""), ("logging", "Logger.findCaller"), ("logging", "Handler.handleError"),
    ("traceback", "StackSummary"), ("traceback", "extract_stack"),
    ("traceback", "format_stack"), ("traceback", "print_stack"), ("traceback", "clear_frames"),
    ("inspect", "getgeneratorstate"), ("inspect", "getcoroutinestate"),
    ("inspect", "getasyncgenstate"), ("multiprocessing.sharedctypes", ""),
    ("types", "coroutine"),  # sets a flag on the code of the generator it decorates
)
# Standard-library code that returns the frame it took: its caller decides.
PASS_THROUGH = (("traceback", "walk_tb"), ("traceback", "walk_stack"),
                ("traceback", "_walk_tb_with_full_positions"), ("logging", "<lambda>"),
                ("inspect", "currentframe"), ("signal", "signal"))


class Forbidden(RuntimeError):
    """What the student's code gets when it reaches for the grader's insides."""


def _codes_of(value, found: set, seen: set, prefix: str = "", qual: str = "") -> None:
    """Every code object reachable from a function or class (nested ones too)."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    if isinstance(value, property):
        for part in (value.fget, value.fset, value.fdel):
            if part is not None:
                _codes_of(part, found, seen, prefix, qual)
        return
    code = getattr(value, "__code__", None)
    if code is not None and type(code).__name__ == "code":
        name = getattr(value, "__qualname__", "")
        if name.startswith(prefix):
            stack = [code]
            while stack:
                current = stack.pop()
                found.add(current)
                stack.extend(c for c in current.co_consts if type(c) is type(current))
        return
    if isinstance(value, type):
        for item in list(vars(value).values()):
            _codes_of(item, found, seen, prefix, qual)


def _module_codes(name: str, prefix: str = "") -> set:
    module = sys.modules.get(name)
    found: set = set()
    if module is None:
        return found
    seen: set = set()
    for value in list(vars(module).values()):
        if getattr(value, "__module__", None) == name:
            _codes_of(value, found, seen, prefix)
    if prefix == "<lambda>":  # module-level lambdas: kept under their own name
        found = {c for c in found if c.co_name == "<lambda>"}
    return found


def _protected_ids(names: list[str]) -> frozenset:
    """ids of our modules' functions and classes: the student may not rewrite them."""
    ids = set()
    for name in names:
        module = sys.modules.get(name)
        for value in list(vars(module).values()) if module else []:
            if getattr(value, "__module__", None) == name:
                ids.add(id(value))
                if isinstance(value, type):
                    ids.update(id(v) for v in vars(value).values())
    return frozenset(ids)


def _realpath(path: str, *, _lstat=os.lstat, _readlink=os.readlink, _getcwd=os.getcwd) -> str:
    """The path with every symlink followed, using only C functions (os.path's
    Python helpers could have been rebound by the submission)."""
    if not path.startswith("/"):
        path = _getcwd() + "/" + path
    parts = [p for p in path.split("/") if p and p != "."]
    done: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        candidate = "/" + "/".join([*done, part])
        if _unsafe_proc(candidate, final=False):
            raise ValueError("a per-process file of /proc")
        try:
            mode = _lstat(candidate).st_mode
        except OSError:
            done.append(part)
            continue
        if (mode & 0o170000) == 0o120000 and hops < 40:
            hops += 1
            target = _readlink(candidate)
            if target.startswith("/"):
                done = []
            parts = [p for p in target.split("/") if p and p != "."] + parts
            continue
        done.append(part)
    return "/" + "/".join(done)


def _unsafe_proc(path: str, final: bool = True) -> bool:
    """Whether ``path`` (symlinks resolved) is a per-process /proc entry that is
    not a plain report: memory, descriptors, or (as the last step) the
    process's own folder, which a directory fd could be opened against."""
    parts = path.split("/")[1:]
    if len(parts) < 2 or parts[0] != "proc" or not parts[1].isdigit():
        return False
    rest = parts[2:]
    if len(rest) >= 2 and rest[0] == "task" and rest[1].isdigit():
        rest = rest[2:]
    elif rest == ["task"]:
        rest = []
    if not rest:
        return final
    return len(rest) > 1 or rest[0] not in SAFE_PROC


def _proc_path_denied(path: str) -> bool:
    """Whether opening ``path`` could reach a process's memory or descriptors."""
    if not path.startswith("/") and UNSAFE_PARTS.intersection(path.split("/")):
        return True  # it may be opened against a directory fd we cannot see
    try:
        return _unsafe_proc(_realpath(path))
    except (OSError, ValueError):
        return True  # it passed through memory or descriptors on the way


# -- wrappers of what Python does not audit -----------------------------------
# Made with a globals dict of their own (``__globals__`` is readable without an
# audit event) and everything they use in keyword defaults, which the hook
# keeps the student from reading.
def _signal_guarded(signalnum, handler, /, *, _real, _audit, _event, _type, _plain, _int):
    """_signal.signal: a callable handler only for our own code. SIG_DFL and
    SIG_IGN go on as plain ints: an enum member is a class the submission can
    give a __call__."""
    if _type(handler) not in _plain:
        _audit(_event, "signal.signal")
        return _real(signalnum, handler)
    return _real(signalnum, _int(handler, 0))


def _at_fork_guarded(*, _real, _audit, _event, **callbacks):
    """os.register_at_fork: only for our own code. A callback registered by the
    submission would run in every child we fork to measure it, first."""
    _audit(_event, "os.register_at_fork")
    return _real(**callbacks)


def _create_builtin_guarded(spec, /, *, _real, _audit, _event, _type, _str, _spec, _fresh):
    """_imp.create_builtin: never a fresh _signal (with the real signal()) or _imp."""
    name = spec.name  # read once, so a spec cannot answer differently later
    if _type(name) is not _str or name in _fresh:
        _audit(_event, "_imp.create_builtin")
    return _real(_spec(name=name))


def _isolated(function, **defaults):
    """``function`` with a globals dict of its own and ``defaults`` bound."""
    made = FunctionType(function.__code__, {"__builtins__": {}}, function.__name__)
    made.__kwdefaults__ = defaults
    return made


WRAPPED = (_signal_guarded, _create_builtin_guarded, _at_fork_guarded)
# Standard-library modules that register at-fork callbacks when imported:
# imported in the supervisor, so a submission's import of them registers none.
REGISTER_AT_FORK = ("random", "threading", "logging", "concurrent.futures.thread",
                    "asyncio.events")


def shield() -> None:
    """Put the guarded wrappers in place of the unaudited functions that give
    the student a way in: signal handlers (and a fresh ``_signal`` with the
    real ``signal()``), and at-fork callbacks."""
    import _imp
    import _signal
    import posix
    import signal

    _signal.signal = _isolated(
        _signal_guarded, _real=_signal.signal, _audit=sys.audit, _event=GUARDED, _type=type,
        _plain=(int, signal.Handlers), _int=int.__add__)
    _imp.create_builtin = _isolated(
        _create_builtin_guarded, _real=_imp.create_builtin, _audit=sys.audit, _event=GUARDED,
        _type=type, _str=str, _spec=SimpleNamespace,
        _fresh=frozenset({"_signal", "_imp", "posix"}))
    os.register_at_fork = posix.register_at_fork = _isolated(
        _at_fork_guarded, _real=posix.register_at_fork, _audit=sys.audit, _event=GUARDED)


def _shared_type_check():
    """Whether a sharedctypes frame chain makes a plain number or array of
    numbers: its RawValue or RawArray was given a typecode ("i", "d", ...)
    or one of ctypes' own number types, compared by identity (a class of the
    student's could answer == or hash as it likes)."""
    import ctypes
    from multiprocessing import sharedctypes

    numbers = tuple(t for t in set(sharedctypes.typecode_to_type.values())
                    | {ctypes.c_bool, ctypes.c_float, ctypes.c_double, ctypes.c_longdouble,
                       ctypes.c_int8, ctypes.c_int16, ctypes.c_int32, ctypes.c_int64,
                       ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64,
                       ctypes.c_size_t, ctypes.c_ssize_t}
                    if t not in (ctypes.c_char_p, ctypes.c_wchar_p, ctypes.c_void_p))
    makers = frozenset({sharedctypes.RawValue.__code__, sharedctypes.RawArray.__code__})
    shared = frozenset(_module_codes("multiprocessing.sharedctypes"))

    def ok(frame, *, _makers=makers, _shared=shared, _numbers=numbers,
           _codes=frozenset(sharedctypes.typecode_to_type), _type=type, _str=str) -> bool:
        for _ in range(8):
            if frame is None or frame.f_code not in _shared:
                return False
            if frame.f_code in _makers:
                given = frame.f_locals.get("typecode_or_type")
                if _type(given) is _str:
                    return given in _codes
                for number in _numbers:
                    if given is number:
                        return True
                return False
            frame = frame.f_back
        return False

    return ok


def _frozen_modules() -> list[str]:
    """The standard-library modules built into the interpreter as frozen
    bytecode (runpy, importlib.util, ... on 3.11+): imported here, so that a
    worker never unmarshals them (the hook allows bytecode from files only)."""
    import _imp

    names = getattr(_imp, "_frozen_module_names", lambda: [])()
    return [n for n in names if not n.startswith("__")]  # __hello__ & co. are demos


def _pyc_check():
    """Whether the frame that unmarshals is importlib reading a .pyc of the
    standard library, site-packages or our package (folders the sandbox
    cannot write):
    ``_compile_bytecode`` called by the real loaders' ``get_code``, with the
    loader's class and the path checked by identity and our own realpath."""
    import sysconfig
    from importlib import _bootstrap_external as external

    paths = sysconfig.get_paths()
    # and our own package (a notebook's module imports a fresh copy of
    # probes.notebook): none of these is writable by the sandbox's uid.
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    roots = tuple(sorted({os.path.realpath(paths[k]) + "/" for k in
                          ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
                         | {package + "/"}))
    loaders = (external.SourceFileLoader, external.SourcelessFileLoader)
    getters = frozenset({external.SourceLoader.get_code.__code__,
                         external.SourcelessFileLoader.get_code.__code__})

    def ok(frame, *, _compile=external._compile_bytecode.__code__, _getters=getters,
           _loaders=loaders, _roots=roots, _realpath=_realpath, _type=type, _str=str) -> bool:
        if frame is None or frame.f_code is not _compile or frame.f_back is None:
            return False
        if frame.f_back.f_code not in _getters:
            return False
        loader = _type(frame.f_back.f_locals.get("self"))
        if not (loader is _loaders[0] or loader is _loaders[1]):
            return False
        path = frame.f_locals.get("bytecode_path")
        if _type(path) is not _str:
            return False
        try:
            path = _realpath(path)
        except (OSError, ValueError):
            return False
        return path.startswith(_roots)

    return ok


def make_hook(ours: list[str]):
    """The hook, with everything it needs bound now. ``ours`` names our
    modules (already imported): their code may do anything."""
    for name in ("collections", "typing", "enum", "dataclasses", "warnings", "logging",
                 "traceback", "inspect", "multiprocessing.sharedctypes", "signal",
                 *REGISTER_AT_FORK, *_frozen_modules()):
        __import__(name)
    own = set()
    for name in ours:
        own |= _module_codes(name)
    consumers = set()
    for module, prefix in CONSUMERS:
        consumers |= _module_codes(module, prefix)
    passing = set()
    for module, prefix in PASS_THROUGH:
        passing |= _module_codes(module, prefix)
    # StackSummary.extract's inner generator only relays frames to the extractor.
    passing |= {c for c in consumers if c.co_name == "extended_frame_gen"}
    extract = {c for c in consumers if c.co_name in ("_extract_from_extended_frame_gen",
                                                     "extract")
               and "capture_locals" in c.co_varnames}

    # The wrappers are looked through: whoever called them decides.
    wrapped = {w.__code__ for w in WRAPPED}
    own -= wrapped
    passing |= wrapped
    shielded = own | wrapped
    protected = _protected_ids(ours)
    shared = _module_codes("multiprocessing.sharedctypes")
    consumers -= shared
    shared_type_ok = _shared_type_check()
    pyc_ok = _pyc_check()
    busy: set = set()  # threads inside the hook (its own _getframe raises an event too)

    # Defaults, not globals or closures: bound once, unreachable from the student.
    def hook(event, args, *, _own=frozenset(own), _consumers=frozenset(consumers),
             _passing=frozenset(passing), _extract=frozenset(extract),
             _protected=protected, _frame_events=FRAME_EVENTS,
             _frame_attrs=FRAME_ATTRS, _denied=DENIED, _setters=SETTERS,
             _getframe=sys._getframe, _ident=_get_ident, _busy=busy,
             _forbidden=Forbidden, _isinstance=isinstance, _str=str, _bytes=bytes,
             _id=id, _denied_path=_proc_path_denied, _fspath=os.fspath,
             _len=len, _shielded=frozenset(shielded), _insides=FUNCTION_INSIDES,
             _guarded=GUARDED, _type=type, _function=FunctionType,
             _shared=frozenset(shared), _shared_type_ok=shared_type_ok,
             _trusted=frozenset(own | consumers | passing | wrapped),
             _pyc_ok=pyc_ok, _denied_modules=DENIED_MODULES):
        me = _ident()
        if me in _busy:
            return  # the hook's own _getframe and __code__ reads
        if event in _frame_events or event == _guarded:
            frames = True
        elif event == "object.__getattr__":
            if _len(args) < 2:
                return
            if args[1] in _frame_attrs:
                frames = True
            elif args[1] in _insides and _type(args[0]) is _function:
                _busy.add(me)
                try:
                    if args[0].__code__ not in _shielded:
                        return
                finally:
                    _busy.discard(me)
                frames = False
            else:
                return
        elif event in _denied or event.startswith("ctypes.") or event == "code.__new__":
            frames = False
        elif event == "import":
            # The unbound C method: a str subclass's own startswith is not asked.
            if not args or not _isinstance(args[0], _str) or not _str.startswith(
                    args[0], _denied_modules):
                return
            frames = False
        elif event == "marshal.loads" or event == "marshal.load":
            # Bytecode can read and write any address: only the standard
            # library's own .pyc files, as importlib loads them.
            _busy.add(me)
            try:
                if _pyc_ok(_getframe(1)):
                    return
            finally:
                _busy.discard(me)
            frames = False
        elif event in _setters:
            if _id(args[0]) not in _protected:
                if _type(args[0]) is not _function:
                    return
                _busy.add(me)
                try:
                    if args[0].__code__ not in _shielded:
                        return
                finally:
                    _busy.discard(me)
            frames = False
        elif event == "function.__new__":
            # Our code, or a trusted caller's, under globals of the student's
            if args[0] not in _trusted:
                return
            frames = False
        elif event == "open" or event == "os.chdir":
            path = args[0] if args else None
            if path is None or _isinstance(path, int):
                return
            try:
                path = _fspath(path)
                if _isinstance(path, _bytes):
                    path = path.decode("utf-8", "surrogateescape")
            except Exception:  # noqa: BLE001 - not a path: the call itself will fail
                return
            if not _denied_path(path):
                return
            frames = False
        else:
            return
        _busy.add(me)
        try:
            frame = _getframe(1)
            for _ in range(64):
                if frame is None:
                    break
                code = frame.f_code
                if code in _own:
                    return
                if frames and code in _passing:
                    frame = frame.f_back
                    continue
                if code in _shared:
                    # sharedctypes makes a ctypes object of the type it is
                    # given: only the plain numbers of multiprocessing.Value
                    # and Array (a Union with a pointer reads any address).
                    if _shared_type_ok(frame):
                        return
                    break
                if code in _consumers:
                    # Exactly False: anything else could answer differently
                    # when traceback asks it.
                    if code in _extract and frame.f_locals.get("capture_locals") is not False:
                        break
                    return
                break
        finally:
            _busy.discard(me)
        used = args[0] if event == _guarded and args else event
        if used == "signal.signal":
            used = "signal.signal with a handler function"
        raise _forbidden(
            f"advpy: submissions may not use {used} (the grader blocks what could read or "
            "change how a submission is graded); remove it from your code.")

    return hook


def install(ours: list[str]) -> None:
    """Add the hook for good (an audit hook cannot be removed)."""
    sys.addaudithook(make_hook(ours))
