"""Benchmark: grade the processes reference and our wrong and correct
submissions many times, on an idle machine, beside a CPU hog on one core, and
pinned to one CPU; report whether every verdict held in every run, and how
long one submission takes to grade.

    python tests/bench_processes.py                  # 3 runs of everything
    python tests/bench_processes.py --runs 10 --only reference q3_
    python tests/bench_processes.py --conditions idle hog

Not collected by pytest (its name does not start with test_). Each condition
runs in a child process of its own (so that ``taskset`` pins the grader and
everything it starts), and the hog is a busy loop pinned to CPU 0.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "submissions" / "processes"
REFERENCE = ROOT / "solutions" / "processes" / "processes.py"
CONDITIONS = {
    "idle": "nothing else running",
    "hog": "a busy loop pinned to CPU 0",
    "taskset": "the grader pinned to one CPU (taskset -c 0)",
}


def variants(only: list[str]) -> list[tuple[str, Path]]:
    found = [("reference", REFERENCE), ("reference.ipynb", REFERENCE.with_suffix(".ipynb"))]
    found += [(p.name, p) for p in sorted(SUBMISSIONS.iterdir()) if p.suffix in (".py", ".ipynb")]
    if only:
        found = [(name, path) for name, path in found if any(word in name for word in only)]
    return found


def expected(path: Path) -> dict[str, float] | None:
    """The scores a submission must get (None: full marks), from its expect: line."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import expected_scores

    if path.parent != SUBMISSIONS:
        return None
    return expected_scores(path) or None


def strays(settle: float = 1.0) -> list[str]:
    """What a grading left behind: processes of our untidy submission (it
    names them advpy-leftover), and zombies this process has not reaped, that
    are still there ``settle`` seconds after it. (Other sandbox processes on a
    shared machine may belong to other runs, so they are not counted.)"""
    deadline = time.monotonic() + settle
    while (found := _strays_now()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def _strays_now() -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, parent = stat[0], int(stat[1])
        if comm == "advpy-leftover" or (state == "Z" and parent == os.getpid()):
            found.append(f"{entry} {comm} ({state})")
    return found


# -- the child process: grade and print one JSON line per grading ----------
def grade_many(names: list[str], runs: int) -> None:
    sys.path.insert(0, str(ROOT))
    from autograder import api

    chosen = [(name, path) for name, path in variants([]) if name in names]
    for run in range(runs):
        for name, path in chosen:
            started = time.monotonic()
            result = api.grade([path], assignment="processes")[0]
            wall = time.monotonic() - started
            print(json.dumps({
                "variant": name, "run": run, "score": result.score,
                "scores": {q.id: q.score for q in result.questions},
                "seconds": result.seconds, "wall": wall,
                "grader_errors": result.has_grader_errors,
                "strays": strays(),
                "titles": [t.name for q in result.questions for t in q.tests
                           if q.id == "q3" and "parallel" in t.name and "CPU-bound" in t.name],
            }), flush=True)


# -- the parent: run each condition, gather, print the table ---------------
def run_condition(condition: str, names: list[str], runs: int) -> list[dict]:
    command = [sys.executable, __file__, "--child", "--runs", str(runs), "--names", *names]
    hog = None
    if condition == "taskset":
        command = ["taskset", "-c", "0", *command]
    if condition == "hog":
        hog = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)
    try:
        out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def verdict(rows: list[dict], want: dict[str, float] | None, full: dict[str, float]) -> str:
    """"yes" when every run got exactly the expected scores."""
    target = {q: (want or {}).get(q, points) for q, points in full.items()}
    good = all(r["scores"] == target and not r["grader_errors"] for r in rows)
    return "yes" if good and rows else "NO"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3,
                        help="gradings of each variant per condition")
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=CONDITIONS)
    parser.add_argument("--only", nargs="*", default=[], help="variants whose name holds a word")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--names", nargs="*", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        grade_many(args.names, args.runs)
        return

    sys.path.insert(0, str(ROOT))
    from rich.console import Console
    from rich.table import Table

    from autograder import assignments

    full = {q.id: q.points for q in assignments.get("processes").questions}
    chosen = variants(args.only)
    names = [name for name, _ in chosen]
    console = Console(width=160)
    table = Table(title=f"processes: {args.runs} grading(s) of each variant per condition")
    for column in ("variant", "condition", "runs", "scores seen", "expected every time?",
                   "median s", "left behind"):
        justify = "right" if column in ("runs", "median s") else "left"
        table.add_column(column, justify=justify)
    reference_seconds, all_seconds, failures = [], [], 0
    for condition in args.conditions:
        console.print(f"[bold]{condition}[/]: {CONDITIONS[condition]} …")
        rows = run_condition(condition, names, args.runs)
        for name, path in chosen:
            mine = [r for r in rows if r["variant"] == name]
            seconds = [r["seconds"] for r in mine]
            all_seconds.extend(seconds)
            if name.startswith("reference"):
                reference_seconds.extend(seconds)
            want = expected(path)
            ok = verdict(mine, want, full)
            failures += ok != "yes"
            seen = sorted({f"{r['score']:g}" for r in mine})
            left = sorted({s for r in mine for s in r["strays"]})
            kind = "full marks" if want is None else "caught: " + " ".join(
                f"{q}={v:g}" for q, v in want.items())
            table.add_row(name, condition, str(len(mine)), ", ".join(seen) + "/17",
                          f"{ok} ({kind})", f"{statistics.median(seconds):.2f}" if seconds else "-",
                          str(len(left)) if left else "0")
    console.print(table)
    if reference_seconds:
        console.print(f"median time to grade the reference: "
                      f"{statistics.median(reference_seconds):.2f} s "
                      f"(over {len(reference_seconds)} gradings; target at most 2.5 s)")
    if all_seconds:
        console.print(f"median time to grade any processes submission: "
                      f"{statistics.median(all_seconds):.2f} s over {len(all_seconds)} gradings")
    console.print("every verdict held in every run" if not failures
                  else f"[red]{failures} variant/condition pair(s) did not hold every time[/]")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
