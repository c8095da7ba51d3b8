"""``advpy``: a thin command line over ``autograder.api``."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from autograder import api, render, sandbox
from autograder.child import Limits
from autograder.engine import Settings
from autograder.model import INCOMPLETE, SubmissionResult

if TYPE_CHECKING:
    from autograder.classroom import ClassRun

try:  # only the student package (advpy-student) has it: there, only `check` works
    from autograder._student import REFUSAL as STUDENT_PACKAGE
except ImportError:
    STUDENT_PACKAGE = None

# Exit status of `advpy grade` when a submission is incomplete (a grader error):
# its score lacks what could not be judged, and it must be regraded.
EXIT_INCOMPLETE = 3
EXIT_INTERRUPTED = 130  # as a shell reports a program that Ctrl-C stopped


def _settings(args: argparse.Namespace) -> Settings:
    limits = Limits(memory=int(args.memory * 1024**3), output=args.output_limit)
    return Settings(limits=limits, sandbox=args.sandbox)


def _add_limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--memory", type=float, default=2.0, metavar="GIB",
                        help="memory a submission may use (default 2 GiB)")
    parser.add_argument("--output-limit", type=int, default=64 * 1024, metavar="BYTES",
                        help="output kept from a submission; the rest is dropped")
    parser.add_argument("--sandbox", default="auto",
                        choices=list(sandbox.MODES),
                        help="isolation for student code (default: the strongest available)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="advpy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    grade = commands.add_parser("grade", help="grade submissions (a file, a folder, a zip)")
    grade.add_argument("paths", nargs="*", type=Path)
    grade.add_argument("-a", "--assignment", help="generators, threads or processes")
    grade.add_argument("--format", choices=["table", "json", "csv"], default="table")
    grade.add_argument("-o", "--output", type=Path, help="write the results here")
    grade.add_argument("--gradescope", type=Path, metavar="FILE",
                       help="also write Gradescope's results.json (one submission)")
    grade.add_argument("--jobs", type=int, default=None,
                       help="submissions graded at once (default: the CPUs available)")
    grade.add_argument("--out", type=Path, metavar="DIR",
                       help="grade a class into DIR: results/ (one file a submission, kept as "
                            "each finishes: an interrupted run resumes), grades.csv, "
                            "canvas.csv, feedback/ and report.html")
    grade.add_argument("--regrade", action="store_true",
                       help="with --out: grade again the submissions already finished in DIR")
    grade.add_argument("--dask", metavar="ADDRESS|local:N",
                       help="with --out: grade on the Dask cluster whose scheduler is at "
                            "ADDRESS (tcp://host:8786), or on N local worker processes")
    grade.add_argument("--demo", action="store_true",
                       help="grade the bundled sample class (into a temporary --out)")
    grade.add_argument("--details", action="store_true",
                       help="table format: every test of every submission")
    _add_limits(grade)

    check = commands.add_parser("check", help="run the public checks on your work")
    check.add_argument("file", type=Path)
    check.add_argument("-a", "--assignment")
    _add_limits(check)

    release = commands.add_parser(
        "release", help="write the student bundle (stubs, notebooks, public checks)")
    release.add_argument("directory", type=Path)
    release.add_argument("-a", "--assignment", action="append",
                         help="only this assignment (repeatable; default: all)")

    export = commands.add_parser("export", help="write what another grading system runs")
    export.add_argument("system", choices=sorted(EXPORTERS),
                        help="otter: an otter-grader autograder zip per assignment (Gradescope)")
    export.add_argument("directory", type=Path)
    export.add_argument("-a", "--assignment", action="append",
                        help="only this assignment (repeatable; default: all)")
    return parser


def _progress(console: Console):
    def show(result: SubmissionResult) -> None:
        console.print(f"graded {result.student or result.submission}: "
                      f"{result.score:g}/{result.max_score:g}", style="dim")
    return show


def _protected(args: argparse.Namespace, err: Console) -> bool:
    """Whether grading may go on: never real submissions with no isolation
    (unless --sandbox none); the bundled demo alone runs unprotected, saying so."""
    try:
        sandbox.choose(args.sandbox)
    except sandbox.Unprotected as exc:
        if not args.demo or args.paths:
            err.print(f"advpy grade: refusing to run student code unprotected. {exc}",
                      style="bold red", soft_wrap=True, markup=False)
            return False
        err.print(f"WARNING: the demo runs WITHOUT a sandbox (its code is ours). {exc}",
                  style="bold yellow", soft_wrap=True, markup=False)
        args.sandbox = "none"
    return True


def cmd_grade(args: argparse.Namespace) -> int:
    err = Console(stderr=True)
    paths = list(args.paths)
    if args.demo:
        paths += api.demo_paths()
    if not paths:
        err.print("advpy grade: give a submission (file, folder or zip) or --demo")
        return 2
    if not _protected(args, err):
        return 2
    if args.regrade and args.out is None:
        err.print("advpy grade: --regrade works with --out DIR (the results to grade again)")
        return 2
    if args.dask and (args.out is None and not args.demo or args.jobs is not None):
        err.print("advpy grade: --dask works with --out DIR, without --jobs (the cluster's "
                  "workers are the jobs)")
        return 2
    out = args.out
    if out is None and args.demo:
        out = Path(tempfile.mkdtemp(prefix="advpy-demo-"))  # kept: the report is in it
    run = None
    if out is not None:
        # A class's modules (and the student package, which has none of them)
        # are imported only to grade a class.
        from autograder import cluster

        try:
            run = _grade_class(args, paths, out, err)
        except KeyboardInterrupt:
            err.print(f"Interrupted. Every finished submission is kept in {out / 'results'}; "
                      "run the same command again to grade the rest.", style="bold yellow",
                      soft_wrap=True)
            return EXIT_INTERRUPTED
        except cluster.ClusterError as exc:
            err.print(f"advpy grade: {exc}. Every finished submission is kept in "
                      f"{out / 'results'}; the same command grades the rest.", style="bold red",
                      soft_wrap=True, markup=False)
            return 2
        results = run.results
    else:
        kwargs = {} if args.jobs is None else {"jobs": args.jobs}
        results = api.grade(paths, assignment=args.assignment, settings=_settings(args),
                            progress=_progress(err), **kwargs)
    single = len(args.paths) == 1 and len(results) == 1 and not args.demo and run is None
    if args.format == "json":
        text = render.to_json(results, single)
    elif args.format == "csv":
        text = render.to_csv(results)
    else:
        text = None
    if args.gradescope:
        args.gradescope.write_text(json.dumps(render.to_gradescope(results[0]), indent=2))
    # Where the summary goes: stdout, unless it holds JSON or CSV or goes to -o.
    summary = err
    if text is not None:
        if args.output:
            args.output.write_text(text + "\n")
        else:
            sys.stdout.write(text + "\n")
    else:
        console = Console(file=args.output.open("w")) if args.output else Console()
        summary = err if args.output else console
        render.class_table(results, console)
        if args.details or single:
            for result in results:
                render.submission_table(result, console, show_hidden=True)
    if run is not None:
        render.skipped_list(run.skipped, summary)
        summary.print(f"{len(run.graded)} graded now, {len(run.reused)} kept from an earlier "
                      f"run (--regrade grades them again). Written in {run.out}: "
                      + ", ".join(path.name for path in run.grades)
                      + ", canvas.csv, feedback/, results/", soft_wrap=True)
        summary.print(f"Report: {run.report}", style="bold", soft_wrap=True)
    incomplete = [result for result in results if not result.complete]
    for result in incomplete:
        err.print(f"GRADER ERROR while grading {result.submission}: "
                  + "; ".join(result.grader_errors), style="bold magenta")
    if incomplete:
        err.print(f"{len(incomplete)} submission(s) incomplete: {INCOMPLETE}. What could not "
                  "be judged scores 0 until then: fix the grader problem above and grade these "
                  "submissions again.", style="bold magenta")
        return EXIT_INCOMPLETE
    return 0


class _Interrupt:
    """Ctrl-C while a class is graded: stop at once. A result reported after
    it is not saved (raising from the progress callback drops it): the
    interrupt may have cut its grading short."""

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, signum: int, frame: object) -> None:
        self.seen = True
        raise KeyboardInterrupt


def _grade_class(args: argparse.Namespace, paths: list[Path], out: Path,
                 err: Console) -> ClassRun:
    """``grade_class`` under a progress bar (ETA, live counts) on stderr."""
    from autograder import classroom

    columns = [TextColumn("[progress.description]{task.description}"), BarColumn(bar_width=15),
               MofNCompleteColumn(), TextColumn("ETA"), TimeRemainingColumn(),
               TextColumn("{task.fields[counts]}")]
    counts = {"failed": 0, "incomplete": 0, "kept": 0}
    interrupt = _Interrupt()

    def label() -> str:
        kept = f" · {counts['kept']} kept" if counts["kept"] else ""
        return (f"[red]{counts['failed']} failing[/] · "
                f"[magenta]{counts['incomplete']} incomplete[/]{kept}")

    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task("grading", total=None, counts="")

        def started(todo: int, reused: int) -> None:
            counts["kept"] = reused
            bar.update(task, total=todo, counts=label())

        def finished(result: SubmissionResult) -> None:
            if interrupt.seen:
                raise KeyboardInterrupt
            counts["failed"] += any(t.status == "failed" for q in result.questions
                                    for t in q.tests)
            counts["incomplete"] += not result.complete
            bar.update(task, advance=1, counts=label())

        previous = signal.signal(signal.SIGINT, interrupt)
        try:
            kwargs = {} if args.jobs is None else {"jobs": args.jobs}
            return classroom.grade_class(paths, assignment=args.assignment, out=out,
                                         regrade=args.regrade, settings=_settings(args),
                                         progress=finished, on_start=started,
                                         dask=args.dask, **kwargs)
        finally:
            signal.signal(signal.SIGINT, previous)


def cmd_check(args: argparse.Namespace) -> int:
    result = api.check(args.file, assignment=args.assignment, settings=_settings(args))
    console = Console()
    render.submission_table(result, console, show_hidden=False)
    passed = sum(t.status == "passed" for q in result.questions for t in q.tests)
    count = sum(len(q.tests) for q in result.questions)
    console.print(f"{passed} of {count} public checks passed. The grader also runs hidden "
                  "tests: passing these does not mean full marks.")
    if result.has_grader_errors or not result.complete:
        # As for `advpy grade`: what could not be judged is not the student's fault.
        Console(stderr=True).print(
            "Some checks could not run (a grader error, not a fault of your code): "
            + "; ".join(result.errors), style="bold yellow", soft_wrap=True, markup=False)
        return EXIT_INCOMPLETE
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from autograder.release import ReleaseError, release
    from autograder.student_wheel import wheel_name

    err = Console(stderr=True)
    try:
        folders = release(args.directory, slugs=args.assignment)
    except (ReleaseError, KeyError, FileNotFoundError) as exc:
        err.print(f"advpy release: {exc.args[0] if exc.args else exc}", style="bold red")
        return 1
    for folder in folders:
        print(folder)
    print(args.directory / wheel_name())
    err.print("checked: no reference solution and no hidden test in the bundle (the student "
              "wheel included)", style="dim")
    return 0


def _export_otter(directory: Path, slugs: list[str] | None) -> list[Path]:
    from autograder.exporters import otter

    return [*otter.export(directory, slugs=slugs), directory / "GRADESCOPE.md"]


def _export_nbgrader(directory: Path, slugs: list[str] | None) -> list[Path]:
    from autograder.exporters import nbgrader

    return nbgrader.export(directory, slugs=slugs)


EXPORTERS = {"otter": _export_otter, "nbgrader": _export_nbgrader}


def cmd_export(args: argparse.Namespace) -> int:
    try:
        written = EXPORTERS[args.system](args.directory, args.assignment)
    except KeyError as exc:
        Console(stderr=True).print(f"advpy export: {exc.args[0]}", style="bold red")
        return 1
    for path in written:
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if STUDENT_PACKAGE and args.command != "check":
        Console(stderr=True).print(f"advpy {args.command}: {STUDENT_PACKAGE}", style="bold red",
                                   soft_wrap=True, markup=False)
        return 2
    return {"grade": cmd_grade, "check": cmd_check, "release": cmd_release,
            "export": cmd_export}[args.command](args)
