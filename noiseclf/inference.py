"""Inference: load models once, then extract the main text of HTML or plain-text pages.

An Extractor holds one model per input format (html, text), normally its packed trees (see
`scoring`: no scikit-learn import, no unpickling), and no other state but the scikit-learn
classifier that explanations load on demand, so it can be shared across threads and two
extractors never interfere.
"""

from __future__ import annotations

import numbers
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np

from .artifact import Manifest, check_manifest, check_threshold, packed_trees_file, read_manifest
from .features import block_features, block_path_ids, block_words
from .render import check_output, plain_text, render
from .scoring import PackedModel, after_story_thread, page_confidence
from .segmentation import segment
from .types import Document, Extraction, Format, InputError, ModelError, ScoredBlock

if TYPE_CHECKING:
    from .model import BlockClassifier

Scorer = Union[PackedModel, "BlockClassifier"]  # what inference calls: predict_proba, threshold, calibrator

DEFAULT_MODEL_FILES: dict[str, str] = {"html": "default-html.joblib", "text": "default-text.joblib"}
# A page keeping fewer words than this once the thread rule dropped its reader thread is scored again without
# the thread: a short post under a long thread reads as a minor block of a page the thread dominates.
THREADLESS_WORDS = 30
CARD_REACH = 4  # blocks before an excerpt within which its deck's copies sit
CARD_HEADLINE_WORDS = 20  # a card's headline, the line over its first deck, is at most this long
_SENTENCE_END = re.compile(r"[.!?][\"'”’»]?$")
_TERMINAL = tuple('.!?:;"\')”’»')


def card_teasers(doc: Document) -> np.ndarray:
    """Blocks of teaser cards that print another story's first sentence twice and then again with the
    lines after it, cut off ("Headline", "Deck.", "Deck.", "Deck. Its opening lines, cut"), as card
    lists flattened to text and some card markup do: boilerplate whatever their topic. No training
    page holds one, so the model cannot learn them, and inference drops them after it. A story's
    own first paragraph under a summary that repeats its first sentence ends in a full stop."""
    texts = [b.text for b in doc.blocks]  # white space already collapsed by segmentation
    decks = {t for t, k in Counter(texts).items() if k > 1 and len(t.split()) >= 4 and _SENTENCE_END.search(t)}
    card = np.zeros(len(texts), bool)
    if not decks:
        return card
    for j, text in enumerate(texts):
        if _SENTENCE_END.search(text) and not text.endswith("..."):
            continue
        before = range(max(0, j - CARD_REACH), j)
        deck = next((texts[i] for i in before if texts[i] in decks and len(text) > len(texts[i])
                     and text.startswith(texts[i])), None)
        if deck is None:
            continue
        copies = [i for i in before if texts[i] == deck]
        card[copies + [j]] = True
        head = copies[0] - 1
        if head >= 0 and len(texts[head].split()) <= CARD_HEADLINE_WORDS and not texts[head].endswith(_TERMINAL):
            card[head] = True
    return card


def default_model_dir() -> Path:
    """Where the shipped models live: the installed `noiseclf.artifacts` package or the checkout's artifacts/."""
    try:
        from importlib.resources import files

        path = Path(str(files("noiseclf.artifacts")))
        if (path / DEFAULT_MODEL_FILES["html"]).is_file():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[1] / "artifacts"


def default_model_path(format: Format = "html") -> Path:
    return default_model_dir() / DEFAULT_MODEL_FILES[format]


def load_scorer(path: str | Path) -> tuple[Scorer, Manifest]:
    """The model at `path` for inference: its packed trees when it has them (no scikit-learn import, no
    unpickling), else the unpickled classifier, packed in memory when it can be. Files are verified first."""
    manifest = read_manifest(path)
    packed_file = packed_trees_file(path, manifest)
    if packed_file is not None:
        check_manifest(manifest, Path(path), unpickling=False)
        packed = PackedModel.load(packed_file)
        check_threshold(manifest, packed.threshold, Path(path))
        return packed, manifest
    from .model import load_model, pack

    model, manifest = load_model(path)
    return pack(model) or model, manifest


class Extractor:
    """Loads the models once; `extract` then runs segmentation, features and the classifier per page."""

    def __init__(self, models: dict[str, tuple[Scorer, Manifest]], *, paths: dict[str, Path] | None = None,
                 threshold: float | None = None):
        if not models:
            raise ModelError("an Extractor needs at least one model")
        self._models = dict(models)
        self._paths = dict(paths or {})  # model files by format, for `classifier`
        self._classifiers: dict[str, BlockClassifier] = {}
        self.threshold = checked_threshold(threshold)

    @classmethod
    def load(cls, path: str | Path | None = None, *, text_path: str | Path | None = None,
             threshold: float | None = None) -> Extractor:
        """The shipped models, or the model at `path` (its manifest says html or text) plus the default other;
        `threshold` replaces each model's own decision threshold (higher: more precision, less recall)."""
        models: dict[str, tuple[Scorer, Manifest]] = {}
        paths: dict[str, Path] = {}
        for given in (path, text_path):
            if given is None:
                continue
            if not isinstance(given, (str, os.PathLike)):
                raise ModelError(f"a model path is a str or path, not {type(given).__name__}")
            model, manifest = load_scorer(given)
            models[manifest.format], paths[manifest.format] = (model, manifest), Path(given)
        for fmt in ("html", "text"):
            default = default_model_path(fmt)  # type: ignore[arg-type]
            if fmt not in models and default.is_file():
                try:
                    models[fmt], paths[fmt] = load_scorer(default), default
                except ModelError:
                    if not models:  # no model of the user's own to fall back on
                        raise
        if not models:
            raise ModelError(f"no model given and no default model in {default_model_dir()}")
        return cls(models, paths=paths, threshold=threshold)

    def __repr__(self) -> str:
        models = ", ".join(f"{fmt}={str(self._paths.get(fmt, 'in memory'))!r} threshold {self.threshold_for(fmt)}"
                           for fmt in sorted(self._models))
        return f"Extractor({models})"

    def with_threshold(self, threshold: float | None) -> Extractor:
        """The same models deciding at `threshold` (None: each model's own)."""
        twin = Extractor(self._models, paths=self._paths, threshold=threshold)
        twin._classifiers = self._classifiers
        return twin

    def threshold_for(self, fmt: str) -> float:
        """The probability a block of `fmt` input needs to be kept: the override, else the model's own."""
        return self.model_for(fmt)[0].threshold if self.threshold is None else self.threshold

    @property
    def model_files(self) -> dict[str, Path]:
        """The file each format's model was loaded from."""
        return dict(self._paths)

    @property
    def manifests(self) -> dict[str, Manifest]:
        return {fmt: manifest for fmt, (_, manifest) in self._models.items()}

    def model_for(self, fmt: str) -> tuple[Scorer, Manifest]:
        """The model that classifies `fmt` input: its own, else the other format's (each reads the other's
        blocks: a text model flattened HTML, an html model plain lines)."""
        if fmt not in ("html", "text"):
            raise InputError(f"unknown format {fmt!r} (html or text)")
        if fmt in self._models:
            return self._models[fmt]
        fallback = "html" if fmt == "text" else "text"
        if fallback in self._models:  # a text model reads flattened HTML blocks too, and vice versa
            return self._models[fallback]
        raise ModelError(f"no model loaded for {fmt} input")

    def classifier(self, fmt: str) -> BlockClassifier:
        """The scikit-learn classifier behind the model for `fmt` (for explanations and feature
        importance), unpickled from its file on first use when extraction runs on packed trees."""
        model, manifest = self.model_for(fmt)
        if not isinstance(model, PackedModel):
            return model
        if manifest.format not in self._classifiers:  # two threads may both load it: harmless
            if manifest.format not in self._paths:
                raise ModelError(f"no model file known for the packed {manifest.format} model")
            from .model import load_model

            self._classifiers[manifest.format] = load_model(self._paths[manifest.format])[0]
        return self._classifiers[manifest.format]

    def classify(self, doc: Document) -> np.ndarray:
        """Content probability of every block of a segmented page."""
        if not doc.blocks:
            return np.zeros(0)
        return self.score(doc, block_features(doc))

    def score(self, doc: Document, X: np.ndarray) -> np.ndarray:
        """Content probability of every block of a page from its feature matrix `X` (`page_scores`)."""
        model, _ = self.model_for(doc.format)
        return page_scores(doc, X, block_words(doc), partial(_model_scores, model), model).proba

    def extract_document(self, doc: Document, *, with_blocks: bool = False, output: str = "text") -> Extraction:
        """Classify the blocks of a segmented page and assemble the result; `output`: text, markdown or html."""
        if not isinstance(doc, Document):
            raise InputError(f"extract_document takes a Document (noiseclf.segmentation.segment), "
                             f"not {type(doc).__name__}")
        check_output(output, doc.source)
        if not doc.blocks:
            return Extraction(title=doc.shown_title, text="", format=doc.format, confidence=0.0)
        model, _ = self.model_for(doc.format)
        proba = self.classify(doc)
        keep = proba >= self.threshold_for(doc.format)
        words = block_words(doc)
        text = plain_text((b for b, k in zip(doc.blocks, keep) if k), doc.symbol_cells)
        scored = tuple(ScoredBlock(b, float(p), bool(k)) for b, p, k in zip(doc.blocks, proba, keep)) \
            if with_blocks or output != "text" else ()
        result = Extraction(title=doc.shown_title, text=text, format=doc.format,
                            confidence=page_confidence(proba, words, keep, model), blocks=scored,
                            symbol_cells=doc.symbol_cells if scored else ())
        if output != "text":  # the other renderings need every block's layout context
            result = replace(result, text=render(result, output), blocks=scored if with_blocks else (),
                             symbol_cells=result.symbol_cells if with_blocks else ())
        return result

    def extract(self, content: str | bytes, *, format: str = "auto", source: str = "",
                url: str | None = None, with_blocks: bool = False, encoding: str | None = None,
                output: str = "text", threshold: float | None = None) -> Extraction:
        """Extract the title and main text (rendered as text, markdown or html) of one page, str or bytes.
        `source` (else `url`) names the page in errors; `encoding` is the charset of bytes (an HTTP header's),
        else sniffed; `threshold` replaces this extractor's for this page."""
        check_output(output, source or url or "")
        extractor = self if threshold is None else self.with_threshold(threshold)
        doc = segment(content, format=format, source=source or url or "", encoding=encoding)
        return extractor.extract_document(doc, with_blocks=with_blocks, output=output)


def checked_threshold(threshold: object, name: str = "threshold") -> float | None:
    """A decision threshold as given (None: the models' own); anything but a number from 0 to 1 is refused."""
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0 <= threshold <= 1:
        raise InputError(f"{name} must be a number from 0 to 1 (a block's content probability), not {threshold!r}")
    return float(threshold)


@dataclass(frozen=True, slots=True)
class PageScores:
    """Every block's content probability, and the rules after the model that dropped blocks (for explanations)."""

    proba: np.ndarray
    thread: np.ndarray  # dropped by the after-story thread rule, in the scoring the block's probability comes from
    cards: np.ndarray  # dropped as teaser cards (`card_teasers`)
    rescored: np.ndarray  # scored again on the page without its thread (`scored_without_thread`)


def page_scores(doc: Document, X: np.ndarray, words: np.ndarray,
                scores: Callable[[Document, np.ndarray, np.ndarray], np.ndarray], model: Scorer) -> PageScores:
    """The one scoring flow of extraction and explanation: `scores(doc, X, words)` (the model's probabilities,
    with or without its thread rule), the after-story thread rule, a page that keeps under `THREADLESS_WORDS`
    words without its thread scored again without it, and teaser cards at 0."""
    thread = after_story_thread(X, model.thread_floor)
    p = np.where(thread, 0.0, scores(doc, X, words))
    rescored = np.zeros(len(thread), bool)
    if scored_without_thread(thread, words, p >= model.threshold):
        rescored = ~thread
        rest = without(doc, thread)
        X_rest = block_features(rest)
        thread_rest = after_story_thread(X_rest, model.thread_floor)
        p[rescored] = np.where(thread_rest, 0.0, scores(rest, X_rest, words[rescored]))
        thread[rescored] = thread_rest
    cards = card_teasers(doc)
    return PageScores(np.where(cards, 0.0, p) if cards.any() else p, thread, cards, rescored)


def scored_without_thread(thread: np.ndarray, words: np.ndarray, keep: np.ndarray) -> bool:
    """Whether a page whose thread rule dropped the blocks `thread` is scored again without them: it
    keeps under `THREADLESS_WORDS` words, and something lies outside the thread."""
    return bool(thread.any() and not thread.all() and words[keep].sum() < THREADLESS_WORDS)


def without(doc: Document, dropped: np.ndarray) -> Document:
    """The page without the blocks `dropped`, as a page of its own."""
    return replace(doc, blocks=tuple(b for b, d in zip(doc.blocks, dropped) if not d))


def _model_scores(model: Scorer, doc: Document, X: np.ndarray, words: np.ndarray) -> np.ndarray:
    """The model's content probabilities for a page's blocks (thread rule included)."""
    if not model.two_pass:  # only a second pass reads the neighbours' words and tag paths
        return model.predict_proba(X)[:, 1]
    return model.predict_proba(X, words=words, paths=block_path_ids(doc))[:, 1]


@lru_cache(maxsize=1)
def _default_extractor() -> Extractor:
    return Extractor.load()


def extract(content: str | bytes, *, format: str = "auto", with_blocks: bool = False,
            output: str = "text", threshold: float | None = None) -> Extraction:
    """One-call extraction with the shipped default models (loaded once, on first use); `threshold` as in
    `Extractor.load`."""
    return _default_extractor().extract(content, format=format, with_blocks=with_blocks, output=output,
                                        threshold=threshold)
