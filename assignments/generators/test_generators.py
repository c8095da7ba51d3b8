"""Public checks for the generators assignment. Run them with

    advpy check generators.py        (or generators.ipynb)

The grader runs these and more: passing them all does not mean full marks.

PYTEST_DONT_REWRITE: feedback is the assert message alone, never pytest's
explanation (which would show a hidden test's expected answer).
"""

from autograder.probes import generators as probe
from autograder.testing import check


@check("q1", hidden=False)
def test_mygenerator_values(student):
    """mygenerator() yields 1, 2, 3"""
    seen = student.call(probe.items, "mygenerator", (), 10, what="list(mygenerator())")
    assert seen["is_iterator"], (
        f"mygenerator() returned a {seen['type']}, which is not an iterator (next() does not "
        "work on it): write mygenerator with `yield`")
    assert seen["items"] == [1, 2, 3], f"list(mygenerator()) gave {seen['items']!r}, not [1, 2, 3]"


@check("q2", hidden=False)
def test_firstn_values(student):
    """firstn(5) returns [0, 1, 2, 3, 4]"""
    seen = student.call(probe.call_value, "firstn", (5,), what="firstn(5)")
    assert seen["value"] == [0, 1, 2, 3, 4] and seen["type"] == "list", (
        f"firstn(5) returned {seen['repr']} ({seen['type']}), not the list [0, 1, 2, 3, 4]")


@check("q3", hidden=False)
def test_firstn_generator_values(student):
    """firstn_generator(5) yields 0, 1, 2, 3, 4"""
    seen = student.call(probe.items, "firstn_generator", (5,), 10,
                        what="list(firstn_generator(5))")
    assert seen["items"] == [0, 1, 2, 3, 4], (
        f"list(firstn_generator(5)) gave {seen['items']!r}, not [0, 1, 2, 3, 4]")


@check("q4", hidden=False)
def test_evens_values(student):
    """evens(10) yields 0, 2, 4, 6, 8"""
    seen = student.call(probe.items, "evens", (10,), 20, what="list(evens(10))")
    assert seen["items"] == [0, 2, 4, 6, 8], (
        f"list(evens(10)) gave {seen['items']!r}, not [0, 2, 4, 6, 8]")


@check("q5", hidden=False)
def test_count_evens_ten(student):
    """count_evens(10) is 5"""
    seen = student.call(probe.call_value, "count_evens", (10,), what="count_evens(10)")
    assert seen["value"] == 5, f"count_evens(10) returned {seen['repr']}, not 5"


@check("q6", hidden=False)
def test_take_values(student):
    """take(3, [10, 20, 30, 40]) yields 10, 20, 30"""
    seen = student.call(probe.take_from_list, 3, [10, 20, 30, 40],
                        what="list(take(3, [10, 20, 30, 40]))")
    assert seen["items"] == [10, 20, 30], (
        f"list(take(3, [10, 20, 30, 40])) gave {seen['items']!r}, not [10, 20, 30]")


@check("q7", hidden=False)
def test_chunked_values(student):
    """chunked(range(7), 3) yields [0, 1, 2], [3, 4, 5], [6]"""
    seen = student.call(probe.chunks_of, list(range(7)), 3, what="list(chunked(range(7), 3))")
    assert seen["chunks"] == [[0, 1, 2], [3, 4, 5], [6]], (
        f"list(chunked(range(7), 3)) gave {seen['chunks']!r}, not [[0, 1, 2], [3, 4, 5], [6]]")
