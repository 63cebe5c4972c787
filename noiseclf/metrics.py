"""Extraction metrics of the field as pure functions over strings, mirroring each reference scorer.

- AEB shingle P/R/F1: scrapinghub/article-extraction-benchmark, evaluate.py.
- WCXB word P/R/F1: Murrough-Foley/web-content-extraction-benchmark, evaluate.py.
- Snippet with/without counts: adbar/trafilatura, tests/eval_common.py (used by tests/evaluate.py).
- Block P/R/F1 (micro), L3S related content kept, and a paired page bootstrap of each corpus score.
- Title match: a page's title as its gold gives it (WCXB's, CleanEval's), ignoring case, white space and quotes.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

SHINGLE_N = 4
# AEB compiles r'\w+' with UNICODE|MULTILINE|IGNORECASE|DOTALL; none of those flags changes what
# \w+ matches in a str pattern, and AEB does not lowercase, so shingles are case-sensitive.
_TOKEN_RE = re.compile(r"\w+")
_SPACE_RE = re.compile(r"\s+")

Shingle = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PRF:
    """Precision, recall and F1 over `n` units (pages, blocks or snippets), the one result shape."""

    precision: float
    recall: float
    f1: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        """The scores as a plain dict, for JSON reports and tables."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Confusion:
    """Confusion counts that add up across pages; snippet and block scores are micro-averaged."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def __add__(self, other: Confusion) -> Confusion:
        return Confusion(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn)

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def accuracy(self) -> float:
        """(TP+TN)/all, 0.0 when there is nothing counted (trafilatura's convention)."""
        return (self.tp + self.tn) / self.total if self.total else 0.0

    def prf(self) -> PRF:
        """P/R/F1 with 0.0 for an empty denominator and F1 = 2TP/(2TP+FP+FN), as trafilatura scores."""
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1_denominator = 2 * self.tp + self.fp + self.fn
        f1 = 2 * self.tp / f1_denominator if f1_denominator else 0.0
        return PRF(precision, recall, f1, self.total)


# Trafilatura's snippet tallies are a confusion matrix over snippets.
SnippetCounts = Confusion


def _harmonic(precision: float, recall: float) -> float:
    """Harmonic mean of two averages; 0.0 when both are 0 (the references divide by zero there)."""
    total = precision + recall
    return 2 * precision * recall / total if total else 0.0


# --- ScrapingHub AEB: 4-token shingles --------------------------------------------------------


def _tokens(text: str) -> list[str]:
    """AEB tokens: Unicode \\w+ runs, case kept."""
    return _TOKEN_RE.findall(text)


def _ngrams(tokens: Sequence[str], n: int) -> Counter[Shingle]:
    """Multiset of the n-token windows of `tokens` (none when there are fewer than n)."""
    return Counter(zip(*(tokens[i:] for i in range(n))))


def _aeb_shingles(text: str) -> Counter[Shingle]:
    """AEB shingles: 4-token windows, or one shorter shingle of all tokens when there are 1-3."""
    tokens = _tokens(text)
    if 0 < len(tokens) < SHINGLE_N:
        return Counter([tuple(tokens)])
    return _ngrams(tokens, SHINGLE_N)


def shingle_counts(pred: str, gold: str) -> tuple[float, float, float]:
    """One page's AEB (tp, fp, fn) over shingle multisets, scaled to sum to 1 so pages weigh equally."""
    pred_shingles = _aeb_shingles(pred)
    gold_shingles = _aeb_shingles(gold)
    tp = sum((pred_shingles & gold_shingles).values())
    fp = sum(pred_shingles.values()) - tp
    fn = sum(gold_shingles.values()) - tp
    total = tp + fp + fn
    if not total:
        return (0.0, 0.0, 0.0)
    return (tp / total, fp / total, fn / total)


def _mean_or_nan(values: Sequence[float]) -> float:
    """statistics.mean as AEB averages (exact, then rounded); NaN where AEB would raise on no pages."""
    return statistics.mean(values) if values else math.nan


def shingle_prf(pages: Sequence[tuple[float, float, float]]) -> PRF:
    """AEB corpus score: mean page precision (pages with output), mean page recall (pages with gold), F1 of the two."""
    precision = _mean_or_nan([tp / (tp + fp) for tp, fp, _ in pages if tp + fp > 0])
    recall = _mean_or_nan([tp / (tp + fn) for tp, _, fn in pages if tp + fn > 0])
    return PRF(precision, recall, _harmonic(precision, recall), len(pages))


# --- WCXB: bag-of-words overlap ---------------------------------------------------------------


def wcxb_words(text: str) -> list[str]:
    """WCXB tokens: the text lowercased first, then Unicode \\w+ runs."""
    return _TOKEN_RE.findall(text.lower())


def word_prf(pred: str, gold: str) -> PRF:
    """One page's WCXB word P/R/F1; empty gold scores 1 only for an empty prediction, empty prediction scores 0."""
    pred_words = wcxb_words(pred)
    gold_words = wcxb_words(gold)
    if not gold_words:
        score = 0.0 if pred_words else 1.0
        return PRF(score, score, score, 1)
    if not pred_words:
        return PRF(0.0, 0.0, 0.0, 1)
    overlap = sum((Counter(pred_words) & Counter(gold_words)).values())
    precision = overlap / len(pred_words)
    recall = overlap / len(gold_words)
    return PRF(precision, recall, _harmonic(precision, recall), 1)


def mean_prf(pages: Sequence[PRF]) -> PRF:
    """WCXB corpus score: plain means of page P, R and F1 (F1 is not recomputed); NaN for no pages."""
    n = len(pages)
    if not n:
        return PRF(math.nan, math.nan, math.nan, 0)
    return PRF(
        sum(p.precision for p in pages) / n,
        sum(p.recall for p in pages) / n,
        sum(p.f1 for p in pages) / n,
        n,
    )


# --- titles --------------------------------------------------------------------------------------

_TITLE_QUOTES = str.maketrans("‘’“”–—", "''\"\"--")


def title_matches(pred: str, gold: str) -> bool:
    """Whether a title is the gold's, ignoring case, white space runs, curly quotes and dash kinds."""
    def fold(text: str) -> str:
        return " ".join(text.translate(_TITLE_QUOTES).lower().split())
    return fold(pred) == fold(gold)


# --- trafilatura: with/without snippets -------------------------------------------------------


def _squeeze(text: str) -> str:
    """Trafilatura's norm(): whitespace runs to one space, ends stripped; case kept."""
    return _SPACE_RE.sub(" ", text).strip()


def snippet_counts(pred: str, with_snippets: Sequence[str], without_snippets: Sequence[str]) -> SnippetCounts:
    """One page's snippet tallies: a snippet is found when its normalised text is in the normalised output."""
    output = _squeeze(pred)
    tp = sum(_squeeze(s) in output for s in with_snippets)
    fp = sum(_squeeze(s) in output for s in without_snippets)
    return SnippetCounts(tp=tp, fp=fp, fn=len(with_snippets) - tp, tn=len(without_snippets) - fp)


def snippet_prf(counts: Sequence[SnippetCounts]) -> PRF:
    """Corpus snippet P/R/F1 from tallies summed over pages; n is the number of snippets."""
    return sum(counts, SnippetCounts()).prf()


def snippet_accuracy(counts: Sequence[SnippetCounts]) -> float:
    """Corpus snippet accuracy (TP+TN)/all from tallies summed over pages."""
    return sum(counts, SnippetCounts()).accuracy


# --- blocks -------------------------------------------------------------------------------


def block_counts(pred: np.ndarray, gold: np.ndarray) -> Confusion:
    """Confusion of predicted keep against gold content over one page's blocks; sum these across pages."""
    pred = np.asarray(pred, dtype=bool)
    gold = np.asarray(gold, dtype=bool)
    if pred.shape != gold.shape:
        raise ValueError(f"block_counts: prediction shape {pred.shape} differs from gold shape {gold.shape}")
    tp = int(np.count_nonzero(pred & gold))
    fp = int(np.count_nonzero(pred)) - tp
    fn = int(np.count_nonzero(gold)) - tp
    return Confusion(tp=tp, fp=fp, fn=fn, tn=pred.size - tp - fp - fn)


def block_prf(pred: np.ndarray, gold: np.ndarray) -> PRF:
    """Micro P/R/F1 over blocks; for a corpus, pass concatenated arrays or use sum(block_counts...).prf()."""
    return block_counts(pred, gold).prf()


# --- L3S: related content kept ----------------------------------------------------------------


def related_kept(pred: str, related: str | Sequence[str]) -> tuple[int, int]:
    """(kept, total) related-content units found in the output; corpus share is sum(kept)/sum(total).

    Units are AEB-tokenised 4-token shingles taken within each related run (a str is one run), so no
    shingle straddles two runs that need not be adjacent in the output; a run of 1-3 tokens counts
    its single tokens instead, so short links like "Top stories" still weigh in. Units are multisets:
    a unit repeated k times is kept min(k, times in output) times.
    """
    runs = (related,) if isinstance(related, str) else related
    related_ngrams: Counter[Shingle] = Counter()
    related_words: Counter[Shingle] = Counter()
    for run in runs:
        tokens = _tokens(run)
        if len(tokens) < SHINGLE_N:
            related_words.update((token,) for token in tokens)
        else:
            related_ngrams.update(_ngrams(tokens, SHINGLE_N))
    total = sum(related_ngrams.values()) + sum(related_words.values())
    if not total:
        return (0, 0)
    output = _tokens(pred)
    kept = sum((related_ngrams & _ngrams(output, SHINGLE_N)).values())
    if related_words:
        kept += sum((related_words & _ngrams(output, 1)).values())
    return (kept, total)


# --- significance -------------------------------------------------------------------------


Statistic = Callable[[np.ndarray, np.ndarray], np.ndarray]


def paired_bootstrap(a: np.ndarray, b: np.ndarray, n: int = 1000, seed: int = 0,
                     statistic: Statistic | None = None) -> tuple[float, float, float]:
    """A corpus score of `a` minus that of `b` (one row of page figures each, paired by page) and its 95%
    percentile interval over `n` page resamples, as AEB's evaluate.py bootstraps its own metric.

    `statistic` maps resample weights (resamples x pages) and page figures to one score per resample;
    the default is the mean of 1-D page scores."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim not in (1, 2) or a.shape[0] == 0:
        raise ValueError(f"paired_bootstrap needs two equal-shape arrays of page figures, got {a.shape} and {b.shape}")
    statistic = statistic or mean_score
    pages = a.shape[0]
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, pages, size=(n, pages))
    weights = np.bincount((picks + pages * np.arange(n)[:, None]).ravel(), minlength=n * pages)
    weights = weights.reshape(n, pages).astype(float)
    ones = np.ones((1, pages))
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = float(statistic(ones, a)[0] - statistic(ones, b)[0])
        resampled = statistic(weights, a) - statistic(weights, b)
    low, high = np.nanpercentile(resampled, [2.5, 97.5])
    return (diff, float(low), float(high))


def mean_score(weights: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The weighted mean of per-page scores: WCXB's word F1."""
    return weights @ scores / weights.sum(axis=1)


def shingle_f1_score(weights: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`shingle_prf`'s F1 from per-page (tp, fp, fn) rows under page weights: mean precision over pages
    with output, mean recall over pages with gold, their harmonic mean."""
    tp, fp, fn = counts.T
    has_output, has_gold = tp + fp > 0, tp + fn > 0
    precision = weights @ np.where(has_output, tp / np.where(has_output, tp + fp, 1), 0) / (weights @ has_output)
    recall = weights @ np.where(has_gold, tp / np.where(has_gold, tp + fn, 1), 0) / (weights @ has_gold)
    total = precision + recall
    return np.where(total > 0, 2 * precision * recall / np.where(total > 0, total, 1), 0.0)


def snippet_f1_score(weights: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`snippet_prf`'s F1, 2TP/(2TP+FP+FN) over tallies summed across pages, from per-page (tp, fp, fn)
    rows under page weights."""
    tp, fp, fn = (weights @ counts).T
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.where(denominator > 0, denominator, 1), 0.0)
