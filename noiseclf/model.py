"""The block classifier (a scikit-learn estimator) and its artifact: a joblib file plus a manifest.

The classifier makes two passes: gradient-boosted trees on block features, then a second model
that also sees the first pass's scores of the neighbouring blocks (out-of-fold while training).
The artifact's manifest records versions, feature names, training data and scores; loading
verifies the file's sha256 *before* unpickling and refuses a model the code cannot use.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path

import joblib
import numpy as np
import sklearn
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold

from . import __version__
from .features import FEATURE_NAMES, NEIGHBOUR_NAMES, neighbour_features
from .types import ModelError

MODEL_FORMAT = 1  # bump when the artifact layout changes


DEFAULT_TREES = 120  # fewer, larger trees at a higher rate than 200 x 0.1: scoring a page costs per tree


def default_trees(max_iter: int = DEFAULT_TREES, random_state: int = 0) -> HistGradientBoostingClassifier:
    """The gradient-boosted trees both passes start from."""
    return HistGradientBoostingClassifier(
        max_iter=max_iter, learning_rate=0.15, max_leaf_nodes=63, min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=random_state,
    )


def _page_slices(pages: np.ndarray) -> list[slice]:
    """Contiguous runs of equal page ids (blocks of a page are adjacent and in order)."""
    if len(pages) == 0:
        return []
    cuts = np.flatnonzero(pages[1:] != pages[:-1]) + 1
    bounds = np.concatenate(([0], cuts, [len(pages)]))
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


_SINGLE_THREAD_ROWS = 50_000  # below this, OpenMP start-up and contention cost more than they save


try:
    from ._trees import raw_scores as _compiled_raw_scores
except ImportError:  # not built: installed without a compiler, or a source checkout
    _compiled_raw_scores = None
COMPILED_TREES = _compiled_raw_scores is not None and os.environ.get("NOISECLF_PURE_PYTHON") != "1"


class _PageScorer:
    """Sums a fitted HistGradientBoostingClassifier's trees over one page's rows on one thread.

    scikit-learn's own path re-validates the input and rebuilds category bitsets on every call;
    for a page of a few hundred blocks that overhead, not the tree walks, dominated. With
    `noiseclf._trees` built, all trees are packed into one node table and walked in a single
    compiled call (about 2.5x faster, bitwise the same scores); otherwise each tree goes through
    scikit-learn's compiled walk (`_predict_from_raw_data`) in turn. The manifest pins the
    scikit-learn minor version the model was made with, so its private tree layout is the tested one.
    """

    def __init__(self, estimator: HistGradientBoostingClassifier, compiled: bool = COMPILED_TREES):
        from sklearn.ensemble._hist_gradient_boosting._predictor import _predict_from_raw_data

        self._walk = _predict_from_raw_data
        self._trees = [(p.nodes, p.raw_left_cat_bitsets) for (p,) in estimator._predictors]
        self._bitsets, self._feature_map = estimator._bin_mapper.make_known_categories_bitsets()
        self._baseline = float(np.ravel(estimator._baseline_prediction)[0])
        numeric = not any(nodes["is_categorical"].any() for nodes, _ in self._trees)
        self._packed = _pack_trees([nodes for nodes, _ in self._trees]) if compiled and numeric else None

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if self._packed is not None:
            raw = np.empty(len(X))
            _compiled_raw_scores(X, *self._packed, self._baseline, raw)
            return expit(raw)
        raw = np.full(len(X), self._baseline)
        out = np.empty(len(X))
        for nodes, left_bitsets in self._trees:
            self._walk(nodes, X, left_bitsets, self._bitsets, self._feature_map, 1, out)
            raw += out
        return expit(raw)


def _pack_trees(trees: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """One node table for all trees (child indices made absolute) and each tree's root, as
    `_trees.raw_scores` takes them."""
    sizes = [len(nodes) for nodes in trees]
    roots = np.cumsum([0] + sizes[:-1])
    nodes = np.concatenate(trees)
    shift = np.repeat(roots, sizes)
    return (roots.astype(np.int32), nodes["feature_idx"].astype(np.int32),
            np.ascontiguousarray(nodes["num_threshold"], dtype=np.float64),
            (nodes["left"] + shift).astype(np.int32), (nodes["right"] + shift).astype(np.int32),
            nodes["missing_go_to_left"].astype(np.uint8), nodes["is_leaf"].astype(np.uint8),
            np.ascontiguousarray(nodes["value"], dtype=np.float64))


_SCORERS: "weakref.WeakKeyDictionary[HistGradientBoostingClassifier, _PageScorer]" = weakref.WeakKeyDictionary()


def content_proba(estimator, X: np.ndarray) -> np.ndarray:
    """P(content) per row; one page's worth of rows is scored on one thread, which is far faster."""
    if isinstance(estimator, HistGradientBoostingClassifier) and len(X) < _SINGLE_THREAD_ROWS \
            and estimator.n_trees_per_iteration_ == 1:
        scorer = _SCORERS.get(estimator)
        if scorer is None:
            scorer = _SCORERS[estimator] = _PageScorer(estimator)
        return scorer(X)
    return estimator.predict_proba(X)[:, 1]


def _out_of_fold(estimator, X: np.ndarray, y: np.ndarray, folds: list) -> np.ndarray:
    """Content probability of each row from a clone that did not see the row's fold."""
    p = np.zeros(len(X), np.float32)
    for train, test in folds:
        p[test] = clone(estimator).fit(X[train], y[train]).predict_proba(X[test])[:, 1]
    return p


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


class BlockClassifier(ClassifierMixin, BaseEstimator):
    """Two-pass content/boilerplate classifier over the blocks of many pages.

    `pages` (one id per row, blocks of a page contiguous and in order), `words` (tokens per block)
    and `paths` (a tag-path id per block) tell the second pass who the neighbours are.
    """

    def __init__(self, first=None, second=None, n_folds: int = 3, two_pass: bool = True,
                 threshold: float = 0.5, thread_floor: float = float("inf")):
        self.first = first
        self.second = second
        self.n_folds = n_folds
        self.two_pass = two_pass
        self.threshold = threshold
        self.thread_floor = thread_floor

    def _neighbours(self, X: np.ndarray, p1: np.ndarray, pages: np.ndarray, words: np.ndarray,
                    paths: np.ndarray) -> np.ndarray:
        extra = np.empty((len(X), len(NEIGHBOUR_NAMES)), np.float32)
        for s in _page_slices(pages):
            extra[s] = neighbour_features(p1[s], words[s], paths[s])
        return np.hstack([X, extra])

    def fit(self, X: np.ndarray, y: np.ndarray, *, pages: np.ndarray, words: np.ndarray,
            paths: np.ndarray, groups: np.ndarray | None = None) -> "BlockClassifier":
        """Fit both passes; out-of-fold scores of each pass are kept in `oof_first_` and `oof_proba_`.

        Folds group rows by `groups` (sites) so the held-out scores are honest; the second pass
        trains on the first pass's out-of-fold scores, as it will see unseen pages at inference.
        """
        y = np.asarray(y).astype(int)
        groups = groups if groups is not None else pages
        self.classes_ = np.array([0, 1])
        folds = list(GroupKFold(n_splits=min(self.n_folds, len(np.unique(groups)))).split(X, y, groups))
        first = self.first if self.first is not None else default_trees()
        self.oof_first_ = _out_of_fold(first, X, y, folds)
        self.first_ = clone(first).fit(X, y)
        self.oof_proba_ = self.oof_first_
        if self.two_pass:
            second = self.second if self.second is not None else default_trees()
            X2 = self._neighbours(X, self.oof_first_, pages, words, paths)
            self.oof_proba_ = _out_of_fold(second, X2, y, folds)
            self.second_ = clone(second).fit(X2, y)
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X: np.ndarray, *, pages: np.ndarray | None = None, words: np.ndarray | None = None,
                      paths: np.ndarray | None = None) -> np.ndarray:
        """(n, 2) probabilities of boilerplate and content; rows without `pages` are one page."""
        X = np.asarray(X, dtype=np.float32)
        if len(X) == 0:
            return np.zeros((0, 2))
        p = content_proba(self.first_, X)
        if self.two_pass:
            pages = np.zeros(len(X), np.int64) if pages is None else pages
            words = np.ones(len(X)) if words is None else words
            paths = np.arange(len(X)) if paths is None else paths
            p = content_proba(self.second_, self._neighbours(X, p, pages, words, paths))
        p = np.where(after_story_thread(X, self.thread_floor), 0.0, p)
        return np.column_stack([1 - p, p])

    def predict(self, X: np.ndarray, **kwargs: np.ndarray) -> np.ndarray:
        """1 for content, 0 for boilerplate, at the threshold chosen on validation data."""
        return (self.predict_proba(X, **kwargs)[:, 1] >= self.threshold).astype(int)


@dataclass
class Manifest:
    """What a model file is: versions, features, training data and validation scores."""

    format: str  # "html" or "text": the input the model classifies
    noiseclf_version: str = __version__
    model_format: int = MODEL_FORMAT
    sklearn_version: str = sklearn.__version__
    numpy_version: str = np.__version__
    python_version: str = platform.python_version()
    feature_names: list[str] = field(default_factory=lambda: list(FEATURE_NAMES))
    threshold: float = 0.5
    training_data: list[dict] = field(default_factory=list)  # corpus, split, pages, blocks, sha256
    validation: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    model_sha256: str = ""
    created: str = ""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_path(model_path: Path) -> Path:
    return model_path.with_suffix(".manifest.json")


def save_model(model: BlockClassifier, manifest: Manifest, path: str | Path) -> Path:
    """Write the model with joblib and its manifest (with the file's sha256) beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest.threshold = float(model.threshold)
    joblib.dump(model, path, compress=3)
    manifest.model_sha256 = _sha256(path)
    manifest_path(path).write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True) + "\n")
    return path


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def check_manifest(manifest: Manifest, path: Path) -> None:
    """Refuse a model this code cannot use; the message says why and what to do."""
    problems = []
    if manifest.model_format != MODEL_FORMAT:
        problems.append(f"artifact format {manifest.model_format}, this noiseclf reads {MODEL_FORMAT}")
    if list(manifest.feature_names) != list(FEATURE_NAMES):
        problems.append(f"its {len(manifest.feature_names)} features differ from this noiseclf's "
                        f"{len(FEATURE_NAMES)} (made by noiseclf {manifest.noiseclf_version})")
    if _minor(manifest.sklearn_version) != _minor(sklearn.__version__):
        problems.append(f"trained with scikit-learn {manifest.sklearn_version}, installed is {sklearn.__version__}")
    if problems:
        raise ModelError(f"{path}: incompatible model: " + "; ".join(problems)
                         + ". Retrain it with `noiseclf train` or install the matching versions.")


def load_model(path: str | Path) -> tuple[BlockClassifier, Manifest]:
    """Load a model after checking its manifest and sha256; raises ModelError otherwise."""
    path = Path(path)
    mpath = manifest_path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    if not mpath.is_file():
        raise ModelError(f"{path}: manifest {mpath.name} not found beside the model; refusing to load it")
    try:
        raw = json.loads(mpath.read_text())
        manifest = Manifest(**raw)
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{mpath}: unreadable manifest: {exc}") from exc
    actual = _sha256(path)
    if actual != manifest.model_sha256:
        raise ModelError(f"{path}: sha256 {actual[:12]}… does not match its manifest "
                         f"({manifest.model_sha256[:12]}…): the file was modified; refusing to load it")
    check_manifest(manifest, path)
    try:
        model = joblib.load(path)
    except Exception as exc:  # a corrupt pickle can raise nearly anything
        raise ModelError(f"{path}: could not be loaded: {exc}") from exc
    if not isinstance(model, BlockClassifier):
        raise ModelError(f"{path}: not a noiseclf model (found {type(model).__name__})")
    return model, manifest
