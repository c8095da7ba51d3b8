"""The student process: a clean supervisor that forks one worker per probe call.

Started by ``autograder.child`` as ``python -I -c ...`` with two pipe file
descriptors. The supervisor never runs student code: each worker drops the
grader's channel, loads the submission afresh (so every test starts from the
module's initial state), runs one probe and answers in JSON on a pipe of its
own. ``sys.exit``, ``os._exit``, a crash, a hang or a limit hit therefore
costs that call only, and the worker's process group is killed afterwards.
"""

from __future__ import annotations

import builtins
import ctypes
import importlib
import importlib.util
import json
import os
import pickle
import resource
import select
import signal
import sys
import time
import traceback

from autograder.probes import wire

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
            spec.loader.exec_module(module)
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


def _run_probe(config: dict, request: dict, out_fd: int) -> dict:
    probe_module, probe_name = request["probe"]
    probe = getattr(importlib.import_module(probe_module), probe_name)
    # The submission gets fresh copies of our modules if it imports them, so
    # patching them cannot change the probe that judges it.
    for name in [n for n in sys.modules if n == "autograder" or n.startswith("autograder.")]:
        del sys.modules[name]
    module, report = load(config)
    if (probe_module, probe_name) == ("autograder.probes.common", "load_report"):
        return {"status": "ok", "result": report}
    _write(out_fd, LOADED)
    if module is None:
        return {"status": "unloadable", "report": report}
    try:
        try:
            result = probe(module, *request["args"], **request["kwargs"])
        finally:
            vars(builtins).update(_ORIGINAL_BUILTINS)
    except BaseException as exc:  # noqa: BLE001 - reported to the judge as the student's exception
        return {"status": "raised", "error": _describe_exception(exc, config["path"])}
    return {"status": "ok", "result": result}


def _worker(config: dict, request: dict, out_fd: int, channel: tuple[int, int],
            nonce: str) -> None:
    """In the forked child: drop the channel, limit, load, run the probe, answer, vanish."""
    try:
        for fd in channel:
            os.close(fd)
        os.setpgid(0, 0)
        _set_dumpable(True)
        memory = config.get("memory")
        if memory:
            _setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = config.get("cpu")
        if cpu:
            _setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        try:
            answer = _run_probe(config, request, out_fd)
        except BaseException as exc:  # noqa: BLE001 - e.g. the submission broke our probe
            answer = {"status": "raised", "error": _describe_exception(exc, config["path"])}
        # The standard library we answer with (json) looks builtins up at call
        # time: undo whatever the submission did to them.
        vars(builtins).update(_ORIGINAL_BUILTINS)
        answer["nonce"] = nonce
        try:
            payload = _dumps(answer, default=repr).encode()
        except (TypeError, ValueError, RecursionError):
            payload = _dumps({"status": "raised", "error": {
                "type": "ValueError", "message": "the result could not be reported",
                "where": None}, "nonce": nonce}).encode()
        _write_frame(out_fd, payload)
    except BaseException:  # noqa: BLE001 - the supervisor reports a worker that did not answer
        traceback.print_exc()
    finally:
        _exit(0)


def _set_dumpable(flag: bool) -> None:
    """A non-dumpable supervisor cannot be ptraced or have its /proc/PID/fd opened
    by the workers, which share its uid."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, int(flag), 0, 0, 0)  # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        pass


_dropped = []  # set once by _confine: whether this process runs as the sandbox's own uid


def _count_processes() -> int:
    """How many other processes run as the sandbox uid (a fork bomb's size)."""
    if not _dropped:
        return 0
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                count += os.stat(f"/proc/{entry}").st_uid == _dropped[0]
            except OSError:
                pass
    return count


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


def run_in_fork(config: dict, request: dict, channel: tuple[int, int]) -> dict:
    """Run one probe call in a fresh worker and return its answer with a status.

    The worker's pipe must carry the LOADED marker first (unless the call only
    asks what loaded), then exactly one frame holding this call's nonce; a
    submission that writes its own frames to the pipe fails the call instead
    of passing it.
    """
    read_fd, write_fd = os.pipe()
    nonce = os.urandom(12).hex()
    marker_expected = request["probe"][1] != "load_report"
    pid = _fork()
    if pid == 0:
        os.close(read_fd)
        _worker(config, request, write_fd, channel, nonce)
    os.close(write_fd)
    timeout = float(request.get("timeout", 5.0))
    load_timeout = float(config.get("load_timeout", 10.0))
    started = _monotonic()
    deadline = started + load_timeout
    loaded_at = None
    buffer = b""
    phase = "load"
    while True:
        remaining = deadline - _monotonic()
        if remaining <= 0:
            break
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
            loaded_at = _monotonic()
            deadline = loaded_at + timeout
            phase = "probe"
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
    os.close(read_fd)
    end = _monotonic()
    crowd = _count_processes() if phase != "done" else 0
    code, sig, cpu = _reap(pid)
    _kill_strays()
    answer = _judge_buffer(buffer, phase, loaded_at, marker_expected, nonce, code, sig,
                           timeout, load_timeout, crowd)
    answer["elapsed"] = end - (loaded_at or started)
    answer["cpu"] = cpu
    return answer


def _judge_buffer(buffer: bytes, phase: str, loaded_at, marker_expected: bool, nonce: str,
                  code, sig, timeout: float, load_timeout: float, crowd: int) -> dict:
    """What the worker's pipe says: an answer, or why there is none."""
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
    if len(buffer) >= wire.HEADER.size and (loaded_at or not marker_expected):
        (size,) = wire.HEADER.unpack(buffer[: wire.HEADER.size])
        body = buffer[wire.HEADER.size:]
        if len(body) == size:
            try:
                answer = _loads(body)
            except ValueError:
                answer = None
    if isinstance(answer, dict) and answer.pop("nonce", None) == nonce:
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
    _send(answer_fd, {"status": "ready"})  # no student code has run yet
    while True:
        frame = _read_frame(request_fd)
        if frame is None:
            break
        _send(answer_fd, run_in_fork(config, _pickle_loads(frame), channel))
    _exit(0)
