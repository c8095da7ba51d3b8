"""Notebooks are built from the percent-format ``.py`` beside them, so the
stubs, docstrings and teaching text of a module and its notebook never drift.

``# %% [markdown]`` starts a markdown cell (its lines are comments), ``# %%``
a code cell.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}

# otter-grader's cells. The advpy grader runs a notebook as a module named
# after the assignment (``__name__`` is not "__main__" there), so the guards
# keep otter out of the sandbox; in Jupyter they are always true.
OTTER_INIT = """\
# Otter-Grader's checks: run this cell first. After each question,
# grader.check("q1") runs the public checks of that question on your code
# (the same checks as `advpy check`; the grader runs more).
if __name__ == "__main__":
    import otter
    grader = otter.Notebook(tests_dir="tests")"""
OTTER_CHECK = 'grader.check("{qid}") if __name__ == "__main__" else None'


def split_cells(text: str) -> list[tuple[str, str]]:
    """(kind, source) for each cell of a percent-format script."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            cells.append(("markdown" if "[markdown]" in line else "code", []))
        elif cells:
            cells[-1][1].append(line)
    result = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines]
        source = "\n".join(lines).strip("\n")
        if source:
            result.append((kind, source))
    return result


def _defined(source: str) -> set[str]:
    """The names a code cell defines at its top level."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def with_otter(cells: list[tuple[str, str]], slug: str) -> list[tuple[str, str]]:
    """``cells`` with otter's init cell before the first code cell and a
    ``grader.check("qN")`` cell after the cell that defines each question's name."""
    from autograder import assignments

    if slug not in assignments.slugs():
        return cells
    questions = list(assignments.get(slug).questions)
    result: list[tuple[str, str]] = []
    for kind, source in cells:
        if kind == "code" and not any(k == "code" for k, _ in result):
            result.append(("code", OTTER_INIT))
        result.append((kind, source))
        if kind == "code":
            defined = _defined(source)
            for question in [q for q in questions if q.name in defined]:
                result.append(("code", OTTER_CHECK.format(qid=question.id)))
                questions.remove(question)
    result.extend(("code", OTTER_CHECK.format(qid=q.id)) for q in questions)
    return result


def build(script: Path) -> nbformat.NotebookNode:
    """The notebook for a percent-format script (with otter's cells when the
    script is an assignment's ``<slug>.py``)."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = KERNEL
    notebook.metadata["language_info"] = {"name": "python"}
    for kind, source in with_otter(split_cells(script.read_text(encoding="utf-8")), script.stem):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        notebook.cells.append(make(source))
    for number, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{number}"
    return notebook


def write(script: Path, target: Path | None = None) -> Path:
    target = target or script.with_suffix(".ipynb")
    nbformat.write(build(script), str(target))
    return target


if __name__ == "__main__":
    import sys

    for name in sys.argv[1:]:
        print(write(Path(name)))
