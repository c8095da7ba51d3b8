"""Exports that feed other grading systems: ``otter`` (otter-grader and
Gradescope). Each exporter is a module with an ``export(target, *, slugs=None)``
function that writes its files under ``target`` and returns their paths."""
