"""Probes for the processes assignment. They run in the worker, call the
student's code once, and report what came back; they do nothing slow before
or after that call, because the supervisor's evidence window ("go" to "end")
is the whole probe.

Nothing that decides points is computed from what the student's code can
write. What decides them, and where it comes from:

- Values. The functions handed to the student's code (``payloads``: ``work``,
  ``square``, ``Number``, ``Recorder``) are plain workloads; ``work`` returns
  a hash of a seed the judge picks for each call, which only running its
  CPU-bound loop gives. The judge checks the values against its own (computed
  in the grader for small items, by the supervisor's calibration for the
  timed ones).
  parallel_sum_of_squares gets numbers (``payloads.Number``) whose values
  cost CPU to know, in whichever process squares them (or turns them into
  ints): the judge computes the expected sum itself.
- Where and how fast the work ran: the supervisor's readings of the worker
  (kernel CPU counters and its clock at "go" and "end"; ``seen.evidence``).
  Work done in the calling process shows as the worker's own CPU; a serial run
  in a child process, however many idle or busy processes sit beside it, shows
  as wall time no shorter than the serial work; the grader's own calibration
  (``machine.py``, in the supervisor) says what this machine can do right now.
- Which processes ran run_processes's target: the target connects to a Unix
  socket of this probe, and the kernel (SO_PEERCRED) names the process on the
  other end; the kernel closes the connection when that process ends, so the
  probe knows, when run_processes returns, which of them had ended. What a
  target says proves it ran: it takes a nonce the judge picked from this
  probe's FIFO (a pipe read of 8 bytes is whole and goes to one reader only)
  and answers ``mix(nonce, iterations)``, which the judge computed meanwhile;
  a process that connects and says anything else ran nothing. No file or
  record that the student's code could write is read. Those pids reach the
  judge through this probe, so the supervisor's evidence backs them: each
  target spends CPU, which shows in the calling process's own CPU if it ran
  there, and a child that was never joined is still listed (running or
  unreaped) when the answer comes.
- Waits that cannot be skipped: where the judge times ``work``'s waits, its
  items carry the address of the grader's salt server, a process the
  supervisor forks before the worker (``machine.py``, ``salts``): each item's
  value needs a salt the server releases only once the item's wait is over,
  and it names (SO_PEERCRED) the process it released each salt to, which is
  how the judge knows how many processes the items ran in.
- How many at once: the server can hold a group of items until a number of
  requests (from as many distinct processes, or not) wait at once, and
  reports the most that did: the worker processes of parallel_map, the
  threads of io_map, the child processes that squared parallel_sum_of_squares'
  Numbers (each one's value needs its salt), and run_processes' targets (the
  gate: each target asks before its work, so targets run one after another
  never wait together; the server also sees when each target's process ends).

Chosen for being simple and robust: a socket and SO_PEERCRED work under every
start method (a spawned child connects by the address it was pickled with),
and a connection closed by the kernel at exit is a fact about the process,
not about anything its code said.
"""

from __future__ import annotations

import _socket
import builtins
import itertools
import multiprocessing
import multiprocessing.process
import os
import struct
import sys
import tempfile
import time

from autograder.probes import payloads
from autograder.probes.common import jsonable, short

# Our own copy of the builtins, and what we use, taken before any student
# code runs: a submission that patches them does not reach us.
__builtins__ = dict(vars(builtins))
_getpid = os.getpid
_monotonic = time.monotonic
_sleep = time.sleep
_set_start_method = multiprocessing.set_start_method
_BaseProcess = multiprocessing.process.BaseProcess
_Socket = _socket.socket  # a C type: its methods cannot be patched
_PEERCRED = struct.Struct("3i")
_cpu_count = os.cpu_count
_affinity = getattr(os, "sched_getaffinity", None)
_mkdtemp = tempfile.mkdtemp
_mkfifo = os.mkfifo
_open = os.open
_write = os.write
_from_bytes = int.from_bytes
_list = list
_islice = itertools.islice
# What a probe uses of payloads, bound here: once its objects are handed over,
# the student's code can rewrite that module's namespace (work.__globals__).
_PAYLOADS = payloads
_PAYLOADS_NAME = payloads.__name__
_WORD = payloads.WORD
_MASK = payloads.MASK
_NO_NONCE = payloads.NO_NONCE
_Number = payloads.Number
_Recorder = payloads.Recorder

DEFAULT = "default"  # an argument the probe leaves out, so the student's default applies
FUNCTIONS = {"square": payloads.square, "work": payloads.work}
MOST = 10_000  # at most this many peers are reported
LATE = 3.0  # seconds to wait, after run_processes returned, for targets still running


# -- helpers ----------------------------------------------------------------
def _expose() -> None:
    """Make our payloads module the one that pickle finds by name.

    The worker gives the submission fresh copies of our modules; pickling a
    function of ours checks that importing its module by name gives back the
    same object, so we put it back before the student's code pickles.
    """
    sys.modules[_PAYLOADS_NAME] = _PAYLOADS


def _use_start_method(method: str | None) -> None:
    """Make ``method`` the default start method of this worker."""
    if method:
        _set_start_method(method, force=True)


def _as_list(value, most: int = 100_000) -> tuple[list | None, str]:
    """The items of what the student returned (any iterable but str, bytes,
    dict; at most ``most`` of them), and its type."""
    kind = type(value).__name__
    if isinstance(value, (str, bytes, dict)):
        return None, kind
    try:
        return _list(_islice(value, most)), kind
    except Exception:  # noqa: BLE001 - a student's iterator may raise anything
        return None, kind


def _error(exc: BaseException, module) -> dict:
    """What the student's code raised, and the last place in the submission it
    passed through ("line 12", or "cell 3, line 2" in a notebook)."""
    import traceback

    filename = getattr(module, "__file__", None) or "?"
    where = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            where = f"line {frame.lineno}"
        elif frame.filename.startswith(filename + ":"):
            where = f"{frame.filename[len(filename) + 1:]}, line {frame.lineno}"
    return {"type": type(exc).__name__, "message": str(exc)[:300], "where": where}


def _each(module, probe, cases: list, stop: bool = True) -> list[dict]:
    """``probe(module, *case)`` for each case, in one worker; a case whose call
    raises reports {"error": ...}, and stops the rest when ``stop``."""
    seen = []
    for case in cases:
        try:
            seen.append(probe(module, *case))
        except Exception as exc:  # noqa: BLE001 - what the student's code raised is the observation
            seen.append({"error": _error(exc, module)})
            if stop:
                break
    return seen


# -- q1 ---------------------------------------------------------------------
def choices(module) -> dict:
    """What CHOICES is: its type and its pairs."""
    value = module.CHOICES
    if not isinstance(value, dict):
        return {"type": type(value).__name__, "repr": short(value), "pairs": None}
    pairs = [[k if type(k) is str else short(k), v if type(v) is str else None,
              type(v).__name__, short(v)] for k, v in list(value.items())[:50]]
    return {"type": type(value).__name__, "repr": short(value), "pairs": pairs}


# -- q2 ---------------------------------------------------------------------
class _Listener:
    """A Unix socket in a private folder that targets connect to, and a FIFO
    beside it holding the judge's nonces. For each connection the kernel
    gives the peer's pid (SO_PEERCRED); the peer sends a nonce and its
    answer (16 bytes) when the target has finished, or b"none" when no
    nonce was left, and the connection ends when its process ends."""

    def __init__(self, nonces: list[int] | tuple[int, ...] = ()) -> None:
        self.folder = _mkdtemp(prefix="advpy-")
        self.address = f"{self.folder}/s"
        self.nonces = f"{self.folder}/n"
        self.socket = _Socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        self.socket.bind(self.address)
        self.socket.listen(4096)
        self.socket.setblocking(False)
        # Held open for reading and writing, so that a target finds the nonces
        # left (or nothing, at once) rather than the end of the FIFO.
        _mkfifo(self.nonces, 0o600)
        self.fifo = _open(self.nonces, os.O_RDWR | os.O_NONBLOCK)
        data = b"".join((n & _MASK).to_bytes(_WORD, "little") for n in nonces)
        while data:
            data = data[_write(self.fifo, data):]
        self.peers: list[dict] = []

    def poll(self) -> list[dict]:
        """Accept what is waiting, read what was sent:
        [{pid, nonce, answer, unserved, ended}, ...]."""
        while True:
            try:
                fd, _ = self.socket._accept()
            except (BlockingIOError, InterruptedError):
                break
            connection = _Socket(_socket.AF_UNIX, _socket.SOCK_STREAM, 0, fd)
            connection.setblocking(False)
            pid, _, _ = _PEERCRED.unpack(connection.getsockopt(
                _socket.SOL_SOCKET, _socket.SO_PEERCRED, _PEERCRED.size))
            self.peers.append({"pid": pid, "data": b"", "ended": False, "socket": connection})
        for peer in self.peers:
            while not peer["ended"] and len(peer["data"]) < 64:
                try:
                    chunk = peer["socket"].recv(64)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    chunk = b""
                if not chunk:
                    peer["ended"] = True
                    peer["socket"].close()
                peer["data"] += chunk
        return [_said(p["pid"], p["data"], p["ended"]) for p in self.peers]

    def close(self) -> None:
        for peer in self.peers:
            peer["socket"].close()
        self.socket.close()
        os.close(self.fifo)
        for path in (self.address, self.nonces):
            try:
                os.unlink(path)
            except OSError:
                pass
        try:
            os.rmdir(self.folder)
        except OSError:
            pass


def _said(pid: int, data: bytes, ended: bool) -> dict:
    """What a peer said: a nonce and its answer (exactly 16 bytes), that no
    nonce was left for it, or nothing readable (nonce and answer None)."""
    proof = len(data) == 2 * _WORD
    return {"pid": pid, "ended": ended, "unserved": data == _NO_NONCE,
            "nonce": _from_bytes(data[:_WORD], "little") if proof else None,
            "answer": _from_bytes(data[_WORD:], "little") if proof else None}


def _describe_process(process) -> dict:
    seen = {"type": type(process).__name__, "is_process": isinstance(process, _BaseProcess)}
    if seen["is_process"]:
        try:
            pid, exitcode = process.pid, process.exitcode
            seen["pid"] = pid if type(pid) is int else None
            seen["exitcode"] = exitcode if type(exitcode) is int else None
        except Exception:  # noqa: BLE001 - a broken object is an observation too
            seen["pid"] = seen["exitcode"] = None
    return seen


def run_processes(module, count, iterations: int, nonces: list[int],
                  method: str | None = None, gate: str | None = None) -> dict:
    """Call run_processes(Recorder, count) (leaving count out for DEFAULT),
    the Recorder taking the judge's ``nonces``, one per run (and asking the
    salt server at ``gate``, if any, before its work).

    Reports what it returned (its items, if it is iterable, and whether it
    is a list) and the processes the target ran in: when run_processes
    returned ("at_return": which had connected, answered and ended), and
    after waiting up to LATE seconds for targets still running ("ran")."""
    _expose()
    _use_start_method(method)
    listener = _Listener(nonces)
    try:
        target = _Recorder(listener.address, listener.nonces, iterations, gate)
        if count == DEFAULT:
            value = module.run_processes(target)
        else:
            value = module.run_processes(target, count)
        at_return = listener.poll()
        is_list = isinstance(value, _list)
        items, _ = _as_list(value, 200)
        returned = [_describe_process(p) for p in items] if items is not None else None
        cpus = _cpu_count() or 1
        affinity = len(_affinity(0)) if _affinity else cpus
        expected = len(returned) if returned else (cpus if count == DEFAULT else count)
        deadline = _monotonic() + LATE
        ran = at_return
        while _monotonic() < deadline and sum(
                p["nonce"] is not None or p["unserved"] for p in ran) < max(expected, 1):
            _sleep(0.01)
            ran = listener.poll()
        return {"caller": _getpid(), "type": type(value).__name__, "repr": short(value),
                "is_list": is_list, "returned": returned, "at_return": at_return[:MOST],
                "ran": ran[:MOST], "cpu_count": cpus, "affinity": affinity}
    finally:
        listener.close()


# -- q3 and q4 --------------------------------------------------------------
def mapped(module, name: str, function: str, items: list, workers=DEFAULT,
           method: str | None = None, salts: str | None = None) -> dict:
    """Call ``name(FUNCTION, items[, workers])`` (parallel_map or io_map) and
    report what it returned. ``work``'s items are [seed, iterations, seconds];
    ``salts``, the address of the grader's salt server, is added to each (its
    salts are released once the items' waits are over)."""
    _expose()
    _use_start_method(method)
    func = FUNCTIONS[function]
    if salts is not None:
        items = [(*item, salts) for item in items]
    else:
        items = [tuple(item) if type(item) is list else item for item in items]
    student = getattr(module, name)
    value = student(func, items) if workers == DEFAULT else student(func, items, workers)
    is_list = isinstance(value, _list)
    results, kind = _as_list(value)
    return {"caller": _getpid(), "type": kind, "repr": short(value), "is_list": is_list,
            "values": None if results is None else [jsonable(v) for v in results]}


def mapped_cases(module, name: str, cases: list, stop: bool = True) -> list[dict]:
    """``mapped`` for each (function, items, workers[, method, salts]) case,
    in one worker; the first that raises stops the rest when ``stop``."""
    return _each(module, lambda m, *case: mapped(m, name, *case), cases, stop)


# -- q5 ---------------------------------------------------------------------
def sum_of_squares(module, numbers: list, count=DEFAULT, method: str | None = None) -> dict:
    """Call parallel_sum_of_squares(numbers[, count]) and report its value."""
    _expose()
    _use_start_method(method)
    values = list(numbers)
    if count == DEFAULT:
        value = module.parallel_sum_of_squares(values)
    else:
        value = module.parallel_sum_of_squares(values, count)
    return {"value": jsonable(value), "type": type(value).__name__, "repr": short(value)}


def sum_cases(module, cases: list) -> list[dict]:
    """``sum_of_squares`` for each (numbers, count) case, in one worker."""
    return _each(module, sum_of_squares, cases)


def costly_sum_of_squares(module, numbers: list, count, method: str | None = None,
                          salts: str | None = None) -> dict:
    """parallel_sum_of_squares(numbers, count) (count left out for DEFAULT) on
    ``payloads.Number``s made from [seed, iterations] pairs: numbers whose
    values cost CPU to know, in whichever process squares them; with
    ``salts``, a salt server's address, each one's value needs its salt too
    (the server names the processes that squared them)."""
    _expose()
    _use_start_method(method)
    values = [_Number(seed, iterations, salts) for seed, iterations in numbers]
    if count == DEFAULT:
        value = module.parallel_sum_of_squares(values)
    else:
        value = module.parallel_sum_of_squares(values, count)
    if isinstance(value, _Number):
        value = int(value)
    return {"value": jsonable(value), "type": type(value).__name__, "repr": short(value)}


def costly_sum_cases(module, cases: list, salts: str) -> list[dict]:
    """``costly_sum_of_squares`` for each (numbers, count) case, in one worker,
    every case run even when one raises."""
    return _each(module, lambda m, numbers, count: costly_sum_of_squares(
        m, numbers, count, None, salts), cases, stop=False)
