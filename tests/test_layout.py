"""The trees agree: one slug names one exercise set everywhere, stubs and
references share their docstrings word for word, notebooks match their .py."""

from __future__ import annotations

import ast
import dis
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


def test_the_instruments_of_threads_lead_nowhere_else():
    """Student code reaches the globals of the module of any object it is
    handed (type(lock).acquire.__globals__), and a closure's cells: the
    instruments' module holds no frames code, no hang reports and no building
    of observations, and its functions read no global and no closure cell
    when called (what they use is bound as keyword-only defaults), so that
    rewriting those changes nothing."""
    from autograder.probes import threads, threads_hangs, threads_instruments

    path = ROOT / "autograder" / "probes" / "threads_instruments.py"
    ours = {name for name in _imported(path) if name.startswith("autograder")}
    assert ours <= {"autograder.probes.common", "autograder.probes.common.short"}, ours
    elsewhere = {id(value) for module in (threads, threads_hangs)
                 for name, value in vars(module).items()
                 if getattr(value, "__module__", None) == module.__name__}
    leaks = [name for name, value in vars(threads_instruments).items() if id(value) in elsewhere]
    assert not leaks, leaks
    for code in _code_objects(threads_instruments):
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
