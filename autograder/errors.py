"""The exceptions that cross the grader's layers, in a leaf module.

The student process's side (``child``), the test author's API (``testing``)
and the trusted judges (``shapes``, ``judges``) all raise or catch these;
keeping them here lets each of those import them without importing one
another.
"""

from __future__ import annotations


class ChannelBroken(Exception):
    """The student process stopped answering, or answered nonsense."""


class StudentFailure(AssertionError):
    """The student's code is at fault; the message is the feedback. ``kind``
    is the answer's status when the call itself failed (timeout, died, ...)."""

    def __init__(self, message: str, kind: str = "failed") -> None:
        super().__init__(message)
        self.kind = kind
