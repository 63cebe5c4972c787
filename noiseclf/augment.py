"""Training-data augmentation: teaser sections of *other* stories, and page furniture, spliced into a page.

Teasers are rare in any one corpus but are the noise a main-text extractor is judged by: a
"Read also"/"Latest" marker, then for each unrelated story its headline, a summary line repeated,
that line again with the first sentences of the story cut mid-sentence, and a tag. We build them
from other pages of the same training split (so no outside data enters the model), label every
spliced block boilerplate, and place the section after the article or inside it. Opt-in
(`noiseclf train --inline-teasers`), a share of the teasers are instead one line between two
paragraphs of the story, "Related: <another headline>", set like the paragraphs around it.

Furniture (opt-in, `noiseclf train --furniture`) is the sentence-shaped page furniture around a
story: newsletter boxes with their button and privacy note set between its paragraphs, cookie
notices at the top or the bottom of the page. It is written from a small grammar (`_furniture`), so
the model sees prompts that read like prose and not only the short marker lines.

Related lists (opt-in, `noiseclf train --related-lists`) are a share of the teasers set inside the
story's own element instead, between two of its paragraphs or after the last: a list of other
stories' linked headlines (under a "Read more:" line or none, the items sometimes tagged "Gallery | " or
"VIDEO: "), or "Previous story: …" and "Next story: …" lines. WCXB's pages mark most lists of links
inside a story as content (tables of contents, resources), so without them the model keeps such lists of
other stories too.

Plain markup (opt-in, `noiseclf train --plain-markup`) rewrites a share of pages as markup of before
HTML5 and class names: `<nav>`, `<aside>`, `<article>` and the other sectioning elements become
`<div>`, and no element keeps its class/id hints. Pages of 2025 mark their menus and sidebars so
nearly always that a model learns to drop a list of linked headlines by its `<nav>` or its "sidebar"
class; on older pages such lists carry neither, and the model has to read them by their place and shape.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, replace
from functools import reduce
from operator import or_

import numpy as np

from .types import ANCESTOR_BIT, HINT_BIT, Block, Document

MARKERS = ("Read also:", "Related:", "Latest", "Comments", "More from this section", "You may also like",
           "Recommended for you", "Read more:", "Most popular", "Related stories", "More stories", "Up next",
           "Trending now", "See also", "Don't miss", "Editor's picks", "Top stories", "In case you missed it")
TAGS = ("Members Public", "Premium", "Opinion", "Sponsored", "Analysis", "Free", "Subscriber only", "Video")
CHROME = ("Skip to content", "Advertisement", "Share", "Tweet", "Email", "Print", "Share this article",
          "Sign up for our newsletter", "Subscribe", "Log in", "Menu", "Search", "Back to top")
INLINE = ("Related:", "Read more:", "READ MORE:", "See also:", "Also read:", "RELATED:", "Read also:",
          "Read next:", "More:", "Watch:")
LIST_MARKERS = ("Read more:", "Related stories", "More on this story", "Related coverage", "See also:",
                "Related:", "More from", "You might also like:", "Recommended:")
LIST_PREFIXES = ("Gallery | ", "VIDEO | ", "Video: ", "PHOTOS: ", "In pics: ", "Analysis: ", "Opinion: ")
STORY_LINKS = (("Previous story: ", "Next story: "), ("Previous: ", "Next: "), ("« ", " »"),
               ("Previous article: ", "Next article: "))
_SENTENCES = re.compile(r"(?<=[.!?])\s+")

# The grammar of the furniture: a prompt is opener + product + tail, a note one of `_NOTES`.
_OPENERS = ("Sign up for", "Subscribe to", "Get", "Join readers of", "Stay informed with", "Never miss a story:",
            "Want more? Sign up for", "Don't miss out. Get", "Enjoying this article? Try", "Register for")
_PRODUCTS = ("our {freq} newsletter", "the {freq} briefing", "our free {freq} email", "the {freq} digest",
             "{freq} alerts", "our {freq} roundup of the top stories", "the {freq} edition")
_FREQ = ("daily", "weekly", "morning", "evening", "free", "monthly", "breaking news", "weekend")
_TAILS = (".", ", delivered to your inbox.", " and get the news that matters to you.", ", free every weekday.",
          " straight to your inbox every {day}.", " with analysis from our reporters.",
          " \u2014 it only takes a minute.", ", plus exclusive offers from our partners.",
          " for the stories everyone is talking about.")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "morning")
_BUTTONS = ("Sign up", "Subscribe", "Sign me up", "Submit", "Email address", "Enter your email", "Subscribe now",
            "Get the newsletter", "Join now", "Continue")
_NOTES = ("By signing up you agree to our Terms of Service and Privacy Policy.",
          "By subscribing, you accept our terms and conditions and privacy notice.",
          "You can unsubscribe at any time.", "We respect your privacy and will never sell your data.",
          "This site is protected by reCAPTCHA and the Google Privacy Policy and Terms of Service apply.",
          "Thanks for signing up! Check your inbox to confirm your subscription.",
          "You may opt out of these emails at any time using the link in each message.",
          "Your information will be used in accordance with our privacy policy.",
          "Invalid email address. Please try again.")
_COOKIES = ("We use cookies to give you the best experience on our website. "
            "By continuing to browse, you agree to our use of cookies.",
            "This website uses cookies to personalise content and ads and to analyse our traffic.",
            "We and our partners store and access information on your device, such as cookies, "
            "for personalised advertising.",
            "Cookies help us deliver our services. By using our services, you agree to our use of cookies. Learn more.")
_COOKIE_BUTTONS = ("Accept", "Accept all", "I agree", "OK", "Manage preferences", "Cookie settings", "Reject all",
                   "Got it")


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
_FURNITURE_IDS = _SPLICED_IDS + (1 << 20)  # ... and of spliced furniture, clear of the teasers'


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return str(options[int(rng.integers(len(options)))])


def _furniture(kind: str, rng: np.random.Generator) -> list[tuple[str, str]]:
    """(text, tag) blocks of one piece of furniture of `kind` (newsletter or cookie)."""
    if kind == "newsletter":
        product = _pick(rng, _PRODUCTS).format(freq=_pick(rng, _FREQ))
        prompt = f"{_pick(rng, _OPENERS)} {product}{_pick(rng, _TAILS).format(day=_pick(rng, _DAYS))}"
        blocks = [(prompt, "p")]
        if rng.random() < 0.6:
            blocks.append((_pick(rng, _BUTTONS), "button"))
        if rng.random() < 0.6:
            blocks.append((_pick(rng, _NOTES), "small"))
        return blocks
    return [(_pick(rng, _COOKIES), "p")] + [(str(b), "button") for b in
                                             rng.choice(_COOKIE_BUTTONS, int(rng.integers(0, 3)), replace=False)]


# Furniture kind -> (hint words its container may carry, the container's tags)
_FURNITURE_LAYOUT = {
    "newsletter": (("newsletter", "subscribe", "signup", "promo"), ("div", "form", "aside")),
    "cookie": (("cookie", "consent", "banner", "popup", "modal"), ("div", "section", "dialog")),
}


def _furniture_blocks(kind: str, pieces: list[tuple[str, str]], anchor: Block, group: int,
                      page_hints: int, rng: np.random.Generator) -> list[Block]:
    """The blocks of one piece, in a box of their own beside `anchor` in the anchor's parent element (a
    cookie notice's box under <body>), the box sometimes with a class that names it."""
    words, containers = _FURNITURE_LAYOUT[kind]
    hint = HINT_BIT[_pick(rng, words)] if rng.random() < 0.45 else 0
    top = kind == "cookie"
    complete = len(anchor.element_hints) == len(anchor.elements)  # chains stop growing on very deep pages
    parent = anchor.elements[:2] if top else anchor.elements[:-1]
    parent_hints = (anchor.element_hints if complete else (0,) * len(anchor.elements))[:len(parent)]
    hints = (reduce(or_, parent_hints, page_hints) if complete or top else anchor.hints) | hint
    base_path = "/".join(anchor.path.split("/")[:3]) if top else anchor.path.rsplit("/", 1)[0]
    base_bits = 0 if top else anchor.ancestors & ~ANCESTOR_BIT.get(anchor.tag, 0)
    depth = len(parent) + 1 if top else anchor.depth
    container = _pick(rng, containers)
    box = _FURNITURE_IDS + 1000 * group
    blocks = []
    for i, (text, tag) in enumerate(pieces):
        bits = base_bits | ANCESTOR_BIT[container] | ANCESTOR_BIT[tag]
        blocks.append(Block(text=text, tag="p" if tag == "p" else "div", depth=depth + 1,
                            path=f"{base_path}/{container}/{tag}", heading=0, link_chars=0,
                            ancestors=bits, hints=hints, attrs="", offset=0, elements=parent + (box, box + i + 1),
                            element_hints=parent_hints + (hint, 0)))
    return blocks


def furnish(doc: Document, content: np.ndarray, rng: np.random.Generator,
            added: np.ndarray | None = None) -> tuple[Document, np.ndarray, np.ndarray]:
    """The page with a newsletter box set between its content blocks, a cookie notice at its top or bottom,
    or both, labelled boilerplate; new content labels and the is-new mask (`added`, blocks spliced before,
    carried over)."""
    prior = np.zeros(len(doc.blocks), bool) if added is None else added
    kept = np.flatnonzero(content)
    if len(kept) < 3:
        return doc, content, prior
    count = min(int(rng.integers(1, 3)), len(kept) - 1)
    kinds = [str(k) for k in rng.choice(("newsletter", "cookie"), count, replace=False)]
    spots = [int(kept[i]) for i in rng.choice(np.arange(1, len(kept)), count, replace=False)]
    spots = [(0 if rng.random() < 0.5 else len(doc.blocks)) if kind == "cookie" else at
             for kind, at in zip(kinds, spots)]
    blocks, labels, added, done = [], [], [], 0
    for group, (at, kind) in enumerate(sorted(zip(spots, kinds))):
        anchor = doc.blocks[min(at, len(doc.blocks) - 1)]
        new = _furniture_blocks(kind, _furniture(kind, rng), anchor, group, doc.page_hints, rng)
        blocks += list(doc.blocks[done:at]) + new
        labels += list(content[done:at]) + [False] * len(new)
        added += list(prior[done:at]) + [True] * len(new)
        done = at
    blocks += list(doc.blocks[done:])
    labels += list(content[done:])
    added += list(prior[done:])
    return replace(doc, blocks=tuple(_renumber(blocks))), np.array(labels, bool), np.array(added, bool)


# The elements HTML5 added to say what a part of the page is; plain markup has a <div> in their place.
SEMANTIC_TAGS = ("nav", "header", "footer", "aside", "article", "main", "section", "menu", "dialog", "details",
                 "summary", "figure", "figcaption", "time")
_SEMANTIC_BITS = reduce(or_, (ANCESTOR_BIT[t] for t in SEMANTIC_TAGS if t in ANCESTOR_BIT))
_SEMANTIC_STEP = re.compile(rf"(?<![^/])(?:{'|'.join(SEMANTIC_TAGS)})(?![^/])")


def plain_markup(doc: Document) -> Document:
    """The page as markup without HTML5's sectioning elements (each a <div>) and without class/id hints;
    text, structure and labels unchanged."""
    def plain(b: Block) -> Block:
        divs = ANCESTOR_BIT["div"] if b.ancestors & _SEMANTIC_BITS else 0
        return replace(b, tag="div" if b.tag in SEMANTIC_TAGS else b.tag, path=_SEMANTIC_STEP.sub("div", b.path),
                       ancestors=b.ancestors & ~_SEMANTIC_BITS | divs, hints=0, attrs="",
                       element_hints=(0,) * len(b.element_hints))
    return replace(doc, blocks=tuple(plain(b) for b in doc.blocks))


def _renumber(blocks: list[Block]) -> list[Block]:
    """Blocks with their text offsets recomputed after a splice."""
    offset = 0
    for i, b in enumerate(blocks):
        blocks[i] = replace(b, offset=offset)
        offset += len(b.text) + 1
    return blocks


def _insert(doc: Document, content: np.ndarray, at: int,
            new: list[Block]) -> tuple[Document, np.ndarray, np.ndarray]:
    """The page with the blocks `new` set before block `at`, labelled boilerplate; new content labels and the
    is-new mask."""
    blocks = _renumber(list(doc.blocks[:at]) + new + list(doc.blocks[at:]))
    added = np.zeros(len(blocks), bool)
    added[at: at + len(new)] = True
    labels = np.concatenate([content[:at], np.zeros(len(new), bool), content[at:]])
    return replace(doc, blocks=tuple(blocks)), labels, added


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


def _inline(doc: Document, content: np.ndarray, text: str, title: str,
            at: int) -> tuple[Document, np.ndarray, np.ndarray]:
    """The page with `text` (a prefix and another story's `title`) set as a paragraph of the story
    before paragraph `at`, in the same parent element, the title linked."""
    anchor = doc.blocks[at]
    line = replace(anchor, text=text, link_chars=len(title),
                   elements=anchor.elements[:-1] + (_SPLICED_IDS,),
                   element_hints=anchor.element_hints[:-1] + (0,) if anchor.element_hints else ())
    return _insert(doc, content, at, [line])


def _story_links(titles: list[str], rng: np.random.Generator) -> list[tuple[str, str, int]]:
    """(text, tag, linked characters) of a related list: linked headlines, or a previous/next pair."""
    if rng.random() < 0.25:
        before, after = STORY_LINKS[int(rng.integers(len(STORY_LINKS)))]
        lines = [f"{before}{titles[0]}", f"{titles[1]}{after}" if after.startswith(" ") else f"{after}{titles[1]}"]
        return [(line, "p", len(title)) for line, title in zip(lines, titles)]
    prefix = _pick(rng, LIST_PREFIXES) if rng.random() < 0.3 else ""
    items = [(f"{prefix}{t}", "li", len(prefix) + len(t)) for t in titles]
    if rng.random() < 0.5:
        items.insert(0, (_pick(rng, LIST_MARKERS), "p", 0))
    return items


def _related_list(doc: Document, content: np.ndarray, donors: list[Donor],
                  rng: np.random.Generator) -> tuple[Document, np.ndarray, np.ndarray]:
    """The page with other stories' linked headlines set in the story's own element, as a <ul> (under a
    marker line or not) or as previous/next lines, between two of its paragraphs or after the last; with
    fewer than two donors, the page as it was."""
    kept = np.flatnonzero(content)
    inside = [i for i in kept[1:].tolist() if doc.blocks[i].tag == "p"]
    at = inside[int(rng.integers(len(inside)))] if inside and rng.random() < 0.5 else int(kept[-1]) + 1
    anchor = doc.blocks[int(kept[-1]) if at > kept[-1] else at]
    count = min(len(donors), int(rng.integers(2, 9)))
    titles = [donors[int(d)].title for d in rng.choice(len(donors), size=count, replace=False)]
    if len(titles) < 2:  # one donor: no list, and no section either
        return doc, content, np.zeros(len(doc.blocks), bool)
    parent, hints = anchor.elements[:-1], anchor.element_hints[:-1] if anchor.element_hints else ()
    base = anchor.path.rsplit("/", 1)[0]
    own_bits = anchor.ancestors & ~ANCESTOR_BIT.get(anchor.tag, 0)
    new = []
    for i, (text, tag, linked) in enumerate(_story_links(titles, rng)):
        is_item = tag == "li"
        elements = parent + ((_SPLICED_IDS, _SPLICED_IDS + 1 + i) if is_item else (_SPLICED_IDS + 1 + i,))
        new.append(replace(anchor, text=text, tag=tag, link_chars=linked, heading=0,
                           depth=anchor.depth + 1 if is_item else anchor.depth,
                           path=f"{base}/ul/li" if is_item else f"{base}/p",
                           ancestors=own_bits | ANCESTOR_BIT[tag] | (ANCESTOR_BIT["ul"] if is_item else 0),
                           elements=elements, element_hints=hints + (0,) * (len(elements) - len(parent))
                           if anchor.element_hints else ()))
    return _insert(doc, content, at, new)


def splice(doc: Document, content: np.ndarray, donors: list[Donor], rng: np.random.Generator,
           inline: float = 0.0, lists: float = 0.0,
           lists_rng: np.random.Generator | None = None) -> tuple[Document, np.ndarray, np.ndarray]:
    """The page with a teaser section (and stray chrome) added or, at odds `inline`, a one-line teaser
    inside the story, or at odds `lists` a related list inside it in place of the section; new content
    labels and an is-new mask. `inline` 0 draws exactly as before it existed; the lists draw from
    `lists_rng`, after the section, so that `rng` draws the same with them or without."""
    kept = np.flatnonzero(content)
    if not len(kept) or not donors:
        return doc, content, np.zeros(len(doc.blocks), bool)
    paragraphs = [i for i in kept[1:].tolist() if doc.blocks[i].tag == "p"]
    if paragraphs and inline > 0 and rng.random() < inline:
        title = donors[int(rng.integers(len(donors)))].title
        at = paragraphs[int(rng.integers(len(paragraphs)))]
        return _inline(doc, content, f"{_pick(rng, INLINE)} {title}", title, at)
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
    if lists > 0 and lists_rng is not None and lists_rng.random() < lists:
        return _related_list(doc, content, donors, lists_rng)
    return _insert(doc, content, at, spliced)


class Augmenter:
    """Splices teasers into a share of pages, drawing donors from the pages seen before (of those, the
    share `inline` as one inline line, the share `lists` as a related list in the story), and furniture
    into another share (each page drawn for both, apart); rewrites the share `plain` in plain markup. The
    plain markup and the related lists draw from generators of their own, so that the other draws are the
    same with them or without; deterministic."""

    def __init__(self, share: float, seed: int = 0, pool: int = 64, furniture: float = 0.0, inline: float = 0.0,
                 plain: float = 0.0, lists: float = 0.0):
        self.share = share
        self.lists = lists
        self.furniture = furniture
        self.inline = inline
        self.plain = plain
        self.rng = np.random.default_rng(seed)
        self.plain_rng = np.random.default_rng([seed, 1])
        self.lists_rng = np.random.default_rng([seed, 2])
        self.donors: deque[Donor] = deque(maxlen=pool)

    def __call__(self, doc: Document, content: np.ndarray) -> tuple[Document, np.ndarray, np.ndarray]:
        own = donor(doc, content)
        result = (doc, content, np.zeros(len(doc.blocks), bool))
        if self.donors:  # the first page of a shard lends to the others and gets nothing itself
            if self.share > 0 and self.rng.random() < self.share:
                result = splice(doc, content, list(self.donors), self.rng, self.inline, self.lists, self.lists_rng)
            if self.furniture > 0 and self.rng.random() < self.furniture:
                result = furnish(*result[:2], self.rng, added=result[2])
        if own is not None:
            self.donors.append(own)
        if self.plain > 0 and self.plain_rng.random() < self.plain:
            result = (plain_markup(result[0]), *result[1:])
        return result
