"""Hidden tests for the generators assignment.

Feedback says what is checked and what the student's code did, never the
expected answer of a hidden test.

PYTEST_DONT_REWRITE: feedback is the assert message alone, never pytest's
explanation (which would show a hidden test's expected answer).
"""

import resource

from autograder.errors import StudentFailure
from autograder.probes import generators as probe
from autograder.testing import check

HUGE = 10**18
MEASURED = 10**5
# Memory is judged by the kernel: the peak resident memory (VmHWM) of a
# process forked to make the call, beside one forked to run a trivial
# generator, both read by the supervisor. Creating a lazy object and taking
# three items adds nothing measurable; a list of a million numbers, ~36 MiB.
MEMORY_N = 10**6
MEMORY_ALLOWANCE = 4 * 1024 * 1024
PAGE = resource.getpagesize()
# Taking the first items of a lazy generator of 10**18 items needs next to
# nothing; the supervisor stops a call whose memory grows by more than this
# (far above any lazy version, imports inside the function included), so
# code that builds a list first fails within a fraction of a second instead
# of filling memory until the time-out.
HUGE_MEMORY = 64 * 1024 * 1024


def _mib(size):
    return f"{size / 1024**2:.1f} MiB"


def _extra_memory(seen, what):
    """How much more memory the measured process took than the baseline one,
    as the supervisor read them from /proc: the larger of the growth of its
    peak resident memory (VmHWM) and of the pages it touched or copied on
    write (its page faults, with those of any process it started), so that
    memory already resident when it was forked cannot hide a build."""
    if "raised" in seen.result:
        error = seen.result["raised"]
        raise StudentFailure(f"{what} raised {error['type']}: {error['message']}")
    live = {p["pid"]: p for p in seen.evidence.get("live") or []}
    worker = seen.evidence.get("pid")
    measured, baseline = live.get(seen.result["measured"]), live.get(seen.result["baseline"])
    # Linux reports these for every live process: one missing was not alive.
    for child in (measured, baseline):
        if (child is None or child["ppid"] != worker or child["hwm"] is None
                or child["faults"] is None):
            raise StudentFailure(f"{what}: a process the grader started to measure memory "
                                 "was gone before it could be read; did your code end it?")
    family, grown = {measured["pid"]}, True
    while grown:  # the measured process's own descendants count as its memory
        grown = {p["pid"] for p in live.values() if p["ppid"] in family} - family
        family |= grown
    faults = sum(live[pid]["faults"] or 0 for pid in family) - baseline["faults"]
    return max(measured["hwm"] - baseline["hwm"], faults * PAGE)


def _first_items(student, name, hint):
    """The first 3 items of ``name(10**18)``, taken under HUGE_MEMORY."""
    what = f"{name}(10**18) and taking 3 items"
    try:
        return student.call(probe.items, name, (HUGE,), 3, what=what, memory=HUGE_MEMORY)
    except StudentFailure as failure:
        if failure.kind != "memory":
            raise
        raise StudentFailure(
            f"called {name}(10**18) and took 3 items: creating it had allocated more than "
            f"{_mib(HUGE_MEMORY)} when the grader stopped it. {hint}", kind="memory") from None


# q1 ----------------------------------------------------------------------
@check("q1", after="test_mygenerator_values")
def test_mygenerator_stops(student):
    """mygenerator() stops after its third item and stays stopped"""
    seen = student.call(probe.items, "mygenerator", (), 10, what="list(mygenerator())")
    # items is None when what it returned cannot be iterated at all
    assert seen["items"] is not None, (
        f"mygenerator() returned a {seen['type']}, which cannot be iterated")
    assert seen["stopped"] and len(seen["items"]) == 3, (
        f"it yielded {len(seen['items'])} items{'' if seen['stopped'] else ' and had not stopped'}")
    assert seen["after_stop"] == [], "next() on the finished generator gave another item"


@check("q1")
def test_mygenerator_fresh(student):
    """each call to mygenerator() returns a new, independent generator"""
    seen = student.call(probe.fresh_each_call, "mygenerator",
                        what="mygenerator() called twice")
    # Only a generator (an iterator) can be judged for this: a new list each
    # time is "independent" without being lazy at all.
    assert seen["is_iterator"], (
        f"mygenerator() returned a {seen['type']}, which is not an iterator (next() does not "
        "work on it): a generator function returns a new generator at each call")
    assert not seen["same_object"], "two calls returned the same object"
    assert len(seen["second_items"]) == 3, (
        f"after taking one item from the first generator, the second one yielded "
        f"{seen['second_items']!r}: the two share their state")


@check("q1")
def test_mygenerator_is_generator(student):
    """mygenerator is a generator function (it uses yield)"""
    seen = student.call(probe.items, "mygenerator", (), 10, what="mygenerator()")
    assert seen["is_generator"], (
        f"mygenerator() returned a {seen['type']}, not a generator: write it with `yield`")


# q2 ----------------------------------------------------------------------
@check("q2")
def test_firstn_edges(student):
    """firstn returns a list of the right length, also for n = 0"""
    for n in (0, 1, 1000):
        seen = student.call(probe.call_value, "firstn", (n,), what=f"firstn({n})")
        assert seen["type"] == "list", f"firstn({n}) returned a {seen['type']}, not a list"
        value = seen["value"]
        assert isinstance(value, list) and value == list(range(n)), (
            f"firstn({n}) returned {seen['repr']}, which does not hold 0 … {n}-1")


# q3 ----------------------------------------------------------------------
@check("q3", after="test_firstn_generator_values")
def test_firstn_generator_iterator(student):
    """firstn_generator(n) returns an iterator that stops after n items"""
    # 300 is past the small ints CPython caches (up to 256): a loop that ends
    # on `num is not n` never stops there (mutation study). Under 1000, the
    # most items a probe reports.
    for n in (0, 3, 300):
        seen = student.call(probe.items, "firstn_generator", (n,), n + 5,
                            what=f"firstn_generator({n})")
        assert seen["is_iterator"], (
            f"firstn_generator({n}) returned a {seen['type']}, which is not an iterator; "
            "next() must work on it")
        if n < 10:
            assert seen["stopped"] and seen["items"] == list(range(n)), (
                f"list(firstn_generator({n})) gave {seen['items']!r}")
            continue
        items = seen["items"]
        assert seen["stopped"], (
            f"firstn_generator({n}) had yielded {len(items)} items and had not stopped. "
            "Two equal numbers need not be the same object: compare numbers with < or "
            "==, never with `is`.")
        wrong = next((i for i, item in enumerate(items) if item != i), None)
        assert wrong is None and len(items) == n, (
            f"list(firstn_generator({n})) gave {len(items)} items"
            + ("" if wrong is None else f", and item {wrong} was {items[wrong]!r}"))


@check("q3", weight=2, after="test_firstn_generator_values")
def test_firstn_generator_memory(student):
    """creating firstn_generator(1000000) and taking 3 items allocates almost nothing"""
    what = f"firstn_generator({MEMORY_N}) and taking 3 items"
    extra = _extra_memory(student.observe(probe.lazy_cost, "firstn_generator", (MEMORY_N,), 3,
                                          what=what), what)
    assert extra <= MEMORY_ALLOWANCE, (
        f"called firstn_generator({MEMORY_N}) and took 3 items: the process's peak memory "
        f"grew by {_mib(extra)} (a lazy generator needs well under {_mib(MEMORY_ALLOWANCE)}). "
        "Yield each number as you compute it instead of building a list first.")


@check("q3", weight=2, timeout=3, after="test_firstn_generator_values")
def test_firstn_generator_huge(student):
    """firstn_generator(10**18) yields its first items at once"""
    seen = _first_items(student, "firstn_generator", "A generator yields each number as it "
                        "computes it and allocates nothing up front: do not build a list first.")
    assert seen["items"] == [0, 1, 2] and not seen["stopped"], (
        f"firstn_generator(10**18) gave {seen['items']!r} as its first items")


@check("q3", weight=2, after="test_firstn_generator_values")
def test_firstn_generator_size(student):
    """sys.getsizeof(firstn_generator(n)) does not grow with n"""
    seen = student.call(probe.sizes, "firstn_generator", 10, MEASURED,
                        what="sys.getsizeof(firstn_generator(n))")
    assert seen["large"] <= seen["small"] + 64 and seen["large"] <= 4 * seen["trivial"], (
        f"sys.getsizeof(firstn_generator(10)) is {seen['small']} bytes and for n = {MEASURED} "
        f"it is {seen['large']} bytes ({seen['type']}); a generator on this Python is about "
        f"{seen['trivial']} bytes whatever n is.")


# q4 ----------------------------------------------------------------------
@check("q4")
def test_evens_type(student):
    """evens(n) returns a generator (types.GeneratorType)"""
    seen = student.call(probe.items, "evens", (10,), 0, what="evens(10)")
    assert seen["is_generator"], (
        f"evens(10) returned a {seen['type']}; use round brackets: (i for i in …)")


@check("q4", after="test_evens_values")
def test_evens_edges(student):
    """evens(n) is right for odd n and for n = 0"""
    for n in (0, 1, 7, 100):
        seen = student.call(probe.items, "evens", (n,), n + 5, what=f"list(evens({n}))")
        assert seen["items"] == list(range(0, n, 2)), f"list(evens({n})) gave {seen['items']!r}"


@check("q4", after="test_evens_values")
def test_evens_memory(student):
    """creating evens(1000000) and taking 3 items allocates almost nothing"""
    what = f"evens({MEMORY_N}) and taking 3 items"
    extra = _extra_memory(student.observe(probe.lazy_cost, "evens", (MEMORY_N,), 3, what=what),
                          what)
    assert extra <= MEMORY_ALLOWANCE, (
        f"called evens({MEMORY_N}) and took 3 items: the process's peak memory grew by "
        f"{_mib(extra)}. "
        "A generator expression allocates nothing up front, but only if it loops over "
        "something lazy (a range), not over a list you build first.")


@check("q4", timeout=3, after="test_evens_values")
def test_evens_huge(student):
    """evens(10**18) yields its first items at once"""
    seen = _first_items(student, "evens", "A generator expression allocates nothing up front, "
                        "but only if it loops over something lazy (a range), not over a list "
                        "you build first.")
    assert seen["items"] == [0, 2, 4], f"evens(10**18) began with {seen['items']!r}"


@check("q4", after="test_evens_values")
def test_evens_size(student):
    """sys.getsizeof(evens(n)) does not grow with n"""
    seen = student.call(probe.sizes, "evens", 10, MEASURED, what="sys.getsizeof(evens(n))")
    assert seen["large"] <= seen["small"] + 64 and seen["large"] <= 4 * seen["trivial"], (
        f"sys.getsizeof(evens(10)) is {seen['small']} bytes and for n = {MEASURED} it is "
        f"{seen['large']} bytes; a generator on this Python is about {seen['trivial']} bytes.")


# q5 ----------------------------------------------------------------------
@check("q5")
def test_count_evens_values(student):
    """count_evens(n) is right for small, odd and large n"""
    for n in (0, 1, 2, 7, 100_001):
        seen = student.call(probe.call_value, "count_evens", (n,), what=f"count_evens({n})")
        assert seen["value"] == len(range(0, n, 2)), (
            f"count_evens({n}) returned {seen['repr']}, which is not the number of even "
            f"numbers in range({n})")


@check("q5", weight=2, after="test_count_evens_ten")
def test_count_evens_memory(student):
    """count_evens(600000) builds no list of the even numbers"""
    # A list of its 300,000 even numbers is ~11 MiB, far above the allowance;
    # a larger n only makes every correct submission count for longer.
    n = 6 * 10**5
    what = f"count_evens({n})"
    extra = _extra_memory(student.observe(probe.count_cost, "count_evens", n, what=what), what)
    assert extra <= MEMORY_ALLOWANCE, (
        f"called count_evens({n}): the process's peak memory grew by {_mib(extra)}. Count as "
        "you go (sum over a generator expression, or arithmetic) instead of building a list.")


# q6 ----------------------------------------------------------------------
# The counting source is the supervisor's pipe: how many items were taken is
# read from the kernel once the student's process has ended, so nothing in
# that process can lower it.
def _take(student, n, length, limit, what):
    seen = student.observe(probe.take_pulls, n, limit, source=length, what=what)
    return seen.result, seen.evidence["pulled"]


@check("q6")
def test_take_creates_lazily(student):
    """creating take(5, source) pulls nothing from the source"""
    _, pulled = _take(student, 5, -1, 0, "take(5, source)")
    assert pulled == 0, (
        f"creating take(5, source) already pulled {pulled} items from the source; pull "
        "each item only when your iterator is asked for one")


@check("q6")
def test_take_returns_iterator(student):
    """take(n, iterable) returns an iterator"""
    seen, _ = _take(student, 2, 10, 5, "take(2, source)")
    assert seen["is_iterator"], f"take returned a {seen['type']}, which is not an iterator"


@check("q6", after="test_take_values")
def test_take_infinite(student):
    """take(5, an infinite source) yields 5 items and pulls exactly 5"""
    seen, pulled = _take(student, 5, -1, 20, "list(take(5, infinite source))")
    assert seen["stopped"] and len(seen["items"]) == 5, (
        f"take(5, infinite source) yielded {len(seen['items'])} items"
        f"{' and did not stop' if not seen['stopped'] else ''}")
    assert pulled == 5, f"exhausting it pulled {pulled} items from the source"


@check("q6", after="test_take_values")
def test_take_never_one_more(student):
    """exhausting take(3, a longer source) pulls exactly 3 items, never one more"""
    _, pulled = _take(student, 3, 10, 20, "list(take(3, source of 10 items))")
    assert pulled == 3, (
        f"exhausting take(3, source) pulled {pulled} items from a source of 10. "
        "Stop before asking the source for the item after the last one you need: that item "
        "would be lost to whoever reads the source next.")


@check("q6", after="test_take_values")
def test_take_short_and_zero(student):
    """take(n, source) on a shorter source, and take(0, source)"""
    seen, _ = _take(student, 10, 4, 20, "list(take(10, source of 4 items))")
    assert seen["stopped"] and seen["items"] == [0, 1, 2, 3], (
        f"take(10, a source of 4 items) yielded {seen['items']!r}")
    seen, pulled = _take(student, 0, -1, 5, "list(take(0, infinite source))")
    assert seen["items"] == [] and pulled == 0, (
        f"take(0, source) yielded {len(seen['items'])} items and pulled {pulled}")


# q7 ----------------------------------------------------------------------
@check("q7", after="test_chunked_values")
def test_chunked_lists(student):
    """chunked yields lists, a shorter last one, and nothing for an empty source"""
    seen = student.observe(probe.chunks, 4, 10, source=10,
                           what="list(chunked(source of 10, 4))").result
    assert all(t == "list" for t in seen["types"]), (
        f"chunked yielded {', '.join(sorted(set(seen['types'])))} objects, not lists")
    sizes = [len(chunk) for chunk in seen["chunks"]]
    assert sizes == [4, 4, 2], f"chunked(source of 10 items, 4) yielded chunks of sizes {sizes}"
    seen = student.observe(probe.chunks, 3, 5, source=0, what="list(chunked([], 3))").result
    assert seen["chunks"] == [], f"chunked of an empty source yielded {seen['chunks']!r}"


@check("q7")
def test_chunked_creates_lazily(student):
    """creating chunked(source, 3) pulls nothing from the source"""
    pulled = student.observe(probe.chunks, 3, 0, source=-1,
                             what="chunked(infinite source, 3)").evidence["pulled"]
    assert pulled == 0, (
        f"creating chunked(source, 3) already pulled {pulled} items; "
        "pull items only when the next chunk is asked for")


@check("q7", timeout=3, after="test_chunked_values")
def test_chunked_infinite(student):
    """chunked works lazily on an infinite source: k chunks pull at most k*size items"""
    for k in (1, 4):
        seen = student.observe(probe.chunks, 3, k, source=-1,
                               what=f"taking {k} chunk(s) of chunked(infinite, 3)")
        assert len(seen.result["chunks"]) == k, f"got {len(seen.result['chunks'])} chunks"
        pulled = seen.evidence["pulled"]
        assert pulled <= 3 * k, (
            f"after {k} chunk(s) of size 3, {pulled} items had been pulled from the source")


@check("q7")
def test_chunked_bad_size(student):
    """chunked(iterable, size) raises ValueError for size 0 and size -1"""
    for size in (0, -1):
        seen = student.call(probe.raises, "chunked", ([1, 2, 3], size),
                            what=f"chunked([1, 2, 3], {size})")
        assert seen["is_value_error"], (
            f"chunked([1, 2, 3], {size}) "
            f"{'raised ' + seen['raised'] if seen['raised'] else 'raised nothing'}; "
            "it should raise ValueError")


@check("q7", after="test_chunked_values")
def test_chunked_sizes(student):
    """chunked with size 1, and with a size larger than the data"""
    seen = student.call(probe.chunks_of, [5, 6, 7], 1, what="list(chunked([5, 6, 7], 1))")
    assert seen["chunks"] == [[5], [6], [7]], f"chunked([5, 6, 7], 1) gave {seen['chunks']!r}"
    seen = student.call(probe.chunks_of, [5, 6, 7], 10, what="list(chunked([5, 6, 7], 10))")
    assert seen["chunks"] == [[5, 6, 7]], f"chunked([5, 6, 7], 10) gave {seen['chunks']!r}"
