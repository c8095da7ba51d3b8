"""Notebooks are built from the percent-format ``.py`` beside them, so the
stubs, docstrings and teaching text of a module and its notebook never drift.

``# %% [markdown]`` starts a markdown cell (its lines are comments), ``# %%``
a code cell.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


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


def build(script: Path) -> nbformat.NotebookNode:
    """The notebook for a percent-format script."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = KERNEL
    notebook.metadata["language_info"] = {"name": "python"}
    for kind, source in split_cells(script.read_text(encoding="utf-8")):
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
