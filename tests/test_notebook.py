"""The walkthrough notebook runs top to bottom on a small sample, with or without the corpora, and ships clean."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"
SAMPLE = "8"  # training pages; the notebook evaluates on two thirds as many
TIMEOUT = 300  # seconds per cell


def _run(monkeypatch: pytest.MonkeyPatch, work: Path, **env: str) -> nbformat.NotebookNode:
    """Execute the notebook in a fresh kernel (which inherits this environment), writing under `work`."""
    monkeypatch.setenv("NOISECLF_NOTEBOOK_SAMPLE", SAMPLE)
    monkeypatch.setenv("NOISECLF_NOTEBOOK_DIR", str(work))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # CI's two cores are shared; OpenMP spinning only slows it down
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return nb


def _text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)


def _images(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.outputs)


def test_notebook_is_committed_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def test_notebook_runs_on_hand_written_pages_without_the_corpora(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    nb = _run(monkeypatch, tmp_path / "work", NOISECLF_DATA=str(tmp_path / "no-corpora-here"))
    text = _text(nb)
    assert "no corpora found: using 13 hand-written pages" in text
    assert "5 test pages" in text and "report.md" in text
    assert (tmp_path / "work" / "report" / "report.md").is_file()  # in the folder asked for, not a stray one
    assert _images(nb) == 4  # F1, per-page scores, threshold curve, feature importance


def test_notebook_runs_on_the_corpora(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from noiseclf.corpora import corpus_available

    if not corpus_available("wcxb"):
        pytest.skip("WCXB is not in ../shared/data")
    nb = _run(monkeypatch, tmp_path)
    assert "using WCXB from" in _text(nb) and _images(nb) == 4
