"""Page-confidence reliability: the table, the top-minus-bottom-half split, and the plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from noiseclf.calibration import confidence_split, halves, plot_calibration, reliability_table
from noiseclf.evaluation import CorpusReport, PageScore


def _report(confidence: list[float | None], f1: list[float]) -> CorpusReport:
    pages = [PageScore(key=f"p{i}", shingle=None, word={"precision": s, "recall": s, "f1": s, "n": 1},
                       snippets=None, related=None, blocks=None, cpu_ms=1.0, confidence=c)
             for i, (c, s) in enumerate(zip(confidence, f1))]
    return CorpusReport("noiseclf", "wcxb", "test", "html", pages, {})


def test_halves_split_by_confidence_rank() -> None:
    top, bottom = halves([0.9, 0.1, 0.5, 0.7, 0.3], [1.0, 0.2, 0.5, 0.8, 0.4])
    assert top == pytest.approx(0.9) and bottom == pytest.approx((0.2 + 0.4 + 0.5) / 3)


def test_reliability_table_bins() -> None:
    rows = reliability_table([0.05, 0.08, 0.95, 1.0], [0.9, 0.5, 0.85, 0.7], bins=10)
    assert [r["pages"] for r in rows] == [2, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    assert rows[0]["share_good"] == 0.5 and rows[9]["mean_f1"] == pytest.approx(0.775)
    assert rows[1]["mean_confidence"] is None


def test_confidence_split_of_a_report(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    conf = rng.uniform(size=200)
    f1 = np.clip(0.4 + 0.5 * conf + rng.normal(0, 0.1, 200), 0, 1)
    report = _report([*conf, None], [*f1, 0.0])  # a page without confidence is left out
    split = confidence_split(report)
    assert split["pages"] == 200
    assert split["top_minus_bottom"] == pytest.approx(split["top_half_f1"] - split["bottom_half_f1"], abs=1e-3)
    assert split["top_minus_bottom"] > 0.2 and split["correlation"] > 0.5
    assert sum(r["pages"] for r in split["reliability"]) == 200 and 0 <= split["ece"] <= 1
    png = plot_calibration([report], tmp_path / "plots" / "calibration.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_too_few_pages() -> None:
    assert confidence_split(_report([None, 0.5], [0.3, 0.9])) == {"pages": 1, "metric": "word_f1"}
