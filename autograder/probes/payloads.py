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

- ``mix(seed, iterations)`` is the CPU-bound loop: a chain of SHA-256 rounds
  from a seed the judge picks for each call, which cannot be computed without
  running every round, nor much faster in any other language (the rounds are
  hashing, in C already). Its result proves the work was done.
- ``work(item)`` waits ``seconds`` (I/O-bound) and returns
  ``mix(seed, iterations)`` (CPU-bound), for ``item = (seed, iterations, seconds)``;
  an item may add the address of the probe's Unix socket, which ``work``
  connects to, so that the kernel names the process each item ran in.
- ``square(x)`` is ``x * x``, for checking values and order.
- ``Number(seed, iterations)`` is a whole number whose value costs that loop
  to know: parallel_sum_of_squares gets them, and the CPU of squaring shows
  in the process that squares them.
- ``Recorder(address, iterations)`` is a target for ``run_processes``: it
  connects to the probe's Unix socket (so that the kernel tells the probe
  which process it runs in: SO_PEERCRED), runs the loop, says "done", and
  keeps the connection open until its process ends.
"""

from __future__ import annotations

import builtins
import hashlib
import socket
import time

__builtins__ = dict(vars(builtins))

MASK = (1 << 48) - 1  # results stay exact in JSON
BLOCK = 63  # copies of the 32-byte state hashed each round: 2016 bytes, under
# hashlib's 2048, so that the GIL is held (threads take turns, as for any Python code)


def mix(seed: int, iterations: int) -> int:
    """``iterations`` rounds of SHA-256 over 63 copies of the state, starting
    from ``seed``; the first 48 bits of the last digest. Almost all of its
    time is hashing, which no other implementation does much faster, and no
    round can start before the one before it ends."""
    state = (seed & MASK).to_bytes(32, "little")
    for _ in range(iterations):
        state = hashlib.sha256(state * BLOCK).digest()
    return int.from_bytes(state[:6], "little")


def work(item) -> int:
    """``item`` is (seed, iterations, seconds[, address]): wait ``seconds``,
    then return ``mix(seed, iterations)``; with an address, connected
    meanwhile to that Unix socket of the probe (whose kernel names this process)."""
    seed, iterations, seconds, *address = item
    connection = None
    if address:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(address[0])
    try:
        if seconds:
            time.sleep(seconds)
        return mix(seed, iterations)
    finally:
        if connection is not None:
            connection.close()


def square(x):
    """x * x, and nothing else: for checking values and order."""
    return x * x


class Number:
    """A whole number below 2**20 that costs CPU to know, for
    parallel_sum_of_squares: its value is ``mix(seed, iterations)`` modulo
    2**20, computed the first time the process holding it needs it (to
    square it, add it, or turn it into an int). So the CPU of squaring shows
    in the process that squares it, and ``int(x)`` does not escape that.
    It pickles as its seed, never as its value."""

    __slots__ = ("seed", "iterations", "known")

    def __init__(self, seed: int, iterations: int) -> None:
        self.seed = seed
        self.iterations = iterations
        self.known = None

    def __reduce__(self):
        return (Number, (self.seed, self.iterations))

    def __int__(self) -> int:
        if self.known is None:
            self.known = mix(self.seed, self.iterations) % (1 << 20)
        return self.known

    __index__ = __int__

    def __float__(self) -> float:
        return float(int(self))

    def __mul__(self, other):
        return int(self) * (int(other) if isinstance(other, Number) else other)

    __rmul__ = __mul__

    def __pow__(self, exponent, modulo=None):
        return pow(int(self), int(exponent) if isinstance(exponent, Number) else exponent,
                   modulo)

    def __add__(self, other):
        return int(self) + (int(other) if isinstance(other, Number) else other)

    __radd__ = __add__

    def __sub__(self, other):
        return int(self) - (int(other) if isinstance(other, Number) else other)

    def __rsub__(self, other):
        return other - int(self)

    def __neg__(self) -> int:
        return -int(self)

    def __pos__(self) -> int:
        return int(self)

    def __abs__(self) -> int:
        return int(self)

    def __eq__(self, other) -> bool:
        return int(self) == (int(other) if isinstance(other, Number) else other)

    def __lt__(self, other) -> bool:
        return int(self) < (int(other) if isinstance(other, Number) else other)

    def __le__(self, other) -> bool:
        return int(self) <= (int(other) if isinstance(other, Number) else other)

    def __gt__(self, other) -> bool:
        return int(self) > (int(other) if isinstance(other, Number) else other)

    def __ge__(self, other) -> bool:
        return int(self) >= (int(other) if isinstance(other, Number) else other)

    def __bool__(self) -> bool:
        return bool(int(self))

    def __hash__(self) -> int:
        return hash(int(self))

    # What else an int offers, each as costly: the value is the only way in.
    real = numerator = property(__int__)
    imag = property(lambda self: 0)
    denominator = property(lambda self: 1)

    def conjugate(self) -> int:
        return int(self)

    def bit_length(self) -> int:
        return int(self).bit_length()

    def __repr__(self) -> str:
        return f"Number(seed={self.seed})"


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
