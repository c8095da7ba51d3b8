"""nbgrader's configuration for the generators course of tests/bench_class.py.

What an instructor writes for nbgrader alone. The benchmark copies this folder
to a temporary course directory and runs nbgrader there: the course root is the
working directory and the gradebook is ``gradebook.db`` beside this file.
"""

c = get_config()  # noqa: F821 - traitlets defines get_config when nbgrader loads this file

c.CourseDirectory.course_id = "advpy-bench"
# nbgrader's default, said aloud: a cell that runs longer is interrupted and fails.
c.Execute.timeout = 30
