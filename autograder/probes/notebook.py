"""Run a notebook's code cells, in order, as one module.

The grader turns ``<slug>.ipynb`` into a real module file ``<slug>.py`` that
calls :func:`run_cells`, so that functions defined in cells pickle by
reference (``<slug>.func``) under every multiprocessing start method.
"""

from __future__ import annotations

import ast
import builtins
import multiprocessing
import traceback

# Our own copy of the builtins: a cell that patches them does not change how
# we run the next cells.
__builtins__ = dict(vars(builtins))

# Statements a spawned or forkserver child re-runs when it imports the module
# to find a function: definitions, not the demos of the notebook, which would
# otherwise start pools and threads again in every child.
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
               ast.ImportFrom, ast.Assign, ast.AnnAssign)


def _error(cell: int, exc: BaseException, filename: str) -> dict:
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    if isinstance(exc, SyntaxError):
        line = exc.lineno
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return {"cell": cell, "line": line, "type": type(exc).__name__, "message": message[:300]}


def _in_child_process() -> bool:
    return multiprocessing.parent_process() is not None


def run_cells(namespace: dict, path: str, cells: list[tuple[int, str]]) -> list[dict]:
    """Execute each cell in ``namespace``; a cell that raises is recorded and
    the following cells still run. Returns the errors."""
    errors = []
    definitions_only = _in_child_process()
    for number, source in cells:
        filename = f"{path}:cell {number}"
        try:
            tree = ast.parse(source, filename)
        except SyntaxError as exc:
            errors.append(_error(number, exc, filename))
            continue
        statements = tree.body
        if definitions_only:
            statements = [node for node in statements if isinstance(node, DEFINITIONS)]
        for node in statements if definitions_only else [tree]:
            code = node if isinstance(node, ast.Module) else ast.Module([node], [])
            try:
                exec(compile(code, filename, "exec"), namespace)  # noqa: S102 - the cell is the student's code
            except BaseException as exc:  # noqa: BLE001 - a failing cell is reported, not fatal
                if not definitions_only:
                    errors.append(_error(number, exc, filename))
                    break
    return errors
