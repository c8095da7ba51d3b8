"""The program that ``threads.heartbeat_exit`` runs in a fresh interpreter.

It imports the submission, starts a heartbeat, waits for two beats, prints
one report line and lets its main thread end; the probe then times how long
the program takes to exit (a non-daemon heartbeat keeps it alive). Run as
``python -I threads_child.py ROOT PATH MODULE INTERVAL``; importing it does
nothing.
"""

import builtins
import importlib.util
import json
import os
import sys
import threading
import time

# Our own copy of the builtins, taken before any student code runs: a
# submission that patches builtins (len, isinstance, ...) does not reach us.
__builtins__ = dict(vars(builtins))

MARK = "@@advpy-main-ends@@ "


def main(root: str, path: str, name: str, interval: float) -> None:
    sys.path[:0] = [root, os.path.dirname(path)]
    report: dict = {"loaded": False, "started": False}
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        report["loaded"] = True
        beats: list = []
        thread = module.start_heartbeat(interval, beats)
        report["started"] = True
        deadline = time.monotonic() + 1.0
        while len(beats) < 2 and time.monotonic() < deadline:
            time.sleep(0.002)
        report["beats"] = len(beats)
        daemon = getattr(thread, "daemon", None)
        report["daemon"] = daemon if type(daemon) is bool else None
        report["non_daemon"] = sum(1 for t in threading.enumerate()
                                   if t is not threading.main_thread() and not t.daemon)
    except BaseException as exc:  # noqa: BLE001 - reported to the probe
        report["error"] = (type(exc).__name__ + ": " + str(exc))[:300]
    sys.stdout.write("\n" + MARK + json.dumps(report) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]))
