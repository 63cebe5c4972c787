"""Shared fixtures: a tiny model trained on hand-written pages, and the shipped default extractor."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small two-pass html model trained in seconds on tests/fixtures pages through the user-data path."""
    from threadpoolctl import threadpool_limits

    from noiseclf.training import TrainConfig, train_and_save
    from noiseclf.userdata import user_tables

    folder = tmp_path_factory.mktemp("tiny_model")
    out = folder / "tiny-html.joblib"
    with threadpool_limits(limits=1, user_api="openmp"):  # tiny fits: threads only add waiting
        tables = user_tables([FIXTURES / "pages.jsonl", FIXTURES / "marked"], format="html",
                             cache_dir=folder / "cache")
        train_and_save(TrainConfig(sources=(), format="html", max_iter=20, two_pass=True, extra_tables=tables), out)
    return out


@pytest.fixture(scope="session")
def default_extractor():
    """The shipped default models, or a skip while artifacts/ has none."""
    from noiseclf import Extractor, ModelError

    try:
        return Extractor.load()
    except ModelError as exc:
        pytest.skip(f"default model absent: {exc}")
