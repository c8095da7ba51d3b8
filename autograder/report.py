"""What a graded class hands back: each student's feedback (Markdown and
HTML) and the instructor's ``report.html``, one file readable offline (its
style inline, its pictures inline SVG made with matplotlib).

Everything that comes from a result is untrusted text (a student's code
wrote part of the feedback, and chose its file's name): it is escaped in
HTML and fenced or escaped in Markdown. Hidden tests appear as the results
model has them, by their title and feedback, which never hold the expected
answer (see the hidden tests' package); their code is never read here.
"""

from __future__ import annotations

import html
import io
import re
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.model import ERROR_TEST_NOTE, GRADER_ERROR, UNTESTED, SubmissionResult, bound
from autograder.render import why_skipped

STATUS = {"passed": "passed", "failed": "failed", "error": "not judged (grader error)"}
MOST_COMMON_FAILURES = 10
SLOWEST = 10
EXAMPLE_LIMIT = 400  # characters of an example failure message in the report

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 68em; padding: 0 1em; color: #1d1d1f; line-height: 1.45; }
h1, h2, h3 { line-height: 1.2; }
table { border-collapse: collapse; margin: .5em 0 1.5em; }
th, td { border: 1px solid #d0d0d7; padding: .25em .55em; text-align: left;
         vertical-align: top; }
th { background: #f2f2f6; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums;
                 white-space: nowrap; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f6f8; margin: .3em 0;
      padding: .5em .7em; border-radius: 4px; font-size: .9em; }
svg { max-width: 100%; height: auto; }
.passed { color: #137333; } .failed { color: #b3261e; } .error { color: #8e24aa; }
.note { border-left: 4px solid #8e24aa; padding: .3em .8em; background: #f7eef9; }
.late { color: #a15c00; font-weight: 600; }
.muted { color: #666; }
"""


# -- for a student --------------------------------------------------------------
def _who(result: SubmissionResult) -> str:
    return result.name or result.student or Path(result.submission).name


def _student_errors(result: SubmissionResult) -> list[str]:
    """What went wrong in the student's own file (not our grader errors)."""
    return [e for e in result.errors if not e.startswith(GRADER_ERROR)]


def markdown_inline(text: str) -> str:
    """Untrusted text inline in Markdown: one line, every markup character escaped."""
    text = " ".join(str(text).split())
    # Never at the start of a line here, so only the characters that mark up
    # anywhere in a line (and HTML's) need escaping.
    return re.sub(r"([\\`*_{}\[\]<>#|~&])", r"\\\1", text)


def _fenced(text: str) -> str:
    """Untrusted text as a Markdown code block: a fence longer than any run of
    backticks inside, so nothing in it is read as Markdown or HTML."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _points(score: float, max_score: float) -> str:
    return f"{score:g} / {max_score:g}"


def feedback_markdown(result: SubmissionResult) -> str:
    """A student's feedback as Markdown: every question and test, with points."""
    title = f"{result.assignment or 'assignment'}: feedback for {_who(result)}"
    lines = [f"# {markdown_inline(title)}",
             "", f"**Score: {_points(result.score, result.max_score)}**"
             + (" (handed in late)" if result.late else ""), ""]
    if not result.complete:
        lines += [f"> **Incomplete:** {markdown_inline(result.incomplete_note() or '')}", ""]
    for note in result.notes:
        lines.append(f"- Note: {markdown_inline(note)}")
    if result.notes:
        lines.append("")
    if _student_errors(result):
        lines += ["## Problems in your file", ""]
        for error in _student_errors(result):
            lines += [_fenced(error), ""]
    for question in result.questions:
        lines += [f"## {markdown_inline(question.id)} `{question.name.replace('`', '')}`: "
                  f"{_points(question.score, question.max_score)}", ""]
        for test in question.tests:
            kind = "hidden test" if test.hidden else "test"
            lines.append(f"- **{STATUS.get(test.status, test.status)}** "
                         f"({_points(test.score, test.max_score)}), {kind}: "
                         + markdown_inline(test.name))
            text = test.feedback
            if test.status == "error":
                text = f"{ERROR_TEST_NOTE}\n{text}".strip()
            if text:
                block = _fenced(text).replace("\n", "\n  ")
                lines += ["", f"  {block}", ""]
        if lines[-1]:
            lines.append("")
    lines.append("Hidden tests say what they check, never the answer they expect.")
    return "\n".join(lines).rstrip() + "\n"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"{body}\n</body>\n</html>\n")


def feedback_html(result: SubmissionResult) -> str:
    """The same feedback as one HTML page, readable offline."""
    parts = [f"<h1>{_e(result.assignment or 'assignment')}: feedback for {_e(_who(result))}</h1>",
             f"<p><strong>Score: {_points(result.score, result.max_score)}</strong>"
             + (' <span class="late">handed in late</span>' if result.late else "") + "</p>"]
    if not result.complete:
        parts.append(f'<p class="note"><strong>Incomplete:</strong> '
                     f"{_e(result.incomplete_note() or '')}</p>")
    if result.notes:
        parts.append("<ul>" + "".join(f"<li>Note: {_e(n)}</li>" for n in result.notes) + "</ul>")
    if _student_errors(result):
        parts.append("<h2>Problems in your file</h2>")
        parts.extend(f"<pre>{_e(error)}</pre>" for error in _student_errors(result))
    for question in result.questions:
        parts.append(f"<h2>{_e(question.id)} <code>{_e(question.name)}</code>: "
                     f"{_points(question.score, question.max_score)}</h2>")
        rows = []
        for test in question.tests:
            text = test.feedback
            if test.status == "error":
                text = f"{ERROR_TEST_NOTE}\n{text}".strip()
            rows.append(f'<tr><td class="{_e(test.status)}">'
                        f"{_e(STATUS.get(test.status, test.status))}</td>"
                        f'<td class="num">{_points(test.score, test.max_score)}</td>'
                        f"<td>{_e(test.name)}{' <em>(hidden)</em>' if test.hidden else ''}"
                        + (f"<pre>{_e(text)}</pre>" if text else "") + "</td></tr>")
        parts.append("<table><tr><th>result</th><th>points</th><th>test</th></tr>"
                     + "".join(rows) + "</table>")
    parts.append('<p class="muted">Hidden tests say what they check, never the answer they '
                 "expect.</p>")
    return _page(f"{result.assignment or 'assignment'}: feedback for {_who(result)}",
                 "\n".join(parts))


# -- pictures -------------------------------------------------------------------
def _svg(figure: Any, salt: str) -> str:
    """A matplotlib figure as inline SVG: text as text (small, and found by
    the browser's search; matplotlib escapes it), no date, ids salted per
    picture so that several on one page never clash."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    # The XML prologue has no place inside HTML, nor the RDF block naming the tool.
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text[text.index("<svg"):], flags=re.S)


def _figure(width: float, height: float) -> tuple[Any, Any]:
    # Imported here: only a report draws, and matplotlib takes a while to import.
    # The Figure API needs no pyplot and no global backend (it draws with Agg/SVG).
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(width, height))
    axes = figure.add_subplot()
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _plain(text: str) -> str:
    """Text for a picture, never read as mathtext ($...$)."""
    return text.replace("$", r"\$")


def score_histogram(scores: Sequence[float], max_score: float, salt: str) -> str:
    figure, axes = _figure(6.4, 3.0)
    step = max(1.0, max_score / 20)
    edges = [i * step for i in range(int(max_score // step) + 1)]
    if edges[-1] < max_score:
        edges.append(max_score)
    axes.hist(scores, bins=edges if len(edges) > 1 else 1, color="#4c72b0", edgecolor="white")
    axes.set_xlim(0, max_score or 1)
    axes.set_xlabel(f"score (out of {max_score:g})")
    axes.set_ylabel("submissions")
    return _svg(figure, salt)


def pass_rate_chart(labels: Sequence[str], rates: Sequence[float], salt: str) -> str:
    from matplotlib.ticker import MultipleLocator

    figure, axes = _figure(7.5, 0.6 + 0.28 * len(labels))
    positions = list(range(len(labels)))
    axes.barh(positions, [100 * r for r in rates], color="#55a868")
    axes.set_yticks(positions, [_plain(label) for label in labels], fontsize=8)
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(MultipleLocator(20))
    axes.set_xlim(0, 100)
    axes.set_xlabel("passed (% of the submissions that ran the test)")
    return _svg(figure, salt)


def time_histogram(seconds: Sequence[float], salt: str) -> str:
    figure, axes = _figure(6.4, 2.8)
    axes.hist(seconds, bins=min(20, max(1, len(seconds))), color="#dd8452", edgecolor="white")
    axes.set_xlabel("seconds to grade a submission")
    axes.set_ylabel("submissions")
    return _svg(figure, salt)


# -- the instructor's report ----------------------------------------------------------
def _table(header: Sequence[str] | None, rows: Sequence[Sequence[str]],
           numeric: set[int]) -> str:
    """A table of cells that are already HTML."""
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{h}</th>'
                   for i, h in enumerate(header or ()))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{cell}</td>'
                                    for i, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table>{f'<tr>{head}</tr>' if head else ''}{body}</table>"


def ran_no_test(result: SubmissionResult) -> bool:
    """Whether the submission's tests could not run at all (a file that
    cannot be read, say): the engine then gives each question one stand-in
    test, which says nothing about the assignment's tests."""
    return bool(result.questions) and all(
        [t.name for t in q.tests] == [UNTESTED] for q in result.questions)


def _test_stats(results: Sequence[SubmissionResult]) -> list[dict]:
    """Each test of the assignment (by question and title), in course order,
    with how many submissions passed, failed and were not judged."""
    stats: dict[tuple[str, str], dict] = {}
    for result in results:
        if ran_no_test(result):
            continue
        for question in result.questions:
            for test in question.tests:
                entry = stats.setdefault((question.id, test.name), {
                    "question": question.id, "name": test.name, "hidden": test.hidden,
                    "passed": 0, "failed": 0, "error": 0})
                entry[test.status if test.status in STATUS else "error"] += 1
    return list(stats.values())


def _failures(results: Sequence[SubmissionResult], keys: Sequence[str]) -> list[dict]:
    """The failed tests, most common first, each with one example."""
    found: dict[tuple[str, str], dict] = {}
    for result, key in sorted(zip(results, keys, strict=True), key=lambda pair: pair[1]):
        if ran_no_test(result):
            continue
        for question in result.questions:
            for test in question.tests:
                if test.status != "failed":
                    continue
                entry = found.setdefault((question.id, test.name), {
                    "question": question.id, "name": test.name, "count": 0,
                    "student": key, "message": test.feedback})
                entry["count"] += 1
    return sorted(found.values(), key=lambda e: (-e["count"], e["question"], e["name"]))


def _anchor(slug: str) -> str:
    """An id for HTML and a salt for SVG ids, from an assignment's slug."""
    return "a-" + re.sub(r"[^A-Za-z0-9_]", "", slug)


def _assignment_section(slug: str, results: list[SubmissionResult], keys: list[str]) -> str:
    salt = _anchor(slug)
    scores = [r.score for r in results]
    max_score = max((r.max_score for r in results), default=0.0)
    parts = [f'<h2 id="{_e(salt)}">{_e(slug)}</h2>']
    summary = [("submissions", len(results)),
               ("tests could not run", sum(ran_no_test(r) for r in results)),
               ("mean score", f"{statistics.fmean(scores):.2f} / {max_score:g}"),
               ("median score", f"{statistics.median(scores):g}"),
               ("full marks", sum(r.score == r.max_score for r in results)),
               ("zero", sum(r.score == 0 for r in results)),
               ("handed in late", sum(r.late for r in results)),
               ("incomplete (to regrade)", sum(not r.complete for r in results))]
    parts.append(_table(None, [[_e(k), _e(v)] for k, v in summary], {1}))
    untested = [(key, r) for key, r in zip(keys, results, strict=True) if ran_no_test(r)]
    if untested:
        parts.append("<h3>Submissions whose tests could not run</h3>")
        parts.append("<p>Each scores 0 with the reason below; they are left out of the pass "
                     "rates and failures that follow.</p>")
        rows = []
        for key, r in untested:
            why = bound("; ".join(r.errors) or r.questions[0].tests[0].feedback, EXAMPLE_LIMIT)
            rows.append([f'<a href="feedback/{_e(key)}.html">{_e(key)}</a>',
                         f"<pre>{_e(why)}</pre>"])
        parts.append(_table(["student", "why"], rows, set()))

    parts.append("<h3>Scores</h3>")
    parts.append(score_histogram(scores, max_score, f"{salt}-scores"))

    stats = _test_stats(results)
    parts.append("<h3>Pass rate per test</h3>")
    judged = [s for s in stats if s["passed"] + s["failed"]]
    if judged:
        labels = [f"{s['question']} {bound(s['name'], 60)}" for s in judged]
        rates = [s["passed"] / (s["passed"] + s["failed"]) for s in judged]
        parts.append(pass_rate_chart(labels, rates, f"{salt}-pass"))
    rows = []
    for s in stats:
        ran = s["passed"] + s["failed"]
        rate = f"{100 * s['passed'] / ran:.0f}%" if ran else "–"
        rows.append([_e(s["question"]), _e(s["name"]), "hidden" if s["hidden"] else "public",
                     str(s["passed"]), str(s["failed"]), str(s["error"]), rate])
    parts.append(_table(["q", "test", "kind", "passed", "failed", "not judged", "pass rate"],
                        rows, {3, 4, 5, 6}))

    failures = _failures(results, keys)
    parts.append("<h3>Most common failures</h3>")
    if failures:
        rows = [[str(f["count"]), _e(f["question"]), _e(f["name"]),
                 f'<a href="feedback/{_e(f["student"])}.html">{_e(f["student"])}</a>'
                 f"<pre>{_e(bound(f['message'], EXAMPLE_LIMIT))}</pre>"]
                for f in failures[:MOST_COMMON_FAILURES]]
        parts.append(_table(["submissions", "q", "test", "an example"], rows, {0}))
    else:
        parts.append("<p>No test failed.</p>")

    seconds = [r.seconds for r in results]
    parts.append("<h3>Time per submission</h3>")
    parts.append(f"<p>{sum(seconds):.1f} s in all; mean {statistics.fmean(seconds):.2f} s, "
                 f"median {statistics.median(seconds):.2f} s, "
                 f"slowest {max(seconds):.2f} s (the time of the run that graded each).</p>")
    parts.append(time_histogram(seconds, f"{salt}-time"))
    slowest = sorted(zip(seconds, keys, strict=True), key=lambda pair: (-pair[0], pair[1]))
    parts.append(_table(["student", "seconds"],
                        [[_e(key), f"{secs:.2f}"] for secs, key in slowest[:SLOWEST]], {1}))

    ids: list[str] = []
    for result in results:
        ids.extend(q.id for q in result.questions if q.id not in ids)
    parts.append("<h3>Students</h3>")
    rows = []
    for result, key in zip(results, keys, strict=True):
        by_id = {q.id: q for q in result.questions}
        rows.append([f'<a href="feedback/{_e(key)}.html">{_e(key)}</a>', _e(result.name or ""),
                     _e(result.lms_id or ""), '<span class="late">late</span>'
                     if result.late else "",
                     *(f"{by_id[q].score:g}" if q in by_id else "" for q in ids),
                     f"{result.score:g} / {result.max_score:g}",
                     "yes" if result.complete else '<span class="error">no</span>',
                     f"{result.seconds:.2f}"])
    numeric = set(range(4, 4 + len(ids) + 1)) | {len(ids) + 6}
    parts.append(_table(["student", "name", "LMS id", "late", *map(_e, ids), "total",
                         "complete", "seconds"], rows, numeric))
    return "\n".join(parts)


def class_report(results: Sequence[SubmissionResult], keys: Sequence[str],
                 skipped: Sequence[Any], *, grades: Sequence[str] = ("grades.csv",)) -> str:
    """The instructor's overview of a class, as one HTML page: per assignment
    the score histogram, the pass rate of each test, the most common failures
    with an example, the time per submission and every student; then the
    files that were not graded and the submissions to regrade."""
    groups: dict[str, list[int]] = {}
    for index, result in enumerate(results):
        groups.setdefault(result.assignment or "unknown", []).append(index)
    parts = ["<h1>Class report</h1>",
             f"<p>{len(results)} submission(s) of {_e(', '.join(groups) or 'no assignment')}; "
             f"{len(skipped)} file(s) not graded. Grades: "
             + ", ".join(f'<a href="{_e(name)}">{_e(name)}</a>' for name in grades)
             + ', for Canvas: <a href="canvas.csv">canvas.csv</a>; each student\'s feedback '
             "in <code>feedback/</code>, linked below.</p>",
             "<ul>" + "".join(f'<li><a href="#{_anchor(s)}">{_e(s)}</a></li>' for s in groups)
             + '<li><a href="#skipped">files not graded</a></li>'
             '<li><a href="#incomplete">incomplete submissions</a></li></ul>']

    incomplete = [(keys[i], r) for i, r in enumerate(results) if not r.complete]
    parts.append('<h2 id="incomplete">Incomplete submissions</h2>')
    if incomplete:
        parts.append("<p>A grader error kept some tests from being judged: they score 0 for "
                     "now. Fix the cause, then run the same command again: these are "
                     "regraded, the others kept. Do not post these grades before.</p>")
        parts.append(_table(["student", "why"], [[_e(key), _e(r.incomplete_note() or "")]
                                                 for key, r in incomplete], set()))
    else:
        parts.append("<p>None: every test of every submission was judged.</p>")

    parts.append('<h2 id="skipped">Files not graded</h2>')
    if skipped:
        parts.append(_table(["file", "why"], [[_e(item.path), _e(why_skipped(item))]
                                              for item in skipped], set()))
    else:
        parts.append("<p>None: every file found was graded.</p>")

    for slug, indices in groups.items():
        parts.append(_assignment_section(slug, [results[i] for i in indices],
                                         [keys[i] for i in indices]))
    return _page("Class report", "\n".join(parts))
