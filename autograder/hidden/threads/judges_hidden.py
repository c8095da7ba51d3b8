"""The judges that only the hidden tests of the threads assignment use.

They live beside those tests, not in ``autograder/judges/threads.py``: the
student package carries that module (its public tests need it) and nothing
of the hidden tests. Trusted code all the same: it runs in the grader, on
observations that the shapes have checked, and never in the student process.
"""

from collections import Counter
from json import dumps

LATENCY = 0.03  # the stub's simulated database latency, between read and write
NOT_DAEMON = ("The interpreter waits for every thread that is not a daemon: create the "
              "heartbeat thread with daemon=True.")


def counts(items: list) -> dict:
    """A multiset of JSON items, for comparing calls with items."""
    return dict(Counter(dumps(item, sort_keys=True) for item in items))
