"""A whole class into a folder: resumable grading and the files an instructor hands back.

``grade_class`` keeps one JSON file a submission in ``OUT/results/``, written
the moment that submission is finished (a temporary file, then an atomic
rename), so a run stopped at any point (Ctrl-C, a crash, a reboot) has lost
only the submissions in flight. Run again, it reuses every finished result
whose graded source is byte for byte the one graded then (a sha256 in the
file) and grades the rest; ``regrade=True`` grades everything again. An
incomplete result (a grader error) is never reused: it is what a regrade is for.
Then it writes the grades, Canvas's gradebook CSV, the students' feedback and
the report (``autograder.report``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

from autograder import api, cluster, render, report, submissions
from autograder.engine import Settings
from autograder.model import QuestionResult, SubmissionResult, TestResult

RESULTS = "results"
FEEDBACK = "feedback"
# Our own keys in a results file, beside SubmissionResult.to_json()'s.
SOURCE_HASH = "source_sha256"
SECONDS = "seconds"
UNKNOWN = "unknown"  # the assignment of a file that names none (without -a)
TMP_PREFIX = ".partial-"  # a results file being written; left over only by a kill
MAX_KEY = 80


@dataclass
class ClassRun:
    """What ``grade_class`` did and where it put it."""

    results: list[SubmissionResult]  # one a submission, in discovery order
    keys: list[str]  # each result's file name (without suffix) in results/ and feedback/
    files: list[str]  # where each graded file is (inside a zip: the zip's path / the member)
    skipped: list[submissions.Skipped]  # the files of the class not graded, and why
    out: Path
    graded: list[str] = field(default_factory=list)  # keys graded in this run
    reused: list[str] = field(default_factory=list)  # keys whose finished result was kept
    grades: list[Path] = field(default_factory=list)  # grades.csv (one per assignment if mixed)
    canvas: Path | None = None
    report: Path | None = None

    @property
    def results_dir(self) -> Path:
        return self.out / RESULTS

    @property
    def feedback_dir(self) -> Path:
        return self.out / FEEDBACK


def grade_class(paths: Sequence[Path | str], *, assignment: str | None = None, out: Path,
                jobs: int | None = None, regrade: bool = False,
                settings: Settings | None = None,
                progress: Callable[[SubmissionResult], None] | None = None,
                on_start: Callable[[int, int], None] | None = None,
                dask: str | None = None) -> ClassRun:
    """Grade a class into ``out``, resuming whatever an earlier run finished.

    ``progress`` is called with each newly graded result as it finishes, just
    before that result is saved: if it raises (the CLI raises
    KeyboardInterrupt there after a Ctrl-C, whose interrupted submission is not
    a real result), the run stops and that result is not kept. ``on_start`` is
    told (to grade, reused) once discovery is done. ``jobs`` None leaves the
    number of parallel gradings to ``api.grade_submissions``. ``dask``: the
    address of a Dask scheduler (or ``local:N``) to grade on instead
    (``autograder.cluster``; ``jobs`` does not apply).
    """
    out = Path(out)
    results_dir = out / RESULTS
    results_dir.mkdir(parents=True, exist_ok=True)
    for stale in results_dir.glob(f"{TMP_PREFIX}*"):  # a write a kill cut short
        stale.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="advpy-class-") as scratch:
        found = submissions.discover_class([Path(p) for p in paths], assignment, Path(scratch))
        subs, skipped = found.submissions, found.skipped
        keys = submission_keys(subs)
        hashes = [_source_hash(sub) for sub in subs]
        done: dict[int, SubmissionResult] = {}
        reused: list[str] = []
        for index, (sub, key, digest) in enumerate(zip(subs, keys, hashes, strict=True)):
            kept = None if regrade else _reusable(results_dir / f"{key}.json", sub, digest)
            if kept is not None:
                done[index] = kept
                reused.append(key)
        todo = [index for index in range(len(subs)) if index not in done]
        if on_start:
            on_start(len(todo), len(reused))
        # Results come back in the order they finish, as copies (from other
        # processes): which submission each is, is told by what it echoes.
        waiting: dict[tuple, list[int]] = {}
        for index in todo:
            waiting.setdefault(_echo(subs[index]), []).append(index)

        def finished(result: SubmissionResult) -> None:
            same = waiting.get(_echo(result)) or [
                i for i in todo if i not in done and _echo(subs[i])[1:] == _echo(result)[1:]]
            index = same.pop(0)
            if progress:
                progress(result)
            save_result(results_dir / f"{keys[index]}.json", result, hashes[index])
            done[index] = result

        settings = api.private(settings, [*map(Path, paths), out])
        if dask is not None:
            graded = cluster.grade_submissions([subs[i] for i in todo], address=dask,
                                               settings=settings, progress=finished)
        else:
            graded = api.grade_submissions([subs[i] for i in todo], settings=settings,
                                           progress=finished,
                                           **({} if jobs is None else {"jobs": jobs}))
        for index, result in zip(todo, graded, strict=True):
            done.setdefault(index, result)
    run = ClassRun(results=[done[i] for i in range(len(subs))], keys=keys,
                   files=[str(sub.origin or sub.source or sub.path) for sub in subs],
                   skipped=skipped, out=out, graded=[keys[i] for i in todo], reused=reused)
    write_outputs(run)
    return run


def write_outputs(run: ClassRun) -> None:
    """grades.csv, canvas.csv, feedback/ and report.html from ``run.results``."""
    for folder in (run.out, run.out / FEEDBACK):  # writes a kill cut short
        for stale in folder.glob(f"{TMP_PREFIX}*"):
            stale.unlink(missing_ok=True)
    groups = _by_assignment(run.results)
    run.grades = []
    if len(set(groups) - {UNKNOWN}) <= 1:  # one assignment (and files whose is not known)
        run.grades.append(run.out / "grades.csv")
        _write_text(run.grades[0], render.grades_csv(run.results, run.keys, run.files))
    else:  # each assignment its own questions, so its own file
        for slug, indices in groups.items():
            path = run.out / f"grades-{slug}.csv"
            _write_text(path, render.grades_csv([run.results[i] for i in indices],
                                                [run.keys[i] for i in indices],
                                                [run.files[i] for i in indices]))
            run.grades.append(path)
    run.canvas = run.out / "canvas.csv"
    _write_text(run.canvas, render.canvas_csv(run.results))
    feedback = run.out / FEEDBACK
    feedback.mkdir(exist_ok=True)
    for result, key in zip(run.results, run.keys, strict=True):
        _write_text(feedback / f"{key}.md", report.feedback_markdown(result))
        _write_text(feedback / f"{key}.html", report.feedback_html(result))
    run.report = run.out / "report.html"
    _write_text(run.report, report.class_report(run.results, run.keys, run.skipped,
                                                grades=[p.name for p in run.grades]))


# -- discovery ----------------------------------------------------------------
def _sanitise(text: str) -> str:
    """A file name on every system: letters, digits, dot, dash, underscore."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:MAX_KEY].rstrip("._-")
    return name or "submission"


def submission_keys(subs: Sequence[submissions.Submission]) -> list[str]:
    """A file name for each submission: its student, made safe, prefixed with
    the assignment when the class mixes several. Names that would collide
    (compared without case, for case-insensitive file systems) get -2, -3...
    in the order of their submission's path, so the same class always gets
    the same names."""
    mixed = len({sub.assignment for sub in subs if sub.assignment}) > 1
    bases = []
    for sub in subs:
        who = sub.student or (sub.source or sub.path).stem
        bases.append(_sanitise(f"{sub.assignment or UNKNOWN}-{who}" if mixed else who))
    count: dict[str, int] = {}
    for base in bases:
        count[base.casefold()] = count.get(base.casefold(), 0) + 1
    keys: list[str | None] = [base if count[base.casefold()] == 1 else None for base in bases]
    taken = {key.casefold() for key in keys if key}
    clashing = sorted((i for i, key in enumerate(keys) if key is None),
                      key=lambda i: (bases[i].casefold(), str(subs[i].path),
                                     str(subs[i].source)))
    for index in clashing:
        number = 1
        candidate = bases[index]
        while candidate.casefold() in taken:
            number += 1
            candidate = f"{bases[index]}-{number}"
        taken.add(candidate.casefold())
        keys[index] = candidate
    return [key for key in keys if key is not None]


def _echo(item: submissions.Submission | SubmissionResult) -> tuple:
    """What a submission and its result both say about it."""
    return (str(getattr(item, "path", None) or getattr(item, "submission", "")),
            item.student, item.assignment)


def _source_hash(sub: submissions.Submission) -> str | None:
    """The sha256 of what is graded: the source, and the .py files beside it
    in a student's own folder (``submissions.prepare`` copies those too)."""
    if sub.source is None:
        return None
    files = [sub.source]
    if sub.source.parent != sub.path.parent or sub.path.is_dir():
        files += sorted(p for p in sub.source.parent.glob("*.py")
                        if p != sub.source and p.is_file() and not p.is_symlink())
    digest = hashlib.sha256()
    try:
        for index, path in enumerate(files):
            if index:  # a helper's name counts as well as its text
                digest.update(f"\0{path.name}\0".encode())
            digest.update(path.read_bytes())
    except OSError:
        return None  # unreadable: the engine says why, with a zero
    return digest.hexdigest()


# -- results files ------------------------------------------------------------
def save_result(path: Path, result: SubmissionResult, source_hash: str | None) -> None:
    """Write one result so that a reader sees the old file or the whole new one."""
    data = {**result.to_json(), SECONDS: round(result.seconds, 3), SOURCE_HASH: source_hash}
    _write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def load_result(path: Path) -> tuple[SubmissionResult, str | None] | None:
    """A results file back as a result and the hash of its source; None if it
    is missing or not one of ours (then the submission is graded again)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _result(data), data.get(SOURCE_HASH)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _result(data: dict) -> SubmissionResult:
    def pick(cls: type, raw: dict) -> dict:
        return {f.name: raw[f.name] for f in fields(cls) if f.name in raw}

    questions = [QuestionResult(**{**pick(QuestionResult, q),
                                   "tests": [TestResult(**pick(TestResult, t))
                                             for t in q.get("tests", [])]})
                 for q in data.get("questions", [])]
    result = SubmissionResult(**{**pick(SubmissionResult, data), "questions": questions})
    if not isinstance(result.complete, bool) or not isinstance(result.score, (int, float)):
        raise TypeError("not a result")
    return result


def _reusable(path: Path, sub: submissions.Submission,
              source_hash: str | None) -> SubmissionResult | None:
    """The finished result of this very submission, if one was saved."""
    loaded = load_result(path)
    if loaded is None:
        return None
    result, saved_hash = loaded
    if not result.complete or result.assignment != sub.assignment or saved_hash != source_hash:
        return None
    # Who handed it in is discovery's word, not the grading's: the same file
    # downloaded again (or another student's identical copy) keeps its grade
    # under today's identity.
    identity = {"student": sub.student, "name": sub.name, "lms_id": sub.lms_id,
                "late": sub.late, "notes": list(sub.notes)}
    if any(getattr(result, attr) != value for attr, value in identity.items()):
        for attr, value in identity.items():
            setattr(result, attr, value)
        save_result(path, result, source_hash)
    result.submission = str(sub.path)
    return result


def _write_text(path: Path, text: str) -> None:
    """Atomically: a temporary file beside ``path``, flushed, then renamed over it."""
    tmp = path.parent / f"{TMP_PREFIX}{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
    # Not mkstemp: its files are private (0600); these are made as any file
    # the instructor writes (0666 less the umask).
    handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _by_assignment(results: list[SubmissionResult]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for index, result in enumerate(results):
        groups.setdefault(result.assignment or UNKNOWN, []).append(index)
    return groups
