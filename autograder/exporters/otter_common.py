"""What the otter exporter (:mod:`autograder.exporters.otter`) and the plugin
it configures (:mod:`autograder.exporters.otter_plugin`) both need: the zip's
layout and the fingerprint of what grades
an assignment. A leaf: both import it, it imports neither, so the exporter
(made where advpy is developed) and the plugin (loaded by otter where it
grades) never import each other.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from autograder import assignments

PACKAGE = assignments.PACKAGE
BUNDLED_PACKAGE = "advpy"  # the folder under files/ in the zip


def grading_files(slug: str) -> dict[str, Path]:
    """What grading ``slug`` needs, by the name it has in the zip's source
    tree: the package (without other assignments' hidden tests and the demo
    class) and the assignment's public tests and stub."""
    files: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE)
        parts = rel.parts
        if not path.is_file() or "__pycache__" in parts or path.suffix == ".pyc":
            continue
        if parts[0] in ("demo", assignments.BUNDLED):
            continue
        if parts[0] == "hidden" and len(parts) > 2 and parts[1] != slug:
            continue
        files[f"autograder/{rel.as_posix()}"] = path
    student = assignments.get(slug).student_dir
    for name in (assignments.MANIFEST, f"{slug}.py", f"test_{slug}.py"):
        files[f"autograder/{assignments.BUNDLED}/assignments/{slug}/{name}"] = student / name
    return files


def _digest(files: dict[str, Path]) -> str:
    digest = hashlib.sha256()
    for name, path in sorted(files.items()):
        if name.startswith("autograder/exporters/"):
            continue  # how otter is driven, not how a submission is graded
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def fingerprint(slug: str) -> str:
    """A hash of what grades ``slug`` here: the plugin compares the zip's with
    the installed advpy's."""
    return _digest(grading_files(slug))


def tree_fingerprint(root: Path) -> str:
    """The same hash, of a source tree that ``otter.source_tree`` wrote."""
    return _digest({path.relative_to(root).as_posix(): path
                    for path in (Path(root) / "autograder").rglob("*") if path.is_file()})
