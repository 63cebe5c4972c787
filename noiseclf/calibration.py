"""Does page-level confidence mean something? Reliability of `Extraction.confidence` on labelled pages.

A model trained with a calibrator reports, per page, the probability that the page's word F1 is
at least GOOD_F1 (`training.fit_calibrator`). Given an evaluation report, this module measures:

* the reliability table: pages binned by confidence (equal-width bins over [0, 1]), with the
  mean confidence, the observed share of pages with F1 >= GOOD_F1 and the mean F1 of each bin
  (a calibrated model has mean confidence close to the observed share in every bin);
* the split the issue targets: mean word F1 of the pages whose confidence is in the top half
  minus that of the bottom half (pages ranked by confidence, the larger half being the bottom
  one for an odd count); a useful confidence makes this clearly positive (target >= 0.05 on WCXB test);
* the Brier score and the expected calibration error (bin-size-weighted mean |confidence - share|);

and draws the reliability diagram to a PNG with matplotlib's Agg canvas (no pyplot state).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .evaluation import CorpusReport

GOOD_F1 = 0.8  # the calibrator's target: P(page word F1 >= GOOD_F1)


def page_pairs(report: CorpusReport, metric: str = "word_f1") -> tuple[np.ndarray, np.ndarray]:
    """(confidence, score) of every page that has both, as two arrays."""
    scores = report.per_page(metric)
    conf = np.array([np.nan if p.confidence is None else p.confidence for p in report.pages], float)
    ok = ~np.isnan(conf) & ~np.isnan(scores)
    return conf[ok], scores[ok]


def reliability_table(confidence: Sequence[float], scores: Sequence[float], bins: int = 10,
                      good: float = GOOD_F1) -> list[dict]:
    """Per confidence bin: page count, mean confidence, share of pages with score >= good, mean score."""
    conf, score = np.asarray(confidence, float), np.asarray(scores, float)
    index = np.minimum((conf * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        members = index == b
        n = int(members.sum())
        rows.append({
            "low": b / bins, "high": (b + 1) / bins, "pages": n,
            "mean_confidence": float(conf[members].mean()) if n else None,
            "share_good": float((score[members] >= good).mean()) if n else None,
            "mean_f1": float(score[members].mean()) if n else None,
        })
    return rows


def halves(confidence: Sequence[float], scores: Sequence[float]) -> tuple[float, float]:
    """Mean score of the pages in the top half by confidence and of the bottom half."""
    conf, score = np.asarray(confidence, float), np.asarray(scores, float)
    order = np.argsort(conf, kind="stable")
    cut = len(order) // 2 + len(order) % 2  # the middle page of an odd count goes to the bottom half
    return float(score[order[cut:]].mean()), float(score[order[:cut]].mean())


def confidence_split(report: CorpusReport, metric: str = "word_f1", bins: int = 10) -> dict:
    """The confidence figures of one report: top-half minus bottom-half F1, calibration, reliability table."""
    conf, score = page_pairs(report, metric)
    if len(conf) < 2:
        return {"pages": len(conf), "metric": metric}
    top, bottom = halves(conf, score)
    table = reliability_table(conf, score, bins)
    good = (score >= GOOD_F1).astype(float)
    ece = sum(r["pages"] * abs(r["mean_confidence"] - r["share_good"]) for r in table if r["pages"]) / len(conf)
    return {
        "pages": len(conf), "metric": metric, "top_half_f1": round(top, 4), "bottom_half_f1": round(bottom, 4),
        "top_minus_bottom": round(top - bottom, 4), "median_confidence": round(float(np.median(conf)), 4),
        "share_good": round(float(good.mean()), 4), "mean_confidence": round(float(conf.mean()), 4),
        "brier": round(float(np.mean((conf - good) ** 2)), 4), "ece": round(float(ece), 4),
        "correlation": round(float(np.corrcoef(conf, score)[0, 1]), 4) if conf.std() and score.std() else None,
        "reliability": table,
    }


def plot_calibration(reports: Sequence[CorpusReport], path: Path, metric: str = "word_f1", bins: int = 10) -> Path:
    """Reliability diagram (confidence vs share of good pages, plus mean F1 per bin) of each report, as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 7))
    FigureCanvasAgg(fig)  # the Agg canvas, without pyplot's global state
    ax, counts = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for report in reports:
        conf, score = page_pairs(report, metric)
        table = [r for r in reliability_table(conf, score, bins) if r["pages"]]
        if not table:
            continue
        x = [r["mean_confidence"] for r in table]
        split = f", top-bottom F1 {np.subtract(*halves(conf, score)):+.3f}" if len(conf) >= 2 else ""
        line, = ax.plot(x, [r["share_good"] for r in table], marker="o", label=f"{report.corpus}: share F1>={GOOD_F1}{split}")
        ax.plot(x, [r["mean_f1"] for r in table], marker="s", linestyle="--", color=line.get_color(),
                alpha=0.6, label=f"{report.corpus}: mean F1")
        centres = [(r["low"] + r["high"]) / 2 for r in table]
        counts.bar(centres, [r["pages"] for r in table], width=0.8 / bins, alpha=0.5, color=line.get_color())
    ax.set(ylabel="observed", xlim=(0, 1), ylim=(0, 1.02), title="Page confidence: reliability")
    ax.legend(fontsize=8, loc="upper left")
    counts.set(xlabel="confidence", ylabel="pages")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
