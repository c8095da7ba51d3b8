"""What the grader hands to the student's code in the processes assignment.

The student's code calls these objects, pickles them to its worker processes
(by reference to this importable module, so that fork, spawn and forkserver
all work) and can reach this module's globals through them
(``work.__globals__``). So nothing here observes, counts or reports for the
judge: these are plain workloads whose results the judge checks against
values computed by trusted code, and whose CPU and wall time the supervisor
measures from outside (``autograder.probes.processes`` says how). A
submission that rewrites this module only changes what its own code
computes, and the judge sees the consequences.

- ``mix(seed, iterations)`` is the CPU-bound loop: a non-linear hash of a
  seed the judge picks for each call, which cannot be computed without
  running every iteration. Its result proves the work was done.
- ``work(item)`` waits ``seconds`` (I/O-bound) and returns
  ``mix(seed, iterations)`` (CPU-bound), for ``item = (seed, iterations, seconds)``.
- ``square(x)`` is ``x * x``, for checking values and order.
- ``Recorder(address, iterations)`` is a target for ``run_processes``: it
  connects to the probe's Unix socket (so that the kernel tells the probe
  which process it runs in: SO_PEERCRED), runs the loop, says "done", and
  keeps the connection open until its process ends.
"""

from __future__ import annotations

import builtins
import socket
import time

__builtins__ = dict(vars(builtins))

MASK = (1 << 52) - 1  # results stay exact in JSON


def mix(seed: int, iterations: int) -> int:
    """``iterations`` rounds of a non-linear 64-bit mix, starting from ``seed``."""
    h = seed & MASK
    for i in range(iterations):
        h = ((h ^ i) * 0x9E3779B1 + (h >> 13)) & MASK
    return h


def work(item) -> int:
    """``item`` is (seed, iterations, seconds): wait ``seconds``, then return
    ``mix(seed, iterations)``."""
    seed, iterations, seconds = item
    if seconds:
        time.sleep(seconds)
    return mix(seed, iterations)


def square(x):
    """x * x, and nothing else: for checking values and order."""
    return x * x


class Recorder:
    """A target for run_processes: connect to ``address`` (a Unix socket of
    the probe), run ``iterations`` rounds of the mix, send b"done", and keep
    the connection until this process ends (the kernel closes it then)."""

    def __init__(self, address: str, iterations: int) -> None:
        self.address = address
        self.iterations = iterations
        self.held: list = []

    def __getstate__(self) -> dict:
        # A connection does not pickle (spawn, forkserver): each process makes its own.
        return {"address": self.address, "iterations": self.iterations, "held": []}

    def __call__(self) -> None:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(self.address)
        self.held.append(connection)
        mix(len(self.held), self.iterations)
        connection.sendall(b"done")
