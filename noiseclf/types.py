"""Core types shared by every stage: blocks, documents, corpus pages, extraction results, errors.

Stages exchange these small dataclasses; nothing here imports another noiseclf module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum
from functools import reduce
from operator import and_
from typing import Literal

Format = Literal["html", "text"]
MAX_BYTES = 10_000_000  # the default size limit of one record or page, in bytes (characters for a str)
# A lone UTF-16 surrogate: what a JSON "\\ud800" escape without its partner, or a file name in another
# charset read with surrogateescape, decodes to; no UTF-8 writer takes it.
SURROGATE = re.compile("[\ud800-\udfff]")


class NoiseclfError(Exception):
    """Base class of every error noiseclf raises on purpose."""


class InputError(NoiseclfError):
    """A page, file or record could not be read or parsed; the message names the input."""


class ModelError(NoiseclfError):
    """A model file is missing, tampered with, or made by an incompatible version."""


class BlockClass(IntEnum):
    """Fine-grained gold classes (L3S-GN1's scheme); other corpora use CONTENT / NOT_CONTENT."""

    NOT_CONTENT = 0
    HEADLINE = 1
    FULL_TEXT = 2
    SUPPLEMENTAL = 3
    RELATED = 4
    COMMENTS = 5

    @property
    def is_content(self) -> bool:
        return self in (BlockClass.HEADLINE, BlockClass.FULL_TEXT)


# Characters a browser does not show, which only mark where a line may break or must not: soft hyphen,
# zero-width space, word joiner, zero-width no-break space. Left in, they cut words in two ("Mit\xadtel").
INVISIBLE = "\xad\u200b\u2060\ufeff"
_INVISIBLE_TABLE = dict.fromkeys(map(ord, INVISIBLE))


def visible(text: str) -> str:
    """`text` without the `INVISIBLE` characters: block texts and titles, and gold when labels are aligned."""
    return text.translate(_INVISIBLE_TABLE) if any(ch in text for ch in INVISIBLE) else text


def verbatim(raw: str, text: str) -> str:
    """A <pre> block's text as written (`raw`: its text nodes joined) without blank lines around it or white
    space ending a line; "" where that is `text`, the block's text with white space collapsed."""
    lines = [line.rstrip() for line in raw.splitlines()]
    start = next((i for i, line in enumerate(lines) if line), len(lines))
    end = next((i for i in range(len(lines), start, -1) if lines[i - 1]), start)
    kept = "\n".join(lines[start:end])
    return "" if kept == text else kept


CELL_TAGS = frozenset({"td", "th"})  # a table cell's elements: `Block.column` counts them, the renderers join them


# Bits of Block.ancestors: structural elements enclosing the block (the block's own element included).
ANCESTOR_TAGS: tuple[str, ...] = (
    "a", "p", "li", "ul", "ol", "dl", "table", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
    "nav", "header", "footer", "aside", "article", "main", "section", "form", "blockquote",
    "figure", "figcaption", "pre", "code", "button", "label", "select", "time", "address",
    "strong", "em", "b", "i", "span", "div", "small", "sup", "cite", "menu", "dialog", "details",
)
ANCESTOR_BIT: dict[str, int] = {tag: 1 << i for i, tag in enumerate(ANCESTOR_TAGS)}

# Bits of Block.hints: keywords found in the class/id/role/itemprop of the block or its ancestors. Letters only:
# segmentation looks for them token by token, between white space, "_" and "-".
HINT_WORDS: tuple[str, ...] = (
    "nav", "menu", "header", "footer", "sidebar", "side", "widget", "related", "teaser",
    "recommend", "promo", "sponsor", "ad", "banner", "share", "social", "comment", "reply",
    "breadcrumb", "tag", "categor", "author", "byline", "date", "meta", "caption", "credit",
    "article", "content", "main", "post", "entry", "story", "body", "text", "blog", "title",
    "headline", "summary", "lead", "newsletter", "subscribe", "cookie", "consent", "popup",
    "modal", "login", "signup", "search", "pagination", "pager", "more", "latest", "popular",
    "trending", "list", "card", "feed", "tool", "button", "icon", "hidden", "print", "copyright",
    "legal", "contact", "disclaimer", "rating", "review", "question", "answer", "toc", "note",
)
HINT_BIT: dict[str, int] = {word: 1 << i for i, word in enumerate(HINT_WORDS)}


@dataclass(frozen=True, slots=True)
class Block:
    """One text block of a page, with the layout context its features are computed from."""

    text: str
    tag: str = "p"  # the block-level element the text belongs to ("line" for plain text)
    depth: int = 0  # element depth in the DOM (0 for plain text)
    path: str = ""  # tag path from the root, e.g. "html/body/div/article/p"
    heading: int = 0  # 1-6 inside <h1>..<h6>, else 0
    link_chars: int = 0  # characters of the text inside <a>
    ancestors: int = 0  # bitmask over ANCESTOR_TAGS
    hints: int = 0  # bitmask over HINT_WORDS
    attrs: str = ""  # class/id tokens of the block's element and nearest ancestors, space separated
    offset: int = 0  # character offset of the block in the page's text stream
    elements: tuple[int, ...] = ()  # ids of the enclosing elements, root first, the block's own element last
    element_hints: tuple[int, ...] = ()  # each of those elements' own hint bits (not its ancestors')
    verbatim: str = ""  # inside <pre>: the text with its line breaks and indentation, where that differs from `text`
    column: int = 0  # inside a table cell: the cell's column in its row (the cells before it, by colspan), else 0

    @property
    def shown(self) -> str:
        """The text as a reader sees it: `verbatim` inside <pre> (code keeps its lines), else `text`."""
        return self.verbatim or self.text

    def within(self, tag: str) -> bool:
        return bool(self.ancestors & ANCESTOR_BIT[tag])

    def hinted(self, word: str) -> bool:
        return bool(self.hints & HINT_BIT[word])


@dataclass(frozen=True, slots=True)
class Document:
    """A page cut into ordered blocks; the unit every stage after segmentation works on."""

    blocks: tuple[Block, ...]
    title: str = ""  # the page's title as the features read it (og:title, or the <title> part its <h1> restates)
    format: Format = "html"
    source: str = ""  # a name for the input in messages: a path, URL or record id
    story_title: str = ""  # `title` without the site's name, as outputs show it; "" where it is `title`
    # table cells showing only symbols ("✓", "—"), cut as blocks but left out of `blocks` (no word to classify):
    # only the renderers read them, in the rows of a data table they keep
    symbol_cells: tuple[Block, ...] = field(default=(), repr=False)

    @property
    def shown_title(self) -> str:
        """The title outputs show: the story's, without the site's name."""
        return self.story_title or self.title

    def __len__(self) -> int:
        return len(self.blocks)

    @property
    def page_hints(self) -> int:
        """Hint bits every block carries: classes of a page-wide wrapper (<body class="has-comments">),
        which say nothing about one block against another."""
        return reduce(and_, (b.hints for b in self.blocks), -1)


@dataclass(frozen=True, slots=True)
class GoldRun:
    """A piece of gold text with its class (L3S-GN1 annotated runs; elsewhere one FULL_TEXT run)."""

    text: str
    cls: BlockClass = BlockClass.FULL_TEXT


@dataclass(frozen=True, slots=True)
class Page:
    """One labelled page of a corpus: raw input plus gold, the same record for all six corpora."""

    id: str
    corpus: str
    split: str  # "dev"/"test"/"train"/"final"/"all" as the corpus names them
    content: bytes  # the raw page as stored (HTML bytes, already gunzipped)
    gold_text: str = ""  # main content, paragraphs separated by blank lines
    gold_runs: tuple[GoldRun, ...] = ()  # class-labelled gold text in page order (L3S only)
    with_snippets: tuple[str, ...] = ()  # snippets the main text must contain
    without_snippets: tuple[str, ...] = ()  # snippets it must not contain
    url: str = ""
    domain: str = ""
    title: str = ""
    page_type: str = ""
    encoding: str = ""  # a declared encoding from the corpus, when it has one

    @property
    def key(self) -> str:
        return f"{self.corpus}/{self.id}"


@dataclass(frozen=True, slots=True)
class ScoredBlock:
    """A block with the model's verdict."""

    block: Block
    probability: float
    keep: bool

    @property
    def text(self) -> str:
        """The block's text as extractions show it (code inside <pre> keeps its lines)."""
        return self.block.shown


@dataclass(frozen=True, slots=True)
class Extraction:
    """What extracting one page returns: the title, the main text and, on request, every block."""

    title: str
    text: str
    format: Format
    confidence: float  # page-level: how sure the model is that `text` is the page's main content
    blocks: tuple[ScoredBlock, ...] = field(default=(), repr=False)
    symbol_cells: tuple[Block, ...] = field(default=(), repr=False)  # the page's `Document.symbol_cells`, with `blocks`

    @property
    def kept(self) -> tuple[ScoredBlock, ...]:
        return tuple(b for b in self.blocks if b.keep)
