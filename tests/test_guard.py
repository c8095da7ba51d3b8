"""The audit hook in a real worker, on every Python 3.10+ this machine has:
the standard library's own uses keep working, the routes into the grader
(frames, gc walks, signal handlers, a fresh _signal) are denied."""

from __future__ import annotations

import glob
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.child import StudentProcess
from autograder.probes import common

USES = Path(__file__).resolve().parent / "guard" / "stdlib_uses.py"
WORKS = {
    "asyncio.run": "5", "signal SIG_IGN": "<Handlers.SIG_DFL: 0>", "threadpool": "[0, 1, 4, 9]",
    "pool fork": "[1, 2]", "pool spawn": "[1, 2]", "pool forkserver": "[1, 2]",
    "procpool": "[3, 4]", "pickle": "{1: [2]}", "logging.exception": "None",
    "namedtuple": "P(x=1, y=2)", "dataclass": "D(a=1)", "enum": "<E.A: 1>",
    "shared numbers": "[7, [1.0, 2.0], 3]", "stdlib import": "Fraction(1, 3)",
    "types.coroutine": "'generator'",
}
DENIED = ("signal handler", "fresh _signal", "inspect.stack", "_getframe", "gc.get_objects",
          "shared pointer", "marshal.loads", "code.replace", "crafted pyc", "_testcapi")
# Where the interpreter has them (3.13 renamed _xxsubinterpreters): denied or absent.
DENIED_OR_ABSENT = ("subinterpreter",)


def _pythons() -> list[str]:
    """This interpreter, and other CPythons 3.10+ installed beside it (pyenv)."""
    found = {sys.executable}
    for candidate in sorted(glob.glob("/root/.pyenv/versions/3.*/bin/python3")
                            + glob.glob("/usr/bin/python3.1[0-9]")):
        try:
            version = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[1])"],
                                     capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        if version.strip().isdigit() and int(version) >= 10:
            found.add(candidate)
    return sorted(found)


@pytest.mark.parametrize("python", _pythons())
def test_the_standard_library_works_and_the_grader_stays_out_of_reach(python, monkeypatch):
    """Every use in WORKS gives its value, every route in DENIED is denied."""
    # The supervisor is started as `sys.executable -I -c ...`: the worker runs
    # on that interpreter (our probes need only its standard library).
    monkeypatch.setattr(sys, "executable", python)
    with StudentProcess(USES, "stdlib_uses") as process:
        answer = process.call(common.call, ("report",), timeout=120)
    assert answer["status"] == "ok", answer
    seen = answer["result"]["value"]
    for name, value in WORKS.items():
        assert seen[name] == value, (python, name, seen[name])
    for name in DENIED:
        assert seen[name].startswith("DENIED Forbidden"), (python, name, seen[name])
    for name in DENIED_OR_ABSENT:
        assert seen[name].startswith(("DENIED Forbidden", "DENIED ModuleNotFoundError")), (
            python, name, seen[name])
