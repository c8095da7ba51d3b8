"""The student process: a clean supervisor that forks one worker per probe call.

Started by ``autograder.child`` as ``python -I -c ...`` with two pipe file
descriptors. The supervisor never runs student code: each worker drops the
grader's channel, loads the submission afresh (so every test starts from the
module's initial state), runs one probe and answers in JSON on a pipe of its
own. ``sys.exit``, ``os._exit``, a crash, a hang or a limit hit therefore
costs that call only, and the worker's process group is killed afterwards.
"""

from __future__ import annotations

import _signal
import builtins
import ctypes
import fcntl
import functools
import hashlib
import hmac
import importlib
import importlib.util
import json
import os
import pickle
import resource
import select
import signal
import sys
import termios
import time
import traceback

from autograder.probes import procfs, wire

# Our own copy of the builtins, taken before any student code runs: a
# submission that patches builtins (len, isinstance, ...) does not reach us.
__builtins__ = dict(vars(builtins))
_ORIGINAL_BUILTINS = dict(vars(builtins))

# Taken before any student code runs, so that a submission that patches these
# names cannot change how we talk to the grader.
_dumps = json.dumps
_loads = json.loads
_fork = os.fork
_exit = os._exit
_killpg = os.killpg
_waitpid = os.waitpid
_monotonic = time.monotonic
_select = select.select
_pickle_loads = pickle.loads
_setrlimit = resource.setrlimit
_write_frame = wire.write_frame
_write = os.write
_read_frame = wire.read_frame
_read = os.read
_start_thread = __import__("_thread").start_new_thread
_get_ident = __import__("_thread").get_ident
HEADER_PACK = wire.HEADER.pack
ITEM = __import__("struct").Struct(">Q")  # one item of the counting source
SOURCE_ITEMS = 4096  # an "infinite" source holds this many (its pipe holds 64 KiB)
# How often the supervisor looks at a running call it watches (a memory cap,
# an endless source): often enough that eager code is stopped within a
# fraction of a second, rarely enough to cost nothing measurable.
WATCH_SECONDS = 0.01
ALL_SIGNALS = frozenset(signal.valid_signals())
SIGNALS_MASK = sum(1 << (n - 1) for n in range(1, 32) if n not in (9, 19))
_HOOK: list = []  # the audit hook and its shield, made once in the supervisor (see guard.py)
# A module made from a notebook imports run_cells from our notebook module,
# afresh in each worker (see _run_probe). The supervisor compiles that module,
# and the notebook's cells, once (see _prepare_notebook): "code", "path",
# "cells". Empty for any other submission.
_NOTEBOOK: dict = {}
NOTEBOOK_MODULE = "autograder.probes.notebook"
# A notebook's cells are compiled once (by the supervisor) only up to this
# size: compiling is never run under the worker's limits.
PRECOMPILE_BYTES = 256 * 1024

RESULT_LIMIT = 1 << 20
LOADED = b"\x00\x00\x00\x00"  # an empty frame: the submission has loaded


def _send(fd: int, message: dict) -> None:
    _write_frame(fd, _dumps(message, default=repr).encode())


def _where(exc: BaseException, filename: str) -> str | None:
    """The last place in the submission that the exception passed through:
    "line 12" for a module, "cell 3, line 2" for a notebook cell."""
    where = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            where = f"line {frame.lineno}"
        elif frame.filename.startswith(filename + ":"):
            where = f"{frame.filename[len(filename) + 1:]}, line {frame.lineno}"
    return where


def _describe_exception(exc: BaseException, filename: str) -> dict:
    message = str(exc)
    if len(message) > 300:
        message = message[:300] + "…"
    return {"type": type(exc).__name__, "message": message, "where": _where(exc, filename)}


def _public_names(module) -> dict:
    names = {}
    for name, value in list(vars(module).items())[:2000]:
        if name.startswith("__"):
            continue
        names[name] = "callable" if callable(value) else type(value).__name__
    return names


def load(config: dict) -> tuple[object | None, dict]:
    """Import the submission as a real module; report what it defines and what went wrong."""
    path, name = config["path"], config["module"]
    sys.path.insert(0, os.path.dirname(path))
    report: dict = {"status": "loaded", "errors": [], "cell_errors": []}
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
    except BaseException as exc:  # noqa: BLE001 - any failure is the submission's
        return None, {"status": "failed", "error": _describe_exception(exc, path)}
    sys.modules[name] = module
    try:
        try:
            # Compiled from the source, never from a .pyc beside it: the hook
            # lets bytecode in only from the standard library's own files.
            loader = spec.loader
            exec(loader.source_to_code(loader.get_data(path), path), vars(module))  # noqa: S102
        finally:
            # importlib and traceback look builtins up at call time: undo
            # whatever the submission did to them before we go on.
            vars(builtins).update(_ORIGINAL_BUILTINS)
    except SyntaxError as exc:
        report = {
            "status": "failed",
            "error": {"type": type(exc).__name__, "message": exc.msg,
                      "where": f"line {exc.lineno}"},
        }
        return None, report
    except BaseException as exc:  # noqa: BLE001 - the names defined so far are still graded
        report["errors"].append(_describe_exception(exc, path))
    report["cell_errors"] = list(getattr(module, "__advpy_cell_errors__", []))[:50]
    report["defined"] = _public_names(module)
    return module, report


def _run_probe(config: dict, request: dict, out_fd: int, go_fd: int, source) -> dict:
    probe_module, probe_name = request["probe"]
    probe = getattr(importlib.import_module(probe_module), probe_name)
    # The submission gets fresh copies of our modules if it imports them, so
    # patching them cannot change the probe that judges it.
    for name in [n for n in sys.modules if n == "autograder" or n.startswith("autograder.")]:
        del sys.modules[name]
    if _NOTEBOOK:
        fresh = sys.modules[NOTEBOOK_MODULE] = type(sys)(NOTEBOOK_MODULE)
        fresh.__file__ = _NOTEBOOK["path"]
        exec(_NOTEBOOK["code"], vars(fresh))  # noqa: S102 - our own module, compiled by the supervisor
        fresh.COMPILED = _NOTEBOOK["cells"]
    module, report = load(config)
    if (probe_module, probe_name) == ("autograder.probes.common", "load_report"):
        return {"status": "ok", "result": report}
    # Loaded: the supervisor takes its "go" readings (clock, CPU) and only then
    # lets the probe start, so the window it measures is the probe's alone.
    _write(out_fd, LOADED)
    if _read(go_fd, 1) != b"g":
        _exit(0)
    if module is None:
        return {"status": "unloadable", "report": report}
    kwargs = dict(request["kwargs"])
    if source is not None:
        kwargs["source"] = source
    try:
        try:
            result = probe(module, *request["args"], **kwargs)
        finally:
            vars(builtins).update(_ORIGINAL_BUILTINS)
    except BaseException as exc:  # noqa: BLE001 - reported to the judge as the student's exception
        return {"status": "raised", "error": _describe_exception(exc, config["path"])}
    return {"status": "ok", "result": result}


def _encoder():
    """A JSON encoder made of C parts only, taken now: json.dumps and
    JSONEncoder are Python code whose module globals a submission can rebind."""
    from json import encoder

    def default(value, _repr=repr):
        return _repr(value)

    if encoder.c_make_encoder is None:  # a Python without the _json accelerator
        return lambda value, _dumps=json.dumps: _dumps(value, default=repr)
    make, escape = encoder.c_make_encoder, encoder.c_encode_basestring_ascii

    def encode(value, _make=make, _escape=escape, _default=default, _join="".join):
        return _join(_make({}, _default, _escape, None, ": ", ", ", False, False, True)(value, 0))

    return encode


_encode = _encoder()


def _signer(wake_r: int, done_w: int, out_fd: int, pads: tuple[bytes, bytes], main: int,
            tail, blocked, *, _read=os.read, _write=os.write, _frames=sys._current_frames,
            _sha=hashlib.sha256, _pack=HEADER_PACK, _bytes=bytes, _type=type) -> None:
    """The only holder of the call's key, in a thread of its own.

    It signs the answer when the main thread asks from the tail of _worker
    with every signal blocked: a submission's signal handler sees only the
    main thread's frames, and a forged request (any thread can write to the
    wake pipe) is ignored unless the main thread is really in that tail.
    """
    inner, outer = pads
    while True:
        if _read(wake_r, 1) != b"s":
            return
        frame = _frames().get(main)
        if frame is None or frame.f_code is not tail or not blocked():
            continue
        payload = frame.f_locals.get("payload")
        if _type(payload) is not _bytes:
            continue
        mac = _sha(outer + _sha(inner + payload).digest()).digest()
        data = _pack(len(payload) + len(mac)) + payload + mac
        while data:
            data = data[_write(out_fd, data):]
        _write(done_w, b"d")
        return


def _main_signals_blocked(*, _open=open, _pid=os.getpid) -> bool:
    """Whether the kernel says every catchable signal is blocked in the main thread."""
    try:
        with _open(f"/proc/{_pid()}/task/{_pid()}/status", "rb") as status:
            for line in status.read().splitlines():
                if line.startswith(b"SigBlk:"):
                    return int(line.split()[1], 16) & SIGNALS_MASK == SIGNALS_MASK
    except (OSError, ValueError):
        return False
    return False


def _finish(answer: dict, wake_w: int, done_r: int, *, _encode=_encode, _write=os.write,
            _read=os.read, _block=_signal.pthread_sigmask, _all=ALL_SIGNALS,
            _exit=os._exit) -> None:
    """The tail of a worker: with every signal blocked, encode the answer and
    have the signer thread sign and send it."""
    _block(signal.SIG_BLOCK, _all)
    try:
        payload = _encode(answer).encode()
    except (TypeError, ValueError, RecursionError, OverflowError):
        payload = _encode({"status": "raised", "error": {
            "type": "ValueError", "message": "the result could not be reported",
            "where": None}}).encode()
    # The signer reads ``payload`` from this very frame while we wait here.
    while payload:
        _write(wake_w, b"s")
        _read(done_r, 1)
        payload = None
    # Stay, with whatever we started, until the supervisor has read its
    # evidence and kills us: exiting would give our children another parent.
    while _read(done_r, 1):
        pass
    _exit(0)


def _worker(config: dict, request: dict, pipes: dict, channel: tuple[int, int],
            secret: list) -> None:
    """In the forked child: drop the channel, limit, guard, load, run the probe, answer."""
    try:
        for fd in (*channel, *pipes["supervisor"]):
            os.close(fd)
        os.setpgid(0, 0)
        # Not dumpable: no other process of the sandbox uid may read this
        # one's memory or open its /proc files (a spawned child has no hook).
        _set_dumpable(False)
        memory = config.get("memory")
        if memory:
            _setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = config.get("cpu")
        if cpu:
            _setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        wake_r, wake_w = os.pipe()
        done_r, done_w = os.pipe()
        _start_thread(_signer, (wake_r, done_w, pipes["out"], secret.pop(), _get_ident(),
                                _finish.__code__, _main_signals_blocked))
        # The key now lives in the signer thread only, out of the main thread's frames.
        if _HOOK and config.get("guard", True):
            hook, shield = _HOOK
            # No Python signal handler of ours is left for asyncio & co. to
            # replace (the guard lets the submission install none).
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            shield()
            sys.addaudithook(hook)
        source = _source(pipes.get("source"))
        try:
            result = _run_probe(config, request, pipes["out"], pipes["go"], source)
        except BaseException as exc:  # noqa: BLE001 - e.g. the submission broke our probe
            result = {"status": "raised", "error": _describe_exception(exc, config["path"])}
        # The standard library we answer with looks builtins up at call time:
        # undo whatever the submission did to them.
        vars(builtins).update(_ORIGINAL_BUILTINS)
        _finish(result, wake_w, done_r)
    except BaseException:  # noqa: BLE001 - the supervisor reports a worker that did not answer
        traceback.print_exc()
    finally:
        _exit(0)


def _source(fd: int | None):
    """The counting source: a C-level iterator over the supervisor's pipe, so
    no object of ours (nothing the student's code could rewrite) counts the
    pulls; the supervisor reads what is left in the pipe afterwards."""
    if fd is None:
        return None
    read = functools.partial(os.read, fd, ITEM.size)
    return map(functools.partial(int.from_bytes, byteorder="big"), iter(read, b""))


def _bind_prctl():
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Bound once here, before any student code: looking libc up again in every
# worker costs more than the rest of the worker's setup.
_PRCTL = _bind_prctl()


def _set_dumpable(flag: bool) -> None:
    """A non-dumpable process cannot be ptraced or have its memory or
    /proc/PID/fd opened by other processes of its uid."""
    if _PRCTL is not None:
        _PRCTL(4, int(flag), 0, 0, 0)  # PR_SET_DUMPABLE


_dropped = []  # set once by _confine: whether this process runs as the sandbox's own uid


def _count_processes() -> int:
    """How many other processes run as the sandbox uid (a fork bomb's size)."""
    if not _dropped:
        return 0
    me = os.getpid()
    return sum(1 for pid in procfs.pids()
               if pid != me and procfs.number(procfs.status(pid), b"Uid") == _dropped[0])


def _kill_strays() -> None:
    """End whatever the worker left behind, setsid() daemons included: as the
    sandbox's own uid, kill(-1) reaches every process of that uid but this one."""
    if _dropped:
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        while True:
            try:
                if _waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break


def _reap(pid: int) -> tuple[int | None, int | None, float]:
    """Kill the worker's group, wait for the worker: (exit code, signal, CPU seconds)."""
    try:
        _killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _, status, usage = os.wait4(pid, 0)
    cpu = usage.ru_utime + usage.ru_stime
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status), cpu
    return os.WEXITSTATUS(status), None, cpu


def _reading(pid: int) -> dict:
    """The clock, the worker's own and reaped children's CPU, and its memory, now."""
    stat = procfs.stat(pid) or {"cpu": 0.0, "children": 0.0}
    fields = procfs.status(pid)
    return {"t": _monotonic(), "cpu": stat["cpu"], "children": stat["children"],
            "rss": procfs.number(fields, b"VmRSS", 1024),
            "hwm": procfs.number(fields, b"VmHWM", 1024)}


def _others(worker: int) -> list[dict]:
    """Every other live process of the submission (its uid, or the worker's
    descendants), with the CPU it used: read before strays are killed."""
    me = os.getpid()
    stats = {}
    for pid in procfs.pids():
        if pid not in (me, worker):
            stat = procfs.stat(pid)
            if stat is not None:
                stats[pid] = stat
    mine = {worker}
    for _ in range(len(stats)):
        grown = {pid for pid, stat in stats.items() if stat["ppid"] in mine} - mine
        if not grown:
            break
        mine |= grown
    found = []
    for pid, stat in stats.items():
        fields = procfs.status(pid) if pid in mine or _dropped else None
        if pid in mine or (fields and procfs.number(fields, b"Uid") == _dropped[0]):
            found.append({"pid": pid, "ppid": stat["ppid"], "cpu": stat["cpu"],
                          "threads": stat["threads"],
                          "faults": stat["faults"] + stat["child_faults"],
                          "rss": procfs.number(fields, b"VmRSS", 1024),
                          "hwm": procfs.number(fields, b"VmHWM", 1024)})
    return found[:500]


def _around(request: dict) -> object:
    """A calibration of ours, run here in the supervisor where no student code runs."""
    spec = request.get("around")
    if not spec:
        return None
    module, name, args = spec
    return getattr(importlib.import_module(module), name)(*args)


def _source_pipe(request: dict) -> list[int] | None:
    """The counting source's pipe, filled with consecutive items: [read end,
    write end (-1 once closed), our own copy of the read end, items written]."""
    length = request.get("source")
    if length is None:
        return None
    read_fd, write_fd = os.pipe()
    count = SOURCE_ITEMS if length < 0 else min(length, SOURCE_ITEMS)
    data = b"".join(ITEM.pack(i) for i in range(count))
    os.set_blocking(write_fd, False)
    written = os.write(write_fd, data) if data else 0
    os.set_blocking(write_fd, True)
    if written != len(data):
        raise OSError("the counting source did not fit in its pipe")
    if length >= 0:
        os.close(write_fd)
        write_fd = -1
    return [read_fd, write_fd, os.dup(read_fd), count]


def _pulled(pipe: list[int] | None) -> int | None:
    """Items taken from the source, from what is left in the kernel's pipe:
    left must be exactly the untaken tail (a pipe only appends, so nothing
    can be put back in front of it); anything else counts as tampering."""
    if pipe is None:
        return None
    _, write_fd, ours, count = pipe
    if write_fd >= 0:
        os.close(write_fd)
    os.set_blocking(ours, False)
    left = b""
    try:
        while chunk := os.read(ours, 1 << 16):
            left += chunk
    except BlockingIOError:
        pass
    os.close(ours)
    if len(left) % ITEM.size:
        return -1
    items = [ITEM.unpack_from(left, i)[0] for i in range(0, len(left), ITEM.size)]
    taken = count - len(items)
    return taken if items == list(range(taken, count)) else -1


def run_in_fork(config: dict, request: dict, channel: tuple[int, int]) -> dict:
    """Run one probe call in a fresh worker and return its answer with a status.

    The worker's pipe must carry the LOADED marker first (unless the call only
    asks what loaded), then exactly one frame signed with this call's key; a
    submission that writes its own frames to the pipe fails the call instead
    of passing it. With ``evidence``, the answer also carries what this side
    saw of the call: clock and CPU readings at go and at the end, the other
    live processes, the source's pulls, and a calibration run around it.
    """
    want = bool(request.get("evidence"))
    # The supervisor's own time on evidence and on calibrations, for the benchmark.
    spent, calibrating = 0.0, _monotonic()
    around = {"before": _around(request)} if request.get("around") else None
    calibrating = _monotonic() - calibrating
    read_fd, write_fd = os.pipe()
    go_r, go_w = os.pipe()
    source = _source_pipe(request)
    key = os.urandom(32)
    pads = (bytes(b ^ 0x36 for b in key.ljust(64, b"\0")),
            bytes(b ^ 0x5C for b in key.ljust(64, b"\0")))
    theirs = {"out": write_fd, "go": go_r, "source": source[0] if source else None,
              "supervisor": [read_fd, go_w] + ([source[2]] + ([source[1]] if source[1] >= 0
                                                                  else []) if source else [])}
    marker_expected = request["probe"][1] != "load_report"
    secret = [pads]
    pid = _fork()
    if pid == 0:
        key = pads = None  # the worker's main thread keeps no copy of the key
        _worker(config, request, theirs, channel, secret)
    key_check = hmac.new(key, digestmod="sha256")
    os.close(write_fd)
    os.close(go_r)
    if source:
        os.close(source[0])
    timeout = float(request.get("timeout", 5.0))
    load_timeout = float(config.get("load_timeout", 10.0))
    started = _monotonic()
    deadline = started + load_timeout
    loaded_at = None
    buffer = b""
    phase = "load"
    go = end = None
    watch = _Watch(pid, request.get("memory"), source if source and source[1] >= 0 else None)
    while True:
        remaining = deadline - _monotonic()
        if remaining <= 0:
            break
        if phase == "probe" and watch.active:
            if watch.over_cap():
                phase = "memory"
                break
            watch.end_drained_source()
            remaining = min(remaining, WATCH_SECONDS)
        ready, _, _ = _select([read_fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            phase = "done"
            break
        buffer += chunk
        if marker_expected and loaded_at is None and len(buffer) >= len(LOADED):
            if not buffer.startswith(LOADED):
                phase = "done"  # something other than our worker wrote first
                break
            spent -= _monotonic()
            go = _reading(pid) if want else None
            spent += _monotonic()
            try:
                os.write(go_w, b"g")
            except OSError:
                pass
            loaded_at = _monotonic()
            deadline = loaded_at + timeout
            phase = "probe"
            watch.start()
            buffer = buffer[len(LOADED):]
        if (loaded_at or not marker_expected) and len(buffer) >= wire.HEADER.size:
            (size,) = wire.HEADER.unpack(buffer[: wire.HEADER.size])
            if len(buffer) >= wire.HEADER.size + size:
                # A whole answer: do not wait for end of file, which a
                # process that inherited the pipe could hold off forever.
                phase = "done"
                break
        if len(buffer) > RESULT_LIMIT:
            phase = "done"
            break
    if want:
        spent -= _monotonic()
        end = _reading(pid)
        live = _others(pid)
        spent += _monotonic()
    os.close(read_fd)
    os.close(go_w)
    finished = _monotonic()
    crowd = _count_processes() if phase != "done" else 0
    code, sig, cpu = _reap(pid)
    _kill_strays()
    answer = _judge_buffer(buffer, phase, loaded_at, marker_expected, key_check, code, sig,
                           timeout, load_timeout, crowd)
    answer["elapsed"] = finished - (loaded_at or started)
    answer["cpu"] = cpu
    pulled = _pulled(source)
    if want:
        if around is not None:
            calibrating -= _monotonic()
            around["after"] = _around(request)
            calibrating += _monotonic()
        answer["evidence_seconds"] = spent
        answer["around_seconds"] = calibrating
        answer["evidence"] = {"pid": pid, "go": go, "end": end, "live": live,
                              "pulled": pulled, "around": around}
        if pulled == -1:
            answer = {"status": "tampered", "elapsed": answer["elapsed"], "cpu": cpu}
    return answer


class _Watch:
    """What the supervisor looks at while a call runs, to end it as soon as
    the kernel's evidence decides it:

    - ``memory``: a cap on how much the worker's resident memory may grow
      once the probe starts (the kernel's VmRSS, read here). A test that
      expects next to nothing (a lazy generator of 10**18 items) sets it far
      above what any lazy code needs, so eager code is stopped within a
      fraction of a second instead of building until the time-out;
    - an endless counting source whose every item was taken: no test allows
      that many pulls, and the next read would wait forever, so the source
      ends there (the write end is closed): code that reads it whole then
      answers at once, with every item pulled, instead of hanging."""

    def __init__(self, pid: int, memory, source: list[int] | None) -> None:
        self.pid = pid
        self.cap = memory if isinstance(memory, int) and memory > 0 else None
        self.source = source
        self.base: int | None = None

    @property
    def active(self) -> bool:
        return self.cap is not None or self.source is not None

    def start(self) -> None:
        if self.cap is not None:
            self.base = procfs.number(procfs.status(self.pid), b"VmRSS", 1024)

    def over_cap(self) -> bool:
        if self.cap is None or self.base is None:
            return False
        now = procfs.number(procfs.status(self.pid), b"VmRSS", 1024)
        return now is not None and now - self.base > self.cap

    def end_drained_source(self) -> None:
        if self.source is None:
            return
        _, write_fd, ours, _ = self.source
        left = bytearray(4)
        try:
            fcntl.ioctl(ours, termios.FIONREAD, left)
        except OSError:
            return
        if int.from_bytes(left, sys.byteorder) == 0:
            os.close(write_fd)
            self.source[1] = -1
            self.source = None


def _judge_buffer(buffer: bytes, phase: str, loaded_at, marker_expected: bool, key_check,
                  code, sig, timeout: float, load_timeout: float, crowd: int) -> dict:
    """What the worker's pipe says: an answer, or why there is none."""
    if phase == "memory":
        return {"status": "memory"}
    if phase == "load":
        return {"status": "load-timeout", "seconds": load_timeout}
    if phase == "probe":
        return {"status": "timeout", "seconds": timeout, "processes": crowd}
    if len(buffer) > RESULT_LIMIT:
        return {"status": "raised", "error": {
            "type": "OutputError", "message": "the result was too large to report", "where": None}}
    if not buffer and (code != 0 or sig):
        return {"status": "died", "code": code, "signal": sig}
    answer = None
    if len(buffer) >= wire.HEADER.size + 32 and (loaded_at or not marker_expected):
        (size,) = wire.HEADER.unpack(buffer[: wire.HEADER.size])
        body = buffer[wire.HEADER.size:]
        if len(body) == size:
            payload, mac = body[:-32], body[-32:]
            check = key_check.copy()
            check.update(payload)
            if hmac.compare_digest(mac, check.digest()):
                try:
                    answer = _loads(payload)
                except ValueError:
                    answer = None
                except RecursionError:  # signed, so ours: a result nested too deep
                    return {"status": "raised", "error": {
                        "type": "ValueError", "message": "the result was nested too deeply "
                        "to report", "where": None}}
    if isinstance(answer, dict) and isinstance(answer.get("status"), str):
        return answer
    if not buffer:
        return {"status": "died", "code": code, "signal": sig}
    return {"status": "tampered"}


def _confine(config: dict) -> None:
    """Limits for this process and all it starts; then, if we were started as
    root, become the sandbox's own uid for good (RLIMIT_NPROC binds it)."""
    _setrlimit(resource.RLIMIT_CORE, (0, 0))
    _setrlimit(resource.RLIMIT_FSIZE, (config["file_size"], config["file_size"]))
    uid = config.get("uid")
    if uid is not None and os.geteuid() == 0:
        _setrlimit(resource.RLIMIT_NPROC, (config["processes"], config["processes"]))
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        _dropped.append(uid)


def _prepare_notebook(path: str) -> None:
    """When the submission is a module made from a notebook: compile our
    notebook module, and the notebook's cells (up to PRECOMPILE_BYTES), here
    once rather than in every worker (compiling runs none of the student's code)."""
    notebook = sys.modules.get(NOTEBOOK_MODULE)
    if notebook is None:
        return
    try:
        with open(path, "rb") as handle:
            source = handle.read(PRECOMPILE_BYTES + 1)
        if b"__advpy_run_cells__" not in source[:4096]:
            return  # written by the grader at the top of a notebook's module
        with open(notebook.__file__, "rb") as handle:
            code = compile(handle.read(), notebook.__file__, "exec", dont_inherit=True)
        cells = notebook.cells_of(source) if len(source) <= PRECOMPILE_BYTES else None
        compiled = notebook.compile_cells(path, cells) if cells else {}
    except (OSError, MemoryError, RecursionError):
        return  # each worker imports and compiles them itself, as for any module
    _NOTEBOOK.update(code=code, path=notebook.__file__, cells=compiled)


def main() -> None:
    """Serve probe calls until the grader closes the request pipe."""
    channel = (int(sys.argv[1]), int(sys.argv[2]))
    request_fd, answer_fd = channel
    config = _pickle_loads(_read_frame(request_fd))
    _confine(config)
    _set_dumpable(False)
    # Import our probe modules once here, so that no worker pays for them.
    for name in config.get("preload", ()):
        importlib.import_module(name)
    from autograder.probes import guard

    # Made once here; each worker adds it before the submission loads.
    _HOOK.extend((guard.make_hook(sorted(n for n in sys.modules if n == "autograder"
                                         or n.startswith("autograder."))), guard.shield))
    _prepare_notebook(config["path"])
    _send(answer_fd, {"status": "ready"})  # no student code has run yet
    while True:
        frame = _read_frame(request_fd)
        if frame is None:
            break
        _send(answer_fd, run_in_fork(config, _pickle_loads(frame), channel))
    _exit(0)
