"""Training-data augmentation: teaser sections of *other* stories spliced into a page.

Teasers are rare in any one corpus but are the noise a main-text extractor is judged by: a
"Read also"/"Latest" marker, then for each unrelated story its headline, a summary line repeated,
that line again with the first sentences of the story cut mid-sentence, and a tag. We build them
from other pages of the same training split (so no outside data enters the model), label every
spliced block boilerplate, and place the section after the article or inside it.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from .types import ANCESTOR_BIT, HINT_BIT, Block, Document

MARKERS = ("Read also:", "Related:", "Latest", "Comments", "More from this section", "You may also like",
           "Recommended for you", "Read more:", "Most popular", "Related stories", "More stories", "Up next",
           "Trending now", "See also", "Don't miss", "Editor's picks", "Top stories", "In case you missed it")
TAGS = ("Members Public", "Premium", "Opinion", "Sponsored", "Analysis", "Free", "Subscriber only", "Video")
CHROME = ("Skip to content", "Advertisement", "Share", "Tweet", "Email", "Print", "Share this article",
          "Sign up for our newsletter", "Subscribe", "Log in", "Menu", "Search", "Back to top")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Donor:
    """What a page lends to another page's teasers: its headline and opening sentences."""

    title: str
    sentences: tuple[str, ...]


def donor(doc: Document, content: np.ndarray) -> Donor | None:
    """A page's headline and first content sentences, when it has both."""
    paras = [b.text for b, keep in zip(doc.blocks, content) if keep and len(b.text.split()) >= 12]
    title = doc.title.strip()
    if not paras or not title or len(title.split()) < 3:
        return None
    return Donor(title, tuple(s for s in _SENTENCES.split(" ".join(paras[:2])) if s)[:4])


def _cut(text: str, rng: np.random.Generator) -> str:
    """Cut text mid-sentence, with or without an ellipsis, as teaser summaries are."""
    words = text.split()
    keep = max(6, int(len(words) * rng.uniform(0.4, 0.85)))
    return " ".join(words[:keep]) + rng.choice(["", "...", "…", " ..."])


def _teaser(d: Donor, rng: np.random.Generator) -> list[tuple[str, str]]:
    """(text, role) blocks of one teaser; roles pick the layout of the spliced HTML blocks."""
    line = d.sentences[0]
    rest = " ".join(d.sentences)
    style = rng.integers(4)
    if style == 0:  # the defining shape: headline, line twice, line with the story's start, tag
        blocks = [(d.title, "headline"), (line, "summary"), (line, "summary"), (_cut(rest, rng), "summary")]
    elif style == 1:
        blocks = [(d.title, "headline"), (_cut(rest, rng), "summary")]
    elif style == 2:
        blocks = [(d.title, "headline")]
    else:
        blocks = [(d.title, "headline"), (d.title, "headline"), (_cut(line, rng), "summary")]
    if rng.random() < 0.6:
        blocks.append((str(rng.choice(TAGS)), "tag"))
    return blocks


_LAYOUT = {
    "headline": ("h3", ("a", "h3", "div", "aside", "section")),
    "summary": ("p", ("p", "div", "aside", "section")),
    "tag": ("span", ("span", "div", "aside")),
    "marker": ("h2", ("h2", "div", "aside")),
    "chrome": ("div", ("a", "div")),
}


_SPLICED_IDS = 1 << 30  # element ids of spliced blocks start here, clear of any page's own


def _html_block(text: str, role: str, anchor: Block, rng: np.random.Generator, elements: tuple[int, ...],
                page_hints: int) -> Block:
    """A spliced block with the layout teasers have: in an aside/div, headlines linked, the aside sometimes hinted.

    It carries the hint bits every block of the page carries (a class on <body>), as it would in the page,
    and the anchor's enclosing elements' own hints above the aside.
    """
    tag, ancestors = _LAYOUT[role]
    bits = sum(ANCESTOR_BIT[a] for a in ancestors if a in ANCESTOR_BIT) | (anchor.ancestors & ANCESTOR_BIT["main"])
    aside = HINT_BIT[str(rng.choice(["related", "teaser", "card", "more", "latest"]))] if rng.random() < 0.4 else 0
    hints = aside | page_hints
    above = anchor.element_hints[:-2] if len(anchor.element_hints) == len(anchor.elements) \
        else (0,) * len(anchor.elements[:-2])
    base = anchor.path.rsplit("/", 2)[0]
    linked = role in ("headline", "chrome") or (role == "summary" and rng.random() < 0.3)
    return Block(text=text, tag=tag, depth=anchor.depth + 1, path=f"{base}/aside/div/{tag}",
                 heading=3 if tag == "h3" else (2 if tag == "h2" else 0), link_chars=len(text) if linked else 0,
                 ancestors=bits, hints=hints, attrs="", offset=0, elements=elements,
                 element_hints=above + (aside, 0, 0))


def splice(doc: Document, content: np.ndarray, donors: list[Donor],
           rng: np.random.Generator) -> tuple[Document, np.ndarray, np.ndarray]:
    """The page with a teaser section (and stray chrome) added; new content labels and an is-new mask."""
    kept = np.flatnonzero(content)
    if not len(kept) or not donors:
        return doc, content, np.zeros(len(doc.blocks), bool)
    section = [(str(rng.choice(MARKERS)), "marker", 0)]
    if rng.random() < 0.4:
        section.append((str(rng.choice(MARKERS)), "marker", 0))
    for k, d in enumerate(rng.choice(len(donors), size=min(len(donors), int(rng.integers(1, 4))), replace=False)):
        section += [(text, role, k + 1) for text, role in _teaser(donors[int(d)], rng)]
    inside = rng.random() < 0.3 and len(kept) > 4
    at = int(kept[rng.integers(2, len(kept) - 1)]) if inside else int(kept[-1]) + 1
    anchor = doc.blocks[min(at, len(doc.blocks) - 1)]
    new = section
    if rng.random() < 0.5:
        new = [(str(rng.choice(CHROME)), "chrome", 99)] + new
    # The section is an aside beside the anchor's element; each teaser a div in it, each block its own element.
    outer = anchor.elements[:-2] + (_SPLICED_IDS,)
    spliced = [_html_block(t, r, anchor, rng, outer + (_SPLICED_IDS + 1 + g, _SPLICED_IDS + 100 + i), doc.page_hints)
               for i, (t, r, g) in enumerate(new)]
    blocks = list(doc.blocks[:at]) + spliced + list(doc.blocks[at:])
    offset = 0
    for i, b in enumerate(blocks):
        blocks[i] = replace(b, offset=offset)
        offset += len(b.text) + 1
    added = np.zeros(len(blocks), bool)
    added[at: at + len(new)] = True
    labels = np.concatenate([content[:at], np.zeros(len(new), bool), content[at:]])
    return replace(doc, blocks=tuple(blocks)), labels, added


class Augmenter:
    """Splices teasers into a share of pages, drawing donors from the pages seen before (deterministic)."""

    def __init__(self, share: float, seed: int = 0, pool: int = 64):
        self.share = share
        self.rng = np.random.default_rng(seed)
        self.donors: deque[Donor] = deque(maxlen=pool)

    def __call__(self, doc: Document, content: np.ndarray) -> tuple[Document, np.ndarray, np.ndarray]:
        own = donor(doc, content)
        result = (doc, content, np.zeros(len(doc.blocks), bool))
        if self.share > 0 and self.donors and self.rng.random() < self.share:
            result = splice(doc, content, list(self.donors), self.rng)
        if own is not None:
            self.donors.append(own)
        return result
