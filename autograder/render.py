"""Renderers: each turns the one results model into one format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from autograder.model import ERROR_TEST_NOTE, INCOMPLETE, SubmissionResult
from autograder.submissions import CANVAS, Skipped


def _fmt(value: float) -> str:
    return f"{value:g}"


def to_json(results: list[SubmissionResult], single: bool) -> str:
    data = [r.to_json() for r in results]
    return json.dumps(data[0] if single and len(data) == 1 else data, indent=2,
                      ensure_ascii=False)


def class_table(results: list[SubmissionResult], console: Console) -> None:
    """One table an assignment: a row a student, a column a question; notes below."""
    groups: dict[str, list[SubmissionResult]] = {}
    for result in results:
        groups.setdefault(result.assignment or "unknown assignment", []).append(result)
    for assignment, group in groups.items():
        ids = _question_ids(group)
        boxes = sorted({r.sandbox for r in group if r.sandbox != "not run"}) or ["not run"]
        table = Table(title=f"{assignment}: {len(group)} submission(s), "
                            f"sandbox: {', '.join(boxes)}")
        table.add_column("student", overflow="fold", max_width=28)
        for qid in ids:
            table.add_column(qid, justify="right")
        table.add_column("score", justify="right")
        notes: list[Text] = []
        for result in group:
            by_id = {q.id: q for q in result.questions}
            cells = []
            for qid in ids:
                q = by_id.get(qid)
                if q is None:
                    cells.append("")
                    continue
                style = ("green" if q.score == q.max_score
                         else "red" if q.score == 0 else "yellow")
                cells.append(Text(_fmt(q.score), style=style))
            name = result.student or Path(result.submission).name
            if result.name and result.name != name:
                name = f"{result.name} ({name})"
            flag = (" late" if result.late else "") + (" !" if result.errors else "")
            score = f"{_fmt(result.score)}/{_fmt(result.max_score)}"
            if result.complete:
                table.add_row(name + flag, *cells, score)
            else:  # the score lacks what a grader error kept from being judged
                table.add_row(name + flag, *cells, Text(f"{score} incomplete", style="magenta"))
                notes.append(Text(f"  ! {name}: {result.incomplete_note()}",
                                  style="bold magenta"))
            others = [e for e in result.errors if e not in result.grader_errors]
            notes.extend(Text(f"  ! {name}: {error}", style="yellow") for error in others[:3])
        console.print(table)
        for note in notes:
            console.print(note, overflow="fold")


def submission_table(result: SubmissionResult, console: Console, *, show_hidden: bool) -> None:
    """Every test of one submission, with its feedback."""
    table = Table(title=f"{result.submission}: {_fmt(result.score)}/{_fmt(result.max_score)}",
                  show_lines=True)
    table.add_column("q")
    table.add_column("test", overflow="fold")
    table.add_column("result")
    table.add_column("points", justify="right")
    table.add_column("feedback", overflow="fold")
    marks = {"passed": ("passed", "green"), "failed": ("failed", "red"),
             "error": ("grader error", "magenta")}
    for question in result.questions:
        for test in question.tests:
            if test.hidden and not show_hidden:
                continue
            label, style = marks[test.status]
            name = test.name + (" (hidden)" if test.hidden else "")
            table.add_row(question.id, name, Text(label, style=style),
                          f"{_fmt(test.score)}/{_fmt(test.max_score)}", test.feedback)
    console.print(table)
    if not result.complete:
        console.print(Text(f"! Incomplete: {INCOMPLETE}.", style="bold magenta"))
    for error in result.errors:
        style = "magenta" if error in result.grader_errors else "yellow"
        console.print(Text(f"! {error}", style=style), overflow="fold")


def _question_ids(results: list[SubmissionResult]) -> list[str]:
    ids: list[str] = []
    for result in results:
        ids.extend(q.id for q in result.questions if q.id not in ids)
    return ids


def _flag(value: bool) -> str:
    return "true" if value else "false"


def grades_csv(results: list[SubmissionResult], keys: list[str],
               files: list[str] | None = None) -> str:
    """The instructor's grades of one assignment: one row a student (``keys``
    name the student's files in results/ and feedback/), a column a question;
    ``files`` say where each graded file is (default: the result's submission)."""
    files = files or [result.submission for result in results]
    ids = _question_ids(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "name", "lms_id", "late", *ids, "total", "max", "complete",
                     "submission"])
    for key, result, file in zip(keys, results, files, strict=True):
        by_id = {q.id: q for q in result.questions}
        writer.writerow([key, result.name or "", result.lms_id or "", _flag(result.late),
                         *(_fmt(by_id[q].score) if q in by_id else "" for q in ids),
                         _fmt(result.score), _fmt(result.max_score), _flag(result.complete),
                         file])
    return buffer.getvalue()


# Canvas's gradebook import (Grades > Import): the columns of its own export,
# then one column an assignment, named for it (a name Canvas does not know
# makes a new assignment); the row "Points Possible" gives each one's points.
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS = "    Points Possible"  # as Canvas writes it in its export


def canvas_ids(result: SubmissionResult) -> tuple[str, str, str]:
    """(ID, SIS User ID, SIS Login ID) for Canvas: the Canvas user id where the
    submission's file is named by Canvas's download; otherwise the LMS id is
    the school's (Gradescope's SID, or an e-mail, the usual login). A guess
    here would match another student, so an id goes only where it belongs."""
    lms_id = result.lms_id or ""
    named = CANVAS.match(Path(result.submission).name)
    if lms_id and named and named["uid"] == lms_id:
        return lms_id, "", ""
    if "@" in lms_id:
        return "", "", lms_id
    return "", lms_id, ""


def canvas_csv(results: list[SubmissionResult]) -> str:
    """Canvas's gradebook CSV: a row a student, a column an assignment, each
    student with the ids Canvas matches on (``canvas_ids``). An incomplete
    score is left empty: it must not be posted before the regrade."""
    slugs: list[str] = []
    points: dict[str, float] = {}
    rows: dict[str, dict] = {}
    for result in results:
        slug = result.assignment or "unknown"
        if slug not in slugs:
            slugs.append(slug)
        points[slug] = max(points.get(slug, 0.0), result.max_score)
        who = result.lms_id or result.student or result.submission
        copy = 1
        while slug in rows.get(f"{who}#{copy}", {}).get("scores", {}):
            copy += 1  # a second submission of one student: its own row, never merged
        name = result.name or result.student or Path(result.submission).name
        row = rows.setdefault(f"{who}#{copy}", {"name": name, "ids": canvas_ids(result),
                                                "scores": {}})
        row["scores"][slug] = _fmt(result.score) if result.complete else ""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*CANVAS_COLUMNS, *slugs])
    writer.writerow([CANVAS_POINTS, "", "", "", "", *(_fmt(points[s]) for s in slugs)])
    for row in rows.values():
        writer.writerow([row["name"], *row["ids"], "", *(row["scores"].get(s, "") for s in slugs)])
    return buffer.getvalue()


def why_skipped(item: Skipped) -> str:
    """The reason a file was not graded, without the path it begins with."""
    head, sep, rest = item.reason.partition(": ")
    return rest if sep and Path(head).name == Path(item.path).name else item.reason


def skipped_list(skipped: list[Skipped], console: Console) -> None:
    """Every file of the class that was not graded, and why (none is dropped silently)."""
    if not skipped:
        return
    console.print(f"{len(skipped)} file(s) not graded:", style="yellow")
    for item in skipped:
        console.print(Text(f"  - {item.path}: {why_skipped(item)}", style="yellow"),
                      soft_wrap=True)


def to_csv(results: list[SubmissionResult]) -> str:
    """A gradebook an LMS can import: one row a student, one column an assignment."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # complete: false marks a score that lacks tests a grader error kept from
    # being judged; regrade that submission before the grade counts.
    writer.writerow(["student", "submission", "assignment", "score", "max_score", "complete"])
    for r in results:
        writer.writerow([r.student or "", r.submission, r.assignment or "", _fmt(r.score),
                         _fmt(r.max_score), "true" if r.complete else "false"])
    return buffer.getvalue()


def to_gradescope(result: SubmissionResult) -> dict:
    """Gradescope's results.json: hidden tests are shown after grades are published."""
    tests = []
    for question in result.questions:
        for number, test in enumerate(question.tests, start=1):
            output = test.feedback
            if test.status == "error":
                output = f"{ERROR_TEST_NOTE}\n{test.feedback}".rstrip()
            tests.append({
                "name": f"{question.id} {question.name}: {test.name}",
                "number": f"{question.id[1:]}.{number}",
                "score": test.score, "max_score": test.max_score,
                "status": "passed" if test.status == "passed" else "failed",
                "output": output,
                "visibility": "after_published" if test.hidden else "visible",
            })
    lines = [] if result.complete else [f"Incomplete: {INCOMPLETE}."]
    output = "\n".join([*lines, *result.errors])
    return {"score": result.score, "execution_time": round(result.seconds, 3),
            "output": output, "visibility": "visible", "stdout_visibility": "hidden",
            "tests": tests}
