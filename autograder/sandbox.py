"""Isolation for the student process.

``bubblewrap``: its own mount, PID, network, IPC and UTS namespaces and
session; a read-only view of the system and of the Python installation, a
private size-limited /tmp, the submission folder read-only, our probes and
nothing else of ours (no hidden tests, no solutions, no other submission);
no network; a non-root uid (when the grader is root) so RLIMIT_NPROC bounds
fork bombs; a pids and memory cgroup where the machine lets us make one.

``process``: where bubblewrap cannot run (an unprivileged container such as
Gradescope's), the same process limits and uid, and our hidden files made
unreadable to that uid. ``none``: a plain child process (for debugging).
"""

from __future__ import annotations

import itertools
import os
import shlex
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
INSIDE_ROOT = "/opt/advpy"
INSIDE_SUBMISSION = "/submission"
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
UID_BASE = 60000
_counter = itertools.count()


@dataclass
class Launch:
    """How to start one student process under one kind of isolation."""

    prefix: list[str]
    package_root: str
    module_path: str
    cwd: str
    uid: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    cgroup: Cgroup | None = None

    def command(self, argv: list[str]) -> list[str]:
        """The whole command: join the cgroup (if any), then the wrapper, then argv."""
        joins = self.cgroup.join_command() if self.cgroup else []
        return [*joins, *self.prefix, *argv]


@dataclass
class Cgroup:
    """A memory and pids cgroup (v2, or v1 controllers) around one student
    process tree, where this machine lets us make one: the memory limit then
    holds for the whole submission, not only for each of its processes."""

    dirs: list[Path]

    @classmethod
    def create(cls, memory: int, pids: int) -> Cgroup | None:
        name = f"advpy-{os.getpid()}-{next(_counter)}"
        unified = Path("/sys/fs/cgroup")
        made: list[Path] = []
        try:
            if (unified / "cgroup.controllers").is_file():
                controllers = (unified / "cgroup.subtree_control").read_text().split()
                if not {"memory", "pids"} <= set(controllers):
                    return None
                made.append(unified / name)
                made[0].mkdir()
                (made[0] / "memory.max").write_text(str(memory))
                (made[0] / "memory.swap.max").write_text("0")
                (made[0] / "pids.max").write_text(str(pids))
            else:
                for controller, file, value in (("memory", "memory.limit_in_bytes", memory),
                                                 ("pids", "pids.max", pids)):
                    folder = unified / controller / name
                    folder.mkdir()
                    made.append(folder)
                    (folder / file).write_text(str(value))
        except OSError:
            cls(made).remove()
            return None
        return cls(made)

    def join_command(self) -> list[str]:
        script = " && ".join(f"echo $$ > {shlex.quote(str(d / 'cgroup.procs'))}"
                             for d in self.dirs)
        return ["/bin/sh", "-c", script + ' && exec "$@"', "sh"]

    def oom_killed(self) -> bool:
        for folder in self.dirs:
            for file, key in (("memory.events", "oom_kill"), ("memory.oom_control", "oom_kill")):
                try:
                    fields = dict(line.split() for line in (folder / file).read_text().splitlines())
                except (OSError, ValueError):
                    continue
                if int(fields.get(key, 0)):
                    return True
        return False

    def remove(self) -> None:
        for folder in self.dirs:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)  # its last processes are still being reaped


def sandbox_uid() -> int | None:
    """A uid of its own for this grader process's students, when we are root:
    RLIMIT_NPROC binds it, and it owns none of our files."""
    return UID_BASE + os.getpid() % 4000 if os.geteuid() == 0 else None


@lru_cache(maxsize=1)
def bubblewrap_works() -> bool:
    """Whether bwrap exists and can make its namespaces here (it cannot in
    most unprivileged containers)."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return False
    try:
        done = subprocess.run([bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/",
                               "--proc", "/proc", "--dev", "/dev", "true"],
                              capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _python_dirs() -> list[str]:
    dirs = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    exe = os.path.realpath(sys.executable)
    if not any(exe.startswith(d + os.sep) for d in dirs):
        dirs.add(os.path.dirname(exe))
    return sorted(dirs)


def _parents_args(path: str, made: set[str]) -> list[str]:
    """bwrap creates missing parents with the mode of the host's (0700 for
    /root); create them world-traversable instead."""
    args = []
    parts = Path(path).parts
    for depth in range(2, len(parts)):
        parent = str(Path(*parts[:depth]))
        if parent not in made and not any(parent == d or parent.startswith(d + "/")
                                          for d in SYSTEM_DIRS):
            made.add(parent)
            args += ["--perms", "0755", "--dir", parent]
    return args


def _hidden_paths() -> list[str]:
    """What the student process must never see: the whole grader package and
    the course tree (solutions, hidden tests), wherever they are installed."""
    from autograder.assignments import course_root

    paths = {str(PACKAGE)}
    try:
        paths.add(str(course_root()))
    except FileNotFoundError:
        pass
    return sorted(paths)


@dataclass
class Bubblewrap:
    name: str = "bubblewrap"
    tmp_bytes: int = 256 * 1024 * 1024

    def launch(self, module_path: Path, scratch: Path, limits) -> Launch:
        stub = scratch / "advpy-stub"
        (stub / "autograder" / "probes").mkdir(parents=True, exist_ok=True)
        (stub / "autograder" / "__init__.py").write_text("")
        _world_readable(stub)
        _world_readable(module_path.parent)
        args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session",
                "--hostname", "sandbox"]
        made = {"/tmp"}
        for path in SYSTEM_DIRS:
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        # Read-only /sys: a grader probe reads the CPU quota from the cgroup files.
        # The private /tmp comes before the Python binds, so a Python (a venv)
        # that lives under the host's /tmp is bound on top of it, not hidden.
        args += ["--ro-bind", "/sys", "/sys", "--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--tmpfs", "/dev/shm",
                 "--perms", "1777", "--size", str(self.tmp_bytes), "--tmpfs", "/tmp"]
        for path in _python_dirs():
            args += _parents_args(path, made) + ["--ro-bind", path, path]
        for hidden in _hidden_paths():
            if any(hidden == p or hidden.startswith(p + "/") for p in _python_dirs()):
                args += ["--tmpfs", hidden]
        args += _parents_args(INSIDE_ROOT, made)
        args += ["--ro-bind", str(stub), INSIDE_ROOT,
                 "--ro-bind", str(PACKAGE / "probes"), f"{INSIDE_ROOT}/autograder/probes",
                 "--ro-bind", str(module_path.parent), INSIDE_SUBMISSION,
                 "--chdir", "/tmp", "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp",
                 "--"]
        return Launch(prefix=args, package_root=INSIDE_ROOT,
                      module_path=f"{INSIDE_SUBMISSION}/{module_path.name}", cwd=str(scratch),
                      uid=sandbox_uid(), cgroup=Cgroup.create(limits.memory, limits.processes))


@dataclass
class Process:
    """No namespaces: a session of its own, limits, and (as root) a uid of its own."""

    name: str = "process"

    def launch(self, module_path: Path, scratch: Path, limits) -> Launch:
        _world_readable(module_path.parent)
        uid = sandbox_uid() if _others_can_run_python() else None
        if uid is None and os.geteuid() == 0:
            self.name = "process (as root: this Python is not readable by other users)"
        home = scratch / "home"
        home.mkdir(exist_ok=True)
        if uid is not None:
            os.chown(home, uid, uid)
            _hide_from_others(_hidden_paths())
            os.chmod(scratch, 0o711)
        package_root = _probe_copy(scratch)
        return Launch(prefix=[], package_root=str(package_root), module_path=str(module_path),
                      cwd=str(home), uid=uid, env={"HOME": str(home), "TMPDIR": str(home)},
                      cgroup=Cgroup.create(limits.memory, limits.processes))


@dataclass
class Plain:
    """A plain child process: for debugging only, it hides nothing."""

    name: str = "none"

    def launch(self, module_path: Path, scratch: Path, limits=None) -> Launch:
        return Launch(prefix=[], package_root=str(PACKAGE.parent), module_path=str(module_path),
                      cwd=str(module_path.parent))


def _others_can_run_python() -> bool:
    """Whether another uid can reach the interpreter and its standard library
    (a Python under /root cannot be run by the sandbox uid)."""
    for top in _python_dirs():
        path = Path(top)
        for folder in [path, *path.parents]:
            if not folder.stat().st_mode & stat.S_IXOTH:
                return False
    return True


def _world_readable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        os.chmod(path, mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0))


def _hide_from_others(paths: list[str]) -> None:
    """Make our own files unreadable to other uids (the process sandbox has
    no mount namespace to hide them with)."""
    for path in paths:
        try:
            os.chmod(path, os.stat(path).st_mode & ~0o007)
        except OSError:
            pass


def _probe_copy(scratch: Path) -> Path:
    """A private copy of the one part of the package the student process may
    see: ``autograder/probes``."""
    root = scratch / "advpy-package"
    (root / "autograder").mkdir(parents=True, exist_ok=True)
    (root / "autograder" / "__init__.py").write_text("")
    target = root / "autograder" / "probes"
    if not target.exists():
        shutil.copytree(PACKAGE / "probes", target,
                        ignore=shutil.ignore_patterns("__pycache__"))
    _world_readable(root)
    return root


Sandbox = Bubblewrap | Process | Plain


def choose(mode: str = "auto") -> Sandbox:
    """The sandbox for ``mode``: auto picks the strongest that works here."""
    if mode == "none":
        return Plain()
    if mode == "process":
        return Process()
    if bubblewrap_works():
        return Bubblewrap()
    if mode == "bubblewrap":
        raise RuntimeError("bubblewrap was asked for but cannot run here "
                           "(install it with: apt-get install bubblewrap)")
    return Process()
