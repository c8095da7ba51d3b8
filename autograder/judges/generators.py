"""The trusted side of the generators assignment: what each probe promises to return.

Values the student's code produced (items, chunks, values) are ``Json`` and
are only compared with ``==``; counts of pulls, sizes, peaks and seconds are
measurements, typed and bounded.
"""

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator
from typing_extensions import NotRequired

from autograder.probes import generators as probe
from autograder.shapes import Json, Name, Pid, Size, Text, TypedDict, listof

MOST = 10_000  # no probe pulls more items than this


class Described(TypedDict):
    """What a call returned: its type, a short repr, and what it is."""

    type: Name
    repr: Text
    is_generator: bool
    is_iterator: bool


class Iterated(Described):
    items: listof(Json, MOST)
    item_types: listof(Name, MOST)
    stopped: bool
    after_stop: listof(Json, 1) | None


class NotIterable(Described):
    items: None
    stopped: Literal[False]


class FreshEachCall(TypedDict):
    type: Name  # of what the first call returned
    is_iterator: bool
    same_object: bool
    first_head: Json
    second_items: listof(Json, MOST)
    is_generator_function: bool


class Sizes(TypedDict):
    small: Size
    large: Size
    trivial: Size
    type: Name


class TakePulls(Described):
    items: listof(Json, MOST)
    stopped: bool


class TakeFromList(Described):
    items: listof(Json, MOST)
    stopped: bool


class _Chunks(TypedDict):
    chunks: listof(Json, MOST)
    types: listof(Name, MOST)


@dataclass(frozen=True)
class _OneTypePerChunk:
    """What probe.chunks always reports: the type of each chunk beside it, and
    a chunk of type list as a list (jsonable), or as jsonable's description
    of an object for a class of the student's named list. Both have a len(),
    which a test takes once the types say "list"."""

    aligned: tuple[str, ...] = ("chunks", "types")  # equal lengths (tests draw them so)

    def __call__(self, seen: dict) -> dict:
        if len(seen["chunks"]) != len(seen["types"]):
            raise ValueError("not one type for each chunk")
        for chunk, kind in zip(seen["chunks"], seen["types"], strict=True):
            if kind == "list" and not isinstance(chunk, (list, dict)):
                raise ValueError("a chunk of type list that is not a list")
        return seen


Chunks = Annotated[_Chunks, AfterValidator(_OneTypePerChunk())]


class ChunksOf(TypedDict):
    chunks: listof(Json, MOST)


class Raises(TypedDict):
    raised: Name | None
    when: Name | None
    is_value_error: bool


class _Took(Described):
    items: listof(Json, MOST)


class _Counted(TypedDict):
    value: Json
    type: Name


class _ParkedError(TypedDict):
    type: Name
    message: Text


class _Parked(TypedDict):
    """Two children of the worker, parked for the supervisor to read their
    peak memory (their pids), and what the measured one computed."""

    measured: Pid
    baseline: Pid
    raised: NotRequired[_ParkedError]


class Cost(_Parked):
    ok: NotRequired[_Took]


class CountCost(_Parked):
    ok: NotRequired[_Counted]


def _two_children(seen: dict) -> dict:
    # Two forks, two pids: one pid for both would pass the measured child off
    # as our baseline.
    if seen["measured"] == seen["baseline"]:
        raise ValueError("one pid for both children")
    return seen


SHAPES = {
    probe.lazy_cost: Annotated[Cost, AfterValidator(_two_children)],
    probe.count_cost: Annotated[CountCost, AfterValidator(_two_children)],
    probe.items: Iterated | NotIterable,
    probe.fresh_each_call: FreshEachCall,
    probe.sizes: Sizes,
    probe.take_pulls: TakePulls,
    probe.take_from_list: TakeFromList,
    probe.chunks: Chunks,
    probe.chunks_of: ChunksOf,
    probe.raises: Raises,
}
