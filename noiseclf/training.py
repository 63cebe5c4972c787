"""Training: fit the block classifier on corpus block tables, validate by site, write the artifact.

Validation is cross-validation grouped by site, so a site's template never sits on both sides:
the classifier keeps the out-of-fold scores of both passes, and the decision threshold and the
page-confidence calibrator are chosen on those. Where the pages say their type (WCXB does), an
article specialist and a page router are fitted too, and when to route is chosen the same way.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import corpora
from .calibration import GOOD_F1
from .features import FEATURE_NAMES
from .model import (DEFAULT_LEAVES, DEFAULT_TREES, MIN_LEAF, BlockClassifier, Manifest, after_story_thread,
                    default_trees, leaf_minimum, save_model)
from .scoring import blend, confidence_inputs
from .tables import BlockMatrix, build_table, code_fingerprint, to_matrix
from .types import Format, InputError

# estimator name -> (size knob, leaves a tree, blocks a leaf) -> unfitted estimator; only the boosted trees read
# the leaves and their size
ESTIMATORS: dict[str, Callable[[int, int, int], object]] = {
    "trees": lambda n, leaves, min_leaf: default_trees(max_iter=n, leaves=leaves, min_leaf=min_leaf),
    "forest": lambda n, leaves, min_leaf: RandomForestClassifier(n_estimators=max(n // 2, 50), min_samples_leaf=5,
                                                                 n_jobs=-1, random_state=0),
    "logistic": lambda n, leaves, min_leaf: make_pipeline(StandardScaler(), LogisticRegression(max_iter=n * 4, C=1.0)),
}


@dataclass
class TrainConfig:
    """What to train on and how."""

    sources: Sequence[tuple[str, str | None]] = (("wcxb", "dev"),)  # (corpus, split) pairs
    format: Format = "html"
    estimator: str = "trees"
    max_iter: int = DEFAULT_TREES
    leaves: int = DEFAULT_LEAVES  # leaves a boosted tree
    two_pass: bool = False
    n_folds: int = 3
    limit: int | None = None  # pages per source, for quick runs
    augment: float = 0.5  # share of corpus pages given a spliced teaser section (noiseclf.augment)
    furniture: float = 0.0  # share of corpus pages given a newsletter box or cookie notice (noiseclf.augment)
    inline_teasers: float = 0.0  # share of teaser splices that are one inline "Related: ..." line
    related_lists: float = 0.0  # share of teaser splices that are a list of linked headlines inside the story
    plain_markup: float = 0.0  # share of corpus pages rewritten without HTML5 sectioning elements and class hints
    draws: int = 1  # augmentation draws of each page; each model is one member a draw, averaged
    specialist: str = "article"  # page type of the specialist model ("" for none; needs pages that say their type)
    root: Path | None = None
    cache_dir: Path | None = None
    extra_tables: Sequence = field(default_factory=tuple)  # tables built elsewhere (user data)
    extra_names: Sequence[str] = ()  # where each extra table came from (such as its file), for error messages


@dataclass
class TrainResult:
    model: BlockClassifier
    manifest: Manifest
    report: dict


def page_word_scores(proba: np.ndarray, m: BlockMatrix, threshold: float) -> np.ndarray:
    """Per-page word F1 of keeping blocks at `threshold`, judged by the block labels (vectorised)."""
    keep = proba >= threshold
    w = m.words
    tp = np.bincount(m.pages, weights=w * (keep & (m.y == 1)))
    fp = np.bincount(m.pages, weights=w * (keep & (m.y == 0)))
    fn = np.bincount(m.pages, weights=w * (~keep & (m.y == 1)))
    present = np.bincount(m.pages) > 0
    has_gold = (tp + fn) > 0
    f1 = np.where(has_gold, 2 * tp / np.maximum(2 * tp + fp + fn, 1e-9), (tp + fp == 0).astype(float))
    return f1[present]


PLATEAU = 0.003  # thresholds whose mean page F1 is this close to the best count as equally good


def threshold_curve(proba: np.ndarray, m: BlockMatrix) -> tuple[np.ndarray, np.ndarray]:
    """Mean page word F1 (by block labels) over a grid of thresholds."""
    grid = np.round(np.arange(0.05, 0.901, 0.025), 3)
    return grid, np.array([page_word_scores(proba, m, t).mean() for t in grid])


def choose_threshold(proba: np.ndarray, m: BlockMatrix) -> tuple[float, float]:
    """The most precise threshold on the plateau of the best mean page word F1, and its F1.

    The WCXB curve is nearly flat over a wide range; of equally good thresholds the highest
    drops the most boilerplate, which is what other corpora's stricter golds reward.
    """
    grid, scores = threshold_curve(proba, m)
    best = int(np.flatnonzero(scores >= scores.max() - PLATEAU)[-1])
    return float(grid[best]), float(scores[best])


THREAD_FLOORS = (float("inf"), 1000.0, 500.0, 300.0, 150.0, 100.0, 50.0, 20.0, 0.0)


def choose_thread_floor(proba: np.ndarray, m: BlockMatrix, threshold: float) -> tuple[float, float]:
    """The lowest floor of outside prose above which dropping comment regions keeps the best page word F1.

    Lower floors drop more threads; of floors as good as the best (within PLATEAU) the lowest wins,
    as the threshold does, because the other corpora's golds never count reader comments.
    """
    scores = [page_word_scores(np.where(after_story_thread(m.X, f), 0.0, proba), m, threshold).mean()
              for f in THREAD_FLOORS]
    best = max(i for i, s in enumerate(scores) if s >= max(scores) - PLATEAU)
    return THREAD_FLOORS[best], float(scores[best])


ROUTE_CUTS = (0.1, 0.2, 0.3, 0.5, 0.7, float("inf"))


def routed_scores(general: np.ndarray, special: np.ndarray, route: np.ndarray, cut: float,
                  route_threshold: float, threshold: float) -> np.ndarray:
    """Out-of-fold scores as `scoring.Routing` makes them: the blend where the router reaches `cut`."""
    return np.where(route >= cut, blend(general, special, route_threshold, threshold), general)


def choose_route(general: np.ndarray, special: np.ndarray, route: np.ndarray, m: BlockMatrix,
                 threshold: float, route_threshold: float) -> tuple[float, float]:
    """The lowest router cut whose mean page word F1 is within PLATEAU of the best (inf: never route).

    Routing more pages to the specialist is the stricter choice; like the threshold, of equally good
    cuts the one that routes most wins, because the other corpora's golds are stricter than WCXB's.
    """
    scores = [page_word_scores(routed_scores(general, special, route, cut, route_threshold, threshold), m,
                               threshold).mean() for cut in ROUTE_CUTS]
    best = min(i for i, s in enumerate(scores) if s >= max(scores) - PLATEAU)
    return ROUTE_CUTS[best], float(scores[best])


def fit_calibrator(proba: np.ndarray, m: BlockMatrix, threshold: float):
    """Map page-level score summaries to P(page word F1 >= GOOD_F1) on validation pages."""
    keep = proba >= threshold
    f1 = page_word_scores(proba, m, threshold)  # by page id, as the rows grouped below
    order = np.argsort(m.pages, kind="stable")
    pages = np.split(order, np.flatnonzero(np.diff(m.pages[order])) + 1)
    inputs = [confidence_inputs(proba[rows], m.words[rows], keep[rows]) for rows in pages]
    outcome = f1 >= GOOD_F1
    if outcome.all() or not outcome.any():
        return None
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)).fit(np.array(inputs), outcome)


def _classifier(config: TrainConfig, min_leaf: int) -> BlockClassifier:
    base = ESTIMATORS[config.estimator](config.max_iter, config.leaves, min_leaf)
    return BlockClassifier(first=base, second=clone(base), n_folds=config.n_folds, two_pass=config.two_pass,
                           specialist=clone(base) if config.specialist else None)


def _special_rows(config: TrainConfig, m: BlockMatrix) -> np.ndarray | None:
    """Rows of pages of the specialist's type, or None when there is none or every page is one."""
    if not config.specialist or m.page_types is None:
        return None
    rows = m.page_types == config.specialist
    return rows if 0 < rows.mean() < 1 else None


def _fit(model: BlockClassifier, m: BlockMatrix, special: np.ndarray | None = None,
         draws: np.ndarray | None = None) -> BlockClassifier:
    typed = (m.page_types != "") if special is not None and m.page_types is not None else None
    return model.fit(m.X, m.y, pages=m.pages, words=m.words, paths=m.paths, groups=m.sites, special=special,
                     draws=draws, typed=typed)


def _choose_routing(model: BlockClassifier, m: BlockMatrix, special: np.ndarray, val_proba: np.ndarray,
                    threshold: float, log: Callable[[str], None]) -> tuple[np.ndarray, dict]:
    """Set the model's route on its out-of-fold scores; the routed scores and what to record of them."""
    oof_special, oof_route = model.__dict__.pop("oof_special_"), model.__dict__.pop("oof_route_")
    special_threshold, special_f1 = choose_threshold(oof_special[special], m.subset(special))
    route_threshold = round((threshold + special_threshold) / 2, 4)
    cut, routed_f1 = choose_route(val_proba, oof_special, oof_route, m, threshold, route_threshold)
    model.route_cut, model.route_threshold = cut, route_threshold
    first_rows = np.unique(m.pages, return_index=True)[1]
    accuracy = float(((oof_route[first_rows] >= 0.5) == special[first_rows]).mean())
    log(f"specialist: out-of-fold page word F1 {special_f1:.4f} on its pages at threshold {special_threshold}; "
        f"router accuracy {accuracy:.3f}; route at {cut:g}: page word F1 {routed_f1:.4f}")
    record = {"special_pages": int(len(np.unique(m.pages[special]))), "special_threshold": special_threshold,
              "special_page_word_f1": round(special_f1, 4), "router_accuracy": round(accuracy, 3),
              "route_cut": cut if np.isfinite(cut) else None, "route_threshold": route_threshold,
              "page_word_f1_routed": round(routed_f1, 4)}
    return routed_scores(val_proba, oof_special, oof_route, cut, route_threshold, threshold), record


def _source_record(corpus: str, split: str | None, m: BlockMatrix, root: Path | None) -> dict:
    """A training source as the manifest records it: where, how much, and the archive's checksum."""
    location = (root or corpora.data_root()) / f"{corpus}.tar.gz"
    sha = hashlib.sha256(location.read_bytes()).hexdigest() if location.is_file() else ""
    return {"corpus": corpus, "split": split, "pages": len(np.unique(m.pages)), "blocks": int(len(m.y)),
            "archive_sha256": sha}


def _pages_record(name: str, table) -> dict:
    """Your own labelled pages as the manifest records them: where they came from, how much."""
    return {"pages_file": name, "pages": len(table.unique("page")), "blocks": int(table.num_rows)}


def _check_sources(config: TrainConfig) -> None:
    """Refuse, before any table is built, the held-out test set, a bad limit and what `corpora.check_sources`
    refuses."""
    if "scrapinghub_aeb" in {c for c, _ in config.sources}:
        raise InputError("scrapinghub_aeb is a held-out test set: never train or tune on it")
    if config.limit is not None and config.limit < 1:
        raise InputError(f"limit must be at least 1 page per corpus, not {config.limit}")
    corpora.check_sources(config.sources, config.root)


def _named_tables(config: TrainConfig, tables: Sequence) -> list[tuple[str, Sequence]]:
    """Each source's name (CORPUS[:SPLIT], or where an extra table came from) with its tables (a corpus's draws)."""
    draws = config.draws
    named = [(corpora.source_name(c, s), tables[i * draws:(i + 1) * draws]) for i, (c, s) in enumerate(config.sources)]
    return named + [(config.extra_names[i] if i < len(config.extra_names) else f"extra table {i + 1}", [table])
                    for i, table in enumerate(config.extra_tables)]


def _refuse_shared_pages(named: Sequence[tuple[str, Sequence]]) -> None:
    """Refuse a page id found in two sources: merged, its rows would mix two pages' blocks and neighbours."""
    owner: dict[str, str] = {}
    for name, tables in named:
        for key in dict.fromkeys(key for table in tables for key in table.unique("page")):  # in page order
            if key in owner:
                where = f"{name} is given twice" if owner[key] == name else f"is in both {owner[key]} and {name}"
                raise InputError(f"page id {key.split('/', 1)[-1]!r}: {where}; give each page once, "
                                 "with ids that differ between files")
            owner[key] = name


def _pages_held_out_alone(tables: Sequence[object]) -> int:
    """How many of your pages validation holds out one by one (their site is their own page: too few hosts)."""
    return sum(len({page for page, site in zip(t["page"], t["site"]) if page == site}) for t in tables)


def _check_matrix(m: BlockMatrix, inputs: str) -> None:
    """Refuse training data that cannot give a model with a threshold chosen on held-out pages."""
    if len(m.page_keys) < 2:
        raise InputError(f"{inputs}: {len(m.page_keys)} page(s) with text blocks; at least 2 pages are needed "
                         "to choose a threshold on held-out pages")
    if len(np.unique(m.sites)) < 2:
        raise InputError(f"{inputs}: every page is of one site; validation holds out whole sites, so pages of "
                         "at least 2 sites are needed")
    if m.y.min() == m.y.max():
        raise InputError(f"{inputs}: every block is labelled {'content' if m.y[0] else 'boilerplate'}; "
                         "training needs both content and boilerplate blocks")


def train(config: TrainConfig, log: Callable[[str], None] = lambda _: None) -> TrainResult:
    """Build tables, validate on held-out sites, refit on everything, and return model + manifest."""
    _check_sources(config)
    start, fingerprint = time.time(), code_fingerprint()  # the code this run loaded: its tables' key and its record
    tables, records, row_draws = [], [], []
    for corpus, split in config.sources:
        drawn = [build_table(corpus, split, format=config.format, limit=config.limit, root=config.root,
                             cache_dir=config.cache_dir, augment=config.augment, furniture=config.furniture,
                             inline=config.inline_teasers, draw=draw, plain=config.plain_markup,
                             lists=config.related_lists, version=fingerprint)
                 for draw in range(config.draws)]
        tables += drawn
        row_draws += [np.full(t.num_rows, draw) for draw, t in enumerate(drawn)]
        records.append((corpus, split, to_matrix(drawn[:1])))
        log(f"table {corpus}/{split or 'all'}: {sum(t.num_rows for t in drawn)} blocks in {config.draws} draw(s)")
    row_draws += [np.zeros(t.num_rows, int) for t in config.extra_tables]  # user tables: one draw
    named = _named_tables(config, tables)
    _refuse_shared_pages(named)
    m = to_matrix(list(tables) + list(config.extra_tables))
    _check_matrix(m, ", ".join(name for name, _ in named))
    log(f"{len(m.y)} blocks from {len(m.page_keys)} pages, {m.y.mean():.1%} content")

    special = _special_rows(config, m)
    types = sorted(set(m.page_types.tolist()) - {""}) if m.page_types is not None else []
    if config.specialist and types and config.specialist not in types:
        log(f"note: no page is of type {config.specialist!r} (they are {', '.join(map(repr, types))}): "
            "no specialist")
    draws = np.concatenate(row_draws) if config.draws > 1 else None
    min_leaf = leaf_minimum(len(m.y))
    if min_leaf < MIN_LEAF and config.estimator == "trees":
        log(f"note: {len(m.y)} blocks are few: a leaf of the trees holds {min_leaf} blocks at the least "
            f"({MIN_LEAF} from {100 * MIN_LEAF:,} blocks up), and the model will be rough")
    model = _fit(_classifier(config, min_leaf), m, special, draws)
    val_proba, oof_first = model.__dict__.pop("oof_proba_"), model.__dict__.pop("oof_first_")  # not shipped
    threshold, val_f1 = choose_threshold(val_proba, m)
    first_threshold, first_f1 = choose_threshold(oof_first, m)
    block_acc = float(((val_proba >= threshold) == m.y).mean())
    alone = _pages_held_out_alone(config.extra_tables)
    held_out = f"by site, {alone} of your pages one by one" if alone else "by site"
    log(f"out-of-fold ({held_out}): page word F1 {val_f1:.4f} at threshold {threshold} "
        f"(first pass alone {first_f1:.4f}), block accuracy {block_acc:.4f}")
    routing: dict = {}
    if special is not None and "oof_special_" in vars(model):
        val_proba, routing = _choose_routing(model, m, special, val_proba, threshold, log)
    elif special is not None:
        log(f"no {config.specialist} specialist: a validation fold lacks pages of its type or of others")
    thread_floor, thread_f1 = choose_thread_floor(val_proba, m, threshold)
    log(f"comment threads dropped on pages with >= {thread_floor:g} words of prose outside them: "
        f"page word F1 {thread_f1:.4f}")
    val_proba = np.where(after_story_thread(m.X, thread_floor), 0.0, val_proba)
    model.threshold, model.thread_floor = threshold, thread_floor
    model.confidence_calibrator_ = fit_calibrator(val_proba, m, threshold)
    validation = {
        "method": f"{config.n_folds}-fold cross-validation grouped by site"
                  + (f" ({alone} pages without enough sites held out one by one)" if alone else ""),
        "sites": int(len(np.unique(m.sites))) - alone, "pages": int(len(m.page_keys)),
        "page_word_f1_blocks": round(val_f1, 4),
        "first_pass_page_word_f1_blocks": round(first_f1, 4), "first_pass_threshold": first_threshold,
        "block_accuracy": round(block_acc, 4), "threshold": threshold,
        "thread_floor": thread_floor if np.isfinite(thread_floor) else None,
        "page_word_f1_with_thread_floor": round(thread_f1, 4),
        "threshold_curve": {f"{g:.3f}": round(float(s), 4) for g, s in zip(*threshold_curve(val_proba, m))},
    }
    if routing:
        validation["specialist"] = routing
    manifest = Manifest(
        format=config.format, threshold=threshold, validation=validation,
        training_data=[_source_record(c, s, sm, config.root) for c, s, sm in records]
        + [_pages_record(name, table) for name, [table] in named[len(config.sources):]],
        params={"estimator": config.estimator, "max_iter": config.max_iter,
                "leaves": config.leaves if config.estimator == "trees" else None,
                "min_leaf": min_leaf if config.estimator == "trees" else None,
                "two_pass": config.two_pass, "n_folds": config.n_folds, "limit": config.limit,
                "augment": config.augment, "furniture": config.furniture, "inline_teasers": config.inline_teasers,
                "related_lists": config.related_lists,
                "plain_markup": config.plain_markup, "draws": config.draws,
                "specialist": config.specialist if routing else "", "table_fingerprint": fingerprint,
                "seconds": round(time.time() - start, 1)},
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    return TrainResult(model=model, manifest=manifest, report=validation)


def train_and_save(config: TrainConfig, out: Path, log: Callable[[str], None] = lambda _: None) -> TrainResult:
    """Train and write the model file and its manifest."""
    result = train(config, log)
    try:
        save_model(result.model, result.manifest, out)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(out) else ""
        raise InputError(f"{out}: the model could not be written{where}: {exc.strerror or exc}") from exc
    log(f"wrote {out} ({len(FEATURE_NAMES)} features, threshold {result.model.threshold})")
    return result
