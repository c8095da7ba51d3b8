"""The trusted side of the processes assignment: what each probe promises to return.

The values the student's functions returned are ``Json``; pids, counts and
seconds are measurements, typed and bounded. A probe that runs several cases
reports one observation per case, and fewer only when the last one is the
exception that stopped it. The calibrations of ``probes/machine.py`` run in
the supervisor, not in a worker; their shapes are here too, for the evidence.

Two kinds of proof come back that only the work itself gives, and the judge
checks both with values it computes (or the supervisor does) from what it
picked: a target's answer to its nonce (``nonces``, ``proofs``, ``runs``),
and the value of an item whose wait a salt server timed (``salt_server``,
``unsalted``; the server, and the values, are ``machine.py``'s).
"""

import math
import random
import secrets
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le

from autograder.errors import StudentFailure
from autograder.probes import machine
from autograder.probes import processes as probe
from autograder.probes.payloads import mix
from autograder.shapes import (
    ByArguments,
    Error,
    ExitCode,
    Instant,
    Json,
    Name,
    Pid,
    Seconds,
    Text,
    TypedDict,
    listof,
    per_case,
    row,
    unreadable,
)

MOST = 10_000  # no probe hands more items than this to the student's code
CpuCount = Annotated[int, Ge(1), Le(1 << 16)]
CpuShare = Annotated[float, Ge(0), Le(1 << 16)]
# SO_PEERCRED gives 0 for a peer in another pid namespace
PeerPid = Annotated[int, Ge(0), Le(1 << 22)]
Word = Annotated[int, Ge(0), Le((1 << 64) - 1)]  # 8 bytes on the wire: a nonce, a salt


class Failed(TypedDict):
    """The exception that stopped a case."""

    error: Error


# -- q1 -------------------------------------------------------------------------
class Choices(TypedDict):
    type: Name
    repr: Text
    pairs: listof(row(Text, Text | None, Name, Text), 50) | None


# -- q2 -------------------------------------------------------------------------
class NotProcess(TypedDict):
    type: Name
    is_process: Literal[False]


class IsProcess(TypedDict):
    type: Name
    is_process: Literal[True]
    pid: Pid | None
    exitcode: ExitCode | None


class Peer(TypedDict):
    """A process that connected to the probe's socket (the kernel named it):
    the nonce it took and its answer (None until it sent both), whether it
    said no nonce was left for it, and whether its connection has ended."""

    pid: PeerPid
    nonce: Word | None
    answer: Word | None
    unserved: bool
    ended: bool


class RunProcesses(TypedDict):
    caller: Pid
    type: Name
    repr: Text
    is_list: bool
    returned: listof(IsProcess | NotProcess, 200) | None
    at_return: listof(Peer, MOST)
    ran: listof(Peer, MOST)
    cpu_count: CpuCount
    affinity: CpuCount


# -- q3 and q4 ------------------------------------------------------------------
class Mapped(TypedDict):
    caller: Pid
    type: Name | None
    repr: Text
    is_list: bool
    values: listof(Json, MOST) | None


# -- q5 -------------------------------------------------------------------------
class Sum(TypedDict):
    value: Json
    type: Name
    repr: Text


# -- the supervisor's calibrations (machine.py) -------------------------------------
class Cpus(TypedDict):
    affinity: CpuCount
    quota: CpuShare | None
    usable: CpuShare
    cpu_count: CpuCount


class _MapCalibration(TypedDict):
    serial: Seconds
    wall: Seconds
    gain: Annotated[float, Ge(0), Le(1e9)]
    cpus: Cpus
    pids: listof(PeerPid, MOST)  # the processes a salt server released salts to


@lru_cache(maxsize=64)
def _map_calibration(count: int, timed: bool) -> Any:
    """One value (None: a salt not released) and one CPU time per item; a
    start time when it was asked for."""

    class MapCalibration(_MapCalibration):
        values: listof(Json, count, count)
        cpu: listof(Seconds, count, count)
        start: Seconds if timed else None

    return MapCalibration


def _calibrate_map(items: list, workers: int, start: bool = False,
                   salts: str | None = None) -> Any:
    return _map_calibration(len(items), bool(start))


class Release(TypedDict):
    """Who got an item's salt (the kernel named it), how it was released
    (machine.OPEN, GATHERED, HELD_OUT), when it was asked for and released,
    and when that process hung up (None: not before the server stopped)."""

    pid: PeerPid
    how: Literal[0, 1, 2]
    asked: Instant
    released: Instant
    ended: Instant | None


class Group(TypedDict):
    """A group of a salt server's items: the processes its salts went to, the
    most requests and distinct processes that waited at once, and whether
    it gathered (``need`` of them waited at once before its hold ran out)."""

    pids: listof(PeerPid, 256)
    peak: Annotated[int, Ge(0), Le(MOST)]
    peak_pids: Annotated[int, Ge(0), Le(MOST)]
    gathered: bool


@lru_cache(maxsize=64)
def _salted(count: int, most_groups: int = 0) -> Any:
    """One value per item (None: its salt was never released), who got it;
    a summary per group (none before the call); the CPUs of the sandbox."""

    class Salted(TypedDict):
        values: listof(Json, count, count)
        pids: listof(PeerPid, MOST)
        items: listof(Release | None, count, count)
        groups: listof(Group, most_groups)
        cpus: Cpus

    return Salted


SHAPES = {
    probe.choices: Choices,
    probe.run_processes: RunProcesses,
    probe.mapped: Mapped,
    probe.mapped_cases: ByArguments(
        lambda name, cases, stop=True: per_case(Mapped | Failed, len(cases), stop="error")),
    probe.sum_of_squares: Sum,
    probe.sum_cases: ByArguments(
        lambda cases: per_case(Sum | Failed, len(cases), stop="error")),
    probe.costly_sum_of_squares: Sum,
    probe.costly_sum_cases: ByArguments(
        lambda cases, salts: per_case(Sum | Failed, len(cases), stop="error")),
    machine.cpus: Cpus,
    machine.calibrate_map: ByArguments(_calibrate_map),
    machine.serve_salts: ByArguments(
        lambda items, address, groups=None, hold=0.0: _salted(len(items), len(groups or ()))),
    machine.start_cost: row(Seconds, Seconds),
}


# -- feedback (processes helper) ---------------------------------------------------------
PICKLING = (" That is a pickling error: a process pool sends the function to call to its "
            "workers by pickling it, as its module and its name, and only functions defined "
            "at the top level of a module pickle. Pass a module-level function, not a lambda "
            "or a function defined inside another one.")
HANGS = (" A pool can wait forever when a worker process cannot import the function it is "
         "given, or when a process is joined before its queue has been read.")


def observe(student, function, *args: Any, what: str, timeout: float | None = None,
            hint: str = "", around: tuple | None = None, **kwargs: Any):
    """``student.observe``, naming a pickling error when it was one (and adding
    ``hint`` when the call hung)."""
    try:
        return student.observe(function, *args, what=what, timeout=timeout, around=around,
                               **kwargs)
    except StudentFailure as failure:
        text = str(failure)
        if "pickl" in text.lower() or "local object" in text.lower():
            raise StudentFailure(text + PICKLING, kind=failure.kind) from None
        if failure.kind == "timeout" and hint:
            raise StudentFailure(text + hint, kind=failure.kind) from None
        raise


def shown(seen: dict) -> str:
    """What a map returned, for feedback: its first values, or its repr."""
    values = seen.get("values")
    if values is None:
        return seen["repr"]
    head = ", ".join(repr(v) for v in values[:8])
    return f"the values [{head}{', …' if len(values) > 8 else ''}]"


# -- the evidence of a call (written by the supervisor, never by the student) ------------
def _reading(evidence: dict, key: str) -> dict:
    # The supervisor takes both readings for every call it answers; shapes
    # allow None, so one missing is a sandbox tampered with, not our bug.
    reading = evidence.get(key)
    if reading is None:
        raise unreadable("the call", f"the supervisor's {key!r} reading is missing")
    return reading


def window(evidence: dict) -> float:
    """Wall seconds from the probe's start to its answer."""
    return _reading(evidence, "end")["t"] - _reading(evidence, "go")["t"]


def caller_cpu(evidence: dict) -> float:
    """CPU seconds the calling process (the worker, all its threads) used meanwhile."""
    return _reading(evidence, "end")["cpu"] - _reading(evidence, "go")["cpu"]


def children_cpu(evidence: dict) -> float:
    """CPU seconds of the worker's descendants that it reaped meanwhile."""
    return _reading(evidence, "end")["children"] - _reading(evidence, "go")["children"]


# -- work items: values only the CPU-bound loop gives ------------------------------------
_RANDOM = random.SystemRandom()  # stateless: reads the kernel's random source


def seeds(count: int) -> list[int]:
    """A fresh seed for each item: values no earlier run could have computed."""
    return [_RANDOM.getrandbits(48) for _ in range(count)]


def pace() -> float:
    """The fastest CPU seconds per iteration of ``mix`` seen here now (best of
    five short runs in the grader: the same machine as the student process,
    whose CPUs may run at very different speeds from one moment to the next)."""
    best = math.inf
    for _ in range(5):
        start = time.process_time()
        mix(1, 2000)
        best = min(best, time.process_time() - start)
    return max(best, 1e-6) / 2000


def iterations_for(seconds: float) -> int:
    """Iterations of ``mix`` that take about ``seconds`` of CPU here at best."""
    return max(1000, int(seconds / pace()))


def work_items(count: int, iterations: int, seconds: float | list[float] = 0.0) -> list[list]:
    """``count`` items [seed, iterations, seconds] for ``payloads.work``."""
    waits = seconds if isinstance(seconds, list) else [seconds] * count
    return [[seed, iterations, wait] for seed, wait in zip(seeds(count), waits, strict=True)]


# -- waits that cannot be skipped: salts (machine.py) ------------------------------------
def salt_server() -> str:
    """A fresh address (Linux's abstract namespace) for the salt server of one
    call: the probe adds it to each item, the calibration serves it."""
    return f"\0advpy-salts-{secrets.token_hex(12)}"


def unsalted(what: str, values: list) -> None:
    """Every item's salt was released: ``work`` waited for each one."""
    missing = sum(value is None for value in values)
    if missing:
        raise StudentFailure(
            f"{what}: {missing} of the {len(values)} items never got through their wait "
            "(the grader's f was not called on them, or not with the items as given)")


# -- run_processes's target proves each run (probes/processes.py) ------------------------
def nonces(count: int) -> list[int]:
    """A fresh nonce for each run the target is expected to make."""
    return seeds(count)


def proofs(nonces: list[int], iterations: int) -> dict[int, int]:
    """What the target answers to each nonce: computed here, meanwhile."""
    return {nonce: mix(nonce, iterations) for nonce in nonces}


@dataclass(frozen=True)
class Runs:
    """The processes that ran the target, as their answers prove."""

    done: list[dict]  # peers whose answer is right, each nonce counted once
    forged: list[dict]  # peers that answered without the work (or for a nonce taken twice)
    unserved: list[dict]  # peers that found every nonce taken

    @property
    def pids(self) -> list[int]:
        """One pid per run: the proven ones, and those that came after every
        nonce was taken (``proven`` admits them only when all were answered)."""
        return [peer["pid"] for peer in self.done + self.unserved]


def runs(peers: list[dict], answers: dict[int, int]) -> Runs:
    """Sort ``peers`` (the probe's) by what their answers prove. A peer that
    sent no whole answer (still running, or saying something else) is no run."""
    done, forged, unserved, used = [], [], [], set()
    for peer in peers:
        if peer["unserved"]:
            unserved.append(peer)
        elif peer["nonce"] is None:
            continue
        elif peer["nonce"] in answers and peer["nonce"] not in used and (
                answers[peer["nonce"]] == peer["answer"]):
            used.add(peer["nonce"])
            done.append(peer)
        else:
            forged.append(peer)
    return Runs(done, forged, unserved)


def proven(what: str, peers: list[dict], answers: dict[int, int]) -> Runs:
    """``runs``, failing the test when a process answered for the target
    without having done its work. Runs that found no nonce left count only
    once every nonce was answered (then they are runs beyond those asked
    for); before that, a nonce was taken by something that did not answer."""
    found = runs(peers, answers)
    if found.forged or (found.unserved and len(found.done) < len(answers)):
        raise StudentFailure(
            f"{what}: a process connected as target but did not do target's work; pass the "
            "function you are given as the target of each Process, and start() them")
    return found


def meanwhile(function: Callable, *args: Any) -> Future:
    """``function(*args)`` in a thread of the grader, which mostly waits for
    the student process meanwhile: ``.result()`` once the call is observed."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(function, *args)
    finally:
        pool.shutdown(wait=False)


# -- the speed of a map, against the grader's calibration (processes helper) ------------
SHARE_OF_GAIN = 0.5  # the student's run must reach this share of the gain our processes reached
SAFE = 0.85  # a run is decidable when what it allows is at most this share of the serial time
CALLER_SHARE = 0.3  # the calling process may use at most this share of the items' CPU
START_MARGIN = 0.02  # seconds for a forked pool to start and hand over its first item
SPAWNED_CPU = (0.02, 0.015)  # CPU seconds beyond the items' (fixed, per worker) that show
# fresh interpreters (each takes some 0.05 to 0.1 s of CPU to start; a fork, a few ms)


@dataclass(frozen=True)
class MapRun:
    """One parallel_map run of ``work`` items, and what the grader's own
    processes did with the same items just before and just after it."""

    window: float  # wall seconds of the student's call (supervisor's clock)
    caller: float  # CPU seconds the calling process used meanwhile (kernel)
    cpu: float  # CPU seconds the items need at the fastest pace seen
    serial: float  # what a serial loop needs at the fastest pace seen: CPU plus waits
    gain: float  # how many times faster than that our processes went (the slower run)
    start: float  # seconds allowed for starting the workers (see ``map_run``)
    workers: int

    @property
    def needed(self) -> float:
        return 1 + SHARE_OF_GAIN * (self.gain - 1)

    @property
    def allowed(self) -> float:
        """The longest the call may take: the serial time over the gain needed,
        plus the time its pool may take to start."""
        return self.serial / self.needed + self.start

    @property
    def decidable(self) -> bool:
        """Whether a serial run (however disguised) surely takes longer than allowed."""
        return self.allowed <= SAFE * self.serial

    @property
    def start_unknown(self) -> bool:
        """Whether the run may have started fresh interpreters, and how long
        that takes here was not measured (measure it on the next try)."""
        return math.isinf(self.start)

    @property
    def serial_needed(self) -> float:
        """The serial time items must take for such a run to be decidable here now."""
        room = SAFE - 1 / self.needed
        return math.inf if room <= 0 else 1.2 * self.start / room

    @property
    def in_caller(self) -> bool:
        return self.caller >= CALLER_SHARE * self.cpu

    @property
    def fast(self) -> bool:
        return self.window <= self.allowed


def map_run(seen, items: list[list], workers: int, fastest: float = math.inf) -> MapRun:
    """Read a run of ``probe.mapped`` observed with ``around=(machine.calibrate_map, ...)``.

    The items' CPU, and the serial time, are what one process needs at the
    fastest pace seen here (``fastest`` CPU seconds per iteration, from
    ``pace()``, or from any item of either calibration run): a serial run,
    however disguised, cannot go faster than the machine's best, while a CPU's
    speed may change severalfold from one moment to the next on a shared
    machine. Our gain is measured against that same serial time.

    Starting fresh interpreters (a spawn pool, a forkserver) takes long, and
    the window of the call includes it. The time to start ``workers`` of them
    here now is allowed when the student's run may have started any: when the
    CPU of its other processes (the kernel's count) exceeds what the items
    need by more than forks cost (SPAWNED_CPU), or falls short of it (CPU we
    cannot see, as a forkserver's children's). Its ``start`` is then the
    measured time, or infinite when the calibration did not measure it (ask
    for it on the next try). A forked pool gets a small margin only. Allowing
    more never lets a serial run pass: a run is judged only when what it is
    allowed is clearly less than the serial time (``decidable``)."""
    evidence = seen.evidence
    around = evidence.get("around") or {}
    if "before" not in around or "after" not in around:  # asked for, so a tampered sandbox
        raise unreadable("the call", "the grader's calibration runs are missing")
    before, after = around["before"], around["after"]
    if None not in before["values"] and before["values"] != after["values"]:
        raise RuntimeError("the grader's two calibration runs computed different values")
    for item, first, second in zip(items, before["cpu"], after["cpu"], strict=True):
        if item[1] >= 1000:
            fastest = min(fastest, first / item[1], second / item[1])
    if not math.isfinite(fastest):
        fastest = 0.0
    cpu = sum(item[1] for item in items) * fastest
    serial = cpu + sum(item[2] for item in items)
    elsewhere = children_cpu(evidence) + sum(
        entry["cpu"] + entry.get("children", 0.0) for entry in evidence.get("live") or ())
    fixed, each = SPAWNED_CPU
    took = max(sum(before["cpu"]), sum(after["cpu"]))  # what the items took us, at worst
    spawned = elsewhere < 0.7 * cpu or elsewhere - took >= fixed + each * workers
    if not spawned:
        start = START_MARGIN
    elif before["start"] is None or after["start"] is None:
        start = math.inf
    else:
        start = max(before["start"], after["start"]) + START_MARGIN
    return MapRun(window=window(evidence), caller=caller_cpu(evidence), cpu=cpu, serial=serial,
                  gain=serial / max(before["wall"], after["wall"], 1e-6), start=start,
                  workers=workers)


def in_caller_text(what: str, run: MapRun) -> str:
    return (f"{what}: the calling process itself used {run.caller:.2f} s of CPU while the "
            f"items need {run.cpu:.2f} s in all, so the work ran there, not in worker "
            "processes; threads or a plain loop run Python code on one CPU at a time")


def slow_text(what: str, run: MapRun) -> str:
    start = (f"starting {run.workers} fresh Python processes takes {run.start:.2f} s here"
             if run.start > START_MARGIN else f"its workers were given {run.start:.2f} s to start")
    return (f"{what} took {run.window:.2f} s. Its items need {run.serial:.2f} s one after "
            f"another (what a serial loop takes at this machine's best pace); {run.workers} "
            f"processes of the grader's, timed just before and after it here, went "
            f"{run.gain:.1f} times as fast as that, and {start}: at most {run.allowed:.2f} s "
            "was allowed")


# -- q5: squaring costly numbers shows where it happens (processes helper) --------------
HOW_MANY, NUMBER_CPU = 6, 0.025  # numbers, and CPU seconds to know each one's value
CALLER_SHARE_OF_SQUARES = 0.35  # CPU counts come in 10 ms ticks


def _squares(numbers: list[list]) -> int:
    """The sum of the squares of the Numbers made from ``numbers``."""
    return sum((mix(seed, iterations) % (1 << 20)) ** 2 for seed, iterations in numbers)


def squared_in_children(student, count: int, method: str | None = None,
                        what: str | None = None, timeout: float = 10.0,
                        cpu: float = NUMBER_CPU) -> None:
    """parallel_sum_of_squares(HOW_MANY payloads.Numbers, count): the right sum
    (computed here, from fresh seeds), and the calling process's own CPU (the
    kernel's count) well under what knowing the numbers costs at this
    machine's best pace: they were squared elsewhere, whatever ``int()`` the
    student's code applied."""
    fastest = pace()
    numbers = [[seed, int(cpu / fastest)] for seed in seeds(HOW_MANY)]
    cost = HOW_MANY * int(cpu / fastest) * fastest  # at this machine's best pace
    what = what or f"parallel_sum_of_squares({HOW_MANY} numbers, {count})"
    expected = meanwhile(_squares, numbers)
    seen = observe(student, probe.costly_sum_of_squares, numbers, count, method,
                   what=what, timeout=timeout, hint=HANGS)
    want = expected.result()
    value = seen.result["value"]
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and value == want):
        raise StudentFailure(f"{what} returned {seen.result['repr']}, which is not the sum of "
                             "the squares.")
    spent = caller_cpu(seen.evidence)
    if spent >= CALLER_SHARE_OF_SQUARES * cost:
        raise StudentFailure(
            f"{what}: the calling process used {spent:.2f} s of CPU, where squaring these "
            f"numbers takes {cost:.2f} s: they were squared in the calling process; each "
            "child process must square and add up its own share.")
