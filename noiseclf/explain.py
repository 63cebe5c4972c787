"""Why a block was kept or dropped: per-block feature attributions, for the terminal and as HTML.

Method (occlusion against the page's median block). For every block i and candidate feature j,
the feature's contribution is

    contribution[i, j] = p(x_i) - p(x_i with feature j set to the page's median value of j)

so a positive number means the block's actual value pushed it towards content, compared with a
typical block of the same page, and a negative one towards boilerplate. Two kinds are reported:

* own features ("link_density", "hint_nav", ...) on the first pass of the classifier, the
  gradient-boosted trees that see only the block's own feature row (its text shape, layout, tag
  path hints and page-relative statistics);
* context ("ctx:p@-1", "ctx:p_mean_5", ...) on the second pass of a two-pass model: the same
  occlusion over the inputs that summarise the first-pass scores of the neighbouring blocks,
  measured on the final probability with the block's own inputs held fixed.

Candidates are the features with the largest total split gain in the first pass's trees (all
features for estimators without trees) that vary on the page, so the cost is one vectorised
prediction over (blocks x candidates) rows. Occlusion measures one feature at a time: features
that act together (several layout hints) can each show a small number while jointly mattering,
and the deltas of the two kinds are on different passes, so they do not add up to the probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .features import (
    FEATURE_NAMES,
    NEIGHBOUR_NAMES,
    block_features,
    block_path_ids,
    block_words,
    neighbour_features,
)
from .inference import Extractor, page_scores
from .model import AveragedTrees, content_proba
from .render import html_escaped
from .scoring import page_confidence
from .segmentation import segment
from .types import Block, Document

CANDIDATES = 40  # own features tried per page, by global importance
MIN_DELTA = 0.005  # smaller contributions are not shown
_CHUNK_ROWS = 40_000  # rows per occlusion prediction: bounds memory, and stays on model.content_proba's one thread
METHOD = (
    "Each contribution is the change in the content probability when one input of the block is "
    "replaced by its median over the page's blocks: positive pushed the block towards content, negative "
    "towards boilerplate. Own features are measured on the first pass (the block's own feature row); "
    "ctx: inputs are the second pass's summaries of the neighbouring blocks' first-pass scores, measured "
    "on the final probability. One feature at a time, so correlated features can each look small."
)


@dataclass(frozen=True, slots=True)
class Contribution:
    """How much one input moved a block's content probability (see the module docstring)."""

    feature: str
    value: float  # the block's value of the input
    delta: float  # probability change against the page's median block; > 0 towards content


@dataclass(frozen=True, slots=True)
class BlockExplanation:
    """A block with its verdict and the inputs that weighed most for it."""

    index: int
    block: Block
    probability: float
    first_pass: float
    keep: bool
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True, slots=True)
class PageExplanation:
    """Every block of a page, explained, plus the page-level figures."""

    source: str
    title: str
    format: str
    threshold: float
    confidence: float
    two_pass: bool
    blocks: tuple[BlockExplanation, ...]
    routed: bool = False  # scored with the page-type specialist blended in

    @property
    def kept(self) -> int:
        return sum(b.keep for b in self.blocks)


def global_importance(estimator: object, n_features: int) -> np.ndarray:
    """Total split gain per feature of gradient-boosted trees (summed over the members of `AveragedTrees`);
    impurity importances or ones otherwise."""
    if isinstance(estimator, AveragedTrees):
        return np.sum([global_importance(e, n_features) for e in estimator.estimators_], axis=0)
    predictors = getattr(estimator, "_predictors", None)
    if predictors is not None:
        importance = np.zeros(n_features)
        for trees in predictors:
            for tree in trees:
                split = ~tree.nodes["is_leaf"].astype(bool)
                np.add.at(importance, tree.nodes["feature_idx"][split], tree.nodes["gain"][split])
        return importance
    found = getattr(estimator, "feature_importances_", None)
    return np.asarray(found, float) if found is not None else np.ones(n_features)


def occlusion(estimator: object, X: np.ndarray, base: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """(blocks, columns) probability change when each column of each row is set to the page median."""
    reference = np.median(X, axis=0)
    k = len(columns)
    out = np.zeros((len(X), k), np.float32)
    if not k:
        return out
    step = max(1, _CHUNK_ROWS // k)
    for start in range(0, len(X), step):
        rows = X[start: start + step]
        stacked = np.repeat(rows, k, axis=0)
        stacked[np.arange(len(stacked)), np.tile(columns, len(rows))] = np.tile(reference[columns], len(rows))
        p = content_proba(estimator, stacked).reshape(len(rows), k)
        out[start: start + step] = base[start: start + step, None] - p
    return out


def _candidates(importance: np.ndarray, X: np.ndarray, n: int) -> np.ndarray:
    """The n most important features whose value differs from the median on at least one block."""
    varies = (X != np.median(X, axis=0)).any(axis=0) & (importance > 0)
    order = np.argsort(-importance, kind="stable")
    return order[varies[order]][:n]


@dataclass(frozen=True)
class _Attribution:
    """One scoring of a page's blocks by the trees, with each block's candidate inputs and their deltas."""

    trees: np.ndarray  # the model's probability before the thread rule
    first: np.ndarray  # the first pass's
    routed: bool
    names: list[str]
    values: np.ndarray
    deltas: np.ndarray


def _attribute(model, doc: Document, X: np.ndarray, words: np.ndarray, candidates: int) -> _Attribution:
    """Score a page's blocks as the model does, occluding its candidate inputs one at a time."""
    paths = block_path_ids(doc)
    p1 = content_proba(model.first_, X)
    own_cols = _candidates(global_importance(model.first_, X.shape[1]), X, candidates)
    names = [FEATURE_NAMES[j] for j in own_cols]
    values, deltas = X[:, own_cols], occlusion(model.first_, X, p1, own_cols)
    proba = p1
    if model.two_pass:
        X2 = np.hstack([X, neighbour_features(p1, words, paths)])
        proba = content_proba(model.second_, X2)
        ctx_cols = np.arange(X.shape[1] + 1, X2.shape[1])  # the neighbours' scores, not p_self
        names += [f"ctx:{NEIGHBOUR_NAMES[j - X.shape[1]]}" for j in ctx_cols]
        values = np.hstack([values, X2[:, ctx_cols]])
        deltas = np.hstack([deltas, occlusion(model.second_, X2, proba, ctx_cols)])
    routing = model.routing()
    routed = routing is not None and bool(routing.routes(X, None)[0])
    if routed:  # the blend, and each own feature's change to it when occluded in both models
        special = routing.special(X)
        general, proba = proba, routing.mix(proba, special)
        own = slice(0, len(own_cols))
        occluded = routing.mix(general[:, None] - deltas[:, own],
                               special[:, None] - occlusion(model.special_, X, special, own_cols))
        deltas[:, own] = proba[:, None] - occluded
    return _Attribution(proba, p1, routed, names, values, deltas)


def explain_document(extractor: Extractor, doc: Document, *, top: int = 5,
                     candidates: int = CANDIDATES) -> PageExplanation:
    """Classify a segmented page as `Extractor.score` does (`inference.page_scores`: the thread rule, a page
    that keeps almost nothing without its thread scored again without it, teaser cards dropped) and
    attribute each block's probability to its top inputs."""
    model, threshold = extractor.classifier(doc.format), extractor.threshold_for(doc.format)
    if not doc.blocks:
        return PageExplanation(doc.source, doc.shown_title, doc.format, threshold, 0.0, model.two_pass, ())
    scorings: list[_Attribution] = []  # the page's, then the page's without its thread if scored again

    def attributed(part: Document, X: np.ndarray, part_words: np.ndarray) -> np.ndarray:
        scorings.append(_attribute(model, part, X, part_words, candidates))
        return scorings[-1].trees

    words = block_words(doc)
    scores = page_scores(doc, block_features(doc), words, attributed, model)
    # each block's row in the scoring its probability comes from
    rows = np.where(scores.rescored, np.cumsum(scores.rescored) - 1, np.arange(len(doc.blocks)))
    keep = scores.proba >= threshold
    blocks = []
    for i, b in enumerate(doc.blocks):
        a, r = scorings[-1 if scores.rescored[i] else 0], rows[i]
        if scores.thread[i] or scores.cards[i]:
            rule = "after_story_thread" if scores.thread[i] else "card_teaser"
            reasons = _rule_first(rule, float(a.trees[r]), _top(a.names, a.values[r], a.deltas[r], top - 1))
        else:
            reasons = _top(a.names, a.values[r], a.deltas[r], top)
        blocks.append(BlockExplanation(i, b, float(scores.proba[i]), float(a.first[r]), bool(keep[i]), reasons))
    return PageExplanation(doc.source, doc.shown_title, doc.format, threshold,
                           page_confidence(scores.proba, words, keep, model), bool(model.two_pass), tuple(blocks),
                           scorings[0].routed)


def _rule_first(rule: str, before: float, others: tuple[Contribution, ...]) -> tuple[Contribution, ...]:
    """A block a rule after the trees dropped (the thread rule, a teaser card): the rule is the reason,
    whatever the trees scored."""
    return (Contribution(rule, 1.0, -before),) + others


def _top(names: list[str], values: np.ndarray, deltas: np.ndarray, k: int) -> tuple[Contribution, ...]:
    order = np.argsort(-np.abs(deltas), kind="stable")[:k]
    return tuple(Contribution(names[j], float(values[j]), float(deltas[j])) for j in order
                 if abs(deltas[j]) >= MIN_DELTA)


def explain(extractor: Extractor, content: str | bytes, *, format: str = "auto", source: str = "",
            top: int = 5) -> PageExplanation:
    """Segment a page (HTML or text) and explain every block's verdict."""
    return explain_document(extractor, segment(content, format=format, source=source), top=top)


def describe(contributions: tuple[Contribution, ...]) -> str:
    """Contributions as one line: `name=value +delta`, strongest first."""
    return ", ".join(f"{c.feature}={c.value:.3g} {c.delta:+.2f}" for c in contributions)


def rich_table(exp: PageExplanation, width: int = 90):
    """A rich Table of the blocks: #, keep, prob, tag, text excerpt, top features."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(f"{exp.source or 'page'}: {exp.title}"), caption=_summary(exp), show_lines=False)
    for name, justify in (("#", "right"), ("keep", "center"), ("prob", "right"), ("tag", "left"),
                          ("text", "left"), ("top features", "left")):
        table.add_column(name, justify=justify, overflow="fold")
    for b in exp.blocks:
        text = b.block.text if len(b.block.text) <= width else b.block.text[: width - 1] + "…"
        style = "green" if b.keep else "bright_black"
        table.add_row(str(b.index), "✓" if b.keep else "·", f"{b.probability:.2f}", b.block.tag, Text(text),
                      describe(b.contributions), style=style)
    return table


def _summary(exp: PageExplanation) -> str:
    return (f"{exp.kept} of {len(exp.blocks)} blocks kept at threshold {exp.threshold:.3g}; "
            f"page confidence {exp.confidence:.2f}; {'two-pass' if exp.two_pass else 'one-pass'} model"
            + ("; page-type specialist blended in" if exp.routed else ""))


_CSS = """
body { font: 16px/1.5 Georgia, serif; max-width: 52em; margin: 2em auto; padding: 0 1em; color: #222; }
.method { font: 14px/1.4 sans-serif; background: #f6f6f6; padding: .6em 1em; border-radius: 4px; }
.blk { margin: .3em 0; padding: .2em .5em; border-left: 4px solid transparent; }
.keep { background: #e8f5e9; border-left-color: #2e7d32; }
.drop { color: #9e9e9e; text-decoration: line-through; }
.h1 { font-size: 1.6em; } .h2 { font-size: 1.35em; } .h3 { font-size: 1.15em; }
.meta { font: 12px sans-serif; color: #666; margin-right: .6em; text-decoration: none; display: inline-block; }
"""


def report_html(exp: PageExplanation) -> str:
    """A standalone HTML report: the page's blocks, kept ones green, dropped ones struck and grey.

    Hovering a block shows its probability and top contributions (the `title` attribute).
    """
    esc = html_escaped
    rows = []
    for b in exp.blocks:
        tip = f"p={b.probability:.3f} (first pass {b.first_pass:.3f}); " + (describe(b.contributions) or "no contribution")
        classes = f"blk {'keep' if b.keep else 'drop'}" + (f" h{b.block.heading}" if b.block.heading else "")
        rows.append(f'<div class="{classes}" title="{esc(tip)}"><span class="meta">#{b.index} {esc(b.block.tag)} '
                    f'{b.probability:.2f}</span>{esc(b.block.text)}</div>')
    return ("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>noiseclf explain: {esc(exp.title or exp.source)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<h1>{esc(exp.title or exp.source or 'page')}</h1>\n<p>{esc(exp.source)}: {esc(_summary(exp))}.</p>\n"
            f"<p class=\"method\"><b>How to read this.</b> Green blocks are kept as main content, grey struck "
            f"ones dropped. Hover over a block for its probability and the inputs that weighed most. "
            f"{esc(METHOD)}</p>\n" + "\n".join(rows) + "\n</body>\n</html>\n")


def write_report(exp: PageExplanation, path: Path) -> Path:
    """Write the HTML report of an explanation."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_html(exp), encoding="utf-8")
    return path
