"""The otter-grader plugin that makes otter's grades advpy's grades.

The autograder zip that ``advpy export otter`` writes names this plugin in
its ``otter_config.json``. When otter grades a submission (``otter run`` or
Gradescope), the plugin, in otter's own process:

1. hides the copy of advpy that the zip carries (it holds the hidden tests)
   from the student process;
2. runs ``advpy grade`` on the submission file, in a process of its own,
   while otter starts its kernel: a sandboxed student process, every test
   (hidden ones included), the scores of ``advpy grade`` because it is
   ``advpy grade``;
3. hands otter's kernel an empty notebook: the student's code never runs in
   otter's shared kernel, where it could hang the grading or reach the
   grader, and otter's test files read advpy's verdicts instead;
4. after otter's run, puts advpy's results in otter's results, question by
   question, and adds advpy's notes for the student (load errors, grader
   errors, and, where a test measures speedup, how many CPUs it had).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
from otter.plugins import AbstractOtterPlugin
from otter.test_files import ExceptionTestFile
from otter.test_files.abstract_test import TestCase, TestCaseResult

from autograder import assignments, sandbox
from autograder.exporters.otter_checks import RESULTS_ENV, OtterTest, tests_of
from autograder.exporters.otter_common import BUNDLED_PACKAGE, fingerprint
from autograder.model import GRADER_ERROR, INCOMPLETE


def cpu_budget() -> float:
    """The CPUs this process may really use: its affinity, capped by a cgroup
    CPU quota (Gradescope's default is half a CPU)."""
    try:
        budget = float(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        budget = float(os.cpu_count() or 1)
    quotas = [("/sys/fs/cgroup/cpu.max", None),
              ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
              ("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us",
               "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us")]
    for quota_file, period_file in quotas:
        try:
            if period_file is None:
                quota, period = Path(quota_file).read_text().split()[:2]
            else:
                quota = Path(quota_file).read_text().strip()
                period = Path(period_file).read_text().strip()
        except (OSError, ValueError):
            continue
        if quota not in ("max", "-1") and float(period) > 0:
            budget = min(budget, float(quota) / float(period))
        break
    return budget


def cpu_note(slug: str, budget: float | None = None) -> str | None:
    """What the student is told when speedup cannot be measured here."""
    budget = cpu_budget() if budget is None else budget
    wanted = assignments.get(slug).cpus
    if wanted < 2 or budget >= wanted:
        return None
    return (f"This grading machine gave your submission {budget:g} CPU, too few to measure a "
            "parallel speedup. The tests that would measure speedup judged instead from "
            "evidence that your code ran work concurrently in distinct processes.")


def grader_error_result(slug: str, reason: str) -> dict:
    """advpy's results when advpy itself could not grade: every question a
    grader error scoring 0, and the submission incomplete, to be regraded."""
    questions = [{"id": q.id, "name": q.name, "score": 0.0, "max_score": q.points,
                  "tests": [{"name": "the submission could be graded", "status": "error",
                             "score": 0.0, "max_score": q.points, "hidden": False,
                             "feedback": reason}]}
                 for q in assignments.get(slug).questions]
    return {"assignment": slug, "score": 0.0,
            "max_score": sum(q["max_score"] for q in questions), "questions": questions,
            "errors": [f"{GRADER_ERROR}: {reason}"], "complete": False, "sandbox": "none"}


def otter_test_file(qid: str, tests: list[OtterTest]):
    """An otter test file for question ``qid`` holding ``tests`` and their results."""
    cases = [TestCase(name=t.name, body=None, hidden=t.hidden, points=t.points,
                      success_message=t.note, failure_message=None) for t in tests]
    test_file = ExceptionTestFile(qid, f"tests/{qid}.py", cases, all_or_nothing=False)
    test_file.test_case_results = [
        TestCaseResult(test_case=case, passed=t.passed,
                       message="✅ Test case passed" if t.passed
                       else f"❌ Test case failed\n{t.feedback}")
        for case, t in zip(cases, tests, strict=True)]
    return test_file


class AdvpyPlugin(AbstractOtterPlugin):
    """Configured in otter_config.json as
    ``{"autograder.exporters.otter_plugin.AdvpyPlugin": {"assignment": SLUG}}``
    (and optionally ``"sandbox"``: auto, bubblewrap, process or none)."""

    result: dict | None = None
    seconds: float = 0.0
    _thread: threading.Thread | None = None
    _results_file: Path | None = None
    warnings: list[str]

    @property
    def slug(self) -> str:
        return self.plugin_config["assignment"]

    def _grading_root(self) -> Path:
        """``/autograder`` on Gradescope; a temporary copy of it under ``otter run``."""
        return Path(self.submission_path).resolve().parent.parent

    def _hide_bundled_package(self) -> None:
        """The zip's copy of advpy holds the hidden tests: otter copied it next
        to the submission; remove that copy, and make the one in source/
        readable to its owner only, before any student code runs."""
        root = self._grading_root()
        copied = root / "submission" / BUNDLED_PACKAGE
        if copied.is_dir():
            shutil.rmtree(copied, ignore_errors=True)
        for folder in (root / "source" / "files" / BUNDLED_PACKAGE, root / "source" / "files"):
            if folder.is_dir():
                os.chmod(folder, 0o700)

    def _let_students_run_python(self) -> None:
        """On Gradescope (a throwaway container where we are root), otter's
        Python lives under /root, which other users cannot enter: let them
        traverse (not read) the folders above it, so that advpy's sandbox can
        run the student's code as a user of its own, not as root."""
        if self._grading_root() == Path("/autograder") and os.geteuid() == 0:
            sandbox.let_others_run_python()

    def _check_version(self) -> None:
        self.warnings = []
        wanted = self.plugin_config.get("fingerprint")
        if wanted and wanted != fingerprint(self.slug):
            self.warnings.append(
                "advpy installed here differs from the advpy this autograder zip was made "
                "with: the grades come from the installed one. Install the zip's copy "
                "(pip install files/advpy) or export the zip again.")

    def start_grading(self) -> None:
        """Start ``advpy grade`` on the submission, once, in a process of its
        own: it runs while otter starts its kernel. Its results go to the file
        that ``$ADVPY_OTTER_RESULTS`` names (the kernel's test files wait for it)."""
        if self._thread is not None:
            return
        self._hide_bundled_package()
        self._let_students_run_python()
        self._check_version()
        scratch = Path(tempfile.mkdtemp(prefix="advpy-otter-"))
        self._results_file = scratch / "results.json"
        os.environ[RESULTS_ENV] = str(self._results_file)  # otter's kernel inherits it
        argv = [sys.executable, "-m", "autograder", "grade", str(self.submission_path),
                "-a", self.slug, "--format", "json",
                "--sandbox", self.plugin_config.get("sandbox", "auto")]
        started = time.monotonic()
        # cwd: our own folder, never the submission's (python -m puts it on sys.path).
        process = subprocess.Popen(argv, cwd=scratch, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def collect() -> None:
            out, err = process.communicate()
            self.seconds = time.monotonic() - started
            try:
                result = json.loads(out)
                if not isinstance(result, dict):
                    raise ValueError("not one submission's results")
            except ValueError:
                result = grader_error_result(
                    self.slug, f"advpy grade failed (exit status {process.returncode}): "
                    f"{err.strip()[-500:]}")
            self.result = result
            partial = scratch / "results.json.partial"
            partial.write_text(json.dumps(result), encoding="utf-8")
            os.replace(partial, self._results_file)

        self._thread = threading.Thread(target=collect, daemon=True)
        self._thread.start()

    def grade(self) -> dict:
        """advpy's results for the submission (waits for ``advpy grade``)."""
        self.start_grading()
        self._thread.join()
        return self.result

    def before_execution(self, submission):
        """Start grading, and give otter's kernel nothing of the student's to run."""
        self.start_grading()
        if isinstance(submission, str):
            return "pass\n"
        empty = nbformat.v4.new_notebook()
        empty.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                        "name": "python3"}
        return empty

    def after_grading(self, results) -> None:
        """advpy's verdicts are the grades, question by question."""
        result = self.grade()
        handed = os.environ.pop(RESULTS_ENV, None)  # otter's kernel is done with it
        if handed:
            shutil.rmtree(Path(handed).parent, ignore_errors=True)
        if getattr(results, "_catastrophic_error", None) is not None:
            results._catastrophic_error = None  # our results do not depend on otter's kernel
        results.results = {q["id"]: otter_test_file(q["id"], tests_of(result, q["id"]))
                           for q in result["questions"]}
        notes = list(result.get("errors", []))
        if not result.get("complete", True):
            notes.insert(0, f"Incomplete: {INCOMPLETE}.")
        note = cpu_note(self.slug)
        if note:
            notes.append(note)
        if notes:
            results.set_output("\n\n".join(notes))

    def generate_report(self) -> str:
        result = self.grade()
        lines = [f"advpy graded {Path(self.submission_path).name} as {self.slug}: "
                 f"{result['score']:g}/{result['max_score']:g} in {self.seconds:.1f} s "
                 f"(sandbox: {result.get('sandbox')}, CPUs available: {cpu_budget():g})"]
        lines += [f"WARNING: {w}" for w in getattr(self, "warnings", [])]
        if not result.get("complete", True):
            lines.append(f"INCOMPLETE: {INCOMPLETE}")
        lines += [f"! {e}" for e in result.get("errors", [])]
        return "\n".join(lines)
