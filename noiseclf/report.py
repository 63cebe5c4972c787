"""Evaluation people would rather look at: peers side by side, significance, plots and a Markdown report.

Everything here reads `CorpusReport`s (one per system and corpus, scored on the same pages) plus,
for the figures that need them, the pages and the model:

- F1 per corpus and system, and the per-page distribution of the primary score;
- noiseclf's mean page precision and recall as its decision threshold moves (its block
  probabilities re-thresholded; word metric, snippet metric on the trafilatura set), peers as points;
- on L3S-GN1, the share of each annotated class kept: for every system by token overlap of the
  class's gold runs with the output (as `metrics.related_kept`), for noiseclf also by block labels;
- permutation importance of the model's first pass on blocks of held-out pages.

`evaluate_side_by_side` runs noiseclf and the peers (`peers.py`) on the same pages for all of this.

Figures are drawn on `matplotlib.figure.Figure` objects (saved with the Agg canvas, no pyplot
state), so the functions work the same in scripts, tests and notebooks.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from scipy import sparse
from scipy.stats import rankdata
from threadpoolctl import threadpool_limits

from . import corpora, metrics
from .evaluation import (
    PRIMARY, CorpusReport, NoiseclfSystem, System, SystemOutput, evaluate, flattened_input, reports_table,
)
from .features import FEATURE_NAMES, block_features, block_words
from .inference import Extractor
from .labelling import label_blocks
from .tables import page_document
from .types import BlockClass, Format, NoiseclfError, Page

BASELINE = "noiseclf"
THRESHOLDS = np.round(np.arange(0.04, 0.97, 0.04), 2)
CLASS_NAMES: dict[BlockClass, str] = {
    BlockClass.HEADLINE: "headline", BlockClass.FULL_TEXT: "full text", BlockClass.SUPPLEMENTAL: "supplemental",
    BlockClass.RELATED: "related", BlockClass.COMMENTS: "comments", BlockClass.NOT_CONTENT: "not content",
}
REGENERATE = ("noiseclf evaluate --compare trafilatura,readability,justext,boilerpy3,resiliparse,c4 "
              "--report artifacts/report/report.json --plots artifacts/report")


def corpus_label(report: CorpusReport) -> str:
    """`corpus:split`, the key figures and `pages` mappings use for one evaluated split."""
    return f"{report.corpus}:{report.split}"


# --- peers side by side -----------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Paired bootstrap of the baseline minus a system on one corpus: the difference of the corpus scores and
    its 95% interval over page resamples."""

    corpus: str
    system: str
    diff: float
    low: float
    high: float
    pages: int

    @property
    def significant(self) -> bool:
        """Whether the 95% interval excludes 0."""
        return self.low > 0 or self.high < 0

    def text(self) -> str:
        """`+0.052 [+0.021, +0.080] *`, the star when the interval excludes 0."""
        return f"{self.diff:+.3f} [{self.low:+.3f}, {self.high:+.3f}]" + (" *" if self.significant else "")


def compare(base: CorpusReport, other: CorpusReport, n: int = 1000, seed: int = 0) -> Comparison:
    """Paired bootstrap of the corpus's primary score, base minus other, over the pages both could score."""
    if [p.key for p in base.pages] != [p.key for p in other.pages]:
        raise ValueError(f"{base.system} and {other.system} were not scored on the same pages of {base.corpus}")
    (a, statistic), (b, _) = base.primary_figures(), other.primary_figures()
    both = ~(np.isnan(a) | np.isnan(b)).reshape(len(a), -1).any(axis=1)
    if not both.any():
        return Comparison(corpus_label(base), other.system, math.nan, math.nan, math.nan, 0)
    diff, low, high = metrics.paired_bootstrap(a[both], b[both], n=n, seed=seed, statistic=statistic)
    return Comparison(corpus_label(base), other.system, diff, low, high, int(both.sum()))


def compare_systems(reports: Sequence[CorpusReport], baseline: str = BASELINE) -> list[Comparison]:
    """The baseline against every other system, per corpus split and format."""
    bases = {(corpus_label(r), r.format): r for r in reports if r.system == baseline}
    return [compare(bases[(corpus_label(r), r.format)], r) for r in reports
            if r.system != baseline and (corpus_label(r), r.format) in bases]


def summary_rows(reports: Sequence[CorpusReport], comparisons: Sequence[Comparison] = (),
                 baseline: str = BASELINE) -> list[dict]:
    """One row per corpus and system (baseline first): primary F1/P/R, CPU ms per page, related kept, Δ."""
    deltas = {(c.corpus, c.system): c for c in comparisons}
    rows = []
    for r in sorted(reports, key=lambda r: (corpus_label(r), r.format, r.system != baseline)):
        metric = PRIMARY[r.corpus]
        s = r.summary
        delta = deltas.get((corpus_label(r), r.system))
        rows.append({"corpus": corpus_label(r), "format": r.format, "system": r.system, "metric": metric,
                     "f1": s.get(metric), "precision": s.get(metric.replace("f1", "precision")),
                     "recall": s.get(metric.replace("f1", "recall")), "cpu_ms_mean": s.get("cpu_ms_mean"),
                     "cpu_ms_median": s.get("cpu_ms_median"), "related_kept": s.get("related_kept"),
                     "errors": s.get("errors", 0), f"{baseline}_minus_system": delta.text() if delta else ""})
    return rows


def evaluate_side_by_side(systems: Sequence[System], sources: Sequence[tuple[str, str | None]], *,
                          format: Format = "html", limit: int | None = None, root: Path | None = None,
                          keep_texts: Container[str] = (), keep_pages: bool = False,
                          log: Callable[[str], None] = lambda _: None,
                          page_sets: Sequence[tuple[str, Sequence[Page]]] = (),
                          ) -> tuple[list[CorpusReport], dict[str, list[Page]]]:
    """Every system on exactly the same pages of each (corpus, split), single-threaded so CPU times compare,
    then on each named set of your own pages (`page_sets`, reported as corpus "user", split the name).

    Each corpus is loaded once; `keep_texts` names the corpora whose outputs the reports keep (L3S class
    shares and worst pages read them); with `keep_pages` the pages come back by corpus_label for the figures.
    OpenMP is limited to one thread while systems run: the peers are single-threaded, and the CPU clock
    counts every thread's time (tree predictions on one page gain nothing from more threads).
    """
    reports: list[CorpusReport] = []
    pages_by: dict[str, list[Page]] = {}
    loaded = [(corpus, split or corpora.DEFAULT_TEST_SPLIT.get(corpus), None) for corpus, split in sources]
    loaded += [("user", name, list(pages)[:limit]) for name, pages in page_sets]
    with threadpool_limits(limits=1, user_api="openmp"):
        for corpus, split, given in loaded:
            pages = given if given is not None else list(corpora.load_corpus(corpus, split, root=root, limit=limit))
            if not pages:
                raise NoiseclfError(f"{corpora.source_name(corpus, split)}: no pages in "
                                    f"{corpora.corpus_location(corpus, split, root)}")
            for system in systems:
                reports.append(evaluate(system, corpus, split, format=format, pages=pages,
                                        keep_texts=corpus in keep_texts))
                named = split if corpus == "user" else corpus  # your pages by their file or folder
                summary = reports[-1].summary
                titles = f", title {summary['title_match']:.3f}" if "title_match" in summary else ""
                log(f"{named}/{system.name}: {PRIMARY[corpus]} {reports[-1].primary:.4f} on {len(pages)} pages, "
                    f"{summary.get('errors', 0)} errors{titles}")
            if keep_pages:
                pages_by[corpus_label(reports[-1])] = pages
    return reports, pages_by


# --- data behind the figures ------------------------------------------------------------------


@dataclass
class Curve:
    """Mean page precision and recall of noiseclf on one corpus at each decision threshold."""

    corpus: str
    metric: str  # "word" or "snippet"
    thresholds: list[float]
    precision: list[float]
    recall: list[float]
    threshold: float  # the model's own


def classify_pages(extractor: Extractor, pages: Sequence[Page], format: str) -> list[tuple[Page, SystemOutput]]:
    """noiseclf's blocks and probabilities for each page, exactly as evaluation ran it (unreadable pages skipped)."""
    system = NoiseclfSystem(extractor)
    outputs = []
    for page in pages:
        try:
            out = system.run(page, flattened_input(page) if format == "text" else None)
        except NoiseclfError:
            continue
        if out.doc is not None and out.doc.blocks:
            outputs.append((page, out))
    return outputs


def _word_pr(texts: Sequence[str], proba: np.ndarray, gold: str,
             thresholds: np.ndarray = THRESHOLDS) -> tuple[np.ndarray, np.ndarray]:
    """One page's WCXB word precision and recall at each threshold, keeping the blocks at or above it."""
    vocab: dict[str, int] = {}
    gold_ids = [vocab.setdefault(w, len(vocab)) for w in metrics.wcxb_words(gold)]
    block_of, word_of = [], []
    for i, text in enumerate(texts):
        ids = [vocab.setdefault(w, len(vocab)) for w in metrics.wcxb_words(text)]
        block_of += [i] * len(ids)
        word_of += ids
    counts = sparse.csr_matrix((np.ones(len(word_of)), (block_of, word_of)), shape=(len(texts), max(len(vocab), 1)))
    keep = (proba[None, :] >= thresholds[:, None]).astype(float)
    pred = np.asarray((counts.T @ keep.T).T)
    n_pred = pred.sum(axis=1)
    if not gold_ids:  # word_prf: empty gold scores 1 only for an empty prediction
        score = (n_pred == 0).astype(float)
        return score, score
    overlap = np.minimum(pred, np.bincount(gold_ids, minlength=pred.shape[1])).sum(axis=1)
    precision = np.divide(overlap, n_pred, out=np.zeros_like(overlap), where=n_pred > 0)
    return precision, overlap / len(gold_ids)


def threshold_curve(outputs: Sequence[tuple[Page, SystemOutput]], corpus: str, threshold: float) -> Curve:
    """noiseclf's P/R at a grid of thresholds and its own: word P/R averaged over pages, or snippet P/R summed."""
    grid = np.union1d(THRESHOLDS, [threshold])
    if corpus.startswith("trafilatura_eval"):
        prfs = []
        for t in grid:
            counts = [metrics.snippet_counts("\n\n".join(b.text for b, p in zip(out.doc.blocks, out.proba) if p >= t),
                                             page.with_snippets, page.without_snippets) for page, out in outputs]
            prfs.append(metrics.snippet_prf(counts))
        return Curve(corpus, "snippet", grid.tolist(), [p.precision for p in prfs], [p.recall for p in prfs],
                     threshold)
    pr = [_word_pr([b.text for b in out.doc.blocks], out.proba, page.gold_text, grid) for page, out in outputs]
    precision = np.mean([p for p, _ in pr], axis=0) if pr else np.full(len(grid), np.nan)
    recall = np.mean([r for _, r in pr], axis=0) if pr else np.full(len(grid), np.nan)
    return Curve(corpus, "word", grid.tolist(), precision.tolist(), recall.tolist(), threshold)


def class_shares(report: CorpusReport, pages: Sequence[Page]) -> dict[str, float] | None:
    """Share of each L3S class's gold tokens found in a system's output; None unless texts were kept."""
    if not any(p.gold for p in report.pages):
        return None
    by_key = {page.key: page for page in pages}
    kept: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for score in report.pages:
        runs = by_key[score.key].gold_runs
        for cls, name in CLASS_NAMES.items():
            k, t = metrics.related_kept(score.output, [r.text for r in runs if r.cls == cls])
            kept[name] += k
            total[name] += t
    return {name: kept[name] / total[name] for name in CLASS_NAMES.values() if total[name]}


def block_class_shares(outputs: Sequence[tuple[Page, SystemOutput]]) -> dict[str, float]:
    """Share of each L3S class's words in the blocks noiseclf kept, classes from the block labels."""
    kept = np.zeros(len(BlockClass))
    total = np.zeros(len(BlockClass))
    for page, out in outputs:
        classes = label_blocks(out.doc, page).classes
        words = block_words(out.doc)
        np.add.at(total, classes, words)
        np.add.at(kept, classes[out.keep], words[out.keep])
    return {CLASS_NAMES[BlockClass(c)]: float(kept[c] / total[c]) for c in CLASS_NAMES if total[c]}


def validation_blocks(pages: Sequence[Page], format: str) -> tuple[np.ndarray, np.ndarray]:
    """Features and gold content labels of every block of `pages`, segmented as training segments them."""
    X, y = [], []
    for page in pages:
        try:
            doc = page_document(page, format)  # type: ignore[arg-type]
        except NoiseclfError:
            continue
        if doc.blocks:
            X.append(block_features(doc))
            y.append(label_blocks(doc, page).content)
    if not X:
        return np.zeros((0, len(FEATURE_NAMES)), np.float32), np.zeros(0, bool)
    return np.vstack(X).astype(np.float32), np.concatenate(y)


def _auc(proba: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC by the rank-sum formula: sklearn's roc_auc_score validates its input too slowly to call per shuffle."""
    ranks = rankdata(proba)
    positive = np.asarray(y, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def feature_importance(extractor: Extractor, pages: Sequence[Page], format: str = "html", top: int = 25,
                       n_repeats: int = 3, seed: int = 0, max_blocks: int = 40_000) -> list[dict]:
    """Permutation importance (drop in ROC AUC) of the first pass's features on held-out pages' blocks, top `top`.

    Each repeat shuffles a sample of at most `max_blocks` blocks: the ranking is stable well below
    the full set, and every feature costs one scoring pass per repeat.
    """
    from sklearn.inspection import permutation_importance

    from .model import content_proba  # scores a sample through the packed trees: the same scores, far faster

    model, manifest = extractor.classifier(format), extractor.model_for(format)[1]
    X, y = validation_blocks(pages, manifest.format)
    if len(np.unique(y)) < 2:
        return []
    result = permutation_importance(model.first_, X, y, scoring=lambda _, X, y: _auc(content_proba(model.first_, X), y),
                                    n_repeats=n_repeats, random_state=seed, n_jobs=1,
                                    max_samples=min(len(X), max_blocks))
    order = np.argsort(-result.importances_mean)[:top]
    return [{"feature": FEATURE_NAMES[i], "mean": float(result.importances_mean[i]),
             "std": float(result.importances_std[i])} for i in order]


# --- figures ----------------------------------------------------------------------------------


def _colours(systems: Sequence[str]) -> dict[str, str]:
    """A fixed colour per system, in the order given (the baseline first)."""
    return {s: f"C{i % 10}" for i, s in enumerate(systems)}


def _systems(reports: Sequence[CorpusReport], baseline: str = BASELINE) -> list[str]:
    """Systems in first-seen order, baseline first."""
    seen = list(dict.fromkeys(r.system for r in reports))
    return sorted(seen, key=lambda s: s != baseline)


def _corpora(reports: Sequence[CorpusReport]) -> list[str]:
    return list(dict.fromkeys(corpus_label(r) for r in reports))


def _panels(n: int, width: float, height: float, sharey: bool = True) -> tuple[Figure, list]:
    """A figure with n panels, at most three a row; unused cells hidden."""
    ncols = min(3, max(n, 1))
    nrows = math.ceil(max(n, 1) / ncols)
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(nrows, ncols, sharey=sharey, squeeze=False)).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _legend(fig: Figure, axes: Sequence, ncols: int = 4) -> None:
    """One legend above the panels, each label once."""
    entries: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    fig.legend(list(entries.values()), list(entries), loc="outside upper center", ncols=min(len(entries), ncols),
               fontsize=8, frameon=False)


def f1_figure(reports: Sequence[CorpusReport]) -> Figure:
    """Grouped bars: each corpus's primary F1 for every system."""
    systems, labels = _systems(reports), _corpora(reports)
    score = {(corpus_label(r), r.system): r.primary for r in reports}
    fig = Figure(figsize=(min(14.0, 2.0 + 0.3 * len(labels) * len(systems)), 4.2), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(len(systems), 1)
    colours = _colours(systems)
    for i, system in enumerate(systems):
        x = np.arange(len(labels)) + (i - (len(systems) - 1) / 2) * width
        ax.bar(x, [score.get((c, system), np.nan) for c in labels], width, label=system, color=colours[system])
    ax.set_xticks(np.arange(len(labels)),
                  [f"{c}\n{PRIMARY[c.split(':')[0]].replace('_', ' ')}" for c in labels], fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1 (each corpus's own metric)")
    ax.grid(axis="y", alpha=0.3)
    _legend(fig, [ax], ncols=8)
    return fig


def page_f1_figure(reports: Sequence[CorpusReport]) -> Figure:
    """Per-page primary scores as box plots (mean as a triangle), one panel per corpus, one box per system."""
    systems, labels = _systems(reports), _corpora(reports)
    colours = _colours(systems)
    by = {(corpus_label(r), r.system): r.per_page() for r in reports}
    fig, axes = _panels(len(labels), max(3.0, 0.45 * len(systems) + 1.0), 3.4)
    for ax, label in zip(axes, labels):
        present = [s for s in systems if (label, s) in by]
        data = [by[(label, s)][~np.isnan(by[(label, s)])] for s in present]
        boxes = ax.boxplot(data, showmeans=True, patch_artist=True, flierprops={"markersize": 2},
                           medianprops={"color": "black"}, meanprops={"markerfacecolor": "white",
                                                                        "markeredgecolor": "black", "markersize": 4})
        for patch, system in zip(boxes["boxes"], present):
            patch.set_facecolor(colours[system])
            patch.set_alpha(0.8)
        ax.set_xticks(np.arange(1, len(present) + 1), present, rotation=60, fontsize=8)
        ax.set_title(f"{label} ({len(data[0]) if data else 0} pages)", fontsize=9)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("page score (primary metric)")
    return fig


def threshold_figure(curves: Sequence[Curve], reports: Sequence[CorpusReport]) -> Figure:
    """noiseclf's precision against recall as the threshold moves, its chosen threshold and the peers as points."""
    colours = _colours(_systems(reports))
    fig, axes = _panels(len(curves), 3.6, 3.3, sharey=False)
    for ax, curve in zip(axes, curves):
        colour = colours.get(BASELINE, "C0")
        ax.plot(curve.recall, curve.precision, "-", color=colour, label=f"{BASELINE} as the threshold moves")
        at = curve.thresholds.index(curve.threshold)
        ax.plot([curve.recall[at]], [curve.precision[at]], "o", color=colour, markersize=7,
                label=f"{BASELINE} at its threshold")
        values = [*curve.recall, *curve.precision]
        for r in reports:
            p, rec = r.summary.get(f"{curve.metric}_precision"), r.summary.get(f"{curve.metric}_recall")
            if corpus_label(r) == curve.corpus and r.system != BASELINE and p is not None and rec is not None:
                ax.plot([rec], [p], "s", color=colours[r.system], label=r.system)
                values += [p, rec]
        low = max(0.0, math.floor((np.nanmin(values) - 0.05) * 10) / 10) if values else 0.0
        ax.set_xlim(low, 1.01)
        ax.set_ylim(low, 1.01)
        ax.set_title(f"{curve.corpus} (threshold {curve.threshold:g})", fontsize=9)
        ax.set_xlabel(f"{curve.metric} recall")
        ax.set_ylabel(f"{curve.metric} precision")
        ax.grid(alpha=0.3)
    _legend(fig, axes)
    return fig


def class_share_figure(shares: Mapping[str, Mapping[str, float]]) -> Figure:
    """Grouped bars: for each L3S class, the share each system kept (noiseclf's block-label figure hatched)."""
    classes = list(CLASS_NAMES.values())
    systems = list(shares)
    colours = _colours([s for s in systems if not s.endswith("(block labels)")])
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(len(systems), 1)
    for i, system in enumerate(systems):
        x = np.arange(len(classes)) + (i - (len(systems) - 1) / 2) * width
        blocks = system.endswith("(block labels)")
        ax.bar(x, [shares[system].get(c, np.nan) for c in classes], width, label=system,
               color=colours.get(system.removesuffix(" (block labels)"), "C0"), hatch="///" if blocks else None,
               alpha=0.6 if blocks else 1.0)
    ax.set_xticks(np.arange(len(classes)), classes)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of the class's gold text kept")
    ax.grid(axis="y", alpha=0.3)
    _legend(fig, [ax], ncols=5)
    return fig


def importance_figure(importance: Sequence[dict]) -> Figure:
    """Horizontal bars of the top features' permutation importance, largest on top."""
    fig = Figure(figsize=(6, 0.25 * len(importance) + 1.2), layout="constrained")
    ax = fig.subplots()
    rows = list(reversed(importance))
    ax.barh([r["feature"] for r in rows], [r["mean"] for r in rows], xerr=[r["std"] for r in rows], color="C0")
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("drop in ROC AUC when shuffled (first pass)")
    ax.grid(axis="x", alpha=0.3)
    return fig


# --- the report -------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def markdown_table(rows: Sequence[Mapping], columns: Sequence[str]) -> str:
    """A GitHub Markdown table of `rows` restricted to `columns`."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _model_lines(model: Extractor | None) -> list[str]:
    if model is None:
        return ["No model given: threshold curves, block-level class shares and feature importance are not drawn."]
    lines = []
    for fmt, m in model.manifests.items():
        data = ", ".join(map(_training_source, m.training_data)) or "unknown"
        lines.append(f"- {fmt} model: noiseclf {m.noiseclf_version}, threshold {m.threshold}, trained on {data}, "
                     f"created {m.created or 'unknown'}, sha256 `{m.model_sha256[:12]}`")
    if model.threshold is not None:
        lines.append(f"- run at threshold {model.threshold:g} (`--threshold`), not the models' own")
    return lines


def _training_source(record: Mapping) -> str:
    """A manifest's training source, a corpus (CORPUS[:SPLIT]) or a file of your own pages, with its pages."""
    where = (corpora.source_name(record["corpus"], record.get("split")) if "corpus" in record
             else record.get("pages_file", "unknown"))
    return f"{where} ({record.get('pages', '?')} pages)"


@dataclass
class _Figures:
    """Figure data computed for a report, kept for the JSON."""

    curves: list[Curve]
    shares: dict[str, dict[str, float]]
    importance: list[dict]


def _l3s_shares(reports: Sequence[CorpusReport], label: str, pages: Sequence[Page],
                outputs: Sequence[tuple[Page, SystemOutput]]) -> dict[str, dict[str, float]]:
    """Class shares of every system on an L3S split, noiseclf first and then by its block labels."""
    shares = {}
    for r in sorted((r for r in reports if corpus_label(r) == label), key=lambda r: r.system != BASELINE):
        if (found := class_shares(r, pages)) is not None:
            shares[r.system] = found
        if r.system == BASELINE and outputs:
            shares[f"{BASELINE} (block labels)"] = block_class_shares(outputs)
    return shares


def _figure_data(reports: Sequence[CorpusReport], model: Extractor | None, pages: Mapping[str, Sequence[Page]],
                 validation_pages: Sequence[Page]) -> _Figures:
    """Threshold curves and block class shares (one classify pass per corpus), text class shares, importance.

    Single-threaded like the evaluation: many small tree predictions only lose time to OpenMP threads.
    """
    curves: list[Curve] = []
    shares: dict[str, dict[str, float]] = {}
    format = reports[0].format if reports else "html"
    with threadpool_limits(limits=1, user_api="openmp"):
        for label in _corpora(reports):
            corpus_pages = pages.get(label, ())
            outputs = classify_pages(model, corpus_pages, format) if model is not None else []
            if outputs:
                curves.append(threshold_curve(outputs, label, model.threshold_for(format)))
            if label.startswith("l3s_gn1"):
                shares.update(_l3s_shares(reports, label, corpus_pages, outputs))
        importance = feature_importance(model, validation_pages, format) if model and validation_pages else []
    return _Figures(curves, shares, importance)


def _save(fig: Figure, path: Path) -> str:
    _write_whole(path, lambda tmp: fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".")))
    return path.name


def _write_whole(path: Path, write: Callable[[Path], object]) -> None:
    """Write `path` through a hidden file beside it, moved into place once complete: a failed write (a full
    disk, a size limit) leaves the old file, never half of a new one."""
    tmp = path.with_name(f".{path.name}.partial")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _finite(value: object) -> object:
    """`value` with NaN and infinite floats as None: JSON has no NaN, and strict readers refuse it."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


# The files `write_report` writes into its folder, besides the JSON (report.json unless named elsewhere).
REPORT_FILES = ("report.md", "f1_by_corpus.png", "page_scores.png", "threshold.png", "l3s_classes.png",
                "importance.png")


def write_report(reports: Sequence[CorpusReport], out_dir: Path, model: Extractor | None = None,
                 pages: Mapping[str, Sequence[Page]] | None = None, *, validation_pages: Sequence[Page] = (),
                 systems: Mapping[str, str] | None = None, json_path: Path | None = None,
                 extra: Mapping | None = None) -> Path:
    """Write the PNGs, report.md (tables and images) and the JSON into out_dir; return report.md's path.

    `pages` maps `corpus:split` (corpus_label) to the pages the reports scored: with `model`, they give
    the threshold curves; on L3S-GN1 the class shares (these need reports run with keep_texts=True).
    `validation_pages` are held-out pages for the feature importance; `systems` maps names to versions.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = Path(json_path) if json_path else out_dir / "report.json"
    comparisons = compare_systems(reports)
    rows = summary_rows(reports, comparisons)
    data = _figure_data(reports, model, pages or {}, validation_pages)
    md = [f"# noiseclf evaluation report\n\nGenerated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. "
          f"Regenerate the shipped model's report with\n\n    {REGENERATE}\n",
          "## Systems\n", *_model_lines(model)]
    md += [f"- {name}: {v}" for name, v in (systems or {}).items()]
    delta = f"{BASELINE}_minus_system"
    md += ["\n## Scores\n",
           "F1, precision and recall are each corpus's own metric; CPU ms per page on the process clock. "
           f"`{delta}`: {BASELINE}'s F1 minus the system's on the same pages, with its 95% interval from "
           "1,000 paired page resamples (the corpus's metric recomputed on each); `*` when it excludes 0.\n",
           markdown_table(rows, ["corpus", "format", "system", "metric", "f1", "precision", "recall", "cpu_ms_mean",
                                 "cpu_ms_median", "related_kept", "errors", delta]),
           f"\n![F1 per corpus]({_save(f1_figure(reports), out_dir / 'f1_by_corpus.png')})\n",
           "## Per-page scores\n",
           f"![per-page scores]({_save(page_f1_figure(reports), out_dir / 'page_scores.png')})\n",
           "## Precision and recall as the threshold moves\n"]
    if data.curves:
        md += ["noiseclf's block probabilities re-thresholded (word metric: means of page precision and recall; "
               "snippets on trafilatura_eval); the dot is the model's threshold, squares are the peers.\n",
               f"![threshold curves]({_save(threshold_figure(data.curves, reports), out_dir / 'threshold.png')})\n"]
    else:
        md.append("Not drawn: needs the model and the scored pages.\n")
    md.append("## L3S-GN1: share of each class kept\n")
    if data.shares:
        share_rows = [{"system": s, **v} for s, v in data.shares.items()]
        md += ["Share of each annotated class's gold tokens found in the output (4-token shingles of each run, "
               "single tokens for runs under 4 tokens); `(block labels)`: words of the kept blocks by their "
               "aligned gold class. Headline and full text are the content; the rest should be dropped.\n",
               markdown_table(share_rows, ["system", *CLASS_NAMES.values()]),
               f"\n![class shares]({_save(class_share_figure(data.shares), out_dir / 'l3s_classes.png')})\n"]
    else:
        md.append("Not drawn: needs L3S-GN1 pages scored with their output texts kept.\n")
    md.append("## Feature importance (first pass)\n")
    if data.importance:
        md += [f"Permutation importance on the blocks of {len(validation_pages)} held-out pages: mean drop in "
               "ROC AUC over 3 shuffles of each feature, top 25.\n",
               f"![feature importance]({_save(importance_figure(data.importance), out_dir / 'importance.png')})\n"]
    else:
        md.append("Not drawn: needs the model and held-out pages with both classes of blocks.\n")
    location = json_path.name if json_path.parent.resolve() == out_dir.resolve() else str(json_path)
    md.append(f"## Data\n\nAll figures and per-page scores: [{json_path.name}]({location}).\n")
    write_json(reports, json_path, systems, {"threshold_curves": [asdict(c) for c in data.curves],
                                             "l3s_class_shares": data.shares,
                                             "feature_importance": data.importance, **(extra or {})})
    path = out_dir / "report.md"
    _write_whole(path, lambda tmp: tmp.write_text("\n".join(md)))
    return path


def write_json(reports: Sequence[CorpusReport], path: Path, systems: Mapping[str, str] | None = None,
               extra: Mapping | None = None) -> Path:
    """The JSON report: headline table, summary rows with comparisons, `extra`, and every page's scores."""
    comparisons = compare_systems(reports)
    payload = {"table": reports_table(reports), "summary": summary_rows(reports, comparisons),
               "comparisons": [asdict(c) | {"significant": c.significant} for c in comparisons],
               "systems": dict(systems or {}), **(extra or {}), "reports": [r.to_json() for r in reports]}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_whole(path, lambda tmp: tmp.write_text(json.dumps(_finite(payload), indent=1, allow_nan=False)))
    return path


def held_out_pages(pages: Mapping[str, Sequence[Page]], root: Path | None = None, n: int = 100) -> list[Page]:
    """Pages for the feature importance: WCXB test (never trained on), from `pages` or loaded; [] without it."""
    if pages.get("wcxb:test"):
        return list(pages["wcxb:test"][:n])
    if not corpora.corpus_available("wcxb", root):
        return []
    return list(corpora.load_corpus("wcxb", "test", root=root, limit=n))
