"""The judges that only the hidden tests of the processes assignment use.

They live beside those tests, not in ``autograder/judges/processes.py``: the
student package carries that module (its public tests need it) and nothing
of the hidden tests. Trusted code all the same: it runs in the grader, on
observations that the shapes have checked (and on the supervisor's evidence,
which the student's code cannot write), and never in the student process.
"""

from autograder.errors import StudentFailure
from autograder.judges.processes import PICKLING
from autograder.probes import machine
from autograder.probes.payloads import mix


# -- feedback -----------------------------------------------------------------------------
def raised(student, what: str, error: dict) -> str:
    """Feedback for a case that raised inside a probe that runs several."""
    where = f" ({student.display}, {error['where']})" if error.get("where") else ""
    message = f"{what} raised {error['type']}: {error['message']}{where}."
    text = f"{error['type']} {error['message']}".lower()
    return message + (PICKLING if "pickl" in text or "local object" in text else "")


# -- the evidence of a call (written by the supervisor, never by the student) ------------
def live_pids(evidence: dict) -> set[int]:
    """The submission's processes still there (running or unreaped) at the answer."""
    return {entry["pid"] for entry in evidence.get("live") or ()}


# -- work items ----------------------------------------------------------------------------
def values(items: list[list]) -> list[int]:
    """What ``payloads.work`` returns for each item, computed here."""
    return [mix(seed, iterations) for seed, iterations, *_ in items]


# -- run_processes's targets wait at the grader's gate together ---------------------------
def _ordinal(number: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10 if number % 100 not in (11, 12, 13)
                                            else 0, "th")
    return f"{number}{suffix}"


def started_together(what: str, pids: list[int], releases: list[dict | None]) -> None:
    """The processes that ran the target (``pids``) all waited at the grader's
    gate at once: it released each of them when all had gathered (its
    ``releases``, one per nonce). Otherwise say which process started only
    after an earlier one had ended (the gate saw it hang up)."""
    ran = set(pids)
    mine = sorted((r for r in releases if r is not None and r["pid"] in ran),
                  key=lambda r: r["asked"])
    if ran <= {r["pid"] for r in mine if r["how"] == machine.GATHERED}:
        return
    for index in range(1, len(mine)):
        ended = [r["ended"] for r in mine[:index] if r["ended"] is not None]
        if len(ended) == index and mine[index]["asked"] >= max(ended):
            raise StudentFailure(
                f"{what}: the {_ordinal(index + 1)} process started only after the "
                f"{_ordinal(index)} had ended: start them all, then join them all (a join "
                "right after each start waits for that process before the next one starts).")
    raise StudentFailure(
        f"{what}: its {len(pids)} processes never ran target at the same time: start them "
        "all, then join them all.")
