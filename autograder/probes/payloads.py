"""What the grader hands to the student's code in the processes assignment.

The student's code calls these objects, pickles them to its worker processes
(by reference to this importable module, so that fork, spawn and forkserver
all work) and can reach this module's globals through them
(``work.__globals__``, ``type(target).__call__.__globals__``; reading them is
not audited). So nothing here observes, counts or reports for the judge:
these are plain workloads whose results the judge checks against values
computed by trusted code, and whose CPU and wall time the supervisor measures
from outside (``autograder.probes.processes`` says how). Every function and
method binds what it uses as keyword-only defaults (``tests/test_layout.py``
checks that none reads a global when called), so that rewriting this module's
names changes nothing, not even in the calls a probe makes after handing
these objects over (``int()`` of a ``Number``).

- ``mix(seed, iterations)`` is the CPU-bound loop: a chain of SHA-256 rounds
  from a seed the judge picks for each call, which cannot be computed without
  running every round, nor much faster in any other language (the rounds are
  hashing, in C already). Its result proves the work was done.
- ``work(item)`` waits ``seconds`` (I/O-bound) and returns
  ``mix(seed, iterations)`` (CPU-bound), for ``item = (seed, iterations, seconds)``.
  Where the judge times the waits, an item adds the address of the grader's
  salt server (``probes/machine.py``, a process of the supervisor's): then
  the wait is the server's, which releases the item's salt only ``seconds``
  after it was asked (the seconds the grader told it, not the item's), and
  ``work`` returns ``mix(seed ^ salt, iterations)``. No value can be had
  without waiting: rewriting the item's seconds, or this module's ``time``,
  skips nothing.
- ``square(x)`` is ``x * x``, for checking values and order.
- ``Number(seed, iterations[, salts])`` is a whole number whose value costs
  that loop to know: parallel_sum_of_squares gets them, and the CPU of
  squaring shows in the process that squares them. With the address of a
  salt server, its value needs its salt too, so the server names the
  process that squared it (how the judge counts the child processes).
- ``Recorder(address, nonces, iterations)`` is a target for ``run_processes``:
  it connects to the probe's Unix socket (so that the kernel tells the probe
  which process it runs in: SO_PEERCRED), takes a nonce the judge picked from
  the probe's FIFO (each nonce is read by one process only), and answers
  ``mix(nonce, iterations)``: a process that did not run the loop cannot say
  it ran the target. It keeps the connection open until its process ends.
  With a gate (a salt server's address), it first asks the server for its
  nonce's salt, which the server holds until all the call's targets wait at
  once: run one after another, they never do.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import socket
import time

__builtins__ = dict(vars(builtins))

MASK = (1 << 48) - 1  # results stay exact in JSON
BLOCK = 63  # copies of the 32-byte state hashed each round: 2016 bytes, under
# hashlib's 2048, so that the GIL is held (threads take turns, as for any Python code)
WORD = 8  # bytes of a seed, a salt, a nonce or an answer on the wire (little-endian)
NO_NONCE = b"none"  # what a Recorder says when every nonce was taken


def mix(seed: int, iterations: int, *, _sha=hashlib.sha256, _mask=MASK, _block=BLOCK,
        _range=range, _from=int.from_bytes) -> int:
    """``iterations`` rounds of SHA-256 over 63 copies of the state, starting
    from ``seed``; the first 48 bits of the last digest. Almost all of its
    time is hashing, which no other implementation does much faster, and no
    round can start before the one before it ends."""
    state = (seed & _mask).to_bytes(32, "little")
    for _ in _range(iterations):
        state = _sha(state * _block).digest()
    return _from(state[:6], "little")


def _ask(address: str, seed: int, *, _socket=socket.socket, _family=socket.AF_UNIX,
         _kind=socket.SOCK_STREAM, _word=WORD, _mask=MASK, _len=len,
         _from=int.from_bytes, _error=ConnectionError, _any=BaseException) -> tuple:
    """Ask the grader's salt server for the salt of the item ``seed``: it
    answers once the item's wait is over (and its group, if any, gathered).
    Returns the connection, still open, and the salt."""
    connection = _socket(_family, _kind)
    try:
        connection.connect(address)
        connection.sendall((seed & _mask).to_bytes(_word, "little"))
        data = b""
        while _len(data) < _word:
            chunk = connection.recv(_word - _len(data))
            if not chunk:
                raise _error("the grader's salt server did not answer for this item")
            data += chunk
    except _any:  # not left open: only a released salt's connection is kept
        connection.close()
        raise
    return connection, _from(data, "little")


def _salt(address: str, seed: int, *, _ask=_ask) -> int:
    """The salt of the item ``seed`` (see ``_ask``), hanging up at once."""
    connection, salt = _ask(address, seed)
    connection.close()
    return salt


def work(item, *, _mix=mix, _salt=_salt, _sleep=time.sleep, _len=len) -> int:
    """``item`` is (seed, iterations, seconds[, salts]): wait ``seconds``, then
    return ``mix(seed, iterations)``; with the address of the grader's salt
    server, wait for the item's salt instead and return ``mix(seed ^ salt,
    iterations)``."""
    seed, iterations, seconds, *salts = item
    if _len(salts) and salts[0] is not None:
        return _mix(seed ^ _salt(salts[0], seed), iterations)
    if seconds:
        _sleep(seconds)
    return _mix(seed, iterations)


def square(x):
    """x * x, and nothing else: for checking values and order."""
    return x * x


class Number:
    """A whole number below 2**20 that costs CPU to know, for
    parallel_sum_of_squares: its value is ``mix(seed, iterations)`` modulo
    2**20, computed the first time the process holding it needs it (to
    square it, add it, or turn it into an int). So the CPU of squaring shows
    in the process that squares it, and ``int(x)`` does not escape that.
    It pickles as its seed, never as its value.

    Its arithmetic works on ``int(self)`` and leaves the other operand to
    Python: ``int * Number`` falls back on ``Number.__rmul__``, so nothing
    here needs to know the class by name."""

    __slots__ = ("seed", "iterations", "salts", "known")

    def __init__(self, seed: int, iterations: int, salts: str | None = None) -> None:
        self.seed = seed
        self.iterations = iterations
        self.salts = salts
        self.known = None

    def __reduce__(self, *, _type=type):
        return (_type(self), (self.seed, self.iterations, self.salts))

    def __int__(self, *, _mix=mix, _salt=_salt, _bits=(1 << 20) - 1) -> int:
        if self.known is None:
            # With a salt server, knowing the value needs its salt: the server
            # names (SO_PEERCRED) the process that squares this number.
            salt = 0 if self.salts is None else _salt(self.salts, self.seed)
            self.known = _mix(self.seed ^ salt, self.iterations) & _bits
        return self.known

    __index__ = __int__

    def __float__(self, *, _float=float, _int=int) -> float:
        return _float(_int(self))

    def __mul__(self, other, *, _int=int):
        return _int(self) * other

    def __rmul__(self, other, *, _int=int):
        return other * _int(self)

    def __pow__(self, exponent, modulo=None, *, _int=int, _pow=pow):
        return _pow(_int(self), exponent, modulo)

    def __rpow__(self, base, modulo=None, *, _int=int, _pow=pow):
        return _pow(base, _int(self), modulo)

    def __add__(self, other, *, _int=int):
        return _int(self) + other

    def __radd__(self, other, *, _int=int):
        return other + _int(self)

    def __sub__(self, other, *, _int=int):
        return _int(self) - other

    def __rsub__(self, other, *, _int=int):
        return other - _int(self)

    def __neg__(self, *, _int=int) -> int:
        return -_int(self)

    def __pos__(self, *, _int=int) -> int:
        return _int(self)

    def __abs__(self, *, _int=int) -> int:
        return _int(self)

    # Comparisons with another Number fall back on its reflected method.
    def __eq__(self, other, *, _int=int) -> bool:
        return _int(self) == other

    def __lt__(self, other, *, _int=int) -> bool:
        return _int(self) < other

    def __le__(self, other, *, _int=int) -> bool:
        return _int(self) <= other

    def __gt__(self, other, *, _int=int) -> bool:
        return _int(self) > other

    def __ge__(self, other, *, _int=int) -> bool:
        return _int(self) >= other

    def __bool__(self, *, _int=int, _bool=bool) -> bool:
        return _bool(_int(self))

    def __hash__(self, *, _int=int, _hash=hash) -> int:
        return _hash(_int(self))

    # What else an int offers, each as costly: the value is the only way in.
    real = numerator = property(__int__)
    imag = property(lambda self: 0)
    denominator = property(lambda self: 1)

    def conjugate(self, *, _int=int) -> int:
        return _int(self)

    def bit_length(self, *, _int=int) -> int:
        return _int(self).bit_length()

    def __repr__(self) -> str:
        return f"Number(seed={self.seed})"


def _nonce(path: str, *, _open=os.open, _read=os.read, _close=os.close,
           _flags=os.O_RDONLY | os.O_NONBLOCK, _word=WORD, _len=len, _from=int.from_bytes,
           _error=OSError) -> int | None:
    """The next nonce in the probe's FIFO (a read of 8 bytes from a pipe is
    whole, and no other reader gets it), or None when none is left."""
    try:
        fd = _open(path, _flags)
    except _error:
        return None
    try:
        data = _read(fd, _word)
    except _error:  # empty: every nonce was taken
        return None
    finally:
        _close(fd)
    return _from(data, "little") if _len(data) == _word else None


class Recorder:
    """A target for run_processes: connect to ``address`` (a Unix socket of
    the probe), take a nonce from the FIFO ``nonces``, run ``iterations``
    rounds of the mix from it and send the nonce and the result; keep the
    connection until this process ends (the kernel closes it then).

    With a ``gate`` (the address of the grader's salt server), ask it for
    the salt of the nonce before the work: the server holds it until every
    target of the call is waiting at once, and keeps the connection too, so
    that it knows when each target's process ended."""

    def __init__(self, address: str, nonces: str, iterations: int,
                 gate: str | None = None) -> None:
        self.address = address
        self.nonces = nonces
        self.iterations = iterations
        self.gate = gate
        self.held: list = []

    def __getstate__(self) -> dict:
        # A connection does not pickle (spawn, forkserver): each process makes its own.
        return {"address": self.address, "nonces": self.nonces,
                "iterations": self.iterations, "gate": self.gate, "held": []}

    def __call__(self, *, _socket=socket.socket, _family=socket.AF_UNIX,
                 _kind=socket.SOCK_STREAM, _nonce=_nonce, _ask=_ask, _mix=mix, _word=WORD,
                 _none=NO_NONCE) -> None:
        connection = _socket(_family, _kind)
        connection.connect(self.address)
        self.held.append(connection)
        nonce = _nonce(self.nonces)
        if nonce is None:
            connection.sendall(_none)
            return
        if self.gate is not None:
            self.held.append(_ask(self.gate, nonce)[0])
        answer = _mix(nonce, self.iterations)
        connection.sendall(nonce.to_bytes(_word, "little") + answer.to_bytes(_word, "little"))
