"""The trees agree: one slug names one exercise set everywhere, stubs and
references share their docstrings word for word, notebooks match their .py."""

from __future__ import annotations

import ast
import dis
import threading
import types

import nbformat
import pytest
from conftest import ROOT

from autograder import assignments, notebooks

SLUGS = assignments.available()


def _docstrings(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            found[node.name] = ast.get_docstring(node)
    return found


@pytest.mark.parametrize("slug", SLUGS)
def test_every_tree_has_the_slug(slug):
    assert (ROOT / "assignments" / slug / f"{slug}.py").is_file()
    assert (ROOT / "assignments" / slug / f"{slug}.ipynb").is_file()
    assert (ROOT / "assignments" / slug / f"test_{slug}.py").is_file()
    assert (ROOT / "solutions" / slug / f"{slug}.py").is_file()
    assert (ROOT / "solutions" / slug / f"{slug}.ipynb").is_file()
    assert (ROOT / "autograder" / "hidden" / slug / "__init__.py").is_file()


@pytest.mark.parametrize("slug", SLUGS)
def test_stub_and_reference_share_docstrings(slug):
    stub = _docstrings(ROOT / "assignments" / slug / f"{slug}.py")
    reference = _docstrings(ROOT / "solutions" / slug / f"{slug}.py")
    for question in assignments.get(slug).questions:
        if question.name in reference:
            assert stub.get(question.name) == reference[question.name], question.name
    shared = set(stub) & set(reference)
    assert all(stub[name] == reference[name] for name in shared)


@pytest.mark.parametrize("tree", ["assignments", "solutions"])
@pytest.mark.parametrize("slug", SLUGS)
def test_notebook_is_built_from_the_module(slug, tree):
    folder = ROOT / tree / slug
    built = notebooks.build(folder / f"{slug}.py")
    committed = nbformat.read(str(folder / f"{slug}.ipynb"), as_version=4)
    assert [(c.cell_type, c.source) for c in committed.cells] == [
        (c.cell_type, c.source) for c in built.cells
    ], f"rebuild it: python -m autograder.notebooks {folder / (slug + '.py')}"


def test_test_modules_are_never_rewritten():
    """Assertion rewriting would put pytest's explanation, with the expected
    value, into a hidden test's feedback; every graded test module opts out."""
    modules = [*(ROOT / "autograder" / "hidden").rglob("test_*.py"),
               *(ROOT / "assignments").rglob("test_*.py")]
    assert modules
    for module in modules:
        assert "PYTEST_DONT_REWRITE" in (ast.get_docstring(ast.parse(module.read_text())) or ""), (
            module)


def test_probe_modules_keep_their_own_builtins():
    """A submission that patches builtins must not reach our probes (DEVELOPING.md)."""
    for module in (ROOT / "autograder" / "probes").glob("*.py"):
        if module.name == "__init__.py":
            continue
        assert "__builtins__ = dict(vars(builtins))" in module.read_text(), module


def _imported(path) -> set[str]:
    """Every module a file imports, at any depth (``from a import b`` counts as a.b too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_probes_import_only_the_standard_library_and_probes():
    """The sandbox exposes only autograder/probes to the student process; the
    judges, which word and decide, live outside it (autograder/judges)."""
    for module in (ROOT / "autograder" / "probes").glob("*.py"):
        ours = {name for name in _imported(module) if name.split(".")[0] == "autograder"}
        assert all(name.startswith("autograder.probes") for name in ours), (module, ours)


def _code_objects(module) -> list:
    """The code of every function and method the module defines, nested ones too."""
    found, stack = [], []
    for value in vars(module).values():
        if getattr(value, "__module__", None) != module.__name__:
            continue
        members = vars(value).values() if isinstance(value, type) else [value]
        for member in members:
            member = getattr(member, "__func__", member)  # staticmethod
            if isinstance(member, types.FunctionType):
                stack.append(member.__code__)
    while stack:
        code = stack.pop()
        found.append(code)
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return found


# A submission that notes everything the threads probes hand it, or that it
# can find while they run: arguments, the time module it is given, its
# threads' targets, threading.excepthook, the SIGALRM handler.
_NOTING_SUBMISSION = """
import signal
import threading
import time

database_value = 0
stop = []


def note(*objects):
    handed.extend(objects)
    handed.extend((threading.excepthook, signal.getsignal(signal.SIGALRM), time, time.sleep))
    handed.extend(getattr(t, "_target", None) for t in threading.enumerate())


def run_threads(target, num_threads=10):
    note(target)
    threads = [threading.Thread(target=target) for _ in range(num_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return threads


def increase(lock):
    global database_value
    note(lock, database_value)
    with lock:
        value = database_value + 1
        time.sleep(0.001)
        database_value = value


def run_increase(num_threads=2):
    global database_value
    database_value = 0
    note(increase)
    lock = threading.Lock()
    threads = [threading.Thread(target=increase, args=(lock,)) for _ in range(num_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return database_value


class ThreadSafeCounter:
    def __init__(self):
        self._value = 0
        self._lock = threading.Lock()

    @property
    def value(self):
        return self._value

    def increment(self, amount=1):
        note(amount)
        with self._lock:
            self._value = self._value + amount


def start_heartbeat(interval, beats):
    note(beats)

    def beat():
        while not stop:
            beats.append(time.monotonic())
            time.sleep(interval)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    return thread


def process_queue(items, worker, num_workers=4):
    note(worker)
    results = []
    thread = threading.Thread(target=lambda: results.extend(worker(i) for i in items))
    thread.start()
    thread.join()
    return results
"""


def _functions_reachable(start) -> list:
    """The functions of ours the student's code reaches from ``start`` without
    reading code or defaults (which the audit hook denies): methods of its
    class, its attributes and slots, bound methods' parts."""
    found, todo, seen = [], [start], set()
    while todo:
        value = todo.pop()
        if id(value) in seen or value is None:
            continue
        seen.add(id(value))
        if isinstance(value, types.FunctionType):
            found.append(value)
            continue
        if isinstance(value, types.MethodType):
            todo += [value.__func__, value.__self__]
            continue
        if isinstance(value, types.ModuleType):
            continue
        cls = value if isinstance(value, type) else type(value)
        if not cls.__module__.startswith("autograder"):
            continue
        todo += [getattr(member, "__func__", member) for member in vars(cls).values()]
        if not isinstance(value, type):
            todo += list(getattr(value, "__dict__", {}).values())
            todo += [getattr(value, slot, None) for slot in getattr(cls, "__slots__", ())]
    return found


def _foreign_to(module) -> list[str]:
    """Names in ``module``'s namespace (one level into containers) whose value
    is a function, class or method of another module of ours."""
    foreign = []
    for name, value in vars(module).items():
        inner = (list(value.values()) if type(value) is dict
                 else list(value) if type(value) in (list, tuple, set, frozenset) else [])
        for item in [value, *inner]:
            owner = getattr(item, "__module__", None)
            if (isinstance(owner, str) and owner.split(".")[0] == "autograder"
                    and owner != module.__name__):
                foreign.append(f"{name}: {owner}")
    return foreign


def test_the_instruments_of_threads_lead_nowhere_else(tmp_path):
    """Student code reaches the globals of the module of any object it is
    handed (type(lock).acquire.__globals__), and a closure's cells: the
    instruments' module holds no frames code, no hang reports and no building
    of observations, no function of another module of ours (short.__globals__
    would be common's live namespace), and its functions read no global and
    no closure cell when called (what they use is bound as keyword-only
    defaults), so that rewriting those changes nothing. Every function of
    ours that the threads probes hand to student code, or that it can find
    while they run, is an instrument."""
    from autograder.probes import threads, threads_hangs, threads_instruments

    path = ROOT / "autograder" / "probes" / "threads_instruments.py"
    ours = {name for name in _imported(path) if name.startswith("autograder")}
    assert ours <= {"autograder.probes.common", "autograder.probes.common.short"}, ours
    elsewhere = {id(value) for module in (threads, threads_hangs)
                 for name, value in vars(module).items()
                 if getattr(value, "__module__", None) == module.__name__}
    leaks = [name for name, value in vars(threads_instruments).items() if id(value) in elsewhere]
    assert not leaks, leaks
    assert not _foreign_to(threads_instruments), _foreign_to(threads_instruments)
    for code in _code_objects(threads_instruments):
        names = {i.argval for i in dis.get_instructions(code)
                 if i.opname in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF",
                                 "LOAD_FROM_DICT_OR_DEREF", "LOAD_FROM_DICT_OR_GLOBALS")}
        assert not names and not code.co_freevars, (code.co_name, names, code.co_freevars)

    student = types.ModuleType("advpy_noting_submission")
    student.__file__ = str(tmp_path / "advpy_noting_submission.py")
    student.handed = []
    exec(compile(_NOTING_SUBMISSION, student.__file__, "exec"), vars(student))
    excepthook = threading.excepthook
    try:
        threads.run_threads(student, 2, True, 0.0)
        threads.increase_once(student)
        threads.increase_once(student, True)
        threads.increase_contention(student, 2, "asker")
        threads.increase_contention(student, 3)
        threads.run_increase(student, 2)
        threads.counter_contention(student, [1, 2], 2)
        threads.heartbeat(student, 0.01, 0.05, 2)
        threads.process_queue(student, [{"items": [1, 2], "workers": 2}])
    finally:
        student.stop.append(True)
        threading.excepthook = excepthook
    functions = [f for value in student.handed for f in _functions_reachable(value)]
    kinds = {f.__qualname__.split(".")[0] for f in functions}
    assert {"SpyLock", "Tracked", "Amount", "BeatLog", "error_log"} <= kinds, kinds
    for function in functions:
        if function.__module__.startswith("autograder"):
            assert function.__globals__ is vars(threads_instruments), (
                function.__module__, function.__qualname__)


def test_what_the_processes_probes_hand_over_leads_nowhere_else():
    """The processes probes hand the student's code objects of ``payloads``
    only (work, square, Number, Recorder), whose ``__globals__`` are that
    module's: it imports nothing of ours, and its functions read no global
    and no closure cell when called (what they use is bound as keyword-only
    defaults), so that rewriting its names changes nothing that a probe does
    after handing them over (``int()`` of a returned Number) nor what they
    compute for the student's code."""
    from autograder.probes import payloads, processes

    path = ROOT / "autograder" / "probes" / "payloads.py"
    assert not {name for name in _imported(path) if name.startswith("autograder")}
    handed = [*processes.FUNCTIONS.values(), processes._Number, processes._Recorder]
    assert all(value.__module__ == payloads.__name__ for value in handed), handed
    for code in _code_objects(payloads):
        names = {i.argval for i in dis.get_instructions(code)
                 if i.opname in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF",
                                 "LOAD_FROM_DICT_OR_DEREF", "LOAD_FROM_DICT_OR_GLOBALS")}
        assert not names and not code.co_freevars, (code.co_name, names, code.co_freevars)


def _from(path, prefix: str) -> set[str]:
    return {name for name in _imported(path) if name == prefix or name.startswith(prefix + ".")}


def test_imports_run_one_way():
    """Leaves first: errors and shapes import nothing of the grader's layers,
    the judges not the test API, the test API not the student process."""
    package = ROOT / "autograder"
    assert not _from(package / "errors.py", "autograder")
    assert _from(package / "shapes.py", "autograder") <= _from(package / "shapes.py",
                                                               "autograder.errors")
    for module in (package / "judges").glob("*.py"):
        for layer in ("autograder.testing", "autograder.child", "autograder.engine"):
            assert not _from(module, layer), (module, layer)
    assert not _from(package / "testing.py", "autograder.child")
