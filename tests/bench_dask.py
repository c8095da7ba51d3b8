"""Benchmark: a class graded locally and on a Dask LocalCluster; what Dask adds a submission.

    python tests/bench_dask.py [--slug generators] [--workers 2] [--round-trips 50]

The class is the reference solution and every submission of
tests/submissions/<slug>/. Printed (a rich table):

- the wall time of ``classroom.grade_class`` on this machine (the default
  jobs) and through ``--dask local:N`` (``cluster.connect``'s LocalCluster:
  its start, then the grading), and whether every score is the same;
- Dask's overhead per submission, three ways: the round trip of a task that
  carries a real submission (its ``Parcel``, ``exclusive=1``) and returns a
  result's worth of bytes but grades nothing, one at a time and as many at
  once as the cluster grades; and, in the real run, how long a worker waits
  between the end of one grading task and the start of the next (Dask's
  task stream). Target: all three under 50 ms.
- what a task does besides grading: its compute time less the engine's own
  grading seconds (a pytest session a task, the parcel unpacked), per
  submission; a local job keeps one pytest session for all its submissions.

Timing-sensitive and slow (a minute or more): run it alone, never in CI
(pytest does not collect it).
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from distributed import as_completed, get_task_stream
from rich.console import Console
from rich.table import Table

from autograder import classroom, cluster
from autograder.submissions import discover

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 50.0


def make_class(slug: str, folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / slug / f"{slug}.py", folder / f"reference_{slug}.py")
    for source in sorted((ROOT / "tests" / "submissions" / slug).iterdir()):
        if source.suffix in (".py", ".ipynb"):
            shutil.copy(source, folder / f"{source.stem.replace('_', '-')}_{slug}{source.suffix}")
    return folder


def _no_grading(parcel: cluster.Parcel, size: int) -> tuple[str, str]:
    """A task that travels as a grading does, and grades nothing."""
    return "0" * 64, "x" * size


def round_trips(client, parcels: list[cluster.Parcel], size: int, at_once: int) -> float:
    """Seconds per task of ``_no_grading`` over ``parcels``, ``at_once`` in flight."""
    started = time.perf_counter()
    waiting = iter(parcels)
    done = as_completed()
    for parcel in [next(waiting) for _ in range(min(at_once, len(parcels)))]:
        done.add(client.submit(_no_grading, parcel, size, pure=False,
                               resources={cluster.EXCLUSIVE: 1}))
    for future in done:
        future.result()
        parcel = next(waiting, None)
        if parcel is not None:
            done.add(client.submit(_no_grading, parcel, size, pure=False,
                                   resources={cluster.EXCLUSIVE: 1}))
    return (time.perf_counter() - started) / len(parcels)


def scores(run: classroom.ClassRun) -> dict:
    return {key: [(q.id, [(t.name, t.status, t.score) for t in q.tests]) for q in r.questions]
            for key, r in zip(run.keys, run.results, strict=True)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slug", default="generators")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--round-trips", type=int, default=50)
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="advpy-bench-dask-") as scratch:
        scratch = Path(scratch)
        klass = make_class(args.slug, scratch / "class")
        started = time.perf_counter()
        local = classroom.grade_class([klass], assignment=args.slug, out=scratch / "local")
        local_wall = time.perf_counter() - started
        n = len(local.results)

        started = time.perf_counter()
        with cluster.connect(f"{cluster.LOCAL}{args.workers}") as client:
            startup = time.perf_counter() - started
            slots = cluster.slots(client)
            with get_task_stream(client) as stream:
                started = time.perf_counter()
                remote = classroom.grade_class([klass], assignment=args.slug,
                                               out=scratch / "dask",
                                               dask=client.scheduler.address)
                dask_wall = time.perf_counter() - started
            tasks = [t for t in stream.data if str(t["key"]).startswith("advpy-grade-")]
            runs: dict[str, list[tuple[float, float]]] = {}
            for task in tasks:
                runs.setdefault(task["worker"], []).extend(
                    (s["start"], s["stop"]) for s in task["startstops"]
                    if s["action"] == "compute")
            compute = sum(stop - start for spans in runs.values() for start, stop in spans)
            # A worker's wait between the end of one grading and the start of the next.
            gaps = [later[0] - earlier[1] for spans in map(sorted, runs.values())
                    for earlier, later in itertools.pairwise(spans)]
            grading = sum(r.seconds for r in remote.results)
            subs = discover([klass], args.slug, scratch / "found")
            parcels = [cluster.pack(sub) for sub in subs if sub.source is not None]
            parcels = (parcels * (args.round_trips // len(parcels) + 1))[:args.round_trips]
            size = max(len((scratch / "dask" / "results" / f"{key}.json").read_bytes())
                       for key in remote.keys)
            one = round_trips(client, parcels, size, 1)
            many = round_trips(client, parcels, size, slots)
    same = scores(local) == scores(remote)

    table = Table(title=f"{args.slug}: {n} submissions, {args.workers} Dask workers "
                        f"({slots} slots) vs the default local jobs")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("per submission", justify="right")
    table.add_row("local grade_class (default jobs), wall", f"{local_wall:.2f} s",
                  f"{1000 * local_wall / n:.0f} ms")
    table.add_row(f"--dask local:{args.workers}: cluster start", f"{startup:.2f} s", "")
    table.add_row(f"--dask local:{args.workers}: grading, wall", f"{dask_wall:.2f} s",
                  f"{1000 * dask_wall / n:.0f} ms")
    table.add_row(f"--dask local:{args.workers}: end to end", f"{startup + dask_wall:.2f} s",
                  f"{1000 * (startup + dask_wall) / n:.0f} ms")
    table.add_row("Dask round trip, one task at a time (no grading)", "",
                  f"{1000 * one:.1f} ms")
    table.add_row(f"Dask round trip, {slots} at once (no grading)", "", f"{1000 * many:.1f} ms")
    table.add_row("real run: a worker's wait between two gradings (mean)", "",
                  f"{1000 * statistics.mean(gaps):.1f} ms")
    table.add_row("real run: a worker's wait between two gradings (median)", "",
                  f"{1000 * statistics.median(gaps):.1f} ms")
    table.add_row("in a task besides grading: compute - engine seconds", "",
                  f"{1000 * (compute - grading) / n:.0f} ms")
    table.add_row("every score equal to the local run's", "yes" if same else "NO", "")
    console.print(table)
    met = max(one, many, statistics.mean(gaps)) * 1000 < TARGET_MS
    console.print(f"Target: Dask's overhead under {TARGET_MS:g} ms per submission: "
                  + ("met" if met else "MISSED"))
    return 0 if same and met else 1


if __name__ == "__main__":
    sys.exit(main())
