"""The shipped notebooks: stored without outputs, free of model code, and run top to bottom.

The outputs check reads the notebooks as git holds them (the index, which is the last commit
unless a change is staged), and the run starts from a copy with outputs cleared: a notebook a
user ran and saved in the working tree neither fails the suite nor changes what it runs.
"""

from __future__ import annotations

import ast
import asyncio
import copy
import os
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from franchise_sim.interfaces.notebook_files import clear_outputs, strip_outputs
from tests.conftest import ROOT

NOTEBOOK_FOLDER = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_FOLDER.glob("*.ipynb"))
SMALL_RUNS = "80"
"""Paired runs the notebooks simulate under test (``FRANCHISE_SIM_NOTEBOOK_RUNS``)."""


def _read(path: Path) -> nbformat.NotebookNode:
    notebook: nbformat.NotebookNode = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return notebook


def committed_text(path: Path) -> str:
    """A file as git holds it (``git show :PATH``), or as on disk outside a checkout.

    The index is the last commit unless a change to the file is staged, so a notebook saved
    with outputs in the working tree does not count until it is added; a file git does not
    know yet, or a copy without git, is read from disk.
    """
    try:
        shown = subprocess.run(
            ["git", "show", f":./{path.name}"],
            cwd=path.parent,
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )
    except OSError:  # no git on this machine
        return path.read_text(encoding="utf-8")
    return shown.stdout if shown.returncode == 0 else path.read_text(encoding="utf-8")


def _committed(path: Path) -> nbformat.NotebookNode:
    notebook: nbformat.NotebookNode = nbformat.reads(committed_text(path), as_version=4)  # type: ignore[no-untyped-call]
    return notebook


def test_the_four_notebooks_are_shipped() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_exploring_assumptions.ipynb",
        "03_survival_and_risk.ipynb",
        "04_relationships.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook = _committed(path)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell holds outputs; clear them"
            assert cell.execution_count is None
    assert "widgets" not in notebook.metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_only_calls_the_package(path: Path) -> None:
    for cell in _read(path).cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        defined = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        assert not defined, f"{path.name}: model code belongs in the package, not the notebook"


Executed = nbformat.NotebookNode | str | BaseException
"""A notebook run: its cells with outputs, why a cell failed, or what stopped the run."""


async def _run(path: Path, out: Path) -> nbformat.NotebookNode | str:
    """A clean copy of a notebook run top to bottom: its cells with outputs, or why it failed."""
    env = dict(os.environ)
    env["FRANCHISE_SIM_NOTEBOOK_RUNS"] = SMALL_RUNS
    env["FRANCHISE_SIM_NOTEBOOK_OUT"] = str(out)
    env.pop("MPLBACKEND", None)  # as Jupyter starts a kernel: its own default
    notebook = _read(path)
    clear_outputs(notebook)  # run from a clean copy, whatever a user saved
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_FOLDER)}},
    )
    try:
        await client.async_execute(env=env)
    except CellExecutionError as exc:
        return f"{path.name} failed:\n{str(exc)[-3000:]}"
    return notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Executed]:
    """Every notebook run once, in kernels of their own at the same time (each its own folder).

    The kernels are separate processes, so running them side by side uses every core while each
    notebook runs exactly as it would alone; what goes wrong in one (a dead kernel, a timeout)
    is that notebook's test's error, not the others'.
    """

    async def run_all() -> list[Executed]:
        runs = [_run(path, tmp_path_factory.mktemp(path.stem)) for path in NOTEBOOKS]
        return await asyncio.gather(*runs, return_exceptions=True)

    return dict(zip([p.name for p in NOTEBOOKS], asyncio.run(run_all()), strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, executed: dict[str, Executed]) -> None:
    notebook = executed[path.name]
    if isinstance(notebook, BaseException):
        raise notebook
    if isinstance(notebook, str):
        pytest.fail(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    # A whole figure a cell ends with (the dashboard) is shown as a picture, not as its repr.
    for cell in code:
        if cell.source.strip().endswith("plot.dashboard()"):
            assert any("image/png" in o.get("data", {}) for o in cell.outputs), cell.source


KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _with_outputs() -> dict[str, Any]:
    """A small notebook as JupyterLab saves it after running: outputs, counts, widget state."""
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": KERNEL, "widgets": {"state": {}}},
        "cells": [
            {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# Title"},
            {
                "cell_type": "code",
                "id": "b",
                "metadata": {"tags": ["keep"]},
                "execution_count": 3,
                "source": "results = simulate(scenario)",
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": "done"},
                    {"output_type": "display_data", "data": {"image/png": "iVBOR"}, "metadata": {}},
                ],
            },
        ],
    }


def test_save_hook_clears_outputs_and_keeps_sources() -> None:
    content = _with_outputs()
    model = {"type": "notebook", "format": "json", "content": content}
    strip_outputs(model=model, path="01_quickstart.ipynb", contents_manager=None)
    markdown, code = content["cells"]
    assert code["outputs"] == []
    assert code["execution_count"] is None
    assert code["source"] == "results = simulate(scenario)"
    assert code["metadata"] == {"tags": ["keep"]}
    assert markdown == _with_outputs()["cells"][0]
    assert content["metadata"] == {"kernelspec": KERNEL}
    nbformat.validate(nbformat.from_dict(content))  # type: ignore[no-untyped-call]


def test_save_hook_leaves_other_files_alone() -> None:
    text = {"type": "file", "format": "text", "content": '{"cells": [{"outputs": [1]}]}'}
    folder: dict[str, Any] = {"type": "directory", "content": None}
    notebook_v3 = {"type": "notebook", "content": {"nbformat": 3, "worksheets": [{"cells": []}]}}
    for model in (text, folder, notebook_v3):
        before = copy.deepcopy(model)
        strip_outputs(model=model, path="x", contents_manager=None)
        assert model == before


def test_the_outputs_check_reads_what_git_holds(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    path = tmp_path / "n.ipynb"
    clean = _with_outputs()
    clear_outputs(clean)
    path.write_text(nbformat.writes(nbformat.from_dict(clean)), encoding="utf-8")  # type: ignore[no-untyped-call]
    assert committed_text(path) == path.read_text(encoding="utf-8")  # no checkout: the file
    git("init", "-q")
    git("add", "n.ipynb")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "clean")
    path.write_text(nbformat.writes(nbformat.from_dict(_with_outputs())), encoding="utf-8")  # type: ignore[no-untyped-call]
    committed = nbformat.reads(committed_text(path), as_version=4)  # type: ignore[no-untyped-call]
    assert [c.get("outputs") for c in committed.cells] == [None, []]
    git("add", "n.ipynb")  # staged outputs are about to be committed: they count
    staged = nbformat.reads(committed_text(path), as_version=4)  # type: ignore[no-untyped-call]
    assert len(staged.cells[1].outputs) == 2
