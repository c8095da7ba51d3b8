"""The trees agree: one slug names one exercise set everywhere, stubs and
references share their docstrings word for word, notebooks match their .py."""

from __future__ import annotations

import ast

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
