"""Run a notebook's code cells, in order, as one module.

The grader turns ``<slug>.ipynb`` into a real module file ``<slug>.py`` that
calls :func:`run_cells`, so that functions defined in cells pickle by
reference (``<slug>.func``) under every multiprocessing start method.

IPython's own syntax (magics, shell lines) was translated to plain Python by
the grader (``autograder.submissions``); each cell arrives as a dict:

- ``cell``: its number among the code cells; ``source``: Python, one line a
  line of the cell (so that errors name the student's lines), or None when
  nothing of it runs;
- ``notes``: ``(line, type, message)`` of what was not run, for the feedback;
- ``timeit``: the lines whose statements IPython's ``%timeit``/``%%timeit``
  runs inside a function (names bound there stay local), or ``"cell"``;
- ``capture``: ``%%capture``'s options: the output is swallowed, and bound
  to ``name`` when given.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import multiprocessing
import sys
import traceback
import types

# Our own copy of the builtins: a cell that patches them does not change how
# we run the next cells.
__builtins__ = dict(vars(builtins))

# Statements a spawned or forkserver child re-runs when it imports the module
# to find a function: definitions, not the demos of the notebook, which would
# otherwise start pools and threads again in every child.
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
               ast.ImportFrom, ast.Assign, ast.AnnAssign)
_CodeType = types.CodeType
MAX_NOTES = 20  # a notebook of shell lines must not crowd its real errors out of the report
CAPTURE_CHARS = 64 * 1024  # what %%capture keeps of a cell's output
TIMEIT = "__advpy_timeit__"  # the function IPython's timeit runs the statements in


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


class CapturedIO:
    """What ``%%capture NAME`` binds, as IPython's object of that name: the
    cell's output as text (bounded)."""

    def __init__(self, stdout: str, stderr: str) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.outputs: list = []  # rich display outputs: none outside Jupyter

    def __str__(self) -> str:
        return self.stdout

    def show(self) -> None:
        sys.stdout.write(self.stdout)
        sys.stderr.write(self.stderr)

    __call__ = show


class _Sink(io.TextIOBase):
    """A text stream that keeps the first CAPTURE_CHARS characters written to it."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[str] = []
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = CAPTURE_CHARS - self._size
        if room > 0:
            self._parts.append(text[:room])
            self._size += min(len(text), room)
        return len(text)

    def getvalue(self) -> str:
        return "".join(self._parts)


def _in_function(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` run once inside a function, as IPython's timeit runs
    them (``def inner(): ...`` with the namespace as its globals): what they
    bind stays local. Timing is no concern of the grader, so once is enough."""
    wrapper = ast.parse(f"def {TIMEIT}():\n    pass\n{TIMEIT}()\n").body
    for node in wrapper:  # placed on the line of the statements, for the traceback
        for child in ast.walk(node):
            ast.copy_location(child, statements[0])
    wrapper[0].body = statements
    return wrapper


class _TimeitLines(ast.NodeTransformer):
    """Wraps the statements of each ``%timeit`` line in a function of its own."""

    def __init__(self, lines: set[int]) -> None:
        self.lines = lines

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if not (isinstance(block, list) and block and isinstance(block[0], ast.stmt)):
                continue
            result: list[ast.stmt] = []
            group: list[ast.stmt] = []
            for statement in [*block, None]:
                if group and (statement is None or statement.lineno != group[0].lineno):
                    result.extend(_in_function(group))
                    group = []
                if statement is None:
                    break
                if statement.lineno in self.lines:
                    group.append(statement)
                else:
                    result.append(statement)
            setattr(node, name, result)
        return node


def _prepare(tree: ast.Module, timeit: list[int] | str | None) -> ast.Module:
    if timeit == "cell":
        if tree.body:
            tree.body = _in_function(tree.body)
    elif timeit:
        tree = _TimeitLines(set(timeit)).visit(tree)
    return ast.fix_missing_locations(tree)


def _notes(cell: dict) -> list[dict]:
    return [{"cell": cell["cell"], "line": line, "type": kind, "message": str(message)[:300]}
            for line, kind, message in cell.get("notes", ())]


def compile_cells(path: str, cells: list[dict]) -> dict:
    """Each cell's code as ``run_cells`` runs it outside a child process,
    keyed by the cell: compiled once by the supervisor, so that no call
    parses the notebook's cells again. A cell that does not compile is left
    out (``run_cells`` then reports its error itself)."""
    compiled = {}
    for cell in cells:
        number, source, timeit = cell["cell"], cell.get("source"), cell.get("timeit")
        if source is None:
            continue
        filename = f"{path}:cell {number}"
        try:
            code = compile(_prepare(ast.parse(source, filename), timeit), filename, "exec")
        except Exception:  # noqa: BLE001 - reported when the cell runs
            continue
        compiled[_key(cell)] = code
    return compiled


def _key(cell: dict) -> tuple:
    timeit = cell.get("timeit")
    return (cell["cell"], cell.get("source"), tuple(timeit) if isinstance(timeit, list) else timeit)


def cells_of(module_source: bytes) -> list[dict] | None:
    """The cells a module made from a notebook passes to ``run_cells`` (None
    for any other module)."""
    try:
        tree = ast.parse(module_source)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        call = getattr(node, "value", None)
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                and call.func.id == "__advpy_run_cells__" and len(call.args) == 3):
            try:
                cells = ast.literal_eval(call.args[2])
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                return None
            return cells if isinstance(cells, list) and all(
                isinstance(c, dict) and "cell" in c for c in cells) else None
    return None


# Filled by the supervisor in each worker's fresh copy of this module (see
# runner._prepare_notebook): the cells compiled once.
COMPILED: dict = {}


def run_cells(namespace: dict, path: str, cells: list[dict]) -> list[dict]:
    """Execute each cell in ``namespace``; a cell that raises is recorded and
    the following cells still run. Returns the errors, then the notes on what
    was not run."""
    errors: list[dict] = []
    notes: list[dict] = []
    definitions_only = _in_child_process()
    for cell in cells:
        number, source, timeit = cell["cell"], cell.get("source"), cell.get("timeit")
        notes.extend(_notes(cell))
        if source is None or (definitions_only and timeit == "cell"):
            continue
        filename = f"{path}:cell {number}"
        ready = None if definitions_only else COMPILED.get(_key(cell))
        if isinstance(ready, _CodeType) and ready.co_filename == filename:
            chunks: list = [ready]
        else:
            try:
                tree = ast.parse(source, filename)
            except SyntaxError as exc:
                errors.append(_error(number, exc, filename))
                continue
            if definitions_only:
                # Nothing bound inside a timeit function is a definition of the module.
                skip = set(timeit or ())
                chunks = [ast.Module([node], []) for node in tree.body
                          if isinstance(node, DEFINITIONS) and node.lineno not in skip]
            else:
                chunks = [_prepare(tree, timeit)]
        capture = cell.get("capture")
        for code in chunks:
            out, err = _Sink(), _Sink()
            try:
                with contextlib.ExitStack() as stack:
                    if capture is not None and not definitions_only:
                        if capture.get("stdout", True):
                            stack.enter_context(contextlib.redirect_stdout(out))
                        if capture.get("stderr", True):
                            stack.enter_context(contextlib.redirect_stderr(err))
                    if not isinstance(code, _CodeType):
                        code = compile(code, filename, "exec")
                    exec(code, namespace)  # noqa: S102 - the cell is the student's code
            except BaseException as exc:  # noqa: BLE001 - a failing cell is reported, not fatal
                if not definitions_only:
                    errors.append(_error(number, exc, filename))
                    break
            finally:
                if capture is not None and capture.get("name") and not definitions_only:
                    namespace[capture["name"]] = CapturedIO(out.getvalue(), err.getvalue())
    if definitions_only:
        return errors
    return errors + notes[:MAX_NOTES]
