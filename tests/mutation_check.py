"""The test command of the mutation study (``tests/mutation.py``): grade one
mutated file with ``advpy grade`` and say, by exit status, whether it kept
full marks.

    python tests/mutation_check.py FILE SLUG

Exit 0: full marks (the mutant survived). Exit 1: at least one point lost
(killed). Exit 2: the grade could not be trusted (a grader error, an
incomplete result, output that is not the JSON of one submission); this is
never a kill. cosmic-ray sees only zero and non-zero, so the last line of
stdout says which, for ``tests/mutation.py`` to read back from cosmic-ray's
session: ``MUTATION-VERDICT full|killed|error …``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERDICT = "MUTATION-VERDICT"
FULL, KILLED, ERROR = 0, 1, 2


def _say(verdict: str, detail: str) -> None:
    print(f"{VERDICT} {verdict} {detail}", flush=True)


def _lost(result: dict) -> list[str]:
    """The tests that lost points, each with the first line of its feedback."""
    lost = []
    for question in result.get("questions", []):
        for test in question.get("tests", []):
            if test.get("score", 0) < test.get("max_score", 0):
                feedback = (test.get("feedback") or "").strip().splitlines()
                lost.append(f"{question.get('id')}/{test.get('name')}: "
                            f"{feedback[0][:160] if feedback else test.get('status')}")
    return lost


def judge(file: Path, slug: str) -> int:
    # From the work tree (cwd=ROOT), so the hidden tests being edited are the ones used.
    command = [sys.executable, "-m", "autograder", "grade", str(file), "-a", slug,
               "--format", "json"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = None
    if done.returncode not in (0, 3) or not isinstance(result, dict):
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        _say("error", f"advpy grade exited {done.returncode}: {tail[:400]}")
        return ERROR
    score, top = result.get("score"), result.get("max_score")
    if done.returncode == 3 or not result.get("complete", False):
        # A grader error neither awards nor costs points: it is no verdict on the mutant.
        reasons = [e for e in result.get("errors", []) if e.startswith("grader error")]
        _say("error", f"incomplete ({score}/{top}): {' | '.join(reasons)[:400]}")
        return ERROR
    if not isinstance(score, (int, float)) or not isinstance(top, (int, float)) or top <= 0:
        _say("error", f"no score in the result ({score!r}/{top!r})")
        return ERROR
    if score < top:
        for line in _lost(result):
            print(f"  lost {line}")
        _say("killed", f"{score:g}/{top:g}")
        return KILLED
    _say("full", f"{score:g}/{top:g}")
    return FULL


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return ERROR
    return judge(Path(argv[0]).resolve(), argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
