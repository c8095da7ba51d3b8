"""Benchmark of the threads assignment: is grading certain, and how long does it take?

Grades the reference solution and each racy submission of ours many times,
on an idle machine and with a CPU hog pinned to one core (optionally with
the grader pinned to that same core), and prints, for each variant: the runs,
the scores seen, whether the reference scored full marks (or the racy one was
caught, i.e. got exactly the scores its ``expect:`` line names) in every run,
and the median seconds to grade one submission.

    python tests/bench_threads.py                 # 10 runs, idle and with a hog
    python tests/bench_threads.py --runs 30 --single-core

Not collected by pytest (its name does not start with test_).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import expected_scores  # noqa: E402

from autograder.engine import Settings, grade_one  # noqa: E402
from autograder.submissions import discover  # noqa: E402

SUBMISSIONS = ROOT / "tests" / "submissions" / "threads"
RACY = ("q2_no_lock", "q2_lock_made_inside", "q2_lock_around_write_only",
        "q2_lock_around_read_only", "q2_two_locked_sections", "q2_read_before_lock",
        "q3_lock_per_thread", "q4_no_lock", "q4_plain_plus_equals", "q4_lock_per_call")
TARGET = 1.0 + 0.5  # about 1 s of deliberate latency in the tests, plus 0.5 s


@contextmanager
def cpu_hog(core: int | None):
    """A busy loop in a child process, pinned to ``core`` (None: no hog)."""
    if core is None:
        yield
        return
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        os.sched_setaffinity(hog.pid, {core})
        time.sleep(0.2)
        yield
    finally:
        hog.kill()
        hog.wait()


def grade(path: Path, settings: Settings, scratch: Path):
    (sub,) = discover([path], "threads", scratch)
    return grade_one(sub, settings)


def run(variants: list[Path], runs: int, settings: Settings, scratch: Path) -> list[dict]:
    rows = []
    for path in variants:
        want = expected_scores(path) if path.parent == SUBMISSIONS else {}
        scores, seconds, exact = [], [], 0
        for _ in range(runs):
            result = grade(path, settings, scratch)
            got = {q.id: q.score for q in result.questions}
            full = {q.id: q.max_score for q in result.questions}
            exact += got == {**full, **want} and not result.has_grader_errors
            scores.append(result.score)
            seconds.append(result.seconds)
        rows.append({"variant": path.stem if path.parent == SUBMISSIONS else "reference",
                     "runs": runs, "scores": sorted(set(scores)), "certain": exact == runs,
                     "median": statistics.median(seconds), "max": max(seconds)})
    return rows


def table(title: str, rows: list[dict]) -> Table:
    out = Table(title=title)
    for name in ("variant", "runs", "scores seen", "every run right?", "median s", "max s"):
        out.add_column(name, justify="left" if name == "variant" else "right",
                       no_wrap=name == "variant")
    for row in rows:
        what = ("17/17" if row["variant"] == "reference" else "caught") if row["certain"] else "NO"
        out.add_row(row["variant"], str(row["runs"]), ", ".join(f"{s:g}" for s in row["scores"]),
                    f"[green]{what}[/]" if row["certain"] else f"[bold red]{what}[/]",
                    f"{row['median']:.2f}", f"{row['max']:.2f}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="gradings of each variant (10)")
    parser.add_argument("--idle-only", action="store_true", help="skip the runs with a CPU hog")
    parser.add_argument("--hog-only", action="store_true", help="skip the idle runs")
    parser.add_argument("--single-core", action="store_true",
                        help="also pin the grader to the hog's core (one busy core in all)")
    parser.add_argument("--sandbox", default="auto", help="the grader's --sandbox (auto)")
    args = parser.parse_args()

    import tempfile

    console = Console()
    cores = sorted(os.sched_getaffinity(0))
    variants = [ROOT / "solutions" / "threads" / "threads.py"]
    variants += [SUBMISSIONS / f"{name}.py" for name in RACY]
    settings = Settings(sandbox=args.sandbox)
    conditions = []
    if not args.hog_only:
        conditions.append(("idle", None))
    if not args.idle_only:
        conditions.append((f"CPU hog on core {cores[0]}", cores[0]))
    all_right = True
    medians = []
    with tempfile.TemporaryDirectory(prefix="advpy-bench-") as scratch:
        for label, core in conditions:
            before = os.sched_getaffinity(0)
            if core is not None and args.single_core:
                os.sched_setaffinity(0, {core})
                label += ", grader pinned to it too"
            try:
                with cpu_hog(core):
                    rows = run(variants, args.runs, settings, Path(scratch))
            finally:
                os.sched_setaffinity(0, before)
            console.print(table(f"threads, {label}: {len(cores)} CPU(s) available", rows))
            all_right &= all(row["certain"] for row in rows)
            medians.append((label, rows[0]["median"]))
    console.print("reference 17/17 in every run and every racy variant caught in every run: "
                  + ("[green]yes[/]" if all_right else "[bold red]NO[/]"))
    for label, median in medians:
        console.print(f"median seconds to grade the reference ({label}): {median:.2f} "
                      f"(target at most {TARGET:.1f})")
    return 0 if all_right else 1


if __name__ == "__main__":
    sys.exit(main())
