"""A notebook's IPython syntax, run as Jupyter would without IPython: the
cell magics whose body is Python run it in the notebook's namespace, the
others are skipped with a note that reaches the student's feedback.

Fast: each notebook is converted and its module run in this process (no
sandbox), as ``autograder.submissions.prepare`` and the runner do."""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograder import engine, shapes
from autograder.judges import CellError
from autograder.probes import notebook
from autograder.submissions import Submission, notebook_to_module, prepare

NAMES = (f"advpy_magics_{n}" for n in itertools.count())


def write_notebook(folder: Path, *cells: str, name: str = "nb.ipynb") -> Path:
    """A notebook of code cells, each source as Jupyter stores it (a list of lines)."""
    path = folder / name
    path.write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                   "source": source.splitlines(keepends=True)} for source in cells],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    return path


def load(module_file: Path) -> dict:
    """Import the module made of a notebook, as the runner does; its namespace."""
    name = next(NAMES)
    spec = importlib.util.spec_from_file_location(name, module_file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(module_file.parent))  # as the runner does: files beside it import
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
        sys.path.remove(str(module_file.parent))
    return vars(module)


def run(tmp_path: Path, *cells: str) -> dict:
    module_file = tmp_path / "nb_module.py"
    module_file.write_text(notebook_to_module(write_notebook(tmp_path, *cells)), encoding="utf-8")
    return load(module_file)


def reports(namespace: dict) -> list[dict]:
    return namespace["__advpy_cell_errors__"]


def notes(namespace: dict) -> list[dict]:
    return [r for r in reports(namespace) if r["type"] == "NotRun"]


# Cell magics whose body is Python in the notebook's namespace

def test_time_cell_defines_its_functions(tmp_path):
    ns = run(tmp_path,
             "import itertools",
             "%%time\ndef count_evens(n):\n    return sum(1 for i in range(n) if i % 2 == 0)\n\n"
             "def take(n, iterable):\n    return itertools.islice(iterable, n)\n"
             "count_evens(10)",
             "result = count_evens(10), list(take(2, 'abc'))")
    assert ns["result"] == (5, ["a", "b"])
    assert reports(ns) == []


def test_time_cell_with_options_leading_blank_lines_and_indentation(tmp_path):
    ns = run(tmp_path, "\n\n  %%time --no-raise-error\n  def f():\n      return 1\n  x = f()")
    assert ns["x"] == 1
    assert reports(ns) == []


def test_time_cell_with_a_statement_on_its_first_line_is_a_usage_error(tmp_path):
    # IPython: "Can't use statement directly after '%%time'!", the body does not run.
    ns = run(tmp_path, "%%time x = 1\ny = 2", "z = 3")
    assert "x" not in ns and "y" not in ns and ns["z"] == 3
    [error] = reports(ns)
    assert error["cell"] == 1 and error["type"] == "UsageError" and "%%time" in error["message"]


def test_timeit_cell_runs_once_in_a_function(tmp_path):
    # IPython times the body inside ``def inner()``: what it binds stays local.
    ns = run(tmp_path, "calls = []",
             "%%timeit -n 1000 -r 7 setup_value = 5\ncalls.append(setup_value)\nlocal_name = 1")
    assert ns["calls"] == [5]
    assert "local_name" not in ns and "setup_value" not in ns
    assert reports(ns) == []


def test_timeit_cell_error_names_the_students_line(tmp_path):
    ns = run(tmp_path, "%%timeit\nx = 1\nraise KeyError('missing')")
    [error] = reports(ns)
    assert (error["cell"], error["line"], error["type"]) == (1, 3, "KeyError")


def test_capture_cell_runs_silently_and_binds_its_output(tmp_path, capsys):
    ns = run(tmp_path, "%%capture out\nprint('hidden')\ndef f():\n    return 2",
             "%%capture\nprint('also hidden')\ng = f() + 1",
             "%%capture --no-stdout\nprint('shown')")
    assert ns["g"] == 3
    assert ns["out"].stdout == "hidden\n" and str(ns["out"]) == "hidden\n"
    assert capsys.readouterr().out == "shown\n"
    assert reports(ns) == []


def test_capture_keeps_a_bounded_output(tmp_path):
    ns = run(tmp_path, "%%capture out\nfor _ in range(10_000):\n    print('x' * 100)")
    assert len(ns["out"].stdout) == notebook.CAPTURE_CHARS


def test_capture_cell_that_raises_is_reported_and_still_binds(tmp_path):
    ns = run(tmp_path, "%%capture out\nprint('before')\n1 / 0", "after = 1")
    assert ns["out"].stdout == "before\n" and ns["after"] == 1
    [error] = reports(ns)
    assert (error["cell"], error["line"], error["type"]) == (1, 3, "ZeroDivisionError")


@pytest.mark.parametrize("head", ["%%prun", "%%prun -s cumulative -l 10", "%%debug",
                                  "%%capture\n%%time"])
def test_other_python_cell_magics_run_their_body(tmp_path, head):
    ns = run(tmp_path, f"{head}\ndef f():\n    return 7\nvalue = f()")
    assert ns["value"] == 7
    assert reports(ns) == []


def test_code_on_the_first_line_of_prun_runs_before_the_body(tmp_path):
    ns = run(tmp_path, "%%prun -q first = 1\nsecond = first + 1")
    assert ns["second"] == 2


# Cell magics that do not run Python in the namespace: skipped, with a note

@pytest.mark.parametrize("magic", ["bash", "sh", "script bash", "html", "HTML", "javascript",
                                   "markdown", "latex", "svg", "perl", "ruby", "!"])
def test_cell_of_another_language_is_skipped_with_a_note(tmp_path, magic):
    name = magic.split()[0]
    ns = run(tmp_path, "before = 1", f"%%{magic}\nafter = 2\necho hi", "later = 3")
    assert ns["before"] == 1 and ns["later"] == 3 and "after" not in ns
    assert notes(ns) == [{"cell": 2, "line": None, "type": "NotRun", "message":
                          f"the cell starts with %%{name}: its body was not run "
                          "(the grader runs Python only)"}]


@pytest.mark.parametrize("magic", ["python", "python3", "pypy"])
def test_python_in_a_subprocess_defines_nothing_in_the_notebook(tmp_path, magic):
    ns = run(tmp_path, f"%%{magic}\ndef f():\n    return 1")
    assert "f" not in ns
    [note] = notes(ns)
    assert "separate process" in note["message"]


def test_unknown_cell_magic_is_skipped_with_a_note(tmp_path):
    ns = run(tmp_path, "%%sql\nSELECT 1")
    [note] = notes(ns)
    assert note["message"].startswith("the cell starts with %%sql: its body was not run")


# Line magics and shell lines inside a cell

def test_time_line_runs_its_statement_and_others_are_noted_once(tmp_path):
    ns = run(tmp_path,
             "%matplotlib inline\n%load_ext autoreload\n!pip install numpy\n"
             "def f(n):\n    return n * 2\n%time a = f(1)\nb = %time f(2)\n"
             "files = !ls\nlisting = %ls\nf?\nc = 3")
    assert (ns["a"], ns["b"], ns["c"]) == (2, 4, 3)
    assert ns["files"] == [] and ns["listing"] is None
    [note] = notes(ns)
    assert note["cell"] == 1
    assert note["message"].startswith("IPython magics and shell commands were not run (the "
                                      "grader runs Python only): line 1 `%matplotlib inline`, "
                                      "line 2 `%load_ext autoreload`, line 3 `!pip install numpy`"
                                      ", line 8 `files = !ls` and 2 more")


def test_timeit_line_runs_once_in_a_function(tmp_path):
    ns = run(tmp_path, "calls = []\nfor i in range(3):\n    %timeit -n 100 calls.append(i); j = i\n"
                       "%timeit -r1 for k in range(2): calls.append(k)")
    assert ns["calls"] == [0, 1, 2, 0, 1]
    assert "j" not in ns and "k" not in ns
    assert reports(ns) == []


def test_magics_in_blocks_continued_lines_and_autocall(tmp_path):
    ns = run(tmp_path, "def f(x, y=0):\n    return x + y\nif True:\n    %time a = f(1,\\\n"
                       "      2)\n    !echo \"it's\" \\\n      more\n/f 3 4\n,print x y")
    assert ns["a"] == 3
    assert reports(ns)[0]["type"] == "NotRun"


def test_magic_like_lines_inside_strings_and_brackets_are_the_students(tmp_path):
    ns = run(tmp_path, 'text = """\n%time not a magic\n!not a shell line\n"""\n'
                       "value = (10\n% 3)\n%time other = 1")
    assert ns["text"] == "\n%time not a magic\n!not a shell line\n"
    assert ns["value"] == 1 and ns["other"] == 1
    assert reports(ns) == []


def test_a_cell_magic_inside_a_cell_is_skipped_with_a_note(tmp_path):
    ns = run(tmp_path, "x = 1\n%%bash\ny = 2")
    assert ns["x"] == 1 and ns["y"] == 2
    [note] = notes(ns)
    assert "line 2 `%%bash`" in note["message"]


# What the student sees

def test_notes_come_after_the_errors_bounded_in_number_and_length(tmp_path):
    ns = run(tmp_path, *(f"%%bash\necho {n}" for n in range(30)), "!" + "x" * 5000, "1 / 0")
    found = reports(ns)
    assert found[0]["type"] == "ZeroDivisionError"
    assert len(found) == 1 + notebook.MAX_NOTES
    for report in found:
        assert len(report["message"]) <= 300
        shapes.read(CellError, report, "a cell error")  # the load report's own shape


def test_feedback_names_the_skipped_cell(tmp_path):
    ns = run(tmp_path, "x = 1", "%%bash\nls")
    plugin = SimpleNamespace(load_problem=None, sub=SimpleNamespace(display="hw.ipynb"),
                             load_report={"errors": [], "cell_errors": reports(ns)})
    [message] = engine._load_errors(plugin)
    # A note, not an error: no exception type, no "the cells after it still ran".
    assert message == ("hw.ipynb, cell 2: the cell starts with %%bash: "
                       "its body was not run (the grader runs Python only)")


# %%writefile: written beside the module, as Jupyter writes beside the notebook

def prepared(tmp_path: Path, *cells: str) -> tuple[Path, dict]:
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "helper.py").write_text("OLD = 1\n")
    source = write_notebook(folder, *cells, name="generators.ipynb")
    module_file = prepare(Submission(folder, "generators", source=source), tmp_path / "work")
    return module_file, load(module_file) if cells else {}


def test_writefile_writes_beside_the_module_for_later_cells(tmp_path):
    module_file, ns = prepared(
        tmp_path,
        "%%writefile shapes_helper.py\ndef area(w, h):\n    return w * h",
        "%%writefile -a 'shapes_helper.py'\nSIDES = 4",
        "%%file helper.py\nNEW = 2",
        "import shapes_helper, helper\nresult = shapes_helper.area(2, 3), shapes_helper.SIDES",
        "%%writefile notes.txt\nplain text")
    work = module_file.parent
    assert (work / "shapes_helper.py").read_text() == (
        "def area(w, h):\n    return w * h\nSIDES = 4\n")
    assert (work / "helper.py").read_text() == "NEW = 2\n"
    assert (work / "notes.txt").read_text() == "plain text\n"
    assert ns["result"] == (6, 4)
    assert reports(ns) == []
    for name in ("shapes_helper", "helper"):
        sys.modules.pop(name, None)


@pytest.mark.parametrize("name", ["../escape.py", "/tmp/abs.py", "sub/inner.py", "~/home.py",
                                  "generators.py", "__pycache__"])
def test_writefile_outside_the_folder_or_over_the_module_is_not_written(tmp_path, name):
    module_file, ns = prepared(tmp_path, f"%%writefile {name}\nx = 1", "y = 2")
    assert ns["y"] == 2
    assert sorted(p.name for p in module_file.parent.iterdir()) == ["generators.py", "helper.py"]
    assert not (tmp_path / "escape.py").exists()
    [note] = notes(ns)
    assert note["message"].startswith(f"%%writefile {name}: the file was not written (")


# In a spawned child only the definitions run (see run_cells): nothing noted twice

def test_child_process_runs_definitions_only(tmp_path, monkeypatch):
    monkeypatch.setattr(notebook, "_in_child_process", lambda: True)
    ns = run(tmp_path, "%%time\ndef f():\n    return 1\nprint('demo')",
             "%%timeit\ndef g():\n    return 2", "%%capture\ndef h():\n    return 3\nh()",
             "%%bash\nls", "%timeit x = 5")
    assert {"f", "h"} <= set(ns) and not {"g", "x"} & set(ns)
    assert reports(ns) == []


def test_cells_compiled_once_run_as_cells_compiled_at_each_load(tmp_path, monkeypatch):
    """The supervisor compiles a notebook's cells once (``compile_cells``):
    run from there, the module defines and reports what it does when each
    load compiles them (a %%timeit cell, a cell that fails only when
    compiled, a syntax error, a cell that raises), and what runs is the
    compiled code."""
    cells = ("def f():\n    return 1\n", "%%timeit\ny = f()\n", "return 2\n", "x = (\n",
             "z = 1 / 0\n", "w = f() + 1\n")
    module_file = tmp_path / "nb_module.py"
    module_file.write_text(notebook_to_module(write_notebook(tmp_path, *cells)), encoding="utf-8")
    plain = load(module_file)
    found = notebook.cells_of(module_file.read_bytes())
    compiled = notebook.compile_cells(str(module_file), found)
    assert sorted(number for number, *_ in compiled) == [1, 2, 5, 6]
    monkeypatch.setattr(notebook, "COMPILED", compiled)
    again = load(module_file)
    assert reports(again) == reports(plain) and len(reports(plain)) == 3
    assert again["w"] == plain["w"] == 2 and "y" not in again and "z" not in again
    last = next(key for key in compiled if key[0] == 6)
    compiled[last] = compile("w = 41\n", compiled[last].co_filename, "exec")
    assert load(module_file)["w"] == 41
    assert notebook.cells_of(b"import os\n") is None
