"""Isolation for the student process.

``bubblewrap``: its own mount, PID, network, IPC and UTS namespaces and
session; a read-only view of the system and of the Python installation, a
private size-limited /tmp, the submission folder read-only, our probes and
nothing else of ours (no hidden tests, no solutions, no other submission);
no network; a non-root uid (when the grader is root) so RLIMIT_NPROC bounds
fork bombs; a pids and memory cgroup where the machine lets us make one.

``namespaces``: the same view built without bubblewrap, when the grader is
root: util-linux ``unshare`` makes the namespaces, a shell script mounts a new
root (system folders and the Python installation read-only at their own
paths, world-traversable parents, nothing of ours but the probes) and
``pivot_root``s into it; the supervisor then drops to the sandbox uid.

``process``: where no namespace can be made (an unprivileged container such
as Gradescope's), the same limits and uid, and our files made unreadable to
that uid. It protects only when it can drop to that uid: as root, with a
Python that other users can run.

``none``: a plain child process that hides nothing (debugging, or code that
is one's own). ``choose`` never hands out a sandbox that runs student code as
root with our files readable: it raises ``Unprotected`` and says what to do.

What to hide is the caller's knowledge (the engine knows the course); this
module knows only the system, the Python installation and its own package.
"""

from __future__ import annotations

import itertools
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
INSIDE_ROOT = "/opt/advpy"
INSIDE_SUBMISSION = "/submission"
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
UID_BASE = 60000
OWNERS, SLOTS = 4000, 64  # sandbox uids: by the grading run's pid, and by its job
MODES = ("auto", "bubblewrap", "namespaces", "process", "none")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
TMP_BYTES = 256 * 1024 * 1024
WHAT_TO_DO = ("install bubblewrap (apt-get install bubblewrap), or run as root so that "
              "namespaces can be made, or pass --sandbox none to grade without protection")
TOOLS = ("unshare", "setpriv", "mount", "umount", "pivot_root", "findmnt", "env")
TOOLS_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
_counter = itertools.count()


class Unprotected(RuntimeError):
    """No isolation that keeps our files from the student's code works here."""


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


def sandbox_uid(slot: int = 0, owner: int | None = None) -> int | None:
    """A uid of its own for the students of one job (``slot``) of a grading
    run (started by process ``owner``, this one by default), when we are
    root: RLIMIT_NPROC binds it, it owns none of our files, and killing every
    process of one job's uid leaves the other jobs' students alone."""
    if os.geteuid() != 0:
        return None
    owner = os.getpid() if owner is None else owner
    return UID_BASE + owner % OWNERS + OWNERS * (slot % SLOTS)


def sandbox_uids(owner: int | None = None) -> set[int]:
    """Every uid that the jobs of a grading run (see ``sandbox_uid``) may use."""
    return {uid for slot in range(SLOTS) if (uid := sandbox_uid(slot, owner)) is not None}


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


def namespaces_work() -> bool:
    """Whether the ``namespaces`` sandbox can be built here."""
    return namespaces_problem() is None


@lru_cache(maxsize=1)
def namespaces_problem() -> str | None:
    """Why the ``namespaces`` sandbox cannot be built here, or None if it can:
    builds one for real and runs, as the sandbox uid, the Python a student
    process runs, which must see the submission and our probes and not our package."""
    if os.geteuid() != 0:
        return "namespaces need root"
    missing = [tool for tool in TOOLS if not _tool(tool)]
    if missing:
        return f"{', '.join(missing)} not found (apt-get install util-linux mount)"
    uid = sandbox_uid()
    check = ("import json, multiprocessing, os, sys; sys.path.insert(0, sys.argv[1]); "
             "import autograder.probes.wire; open(sys.argv[2]).read(); "
             "assert os.getuid() != 0 and not os.path.exists(sys.argv[3]), 'not isolated'")
    with tempfile.TemporaryDirectory(prefix="advpy-ns-check-") as scratch:
        work = Path(scratch) / "work"
        work.mkdir()
        (work / "probe.py").write_text("")
        launch = Namespaces().launch(work / "probe.py", Path(scratch), None)
        argv = launch.command(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                               "--", sys.executable, "-I", "-c", check, launch.package_root,
                               launch.module_path, str(PACKAGE)])
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                                  cwd=launch.cwd, env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"unshare failed ({exc})"
    if done.returncode != 0:
        return f"unshare failed: {done.stderr.strip()[-300:] or done.returncode}"
    return None


def _tool(name: str) -> str | None:
    """Where a util-linux tool is (pivot_root lives in sbin, which a user's PATH may lack)."""
    return shutil.which(name, path=TOOLS_PATH)


def process_protects() -> bool:
    """Whether the ``process`` sandbox keeps our files from the student: only
    as root (it drops to the sandbox uid) with a Python other users can run."""
    return os.geteuid() == 0 and _others_can_run_python()


def _python_dirs() -> list[str]:
    dirs = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    exe = os.path.realpath(sys.executable)
    if not any(exe.startswith(d + os.sep) for d in dirs):
        dirs.add(os.path.dirname(exe))
    return sorted(dirs)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _hidden(paths: Iterable[str | os.PathLike]) -> list[str]:
    """What the student process must never see, made absolute: what the caller
    names (the course, hidden tests, the submissions), and always our own package.
    A path inside another is hidden with it (an installed course lives in the
    package): covering both would mount into a covered, read-only folder."""
    every = sorted({os.path.realpath(PACKAGE), *(os.path.realpath(p) for p in paths)})
    return [p for p in every if not any(_inside(p, q) and p != q for q in every)]


def _bound_dirs() -> list[str]:
    """The host folders the student's view shows at their own paths."""
    system = [os.path.realpath(d) for d in SYSTEM_DIRS if os.path.isdir(d)]
    return sorted({*system, *_python_dirs()})


def _to_cover(hidden: list[str]) -> list[str]:
    """The hidden paths that the student's view would show (e.g. advpy
    installed in the Python it runs): they get an empty tmpfs on top."""
    bound = _bound_dirs()
    return [h for h in hidden if os.path.isdir(h)
            and any(_inside(h, b) and h != b for b in bound)]


def _pythons_inside(folder: str) -> list[str]:
    """The Python installation's folders under a hidden ``folder``: shown again."""
    return [p for p in _python_dirs() if _inside(p, folder) and p != folder]


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


def _stub_package(scratch: Path) -> Path:
    """An empty ``autograder`` package whose ``probes`` our probes are mounted on."""
    stub = scratch / "advpy-stub"
    (stub / "autograder" / "probes").mkdir(parents=True, exist_ok=True)
    (stub / "autograder" / "__init__.py").write_text("")
    _world_readable(stub)
    return stub


@dataclass
class Bubblewrap:
    name: str = "bubblewrap"
    tmp_bytes: int = TMP_BYTES
    slot: int = 0  # the job whose sandbox uid it runs as (see sandbox_uid)
    owner: int | None = None

    def launch(self, module_path: Path, scratch: Path, limits,
               hidden: Iterable[str | os.PathLike] = ()) -> Launch:
        stub = _stub_package(scratch)
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
        for path in _to_cover(_hidden(hidden)):
            args += ["--tmpfs", path]
            for python in _pythons_inside(path):  # a venv inside the course, say
                args += _parents_args(python, made) + ["--ro-bind", python, python]
            args += ["--remount-ro", path]
        args += _parents_args(INSIDE_ROOT, made)
        args += ["--ro-bind", str(stub), INSIDE_ROOT,
                 "--ro-bind", str(PACKAGE / "probes"), f"{INSIDE_ROOT}/autograder/probes",
                 "--ro-bind", str(module_path.parent), INSIDE_SUBMISSION,
                 "--chdir", "/tmp", "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp",
                 "--"]
        return Launch(prefix=args, package_root=INSIDE_ROOT,
                      module_path=f"{INSIDE_SUBMISSION}/{module_path.name}", cwd=str(scratch),
                      uid=sandbox_uid(self.slot, self.owner),
                      cgroup=Cgroup.create(limits.memory, limits.processes))


@dataclass
class Namespaces:
    """Bubblewrap's view, made by util-linux ``unshare`` and a mount script (root only)."""

    name: str = "namespaces"
    tmp_bytes: int = TMP_BYTES
    slot: int = 0  # the job whose sandbox uid it runs as (see sandbox_uid)
    owner: int | None = None

    def launch(self, module_path: Path, scratch: Path, limits,
               hidden: Iterable[str | os.PathLike] = ()) -> Launch:
        stub = _stub_package(scratch)
        _world_readable(module_path.parent)
        root = scratch / "sandbox-root"  # the new root's mount point, empty on the host
        root.mkdir(exist_ok=True)
        script = _mount_script(root, stub, module_path.parent, _to_cover(_hidden(hidden)),
                               self.tmp_bytes)
        # No cgroup namespace: the processes probe reads its CPU quota by the
        # cgroup path that /proc/self/cgroup gives, which must be the host's.
        # pdeathsig: like bwrap's --die-with-parent, the sandbox ends with the grader.
        prefix = [_tool("setpriv") or "setpriv", "--pdeathsig", "KILL", "--",
                  _tool("unshare") or "unshare", "--mount", "--pid", "--fork", "--net",
                  "--ipc", "--uts", "--propagation", "private", "--kill-child", "--",
                  "/bin/sh", "-c", script, "advpy-sandbox"]
        cgroup = Cgroup.create(limits.memory, limits.processes) if limits else None
        return Launch(prefix=prefix, package_root=INSIDE_ROOT,
                      module_path=f"{INSIDE_SUBMISSION}/{module_path.name}", cwd=str(scratch),
                      uid=sandbox_uid(self.slot, self.owner),
                      env={"HOME": "/tmp", "TMPDIR": "/tmp"}, cgroup=cgroup)


def _mount_script(root: Path, stub: Path, submission: Path, cover: list[str],
                  tmp_bytes: int) -> str:
    """The shell script that, as root in fresh mount and PID namespaces, builds
    the student's view under ``root``, moves into it and runs its arguments
    with no way back to privileges (no_new_privs). Run by ``unshare --fork``,
    it stays PID 1 of the namespace, as bwrap's own init does: it reaps the
    orphans, and when its one child (the supervisor) ends, every process in
    the namespace dies."""
    q = shlex.quote
    r = q(str(root))
    ro = "ro,nosuid,nodev"
    # Each tool by its full path: sbin may not be on the PATH we were given.
    tools = {tool: q(_tool(tool) or tool) for tool in (*TOOLS, "ip")}
    lines = ["set -eu", "umask 022",
             *(f'{tool}() {{ {path} "$@"; }}' for tool, path in tools.items()
               if tool in ("mount", "umount", "pivot_root", "findmnt")),
             f"mount -t tmpfs -o mode=0755,size=1m,nosuid,nodev advpy-root {r}"]

    def bind(source: str, target: str, options: str = ro) -> None:
        lines.append(f"mkdir -p {r}{q(target)}")
        lines.append(f"mount --bind -o {options} {q(source)} {r}{q(target)}")

    for path in SYSTEM_DIRS:
        if os.path.islink(path):  # /bin -> usr/bin on a merged /usr
            lines.append(f"ln -s {q(os.readlink(path))} {r}{q(path)}")
        elif os.path.isdir(path):
            bind(path, path)
    # /sys read-only and whole (a probe reads the CPU quota from its cgroup
    # files): bind it with what is mounted under it, then make each mount
    # read-only (this util-linux has no recursive read-only bind).
    lines += [f"mkdir -p {r}/sys", f"mount --rbind /sys {r}/sys",
              "IFS='\n'",
              f"for m in $(findmnt -R -n -l -o TARGET {r}/sys); do "
              'mount -o remount,bind,ro,nosuid,nodev,noexec "$m"; done',
              "unset IFS",
              f"mkdir -p {r}/proc", f"mount -t proc -o nosuid,nodev,noexec proc {r}/proc",
              f"mkdir -p {r}/dev",
              f"mount -t tmpfs -o mode=0755,size=64k,nosuid,noexec advpy-dev {r}/dev"]
    for device in DEVICES:
        if os.path.exists(f"/dev/{device}"):
            lines += [f": > {r}/dev/{device}",
                      f"mount --bind -o nosuid,noexec /dev/{device} {r}/dev/{device}"]
    lines += [f"ln -s /proc/self/fd {r}/dev/fd", f"ln -s /proc/self/fd/0 {r}/dev/stdin",
              f"ln -s /proc/self/fd/1 {r}/dev/stdout", f"ln -s /proc/self/fd/2 {r}/dev/stderr",
              f"mkdir -p {r}/dev/shm {r}/tmp",
              f"mount -t tmpfs -o mode=1777,size={tmp_bytes},nosuid,nodev advpy-shm {r}/dev/shm",
              f"mount -t tmpfs -o mode=1777,size={tmp_bytes},nosuid,nodev advpy-tmp {r}/tmp"]
    # After the private /tmp, so that a Python (a venv) under the host's /tmp
    # is bound on top of it, not hidden. Its parents are made 0755 by mkdir:
    # a Python under /root (pyenv) is reachable, and nothing else of /root.
    for path in _python_dirs():
        if not any(_inside(path, d) for d in SYSTEM_DIRS):
            bind(path, path)
    for path in cover:
        lines.append(f"mount -t tmpfs -o mode=0755,size=4k advpy-hidden {r}{q(path)}")
        for python in _pythons_inside(path):  # a venv inside the course, say
            bind(python, python)
        lines.append(f"mount -o remount,bind,ro {r}{q(path)}")
    bind(str(stub), INSIDE_ROOT)
    bind(str(PACKAGE / "probes"), f"{INSIDE_ROOT}/autograder/probes")
    bind(str(submission), INSIDE_SUBMISSION)
    lines += [f"echo sandbox > {r}/proc/sys/kernel/hostname",
              *([f"{tools['ip']} link set lo up || :"] if _tool("ip") else []),
              f"mkdir {r}/.old", f"cd {r}", "pivot_root . .old", "cd /",
              "umount -l /.old", "rmdir /.old", "mount -o remount,bind,ro /",
              # A background job of sh ignores SIGINT and SIGQUIT: give them back.
              "cd /tmp", f'{tools["env"]} --default-signal=INT,QUIT {tools["setpriv"]} '
              '--no-new-privs -- "$@" &', 'wait $!']
    return "\n".join(lines)


@dataclass
class Process:
    """No namespaces: a session of its own, limits, and (as root) a uid of its own."""

    name: str = "process"
    slot: int = 0  # the job whose sandbox uid it runs as (see sandbox_uid)
    owner: int | None = None

    def launch(self, module_path: Path, scratch: Path, limits,
               hidden: Iterable[str | os.PathLike] = ()) -> Launch:
        uid = sandbox_uid(self.slot, self.owner)
        if uid is not None and not _others_can_run_python():
            raise Unprotected("the process sandbox would run student code as root: this "
                              "Python is not reachable by other users; " + WHAT_TO_DO)
        home = scratch / "home"
        home.mkdir(exist_ok=True)
        if uid is not None:
            os.chown(home, uid, uid)
            os.chmod(home, 0o700)
            _hide_from_others(_hidden(hidden), keep=[str(scratch), *_python_dirs()])
            # Only the sandbox's group may read the submission: not another
            # grader's sandbox uid (``--jobs``), which would find it in /tmp.
            _readable_by_group(module_path.parent, uid)
            os.chmod(scratch, 0o711)
        package_root = _probe_copy(scratch)
        return Launch(prefix=[], package_root=str(package_root), module_path=str(module_path),
                      cwd=str(home), uid=uid, env={"HOME": str(home), "TMPDIR": str(home)},
                      cgroup=Cgroup.create(limits.memory, limits.processes))


@dataclass
class Plain:
    """A plain child process: for debugging only, it hides nothing."""

    name: str = "none"

    def launch(self, module_path: Path, scratch: Path, limits=None,
               hidden: Iterable[str | os.PathLike] = ()) -> Launch:
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


def let_others_run_python() -> None:
    """Let other users traverse (not list) the folders above this Python
    installation, so that the process sandbox can run student code as a uid
    of its own. For a throwaway machine only (Gradescope's container, where
    Python lives under /root): it opens a way into folders such as /root."""
    for top in _python_dirs():
        path = Path(top)
        for folder in [path, *path.parents]:
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                os.chmod(folder, mode | stat.S_IXOTH)


def _world_readable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        os.chmod(path, mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0))


def _readable_by_group(folder: Path, gid: int) -> None:
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, -1, gid)
        mode = path.stat().st_mode & ~0o007
        os.chmod(path, mode | stat.S_IRGRP | (stat.S_IXGRP if path.is_dir() else 0))


def _hide_from_others(paths: list[str], keep: list[str]) -> None:
    """Make our own files unreadable to other uids (the process sandbox has
    no mount namespace to hide them with). Never a folder that the system or
    the student process needs: / or a top-level folder such as /home, a
    shared (sticky) folder such as /tmp, or one holding what ``keep`` names."""
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            continue
        if (len(Path(path).parts) <= 2 or mode & stat.S_ISVTX
                or any(_inside(k, path) for k in [*keep, *SYSTEM_DIRS])):
            continue
        try:
            os.chmod(path, mode & ~0o007)
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


Sandbox = Bubblewrap | Namespaces | Process | Plain


def _reasons() -> dict[str, str]:
    """Why each sandbox that protects cannot run here."""
    reasons = {}
    if not bubblewrap_works():
        reasons["bubblewrap"] = ("bubblewrap is not installed" if not shutil.which("bwrap")
                                 else "bubblewrap cannot make its namespaces here")
    if namespaces_problem():
        reasons["namespaces"] = f"namespaces cannot be made ({namespaces_problem()})"
    if os.geteuid() != 0:
        reasons["process"] = ("the process sandbox needs root to run student code as a uid "
                              "of its own")
    elif not _others_can_run_python():
        reasons["process"] = ("the process sandbox would run student code as root (this "
                              f"Python, under {_python_dirs()[0]}, is not reachable by other "
                              "users)")
    return reasons


def choose(mode: str = "auto", *, secrets: bool = True, slot: int = 0,
           owner: int | None = None) -> Sandbox:
    """The sandbox for ``mode``: auto picks the strongest that works here.

    Raises ``Unprotected`` rather than run student code with our files
    readable. ``secrets=False`` (only the public checks run, as for a student
    checking their own work) lets a non-root user run it as themselves.
    ``slot`` and ``owner`` name the job it is for (see ``sandbox_uid``).
    """
    if mode not in MODES:
        raise ValueError(f"unknown sandbox {mode!r}; the sandboxes are: {', '.join(MODES)}")
    if mode == "none":
        return Plain()
    if mode in ("auto", "bubblewrap") and bubblewrap_works():
        return Bubblewrap(slot=slot, owner=owner)
    if mode in ("auto", "namespaces") and namespaces_work():
        return Namespaces(slot=slot, owner=owner)
    if mode in ("auto", "process") and (process_protects()
                                        or (not secrets and os.geteuid() != 0)):
        return Process(slot=slot, owner=owner)
    reasons = _reasons()
    if mode == "auto":
        raise Unprotected("no isolation for student code works here: "
                          f"{'; '.join(reasons.values())}. To grade: {WHAT_TO_DO}.")
    try:
        instead = f"--sandbox auto would use {choose('auto').name}"
    except Unprotected:
        instead = f"To grade: {WHAT_TO_DO}"
    why = reasons.get(mode, "it did not start")
    raise Unprotected(f"--sandbox {mode} cannot protect here: {why}. {instead}.")
