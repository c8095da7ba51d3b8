"""``advpy release``: the student bundle holds the stubs, notebooks with otter's
checks and the public tests, and no solution and no hidden test; a
student's ``grader.check("qN")`` runs that question's public checks."""

from __future__ import annotations

import ast
import shutil
import zipfile

import nbformat
import pytest
from conftest import ROOT, grader_check_outputs

from autograder import assignments, cli, notebooks, student_wheel
from autograder.release import ReleaseError, release, verify

SLUGS = assignments.available()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    target = tmp_path_factory.mktemp("release")
    assert cli.main(["release", str(target)]) == 0
    return target


@pytest.mark.parametrize("slug", SLUGS)
def test_the_bundle_holds_what_students_get(slug, bundle):
    folder = bundle / slug
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    questions = assignments.get(slug).questions
    assert names == {f"{slug}.py", f"{slug}.ipynb", f"test_{slug}.py", "README.md",
                     ".advpy-release", *(f"tests/{q.id}.py" for q in questions)}
    for name in (f"{slug}.py", f"{slug}.ipynb", f"test_{slug}.py"):
        assert (folder / name).read_bytes() == (ROOT / "assignments" / slug / name).read_bytes()


@pytest.mark.parametrize("slug", SLUGS)
def test_the_notebook_carries_otters_checks(slug):
    notebook = nbformat.read(str(ROOT / "assignments" / slug / f"{slug}.ipynb"), as_version=4)
    code = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert "grader = otter.Notebook(" in code[0] and "import otter" in code[0]
    checks = [c for c in code if c.startswith("grader.check(")]
    assert checks == [notebooks.OTTER_CHECK.format(qid=q.id)
                      for q in assignments.get(slug).questions]
    # Each check follows the cell that defines its question's name.
    for question in assignments.get(slug).questions:
        at = code.index(notebooks.OTTER_CHECK.format(qid=question.id))
        tree = ast.parse(code[at - 1])
        defined = {getattr(n, "name", None) for n in tree.body} | {
            t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
            if isinstance(t, ast.Name)}
        assert question.name in defined, (question.id, code[at - 1][:80])


def test_a_solution_in_the_bundle_is_refused(bundle, tmp_path):
    slug = SLUGS[0]
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    verify(copy)
    shutil.copy(ROOT / "solutions" / slug / f"{slug}.py", copy / slug / "my_notes.py")
    with pytest.raises(ReleaseError, match="reference solution"):
        verify(copy)


def test_a_reference_function_pasted_into_the_notebook_is_refused(bundle, tmp_path):
    slug = SLUGS[0]
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    notebook = nbformat.read(str(copy / slug / f"{slug}.ipynb"), as_version=4)
    solution = (ROOT / "solutions" / slug / f"{slug}.py").read_text()
    notebook.cells.append(nbformat.v4.new_code_cell(solution))
    nbformat.write(notebook, str(copy / slug / f"{slug}.ipynb"))
    with pytest.raises(ReleaseError, match="reference solution's"):
        verify(copy)


def test_a_hidden_test_in_the_bundle_is_refused(bundle, tmp_path):
    slug = SLUGS[0]
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    hidden = sorted(assignments.get(slug).hidden_tests.glob("test_*.py"))[0]
    shutil.copy(hidden, copy / slug / "tests" / "extra.py")
    with pytest.raises(ReleaseError, match="hidden test"):
        verify(copy)
    (copy / slug / "tests" / "extra.py").unlink()
    public = copy / slug / f"test_{slug}.py"
    public.write_text(public.read_text().replace("hidden=False", "hidden=True", 1))
    with pytest.raises(ReleaseError, match="not declared hidden=False"):
        verify(copy)


def test_the_bundle_holds_the_student_wheel(bundle):
    assert sorted(p.name for p in bundle.iterdir() if p.is_file()) == [
        student_wheel.wheel_name()]
    for slug in SLUGS:
        assert f"pip install ../{student_wheel.wheel_name()}" in (
            bundle / slug / "README.md").read_text()


def _plant(bundle, tmp_path, member: str, text: str):
    """A copy of ``bundle`` (which release verified) whose wheel also holds
    ``member`` with ``text``."""
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    with zipfile.ZipFile(copy / student_wheel.wheel_name(), "a") as wheel:
        wheel.writestr(member, text)
    return copy


def test_a_leak_inside_the_wheel_is_refused(bundle, tmp_path):
    slug = SLUGS[0]
    hidden = sorted(assignments.get(slug).hidden_tests.glob("test_*.py"))[0]
    name = next(n.name for n in ast.parse(hidden.read_text()).body
                if isinstance(n, ast.FunctionDef) and n.name.startswith("test_"))
    copy = _plant(bundle, tmp_path / "name", "autograder/notes.py", f"# see {name}\n")
    with pytest.raises(ReleaseError, match=f"notes.py in {student_wheel.wheel_name()} "
                                           f"names {name}, a hidden test"):
        verify(copy)
    # One line of the reference, alone in a file that is not even Python.
    solution = (ROOT / "solutions" / slug / f"{slug}.py").read_text()
    line = next(line.strip() for line in solution.splitlines()
                if line.strip().startswith("return ") and len(line.strip()) >= 30)
    copy = _plant(bundle, tmp_path / "line", "autograder/notes.txt", f"  {line}\n")
    with pytest.raises(ReleaseError, match="notes.txt in .* holds this line of the reference"):
        verify(copy)
    copy = _plant(bundle, tmp_path / "file", f"autograder/hidden/{slug}/__init__.py", "")
    with pytest.raises(ReleaseError, match="autograder/hidden/, which students must not get"):
        verify(copy)
    copy = _plant(bundle, tmp_path / "solutions",
                  f"autograder/{assignments.BUNDLED}/solutions/{slug}/notes.md", "mine")
    with pytest.raises(ReleaseError, match="solutions/, which students must not get"):
        verify(copy)


def test_a_wheel_that_cannot_be_opened_is_refused(bundle, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    wheel = copy / student_wheel.wheel_name()
    wheel.write_bytes(wheel.read_bytes()[:1000])
    with pytest.raises(ReleaseError, match="cannot be opened to check it"):
        verify(copy)


def test_release_will_not_overwrite_a_foreign_folder(tmp_path):
    (tmp_path / SLUGS[0]).mkdir()
    (tmp_path / SLUGS[0] / "homework.txt").write_text("mine")
    with pytest.raises(ReleaseError, match="not an advpy release"):
        release(tmp_path, slugs=[SLUGS[0]])
    assert (tmp_path / SLUGS[0] / "homework.txt").read_text() == "mine"


def _run_notebook(path, cwd) -> dict[str, str]:
    """Execute a notebook in a real kernel; each check's displayed result."""
    from nbclient import NotebookClient

    notebook = nbformat.read(str(path), as_version=4)
    NotebookClient(notebook, timeout=300, allow_errors=True,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return grader_check_outputs(notebook)


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_grader_check_runs_the_public_checks(slug, bundle, tmp_path):
    folder = tmp_path / slug
    shutil.copytree(bundle / slug, folder)
    questions = [q.id for q in assignments.get(slug).questions]
    stub = _run_notebook(folder / f"{slug}.ipynb", folder)
    assert sorted(stub) == sorted(questions)
    for qid, text in stub.items():
        assert f"{qid} results:" in text and "Test case failed" in text, text
        assert "hidden" not in text.lower()
    # The reference, run by a student in the same folder, passes every check.
    (folder / f"{slug}.ipynb").unlink()
    shutil.copy(ROOT / "solutions" / slug / f"{slug}.ipynb", folder / f"{slug}.ipynb")
    reference = _run_notebook(folder / f"{slug}.ipynb", folder)
    assert all("All test cases passed!" in text for text in reference.values()), reference
