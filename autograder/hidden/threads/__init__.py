"""The threads assignment: its questions and points, as SPEC.md fixes them."""

from autograder.testing import Question

QUESTIONS = (
    Question("q1", "run_threads", 3),
    Question("q2", "increase", 3),
    Question("q3", "run_increase", 2),
    Question("q4", "ThreadSafeCounter", 3),
    Question("q5", "start_heartbeat", 2),
    Question("q6", "process_queue", 4),
)
