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
        ids: list[str] = []
        for result in group:
            ids.extend(q.id for q in result.questions if q.id not in ids)
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
            flag = " !" if result.errors else ""
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
