"""Broken: a syntax error, so nothing can be graded.

expect: q1=0 q2=0 q3=0 q4=0 q5=0
"""
import multiprocessing

CHOICES = {"download 200 web pages": "thread"


def run_processes(target, num_processes=None):
    return [multiprocessing.Process(target=target)]
