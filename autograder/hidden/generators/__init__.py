"""The generators assignment: its questions and points, as SPEC.md fixes them."""

from autograder.testing import Question

QUESTIONS = (
    Question("q1", "mygenerator", 2),
    Question("q2", "firstn", 1),
    Question("q3", "firstn_generator", 4),
    Question("q4", "evens", 3),
    Question("q5", "count_evens", 2),
    Question("q6", "take", 3),
    Question("q7", "chunked", 3),
)
