"""Code that runs inside the student's (untrusted) process.

Nothing here judges: probes only observe and report plain JSON data. The
judge lives in the grader's own process (``autograder.engine``), which this
package never imports. The sandbox exposes only this package to the student
process, so it must not import anything else from ``autograder``.
"""
