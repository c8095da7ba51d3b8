"""Every judge survives whatever the student process sends back.

For every graded test of every assignment (the hidden tests and the public
ones), the test function runs against a student process that answers each
probe call with what hypothesis draws: observations of the probe's declared
shape (ordinary, and with extreme numbers and lengths), arbitrary JSON
(``None``, wrong types, huge numbers, NaN, nested junk), shape-valid answers
with one field spoiled, and failed calls. Each run must end as a pass or an
AssertionError (StudentFailure, "the grader could not read ..."), never as
any other exception, which the engine would count as a grader error.

The values of a shape are drawn by ``values`` below rather than by
``st.from_type``: it knows ``Json`` (a recursive alias from_type cannot
resolve), the edges of each range for near misses, the lengths that
``shapes.per_case`` and ``shapes.keyed`` promise, and the constants a test
compares fields with (``hints_of``), which lead the judge past its first
check to the arithmetic after it.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import math
import types
import typing
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
import pydantic
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typing_extensions import NotRequired, Required, is_typeddict

from autograder import assignments, judges, shapes
from autograder.child import Limits
from autograder.errors import ChannelBroken
from autograder.testing import Student

EXAMPLES = 20
CALLS = 40  # a test that asks for more probe calls than this is stuck in a loop


# -- arbitrary JSON ----------------------------------------------------------------
def _scalars(finite: bool) -> st.SearchStrategy:
    numbers = st.floats(allow_nan=not finite, allow_infinity=not finite)
    return st.one_of(st.none(), st.booleans(), st.integers(),
                     st.integers(min_value=2**63, max_value=10**40).map(lambda n: -n),
                     st.integers(min_value=2**63, max_value=10**40), numbers,
                     st.text(max_size=12))


@cache
def json_values(finite: bool = False) -> st.SearchStrategy:
    """Anything json.loads can give (NaN and infinity included unless ``finite``)."""
    return st.recursive(
        _scalars(finite),
        lambda inner: st.one_of(st.lists(inner, max_size=4),
                                st.dictionaries(st.text(max_size=8), inner, max_size=4)),
        max_leaves=10)


# -- values of a declared shape --------------------------------------------------------
def _bounds(metadata: list) -> dict:
    found: dict = {}
    for item in metadata:
        if isinstance(item, at.Interval):
            found.update({k: v for k, v in vars(item).items() if v is not None})
        for name in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            if hasattr(item, name) and not isinstance(item, at.Interval):
                found[name] = getattr(item, name)
    return found


def _validator(metadata: list) -> object | None:
    for item in metadata:
        if isinstance(item, pydantic.AfterValidator):
            return item.func
    return None


def _numbers(kind: type, bounds: dict, extreme: bool) -> st.SearchStrategy:
    low = bounds.get("ge", bounds.get("gt"))
    high = bounds.get("le", bounds.get("lt"))
    if kind is int:
        low = None if low is None else math.ceil(low) + ("gt" in bounds)
        high = None if high is None else math.floor(high) - ("lt" in bounds)
        if extreme:
            edges = [x for x in (low, high, 0, 1, -1, 2**53, -(2**53), 10**30)
                     if x is not None and (low is None or x >= low)
                     and (high is None or x <= high)]
            return st.sampled_from(edges)
        # Small numbers too: the counts a judge expects (6 threads, 10 calls) are small.
        near = (max(-3 if low is None else low, -3), min(12 if high is None else high, 12))
        anything = st.integers(low, high)
        return st.one_of(st.integers(*near), anything) if near[0] <= near[1] else anything
    if extreme:
        edges = [x for x in (low, high, 0.0, 5e-324, 1e-9, 1e308, -1e308)
                 if x is not None and (low is None or x >= low) and (high is None or x <= high)]
        return st.sampled_from(edges)
    return st.floats(low, high, allow_nan=False, allow_infinity=False,
                     exclude_min="gt" in bounds, exclude_max="lt" in bounds)


@cache
def values(shape: Any, extreme: bool = False, metadata: tuple = (),
           hints: tuple = ()) -> st.SearchStrategy:
    """Values that fit ``shape``; with ``extreme``, at the edges of its ranges
    and lengths (the near misses that crash a judge: empty lists, zeros, huge
    numbers). A field named in ``hints`` (see ``hints_of``) often takes one of
    the values given there."""
    bounds = _bounds(list(metadata))
    origin = get_origin(shape)
    if shape is shapes.Json or shape is Any:
        return json_values(finite=True)
    if origin in (NotRequired, Required):
        return values(get_args(shape)[0], extreme, metadata, hints)
    if origin is Annotated:
        base, *more = get_args(shape)
        return values(base, extreme, (*metadata, *more), hints)
    if shape is None or shape is type(None):
        return st.none()
    if shape is bool:
        return st.booleans()
    if shape in (int, float):
        return _numbers(shape, bounds, extreme)
    if shape is str:
        most = bounds.get("max_length", 40)
        if extreme:
            return st.sampled_from(["", "x" * most])
        return st.text(max_size=min(most, 20))
    if origin is Literal:
        return st.sampled_from(get_args(shape))
    if origin in (Union, types.UnionType):
        return st.one_of([values(option, extreme, (), hints) for option in get_args(shape)])
    check = _validator(list(metadata))
    if origin is list:
        (item,) = get_args(shape)
        least, most = bounds.get("min_length", 0), bounds.get("max_length", 8)
        cases = getattr(check, "cases", None)
        if cases is not None:  # shapes.per_case: one observation per case
            least = most = cases
        if extreme:
            sizes = sorted({least, min(most, 40)})
            return st.sampled_from(sizes).flatmap(
                lambda n: st.lists(values(item, extreme, (), hints), min_size=n, max_size=n))
        return st.lists(values(item, False, (), hints), min_size=least,
                        max_size=max(least, min(most, 6)))
    if origin is tuple:
        return st.tuples(*[values(item, extreme, (), hints) for item in get_args(shape)]).map(list)
    if origin is dict:
        key, value = get_args(shape)
        keys = getattr(check, "keys", None)
        if keys is not None:  # shapes.keyed: exactly these keys
            return st.fixed_dictionaries({k: values(value, extreme, (), hints)
                                          for k in sorted(keys)})
        return st.dictionaries(values(key), values(value, extreme, (), hints), max_size=4)
    if is_typeddict(shape):
        fields = typing.get_type_hints(shape, include_extras=True)
        given = dict(hints)

        def field(key: str) -> st.SearchStrategy:
            plain = values(fields[key], extreme, (), hints)
            if key not in given:
                return plain
            return st.one_of(st.sampled_from([json.loads(v) for v in given[key]]), plain)

        drawn = st.fixed_dictionaries({k: field(k) for k in sorted(shape.__required_keys__)},
                                      optional={k: field(k) for k in
                                                sorted(shape.__optional_keys__)})
        if check is None:
            return drawn
        aligned = getattr(check, "aligned", ())
        if aligned:  # lists that line up (one type per chunk): cut them to the shortest
            drawn = drawn.map(lambda seen: _cut(seen, aligned))
        return drawn.filter(lambda seen: _passes(check, seen))
    raise TypeError(f"no strategy for the shape {shape!r}")


def _cut(seen: dict, aligned: tuple) -> dict:
    shortest = min(len(seen[key]) for key in aligned)
    return {**seen, **{key: seen[key][:shortest] for key in aligned}}


def _passes(check, seen: dict) -> bool:
    try:
        check(seen)
    except ValueError:
        return False
    return True


def hints_of(test) -> tuple:
    """The constants the test's module compares fields with (``seen["calls"]
    == 10``, ``report["barrier_missed"] == 0``): answers that satisfy a check
    reach the checks after it, where a judge does its arithmetic."""
    return _hints(inspect.getsourcefile(test))


@cache
def _hints(path: str) -> tuple:
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    found: dict[str, set] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        keys = [side.slice.value for side in sides if isinstance(side, ast.Subscript)
                and isinstance(side.slice, ast.Constant) and isinstance(side.slice.value, str)]
        for side in sides:
            try:
                value = ast.literal_eval(side)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            options = [value, *value] if isinstance(value, (tuple, list, set)) else [value]
            for key in keys:
                found.setdefault(key, set()).update(
                    json.dumps(list(v) if isinstance(v, (tuple, set)) else v)
                    for v in options)
    return tuple(sorted((key, tuple(sorted(found[key]))) for key in found))


def spoiled(value: object) -> st.SearchStrategy:
    """``value`` with one part replaced by junk, or removed."""
    if isinstance(value, dict) and value:
        keys = st.sampled_from(sorted(value))
        return st.one_of(
            st.tuples(keys, json_values()).map(lambda kv: {**value, kv[0]: kv[1]}),
            keys.map(lambda k: {n: v for n, v in value.items() if n != k}))
    if isinstance(value, list) and value:
        return st.tuples(st.integers(0, len(value) - 1), json_values()).map(
            lambda iv: [iv[1] if i == iv[0] else v for i, v in enumerate(value)])
    return json_values()


# -- answers of the student process ----------------------------------------------------
@cache
def _failed_answers() -> st.SearchStrategy:
    statuses = [values(shape).map(lambda a, n=name: {**a, "status": n})
                for name, shape in shapes.ANSWERS.items() if name != "ok"]
    odd = st.fixed_dictionaries({"status": st.sampled_from(["tampered", "unloadable", "?"])})
    junk = st.fixed_dictionaries(
        {"status": st.sampled_from(["ok", "raised", "timeout", "died", "load-timeout"])},
        optional={"result": json_values(), "error": json_values(), "seconds": json_values(),
                  "processes": json_values(), "code": json_values(), "signal": json_values()})
    return st.one_of(*statuses, odd, junk)


@cache
def answers(shape: Any, hints: tuple = ()) -> st.SearchStrategy:
    ok = {"status": "ok"}
    return st.one_of(
        values(shape, False, (), hints).map(lambda r: {**ok, "result": r}),
        values(shape, False, (), hints).map(lambda r: {**ok, "result": r}),
        values(shape, True, (), hints).map(lambda r: {**ok, "result": r}),
        values(shape, False, (), hints).flatmap(spoiled).map(lambda r: {**ok, "result": r}),
        json_values().map(lambda r: {**ok, "result": r}),
        _failed_answers(),
    )


def _pid_in(result: object, key: str) -> int | None:
    pid = result.get(key) if isinstance(result, dict) else None
    return pid if type(pid) is int and 1 <= pid <= 2**22 else None


def _evidence(data: st.DataObject, options: dict, answer: dict) -> dict:
    """What the supervisor adds (plausible, as probes/runner.py writes it)."""
    moment = st.floats(0, 1e6)
    memory = st.none() | st.integers(0, 2**40)
    reading = st.fixed_dictionaries({"t": moment, "cpu": moment, "children": moment,
                                     "rss": memory, "hwm": memory})

    def process(pid: st.SearchStrategy, ppid: st.SearchStrategy,
                peak: st.SearchStrategy = memory) -> st.SearchStrategy:
        return st.fixed_dictionaries({"pid": pid, "ppid": ppid, "cpu": moment,
                                      "threads": st.integers(1, 100), "rss": memory,
                                      "hwm": peak})

    worker = data.draw(st.integers(1, 2**22))
    live = data.draw(st.lists(process(st.integers(1, 2**22), st.integers(1, 2**22)),
                              max_size=4))
    # The children a probe parks for the supervisor to read (probes/generators.py,
    # _parked): ours (the baseline) is there, with its peak; the measured one
    # the student's code may have ended.
    result = answer.get("result") if answer.get("status") == "ok" else None
    for key, ours in (("baseline", True), ("measured", False)):
        pid = _pid_in(result, key)
        if pid is not None and (ours or data.draw(st.booleans())):
            peak = st.integers(0, 2**40) if ours else memory
            live.append(data.draw(process(st.just(pid), st.just(worker), peak)))
    pulled = st.none() if options.get("source") is None else st.integers(0, 10**6)
    around = None
    if options.get("around"):
        module, name, args = options["around"]
        function = getattr(importlib.import_module(module), name)
        shape = judges.shape_of(function, args)
        around = data.draw(st.fixed_dictionaries({"before": values(shape),
                                                  "after": values(shape)}))
    return data.draw(st.fixed_dictionaries(
        {"pid": st.just(worker), "go": reading, "end": reading, "live": st.just(live),
         "pulled": pulled, "around": st.just(around)}))


class FakeProcess:
    """A student process whose every answer hypothesis draws."""

    def __init__(self, data: st.DataObject, hints: tuple = ()) -> None:
        self.data = data
        self.hints = hints
        self.limits = Limits()
        self.calls = 0

    def call(self, probe, args: tuple = (), kwargs: dict | None = None, timeout: float = 5.0,
             options: dict | None = None) -> dict:
        self.calls += 1
        if self.calls > CALLS:
            raise RuntimeError("the test asked for too many probe calls: a loop?")
        if self.data.draw(st.integers(0, 30), label="channel") == 0:
            raise ChannelBroken("the student process ended")
        shape = judges.shape_of(probe, args, kwargs)
        answer = self.data.draw(answers(shape, self.hints),
                                label=f"{probe.__name__}{args!r}"[:200])
        if (options or {}).get("evidence"):
            answer = {**answer, "evidence": _evidence(self.data, options, answer)}
        return answer


# -- every graded test ---------------------------------------------------------------
def _graded(module: types.ModuleType) -> list:
    return [value for name, value in sorted(vars(module).items())
            if name.startswith("test_") and callable(value)
            and any(mark.name == "check" for mark in getattr(value, "pytestmark", []))]


def _public(slug: str) -> types.ModuleType:
    path = ROOT / "assignments" / slug / f"test_{slug}.py"
    spec = importlib.util.spec_from_file_location(f"advpy_public_{slug}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _unimportable(error: Exception):
    def test(student):
        raise error

    return test


def _all_tests() -> list:
    found = []
    for slug in assignments.available():
        for kind in ("hidden", "public"):
            try:
                module = (importlib.import_module(f"autograder.hidden.{slug}.test_hidden")
                          if kind == "hidden" else _public(slug))
            except Exception as exc:  # noqa: BLE001 - shown as that assignment's failure
                found.append(pytest.param(_unimportable(exc), id=f"{slug}/{kind}/import"))
                continue
            found += [pytest.param(test, id=f"{slug}/{kind}/{test.__name__}")
                      for test in _graded(module)]
    return found


TESTS = _all_tests()


def test_every_assignment_has_graded_tests():
    slugs = {param.id.split("/")[0] for param in TESTS}
    assert slugs == set(assignments.available())


PLAIN = sorted(key for key, shape in judges.SHAPES.items()
               if not isinstance(shape, shapes.ByArguments))


@pytest.mark.parametrize("key", PLAIN, ids=[".".join(key) for key in PLAIN])
def test_values_of_a_shape_are_read_back(key):
    """The strategies above agree with the shapes: what they draw is read as it is."""
    shape = judges.SHAPES[key]

    @settings(max_examples=6, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.one_of(values(shape), values(shape, extreme=True)))
    def run(value):
        assert shapes.read(shape, value, "a probe") == value

    run()


class _Report(shapes.TypedDict):
    count: shapes.Count
    seconds: shapes.Seconds
    value: shapes.Json


@pytest.mark.parametrize("bad", [
    {"count": True, "seconds": 1.0, "value": 1},  # a bool is not an int
    {"count": "3", "seconds": 1.0, "value": 1},  # nor is a string
    {"count": 3, "seconds": float("nan"), "value": 1},
    {"count": 3, "seconds": float("inf"), "value": 1},
    {"count": -1, "seconds": 1.0, "value": 1},
    {"count": 3, "seconds": 1.0, "value": [float("nan")]},
    {"count": 3, "seconds": 1.0},
    [3, 1.0, 1],
    None,
])
def test_what_does_not_fit_its_shape_fails_the_test(bad):
    with pytest.raises(AssertionError) as raised:
        shapes.read(_Report, bad, "f(3)")
    message = str(raised.value)
    assert message.startswith("f(3): the grader could not read what your code produced (")
    assert len(message) < 300


def test_a_long_or_deep_answer_gets_a_short_reason():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    for bad in ({"count": 3, "seconds": 1.0, "value": {"x" * 10_000: 1}, "more": 1},
                {"count": 10**400, "seconds": 1.0, "value": deep}):
        try:
            shapes.read(_Report, bad, "f()")
        except AssertionError as exc:
            assert len(str(exc)) < 300 and "xxxxxxxxxx" not in str(exc)


def test_what_fits_is_read_as_it_is_without_extra_keys():
    seen = shapes.read(_Report, {"count": 3, "seconds": 1, "value": [1, "a"], "extra": 0}, "f")
    assert seen == {"count": 3, "seconds": 1.0, "value": [1, "a"]}


def test_answers_are_checked_around_their_result():
    check = shapes.check_answer
    assert check({"status": "died", "code": None, "signal": 9}, _Report, "f")["signal"] == 9
    assert check({"status": "tampered"}, _Report, "f") == {"status": "tampered"}
    for bad in ({"status": "raised", "error": ["x"]}, {"status": "timeout", "seconds": "1"},
                {"status": "died", "code": 1, "signal": 10**9},
                {"status": "ok", "result": {"count": 1}}, {"status": 3}, []):
        with pytest.raises(AssertionError):
            check(bad, _Report, "f")


def test_one_observation_per_case_fewer_only_after_a_stop():
    shape = shapes.per_case(shapes.Json, 3, stop="error")
    assert shapes.read(shape, [1, 2, 3], "f") == [1, 2, 3]
    assert shapes.read(shape, [1, {"error": "x"}], "f") == [1, {"error": "x"}]
    for bad in ([], [1, 2], [1, 2, 3, 4]):
        with pytest.raises(AssertionError):
            shapes.read(shape, bad, "f")
    keyed = shapes.keyed(shapes.Count, ["fork", "spawn"])
    assert shapes.read(keyed, {"fork": 1, "spawn": 2}, "f") == {"fork": 1, "spawn": 2}
    with pytest.raises(AssertionError):
        shapes.read(keyed, {"fork": 1}, "f")


def test_a_probe_without_a_shape_is_a_grader_error():
    def probe(module):
        return {}

    with pytest.raises(judges.NoShape):
        Student(FakeProcess(None), "student.py", 1.0).call(probe, what="a probe")


# -- what the student package carries --------------------------------------------------
# It holds autograder/judges/ (the public tests need it) and nothing of the
# hidden tests: a judge only they use lives beside them, in
# autograder/hidden/<slug>/judges_hidden.py.
def _defined(tree: ast.Module) -> dict[str, ast.AST]:
    """The names a module defines at its top level (not those it imports)."""
    found: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found.update({name.id: node for target in targets for name in ast.walk(target)
                          if isinstance(name, ast.Name)})
    return found


def _used_from(path: Path, module: str) -> set[str]:
    """The names of ``module`` that the code in ``path`` reads: ``from module
    import name``, and ``alias.name`` where ``alias`` names the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package, _, leaf = module.rpartition(".")
    used: set[str] = set()
    aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == module:
            used.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == package:
            aliases.update(alias.asname or alias.name for alias in node.names
                           if alias.name == leaf)
        elif isinstance(node, ast.Import):
            aliases.update(alias.asname for alias in node.names
                           if alias.name == module and alias.asname)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases):
            used.add(node.attr)
    return used


def _reads(node: ast.AST) -> set[str]:
    """The module's names a definition reads: not a class's fields, nor a
    function's parameters and locals (which shadow a name of the same spelling)."""
    names = {name.id for name in ast.walk(node)
             if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Load)}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        arguments = node.args
        names -= {arg.arg for arg in [*arguments.posonlyargs, *arguments.args,
                                      *arguments.kwonlyargs, arguments.vararg,
                                      arguments.kwarg] if arg is not None}
        names -= {name.id for name in ast.walk(node)
                  if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store)}
    return names


def _shipped_code() -> list[Path]:
    """The grader's code that the student package may carry: the package
    without its hidden tests (nor the demo class's submissions, nor a built
    course copy), and the public tests."""
    package = ROOT / "autograder"
    left_out = [package / "hidden", package / "demo", package / "_course"]
    return [*(path for path in package.rglob("*.py")
              if not any(folder in path.parents for folder in left_out)),
            *(ROOT / "assignments").glob("*/test_*.py")]


@pytest.mark.parametrize("module", sorted(path.stem for path in
                                          (ROOT / "autograder" / "judges").glob("*.py")
                                          if path.stem != "__init__"))
def test_public_judges_hold_nothing_only_hidden_tests_use(module):
    """Every name judges/<slug>.py defines is read by the public tests or the
    grader's own modules, or by a name of it that is (a helper of a public
    judge, a shape in SHAPES); tests/ and the hidden tests do not count."""
    path = ROOT / "autograder" / "judges" / f"{module}.py"
    defined = _defined(ast.parse(path.read_text(encoding="utf-8")))
    name = f"autograder.judges.{module}"
    todo = [used for other in _shipped_code() if other != path
            for used in _used_from(other, name) if used in defined]
    reached: set[str] = set()
    while todo:
        current = todo.pop()
        if current not in reached:
            reached.add(current)
            todo += _reads(defined[current]) & set(defined)
    assert reached, f"nothing reads {name}"
    only_hidden = sorted(set(defined) - reached)
    assert not only_hidden, (
        f"{name} defines {only_hidden}, which only hidden tests use: move them to "
        f"autograder/hidden/{module}/judges_hidden.py")


def test_nothing_the_student_package_carries_imports_the_hidden_tests():
    for path in _shipped_code():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [])
            assert not any(n == "autograder.hidden" or n.startswith("autograder.hidden.")
                           for n in names), (path, names)


# -- the supervisor's evidence ----------------------------------------------------------
def _filled(evidence: dict) -> dict:
    """``evidence`` as check_evidence gives it back: pid, and rss and hwm in
    each reading and live process."""
    def memory(reading: dict) -> dict:
        return {"rss": None, "hwm": None, **reading}

    filled = {"pid": None, **evidence, **{key: memory(evidence[key]) for key in ("go", "end")
                                          if evidence[key] is not None}}
    if evidence["live"] is not None:
        filled["live"] = [memory(entry) for entry in evidence["live"]]
    return filled


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.one_of(values(shapes.Evidence), values(shapes.Evidence, extreme=True)))
def test_evidence_of_its_shape_is_read_as_it_is(evidence):
    assert shapes.check_evidence({**evidence, "extra": [1]}, "f()") == _filled(evidence)


@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.one_of(values(shapes.Evidence).flatmap(spoiled), json_values(),
                 st.just(float("nan"))))
def test_any_evidence_is_read_or_fails_the_test(evidence):
    try:
        checked = shapes.check_evidence(evidence, "f()")
    except AssertionError as exc:  # StudentFailure, and no other exception
        assert str(exc).startswith("f(): the grader could not read what your code produced (")
    else:
        assert set(checked) == {"pid", "go", "end", "live", "pulled", "around"}


def _good_evidence() -> dict:
    reading = {"t": 12.5, "cpu": 0.25, "children": 0.0}
    return {"pid": 40, "go": reading, "end": {**reading, "t": 13.0, "rss": 2**20, "hwm": 2**21},
            "live": [{"pid": 41, "ppid": 40, "cpu": 0.1, "threads": 1}], "pulled": 3,
            "around": {"before": {"values": [1]}, "after": {"values": [1]}}}


def _spoil(path: tuple, value: object) -> dict:
    evidence = json.loads(json.dumps(_good_evidence()))
    inner = evidence
    for key in path[:-1]:
        inner = inner[key]
    inner[path[-1]] = value
    return evidence


@pytest.mark.parametrize("bad", [
    None, [], "evidence", {},
    {key: value for key, value in _good_evidence().items() if key != "pulled"},
    _spoil(("go",), []),
    _spoil(("go", "t"), float("nan")),
    _spoil(("end", "cpu"), float("inf")),
    _spoil(("end", "cpu"), -0.5),
    _spoil(("go", "children"), "0.1"),
    _spoil(("go", "rss"), -1),
    _spoil(("end", "hwm"), 2**60),
    _spoil(("end", "hwm"), 1.5),
    _spoil(("live",), [{"pid": 41, "ppid": 40, "cpu": 0.1, "threads": 1}] * 501),
    _spoil(("live",), {"pid": 41}),
    _spoil(("live", 0, "pid"), 0),
    _spoil(("live", 0, "pid"), True),
    _spoil(("live", 0, "ppid"), -1),
    _spoil(("live", 0, "threads"), 10**400),
    _spoil(("live", 0, "hwm"), "36 MiB"),
    _spoil(("pid",), 0),
    _spoil(("pulled",), -2),
    _spoil(("pulled",), False),
    _spoil(("pulled",), 3.0),
    _spoil(("around",), {"after": 1}),
    _spoil(("around", "before"), [float("nan")]),
])
def test_evidence_that_does_not_fit_fails_the_test(bad):
    with pytest.raises(AssertionError) as raised:
        shapes.check_evidence(bad, "f(3)")
    message = str(raised.value)
    assert message.startswith("f(3): the grader could not read what your code produced (")
    assert len(message) < 300


def test_evidence_is_read_without_extra_keys_and_with_rss_hwm_and_faults():
    evidence = _good_evidence()
    evidence["live"][0]["children"] = 1.0
    checked = shapes.check_evidence({**evidence, "signed": "x"}, "f")
    assert checked["go"] == {"t": 12.5, "cpu": 0.25, "children": 0.0, "rss": None, "hwm": None}
    assert checked["end"]["hwm"] == 2**21 and checked["live"][0] == {
        "pid": 41, "ppid": 40, "cpu": 0.1, "threads": 1, "rss": None, "hwm": None,
        "faults": None}
    assert "signed" not in checked
    older = {key: value for key, value in evidence.items() if key != "pid"}
    assert shapes.check_evidence({**older, "go": None, "live": None, "pulled": None,
                                  "around": None}, "f") == {
        "pid": None, "go": None, "end": checked["end"], "live": None, "pulled": None,
        "around": None}


def test_evidence_around_a_call_is_checked_against_the_calibration():
    pair = shapes.row(shapes.Seconds, shapes.Seconds)
    evidence = _spoil(("around",), {"before": [1, 2.5], "after": [0.5, 1]})
    assert shapes.check_evidence(evidence, "f", around=pair)["around"] == {
        "before": [1.0, 2.5], "after": [0.5, 1.0]}
    for around in ({"before": [1, 2.5], "after": [0.5]}, {"before": "fast"}):
        with pytest.raises(AssertionError):
            shapes.check_evidence(_spoil(("around",), around), "f", around=pair)


@pytest.mark.parametrize("test", TESTS)
def test_the_judge_survives_any_answer(test):
    hints = hints_of(test)

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much])
    @given(st.data())
    def run(data):
        student = Student(FakeProcess(data, hints), "student.py", 5.0)
        try:
            test(student)
        except AssertionError:
            pass  # a failure: what the judge says of a bad answer

    run()
