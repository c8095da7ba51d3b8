"""The grader's side of the student process: start it, call probes in it, end it.

The student process speaks JSON on a pipe; this side never unpickles what it
sends, bounds what it prints, and kills the whole process tree at the end.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import ChannelBroken
from autograder.probes import procfs, wire
from autograder.sandbox import Launch

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
BOOT = (
    # No name of ours is left in __main__, where a submission could find it.
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "__import__('autograder.probes.runner', fromlist=['main']).main()"
)


PROBES = PACKAGE_ROOT / "autograder" / "probes"
PROBE_MODULES = sorted(f"autograder.probes.{path.stem}" for path in PROBES.glob("*.py")
                       if path.stem not in ("__init__", "runner"))


# Time a calibration run of ours may take, before and after a call (see runner._around).
AROUND_SECONDS = 30.0


class SandboxFailed(RuntimeError):
    """The student process could not start: the grader's fault, never the student's."""


@dataclass
class Limits:
    """What one submission may use. Every field is named in the feedback when hit."""

    memory: int = 2 * 1024**3  # address space of each of its processes, bytes
    processes: int = 256  # processes and threads of its uid (RLIMIT_NPROC)
    cpu: int = 60  # CPU seconds of one probe call (RLIMIT_CPU)
    file_size: int = 64 * 1024 * 1024  # largest file it may write (RLIMIT_FSIZE)
    load_timeout: float = 10.0  # seconds to import the submission
    submission_seconds: float = 300.0  # wall-clock budget of the whole submission
    submission_cpu: float = 300.0  # CPU seconds of all its probe calls together
    output: int = 64 * 1024  # bytes of its output the grader keeps
    grace: float = 5.0


@dataclass
class _Output:
    """The first ``limit`` bytes the student process printed; the rest is drained and counted."""

    limit: int
    kept: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def drain(self, stream) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            room = self.limit - len(self.kept)
            self.kept += chunk[:room]
            self.dropped += max(0, len(chunk) - room)


class StudentProcess:
    """One submission's supervisor process; each ``call`` runs in a fresh fork of it."""

    def __init__(self, module_path: Path, module_name: str, limits: Limits | None = None,
                 launch: Launch | None = None, *, guard: bool = True) -> None:
        self.module_path = Path(module_path)
        self.guard = guard
        self.module_name = module_name
        self.limits = limits or Limits()
        self.launch = launch or Launch(prefix=[], package_root=str(PACKAGE_ROOT),
                                       module_path=str(self.module_path),
                                       cwd=str(self.module_path.parent))
        self._proc: subprocess.Popen | None = None
        self._output = _Output(self.limits.output)
        self.cpu_used = 0.0

    @property
    def output(self) -> str:
        text = self._output.kept.decode(errors="replace")
        if self._output.dropped:
            text += f"\n[… {self._output.dropped} more bytes of output dropped]"
        return text

    def _start(self) -> None:
        request_r, request_w = os.pipe()
        answer_r, answer_w = os.pipe()
        launch = self.launch
        argv = launch.command([sys.executable, "-I", "-c", BOOT, launch.package_root,
                               str(request_r), str(answer_w)])
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
               "HOME": launch.cwd, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
               **launch.env}
        try:
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                pass_fds=(request_r, answer_w), env=env, cwd=launch.cwd, start_new_session=True)
        finally:
            os.close(request_r)
            os.close(answer_w)
        self._request_fd, self._answer_fd = request_w, answer_r
        threading.Thread(target=self._output.drain, args=(self._proc.stdout,), daemon=True).start()
        limits = self.limits
        config = {"path": launch.module_path, "module": self.module_name, "uid": launch.uid,
                  "memory": limits.memory, "processes": limits.processes, "cpu": limits.cpu,
                  "file_size": limits.file_size, "load_timeout": limits.load_timeout,
                  "preload": PROBE_MODULES, "guard": self.guard}
        # No student code runs before "ready": whatever goes wrong until then
        # (a wrapper that exits at once breaks the pipe) is the grader's fault.
        try:
            wire.write_frame(self._request_fd, _pickle(config))
            ready, _, _ = select.select([self._answer_fd], [], [], 30)
            frame = wire.read_frame(self._answer_fd) if ready else None
            answer = json.loads(frame) if frame is not None else None
            started = isinstance(answer, dict) and answer.get("status") == "ready"
        except (OSError, ValueError, wire.FrameTooLarge):
            started = False
        if not started:
            self.close()
            time.sleep(0.1)
            raise SandboxFailed(f"the student process did not start: {self.output[-500:]!r}")

    def call(self, probe, args: tuple = (), kwargs: dict | None = None,
             timeout: float = 5.0, options: dict | None = None) -> dict:
        """Run ``probe(module, *args, **kwargs)`` in a fresh worker; return its raw answer.

        The answer is a dict with a ``status`` of ok, raised, timeout,
        load-timeout, died or unloadable. Raises ChannelBroken if the supervisor
        itself misbehaved; the next call then starts a new one.
        """
        if self._proc is None or self._proc.poll() is not None:
            self.close()
            self._start()
        request = {"probe": (probe.__module__, probe.__name__), "args": tuple(args),
                   "kwargs": dict(kwargs or {}), "timeout": timeout, **(options or {})}
        try:
            wire.write_frame(self._request_fd, _pickle(request))
            deadline = self.limits.load_timeout + timeout + self.limits.grace
            if request.get("around"):
                deadline += AROUND_SECONDS
            ready, _, _ = select.select([self._answer_fd], [], [], deadline)
            if not ready:
                raise ChannelBroken(f"no answer within {deadline:g} s")
            frame = wire.read_frame(self._answer_fd)
            if frame is None:
                raise ChannelBroken("the student process ended")
            answer = json.loads(frame)
            if not isinstance(answer, dict) or not isinstance(answer.get("status"), str):
                raise ChannelBroken("the answer was not a status report")
            if isinstance(answer.get("cpu"), (int, float)):
                self.cpu_used += max(0.0, float(answer["cpu"]))
            return answer
        except (OSError, ValueError, RecursionError, wire.FrameTooLarge) as exc:
            self.close()
            raise ChannelBroken(str(exc)) from exc
        except ChannelBroken:
            self.close()
            raise

    def close(self) -> None:
        """End the supervisor and everything in its session."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for fd in (self._request_fd, self._answer_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        _kill_session_and_uid(proc.pid, self.launch.uid)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> StudentProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _pickle(obj) -> bytes:
    import pickle

    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def _processes(match) -> list[int]:
    """Live (not zombie) processes whose /proc/PID/status fields satisfy ``match``."""
    found = []
    for pid in procfs.pids():
        fields = procfs.status(pid)
        if fields and not fields.get(b"State", b"").strip().startswith(b"Z") and match(fields):
            found.append(pid)
    return found


def _kill_all(find) -> None:
    for attempt in range(6):
        victims = find()
        if not victims:
            return
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.001 * 2**attempt)


def _kill_session_and_uid(sid: int, uid: int | None) -> None:
    """SIGKILL every process whose session is ``sid`` (the workers' own groups
    included) and every process of the sandbox's own ``uid`` (what escaped the
    session dies too), in one pass over /proc."""
    # NSsid lists the session id in each PID namespace, ours (the outermost
    # that /proc shows) first.
    _kill_all(lambda: _processes(lambda f: int(f[b"NSsid"].split()[0]) == sid
                                 or (uid is not None and int(f[b"Uid"].split()[0]) == uid)))
