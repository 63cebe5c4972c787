"""The block classifier (a scikit-learn estimator), how it is packed for inference, and its files.

The classifier is gradient-boosted trees on block features, optionally followed by a second pass, a
model that also sees the first pass's scores of the neighbouring blocks (out-of-fold while training);
`noiseclf train` fits one pass unless given `--two-pass`, and the shipped models have one.
Where training pages say their type, a specialist fitted on one type (articles) is blended in on
the pages a router over page profiles assigns to it. Trained on several augmentation draws of the
same pages, each of those models is one member per draw, their raw scores averaged (`AveragedTrees`).
`save_model` writes the joblib pickle, the packed trees inference reads (`scoring.PackedModel`)
and the manifest (`artifact`); `load_model` verifies the files before unpickling.
"""

from __future__ import annotations

import json
import os
import secrets
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from functools import partial
from pathlib import Path

import joblib
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .artifact import (
    Manifest,
    check_manifest,
    check_threshold,
    file_sha256,
    manifest_path,
    read_manifest,
    trees_path,
)
from .probe import feature_probe
from .scoring import (
    COMPILED_TREES,
    PackedLogistic,
    PackedModel,
    PackedTrees,
    Routing,
    after_story_thread,
    expit,
    page_profiles,
    two_pass_proba,
    with_neighbours,
)
from .types import ModelError

__all__ = ["COMPILED_TREES", "DEFAULT_LEAVES", "DEFAULT_TREES", "MIN_LEAF", "AveragedTrees", "BlockClassifier",
           "Manifest", "after_story_thread", "content_proba", "default_router", "default_trees", "fit_per_draw",
           "leaf_minimum", "load_model", "manifest_path", "pack", "pack_trees", "save_model"]

DEFAULT_TREES = 120  # fewer, larger trees at a higher rate than 200 x 0.1: scoring a page costs per tree
DEFAULT_LEAVES = 63  # leaves a tree (scikit-learn's max_leaf_nodes); 127 measured a little better, a tenth slower
MIN_LEAF = 40  # blocks a leaf holds at the least, from 4,000 training blocks up (`leaf_minimum`)


def leaf_minimum(rows: int) -> int:
    """The fewest blocks a leaf of the boosted trees holds: 40, and less on small training sets, where 40 would
    leave the trees without a split (every block scored alike)."""
    return min(MIN_LEAF, max(5, rows // 100))


def default_trees(max_iter: int = DEFAULT_TREES, random_state: int = 0,
                  leaves: int = DEFAULT_LEAVES, min_leaf: int = MIN_LEAF) -> HistGradientBoostingClassifier:
    """The gradient-boosted trees both passes start from."""
    return HistGradientBoostingClassifier(
        max_iter=max_iter, learning_rate=0.15, max_leaf_nodes=leaves, min_samples_leaf=min_leaf,
        l2_regularization=1.0, early_stopping=False, random_state=random_state,
    )


def default_router() -> HistGradientBoostingClassifier:
    """Small boosted trees over page profiles: is this page of the specialist's type?"""
    return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=20,
                                          early_stopping=False, random_state=0)


_SINGLE_THREAD_ROWS = 50_000  # below this, OpenMP start-up and contention cost more than they save


class AveragedTrees(ClassifierMixin, BaseEstimator):
    """Binary boosted-tree classifiers as one, the mean of their raw scores (log-odds): one clone of
    `estimator` fitted on the rows of each augmentation draw.

    Members fitted on different draws of the same pages disagree where one draw's synthetic teasers
    taught a split the others did not; their mean depends less on any one draw.
    """

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X: np.ndarray, y: np.ndarray, draws: np.ndarray | None = None) -> AveragedTrees:
        """One member a distinct value of `draws` (a single member without it), fitted on those rows."""
        draws = np.zeros(len(y), int) if draws is None else np.asarray(draws)
        base = self.estimator if self.estimator is not None else default_trees()
        self.estimators_ = tuple(clone(base).fit(X[draws == d], y[draws == d]) for d in np.unique(draws))
        self.classes_ = self.estimators_[0].classes_
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return np.mean([e.decision_function(X) for e in self.estimators_], axis=0)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.decision_function(X) >= 0).astype(int)


def fit_per_draw(estimator, X: np.ndarray, y: np.ndarray, draws: np.ndarray | None):
    """A clone of `estimator` fitted on all rows, or with rows from several augmentation draws, one clone
    fitted on each draw's rows, averaged."""
    if draws is None or len(np.unique(draws)) < 2:
        return clone(estimator).fit(X, y)
    return AveragedTrees(estimator).fit(X, y, draws=draws)


def _tree_nodes(estimator) -> list | None:
    """The node arrays of a binary HistGradientBoostingClassifier's trees, or None for any other estimator
    or for trees with categorical splits."""
    if not isinstance(estimator, HistGradientBoostingClassifier) or estimator.n_trees_per_iteration_ != 1:
        return None
    trees = [p.nodes for (p,) in estimator._predictors]
    return None if any(nodes["is_categorical"].any() for nodes in trees) else trees


def pack_trees(estimator) -> PackedTrees | None:
    """A fitted binary HistGradientBoostingClassifier's trees as one node table (child indices made
    absolute; `AveragedTrees` members one after the other, their leaf values and baselines divided among
    them), or None for any other estimator or for trees with categorical splits.

    scikit-learn's own path re-validates the input and rebuilds category bitsets on every call, and
    walks each tree in its own call; for a page of a few hundred blocks that overhead, not the tree
    walks, dominated. The manifest pins the scikit-learn minor version the model was made with, so
    the private tree layout read here is the tested one.
    """
    members = estimator.estimators_ if isinstance(estimator, AveragedTrees) else (estimator,)
    per_member = [_tree_nodes(m) for m in members]
    if not members or any(t is None for t in per_member):
        return None
    trees = [nodes for t in per_member for nodes in t]
    sizes = [len(nodes) for nodes in trees]
    roots = np.cumsum([0] + sizes[:-1])
    nodes = np.concatenate(trees)
    shift = np.repeat(roots, sizes)
    return PackedTrees(
        roots=roots.astype(np.int32), feature=nodes["feature_idx"].astype(np.int32),
        threshold=np.ascontiguousarray(nodes["num_threshold"], dtype=np.float64),
        left=(nodes["left"] + shift).astype(np.int32), right=(nodes["right"] + shift).astype(np.int32),
        missing_left=nodes["missing_go_to_left"].astype(np.uint8), is_leaf=nodes["is_leaf"].astype(np.uint8),
        value=np.ascontiguousarray(nodes["value"], dtype=np.float64) / len(members),
        baseline=float(np.mean([np.ravel(m._baseline_prediction)[0] for m in members])))


def _pack_calibrator(calibrator) -> PackedLogistic | None:
    """A StandardScaler + binary LogisticRegression pipeline as arrays, or None for anything else."""
    steps = [step for _, step in calibrator.steps] if isinstance(calibrator, Pipeline) else []
    if len(steps) != 2 or not isinstance(steps[0], StandardScaler) or not isinstance(steps[1], LogisticRegression) \
            or not (steps[0].with_mean and steps[0].with_std) or steps[1].coef_.shape[0] != 1:
        return None
    scaler, logistic = steps
    return PackedLogistic(mean=np.asarray(scaler.mean_, np.float64), scale=np.asarray(scaler.scale_, np.float64),
                          coef=np.ascontiguousarray(logistic.coef_.T), intercept=np.asarray(logistic.intercept_))


def pack(model: BlockClassifier) -> PackedModel | None:
    """The fitted classifier as plain arrays for inference, or None when a part of it cannot be packed."""
    first = pack_trees(model.first_)
    second = pack_trees(model.second_) if model.two_pass else None
    calibrator = getattr(model, "confidence_calibrator_", None)
    packed_calibrator = _pack_calibrator(calibrator) if calibrator is not None else None
    special = router = None
    if model.routed:
        special, router = pack_trees(model.special_), pack_trees(model.router_)
        if special is None or router is None:
            return None
    if first is None or (model.two_pass and second is None) or (calibrator is not None and packed_calibrator is None):
        return None
    return PackedModel(first=first, second=second, threshold=float(model.threshold),
                       thread_floor=float(model.thread_floor), confidence_calibrator_=packed_calibrator,
                       special=special, router=router, route_cut=float(model.route_cut),
                       route_threshold=float(model.route_threshold))


# the packed trees of each estimator, with what they were packed from (a refit replaces it)
_PACKED: weakref.WeakKeyDictionary[BaseEstimator, tuple[object, PackedTrees | None]] = weakref.WeakKeyDictionary()


def content_proba(estimator, X: np.ndarray) -> np.ndarray:
    """P(content) per row; one page's worth of rows is scored on one thread, which is far faster."""
    if isinstance(estimator, (HistGradientBoostingClassifier, AveragedTrees)) and len(X) < _SINGLE_THREAD_ROWS:
        fitted = estimator.estimators_ if isinstance(estimator, AveragedTrees) else estimator._predictors
        cached = _PACKED.get(estimator)
        if cached is None or cached[0] is not fitted:
            cached = _PACKED[estimator] = (fitted, pack_trees(estimator))
        if cached[1] is not None:
            return cached[1].proba(X)
    return estimator.predict_proba(X)[:, 1]


def _at(values: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    return None if values is None else values[rows]


def _out_of_fold(estimator, X: np.ndarray, y: np.ndarray, folds: list, draws: np.ndarray | None) -> np.ndarray:
    """Content probability of each row from clones (one a draw) that did not see the row's fold."""
    p = np.zeros(len(X), np.float32)
    for train, test in folds:
        seen = np.unique(y[train])
        if len(seen) < 2:  # a few pages, one of them all boilerplate: a fold can hold one class only
            p[test] = seen[0] if len(seen) else 0.0
            continue
        p[test] = fit_per_draw(estimator, X[train], y[train], _at(draws, train)).predict_proba(X[test])[:, 1]
    return p


class BlockClassifier(ClassifierMixin, BaseEstimator):
    """Content/boilerplate classifier over the blocks of many pages, in one pass or (`two_pass`) two.

    `pages` (one id per row, blocks of a page contiguous and in order), `words` (tokens per block)
    and `paths` (a tag-path id per block) tell the second pass, where there is one, who the neighbours are.

    With a `specialist`, fitting on `special` rows (those of pages of one type, articles say) also
    fits that estimator on those rows alone and a `router` that tells such pages from the rest by
    their profile; pages the router scores at `route_cut` or more are scored by the mean of both
    models (`scoring.Routing`). Training picks `route_cut` and `route_threshold` on validation.
    """

    def __init__(self, first=None, second=None, n_folds: int = 3, two_pass: bool = True,
                 threshold: float = 0.5, thread_floor: float = float("inf"), specialist=None, router=None,
                 route_cut: float = float("inf"), route_threshold: float = 0.5):
        self.first = first
        self.second = second
        self.n_folds = n_folds
        self.two_pass = two_pass
        self.threshold = threshold
        self.thread_floor = thread_floor
        self.specialist = specialist
        self.router = router
        self.route_cut = route_cut
        self.route_threshold = route_threshold

    @property
    def routed(self) -> bool:
        """Whether a fitted specialist takes part in scoring (a finite `route_cut`)."""
        return hasattr(self, "special_") and np.isfinite(self.route_cut)

    def fit(self, X: np.ndarray, y: np.ndarray, *, pages: np.ndarray, words: np.ndarray,
            paths: np.ndarray, groups: np.ndarray | None = None, special: np.ndarray | None = None,
            draws: np.ndarray | None = None, typed: np.ndarray | None = None) -> BlockClassifier:
        """Fit both passes; out-of-fold scores of each pass are kept in `oof_first_` and `oof_proba_`
        (and with a specialist, its own and the router's in `oof_special_` and `oof_route_`). The router
        learns from the rows `typed` (pages whose type is known; default all): a page of a corpus without
        types is no page of another type.

        Folds group rows by `groups` (sites) so the held-out scores are honest; the second pass
        trains on the first pass's out-of-fold scores, as it will see unseen pages at inference.
        With `draws` (the augmentation draw of each row, pages of every draw in the same folds), each
        model is one member per draw, averaged (`AveragedTrees`).
        """
        y = np.asarray(y).astype(int)
        groups = groups if groups is not None else pages
        self.classes_ = np.array([0, 1])
        folds = list(GroupKFold(n_splits=min(self.n_folds, len(np.unique(groups)))).split(X, y, groups))
        first = self.first if self.first is not None else default_trees()
        self.oof_first_ = _out_of_fold(first, X, y, folds, draws)
        self.first_ = fit_per_draw(first, X, y, draws)
        self.oof_proba_ = self.oof_first_
        if self.two_pass:
            second = self.second if self.second is not None else default_trees()
            X2 = with_neighbours(X, self.oof_first_, pages, words, paths)
            self.oof_proba_ = _out_of_fold(second, X2, y, folds, draws)
            self.second_ = fit_per_draw(second, X2, y, draws)
        if self.specialist is not None and special is not None and 0 < np.mean(special) < 1:
            typed = np.ones(len(X), bool) if typed is None else np.asarray(typed, bool)
            self._fit_specialist(X, y, pages, np.asarray(special, bool), folds, draws, typed)
        self.n_features_in_ = X.shape[1]
        return self

    def _fit_specialist(self, X: np.ndarray, y: np.ndarray, pages: np.ndarray, special: np.ndarray,
                        folds: list, draws: np.ndarray | None, typed: np.ndarray) -> None:
        """The specialist on the special rows and the router on the page profiles of typed pages, each also
        out of fold; nothing when a training fold lacks typed pages of either kind."""
        if any(not special[train].any() or not (typed[train] & ~special[train]).any() for train, _ in folds):
            return  # a fold without pages of both kinds could fit neither the specialist nor the router
        profiles, slices = page_profiles(X, pages)
        page_of_row = np.repeat(np.arange(len(slices)), [s.stop - s.start for s in slices])
        firsts = [s.start for s in slices]
        is_special, page_typed = special[firsts], typed[firsts]
        page_draws = _at(draws, firsts)
        router = self.router if self.router is not None else default_router()
        self.oof_special_ = np.zeros(len(X), np.float32)
        self.oof_route_ = np.zeros(len(X), np.float32)
        for train, test in folds:
            rows = train[special[train]]
            self.oof_special_[test] = fit_per_draw(self.specialist, X[rows], y[rows], _at(draws, rows)
                                                   ).predict_proba(X[test])[:, 1]
            train_pages, test_pages = np.unique(page_of_row[train]), np.unique(page_of_row[test])
            train_pages = train_pages[page_typed[train_pages]]
            fitted = fit_per_draw(router, profiles[train_pages], is_special[train_pages], _at(page_draws, train_pages))
            route = np.zeros(len(slices))
            route[test_pages] = fitted.predict_proba(profiles[test_pages])[:, 1]
            self.oof_route_[test] = route[page_of_row[test]]
        self.special_ = fit_per_draw(self.specialist, X[special], y[special], _at(draws, special))
        self.router_ = fit_per_draw(router, profiles[page_typed], is_special[page_typed], _at(page_draws, page_typed))

    def predict_proba(self, X: np.ndarray, *, pages: np.ndarray | None = None, words: np.ndarray | None = None,
                      paths: np.ndarray | None = None) -> np.ndarray:
        """(n, 2) probabilities of boilerplate and content; rows without `pages` are one page."""
        second = partial(content_proba, self.second_) if self.two_pass else None
        return two_pass_proba(X, partial(content_proba, self.first_), second, self.thread_floor, pages, words, paths,
                              self.routing())

    def routing(self) -> Routing | None:
        """The fitted specialist and router as `scoring.Routing` scores with them (None when not routed)."""
        if not self.routed:
            return None
        return Routing(partial(content_proba, self.special_), partial(content_proba, self.router_), self.route_cut,
                       self.route_threshold, self.threshold)

    def predict(self, X: np.ndarray, **kwargs: np.ndarray) -> np.ndarray:
        """1 for content, 0 for boilerplate, at the threshold chosen on validation data."""
        return (self.predict_proba(X, **kwargs)[:, 1] >= self.threshold).astype(int)


def save_model(model: BlockClassifier, manifest: Manifest, path: str | Path) -> Path:
    """Write the model with joblib, its packed trees and its manifest (with both files' sha256) beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest.threshold = float(model.threshold)
    manifest.feature_probe = feature_probe(manifest.format)  # the features of the code that trained it
    packed, tpath, mpath = pack(model), trees_path(path), manifest_path(path)
    staged = {final: _staged_name(final) for final in (path, tpath, mpath)}  # a name of this run's own
    try:  # all three written beside their places first: a failed write leaves the old model whole
        joblib.dump(model, staged[path], compress=3)
        manifest.model_sha256 = file_sha256(staged[path])
        manifest.trees_sha256 = file_sha256(packed.save(staged[tpath])) if packed is not None else ""
        staged[mpath].write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True) + "\n")
        with _folder_lock(path.parent):  # two runs saving to one path: one model whole, not a mix of both
            _swap_in({final: temp for final, temp in staged.items() if packed is not None or final != tpath},
                     [tpath] if packed is None else [])  # inference unpickles the joblib file instead
    finally:
        for temp in staged.values():
            temp.unlink(missing_ok=True)
    return path


def _staged_name(final: Path, suffix: str = ".partial") -> Path:
    """A name beside `final` that no other run writes to (the file is made by whoever writes it, with the
    permissions the umask gives, as the model's own)."""
    return final.with_name(f".{final.name}.{os.getpid()}-{secrets.token_hex(4)}{suffix}")


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on a folder, held while a model's files move into it (no lock where flock is missing)."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _swap_in(staged: dict[Path, Path], dropped: list[Path]) -> None:
    """Move each staged file to its place and remove `dropped`, all or none: the files in place are first set
    aside, and put back if any move fails or is interrupted (OSError names the file that could not be replaced)."""
    aside = {final: _staged_name(final, ".old") for final in [*staged, *dropped] if final.exists()}
    try:
        for final, old in aside.items():
            _replace(final, old, final)
        for final, temp in staged.items():
            _replace(temp, final, final)
    except BaseException:  # a failed move, or Ctrl-C between two: what is on disk tells what to put back
        for final, temp in staged.items():
            if final not in aside and not temp.exists():  # a new model's file already in place goes
                final.unlink(missing_ok=True)
        for final, old in aside.items():
            if old.exists():
                os.replace(old, final)
        raise
    for old in aside.values():
        old.unlink(missing_ok=True)


def _replace(source: Path, target: Path, named: Path) -> None:
    try:
        os.replace(source, target)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(named)) from None


def load_model(path: str | Path) -> tuple[BlockClassifier, Manifest]:
    """Load the scikit-learn model after checking its manifest and sha256; raises ModelError otherwise."""
    path = Path(path)
    manifest = read_manifest(path)
    check_manifest(manifest, path)
    try:
        model = joblib.load(path)
    except Exception as exc:  # a corrupt pickle can raise nearly anything
        raise ModelError(f"{path}: could not be loaded: {exc}") from exc
    if not isinstance(model, BlockClassifier):
        raise ModelError(f"{path}: not a noiseclf model (found {type(model).__name__})")
    check_threshold(manifest, model.threshold, path)
    return model, manifest
