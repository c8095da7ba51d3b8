"""Mutation study of the hidden tests: does every bug in a reference solution
cost at least one point?

    python tests/mutation.py                          # generators, threads, processes
    python tests/mutation.py --slug threads --jobs 2
    python tests/mutation.py --slug generators --json out.json
    python tests/mutation.py --slug generators --only-from out.json   # rerun what survived

For each assignment the reference ``solutions/<slug>/<slug>.py`` is copied to
a temporary folder and cosmic-ray (``cosmic-ray init`` + ``cosmic-ray exec``,
its ``local`` distributor) makes one mutant at a time of that copy, on disk,
and runs ``tests/mutation_check.py``, which grades the mutated file with
``python -m autograder grade FILE -a SLUG --format json``. The mutant is
*killed* when it loses at least one point, *survives* with full marks, and is
*unjudged* when the grade could not be trusted (a grader error, an incomplete
result, no JSON) or did not end within the per-mutant timeout: unjudged is
never counted as killed. Out of scope, and never run: mutants inside a
docstring, the wording of an error message, a logging or print statement,
the ``if __name__ == "__main__":`` demo, or a helper that the stub gives
whole (``usable_cpu_count``, ``count_primes_below``, ``pretend_download``):
no question asks for it, the tests hand the student's code payloads of their
own, and what a question's function promises when it calls one is judged by
that function's tests.

It prints a table per assignment (mutants, killed, survived, equivalent,
unjudged, score = killed / (mutants - equivalent)) and each survivor that
``tests/mutation_equivalents.md`` does not explain, in the form that file
uses, ready to be killed by a new hidden test or explained there. Exit status
0 when every assignment scores 100 %, 1 otherwise. A slow job (every mutant
is a full grade): not part of CI. ``--jobs N`` grades N mutants at once, each
in its own copy; keep it at 1 where tests measure speedups (processes).

Why cosmic-ray and not mutmut: cosmic-ray writes the mutant to the file on
disk and runs any command, so the mutant is graded exactly as a student's
file is: loaded by the sandboxed student process, judged by the grader.
mutmut 3 (checked on 3.8.1) instead rewrites every function into a
trampoline, which imports mutmut's runtime into the student's module
(``from mutmut.mutation.trampoline import wrap_in_trampoline``) and picks
the mutant to run, at each call, from ``MUTANT_UNDER_TEST`` or
state set in mutmut's own pytest process; it finds which tests cover a
function by recording trampoline hits in the process that calls it (walking
frames with ``inspect.currentframe``). Here the student's code runs in a
sandboxed worker started with ``python -I`` and a fixed environment, so the
choice of mutant never reaches it (every mutant would run the original and
"survive"), its hits are recorded in a process that dies with the test, and
the audit hook (``autograder/probes/guard.py``) denies frame access to code
that is not ours.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

ROOT = Path(__file__).resolve().parent.parent
CHECK = Path(__file__).resolve().with_name("mutation_check.py")
EQUIVALENTS = Path(__file__).resolve().with_name("mutation_equivalents.md")
SLUGS = ("generators", "threads", "processes")
VERDICT = "MUTATION-VERDICT"  # the last line mutation_check.py prints
# "- `Operator` on `line` → `mutated line` (#n): why" under a "## slug" heading.
ENTRY = re.compile(r"^- `(?P<op>[^`]+)` on `(?P<before>[^`]+)` → `(?P<after>[^`]*)`"
                   r"(?: \(#(?P<n>\d+)\))?: (?P<why>\S.*)$")
LOGGERS = {"print", "logging", "logger", "log", "LOG", "LOGGER"}

Pos = tuple[int, int]  # (line, column in characters), as cosmic-ray (parso) counts them


@dataclass
class Mutant:
    """One mutant of cosmic-ray's session, with what the study made of it."""

    job_id: str
    operator: str  # without cosmic-ray's "core/" prefix
    occurrence: int
    line: int
    where: str  # the function (Class.method) it is in
    before: str  # the line, code only (no comment), whitespace collapsed
    after: str  # the same line in the mutant ("" when the mutant removes it)
    n: int = 0  # which of the mutants with the same operator, before and after
    scope: str | None = None  # why it is out of scope, or None
    verdict: str = "pending"  # killed, survived, equivalent, unjudged, out of scope
    detail: str = ""
    why: str = ""  # for an equivalent: the reason given in the equivalents file
    start: Pos = (0, 0)
    end: Pos = (0, 0)

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.operator, self.before, self.after, self.n)

    def entry(self) -> str:
        """This mutant as an entry of the equivalents file, without the reason."""
        return f"- `{self.operator}` on `{self.before}` → `{self.after}` (#{self.n})"


@dataclass
class Study:
    slug: str
    mutants: list[Mutant] = field(default_factory=list)
    seconds: float = 0.0
    baseline: str = ""
    stale: list[str] = field(default_factory=list)  # equivalents that matched no mutant
    contested: list[Mutant] = field(default_factory=list)  # equivalents that were killed

    def count(self, verdict: str) -> int:
        return sum(m.verdict == verdict for m in self.mutants)

    @property
    def in_scope(self) -> list[Mutant]:
        return [m for m in self.mutants if m.scope is None and m.verdict != "not rerun"]

    @property
    def score(self) -> float | None:
        judged = len(self.in_scope) - self.count("equivalent")
        return self.count("killed") / judged if judged else None


# -- where a mutant is: scope, function, line text -----------------------------------
def _char_col(lines: list[str], line: int, byte_col: int) -> int:
    """ast counts columns in UTF-8 bytes, parso in characters."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return len(text.encode()[:byte_col].decode(errors="ignore"))


def _span(node: ast.AST, lines: list[str]) -> tuple[Pos, Pos]:
    start = (node.lineno, _char_col(lines, node.lineno, node.col_offset))
    end_line = node.end_lineno or node.lineno
    return start, (end_line, _char_col(lines, end_line, node.end_col_offset or 0))


def _is_demo_guard(node: ast.AST) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    sides = [node.test.left, *node.test.comparators]
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    texts = {s.value for s in sides if isinstance(s, ast.Constant)}
    return names == {"__name__"} and texts == {"__main__"}


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _given_helpers(tree: ast.Module, stub: str | None) -> list[ast.FunctionDef]:
    """Functions the stub gives whole (the same code in the stub and the
    reference): no question asks a student to write them, so a mutant of
    one tests the stub's author, not the hidden tests. What a question's
    function promises when it calls one (parallel_map's "one per CPU" through
    usable_cpu_count) is judged by that function's tests, whatever it calls."""
    if stub is None:
        return []
    given = {node.name: ast.dump(node) for node in ast.parse(stub).body
             if isinstance(node, ast.FunctionDef)}
    return [node for node in tree.body
            if isinstance(node, ast.FunctionDef) and given.get(node.name) == ast.dump(node)]


def out_of_scope(source: str, stub: str | None = None) -> list[tuple[Pos, Pos, str]]:
    """The spans whose mutants change no promised behaviour: the demo, the
    helpers the stub gives whole, the docstrings, the wording of error
    messages, logging and print statements."""
    lines = source.splitlines()
    spans = []
    tree = ast.parse(source)
    for node in tree.body:
        if _is_demo_guard(node):
            spans.append((*_span(node, lines), "the __main__ demo"))
    for node in _given_helpers(tree, stub):
        spans.append((*_span(node, lines), "a helper the stub gives whole"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            spans.append((*_span(body[0], lines), "a docstring"))
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            for arg in node.exc.args:
                if isinstance(arg, (ast.JoinedStr, ast.Constant)):
                    spans.append((*_span(arg, lines), "the wording of an error message"))
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and _root_name(node.value.func) in LOGGERS):
            spans.append((*_span(node, lines), "logging or print"))
    return spans


def _definitions(source: str) -> list[tuple[int, int, str]]:
    """(first line, last line, Class.function) of every def and class."""
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                found.append((first, child.end_lineno or child.lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def _where(definitions: list[tuple[int, int, str]], line: int) -> str:
    inside = [d for d in definitions if d[0] <= line <= d[1]]
    return max(inside, key=lambda d: d[0])[2] if inside else "<module>"


def code_only(text: str) -> str:
    """A line without its comment, its whitespace collapsed."""
    cut = len(text)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text + "\n").readline):
            if token.type == tokenize.COMMENT:
                cut = token.start[1]
                break
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # a line of a longer statement: tokens up to the error were read
    return " ".join(text[:cut].split())


# NumberReplacer writes its number with a space before it: `f(x=10)` becomes
# `f(x= 11)`. Shown (and keyed) without it.
_NUMBER_SPACE = re.compile(r"(?:(?<=[(\[])|(?<=\w=)|(?<=\*\*)) (?=-?[\d.])")


def _changed(source: str, mutated: str) -> tuple[str, str]:
    """The original and the mutated text of the lines the mutant changes."""
    old, new = source.splitlines(), mutated.splitlines()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag != "equal":
            before = " / ".join(t for t in (code_only(x) for x in old[a0:a1]) if t)
            after = " / ".join(t for t in (code_only(x) for x in new[b0:b1]) if t)
            return before, after
    return "", ""


# -- cosmic-ray -----------------------------------------------------------------------
def _cosmic_ray(*args: str, cwd: Path, log: Path | None = None) -> subprocess.Popen:
    out = log.open("a") if log else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "cosmic_ray.cli", *args], cwd=cwd,
                            stdout=out, stderr=subprocess.STDOUT)


def _config(copy: Path, slug: str, timeout: float) -> str:
    command = f"{sys.executable} {CHECK} {copy} {slug}"
    return (f'[cosmic-ray]\nmodule-path = "{copy}"\ntimeout = {timeout}\n'
            f'excluded-modules = []\ntest-command = "{command}"\n\n'
            '[cosmic-ray.distributor]\nname = "local"\n')


def _init(part: Path, slug: str, source: Path, timeout: float) -> tuple[Path, Path]:
    part.mkdir(parents=True)
    copy = part / f"{slug}.py"
    shutil.copyfile(source, copy)
    config, session = part / "config.toml", part / "session.sqlite"
    config.write_text(_config(copy, slug, timeout))
    if _cosmic_ray("init", str(config), str(session), cwd=part, log=part / "init.log").wait():
        raise SystemExit(f"cosmic-ray init failed: see {part / 'init.log'}")
    return config, session


def describe(session: Path, source: str, stub: str | None = None) -> list[Mutant]:
    """Every mutant of the session, with its line before and after and its scope."""
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator
    from cosmic_ray.work_db import WorkDB, use_db

    spans, definitions = out_of_scope(source, stub), _definitions(source)
    mutants: list[Mutant] = []
    seen: dict[tuple, int] = {}
    with use_db(str(session), mode=WorkDB.Mode.open) as db:
        items = list(db.work_items)
    for item in items:
        (spec,) = item.mutations
        operator = get_operator(spec.operator_name)(**(spec.operator_args or {}))
        mutated = mutate_code(source, operator, spec.occurrence)
        before, after = _changed(source, mutated) if mutated else ("", "")
        if spec.operator_name.endswith("NumberReplacer"):
            after = _NUMBER_SPACE.sub("", after)
        start, end = tuple(spec.start_pos), tuple(spec.end_pos)
        mutant = Mutant(job_id=item.job_id, operator=spec.operator_name.removeprefix("core/"),
                        occurrence=spec.occurrence, line=start[0],
                        where=_where(definitions, start[0]), before=before, after=after,
                        start=start, end=end)
        for first, last, reason in spans:
            if first <= start and end <= last:
                mutant.scope, mutant.verdict = reason, "out of scope"
                break
        mutants.append(mutant)
    # Numbered in file order, so that an equivalent keeps its number while
    # other lines change.
    for mutant in sorted(mutants, key=lambda m: (m.start, m.occurrence)):
        mutant.n = seen.get(mutant.key[:3], 0)
        seen[mutant.key[:3]] = mutant.n + 1
    return mutants


def _skip(session: Path, job_ids: set[str], reason: str) -> None:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(session), mode=WorkDB.Mode.open) as db:
        for job_id in job_ids:
            db.set_result(job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED,
                                             output=reason))


def _results(session: Path) -> dict[str, Any]:
    from cosmic_ray.work_db import WorkDB, use_db

    with use_db(str(session), mode=WorkDB.Mode.open) as db:
        return dict(db.results)


def _verdict(result: Any) -> tuple[str, str]:
    """killed / survived / unjudged, from cosmic-ray's result and the check's last line."""
    if result is None:
        return "unjudged", "no result"
    output = (result.output or "").rstrip()
    if result.worker_outcome.value != "normal":
        return "unjudged", f"cosmic-ray: {result.worker_outcome.value}: {output[-300:]}"
    if output.strip() == "timeout":
        return "unjudged", "the grade did not end within the per-mutant timeout"
    last = output.splitlines()[-1] if output else ""
    words = last.split(maxsplit=2)
    if len(words) < 2 or words[0] != VERDICT:
        return "unjudged", f"no verdict from the check: {last[:300]}"
    verdict = {"full": "survived", "killed": "killed"}.get(words[1], "unjudged")
    lost = [line.strip().removeprefix("lost ") for line in output.splitlines()
            if line.startswith("  lost ")]
    lost.sort(key=lambda line: ": Not run:" in line)  # the tests that failed first
    detail = (words[2] if len(words) > 2 else "") + ("; " + "; ".join(lost) if lost else "")
    outcome = result.test_outcome.value if result.test_outcome else None
    if (verdict == "survived") != (outcome == "survived"):  # exit status and verdict disagree
        return "unjudged", f"cosmic-ray says {outcome}, the check says {last[:200]}"
    return verdict, detail


# -- the equivalents file -------------------------------------------------------------
def equivalents(path: Path | None = None) -> dict[str, dict[tuple, str]]:
    """{slug: {(operator, before, after, n): why}} from the equivalents file."""
    path = path or EQUIVALENTS
    found: dict[str, dict[tuple, str]] = {}
    slug = None
    if not path.exists():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            slug = line[3:].strip()
            continue
        match = ENTRY.match(line)
        if match and slug:
            key = (match["op"], match["before"], match["after"], int(match["n"] or 0))
            found.setdefault(slug, {})[key] = match["why"]
    return found


# -- running ---------------------------------------------------------------------------
def _baseline(copy: Path, slug: str, console: Console) -> float:
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(CHECK), str(copy), slug], capture_output=True,
                          text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        console.print(done.stdout[-2000:], markup=False)
        raise SystemExit(f"{slug}: the unmutated reference does not get full marks "
                         "(see above); no mutant can be judged")
    return seconds


def _session_mutants(session: Path) -> dict[str, tuple[str, int]]:
    """{job id: (operator, occurrence)}: what names a mutant in every session
    made from the same file (job ids are random)."""
    from cosmic_ray.work_db import WorkDB, use_db

    with use_db(str(session), mode=WorkDB.Mode.open) as db:
        return {item.job_id: (item.mutations[0].operator_name.removeprefix("core/"),
                              item.mutations[0].occurrence) for item in db.work_items}


Part = tuple[Path, Path, Path, dict[str, tuple[str, int]]]  # folder, config, session, its mutants


def _graded(parts: list[Part]) -> int | None:
    try:
        return sum(len(set(_results(session)) & set(mine))
                   for _, _, session, mine in parts)
    except Exception:  # noqa: BLE001 - read while cosmic-ray writes: ask again later
        return None


def run(slug: str, jobs: int, timeout: float | None, work: Path, console: Console,
        only: set[tuple] | None = None) -> Study:
    study, started = Study(slug), time.monotonic()
    source_path = ROOT / "solutions" / slug / f"{slug}.py"
    source = source_path.read_text(encoding="utf-8")
    base = work / slug
    config, session = _init(base / "part0", slug, source_path, 0)
    seconds = _baseline(base / "part0" / f"{slug}.py", slug, console)
    timeout = timeout or max(120.0, 4 * seconds)
    study.baseline = f"reference: full marks in {seconds:.0f} s; per-mutant timeout {timeout:.0f} s"
    console.print(f"[bold]{slug}[/]: {study.baseline}")
    stub = ROOT / "assignments" / slug / f"{slug}.py"
    study.mutants = describe(session, source,
                             stub.read_text(encoding="utf-8") if stub.exists() else None)
    todo = [m for m in study.mutants if m.scope is None]
    if only is not None:
        for mutant in todo:
            if mutant.key not in only:
                mutant.verdict = "not rerun"
        todo = [m for m in todo if m.verdict != "not rerun"]
    jobs = max(1, min(jobs, len(todo)))
    parts: list[Part] = []
    for k in range(jobs):
        # Each part mutates its own copy (cosmic-ray writes the mutant in place)
        # and grades only its share; the rest of its session is marked skipped.
        part = base / f"part{k}"
        if k:
            config, session = _init(part, slug, source_path, timeout)
        else:
            config.write_text(_config(part / f"{slug}.py", slug, timeout))
        share = {(m.operator, m.occurrence) for m in todo[k::jobs]}
        names = _session_mutants(session)
        mine = {job: spec for job, spec in names.items() if spec in share}
        _skip(session, set(names) - set(mine), "out of scope, or another part's")
        parts.append((part, config, session, mine))
    console.print(f"{slug}: {len(study.mutants)} mutants, {len(todo)} to grade "
                  f"({len(study.mutants) - len(todo)} out of scope or not rerun), "
                  f"{jobs} at a time")
    running = [_cosmic_ray("exec", str(c), str(s), cwd=p, log=p / "exec.log")
               for p, c, s, _ in parts]
    shown = -1
    while any(p.poll() is None for p in running):
        time.sleep(10)
        done = _graded(parts)
        if done is not None and done != shown:
            shown = done
            console.print(f"  {slug}: {done}/{len(todo)} graded, "
                          f"{time.monotonic() - started:.0f} s", style="dim")
    for process, (part, *_) in zip(running, parts, strict=True):
        if process.returncode:
            console.print(f"[red]cosmic-ray exec exited {process.returncode}[/]: "
                          f"see {part / 'exec.log'}")
    results: dict[tuple[str, int], Any] = {}
    for _, _, session, mine in parts:
        for job, result in _results(session).items():
            if job in mine:
                results[mine[job]] = result
    for mutant in todo:
        mutant.verdict, mutant.detail = _verdict(results.get((mutant.operator,
                                                              mutant.occurrence)))
    known = equivalents().get(slug, {})
    for mutant in study.mutants:
        if mutant.verdict == "survived" and mutant.key in known:
            mutant.verdict, mutant.why = "equivalent", known[mutant.key]
    present = {m.key for m in study.mutants}
    study.stale = [f"- `{k[0]}` on `{k[1]}` → `{k[2]}` (#{k[3]})"
                   for k in known if k not in present]
    # Explained as equivalent yet killed: a test judges something the
    # docstring does not promise, or the explanation is wrong.
    study.contested = [m for m in study.mutants if m.verdict == "killed" and m.key in known]
    study.seconds = time.monotonic() - started
    return study


# -- the report -----------------------------------------------------------------------
def report(studies: list[Study], console: Console) -> None:
    table = Table(title="Mutation study: reference solutions graded by advpy grade")
    for name in ("assignment", "mutants", "killed", "survived", "equivalent", "unjudged",
                 "score", "out of scope", "wall time"):
        table.add_column(name, justify="left" if name == "assignment" else "right")
    for study in studies:
        score = study.score
        style = "green" if score == 1 else "red"
        table.add_row(study.slug, str(len(study.in_scope)), str(study.count("killed")),
                      str(study.count("survived")), str(study.count("equivalent")),
                      str(study.count("unjudged")),
                      f"[{style}]{'—' if score is None else f'{100 * score:.1f} %'}[/]",
                      str(study.count("out of scope")), f"{study.seconds / 60:.1f} min")
    console.print(table)
    for study in studies:
        survivors = [m for m in study.mutants if m.verdict == "survived"]
        unjudged = [m for m in study.mutants if m.verdict == "unjudged"]
        if survivors:
            console.print(f"\n[bold]{study.slug}[/]: {len(survivors)} surviving mutant(s) "
                          f"not in {EQUIVALENTS.name} (kill each with a hidden test, or "
                          "explain it there):")
            for m in survivors:
                console.print(f"  {study.slug}.py:{m.line} {m.where}, {m.operator}: "
                              f"{m.before}  →  {m.after or '(removed)'}", markup=False,
                              soft_wrap=True)
                console.print(f"    {m.entry()}", style="dim", markup=False, soft_wrap=True)
        # Text.assemble: the code shown is not rich markup (`[None] * n`).
        for m in unjudged:
            console.print(Text.assemble(("  unjudged ", "magenta"),
                                        f"{study.slug}.py:{m.line} {m.where}, {m.operator}: "
                                        f"{m.before} → {m.after}: {m.detail}"), soft_wrap=True)
        for m in study.contested:
            console.print(Text.assemble(("  killed, yet listed as equivalent ", "yellow"),
                                        f"{study.slug}.py:{m.line} {m.where}: {m.entry()}: "
                                        f"{m.detail}"), soft_wrap=True)
        for entry in study.stale:
            console.print(Text.assemble(("  stale ", "yellow"), f"{study.slug}: this "
                                        f"equivalent matches no mutant now: {entry}"),
                          soft_wrap=True)


def _previous(path: Path) -> dict[str, set[tuple]]:
    """The mutants of an earlier --json report worth grading again: the
    survivors and the unjudged."""
    wanted: dict[str, set[tuple]] = {}
    for study in json.loads(path.read_text()):
        for m in study["mutants"]:
            if m["verdict"] in ("survived", "unjudged"):
                wanted.setdefault(study["slug"], set()).add(
                    (m["operator"], m["before"], m["after"], m["n"]))
    return wanted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slug", action="append", choices=SLUGS,
                        help="an assignment (repeatable; default: all three, in order)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants graded at once")
    parser.add_argument("--timeout", type=float,
                        help="seconds one mutant's grade may take (default: 4 x the "
                             "reference's, at least 120)")
    parser.add_argument("--json", type=Path, help="also write every mutant's verdict here")
    parser.add_argument("--only-from", type=Path, metavar="JSON",
                        help="grade only the survivors and unjudged of an earlier --json")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder (copies, sessions, cosmic-ray logs)")
    args = parser.parse_args(argv)
    # Wide enough for the table and the one-line diffs when piped to a file.
    console = Console(width=None if sys.stdout.isatty() else 160)
    only = _previous(args.only_from) if args.only_from else None
    work = Path(tempfile.mkdtemp(prefix="advpy-mutation-"))
    studies = []
    try:
        for slug in args.slug or SLUGS:
            studies.append(run(slug, args.jobs, args.timeout, work, console,
                               None if only is None else only.get(slug, set())))
            if args.json:  # after each assignment: a long run keeps what it has
                args.json.write_text(json.dumps(
                    [{"slug": s.slug, "seconds": s.seconds, "baseline": s.baseline,
                      "mutants": [asdict(m) for m in s.mutants]} for s in studies],
                    indent=1, ensure_ascii=False))
    finally:
        if args.keep:
            console.print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report(studies, console)
    return 0 if all(s.score == 1 and not s.count("unjudged") for s in studies) else 1


if __name__ == "__main__":
    sys.exit(main())
