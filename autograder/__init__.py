"""advpy's grader: hidden tests, a sandboxed student process, and renderers.

Kept free of imports: the student process imports ``autograder.probes`` and
must not pull in the rest of the package.
"""

__version__ = "0.1.0"
