"""What a submission is: a .py, an .ipynb, a folder holding one, or a .zip.

A folder of several submissions (or a zip of one, as an LMS downloads it) is a
class. This module finds the submissions, tells which assignment and student
each belongs to, and writes each one as a real module file for the student
process to import.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import tempfile
import textwrap
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder import assignments

SOURCE_SUFFIXES = (".ipynb", ".py")
MAX_SOURCE_BYTES = 5 * 1024 * 1024
MAX_ZIP_BYTES = 200 * 1024 * 1024
# Canvas names each file <name>[_late]_<user id>_<submission id>_<original name>.
CANVAS = re.compile(r"^(?P<name>[a-z0-9-]+?)(?:_late)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$")


class SubmissionError(Exception):
    """The submission cannot be graded; the message says why and what to do."""


@dataclass
class Submission:
    """One student's work for one assignment."""

    path: Path
    assignment: str | None
    student: str | None = None
    source: Path | None = None
    problems: list[str] = field(default_factory=list)
    name: str | None = None  # as the LMS download names the student (see SubmissionResult)
    lms_id: str | None = None
    late: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def display(self) -> str:
        return self.source.name if self.source else self.path.name


def infer_assignment(path: Path) -> str | None:
    """The slug that the file or folder name mentions, if exactly one."""
    name = path.name.lower()
    found = [slug for slug in assignments.SLUGS if slug in name]
    return found[0] if len(found) == 1 else None


def _candidates(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix in SOURCE_SUFFIXES and not p.name.startswith(".")
                  and not p.name.startswith("test_"))


def _pick_source(folder: Path, slug: str | None) -> Path | None:
    """The file in a student's folder that holds the work: the one named for
    the assignment, a notebook before a module."""
    files = _candidates(folder)
    if not files:
        nested = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
        return _pick_source(nested[0], slug) if len(nested) == 1 else None
    for suffix in SOURCE_SUFFIXES:
        named = [p for p in files if p.suffix == suffix and slug and slug in p.stem.lower()]
        if named:
            return named[0]
    for suffix in SOURCE_SUFFIXES:
        typed = [p for p in files if p.suffix == suffix]
        if len(typed) == 1:
            return typed[0]
    return files[0]


def _student_from_name(name: str, slug: str | None) -> str | None:
    match = CANVAS.match(name.lower())
    if match:
        return match["uid"]
    stem = name.rsplit(".", 1)[0]
    if slug:
        stem = re.sub(rf"[_\-. ]*{slug}[_\-. ]*", "", stem, flags=re.I)
    return stem or None


def _gradescope_students(folder: Path) -> dict[str, str]:
    """Gradescope's bulk export names folders submission_<id> and maps them to
    students in submission_metadata.yml; we read the e-mail or the SID."""
    meta = folder / "submission_metadata.yml"
    if not meta.is_file():
        return {}
    students, current = {}, None
    for line in meta.read_text(errors="replace").splitlines():
        head = re.match(r"^(submission_\d+):", line)
        if head:
            current = head.group(1)
            continue
        field_ = re.match(r"^\s*:(email|sid):\s*(\S+)", line)
        if current and field_ and current not in students:
            students[current] = field_.group(2).strip("'\"")
    return students


def extract_zip(path: Path, into: Path) -> Path:
    """Unpack an LMS download safely: no paths outside ``into``, bounded size."""
    try:
        with zipfile.ZipFile(path) as archive:
            size = sum(info.file_size for info in archive.infolist())
            if size > MAX_ZIP_BYTES:
                raise SubmissionError(f"{path.name} unpacks to {size} bytes, over the limit")
            for info in archive.infolist():
                target = (into / info.filename).resolve()
                if not str(target).startswith(str(into.resolve())):
                    raise SubmissionError(f"{path.name} holds a path outside the archive: "
                                          f"{info.filename}")
            archive.extractall(into)
    except zipfile.BadZipFile as exc:
        raise SubmissionError(f"{path.name} is not a valid zip file ({exc})") from exc
    for junk in into.rglob("__MACOSX"):
        shutil.rmtree(junk, ignore_errors=True)
    return into


def discover(paths: list[Path], assignment: str | None, scratch: Path) -> list[Submission]:
    """Every submission under ``paths``, one a student."""
    found: list[Submission] = []
    for path in paths:
        path = Path(path)
        slug = assignment or infer_assignment(path)
        if not path.exists():
            found.append(Submission(path, slug, problems=[f"{path}: no such file or folder"]))
        elif path.is_file() and path.suffix == ".zip":
            target = Path(tempfile.mkdtemp(prefix="zip-", dir=scratch))
            try:
                extract_zip(path, target)
            except SubmissionError as exc:
                found.append(Submission(path, slug, problems=[str(exc)]))
                continue
            inner = discover([target], slug, scratch)
            for sub in inner:
                if sub.path == target:
                    sub.path = path
            found.extend(inner)
        elif path.is_file():
            found.append(Submission(path, slug, source=path))
        elif _is_single(path, slug):
            found.append(Submission(path, slug, source=_pick_source(path, slug)))
        else:
            names = _gradescope_students(path)
            for entry in sorted(path.iterdir()):
                if entry.name.startswith((".", "__")) or entry.name.endswith(".yml"):
                    continue
                if entry.is_file() and entry.suffix not in SOURCE_SUFFIXES + (".zip",):
                    continue
                inner_slug = assignment or infer_assignment(entry) or slug
                for sub in discover([entry], inner_slug, scratch):
                    sub.student = names.get(entry.name) or sub.student or _student_from_name(
                        entry.name, sub.assignment)
                    found.append(sub)
    for sub in found:
        if sub.assignment is None and sub.source is not None:
            sub.assignment = infer_assignment(sub.source)
        if sub.source is None and not sub.problems:
            sub.problems.append(f"{sub.path}: holds no .py or .ipynb file to grade")
        if sub.assignment is None and not sub.problems:
            sub.problems.append(
                f"{sub.path}: cannot tell which assignment this is; name the file after it "
                f"({', '.join(assignments.SLUGS)}) or pass -a SLUG")
    return found


def _is_single(folder: Path, slug: str | None) -> bool:
    """A folder is one submission if it holds the work directly (a file named
    for the assignment, or a single source file)."""
    files = _candidates(folder)
    if slug and any(slug in p.stem.lower() for p in files):
        return len([p for p in files if slug in p.stem.lower()]) <= 2 and not any(
            CANVAS.match(p.name.lower()) for p in files)
    subdirs = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
    return len(files) == 1 and not subdirs


# How Jupyter treats a cell whose first line is a cell magic (IPython's own
# magics, as ``%lsmagic`` lists them). The grader runs Python only, without
# IPython: the magics whose body is Python run in the notebook's namespace
# run it here too; the others are skipped and the feedback says so.
RUNS_PYTHON = frozenset({"time", "timeit", "prun", "debug", "capture"})
OTHER_PROCESS = frozenset({"python", "python2", "python3", "pypy"})  # %%script python: a subprocess
NOT_PYTHON = frozenset({"bash", "sh", "script", "perl", "ruby", "!", "sx", "system", "html",
                        "HTML", "javascript", "js", "latex", "markdown", "svg", "SVG",
                        "code_wrap"})
WRITES_FILE = frozenset({"writefile", "file"})
MAX_WRITTEN_BYTES = 1024 * 1024  # all that %%writefile cells may write beside the module
MAX_WRITTEN_FILES = 20
NOT_RUN = "NotRun"  # the type of the notes on what was not run, beside the cells' errors
# ``name = %magic ...`` and ``name = !command``: IPython's assignment forms.
ASSIGNED = re.compile(r"(?P<lhs>[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*"
                      r"(?P<escape>!|%(?=\w))(?P<rest>.*)")
HELP = re.compile(r"%{0,2}[\w.*]+\?{1,2}")  # ``obj?``, ``obj??``: IPython's help


@dataclass
class _Cell:
    """One code cell as the student module runs it (see probes/notebook.py)."""

    number: int
    lines: list[str]  # the Python to run, one a line of the cell ("" where nothing runs)
    runs: bool = False
    notes: list[tuple[int | None, str, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, magic or shell line)
    timeit: set[int] | str = field(default_factory=set)  # "cell" for %%timeit
    capture: dict | None = None
    writes: list[tuple[str, str, bool]] = field(default_factory=list)  # (name, text, append)

    def skip(self, name: str, why: str = "the grader runs Python only") -> None:
        self.notes.append((None, NOT_RUN, f"the cell starts with %%{name}: "
                                          f"its body was not run ({why})"))

    def spec(self) -> dict:
        spec: dict = {"cell": self.number,
                      "source": "\n".join(self.lines) if self.runs else None}
        notes = list(self.notes)
        if self.skipped:
            shown = ", ".join(f"line {line} `{text[:60]}`" for line, text in self.skipped[:4])
            more = f" and {len(self.skipped) - 4} more" if len(self.skipped) > 4 else ""
            notes.append((None, NOT_RUN, "IPython magics and shell commands were not run (the "
                                         f"grader runs Python only): {shown}{more}"))
        if notes:
            spec["notes"] = notes
        if self.timeit:
            spec["timeit"] = self.timeit if self.timeit == "cell" else sorted(self.timeit)
        if self.capture is not None:
            spec["capture"] = self.capture
        return spec


def _split_args(args: str) -> list[str]:
    try:
        return shlex.split(args)
    except ValueError:
        return args.split()


def _time_code(args: str) -> str:
    """The statement of ``%time args``: its one option, ``--no-raise-error``, removed."""
    words = args.split(" ")
    while words and words[0] in ("", "--no-raise-error"):
        words.pop(0)
    return " ".join(words).strip()


def _after_options(args: str, with_value: str = "", long_values: tuple[str, ...] = ()) -> str:
    """``args`` without the options before it (read as IPython's getopt-style
    ``parse_options`` reads them: letters in ``with_value`` take a value, as
    do the long options in ``long_values``): the rest is code."""
    rest = args.strip()
    while rest.startswith("-"):
        head, _, rest = rest.partition(" ")
        rest = rest.lstrip()
        if head == "--":
            break
        if head.startswith("--"):
            if head in long_values:
                rest = rest.partition(" ")[2].lstrip()
            continue
        letters = head[1:]
        for index, letter in enumerate(letters):
            if letter in with_value:
                if index == len(letters) - 1:  # its value is the next word
                    rest = rest.partition(" ")[2].lstrip()
                break
    return rest


class _Scanner:
    """Where the logical lines of Python start: not inside a string, a
    bracket or a backslash continuation. IPython looks for its escapes
    (``%``, ``!``...) only there; elsewhere they are the student's text."""

    def __init__(self) -> None:
        self.quote: str | None = None
        self.depth = 0
        self.continued = False

    def at_start(self) -> bool:
        return self.quote is None and self.depth == 0 and not self.continued

    def feed(self, line: str) -> None:
        self.continued = False
        index = 0
        while index < len(line):
            char = line[index]
            if self.quote is not None:
                if char == "\\":
                    index += 2
                    continue
                if line.startswith(self.quote, index):
                    index += len(self.quote)
                    self.quote = None
                    continue
            elif char == "#":
                break
            elif char in "\"'":
                self.quote = char * 3 if line.startswith(char * 3, index) else char
                index += len(self.quote)
                continue
            elif char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            elif char == "\\" and index == len(line) - 1:
                self.continued = True
            index += 1
        if self.quote is not None and len(self.quote) == 1 and not line.endswith("\\"):
            self.quote = None  # an unclosed one-line string: a syntax error Python reports


def _line_magic(cell: _Cell, text: str, line: int) -> str:
    """The Python for one line of IPython syntax (``%magic``, ``!command``,
    ``obj?``...) at the start of a logical line; what is not run is noted."""
    assigned = ASSIGNED.fullmatch(text)
    if assigned:
        lhs, escape, rest = assigned["lhs"], assigned["escape"], assigned["rest"]
        name, _, args = rest.partition(" ")
        code = _time_code(args) if name == "time" else ""
        if escape == "%" and code:
            return f"{lhs} = {code}"  # %time returns the value of its expression
        cell.skipped.append((line, text))
        # !command gives a list of its output lines; a magic, its result: none here
        return f"{lhs} = {'[]' if escape == '!' else 'None'}"
    if text.startswith("%") and not text.startswith("%%"):
        name, _, args = text[1:].partition(" ")
        if name in ("time", "timeit", "prun"):
            # IPython runs the statement: %time and %prun in the namespace,
            # %timeit in a function (once here: timing is not graded).
            code = (_time_code(args) if name == "time"
                    else _after_options(args, "nrpv" if name == "timeit" else "DlsT"))
            if name == "timeit" and isinstance(cell.timeit, set):
                cell.timeit.add(line)
            return code or "pass"
    elif text.startswith(("/", ",", ";")) and len(text) > 1 and not text[1].isspace():
        # IPython's autocall escapes: /f a b is f(a, b), ,f a b is f("a", "b"), ;f a b is f("a b")
        name, _, args = text[1:].partition(" ")
        if text[0] == "/":
            return f"{name}({', '.join(args.split())})"
        if text[0] == ",":
            return f"{name}({', '.join(repr(word) for word in args.split())})"
        return f"{name}({args.strip()!r})"
    cell.skipped.append((line, text))
    return "pass"


def _is_ipython_syntax(text: str) -> bool:
    return (text.startswith(("%", "!", "?", "/", ",", ";")) or bool(ASSIGNED.fullmatch(text))
            or bool(HELP.fullmatch(text.rstrip())))


def _python(cell: _Cell, lines: list[str], start: int) -> None:
    """Lines of Python (IPython's line syntax allowed) into ``cell.lines``
    from index ``start``; each IPython line becomes Python on the same line."""
    cell.runs = True
    scanner = _Scanner()
    index = 0
    while index < len(lines):
        line = lines[index]
        text = line.lstrip()
        if scanner.at_start() and _is_ipython_syntax(text):
            end = index  # IPython joins the backslash-continued lines of a magic
            while lines[end].endswith("\\") and end + 1 < len(lines):
                end += 1
            parts = [text, *lines[index + 1:end + 1]]
            joined = " ".join([p.rstrip()[:-1] for p in parts[:-1]] + [parts[-1].rstrip()])
            indent = line[:len(line) - len(text)]
            cell.lines[start + index] = indent + _line_magic(cell, joined, start + index + 1)
            index = end + 1
            continue
        cell.lines[start + index] = line
        scanner.feed(line)
        index += 1


def _cell_magic(cell: _Cell, head: str, body: list[str], at: int) -> None:
    """A cell whose first line (index ``at``) is ``%%head``, as Jupyter runs it."""
    name, _, args = head.partition(" ")
    if name in RUNS_PYTHON:
        code = ""  # what the first line adds before the body, as IPython joins them
        if name == "time":
            extra = [word for word in args.split() if word != "--no-raise-error"]
            if extra:
                cell.notes.append((at + 1, "UsageError", "Can't use statement directly after "
                                   "'%%time'! (Jupyter does not run this cell either)"))
                return
        elif name == "timeit":
            code = _after_options(args, "nrpv")  # the setup statement
            cell.timeit = "cell"
        elif name == "prun":
            code = _after_options(args, "DlsT")
        elif name == "debug":
            code = _after_options(args, "b", long_values=("--breakpoint",))
        elif name == "capture":
            words = [w for w in _split_args(args) if not w.startswith("-")]
            cell.capture = {"stdout": "--no-stdout" not in args,
                            "stderr": "--no-stderr" not in args}
            if words and words[0].isidentifier():
                cell.capture["name"] = words[0]
        if code:
            cell.lines[at] = code
            cell.runs = True
        _cell_source(cell, body, at + 1)
    elif name in WRITES_FILE:
        words = _split_args(args)
        names = [w for w in words if w not in ("-a", "--append")]
        text = "\n".join(body)
        if text and not text.endswith("\n"):
            text += "\n"
        if len(names) != 1:
            cell.notes.append((at + 1, NOT_RUN, f"%%{name} {args}: no file was written "
                                                "(it takes one file name)"))
        else:
            cell.writes.append((names[0], text, "-a" in words or "--append" in words))
    elif name in OTHER_PROCESS:
        cell.skip(name, "Jupyter runs it in a separate process: nothing it defines reaches "
                        "the notebook")
    elif name in NOT_PYTHON:
        cell.skip(name)
    else:
        cell.skip(name, "not one of IPython's own magics; the grader runs Python only")


def _cell_source(cell: _Cell, lines: list[str], start: int) -> None:
    """The lines of a cell (or of a cell magic's body, from index ``start``),
    as IPython transforms them: common indentation removed, then a first line
    ``%%magic`` makes it a cell magic."""
    lines = textwrap.dedent("\n".join(lines)).split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return
    head = lines[first]
    if head.startswith("%%") and not re.match(r"%%\w+\?", head):
        _cell_magic(cell, head[2:].rstrip(), lines[first + 1:], start + first)
    else:
        _python(cell, lines[first:], start + first)


def _translate(number: int, source: str) -> _Cell:
    """One code cell's source as the module runs it."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cell = _Cell(number, [""] * len(lines))
    _cell_source(cell, lines, 0)
    return cell


def _safe_name(name: str) -> bool:
    """Whether ``%%writefile name`` stays in the submission's own folder (the
    grader copies no subfolder, so only a plain file name)."""
    parts = [p for p in PurePosixPath(name).parts if p != "."]
    return (len(parts) == 1 and parts[0] not in ("..", "/", "__pycache__")
            and not parts[0].startswith("~") and "\\" not in parts[0] and "\0" not in parts[0])


def _read_notebook(path: Path) -> list:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        cells = raw["cells"]
        if not isinstance(cells, list):
            raise TypeError("cells is not a list")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise SubmissionError(
            f"{path.name} is not valid notebook JSON ({type(exc).__name__}: {exc}); "
            "download it again from Jupyter (File > Download) and resubmit") from exc
    return cells


def _convert(path: Path, module_name: str | None = None
             ) -> tuple[str, list[tuple[str, str, bool]]]:
    """The module for a notebook, and the files its ``%%writefile`` cells
    write (name, text, append), in order."""
    specs, files = [], []
    written = 0
    number = 0
    for raw in _read_notebook(path):
        if not isinstance(raw, dict) or raw.get("cell_type") != "code":
            continue
        number += 1
        source = raw.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        cell = _translate(number, source if isinstance(source, str) else "")
        for name, text, append in cell.writes:
            size = len(text.encode("utf-8", "replace"))
            why = ("its path leaves the submission's folder" if not _safe_name(name)
                   else "it would replace the module the grader makes of this notebook"
                   if PurePosixPath(name).name == module_name
                   else "over the grader's limit on written files"
                   if written + size > MAX_WRITTEN_BYTES or len(files) >= MAX_WRITTEN_FILES
                   else None)
            if why:
                cell.notes.append((None, NOT_RUN, f"%%writefile {name[:80]}: the file was not "
                                                  f"written ({why})"))
            else:
                written += size
                files.append((name, text, append))
        specs.append(cell.spec())
    module = (
        f'"""Made by advpy from {path.name}: its code cells, in order, as one module."""\n'
        "from autograder.probes.notebook import run_cells as __advpy_run_cells__\n\n"
        f"__advpy_cell_errors__ = __advpy_run_cells__(globals(), __file__, {specs!r})\n"
    )
    return module, files


def notebook_to_module(path: Path) -> str:
    """The notebook's code cells, in order, as a module that runs them one by
    one (a failing cell is reported and the rest still run). IPython's syntax
    becomes what Jupyter would run: the body of ``%%time``, ``%%capture``...
    and the statement of ``%time`` run; shell lines, other magics and cells
    of other languages are skipped, with a note for the feedback."""
    return _convert(path)[0]


def prepare(sub: Submission, workdir: Path) -> Path:
    """Write the submission as ``workdir/<slug>.py`` (with its sibling files,
    and for a notebook the files its ``%%writefile`` cells write), the real
    module file the student process imports."""
    assert sub.source is not None and sub.assignment is not None
    if sub.source.stat().st_size > MAX_SOURCE_BYTES:
        raise SubmissionError(f"{sub.source.name} is larger than "
                              f"{MAX_SOURCE_BYTES // 1024 // 1024} MB")
    workdir.mkdir(parents=True, exist_ok=True)
    if sub.source.parent != sub.path.parent or sub.path.is_dir():
        for sibling in sub.source.parent.iterdir():
            # A symlink could name any file the grader can read (a hidden
            # test): only the student's own regular files go in.
            if sibling.is_symlink():
                continue
            if sibling.is_file() and sibling.suffix == ".py" and sibling != sub.source:
                shutil.copy(sibling, workdir / sibling.name)
    target = workdir / f"{sub.assignment}.py"
    if sub.source.suffix == ".ipynb":
        module, files = _convert(sub.source, target.name)
        for name, text, append in files:
            # As Jupyter's %%writefile: beside the notebook (the module here),
            # a sibling of the same name replaced, in the order of the cells.
            written = workdir / PurePosixPath(name).name
            if written.is_symlink():
                continue
            try:
                with written.open("a" if append else "w", encoding="utf-8",
                                  errors="replace") as file:
                    file.write(text)
            except OSError:
                continue  # a name Jupyter could not write either (a folder's, say)
        target.write_text(module, encoding="utf-8")
    else:
        shutil.copy(sub.source, target)
    return target
