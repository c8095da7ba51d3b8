"""Length-prefixed frames over pipes, shared by the grader and the student process.

The grader sends pickles (it is trusted, the student process may unpickle
them); the student process sends JSON only, because the grader must never
unpickle what an untrusted process wrote.
"""

from __future__ import annotations

import builtins
import os
import struct

# Our own copy of the builtins, taken before any student code runs: a
# submission that patches builtins (len, isinstance, ...) does not reach us.
__builtins__ = dict(vars(builtins))

HEADER = struct.Struct(">I")
MAX_FRAME = 8 * 1024 * 1024


class FrameTooLarge(Exception):
    """The peer announced a frame over the size we accept."""


def write_frame(fd: int, payload: bytes) -> None:
    data = HEADER.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exact(fd: int, size: int) -> bytes | None:
    """Read exactly ``size`` bytes, or None at end of file."""
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, limit: int = MAX_FRAME) -> bytes | None:
    """Read one frame (blocking), or None when the writer has gone."""
    header = read_exact(fd, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > limit:
        raise FrameTooLarge(f"a frame of {size} bytes is over the {limit}-byte limit")
    return read_exact(fd, size)
