"""nbgrader preprocessors that make ``nbgrader autograde`` give advpy's scores.

Loaded by nbgrader where it grades, through the ``nbgrader_config.py`` that
``advpy export nbgrader`` writes (read it for where each one goes):

- :class:`AdvpyStubs` (generate_assignment): each answer cell gets advpy's
  stub, kept in the source cell's ``advpy`` metadata, instead of nbgrader's
  generic ``raise NotImplementedError()``.
- :class:`AdvpyExporter` (autograde's exporter): a notebook that cannot be
  read (not JSON, not a notebook) becomes its test cells alone, marked
  unreadable, instead of an exception that fails the student and the run's
  exit status; it also keeps the run's results (one exporter a run).
- :class:`AdvpyRepair` (first of autograde's sanitizing steps): nbgrader
  metadata that a student changed is rebuilt from the gradebook, or dropped
  when it names no cell of the source. Left as it is, one notebook with a
  newer ``schema_version`` stops the whole autograde run.
- :class:`AdvpyGrade` (first autograde step): grades the notebook with
  advpy's engine in this process (student code in advpy's sandbox, the
  judge here); the first notebook of an assignment grades every submission
  of the run at once, in parallel, and the others reuse those results when
  their code is the same. Sets ``ADVPY_NBGRADER`` so that a kernel started
  later (nbgrader's Execute, if configured) does nothing costly.
- :class:`AdvpyVerdicts` (before SaveAutoGrades): each test cell's outputs
  become advpy's verdict of its question: the feedback on stdout and the
  points earned as the cell's value (``execute_result``), which nbgrader's
  ``determine_grade`` takes as partial credit. Whatever student code did in a
  kernel cannot change a score.
- :class:`AdvpyFlag` (after SaveAutoGrades): a question that advpy could not
  judge (a grader error: the test cell holds an error, so 0 points) is marked
  as needing manual grading, and the log says to regrade it: never a silent
  0, never an unearned point.

No preprocessor here raises for anything a submission holds: a broken one
scores 0 with its reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import traceback
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbgrader.api import Gradebook
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade
from traitlets import Bool, Float, Integer, Unicode

from autograder.exporters.nbgrader_cells import GRADED_OUTSIDE, report
from autograder.model import GRADER_ERROR, INCOMPLETE

STUB_KEY = "stub"  # as autograder.exporters.nbgrader writes it
# The hidden call of an advpy test cell (its source comes from the gradebook
# after sanitizing, never from the student): which question the cell grades.
HIDDEN_CALL = re.compile(r'^check\("([\w-]+)", "([\w-]+)", hidden=True\)', re.M)
UNREADABLE = "unreadable"  # notebook metadata advpy.unreadable: why it could not be read


def advpy_cell(cell: nbformat.NotebookNode) -> tuple[str, str] | None:
    """(slug, question id) of an advpy autograder-test cell, else None."""
    if cell.get("cell_type") != "code" or not is_grade(cell):
        return None
    found = HIDDEN_CALL.search(cell.get("source") or "")
    return (found.group(1), found.group(2)) if found else None


def _graded_sources(notebook: nbformat.NotebookNode) -> list[str]:
    """The code cells' sources as advpy grades them here: a test cell (a
    grade cell) is blank. Its code is the instructor's once sanitized, and
    inert for the grader (``__name__`` is not ``"__main__"`` there), but the
    released copy lacks the hidden part: blank, the submitted notebook and its
    sanitized copy grade alike, and cell numbers stay those of the file."""
    sources = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        meta = (cell.get("metadata") or {}).get("nbgrader")
        grade = isinstance(meta, dict) and meta.get("grade") is True
        sources.append("" if grade else str(cell.get("source", "")))
    return sources


def code_key(slug: str, notebook: nbformat.NotebookNode) -> str:
    """What decides advpy's result here: the assignment and the graded sources."""
    return hashlib.sha256(json.dumps([slug, _graded_sources(notebook)]).encode()).hexdigest()


def code_notebook(notebook: nbformat.NotebookNode) -> str:
    """The notebook advpy grades: its code cells alone (what advpy reads of
    a notebook), test cells blank."""
    graded = nbformat.v4.new_notebook()
    graded.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                     "name": "python3"}
    graded.cells = [nbformat.v4.new_code_cell(source) for source in _graded_sources(notebook)]
    return nbformat.writes(graded)


def failure(reason: str) -> dict:
    """A result with no question judged: a grader error, to regrade."""
    return {"questions": [], "complete": False, "errors": [f"{GRADER_ERROR}: {reason}"]}


# -- generate_assignment ----------------------------------------------------------

class AdvpyStubs(NbGraderPreprocessor):
    """The release's answer cells hold advpy's stubs (after ClearSolutions)."""

    def preprocess_cell(self, cell, resources, index):
        advpy = cell.get("metadata", {}).get("advpy")
        if isinstance(advpy, dict) and STUB_KEY in advpy:
            cell.source = advpy.pop(STUB_KEY)
            if not advpy:
                del cell.metadata["advpy"]
        return cell, resources


# -- autograde: reading and sanitizing ---------------------------------------------

def _source_cells(resources: dict) -> tuple[dict, dict, set] | None:
    """The source notebook's cells in the gradebook: (by name, points of grade
    cells, names of solution cells); None when the gradebook cannot say."""
    info = resources.get("nbgrader") or {}
    try:
        with Gradebook(info["db_url"]) as gradebook:
            notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
            cells = {c.name: {"cell_type": c.cell_type, "source": c.source, "locked": c.locked,
                              "checksum": c.checksum} for c in notebook.source_cells}
            points = {c.name: c.max_score for c in notebook.grade_cells}
            solutions = {c.name for c in notebook.solution_cells}
    except Exception:  # noqa: BLE001 - a missing entry or a broken db: nothing is rebuilt
        return None
    return cells, points, solutions


def _metadata(name: str, cell: dict, points: dict, solutions: set) -> dict:
    meta = {"grade": name in points, "grade_id": name, "locked": bool(cell["locked"]),
            "schema_version": 3, "solution": name in solutions}
    if name in points:
        meta["points"] = float(points[name])
    if cell.get("checksum"):
        meta["checksum"] = cell["checksum"]
    return meta


class AdvpyExporter(NotebookExporter):
    """Autograde's exporter: reads an unreadable notebook as its test cells
    alone (marked, so that AdvpyGrade grades the submitted file as advpy
    does: 0 with the reason), and holds this run's advpy results."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.advpy_results: dict[str, dict] = {}  # code_key -> advpy's JSON result
        self.advpy_batched: set[str] = set()  # assignments whose class was graded at once

    def from_file(self, file_stream, resources=None, **kw):
        try:
            notebook = nbformat.read(file_stream, as_version=4)
            if not isinstance(notebook.get("cells"), list):
                raise ValueError("it has no list of cells")
        except Exception as exc:  # noqa: BLE001 - any unreadable file is the student's
            reason = f"the notebook cannot be read: {type(exc).__name__}: {exc}"[:500]
            self.log.warning("advpy: %s: %s; it scores 0", getattr(file_stream, "name", "?"),
                             reason)
            notebook = self._placeholder(resources or {}, reason)
        return self.from_notebook_node(notebook, resources=resources, **kw)

    @staticmethod
    def _placeholder(resources: dict, reason: str) -> nbformat.NotebookNode:
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["advpy"] = {UNREADABLE: reason}
        found = _source_cells(resources)
        if found is not None:
            cells, points, solutions = found
            for name in sorted(points):
                cell = nbformat.v4.new_code_cell(cells[name]["source"])
                cell.metadata["nbgrader"] = _metadata(name, cells[name], points, solutions)
                notebook.cells.append(cell)
        return notebook


class AdvpyRepair(NbGraderPreprocessor):
    """nbgrader metadata as the source has it: rebuilt where a student broke
    it, dropped where it names no source cell or a cell already seen."""

    def preprocess(self, nb, resources):
        found = _source_cells(resources)
        if found is None:
            return nb, resources
        cells, points, solutions = found
        seen: set[str] = set()
        for cell in nb.cells:
            if not isinstance(cell.get("metadata"), dict):
                cell["metadata"] = nbformat.NotebookNode()
            if cell.get("cell_type") == "code":
                cell.setdefault("outputs", [])
                cell.setdefault("execution_count", None)
            meta = cell.metadata.get("nbgrader")
            if meta is None:
                continue
            name = meta.get("grade_id") if isinstance(meta, dict) else None
            if not isinstance(name, str) or name not in cells or name in seen:
                self.log.warning("advpy: dropped nbgrader metadata naming no source cell: %r",
                                 name)
                del cell.metadata["nbgrader"]
                continue
            seen.add(name)
            try:
                MetadataValidator().validate_cell(cell)
            except Exception:  # noqa: BLE001 - any invalid metadata is rebuilt
                self.log.warning("advpy: rebuilt the nbgrader metadata of cell %s", name)
                cell.metadata["nbgrader"] = nbformat.from_dict(
                    _metadata(name, cells[name], points, solutions))
        return nb, resources


# -- autograde: grading --------------------------------------------------------------

class AdvpyGrade(NbGraderPreprocessor):
    """Grades the notebook with advpy's engine; the result goes to ``resources["advpy"]``."""

    sandbox = Unicode("auto", help="advpy's isolation for student code "
                      "(auto, bubblewrap, namespaces, process, none)").tag(config=True)
    memory_gib = Float(2.0, help="memory a submission may use, GiB").tag(config=True)
    jobs = Integer(0, help="submissions graded at once (0: the CPUs available)").tag(config=True)
    batch = Bool(True, help="grade every submission of the run's assignment at its first "
                 "notebook, in parallel").tag(config=True)

    def preprocess(self, nb, resources):
        cells = [found for cell in nb.cells if (found := advpy_cell(cell))]
        if not cells:
            return nb, resources
        # A kernel that Execute may start after this inherits it: its cells do nothing costly.
        os.environ[GRADED_OUTSIDE] = "graded"
        slug = cells[0][0]
        try:
            result = self._result(nb, slug, resources)
        except Exception as exc:  # noqa: BLE001 - a grader error, never a crash of the run
            self.log.error("advpy: grading failed: %s", traceback.format_exc())
            result = failure(f"{type(exc).__name__}: {exc}")
        resources["advpy"] = {"slug": slug, "result": result}
        return nb, resources

    # What grades: advpy's API in this process.
    def _settings(self):
        from autograder.child import Limits
        from autograder.engine import Settings

        # The course folder holds the source notebooks (the reference, the
        # hidden tests), the gradebook and every submission: hidden from
        # student code as advpy's own course is.
        coursedir = getattr(self._converter(), "coursedir", None)
        private = (Path(coursedir.root).resolve(),) if coursedir is not None else ()
        return Settings(limits=Limits(memory=int(self.memory_gib * 1024**3)), sandbox=self.sandbox,
                        private=private)

    def _grade_files(self, files: list[Path], slug: str) -> list[dict]:
        from autograder import api

        jobs = self.jobs or None
        results = api.grade(files, assignment=slug, settings=self._settings(), jobs=jobs)
        return [result.to_json() for result in results]

    def _store(self) -> dict[str, dict]:
        exporter = self.parent
        return exporter.advpy_results if isinstance(exporter, AdvpyExporter) else {}

    def _result(self, nb, slug: str, resources: dict) -> dict:
        store = self._store()
        unreadable = (nb.metadata.get("advpy") or {}).get(UNREADABLE)
        submitted = self._submitted(resources)
        if unreadable:
            if submitted is None or not submitted.is_file():
                return {"questions": [], "complete": True, "errors": [str(unreadable)]}
            key = "raw:" + hashlib.sha256(submitted.read_bytes()).hexdigest()
        else:
            key = code_key(slug, nb)
        if key not in store and self.batch:
            self._grade_class(slug, resources, store)
        if key not in store:
            with tempfile.TemporaryDirectory(prefix="advpy-nbgrader-") as scratch:
                path = Path(scratch) / f"{slug}.ipynb"
                if unreadable:
                    path.write_bytes(submitted.read_bytes())
                else:
                    path.write_text(code_notebook(nb), encoding="utf-8")
                store[key] = self._grade_files([path], slug)[0]
        return store[key]

    def _converter(self):
        return getattr(self.parent, "parent", None)

    def _submitted(self, resources: dict) -> Path | None:
        """The student's file as submitted (a trusted path: from nbgrader's ids)."""
        converter, info = self._converter(), resources.get("nbgrader") or {}
        coursedir = getattr(converter, "coursedir", None)
        if coursedir is None or not info:
            return None
        folder = coursedir.format_path(coursedir.submitted_directory, info["student"],
                                       info["assignment"])
        return Path(folder) / f"{info['notebook']}.ipynb"

    def _grade_class(self, slug: str, resources: dict, store: dict) -> None:
        """Every notebook of this run for the assignment, graded at once (once a run)."""
        exporter, converter = self.parent, self._converter()
        if not isinstance(exporter, AdvpyExporter) or slug in exporter.advpy_batched:
            return
        exporter.advpy_batched.add(slug)
        info = resources.get("nbgrader") or {}
        coursedir = getattr(converter, "coursedir", None)
        if coursedir is None or not isinstance(getattr(converter, "assignments", None), dict):
            return
        pattern = re.compile(coursedir.format_path(
            coursedir.submitted_directory, "(?P<student>[^/]+)", "(?P<assignment>[^/]+)",
            escape=True) + "$")
        todo: list[tuple[str, str]] = []  # (key, the file to grade)
        with tempfile.TemporaryDirectory(prefix="advpy-nbgrader-class-") as scratch:
            for folder, files in sorted(converter.assignments.items()):
                match = pattern.match(os.path.abspath(folder))
                if match is None or match["assignment"] != info.get("assignment"):
                    continue
                done = Path(coursedir.format_path(coursedir.autograded_directory,
                                                  match["student"], match["assignment"]))
                for number, name in enumerate(sorted(files)):
                    if (done / Path(name).name).exists() and not getattr(converter, "force", True):
                        continue  # nbgrader skips it (unless its submission is newer)
                    key, text = self._class_entry(slug, Path(name))
                    if key in store or key in dict(todo):
                        continue
                    path = Path(scratch) / f"{match['student']}-{number}" / f"{slug}.ipynb"
                    path.parent.mkdir()
                    path.write_bytes(text)
                    todo.append((key, str(path)))
            if len(todo) < 2:
                return  # one notebook: graded on its own, as it comes
            self.log.info("advpy: grading %d notebooks of %s at once", len(todo), slug)
            results = self._grade_files([Path(p) for _, p in todo], slug)
        for (key, _), result in zip(todo, results, strict=True):
            store[key] = result

    @staticmethod
    def _class_entry(slug: str, path: Path) -> tuple[str, bytes]:
        raw = path.read_bytes()
        try:
            notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
            if not isinstance(notebook.get("cells"), list):
                raise ValueError("no cells")
        except Exception:  # noqa: BLE001 - graded as it is: advpy says why it scores 0
            return "raw:" + hashlib.sha256(raw).hexdigest(), raw
        return code_key(slug, notebook), code_notebook(notebook).encode()


def _outputs(result: dict, qid: str, points: float) -> tuple[list, bool]:
    """The test cell's outputs for ``qid``, and whether it is a grader error."""
    question = next((q for q in result.get("questions", []) if q.get("id") == qid), None)
    text = report(result, qid, public=False) + "\n"
    stream = nbformat.v4.new_output("stream", name="stdout", text=text)
    error = question is None and not result.get("complete", True) or question is not None and any(
        t.get("status") == "error" for t in question.get("tests", []))
    if error:
        why = "; ".join(result.get("errors", [])[:3]) or f"a test of {qid} could not be judged"
        return [stream, nbformat.v4.new_output(
            "error", ename="AdvpyGraderError", evalue=f"{INCOMPLETE}: {why}"[:1000],
            traceback=[f"AdvpyGraderError: {INCOMPLETE}: {why}"[:1000]])], True
    score = float(question["score"]) if question is not None else 0.0
    score = min(max(round(score, 4), 0.0), points)
    return [stream, nbformat.v4.new_output("execute_result", data={"text/plain": f"{score:g}"},
                                           execution_count=None)], False


class AdvpyVerdicts(NbGraderPreprocessor):
    """Each advpy test cell's outputs become advpy's verdict of its question."""

    def preprocess(self, nb, resources):
        state = resources.get("advpy") or {}
        result = state.get("result") or failure(
            "AdvpyGrade did not run before AdvpyVerdicts (see nbgrader_config.py)")
        flagged = state.setdefault("flagged", [])
        for cell in nb.cells:
            found = advpy_cell(cell)
            if found is None:
                continue
            points = float(cell.metadata["nbgrader"].get("points", 0))
            cell.outputs, error = _outputs(result, found[1], points)
            cell.execution_count = None
            if error:
                flagged.append(cell.metadata["nbgrader"]["grade_id"])
        resources["advpy"] = state
        return nb, resources


class AdvpyFlag(NbGraderPreprocessor):
    """Questions with a grader error: needing manual grading, and said in the log."""

    def preprocess(self, nb, resources):
        flagged = (resources.get("advpy") or {}).get("flagged") or []
        info = resources.get("nbgrader") or {}
        if not flagged or not info:
            return nb, resources
        with contextlib.suppress(Exception), Gradebook(info["db_url"]) as gradebook:
            for grade_id in flagged:
                grade = gradebook.find_grade(grade_id, info["notebook"], info["assignment"],
                                             info["student"])
                grade.needs_manual_grade = True
            gradebook.db.commit()
        self.log.error(
            "advpy: %s of %s could not be judged (%s): scored 0 for now and marked as needing "
            "manual grading. Fix the cause, then: nbgrader autograde %s --student %s --force",
            ", ".join(flagged), info.get("student"), INCOMPLETE, info.get("assignment"),
            info.get("student"))
        return nb, resources
