"""The build step pyproject.toml cannot say: a wheel carries the course.

A wheel (``pip wheel .``, ``pip install .``) gets ``assignments/`` and
``solutions/`` as package data in ``autograder/_course``, where
``autograder.assignments.course_root`` finds them through importlib.resources,
so that an installed advpy grades from any folder. An editable install uses
the checkout's own folders instead and copies nothing.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
COURSE = ("assignments", "solutions")


class BuildWithCourse(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "autograder" / "_course"
        for tree in COURSE:
            for path in sorted((ROOT / tree).rglob("*")):
                if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
                    continue
                copy = target / path.relative_to(ROOT)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)


setup(cmdclass={"build_py": BuildWithCourse})
