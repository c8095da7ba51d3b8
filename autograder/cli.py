"""``advpy``: a thin command line over ``autograder.api``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from autograder import api, render, sandbox
from autograder.child import Limits
from autograder.engine import Settings
from autograder.model import INCOMPLETE, SubmissionResult

# Exit status of `advpy grade` when a submission is incomplete (a grader error):
# its score lacks what could not be judged, and it must be regraded.
EXIT_INCOMPLETE = 3


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
    grade.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    grade.add_argument("--demo", action="store_true", help="grade the bundled sample class")
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
    results = api.grade(paths, assignment=args.assignment, jobs=args.jobs,
                        settings=_settings(args), progress=_progress(err))
    single = len(args.paths) == 1 and len(results) == 1 and not args.demo
    if args.format == "json":
        text = render.to_json(results, single)
    elif args.format == "csv":
        text = render.to_csv(results)
    else:
        text = None
    if args.gradescope:
        args.gradescope.write_text(json.dumps(render.to_gradescope(results[0]), indent=2))
    if text is not None:
        if args.output:
            args.output.write_text(text + "\n")
        else:
            sys.stdout.write(text + "\n")
    else:
        out = Console(file=args.output.open("w")) if args.output else Console()
        render.class_table(results, out)
        if args.details or single:
            for result in results:
                render.submission_table(result, out, show_hidden=True)
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


def cmd_check(args: argparse.Namespace) -> int:
    result = api.check(args.file, assignment=args.assignment, settings=_settings(args))
    console = Console()
    render.submission_table(result, console, show_hidden=False)
    passed = sum(t.status == "passed" for q in result.questions for t in q.tests)
    count = sum(len(q.tests) for q in result.questions)
    console.print(f"{passed} of {count} public checks passed. The grader also runs hidden "
                  "tests: passing these does not mean full marks.")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from autograder.release import ReleaseError, release

    err = Console(stderr=True)
    try:
        folders = release(args.directory, slugs=args.assignment)
    except (ReleaseError, KeyError, FileNotFoundError) as exc:
        err.print(f"advpy release: {exc.args[0] if exc.args else exc}", style="bold red")
        return 1
    for folder in folders:
        print(folder)
    err.print("checked: no reference solution and no hidden test in the bundle", style="dim")
    return 0


def _export_otter(directory: Path, slugs: list[str] | None) -> list[Path]:
    from autograder.exporters import otter

    return [*otter.export(directory, slugs=slugs), directory / "GRADESCOPE.md"]


EXPORTERS = {"otter": _export_otter}


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
    return {"grade": cmd_grade, "check": cmd_check, "release": cmd_release,
            "export": cmd_export}[args.command](args)
