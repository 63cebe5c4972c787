"""The block classifier follows scikit-learn conventions; its artifact round-trips and guards itself."""

import json

import numpy as np
import pytest
from sklearn.base import clone

from noiseclf.features import FEATURE_NAMES, N_FEATURES
from noiseclf.model import (
    COMPILED_TREES,
    BlockClassifier,
    Manifest,
    default_trees,
    load_model,
    manifest_path,
    pack,
    pack_trees,
    save_model,
)
from noiseclf.scoring import PackedModel
from noiseclf.types import ModelError


def synthetic_pages(n_pages=40, seed=0):
    """Pages whose content blocks form one contiguous run; a block's own features are noisy,
    so knowing the neighbours' scores (the second pass) helps."""
    rng = np.random.default_rng(seed)
    X, y, pages, words, paths = [], [], [], [], []
    for page in range(n_pages):
        n = 40
        start = rng.integers(5, 15)
        label = np.zeros(n, int)
        label[start: start + 15] = 1
        signal = label + rng.normal(0, 0.9, n)
        feats = rng.normal(0, 1, (n, N_FEATURES)).astype(np.float32)
        feats[:, 0] = signal
        X.append(feats)
        y.append(label)
        pages.append(np.full(n, page))
        words.append(rng.integers(1, 50, n).astype(np.float32))
        paths.append(label.copy())
    return (np.vstack(X), np.concatenate(y), np.concatenate(pages), np.concatenate(words),
            np.concatenate(paths))


@pytest.fixture(scope="module")
def fitted():
    X, y, pages, words, paths = synthetic_pages()
    model = BlockClassifier(first=default_trees(30), second=default_trees(30), n_folds=3)
    model.fit(X, y, pages=pages, words=words, paths=paths)
    return model


def test_estimator_conventions(fitted):
    params = fitted.get_params()
    assert {"first", "second", "n_folds", "two_pass", "threshold"} <= set(params)
    assert clone(fitted).get_params()["n_folds"] == 3
    assert list(fitted.classes_) == [0, 1]
    assert fitted.n_features_in_ == N_FEATURES
    assert not hasattr(fitted, "oof_missing_attribute")


def test_predict_proba_and_predict_agree(fitted):
    X, y, pages, words, paths = synthetic_pages(5, seed=1)
    proba = fitted.predict_proba(X, pages=pages, words=words, paths=paths)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    pred = fitted.predict(X, pages=pages, words=words, paths=paths)
    np.testing.assert_array_equal(pred, (proba[:, 1] >= fitted.threshold).astype(int))
    assert fitted.predict_proba(np.zeros((0, N_FEATURES))).shape == (0, 2)


def test_single_thread_scoring_matches_predict_proba(fitted):
    from noiseclf.model import content_proba

    X = synthetic_pages(2, seed=3)[0]
    X[0, 1] = np.nan  # missing values take the side the tree learned for them
    np.testing.assert_allclose(content_proba(fitted.first_, X), fitted.first_.predict_proba(X)[:, 1], rtol=1e-6)
    refit = clone(fitted.first_).fit(*synthetic_pages(seed=8)[:2])
    before = content_proba(refit, X)
    refit.fit(*synthetic_pages(seed=9)[:2])  # refitted in place: the packed trees must follow
    np.testing.assert_allclose(content_proba(refit, X), refit.predict_proba(X)[:, 1], rtol=1e-12)
    assert not np.array_equal(before, content_proba(refit, X))


@pytest.mark.skipif(not COMPILED_TREES, reason="noiseclf._trees is not built (pip install -e .)")
def test_compiled_tree_sum_is_bitwise_scikit_learns():
    X, y = synthetic_pages(seed=4)[:2]
    X[::7, 0] = np.nan  # the trees learn a side for missing values
    est = default_trees(25).fit(X, y)
    Xt = synthetic_pages(3, seed=5)[0]
    Xt[::5, 0] = np.nan
    packed = pack_trees(est)
    np.testing.assert_array_equal(packed.proba(Xt, compiled=True), packed.proba(Xt, compiled=False))
    np.testing.assert_allclose(packed.proba(Xt, compiled=True), est.predict_proba(Xt)[:, 1], rtol=1e-12)
    X32 = Xt.astype(np.float32)  # features come as float32: read as they are, they split as their float64 values
    np.testing.assert_array_equal(packed.proba(X32, compiled=True), packed.proba(X32.astype(np.float64), compiled=False))
    for compiled in (True, False):
        with pytest.raises(ValueError, match=f"read {packed.columns} columns"):
            packed.proba(Xt[:, : packed.columns - 1], compiled=compiled)


@pytest.mark.skipif(not COMPILED_TREES, reason="noiseclf._trees is not built (pip install -e .)")
def test_float32_features_on_either_side_of_a_threshold_split_as_their_float64_values():
    X, y = synthetic_pages(seed=4)[:2]
    packed = pack_trees(default_trees(25).fit(X.astype(np.float64) * 1.001, y))  # thresholds between float32s
    split = np.flatnonzero(packed.is_leaf == 0)
    nearest = packed.threshold[split].astype(np.float32)
    rows = []
    for values in (nearest, np.nextafter(nearest, np.float32(np.inf)), np.nextafter(nearest, np.float32(-np.inf))):
        block = np.zeros((len(split), N_FEATURES), np.float32)
        block[np.arange(len(split)), packed.feature[split]] = values
        rows.append(block)
    X32 = np.vstack(rows)
    assert (X32[np.arange(len(split)), packed.feature[split]] != packed.threshold[split]).all()
    np.testing.assert_array_equal(packed.raw_scores(X32, compiled=True),
                                  packed.raw_scores(X32.astype(np.float64), compiled=False))


def test_trees_too_wide_for_the_compiled_records_are_walked_by_numpy():
    from noiseclf.scoring import PackedTrees

    column = 20_000  # past the 16,383 columns a compiled record can name
    trees = PackedTrees(roots=np.array([0], np.int32), feature=np.array([column, 0, 0], np.int32),
                        threshold=np.array([0.5, 0.0, 0.0]), left=np.array([1, 0, 0], np.int32),
                        right=np.array([2, 0, 0], np.int32), missing_left=np.zeros(3, np.uint8),
                        is_leaf=np.array([0, 1, 1], np.uint8), value=np.array([0.0, -1.0, 2.0]), baseline=0.25)
    trees.check(column + 1)
    X = np.zeros((3, column + 1), np.float32)
    X[:, column] = [0.0, 0.5, 0.75]
    assert trees.tables is None
    np.testing.assert_array_equal(trees.raw_scores(X, compiled=True), [-0.75, -0.75, 2.25])


def test_packed_model_round_trips_and_scores_as_the_classifier(tmp_path, fitted):
    X, _, pages, words, paths = synthetic_pages(3, seed=6)
    X[::9, 2] = np.nan
    packed = PackedModel.load(pack(fitted).save(tmp_path / "m.trees.npz"))
    assert packed.second is not None and packed.threshold == fitted.threshold
    np.testing.assert_array_equal(packed.predict_proba(X, pages=pages, words=words, paths=paths),
                                  fitted.predict_proba(X, pages=pages, words=words, paths=paths))
    (tmp_path / "junk.trees.npz").write_bytes(b"not an archive")
    with pytest.raises(ModelError, match="junk.trees.npz"):
        PackedModel.load(tmp_path / "junk.trees.npz")


@pytest.mark.parametrize("field, damage, message", [
    ("feature", lambda a, split: a.__setitem__(split, 10_000), "outside the"),
    ("left", lambda a, split: a.__setitem__(split, 0), "backwards"),
    ("right", lambda a, split: a.__setitem__(split, len(a)), "outside its tree"),
    ("left", lambda a, split: a.__setitem__(split, a[split] + 1), "left child is not the node after it"),
    ("value", lambda a, split: None, "value is float32"),
])
def test_packed_trees_the_walk_cannot_run_safely_are_refused(tmp_path, fitted, field, damage, message):
    from dataclasses import replace

    packed = pack(fitted)
    array = getattr(packed.first, field).copy()
    split = int(np.flatnonzero(packed.first.is_leaf == 0)[3])  # a split of the first tree
    damage(array, split)
    if field == "value":
        array = array.astype(np.float32)
    path = replace(packed, first=replace(packed.first, **{field: array})).save(tmp_path / "bad.trees.npz")
    with pytest.raises(ModelError, match=f"bad.trees.npz.*{message}"):
        PackedModel.load(path)


def test_models_that_cannot_be_packed_are_saved_without_trees(tmp_path):
    from sklearn.linear_model import LogisticRegression

    X, y, pages, words, paths = synthetic_pages(8, seed=7)
    model = BlockClassifier(first=LogisticRegression(max_iter=200), two_pass=False).fit(
        X, y, pages=pages, words=words, paths=paths)
    assert pack(model) is None
    path = save_model(model, Manifest(format="html"), tmp_path / "lr.joblib")
    assert load_model(path)[1].trees_sha256 == "" and not path.with_suffix(".trees.npz").exists()


def test_second_pass_uses_neighbours(fitted):
    first_acc = ((fitted.oof_first_ >= 0.5) == synthetic_pages()[1]).mean()
    second_acc = ((fitted.oof_proba_ >= 0.5) == synthetic_pages()[1]).mean()
    assert second_acc > first_acc + 0.03


def test_artifact_round_trip_and_guards(tmp_path, fitted):
    path = save_model(fitted, Manifest(format="html", training_data=[{"corpus": "synthetic"}]), tmp_path / "m.joblib")
    model, manifest = load_model(path)
    assert manifest.format == "html" and manifest.feature_names == list(FEATURE_NAMES)
    assert len(manifest.model_sha256) == 64 and manifest.threshold == fitted.threshold

    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered = tmp_path / "tampered.joblib"
    tampered.write_bytes(bytes(data))
    manifest_path(tampered).write_text(manifest_path(path).read_text())
    with pytest.raises(ModelError, match="sha256"):
        load_model(tampered)

    raw = json.loads(manifest_path(path).read_text())
    raw["feature_names"] = raw["feature_names"][:-1]
    manifest_path(path).write_text(json.dumps(raw))
    with pytest.raises(ModelError, match=f"features differ .*, from #{len(FEATURE_NAMES) - 1}: nothing where"):
        load_model(path)
    raw["feature_names"] = [*raw["feature_names"][:3], "renamed", *raw["feature_names"][4:], FEATURE_NAMES[-1]]
    manifest_path(path).write_text(json.dumps(raw))
    with pytest.raises(ModelError, match=f"from #3: 'renamed' where this code has '{FEATURE_NAMES[3]}'"):
        load_model(path)

    manifest_path(path).unlink()
    with pytest.raises(ModelError, match="manifest"):
        load_model(path)
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "absent.joblib")


def test_thread_floor_drops_comment_regions_only_after_enough_outside_prose(fitted):
    from noiseclf.model import after_story_thread

    X = synthetic_pages(1, seed=4)[0]
    region, outside = FEATURE_NAMES.index("comment_region"), FEATURE_NAMES.index("page_outside_prose")
    X[:, region] = 0
    X[30:, region] = 1
    X[:, outside] = np.log1p(400)
    X[:, FEATURE_NAMES.index("forum_like")] = 0
    base = clone(fitted).set_params(thread_floor=float("inf"))
    base.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    p_off = base.predict_proba(X)[:, 1]
    for floor, dropped in ((300.0, True), (500.0, False)):
        base.set_params(thread_floor=floor)
        p = base.predict_proba(X)[:, 1]
        np.testing.assert_array_equal(p[:30], p_off[:30])
        assert (p[30:] == 0).all() if dropped else np.array_equal(p[30:], p_off[30:])
    X[:, FEATURE_NAMES.index("forum_like")] = 1  # a forum thread is the page, whatever lies outside it
    forum = base.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(forum, base.set_params(thread_floor=float("inf")).predict_proba(X)[:, 1])
    assert not after_story_thread(np.zeros((0, N_FEATURES)), 300.0).any()


def test_training_picks_the_lowest_thread_floor_as_good_as_the_best():
    from noiseclf.tables import BlockMatrix
    from noiseclf.training import choose_thread_floor

    # two pages: a story (content) with a thread after it (boilerplate, yet scored high), a forum thread (content)
    X = np.zeros((6, N_FEATURES), np.float32)
    region, outside = FEATURE_NAMES.index("comment_region"), FEATURE_NAMES.index("page_outside_prose")
    X[[1, 2, 4, 5], region] = 1
    X[:3, outside] = np.log1p(2000)
    X[3:, outside] = np.log1p(20)
    y = np.array([1, 0, 0, 1, 1, 1], np.int8)
    m = BlockMatrix(X=X, y=y, cls=y, pages=np.array([0, 0, 0, 1, 1, 1]), sites=np.array([0, 0, 0, 1, 1, 1]),
                    words=np.full(6, 100.0, np.float32), paths=np.zeros(6, np.int64), page_keys=["a", "b"])
    floor, f1 = choose_thread_floor(np.full(6, 0.9), m, 0.5)
    assert floor == 50.0 and f1 == 1.0  # the story's thread goes; the forum's stays above its 20 outside words
    y[1:3] = 1  # a gold that counts the story's comments: dropping them never pays
    assert choose_thread_floor(np.full(6, 0.9), m, 0.5)[0] == float("inf")


def typed_pages(n_pages=40, seed=0):
    """Synthetic pages of two types told apart by a page-wide column: on "article" pages feature 0
    marks content; on the others feature 1 does, with feature 0 reversed."""
    X, y, pages, words, paths = synthetic_pages(n_pages, seed)
    article = (pages % 2 == 0)
    X[:, 5] = article  # what the router can read from the page's profile
    other = ~article
    X[other, 1] = y[other] + np.random.default_rng(seed).normal(0, 0.3, other.sum())
    X[other, 0] = -X[other, 0]
    return X, y, pages, words, paths, article


@pytest.fixture(scope="module")
def routed():
    X, y, pages, words, paths, article = typed_pages()
    model = BlockClassifier(first=default_trees(30), two_pass=False, n_folds=3, specialist=default_trees(30),
                            threshold=0.4, route_cut=0.5, route_threshold=0.6)
    return model.fit(X, y, pages=pages, words=words, paths=paths, special=article)


def test_specialist_is_blended_in_on_the_pages_the_router_sends_it(routed):
    from noiseclf.model import content_proba
    from noiseclf.scoring import blend

    X, y, pages, words, paths, article = typed_pages(6, seed=4)
    proba = routed.predict_proba(X, pages=pages)[:, 1]
    general = content_proba(routed.first_, X)
    rows = np.isin(pages, pages[article])
    np.testing.assert_array_equal(proba[~rows], general[~rows])  # other pages: the general model alone
    expected = blend(general[rows], content_proba(routed.special_, X[rows]), 0.6, 0.4)
    np.testing.assert_allclose(proba[rows], expected)
    assert not np.allclose(proba[rows], general[rows])
    assert {"oof_special_", "oof_route_"} <= set(vars(routed))
    one_page = pages == pages[article][0]  # a page scored alone is routed the same way
    np.testing.assert_array_equal(routed.predict_proba(X[one_page])[:, 1], proba[one_page])


def test_blend_puts_the_route_threshold_on_the_models():
    from noiseclf.scoring import blend

    p = np.linspace(0, 1, 101)
    out = blend(p, p, 0.6, 0.4)
    assert out[0] == 0 and out[-1] == pytest.approx(1) and out[60] == pytest.approx(0.4)
    assert (np.diff(out) > 0).all()
    assert ((out >= 0.4) == (p >= 0.6)).all()  # the same blocks kept as the route's own threshold keeps


def test_routed_model_packs_bitwise_and_refuses_half_a_route(tmp_path, routed):
    X, _, pages, _, _, _ = typed_pages(4, seed=5)
    X[::7, 3] = np.nan
    path = pack(routed).save(tmp_path / "r.trees.npz")
    packed = PackedModel.load(path)
    assert packed.special is not None and packed.route_cut == 0.5 and packed.route_threshold == 0.6
    for page in np.unique(pages):
        rows = pages == page
        np.testing.assert_array_equal(packed.predict_proba(X[rows]), routed.predict_proba(X[rows]))
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files if not k.startswith("router.")}
    np.savez(tmp_path / "half.trees.npz", **arrays)
    with pytest.raises(ModelError, match="half.trees.npz.*without its router"):
        PackedModel.load(tmp_path / "half.trees.npz")


def test_training_routes_as_many_pages_as_the_plateau_allows():
    from noiseclf.tables import BlockMatrix
    from noiseclf.training import choose_route

    # three pages of two blocks, content then boilerplate; the router ranks them 0.9, 0.4, 0.15
    y = np.array([1, 0, 1, 0, 1, 0], np.int8)
    m = BlockMatrix(X=np.zeros((6, N_FEATURES), np.float32), y=y, cls=y, pages=np.repeat([0, 1, 2], 2),
                    sites=np.repeat([0, 1, 2], 2), words=np.full(6, 10.0, np.float32), paths=np.zeros(6, np.int64),
                    page_keys=["a", "b", "c"])
    route = np.repeat([0.9, 0.4, 0.15], 2)
    general = np.array([0.9, 0.6, 0.9, 0.6, 0.9, 0.6])  # keeps the boilerplate too
    special = np.array([0.9, 0.1, 0.9, 0.1, 0.9, 0.1])  # keeps only the content
    assert choose_route(general, special, route, m, 0.5, 0.5)[0] == 0.1  # routing every page is best
    assert choose_route(general, general, route, m, 0.5, 0.5)[0] == 0.1  # no worse anywhere: still routed
    harmful = np.array([0.0, 0.9, 0.0, 0.9, 0.0, 0.9])  # the blend drops the content
    assert choose_route(general, harmful, route, m, 0.5, 0.5)[0] == float("inf")  # never route


def test_a_model_fitted_on_several_draws_averages_one_member_a_draw_and_packs_to_its_scores(tmp_path):
    from noiseclf.model import AveragedTrees, content_proba

    X, y, pages, words, paths, article = typed_pages()
    draws = (pages >= pages.max() // 2).astype(int)  # two draws; sites (pages here) fall in one fold either way
    model = BlockClassifier(first=default_trees(20), two_pass=False, n_folds=3, specialist=default_trees(20),
                            threshold=0.4, route_cut=0.5, route_threshold=0.6)
    model.fit(X, y, pages=pages, words=words, paths=paths, special=article, draws=draws)
    for part in (model.first_, model.special_, model.router_):
        assert isinstance(part, AveragedTrees) and len(part.estimators_) == 2
    own = clone(default_trees(20)).fit(X[draws == 1], y[draws == 1])  # the second member saw draw 1 only
    np.testing.assert_array_equal(model.first_.estimators_[1].decision_function(X), own.decision_function(X))
    mean = 1 / (1 + np.exp(-(own.decision_function(X) + model.first_.estimators_[0].decision_function(X)) / 2))
    np.testing.assert_allclose(content_proba(model.first_, X), mean, rtol=1e-12)
    np.testing.assert_allclose(model.first_.predict_proba(X)[:, 1], mean, rtol=1e-12)
    packed = PackedModel.load(pack(model).save(tmp_path / "d.trees.npz"))
    assert len(packed.first.roots) == 2 * len(pack_trees(own).roots)
    for page in np.unique(pages)[:6]:
        rows = pages == page
        np.testing.assert_array_equal(packed.predict_proba(X[rows]), model.predict_proba(X[rows]))
    single = BlockClassifier(first=default_trees(20), two_pass=False, n_folds=3)
    single.fit(X, y, pages=pages, words=words, paths=paths, draws=np.zeros(len(y), int))  # one draw: no members
    assert not isinstance(single.first_, AveragedTrees)
    from noiseclf.explain import global_importance

    gains = [global_importance(e, N_FEATURES) for e in model.first_.estimators_]
    np.testing.assert_allclose(global_importance(model.first_, N_FEATURES), gains[0] + gains[1])
    assert gains[0][0] > 0  # the signal column splits in both members
    from sklearn.inspection import permutation_importance

    shuffled = permutation_importance(model.first_, X[:400], y[:400], n_repeats=2, random_state=0)
    assert shuffled.importances_mean[0] > 0.05  # a scikit-learn estimator, as the report's importance needs


def _shipped_ensembles():
    from noiseclf.inference import Extractor

    extractor = Extractor.load()
    for fmt in ("html", "text"):
        model = extractor.model_for(fmt)[0]
        for part in ("first", "special", "router"):
            if getattr(model, part) is not None:
                yield f"{fmt}.{part}", getattr(model, part)


def _rows_around_thresholds(trees, n_columns: int, splits: int, seed: int) -> np.ndarray:
    """float32 rows setting one split's feature to its float32 threshold, one ulp either side, or NaN."""
    from noiseclf._treegen import float32_at_most

    split = np.flatnonzero(trees.is_leaf == 0)
    split = np.random.default_rng(seed).choice(split, min(splits, len(split)), replace=False)
    at = float32_at_most(trees.threshold[split])
    blocks = []
    for values in (at, np.nextafter(at, np.float32(np.inf)), np.nextafter(at, np.float32(-np.inf)),
                   np.full(len(split), np.nan, np.float32)):
        block = np.random.default_rng(seed).random((len(split), n_columns), np.float32)
        block[np.arange(len(split)), trees.feature[split]] = values
        blocks.append(block)
    return np.vstack(blocks)


@pytest.mark.skipif(not COMPILED_TREES, reason="the compiled helpers are not built (pip install -e .)")
def test_the_shipped_trees_compiled_as_c_sum_bitwise_as_the_table_walk():
    from noiseclf import scoring

    if scoring._shipped_trees is None:
        pytest.skip("noiseclf._shipped_trees is not built")
    for name, trees in _shipped_ensembles():
        assert trees.generated is not None, name
        X32 = _rows_around_thresholds(trees, trees.columns, splits=600, seed=len(name))
        np.testing.assert_array_equal(trees.raw_scores(X32), trees.raw_scores(X32, compiled=False), err_msg=name)
        assert trees.raw_scores(X32[:0]).shape == (0,)


def test_trees_that_differ_from_the_shipped_ones_in_one_leaf_take_the_table_walk():
    from dataclasses import replace

    name, trees = next(_shipped_ensembles())
    value = trees.value.copy()
    value[np.flatnonzero(trees.is_leaf)[0]] += 1e-9
    changed = replace(trees, value=value)
    assert changed.generated is None
    X32 = _rows_around_thresholds(changed, changed.columns, splits=200, seed=1)
    np.testing.assert_array_equal(changed.raw_scores(X32), changed.raw_scores(X32, compiled=False))


def test_the_router_learns_from_typed_pages_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from noiseclf import model as model_module

    X, y, pages, words, paths, article = typed_pages()
    typed = pages < 30  # pages 30-39 come from a corpus that gives no page types: no "other" pages
    seen: list[int] = []
    fit = model_module.fit_per_draw

    def spy(estimator, X_, y_, draws):
        if X_.shape[0] <= 40:  # page profiles: the router's rows
            seen.append(X_.shape[0])
        return fit(estimator, X_, y_, draws)

    monkeypatch.setattr(model_module, "fit_per_draw", spy)
    BlockClassifier(first=default_trees(10), two_pass=False, n_folds=3, specialist=default_trees(10),
                    threshold=0.4, route_cut=0.5, route_threshold=0.6).fit(
        X, y, pages=pages, words=words, paths=paths, special=article & typed, typed=typed)
    assert seen[-1] == 30 and all(n <= 30 for n in seen)  # the final router, and each fold's
