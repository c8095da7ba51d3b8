"""The manifests: the one place an assignment's questions, points and needs
are written, and the clear message a broken one gets."""

from __future__ import annotations

import pytest

from autograder import assignments
from autograder.assignments import ManifestError, read_manifest

# SPEC.md's tables: question ids, names and points.
SPEC = {
    "generators": {"q1": ("mygenerator", 2), "q2": ("firstn", 1), "q3": ("firstn_generator", 4),
                   "q4": ("evens", 3), "q5": ("count_evens", 2), "q6": ("take", 3),
                   "q7": ("chunked", 3)},
    "threads": {"q1": ("run_threads", 3), "q2": ("increase", 3), "q3": ("run_increase", 2),
                "q4": ("ThreadSafeCounter", 3), "q5": ("start_heartbeat", 2),
                "q6": ("process_queue", 4)},
    "processes": {"q1": ("CHOICES", 3), "q2": ("run_processes", 3), "q3": ("parallel_map", 5),
                  "q4": ("io_map", 3), "q5": ("parallel_sum_of_squares", 3)},
}


def test_the_course_is_what_the_spec_fixes():
    """The manifests give SPEC's assignments, in course order, with its questions."""
    assert assignments.slugs() == list(SPEC)
    for slug, questions in SPEC.items():
        found = {q.id: (q.name, q.points) for q in assignments.get(slug).questions}
        assert found == questions
    assert [assignments.get(s).measures_speedup for s in SPEC] == [False, False, True]


def test_every_file_a_manifest_names_exists():
    for slug in assignments.slugs():
        assignment = assignments.get(slug)
        for name in assignment.files:
            assert (assignment.student_dir / name).is_file(), f"{slug}: {name}"


@pytest.mark.parametrize(("text", "message"), [
    ("title = 'x'\n", "no [[questions]]"),
    ("[[questions]]\nid = 'q1'\nname = 'f'\npoints = 'two'\n", "question 1: `points`"),
    ("[[questions]]\nid = 'q1'\npoints = 2\n", "question 1: `name`"),
    ("[[questions]]\nid = 'q1'\nname = 'f'\npoints = 1\n[[questions]]\nid = 'q1'\n"
     "name = 'g'\npoints = 1\n", "two questions share an id"),
    ("title = \n", "cannot read it as TOML"),
    ("cpus = 'two'\n[[questions]]\nid = 'q1'\nname = 'f'\npoints = 1\n", "`cpus`"),
], ids=["no-questions", "points-text", "no-name", "same-id", "not-toml", "cpus-text"])
def test_a_broken_manifest_says_which_file_and_field(tmp_path, text, message):
    path = tmp_path / "demo" / "assignment.toml"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(ManifestError) as raised:
        read_manifest(path)
    assert message in str(raised.value) and str(path) in str(raised.value)


def test_a_good_manifest_defaults_what_it_leaves_out(tmp_path):
    path = tmp_path / "tiny" / "assignment.toml"
    path.parent.mkdir()
    path.write_text("[[questions]]\nid = 'q1'\nname = 'f'\npoints = 1.5\n")
    tiny = read_manifest(path)
    assert (tiny.slug, tiny.title, tiny.cpus, tiny.max_score) == ("tiny", "tiny", 1, 1.5)
    assert tiny.files == ("tiny.py", "tiny.ipynb", "test_tiny.py")
