"""Benchmark: what grading through otter-grader costs over `advpy grade`.

    python tests/bench_otter.py [--slug generators] [--runs 5]

For each submission (the reference notebook and module, the stub notebook)
it times, a fresh process each run, as an instructor runs them:

- `advpy grade FILE -a SLUG --format json`;
- `otter run -a SLUG-autograder.zip FILE` with the zip of `advpy export otter`;
- otter's own start-up: `otter run` of a trivial autograder zip (made by
  `otter generate`: one test file, one test that always passes) on an empty
  notebook. It starts otter, its kernel and its grading cells, and grades
  nothing.

Target: otter run with our zip <= 1.5 x advpy grade + otter's start-up, each
the best of its runs (the best is the cost without interference from other
work on the machine; medians are shown beside), in wall seconds. CPU
seconds of the whole process tree are printed too: they barely depend on
what else the machine runs. Exit status 1 when a submission misses the
target. Also collected by pytest when named: `python -m pytest tests/bench_otter.py`.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5
TRIVIAL_TEST = '''from otter.test_files import test_case

OK_FORMAT = False
name = "q1"


@test_case(points=1)
def always_passes():
    pass
'''


def _seconds(argv: list[str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the whole process tree (the kernel
    and the student processes included: each is waited for by its parent)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, timeout=900)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _otter_run(autograder: Path, submission: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "otter", "run", "-a", str(autograder), "-o", str(out),
            "--no-logo", str(submission)]


def trivial_autograder(folder: Path) -> tuple[Path, Path]:
    """A do-nothing otter zip and an empty notebook: otter's start-up alone."""
    import nbformat

    (folder / "tests").mkdir(parents=True)
    (folder / "tests" / "q1.py").write_text(TRIVIAL_TEST)
    output = folder / "trivial-autograder.zip"
    subprocess.run([sys.executable, "-m", "otter", "generate", "-t", "tests", "-o", str(output),
                    "--no-config", "--no-requirements", "--no-environment"],
                   cwd=folder, check=True, capture_output=True)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                       "name": "python3"}
    notebook.cells = [nbformat.v4.new_code_cell("")]
    empty = folder / "empty.ipynb"
    nbformat.write(notebook, str(empty))
    return output, empty


def measure(slug: str, runs: int) -> list[dict]:
    from autograder.exporters import otter

    rows = []
    with tempfile.TemporaryDirectory(prefix="advpy-bench-otter-") as scratch:
        scratch = Path(scratch)
        ours = otter.build_zip(slug, scratch / f"{slug}-autograder.zip")
        trivial, empty = trivial_autograder(scratch / "trivial")
        out = scratch / "out"
        out.mkdir()
        startup: list[float] = []
        submissions = {f"{slug}.ipynb (reference)": ROOT / "solutions" / slug / f"{slug}.ipynb",
                       f"{slug}.py (reference)": ROOT / "solutions" / slug / f"{slug}.py",
                       f"{slug}.ipynb (stub)": ROOT / "assignments" / slug / f"{slug}.ipynb"}
        for label, path in submissions.items():
            advpy, through_otter = [], []
            for _ in range(runs):  # interleaved, so that load on the machine hits all three
                startup.append(_seconds(_otter_run(trivial, empty, out)))
                advpy.append(_seconds([sys.executable, "-m", "autograder", "grade", str(path),
                                       "-a", slug, "--format", "json"]))
                through_otter.append(_seconds(_otter_run(ours, path, out)))
            rows.append(_row(label, advpy, through_otter))
        for row in rows:
            row["startup"] = min(wall for wall, _ in startup)
            row["startup median"] = statistics.median(wall for wall, _ in startup)
            row["startup cpu"] = min(cpu for _, cpu in startup)
            row["budget"] = TARGET * row["advpy"] + row["startup"]
            row["ok"] = row["otter"] <= row["budget"]
    return rows


def _row(label: str, advpy: list, through_otter: list) -> dict:
    return {"submission": label,
            "advpy": min(wall for wall, _ in advpy),
            "advpy median": statistics.median(wall for wall, _ in advpy),
            "advpy cpu": min(cpu for _, cpu in advpy),
            "otter": min(wall for wall, _ in through_otter),
            "otter median": statistics.median(wall for wall, _ in through_otter),
            "otter cpu": min(cpu for _, cpu in through_otter)}


def report(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="otter run with advpy's zip against advpy grade: best (median) seconds")
    for column in ("submission", "advpy grade", "otter start-up", "otter run (ours)",
                   "ours - start-up", f"budget: {TARGET:g} x advpy + start-up", "ok"):
        table.add_column(column, justify="left" if column == "submission" else "right")
    for row in rows:
        table.add_row(row["submission"], f"{row['advpy']:.2f} ({row['advpy median']:.2f})",
                      f"{row['startup']:.2f} ({row['startup median']:.2f})",
                      f"{row['otter']:.2f} ({row['otter median']:.2f})",
                      f"{row['otter'] - row['startup']:.2f}", f"{row['budget']:.2f}",
                      "yes" if row["ok"] else "NO")
    console = Console(width=140)
    console.print(table)
    for row in rows:
        console.print(f"CPU seconds (whole process tree), {row['submission']}: advpy grade "
                      f"{row['advpy cpu']:.2f}, otter start-up {row['startup cpu']:.2f}, otter "
                      f"run (ours) {row['otter cpu']:.2f}: ours - start-up "
                      f"{row['otter cpu'] - row['startup cpu']:.2f}")


def test_otter_run_costs_little_over_advpy_grade():
    rows = measure("generators", runs=1)
    report(rows)
    assert all(row["ok"] for row in rows), rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slug", default="generators")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = measure(args.slug, args.runs)
    report(rows)
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
