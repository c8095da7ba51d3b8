"""The processes assignment: its questions and points, as SPEC.md fixes them."""

from autograder.testing import Question

QUESTIONS = (
    Question("q1", "CHOICES", 3),
    Question("q2", "run_processes", 3),
    Question("q3", "parallel_map", 5),
    Question("q4", "io_map", 3),
    Question("q5", "parallel_sum_of_squares", 3),
)
