"""The trusted side of the generators assignment: what each probe promises to return.

Values the student's code produced (items, chunks, values) are ``Json`` and
are only compared with ``==``; counts of pulls, sizes, peaks and seconds are
measurements, typed and bounded.
"""

from typing import Literal

from autograder.probes import generators as probe
from autograder.shapes import Json, Name, Seconds, Size, Text, TypedDict, listof

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


class Chunks(TypedDict):
    chunks: listof(Json, MOST)
    types: listof(Name, MOST)


class ChunksOf(TypedDict):
    chunks: listof(Json, MOST)


class Raises(TypedDict):
    raised: Name | None
    when: Name | None
    is_value_error: bool


class Cost(Described):
    items: listof(Json, MOST)
    seconds: Seconds
    peak: Size
    baseline_seconds: Seconds
    baseline_peak: Size


class CountCost(TypedDict):
    value: Json
    type: Name
    peak: Size


SHAPES = {
    probe.cost: Cost,
    probe.count_cost: CountCost,
    probe.items: Iterated | NotIterable,
    probe.fresh_each_call: FreshEachCall,
    probe.sizes: Sizes,
    probe.take_pulls: TakePulls,
    probe.take_from_list: TakeFromList,
    probe.chunks: Chunks,
    probe.chunks_of: ChunksOf,
    probe.raises: Raises,
}
