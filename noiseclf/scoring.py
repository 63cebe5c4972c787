"""The fitted classifier as plain NumPy arrays: everything inference needs, without scikit-learn.

`model.pack` turns a fitted `BlockClassifier` into a `PackedModel` (its boosted trees as flat node
tables, the threshold, the thread rule and the page-confidence calibrator) and `model.save_model`
writes it beside the joblib file as a `.trees.npz` archive. Extraction loads only that archive,
read with `allow_pickle=False`: no scikit-learn import (most of a batch worker's start-up) and no
unpickling. Block probabilities are bitwise those of the scikit-learn objects they were packed
from; the page confidence agrees to float32 rounding (scipy's float32 logistic uses C's expf).
Trees are summed by the shipped models' generated C (`_treegen`, matched by digest), else by the
compiled table walk (`_trees.pyx`), else by a NumPy walk: the same scores each way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path

import numpy as np

from ._treegen import TREE_DTYPES, columns_read, ensemble_digest, float32_at_most
from .features import FEATURE_NAMES, NEIGHBOUR_NAMES, PROFILE_NAMES, neighbour_features, page_profile
from .types import ModelError

try:
    from ._trees import raw_scores as _compiled_raw_scores
except ImportError:  # not built: installed without a compiler, or a source checkout
    _compiled_raw_scores = None
try:  # the shipped models' trees as generated C (`_treegen`), built at install
    from . import _shipped_trees
except ImportError:
    _shipped_trees = None
COMPILED_TREES = _compiled_raw_scores is not None and os.environ.get("NOISECLF_PURE_PYTHON") != "1"

TREE_ARRAYS = tuple(TREE_DTYPES)
# one node as `_trees.raw_scores` reads it: float32 threshold, column and missing side, right child from the
# tree's root (a leaf: its index among its tree's leaves)
NODE_DTYPE = np.dtype([("split", np.float32), ("feature", np.int16), ("right", np.uint16)])
_MISSING_LEFT = 1 << 14
_NODE_LIMIT = 1 << 16  # nodes a tree may have for `right` to reach them


def expit(x: np.ndarray) -> np.ndarray:
    """The logistic function as scipy.special.expit computes it, 1 / (1 + exp(-x))."""
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True, eq=False)
class PackedTrees:
    """A boosted ensemble of binary-classification trees as one node table; child indices are
    absolute and `roots` holds each tree's first node. NaN follows `missing_left`, otherwise
    `x <= threshold` goes left, as in scikit-learn's own tree walk."""

    roots: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    missing_left: np.ndarray
    is_leaf: np.ndarray
    value: np.ndarray
    baseline: float

    def raw_scores(self, X: np.ndarray, compiled: bool = COMPILED_TREES) -> np.ndarray:
        """Baseline plus every tree's leaf value per row, added in tree order."""
        X = np.asarray(X)
        X = np.ascontiguousarray(X, dtype=np.result_type(X, np.float32))  # float32 features are read as they are
        if X.ndim != 2 or X.shape[1] < self.columns:  # the compiled walk reads columns unchecked
            raise ValueError(f"features of shape {X.shape}: the trees read {self.columns} columns")
        if compiled and X.dtype == np.float32 and self.generated is not None:
            out = np.empty(len(X))
            _shipped_trees.raw_scores(self.generated, X, self.baseline, out)
            return out
        if compiled and _compiled_raw_scores is not None and self.tables is not None:
            out = np.empty(len(X))
            _compiled_raw_scores(X, self.roots, *self.tables, self.baseline, out)
            return out
        return self._numpy_raw_scores(X)

    @cached_property
    def generated(self) -> int | None:
        """This ensemble's number in `_shipped_trees`, the shipped models' trees compiled as C at install
        (found by the digest of its arrays), or None: any other ensemble takes the table walk."""
        if _shipped_trees is None or not COMPILED_TREES:
            return None
        arrays = {name: getattr(self, name) for name in TREE_DTYPES}
        return _shipped_trees.INDEX.get(ensemble_digest(arrays, self.baseline))

    @cached_property
    def tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """What the compiled walk reads: the 8-byte node records, the float64 thresholds (for float64
        features), the leaf values and each tree's first leaf among them. None when the trees do not fit
        the records (over 16,383 features or 65,536 nodes in a tree): the NumPy walk scores those."""
        self._check_left_is_next()
        n = len(self.feature)
        leaf = self.is_leaf.astype(bool)
        tree = np.searchsorted(self.roots, np.arange(n), side="right") - 1
        sizes = np.diff(np.append(self.roots, n))
        if self.feature[~leaf].max(initial=0) >= _MISSING_LEFT or sizes.max() > _NODE_LIMIT:
            return None
        leaf_ids = np.flatnonzero(leaf)
        first_leaf = np.searchsorted(leaf_ids, self.roots).astype(np.int32)
        nodes = np.empty(n, NODE_DTYPE)
        nodes["split"] = np.where(leaf, 0.0, float32_at_most(self.threshold))
        nodes["feature"] = np.where(leaf, -1, self.feature | (self.missing_left.astype(np.int32) * _MISSING_LEFT))
        rank = np.zeros(n, np.int64)
        rank[leaf_ids] = np.arange(len(leaf_ids)) - first_leaf[tree[leaf_ids]]
        nodes["right"] = np.where(leaf, rank, self.right - self.roots[tree])
        return nodes, np.ascontiguousarray(self.threshold), np.ascontiguousarray(self.value[leaf_ids]), first_leaf

    @cached_property
    def columns(self) -> int:
        """How many feature columns the trees read: one past the highest a split reads."""
        return columns_read({"is_leaf": self.is_leaf, "feature": self.feature})

    def _check_left_is_next(self) -> None:
        """Raise ValueError unless every split's left child is the node after it (the compiled walk's layout)."""
        split = np.flatnonzero(self.is_leaf == 0)
        if (self.left[split] != split + 1).any():
            raise ValueError("a split's left child is not the node after it")

    def _numpy_raw_scores(self, X: np.ndarray) -> np.ndarray:
        """The same walk over all (row, tree) pairs at once, one tree level a step."""
        node = np.tile(self.roots, (len(X), 1))
        rows, trees = np.nonzero(~self.is_leaf.astype(bool)[node])
        while len(rows):
            at = node[rows, trees]
            x = X[rows, self.feature[at]]
            go_left = np.where(np.isnan(x), self.missing_left[at].astype(bool), x <= self.threshold[at])
            node[rows, trees] = np.where(go_left, self.left[at], self.right[at])
            inner = ~self.is_leaf.astype(bool)[node[rows, trees]]
            rows, trees = rows[inner], trees[inner]
        leaves = np.column_stack([np.full(len(X), self.baseline), self.value[node]])
        return np.cumsum(leaves, axis=1)[:, -1]  # a running sum: the compiled walk's order

    def proba(self, X: np.ndarray, compiled: bool = COMPILED_TREES) -> np.ndarray:
        """P(content) per row."""
        return expit(self.raw_scores(X, compiled))

    def check(self, n_features: int) -> None:
        """Raise ValueError unless the arrays make trees the compiled walk can run without bounds checks:
        the dtypes it takes, one length for every node array, roots in order, and every split reading
        one of `n_features` columns and pointing at later nodes of its own tree (so every walk ends)."""
        for name, dtype in TREE_DTYPES.items():
            array = getattr(self, name)
            if array.dtype != dtype or array.ndim != 1:
                raise ValueError(f"{name} is {array.dtype}[{array.ndim}d], expected 1-d {np.dtype(dtype)}")
        n = len(self.feature)
        if any(len(getattr(self, name)) != n for name in TREE_ARRAYS[1:]) or n == 0:
            raise ValueError("node arrays of different lengths, or no nodes")
        if len(self.roots) == 0 or self.roots[0] != 0 or (np.diff(self.roots) <= 0).any() or self.roots[-1] >= n:
            raise ValueError("tree roots out of order or out of range")
        split = ~self.is_leaf.astype(bool)
        tree_end = np.append(self.roots[1:], n)[np.searchsorted(self.roots, np.arange(n), side="right") - 1]
        index = np.arange(n)
        for child in (self.left, self.right):
            if ((child <= index) | (child >= tree_end))[split].any():
                raise ValueError("a split points outside its tree or backwards")
        self._check_left_is_next()
        if ((self.feature < 0) | (self.feature >= n_features))[split].any():
            raise ValueError(f"a split reads a column outside the {n_features} features")


@dataclass(frozen=True, eq=False)
class PackedLogistic:
    """A standard scaler followed by a binary logistic regression (the page-confidence calibrator)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (n_inputs, 1)
    intercept: np.ndarray  # (1,)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n, 2) probabilities, computed in the scaler's and the regression's own order and dtypes."""
        Z = np.array(X, dtype=np.result_type(X, np.float32))
        Z -= self.mean.astype(Z.dtype)
        Z /= self.scale.astype(Z.dtype)
        p = expit((Z @ self.coef + self.intercept)[:, 0])
        return np.column_stack([1 - p, p])


_REGION, _OUTSIDE, _FORUM = (FEATURE_NAMES.index(name) for name in ("comment_region", "page_outside_prose", "forum_like"))


def after_story_thread(X: np.ndarray, floor: float) -> np.ndarray:
    """Blocks of a comment region on pages with at least `floor` words of prose outside it, unless
    the page looks like a forum.

    A thread after a story is boilerplate; on a forum page the thread is the page, and little
    prose lies outside it. Training picks `floor` on validation pages (inf: never applies).
    """
    if not np.isfinite(floor) or len(X) == 0:
        return np.zeros(len(X), bool)
    return (X[:, _REGION] > 0) & (np.expm1(X[:, _OUTSIDE]) >= floor) & (X[:, _FORUM] == 0)


def page_slices(pages: np.ndarray) -> list[slice]:
    """Contiguous runs of equal page ids (blocks of a page are adjacent and in order)."""
    if len(pages) == 0:
        return []
    cuts = np.flatnonzero(pages[1:] != pages[:-1]) + 1
    bounds = np.concatenate(([0], cuts, [len(pages)]))
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def page_profiles(X: np.ndarray, pages: np.ndarray) -> tuple[np.ndarray, list[slice]]:
    """The profile (`features.page_profile`) of each contiguous page of rows, and the rows of each."""
    slices = page_slices(pages)
    return np.vstack([page_profile(X[s]) for s in slices]), slices


def with_neighbours(X: np.ndarray, p1: np.ndarray, pages: np.ndarray, words: np.ndarray,
                    paths: np.ndarray) -> np.ndarray:
    """The second pass's input: the block features plus the first pass's scores around each block."""
    extra = np.empty((len(X), len(NEIGHBOUR_NAMES)), np.float32)
    for s in page_slices(pages):
        extra[s] = neighbour_features(p1[s], words[s], paths[s])
    return np.hstack([X, extra])


@dataclass(frozen=True)
class Routing:
    """A page-type specialist beside the general model, and the router that sends pages to it.

    A page whose router score reaches `cut` is scored by the mean of both models, rescaled (piecewise
    linearly) so that `threshold` on that mean lands on the model's own threshold `model_threshold`:
    every consumer keeps one threshold. Other pages keep the general model's scores.
    """

    special: Callable[[np.ndarray], np.ndarray]
    router: Callable[[np.ndarray], np.ndarray]
    cut: float
    threshold: float
    model_threshold: float

    def page_scores(self, X: np.ndarray, pages: np.ndarray | None) -> np.ndarray:
        """The router's score of each row's page (rows without `pages` are one page)."""
        if pages is None:
            return np.full(len(X), self.router(page_profile(X))[0])
        profiles, slices = page_profiles(X, pages)
        return np.repeat(self.router(profiles), [s.stop - s.start for s in slices])

    def routes(self, X: np.ndarray, pages: np.ndarray | None) -> np.ndarray:
        """Which rows lie on pages the router sends to the specialist."""
        return self.page_scores(X, pages) >= self.cut

    def mix(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """General scores `p` and specialist scores `q` blended as on a routed page."""
        return blend(p, q, self.threshold, self.model_threshold)

    def apply(self, X: np.ndarray, p: np.ndarray, pages: np.ndarray | None) -> np.ndarray:
        """The general scores `p`, with routed pages' rows replaced by the rescaled mean."""
        routed = self.routes(X, pages)
        if not routed.any():
            return p
        out = p.copy()
        out[routed] = self.mix(p[routed], self.special(X[routed]))
        return out


def blend(p: np.ndarray, q: np.ndarray, threshold: float, model_threshold: float) -> np.ndarray:
    """The mean of two models' scores, rescaled piecewise linearly so that `threshold` on the mean
    becomes `model_threshold` (0 and 1 stay put)."""
    mean = (p + q) / 2
    t, m = threshold, model_threshold
    return np.where(mean < t, mean * (m / t), m + (mean - t) * ((1 - m) / (1 - t)))


def two_pass_proba(X: np.ndarray, first: Callable[[np.ndarray], np.ndarray],
                   second: Callable[[np.ndarray], np.ndarray] | None, thread_floor: float,
                   pages: np.ndarray | None, words: np.ndarray | None, paths: np.ndarray | None,
                   routing: Routing | None = None) -> np.ndarray:
    """(n, 2) probabilities of boilerplate and content: `first` scores the block features, `second`
    (if any) those plus the first pass's scores around each block, `routing` (if any) blends in a
    page-type specialist, then the thread rule applies.
    The one scoring flow of both `BlockClassifier` and `PackedModel`; rows without `pages` are one page."""
    X = np.asarray(X, dtype=np.float32)
    if len(X) == 0:
        return np.zeros((0, 2))
    p = first(X)
    if second is not None:
        neighbours_pages = np.zeros(len(X), np.int64) if pages is None else pages
        words = np.ones(len(X)) if words is None else words
        paths = np.arange(len(X)) if paths is None else paths
        p = second(with_neighbours(X, p, neighbours_pages, words, paths))
    if routing is not None:
        p = routing.apply(X, p, pages)
    p = np.where(after_story_thread(X, thread_floor), 0.0, p)
    return np.column_stack([1 - p, p])


@dataclass(frozen=True, eq=False)
class PackedModel:
    """A fitted two-pass classifier, scored as `BlockClassifier.predict_proba` scores it."""

    first: PackedTrees
    second: PackedTrees | None
    threshold: float
    thread_floor: float
    confidence_calibrator_: PackedLogistic | None = None
    special: PackedTrees | None = None  # a page-type specialist, blended in on the pages `router` sends it
    router: PackedTrees | None = None
    route_cut: float = float("inf")
    route_threshold: float = 0.5

    @property
    def two_pass(self) -> bool:
        """Whether a second pass reads the neighbours' scores (and so needs `words` and `paths`)."""
        return self.second is not None

    def predict_proba(self, X: np.ndarray, *, pages: np.ndarray | None = None, words: np.ndarray | None = None,
                      paths: np.ndarray | None = None) -> np.ndarray:
        """(n, 2) probabilities of boilerplate and content; rows without `pages` are one page."""
        second = self.second.proba if self.second is not None else None
        return two_pass_proba(X, self.first.proba, second, self.thread_floor, pages, words, paths, self.routing())

    def routing(self) -> Routing | None:
        """The specialist and router as `Routing` scores with them (None without them), as
        `BlockClassifier.routing` gives them."""
        if self.special is None or self.router is None:
            return None
        return Routing(self.special.proba, self.router.proba, self.route_cut, self.route_threshold, self.threshold)

    def save(self, path: str | Path) -> Path:
        """Write the arrays to a NumPy archive (no pickled objects)."""
        arrays: dict[str, np.ndarray] = {"threshold": np.float64(self.threshold),
                                         "thread_floor": np.float64(self.thread_floor),
                                         "route_cut": np.float64(self.route_cut),
                                         "route_threshold": np.float64(self.route_threshold)}
        for prefix, trees in (("first", self.first), ("second", self.second), ("special", self.special),
                              ("router", self.router)):
            if trees is not None:
                arrays.update({f"{prefix}.{f.name}": np.asarray(getattr(trees, f.name)) for f in fields(trees)})
        if self.confidence_calibrator_ is not None:
            cal = self.confidence_calibrator_
            arrays.update({f"calibrator.{f.name}": np.asarray(getattr(cal, f.name)) for f in fields(cal)})
        path = Path(path)
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> PackedModel:
        """Read an archive written by `save`; ModelError names the file when it is not one."""
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
        except Exception as exc:  # a damaged archive raises nearly anything: BadZipFile, EOFError, TokenError...
            raise ModelError(f"{path}: unreadable packed trees: {exc}") from exc
        try:
            first, second = _part(PackedTrees, arrays, "first"), _part(PackedTrees, arrays, "second")
            if first is None:
                raise KeyError("no first-pass trees")
            first.check(len(FEATURE_NAMES))
            if second is not None:
                second.check(len(FEATURE_NAMES) + len(NEIGHBOUR_NAMES))
            special, router = _part(PackedTrees, arrays, "special"), _part(PackedTrees, arrays, "router")
            if (special is None) != (router is None):
                raise KeyError("a specialist without its router, or a router without its specialist")
            if special is not None:
                special.check(len(FEATURE_NAMES))
                router.check(len(PROFILE_NAMES))
            route_cut, route_threshold = float(arrays["route_cut"]), float(arrays["route_threshold"])
            if not 0 < route_threshold < 1:
                raise ValueError(f"route threshold {route_threshold} outside (0, 1)")
            return cls(first=first, second=second,
                       threshold=float(arrays["threshold"]), thread_floor=float(arrays["thread_floor"]),
                       confidence_calibrator_=_part(PackedLogistic, arrays, "calibrator"),
                       special=special, router=router, route_cut=route_cut, route_threshold=route_threshold)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path}: not a packed noiseclf model: {exc}") from exc


def _part(kind: type, arrays: dict[str, np.ndarray], prefix: str):
    """One packed component from its prefixed arrays (None when the archive has none)."""
    names = [f.name for f in fields(kind)]
    if f"{prefix}.{names[0]}" not in arrays:
        return None
    values = {name: arrays[f"{prefix}.{name}"] for name in names}
    if "baseline" in values:
        values["baseline"] = float(values["baseline"])
    return kind(**values)


def page_confidence(proba: np.ndarray, words: np.ndarray, keep: np.ndarray, model: object) -> float:
    """How sure the model is that the kept text is the page's main content, in [0, 1].

    The raw score is the word-weighted certainty of the kept and dropped blocks; a model trained
    with a calibrator maps it to the probability that the page's word F1 is at least 0.8.
    """
    raw = confidence_inputs(proba, words, keep)
    calibrator = getattr(model, "confidence_calibrator_", None)
    if calibrator is None:
        return float(raw[0])
    return float(calibrator.predict_proba(raw[None, :])[0, 1])


def confidence_inputs(proba: np.ndarray, words: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Page-level summary of block scores that the confidence is computed from."""
    if not keep.any():
        return np.zeros(4, np.float32)
    kept_w = words * keep
    dropped_w = words * ~keep
    sure_kept = float((proba * kept_w).sum() / kept_w.sum())
    sure_dropped = float(((1 - proba) * dropped_w).sum() / dropped_w.sum()) if dropped_w.any() else 1.0
    ambiguous = float((words * (np.abs(proba - 0.5) < 0.25)).sum() / max(words.sum(), 1.0))
    return np.array([sure_kept * sure_dropped, sure_kept, 1 - ambiguous, np.log1p(kept_w.sum())], np.float32)
