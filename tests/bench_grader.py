"""Benchmark: grading one generators submission end to end, and what the sandbox adds.

    python tests/bench_grader.py [--runs 7] [--only trust]

Prints a table: median and best wall time of `advpy grade FILE --format json`
(a fresh process each run, as an instructor runs it), the grader's peak
memory (max RSS of the `advpy` process; the student processes are separate),
the sandbox's cost: the same in-process grading with `--sandbox none`
against bubblewrap, and what the trust of issue 9 costs on each assignment's
reference: grading with the audit hook against without it (runs
interleaved), plus the supervisor's own time on outside evidence (clock and
/proc readings, live processes), which it reports per call. Calibration
runs (``around``, the speedup tests' yardstick) are shown apart: the probes
ran them themselves before; now the supervisor runs them out of reach.
Targets: at most 1.0 s wall, 150 MB, 50 ms for the sandbox, and 10% for the
hook and the evidence together.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
FILES = {
    "generators.py (reference)": ROOT / "solutions" / "generators" / "generators.py",
    "generators.ipynb (reference)": ROOT / "solutions" / "generators" / "generators.ipynb",
    "generators.py (stub)": ROOT / "assignments" / "generators" / "generators.py",
}


def cli_run(path: Path, sandbox: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `advpy grade` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--format", "json",
                    "--sandbox", sandbox], check=True, capture_output=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024


def in_process(path: Path, sandbox: str, runs: int) -> list[float]:
    from autograder import api
    from autograder.engine import Settings

    api.grade([path], settings=Settings(sandbox=sandbox))  # warm imports
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        api.grade([path], settings=Settings(sandbox=sandbox))
        times.append(time.perf_counter() - start)
    return times


def trust_cost(slug: str, runs: int) -> dict[str, float]:
    """Medians, grading ``slug``'s reference: seconds with the audit hook and
    without it, and the supervisor's seconds on evidence readings and on
    calibration runs (``around``) with it."""
    from autograder import api, child
    from autograder.engine import Settings

    path = ROOT / "solutions" / slug / f"{slug}.py"
    spent: list[list[float]] = []
    real_call = child.StudentProcess.call

    def counting_call(self, *args, **kwargs):  # the benchmark's own instrument
        answer = real_call(self, *args, **kwargs)
        spent[-1][0] += float(answer.get("evidence_seconds", 0.0))
        spent[-1][1] += float(answer.get("around_seconds", 0.0))
        return answer

    child.StudentProcess.call = counting_call
    times: dict[bool, list[float]] = {True: [], False: []}
    try:
        api.grade([path], assignment=slug)  # warm imports
        for _ in range(runs):
            for guard in (True, False):
                spent.append([0.0, 0.0])
                start = time.perf_counter()
                api.grade([path], assignment=slug, settings=Settings(guard=guard))
                times[guard].append(time.perf_counter() - start)
    finally:
        child.StudentProcess.call = real_call
    guarded = spent[0::2]
    return {"with": statistics.median(times[True]), "without": statistics.median(times[False]),
            "evidence": statistics.median(s[0] for s in guarded),
            "around": statistics.median(s[1] for s in guarded)}


def _trust_table(runs: int) -> Table:
    trust = Table(title="what the audit hook and the outside evidence cost (each reference, "
                        "in-process, default sandbox, medians)")
    for column in ("assignment", "with hook s", "without s", "hook", "evidence s", "evidence",
                   "hook+evidence", "calibration s"):
        trust.add_column(column, justify="right")
    for slug in ("generators", "threads", "processes"):
        cost = trust_cost(slug, max(3, runs // 2))
        hook = (cost["with"] - cost["without"]) / cost["without"]
        evidence = cost["evidence"] / cost["with"]
        trust.add_row(slug, f"{cost['with']:.2f}", f"{cost['without']:.2f}", f"{hook:+.1%}",
                      f"{cost['evidence']:.3f}", f"{evidence:.1%}", f"{hook + evidence:+.1%}",
                      f"{cost['around']:.2f}")
    return trust


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", choices=("trust",), help="print only this table")
    args = parser.parse_args()
    console = Console(width=140)
    if args.only == "trust":
        console.print(_trust_table(args.runs))
        return
    table = Table(title=f"grading one generators submission ({os.cpu_count()} CPUs, "
                        f"{args.runs} runs each)")
    for column in ("submission", "sandbox", "median s", "best s", "grader peak MB"):
        table.add_column(column, justify="right" if column != "submission" else "left")
    for label, path in FILES.items():
        runs = [cli_run(path, "auto") for _ in range(args.runs)]
        table.add_row(label, "auto", f"{statistics.median(r[0] for r in runs):.3f}",
                      f"{min(r[0] for r in runs):.3f}", f"{max(r[1] for r in runs):.0f}")
    console.print(table)

    overhead = Table(title="what the sandbox adds (in-process grading, reference .py)")
    for column in ("sandbox", "median s", "best s"):
        overhead.add_column(column, justify="right")
    medians = {}
    for sandbox in ("none", "bubblewrap"):
        times = in_process(FILES["generators.py (reference)"], sandbox, args.runs)
        medians[sandbox] = statistics.median(times)
        overhead.add_row(sandbox, f"{medians[sandbox]:.3f}", f"{min(times):.3f}")
    overhead.add_row("difference", f"{(medians['bubblewrap'] - medians['none']) * 1000:+.0f} ms",
                     "")
    console.print(overhead)

    console.print(_trust_table(args.runs))


if __name__ == "__main__":
    main()
