"""Evaluation: run a system over a corpus split and score it with the field's metrics.

A system is anything that turns a page into text (noiseclf, or a peer extractor); every page is
timed with the same CPU clock. Each corpus reports the metric its benchmark uses (`PRIMARY`)
alongside the others, plus block-level scores and, on L3S-GN1, related-content tokens kept.
"""

from __future__ import annotations

import re
import statistics
import time
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from . import corpora, metrics
from .augment import plain_markup
from .labelling import label_blocks, oracle_text
from .segmentation import flatten, segment_page, segment_text
from .types import BlockClass, Document, Format, InputError, Page

PRIMARY: dict[str, str] = {
    "scrapinghub_aeb": "shingle_f1", "wcxb": "word_f1", "dragnet": "shingle_f1", "l3s_gn1": "shingle_f1",
    "cleaneval": "shingle_f1", "trafilatura_eval": "snippet_f1",
    "user": "word_f1",  # your own labelled pages (`evaluate --pages`): a gold text, as WCXB's
}


@dataclass
class SystemOutput:
    """What a system returned for one page; `doc`/`keep` only for block classifiers."""

    text: str
    doc: Document | None = None
    keep: np.ndarray | None = None
    proba: np.ndarray | None = None
    confidence: float | None = None
    title: str | None = None  # None: the system gives no title


class System(Protocol):
    name: str

    def run(self, page: Page, input_text: str | None) -> SystemOutput:
        """Extract from `page` (HTML), or from `input_text` when evaluating flattened text."""
        ...


@dataclass
class PageScore:
    """Every metric of one page, and the texts when error analysis asks for them."""

    key: str
    shingle: tuple[float, float, float] | None
    word: dict | None
    snippets: tuple[int, int, int, int] | None
    related: tuple[int, int] | None
    blocks: tuple[int, int, int, int] | None
    cpu_ms: float
    confidence: float | None = None
    title: bool | None = None  # the title is the gold's; None where either gives none
    error: str = ""
    output: str = field(default="", repr=False)
    gold: str = field(default="", repr=False)


@dataclass
class CorpusReport:
    """A system's scores on one corpus split."""

    system: str
    corpus: str
    split: str | None
    format: Format
    pages: list[PageScore]
    summary: dict

    @property
    def primary(self) -> float:
        return self.summary.get(PRIMARY[self.corpus], float("nan"))

    def per_page(self, metric: str = "") -> np.ndarray:
        """Per-page scores of a metric (for bootstraps and distributions)."""
        metric = metric or PRIMARY[self.corpus]
        return np.array([_page_metric(p, metric) for p in self.pages], dtype=float)

    def primary_figures(self) -> tuple[np.ndarray, metrics.Statistic]:
        """Each page's figures of the primary metric (rows of NaN where it has none) and how the corpus score
        is computed from them, for paired bootstraps of that score itself."""
        metric = PRIMARY[self.corpus]
        if metric == "shingle_f1":
            rows = [p.shingle for p in self.pages]
            return _rows(rows, 3), metrics.shingle_f1_score
        if metric == "snippet_f1":
            return _rows([p.snippets[:3] if p.snippets is not None else None for p in self.pages], 3), \
                metrics.snippet_f1_score
        return self.per_page(metric), metrics.mean_score

    def to_json(self, with_pages: bool = True) -> dict:
        data = {"system": self.system, "corpus": self.corpus, "split": self.split, "format": self.format,
                "primary_metric": PRIMARY[self.corpus], "summary": self.summary}
        if with_pages:
            data["pages"] = [{k: v for k, v in asdict(p).items() if k not in ("output", "gold")}
                             for p in self.pages]
        return data


def _rows(rows: Sequence[Sequence[float] | None], width: int) -> np.ndarray:
    return np.array([row if row is not None else (math.nan,) * width for row in rows], dtype=float).reshape(-1, width)


def _page_metric(p: PageScore, metric: str) -> float:
    if metric.startswith("shingle") and p.shingle is not None:
        tp, fp, fn = p.shingle
        return 2 * tp / (2 * tp + fp + fn) if (tp + fp + fn) else 1.0
    if metric.startswith("word") and p.word is not None:
        return p.word["f1"]
    if metric.startswith("snippet") and p.snippets is not None:
        tp, fp, fn, _ = p.snippets
        return 2 * tp / (2 * tp + fp + fn) if (tp + fp + fn) else 1.0
    return float("nan")


def related_runs(page: Page) -> list[str]:
    return [r.text for r in page.gold_runs if r.cls == BlockClass.RELATED]


def flattened_input(page: Page) -> str:
    """The page as a text dump: its HTML blocks, one paragraph each."""
    return flatten(segment_page(page))


def score_page(page: Page, out: SystemOutput, cpu_ms: float, keep_texts: bool = False) -> PageScore:
    """All metrics that apply to this page's gold."""
    has_full_gold = page.corpus != "trafilatura_eval"  # that corpus has snippets only
    shingle = metrics.shingle_counts(out.text, page.gold_text) if has_full_gold else None
    word = metrics.word_prf(out.text, page.gold_text).as_dict() if shingle is not None else None
    snippets = None
    if page.with_snippets or page.without_snippets:
        c = metrics.snippet_counts(out.text, page.with_snippets, page.without_snippets)
        snippets = (c.tp, c.fp, c.fn, c.tn)
    related = metrics.related_kept(out.text, related_runs(page)) if page.gold_runs else None
    blocks = None
    if out.doc is not None and out.keep is not None and shingle is not None:
        gold = label_blocks(out.doc, page).content
        c = metrics.block_counts(out.keep, gold)
        blocks = (c.tp, c.fp, c.fn, c.tn)
    title = metrics.title_matches(out.title, page.title) if out.title is not None and page.title else None
    return PageScore(key=page.key, shingle=shingle, word=word, snippets=snippets, related=related,
                     blocks=blocks, cpu_ms=cpu_ms, confidence=out.confidence, title=title,
                     output=out.text if keep_texts else "", gold=page.gold_text if keep_texts else "")


def summarise(pages: Sequence[PageScore]) -> dict:
    """Corpus-level figures from page scores, as each benchmark defines them."""
    s: dict = {"pages": len(pages), "errors": sum(bool(p.error) for p in pages)}
    sh = [p.shingle for p in pages if p.shingle is not None]
    if sh:
        prf = metrics.shingle_prf(sh)
        s.update(shingle_precision=prf.precision, shingle_recall=prf.recall, shingle_f1=prf.f1)
    words = [metrics.PRF(**p.word) for p in pages if p.word is not None]
    if words:
        prf = metrics.mean_prf(words)
        s.update(word_precision=prf.precision, word_recall=prf.recall, word_f1=prf.f1)
    sn = [metrics.Confusion(*p.snippets) for p in pages if p.snippets is not None]
    if sn:
        prf = metrics.snippet_prf(sn)
        s.update(snippet_precision=prf.precision, snippet_recall=prf.recall, snippet_f1=prf.f1,
                 snippet_accuracy=metrics.snippet_accuracy(sn))
    bl = [metrics.Confusion(*p.blocks) for p in pages if p.blocks is not None]
    if bl:
        prf = sum(bl, metrics.Confusion()).prf()
        s.update(block_precision=prf.precision, block_recall=prf.recall, block_f1=prf.f1)
    rel = [p.related for p in pages if p.related is not None]
    if rel and sum(t for _, t in rel):
        s["related_kept"] = sum(k for k, _ in rel) / sum(t for _, t in rel)
    titles = [p.title for p in pages if p.title is not None]
    if titles:
        s["title_match"] = sum(titles) / len(titles)
    cpu = [p.cpu_ms for p in pages if not p.error]
    if cpu:
        s.update(cpu_ms_median=statistics.median(cpu), cpu_ms_mean=statistics.fmean(cpu))
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in s.items()}


def run_system(system: System, pages: Iterable[Page], format: Format = "html",
               keep_texts: bool = False) -> list[PageScore]:
    """Run a system on pages, timing each call with the process CPU clock; errors become page rows."""
    scores = []
    for page in pages:
        input_text = flattened_input(page) if format == "text" else None
        start = time.process_time()
        try:
            out = system.run(page, input_text)
            error = ""
        except Exception as exc:  # a peer may raise anything; the page still gets a row
            out, error = SystemOutput(text=""), f"{type(exc).__name__}: {exc}"
        cpu_ms = (time.process_time() - start) * 1000
        score = score_page(page, out, cpu_ms, keep_texts)
        score.error = error
        scores.append(score)
    return scores


def evaluate(system: System, corpus: str, split: str | None = None, *, format: Format = "html",
             limit: int | None = None, root: Path | None = None, keep_texts: bool = False,
             pages: Sequence[Page] | None = None) -> CorpusReport:
    """Score `system` on a corpus split (the corpus's test split by default)."""
    if corpus not in PRIMARY:
        raise InputError(f"unknown corpus {corpus!r}; choose from {', '.join(PRIMARY)}")
    split = split if split is not None else corpora.DEFAULT_TEST_SPLIT[corpus]
    if pages is None:
        pages = list(corpora.load_corpus(corpus, split, root=root, limit=limit))
    scores = run_system(system, pages, format, keep_texts)
    return CorpusReport(system=system.name, corpus=corpus, split=split, format=format, pages=scores,
                        summary=summarise(scores))


class NoiseclfSystem:
    """noiseclf as an evaluated system: an Extractor plus the block verdicts for block-level scores;
    with `plain_markup`, each HTML page is read as older markup would have it (`augment.plain_markup`)."""

    def __init__(self, extractor, name: str = "noiseclf", plain_markup: bool = False):
        self.extractor = extractor
        self.name = name
        self.plain_markup = plain_markup

    def run(self, page: Page, input_text: str | None) -> SystemOutput:
        if input_text is not None:
            doc = segment_text(input_text, source=page.key)
        else:
            doc = segment_page(page)
            doc = plain_markup(doc) if self.plain_markup else doc
        result = self.extractor.extract_document(doc, with_blocks=True)
        keep = np.array([b.keep for b in result.blocks], dtype=bool)
        proba = np.array([b.probability for b in result.blocks])
        return SystemOutput(text=result.text, doc=doc, keep=keep, proba=proba, confidence=result.confidence,
                            title=result.title)


class OracleSystem:
    """Keeps exactly the blocks the gold labels mark as content: the ceiling of a block classifier."""

    name = "oracle"

    def run(self, page: Page, input_text: str | None) -> SystemOutput:
        if input_text is not None:
            doc = segment_text(input_text, source=page.key)
        else:
            doc = segment_page(page)
        labels = label_blocks(doc, page)
        return SystemOutput(text=oracle_text(doc, labels), doc=doc, keep=labels.content)


_WORD = re.compile(r"\w+")


def _mostly_outside(paragraph: str, words: set[str]) -> bool:
    """More than half of the paragraph's distinct words are not in `words`."""
    own = set(_WORD.findall(paragraph.lower()))
    return len(own - words) > 0.5 * max(len(own), 1)


def worst_pages(report: CorpusReport, n: int) -> list[dict]:
    """The n pages with the lowest primary score, with the paragraphs wrongly kept and the gold lines missed
    (a gold text may hold a paragraph a line)."""
    scores = report.per_page()
    rows = []
    for i in np.argsort(scores)[:n]:
        p = report.pages[int(i)]
        gold_words = set(_WORD.findall(p.gold.lower()))
        out_words = set(_WORD.findall(p.output.lower()))
        rows.append({
            "page": p.key, "score": round(float(scores[int(i)]), 4),
            "kept_not_gold": [x for x in p.output.split("\n\n") if x.strip() and _mostly_outside(x, gold_words)],
            "gold_missed": [x for x in p.gold.splitlines() if x.strip() and _mostly_outside(x, out_words)],
        })
    return rows


def reports_table(reports: Sequence[CorpusReport]) -> list[dict]:
    """One row per (system, corpus) with the headline figures."""
    rows = []
    for r in reports:
        s = r.summary
        rows.append({"system": r.system, "corpus": r.corpus, "split": r.split, "format": r.format,
                     "metric": PRIMARY[r.corpus], "f1": s.get(PRIMARY[r.corpus]),
                     "precision": s.get(PRIMARY[r.corpus].replace("f1", "precision")),
                     "recall": s.get(PRIMARY[r.corpus].replace("f1", "recall")),
                     "cpu_ms_median": s.get("cpu_ms_median"), "related_kept": s.get("related_kept")})
    return rows


TextSystemFn = Callable[[str], str]


class FunctionSystem:
    """Wrap a function html -> text (a peer extractor) as a System."""

    def __init__(self, name: str, fn: TextSystemFn, text_fn: TextSystemFn | None = None):
        self.name = name
        self.fn = fn
        self.text_fn = text_fn

    def run(self, page: Page, input_text: str | None) -> SystemOutput:
        if input_text is None:
            from .segmentation import decode_html

            return SystemOutput(text=self.fn(decode_html(page.content, page.encoding or None, page.key)) or "")
        if self.text_fn is not None:
            return SystemOutput(text=self.text_fn(input_text) or "")
        return SystemOutput(text=self.fn(text_as_html(input_text)) or "")


def text_as_html(text: str) -> str:
    """Wrap a text dump one <p> a block, so HTML extractors can read it (issue 3's baseline)."""
    import html

    paras = [p for p in text.split("\n\n") if p.strip()]
    return "<html><body>" + "".join(f"<p>{html.escape(p)}</p>" for p in paras) + "</body></html>"
