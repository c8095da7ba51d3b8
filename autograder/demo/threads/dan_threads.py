"""Broken: a syntax error (a missing colon), so nothing in the file can be graded."""
import threading

database_value = 0


def run_threads(target, num_threads=10)
    threads = [threading.Thread(target=target) for _ in range(num_threads)]
    return threads
