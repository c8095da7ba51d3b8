"""The trusted judges: what every probe promises to return, and the wording of feedback.

Code here runs in the grader, never in the student process, and decides
nothing by itself: the hidden and public tests do. Each assignment has a
module (``generators``, ``threads``, ``processes``) whose ``SHAPES`` maps each
of its probes to the shape of its observation (``autograder.shapes``);
``shape_of`` finds it for ``Student`` (``testing.py``), which checks every
answer against it before a test reads it. A probe with no declared shape is
a bug of the grader (``NoShape``), never the student's fault.

These modules hold what the public tests, the engine and the shapes need:
the student package carries them. A judge that only hidden tests use lives
beside those tests, in their own folder, which that package leaves out.
Every probe's shape stays here, hidden tests' probes included: the probes
themselves ship to students, and ``shape_of`` must find each one.
"""

from typing import Annotated, Any, Literal

from annotated_types import MaxLen

from autograder.judges import generators, processes, threads
from autograder.probes import common
from autograder.shapes import (
    ByArguments,
    Count,
    Error,
    Json,
    Name,
    Text,
    TypedDict,
    listof,
)


class NoShape(LookupError):
    """A probe was called whose observation has no declared shape (the grader's bug)."""


class Called(TypedDict):
    """common.call: what a function of the submission returned."""

    value: Json
    type: Name
    repr: Text


class CellError(TypedDict):
    cell: Count
    line: Count | None
    type: Name
    message: Text


class Loaded(TypedDict):
    """The load report (answered by the runner, after the submission ran at import)."""

    status: Literal["loaded"]
    errors: listof(Error, 50)
    cell_errors: listof(CellError, 50)
    # every global name of the submission: any length, a bounded number of them
    defined: Annotated[dict[str, str], MaxLen(10_000)]


class NotLoaded(TypedDict):
    status: Literal["failed"]
    error: Error


COMMON = {
    common.call: Called,
    common.load_report: Loaded | NotLoaded,
}


def _by_name(*tables: dict) -> dict[tuple[str, str], Any]:
    # By (module, name), as the runner finds a probe: a module imported again
    # gives new function objects, the same names.
    found: dict[tuple[str, str], Any] = {}
    for table in tables:
        for probe, shape in table.items():
            key = (probe.__module__, probe.__name__)
            if key in found and found[key] != shape:
                raise ValueError(f"two shapes for the probe {key[0]}.{key[1]}")
            found[key] = shape
    return found


SHAPES = _by_name(COMMON, generators.SHAPES, threads.SHAPES, processes.SHAPES)


def shape_of(probe: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
    """The shape that ``probe(module, *args, **kwargs)`` promises."""
    key = (getattr(probe, "__module__", None), getattr(probe, "__name__", None))
    if key not in SHAPES:
        raise NoShape(f"the probe {key[0]}.{key[1]} declares no shape: add it to the "
                      "SHAPES of its assignment in autograder/judges/")
    shape = SHAPES[key]
    if isinstance(shape, ByArguments):
        return shape(tuple(args), dict(kwargs or {}))
    return shape
