"""Hostile (forged pids and timings): CHOICES is right; parallel_map is a serial
loop in the calling process, and run_processes never runs its target in a child.
Both rewrite the evidence that the grader's own functions produce:

- parallel_map calls the grader's `work` on every item here, then rewrites each
  (value, pid, start, end, cpu) it returned: made-up pids (never the caller's),
  and start and end times packed into `workers` lanes that all begin at once, as
  if `workers` processes had run side by side;
- run_processes starts and joins dummy processes (time.sleep(0)), then writes in
  the Recorder's inbox folder (target.folder) the record target would have
  written in each of them (its pid, a start and an end before the return).

On main before issue 9 (bubblewrap): 11/17 (q2 3/3 and q3 5/5 with the speedup
judged against this machine). Honestly it earns q1 only.

expect: q2=0 q3=0 q4=0 q5=0
"""
import json
import multiprocessing
import os
import time

CHOICES = {
    "download 200 web pages": "thread",
    "resize 10,000 images in a pure-Python loop": "process",
    "count primes below 10**8 in pure Python": "process",
    "wait for replies from 50 database queries": "thread",
    "a task that must be killable from outside": "process",
    "many small tasks that update one shared in-memory dict": "thread",
}


def run_processes(target, num_processes=None):
    count = os.cpu_count() if num_processes is None else num_processes
    processes = [multiprocessing.Process(target=time.sleep, args=(0,)) for _ in range(count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    _forge_records(target, processes)
    return processes


def _forge_records(target, processes):
    """What Recorder.__call__ would have dropped in each process (see probes/processes.py)."""
    folder, seconds = getattr(target, "folder", None), getattr(target, "seconds", 0)
    if not isinstance(folder, str):
        return
    end = time.monotonic()
    for process in processes:
        name = f"{process.pid}-{end:.9f}-{os.urandom(4).hex()}"
        record = {"pid": process.pid, "start": end - seconds, "end": end}
        try:
            with open(os.path.join(folder, name + ".tmp"), "w", encoding="utf-8") as stream:
                json.dump(record, stream)
            os.replace(os.path.join(folder, name + ".tmp"), os.path.join(folder, name + ".json"))
        except (OSError, TypeError, ValueError):
            pass


def parallel_map(func, items, workers=None):
    results = [func(item) for item in items]  # serial, in this process
    return _look_parallel(results, max(2, workers or os.cpu_count() or 2))


def _look_parallel(results, lanes):
    """Repack the grader's (value, pid, start, end, cpu) tuples into `lanes`
    made-up processes that all started at the same instant."""
    timed = [r for r in results if type(r) is tuple and len(r) == 5]
    if not timed:
        return results
    try:
        begin = min(r[2] for r in timed)
        pids = [os.getpid() + 1000 + lane for lane in range(lanes)]
        clocks = [begin] * lanes
        forged = []
        for index, result in enumerate(results):
            if type(result) is tuple and len(result) == 5:
                lane = index % lanes
                start = clocks[lane]
                clocks[lane] = start + (result[3] - result[2])
                result = (result[0], pids[lane], start, clocks[lane], result[4])
            forged.append(result)
        return forged
    except (TypeError, ValueError):
        return results


def io_map(func, items, workers=8):
    raise NotImplementedError("write io_map")


def parallel_sum_of_squares(numbers, num_processes=2):
    raise NotImplementedError("write parallel_sum_of_squares")
