"""Segmentation: HTML (bytes or str, any encoding) or plain text -> a Document of ordered blocks.

HTML blocks break at block-level elements and <br>, so that the blocks overlapping a gold text
reproduce it almost exactly; each block carries the layout context its features need.

The tree walk that cuts blocks is the hot path of inference. It runs compiled (`noiseclf._walk`,
built from Cython at install time; 2-3x faster) when that module imports, else as the pure-Python
`_walk`, which stays the reference: both return identical blocks. Plain text's blocks are built there
too (`_walk.line_blocks`, twin of `_line_blocks`). `COMPILED_WALK` says which one is in use; set
NOISECLF_PURE_PYTHON=1 to force the Python walk (debugging, equality tests).
"""

from __future__ import annotations

import codecs
import os
import re
import threading
from collections import Counter
from typing import NamedTuple
from urllib.parse import urlsplit

import charset_normalizer
from lxml import etree

from .types import (ANCESTOR_BIT, CELL_TAGS, HINT_BIT, HINT_WORDS, Block, Document, Format, InputError, Page,
                    verbatim, visible)

BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li td th tr table ul ol dl dt dd section article header footer nav "
    "aside blockquote pre figure figcaption form main address fieldset legend caption details "
    "summary center hr br body html tbody thead tfoot option dialog menu noframes".split()
)
DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed",
    "canvas", "video", "audio", "map", "select", "textarea", "input", "head", "title", "link", "meta",
    "rt", "rp",  # ruby readings (furigana) over the base text, and their fallback parentheses
)

_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_LOCAL = threading.local()  # lxml parsers must not be shared between threads
# Containers whose tags are dropped to re-parse a page nested deeper than libxml2 accepts.
_NESTING_TAGS = re.compile(r"</?(?:div|span|font|section|center|b|i|u|em|strong|small|big|table|tbody|tr|td|th|a)\b[^>]*>", re.I)
_NESTED_REPEATS = 16  # a tag this often on the spine of a tree cut at the depth limit is what nests
_CONTROL_BYTES = bytes(range(0, 9)) + bytes(range(14, 32))
_CONTROL_CHARS = dict.fromkeys(_CONTROL_BYTES)
_WIDE = ("utf-16", "utf-32")  # codec names of the UTF-16/32 family
_GUESS_TIE = 0.05  # charset_normalizer coherences this close to the best one's tie on a short text
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]{0,100}?encoding\s*=\s*["']([A-Za-z0-9_.\-]+)""", re.I)
# UTF-8's first, then the wide ones (sniff_format decodes those), UTF-32's before UTF-16's, whose BOM starts it
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Browsers read these labels as windows-1252; so do we.
_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
            "ascii": "cp1252", "iso8859-1": "cp1252", "x-user-defined": "cp1252", "utf8": "utf-8"}
_HAS_WORD = re.compile(r"\w")
_MENU_SEPARATORS = re.compile(r"\s[|·•»>/\-–—]\s")  # between the items of a menu printed on one line
_TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|::|·|»|:)\s+")
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_ATTR_DEPTH = 3  # class/id tokens kept from the block's element and this many ancestors


def _prefix_alternation(words: tuple[str, ...]) -> str:
    """A regex matching any of `words`, factored by shared prefixes (re tries a flat alternation word by
    word at every position); longer continuations are tried first, so at each position it matches the
    longest word there, as a longest-first flat alternation does."""
    tree: dict = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(tree)


_HINT_RE = re.compile(_prefix_alternation(HINT_WORDS))


def _codec(label: str | bytes | None) -> str | None:
    if not label:
        return None
    name = (label.decode("ascii", "ignore") if isinstance(label, bytes) else label).strip().lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(data: bytes, declared: str | None = None, source: str = "") -> str:
    """Decode page bytes: BOM, then declared/meta charset, then UTF-8, then a content guess.

    Bytes that look binary are refused unless a declared charset reads them as text (ISO-2022, UTF-16).
    """
    head = data[:4096]
    binary = _binary(head)
    for bom, name in _BOMS:
        if data.startswith(bom) and not (binary and name == "utf-8-sig"):
            return data.decode(name, errors="replace")
    match = _XML_DECL.search(head) or _META_CHARSET.search(head)
    named = [name for name in (_declared_codec(declared, head), _page_codec(match.group(1) if match else None))
             if name]
    for name in named:
        try:
            text = data.decode(name)
        except (UnicodeError, LookupError):  # UnicodeError: the "undefined" codec refuses everything
            continue
        if not binary or not _binary(text[:4096]):
            return text
    if binary:
        raise InputError(f"{source or 'input'}: binary content (not a text or HTML page)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for name in dict.fromkeys(named + ["utf-8"]):  # a page labelled UTF-8 is not read twice
        text = _nearly(data, name)
        if text is not None:
            return text
    name = _guessed_codec(data[:65536])
    return data.decode(name or "cp1252", errors="replace")


def _guessed_codec(data: bytes) -> str | None:
    """charset_normalizer's best guess, but windows-1252 (WHATWG's default where nothing is declared) where it
    fits about as well as the best (as clean, nearly as coherent: short texts give coherences only roughly),
    and never UTF-16/32 for bytes without a NUL: on a short text the guess is a tie among many charsets, and
    the first of them ("El niño" read as cp1250's "ni˝o", "Müller" as UTF-16) is seldom the one meant."""
    matches = [m for m in charset_normalizer.from_bytes(data)
               if b"\0" in data or not (_codec(m.encoding) or "").startswith(_WIDE)]
    if not matches:
        return None
    best = matches[0]
    tied = (_codec(m.encoding) for m in matches
            if m.chaos == best.chaos and m.coherence >= best.coherence - _GUESS_TIE)
    return "cp1252" if "cp1252" in tied else _codec(best.encoding)


def _nearly(data: bytes, name: str) -> str | None:
    """`data` decoded as `name`, a U+FFFD for each bad sequence, if it reads more characters beyond ASCII
    than bad sequences: a UTF-8 page with a stray Latin-1 byte stays UTF-8 (a content guess read one such
    page as Mac Roman), while a page in another charset under a wrong label, which reads almost nothing
    but bad sequences, is left to the guess."""
    try:
        text = data.decode(name, errors="replace")
        bad = len(text) - len(data.decode(name, errors="ignore"))
    except (UnicodeError, LookupError):
        return None
    read = len(text) - len(text.encode("ascii", errors="ignore")) - bad
    return text if read > bad else None


def _binary(head: bytes | str) -> bool:
    """Whether a page's start holds more control characters (NUL, ESC, ...) than text does."""
    kept = head.translate(None, _CONTROL_BYTES) if isinstance(head, bytes) else head.translate(_CONTROL_CHARS)
    return len(head) - len(kept) > max(4, len(head) // 100)


def _declared_codec(label: str | None, head: bytes) -> str | None:
    """The codec of a charset declared outside the page (HTTP, caller), unless it names UTF-16/32 for
    bytes without a NUL, which cannot be UTF-16/32: a server's wrong label, read past."""
    name = _codec(label)
    return None if name and name.startswith(_WIDE) and b"\0" not in head[:1024] else name


def _page_codec(label: bytes | None) -> str | None:
    """The codec of a charset the page declares; a UTF-16/32 label found in ASCII-compatible bytes
    means UTF-8 (WHATWG's prescan), else the page would decode to CJK mojibake."""
    name = _codec(label)
    return "utf-8" if name and name.startswith(_WIDE) else name


def _parser() -> etree.HTMLParser:
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = etree.HTMLParser(  # collect_ids: no id table, which nothing here looks up
            encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, huge_tree=True, collect_ids=False)
    return parser


def _repair(html: str) -> str:
    """Undo what makes libxml2 lose text: content after a first </html>, an unclosed <title>."""
    html = _DOCUMENT_END.sub("", html)
    match = _TITLE_OPEN.search(html, 0, 20000)
    if match and "</title" not in html[match.end(): match.end() + 4000].lower():
        close = html.find("<", match.end())
        if close != -1:
            html = html[:close] + "</title>" + html[close:]
    return html


def _parse(html: str, source: str) -> etree._Element | None:
    """Parse HTML leniently; a page nested past libxml2's depth limit is re-parsed without its containers,
    then without the tags it is nested in; one libxml2 still cuts short is refused, not returned cut."""
    parser = _parser()
    html = _repair(html)
    try:
        root = etree.fromstring(html.encode("utf-8", errors="replace"), parser)
        if _too_deep(parser):
            html = _NESTING_TAGS.sub("\n", html)
            root = etree.fromstring(html.encode("utf-8", errors="replace"), parser)
            if _too_deep(parser):
                root = etree.fromstring(_unnest(html, root).encode("utf-8", errors="replace"), parser)
                if _too_deep(parser):
                    raise InputError(f"{source or 'input'}: HTML nested deeper than the parser's limit, "
                                     "even with its nesting tags stripped")
        return root
    except (etree.ParserError, ValueError) as exc:
        raise InputError(f"{source or 'input'}: HTML could not be parsed: {exc}") from exc


def _too_deep(parser: etree.HTMLParser) -> bool:
    """Whether libxml2 stopped parsing at its depth limit (it drops the rest of the page)."""
    return any("depth" in e.message for e in parser.error_log)


def _unnest(html: str, root: etree._Element | None) -> str:
    """`html` without the tags that make up the nesting libxml2 stopped in.

    libxml2 stops at the depth limit, so the last-child spine of its tree is the open-element stack then.
    """
    spine: Counter[str] = Counter()
    el = root
    while el is not None and len(el):
        el = el[-1]
        spine[el.tag] += 1
    names = [re.escape(tag) for tag, n in spine.items() if type(tag) is str and n >= _NESTED_REPEATS]
    return re.sub(rf"</?(?:{'|'.join(names)})\b[^>]*>", "\n", html, flags=re.I) if names else html


class _PageMeta(NamedTuple):
    """What a page's head says of it: its <title>, og:title, and the names it gives its site."""

    title: str
    og: str
    site: tuple[str, ...]  # og:site_name, application-name, and the host of og:url or the canonical link


def _meta_title(root: etree._Element) -> _PageMeta:
    """The page's <title> text, og:title and site names, whitespace-normalised.

    One pass over the title, meta and link elements; it reads the first <title> outside inline SVG and MathML
    (whose <title> names a picture), `//meta[@property='og:title' or @name='twitter:title']/@content`, and the
    first of each site name.
    """
    title = og = None
    found: dict[str, str] = {}
    for el in root.iter("title", "meta", "link"):
        if el.tag == "title":
            if title is None and next(el.iterancestors("svg", "math"), None) is None:
                title = "".join(el.itertext())
        elif el.tag == "link":
            if "canonical" in (el.get("rel") or "").lower().split():
                found.setdefault("url", el.get("href") or "")
        elif og is None and (el.get("property") == "og:title" or el.get("name") == "twitter:title"):
            og = el.get("content")
        else:
            key = _SITE_META.get(el.get("property") or el.get("name") or "")
            if key:
                found.setdefault(key, el.get("content") or "")
    names = [" ".join(visible(found.get(key, "")).split()) for key in ("name", "app")]
    host = _host(found.get("og_url") or found.get("url") or "")
    site = tuple(name for name in (*names, host) if name)
    return _PageMeta(" ".join(visible(title).split()) if title else "", " ".join(visible(og).split()) if og else "",
                     site)


_SITE_META = {"og:site_name": "name", "application-name": "app", "og:url": "og_url"}


def _host(url: str) -> str:
    """A URL's host without "www.", "" for anything else."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


_HINT_CACHE: dict[tuple, tuple[int, str]] = {}
_TOKEN_HINTS: dict[str, int] = {}
_MEMO_SIZE = 200_000


def _hint_bits(attrib: dict[str, str]) -> tuple[int, str]:
    """Hint bits and cleaned tokens of an element's class/id/role/itemprop, memoised across pages. The
    compiled walk reads `_HINT_CACHE` with this key itself and fills it through `_walk._hints_of`, this
    function's twin: a change here goes there too (the compiled-against-Python feature test compares them)."""
    key = (attrib.get("class"), attrib.get("id"), attrib.get("role"), attrib.get("itemprop"))
    cached = _HINT_CACHE.get(key)
    if cached is None:
        # the runs between white space, "_" and "-" (str.split's white space is the regex's \s)
        tokens = " ".join(filter(None, key)).lower().replace("_", " ").replace("-", " ").split()
        bits = 0
        for token in tokens:
            bits |= _token_hints(token)
        if len(_HINT_CACHE) > _MEMO_SIZE:
            _HINT_CACHE.clear()
        cached = _HINT_CACHE[key] = (bits, " ".join(tokens)[:120])
    return cached


def _token_hints(token: str) -> int:
    """Hint bits of the hint words found in one token, memoised: tokens recur across sites far more than
    whole class strings do. No hint word holds a separator, so a string's words are its tokens' words."""
    bits = _TOKEN_HINTS.get(token)
    if bits is None:
        bits = 0
        for word in _HINT_RE.findall(token):
            bits |= HINT_BIT[word]
        if len(_TOKEN_HINTS) > _MEMO_SIZE:
            _TOKEN_HINTS.clear()
        _TOKEN_HINTS[token] = bits
    return bits


_DROP = frozenset(DROP_TAGS)
_FALLBACK_CHARS = 500  # a page showing less text is read again with its <noscript> or hidden elements
_DOCUMENT_END = re.compile(r"</(?:body|html)\s*>", re.I)
_TITLE_OPEN = re.compile(r"<title\b[^>]*>", re.I)
_SKIPPED = (0, 0, (), 0, "", 0, 0, "#skipped", (), (), 0, False)
_SPAN = re.compile(r"[\t\n\f\r ]*0*([0-9]+)")  # HTML's rules for parsing integers: ASCII space and digits


def colspan(value: str | None) -> int:
    """The columns a table cell spans by its colspan attribute, as browsers read it: leading digits, 1 to 1000."""
    match = _SPAN.match(value) if value else None
    if match is None:
        return 1
    digits = match.group(1)
    return 1000 if len(digits) > 4 else min(max(int(digits), 1), 1000)


def _cell_column(el: etree._Element, last: etree._Element | None = None, last_end: int = 0) -> int:
    """A table cell's column in its row: the columns its earlier sibling cells span. Counting stops at `last`,
    the cell counted before it, which ends at column `last_end`: a wide row costs one pass, not one a cell."""
    column = 0
    for cell in el.itersiblings(preceding=True):
        if cell is last:
            return column + last_end
        if cell.tag in CELL_TAGS:
            column += colspan(cell.get("colspan"))
    return column


def _walk(root: etree._Element, drop_tags: frozenset[str] = _DROP, hidden: bool = False,
          marks: frozenset | None = None, marked: list[bool] | None = None) -> list[Block]:
    """Walk the cleaned tree once, cutting text into blocks with their layout context; elements hidden by
    style or the `hidden` attribute are skipped unless `hidden`. With `marks` (elements of this tree), each
    block also appends to `marked` whether any of its text lies inside one of them.

    One tight loop with local state: this is the hot path of inference.
    """
    blocks: list[Block] = []
    parts: list[str] = []
    link_parts: list[str] = []
    offset = 0
    serial = 0
    has_text = False
    has_marked = False  # text from inside a marked element among `parts`
    last_cell: tuple[etree._Element | None, int] = (None, 0)  # the cell counted last and the column it ends at
    # A frame per open element:
    # (ancestor bits, hint bits, attr tokens, depth, path, heading, in-anchor, tag, element chain,
    #  each chain element's own hint bits, table column, inside a marked element)
    stack: list[tuple] = [(0, 0, (), 0, "", 0, 0, "body", (0,), (0,), 0, False)]
    block_stack: list[tuple] = [stack[0]]
    block_tags, ancestor_bit, has_word, headings = BLOCK_TAGS, ANCESTOR_BIT, _HAS_WORD.search, _HEADINGS
    hidden_style = _HIDDEN_STYLE.search
    pre_bit = ancestor_bit["pre"]

    def flush() -> None:
        nonlocal offset, has_text, has_marked
        has_text = False
        raw = "".join(parts)
        text = " ".join(raw.split())
        link_chars = len(" ".join("".join(link_parts).split())) if link_parts else 0
        parts.clear()
        link_parts.clear()
        if text and has_word(text):
            anc, hints, attrs, depth, path, heading, _, tag, chain, chain_hints, column, _ = block_stack[-1]
            blocks.append(Block(text, tag, depth, path, heading, min(link_chars, len(text)), anc, hints,
                                " ".join(attrs), offset, chain, chain_hints,
                                verbatim(raw, text) if anc & pre_bit else "", column))
            offset += len(text) + 1
            if marked is not None:
                marked.append(has_marked)
        has_marked = False


    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        if event == "start":
            tag = el.tag
            if type(tag) is not str or tag in drop_tags:
                walker.skip_subtree()
                stack.append(_SKIPPED)
                continue
            anc, hints, attrs, depth, path, heading, anchor, _, chain, chain_hints, column, in_mark = stack[-1]
            own = 0
            items = el.items()
            if items:
                attrib = dict(items)
                style = attrib.get("style")
                if not hidden and ((style and hidden_style(style)) or "hidden" in attrib):
                    walker.skip_subtree()
                    stack.append(_SKIPPED)
                    continue
                own, tokens = _hint_bits(attrib)
                hints |= own
                if tokens:
                    attrs = (attrs + (tokens,))[-_ATTR_DEPTH:]
            anc |= ancestor_bit.get(tag, 0)
            if tag in headings:
                heading = headings[tag]
            serial += 1
            if depth < 40:
                path, chain, chain_hints = path + "/" + tag, chain + (serial,), chain_hints + (own,)
            if tag in CELL_TAGS:
                column = _cell_column(el, *last_cell)
                last_cell = (el, column + colspan(el.get("colspan")))
            in_mark = in_mark or (marks is not None and el in marks)
            frame = (anc, hints, attrs, depth + 1, path, heading, anchor or tag == "a", tag, chain, chain_hints, column,
                     in_mark)
            stack.append(frame)
            if tag in block_tags:
                if has_text:
                    flush()
                else:
                    parts.clear()
                    link_parts.clear()
                    has_marked = False
                block_stack.append(frame)
            text = el.text
            if text:
                text = visible(text)
                parts.append(text)
                if not text.isspace():
                    has_text = True
                    has_marked = has_marked or in_mark
                if frame[6]:
                    link_parts.append(text)
        else:
            if stack.pop()[7] in block_tags:
                if has_text:
                    flush()
                else:
                    parts.clear()
                    link_parts.clear()
                    has_marked = False
                block_stack.pop()
            text = el.tail
            if text:
                text = visible(text)
                parts.append(text)
                frame = stack[-1]
                if not text.isspace():
                    has_text = True
                    has_marked = has_marked or frame[11]
                if frame[6]:
                    link_parts.append(text)
    if has_text:
        flush()
    return blocks


try:
    from ._walk import line_blocks as _compiled_line_blocks
    from ._walk import walk as _compiled_walk
except ImportError:  # not built: installed without a compiler, or a source checkout
    _compiled_walk = _compiled_line_blocks = None
COMPILED_WALK = _compiled_walk is not None and os.environ.get("NOISECLF_PURE_PYTHON") != "1"
_walk_blocks = _compiled_walk if COMPILED_WALK else _walk


def _best_title(title: str, og: str, blocks: list[Block]) -> str:
    """og:title, else the first <h1> when it restates the <title>'s longest part, or its first ("Reading CSV
    files — mylib documentation") unless the <h1> is a link (a logo's, restating the site's name), else the
    longest part (a site's name is mostly the shorter)."""
    if og:
        return og
    parts = _TITLE_SEPARATORS.split(title) if title else []
    main = max(parts, key=len) if parts else ""
    h1 = next((b for b in blocks if b.heading == 1), None)
    first_h1 = h1.text if h1 is not None else ""
    h1_words = set(first_h1.lower().split())
    logo = h1 is not None and h1.link_chars >= len(first_h1)
    for part in dict.fromkeys((main, *([] if logo else parts[:1]))):
        words = set(part.lower().split())
        if h1_words and words and len(words & h1_words) >= 0.5 * len(words):
            return first_h1
    return main or first_h1


def _story_title(title: str, site: tuple[str, ...], blocks: list[Block]) -> str:
    """`title` without the site's name: its leading parts that the first <h1> restates ("Kayaks" of "Kayaks |
    REI Co-op"), else the title less trailing parts that name the site ("What is Cloud Computing? | Google
    Cloud"), leaving two words at least (a home page's "Home - Ohio Artisan Collective" stays whole)."""
    separators = list(_TITLE_SEPARATORS.finditer(title))
    cuts = [m.start() for m in separators]
    if not cuts:
        return title
    names = [_folded(name) for name in site]
    h1 = next((b for b in blocks if b.heading == 1), None)
    if h1 is not None:
        restated, logo = _folded(h1.text), h1.link_chars >= len(h1.text)
        for m in separators:
            head = title[:m.start()]
            # a logo's <h1> (a link, as `_best_title` tells it) or one naming the site restates the site's name
            # where it leads the title, shorter than the story after it ("REI Co-op | Kayaks and paddling gear")
            if _folded(head) == restated and not ((logo or _names_site(head, names))
                                                  and len(head) < len(title) - m.end()):
                return head
    ends = [*cuts, len(title)]
    parts = [title[m.end():end] for m, end in zip(separators, ends[1:])]
    keep = len(cuts)
    while keep and _names_site(parts[keep - 1], names) and len(title[:cuts[keep - 1]].split()) >= 2:
        keep -= 1
    return title[:cuts[keep]] if keep < len(cuts) else title


def _folded(text: str) -> str:
    """Text compared without case, curly quotes or runs of white space."""
    return " ".join(text.translate(_QUOTES).lower().split())


_QUOTES = str.maketrans("‘’“”–", "''\"\"-")


def _names_site(part: str, names: list[str]) -> bool:
    """Whether a title part is the site's name: one of `names` (a little more, as "The Motley Fool Inc"), or the
    letters of a host among them ("Move.org", "Fastarz" of fastarz.com)."""
    part = _folded(part)
    letters = re.sub(r"[^a-z0-9]", "", part)
    for name in names:
        if part == name or (len(part) <= len(name) + 4 and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", part)):
            return True
        if "." in name and len(letters) >= 3 and letters in re.sub(r"[^a-z0-9]", "", name):
            return True
    return False


def segment_html(content: str | bytes, *, source: str = "", encoding: str | None = None) -> Document:
    """Cut an HTML page into text blocks; scripts, styles and hidden elements are dropped."""
    return _segmented(content, source, encoding)[0]


def segment_marked(content: str | bytes, xpath: str, *, source: str = "",
                   encoding: str | None = None) -> tuple[Document, list[bool]]:
    """`segment_html`'s document, and for each block whether any of its text lies inside an element `xpath`
    selects (a user's marks of the content). The reference walk reads the marks; its blocks are the compiled
    walk's."""
    doc, root, drop, hidden = _segmented(content, source, encoding)
    if root is None or not doc.blocks:
        return doc, [False] * len(doc.blocks)
    marked: list[bool] = []
    blocks = _walk(root, drop, hidden, marks=frozenset(root.xpath(xpath)), marked=marked)
    if tuple(blocks) != doc.blocks:  # cannot happen unless the two walks part
        raise InputError(f"{source}: the marks could not be read: the page's walks disagree")
    return doc, marked


def _segmented(content: str | bytes, source: str,
               encoding: str | None) -> tuple[Document, etree._Element | None, frozenset[str], bool]:
    """The page's document, with its tree and the walk's settings that read it (the elements dropped, and
    whether hidden ones were read)."""
    content = _checked(content, encoding, source)
    html = decode_html(content, encoding, source) if isinstance(content, bytes) else content
    root = _parse(html, source) if html.strip() else None
    if root is None:
        return Document(blocks=(), format="html", source=source), None, _DROP, False
    meta = _meta_title(root)
    blocks, drop, hidden = _walk_blocks(root, _DROP), _DROP, False
    if sum(len(b.text) for b in blocks) < _FALLBACK_CHARS:
        # Some sites (Discourse forums) render the whole page inside <noscript> for non-JS readers; others
        # hide it all in a wrapper (visibility:hidden) that a script reveals once the page has loaded.
        for drop_tags, read_hidden in ((_DROP - {"noscript"}, False), (_DROP, True)):
            fallback = _walk_blocks(root, drop_tags, read_hidden)
            if sum(len(b.text) for b in fallback) >= _FALLBACK_CHARS:
                blocks, drop, hidden = fallback, drop_tags, read_hidden
                break
    title = _best_title(meta.title, meta.og, blocks)
    story = _story_title(title, meta.site, blocks)
    doc = Document(blocks=tuple(blocks), title=title, format="html", source=source,
                   story_title=story if story != title else "", symbol_cells=_symbol_cells(root, blocks, drop, hidden))
    return doc, root, drop, hidden


_CELL_BITS = ANCESTOR_BIT["td"] | ANCESTOR_BIT["th"]


def _symbol_cells(root: etree._Element, blocks: list[Block], drop_tags: frozenset[str],
                  hidden: bool) -> tuple[Block, ...]:
    """The table cells whose text holds no word character ("✓", "✗", "—"), which leave no block (a block needs a
    word), as the blocks the walk would have cut from them: for the renderers only, never classified. Looked
    for on a page with a table cell's block; the tree is walked again only for a page holding such a cell."""
    if not any(b.ancestors & _CELL_BITS for b in blocks):
        return ()
    candidates = {cell for cell in root.iter("td", "th") if _wordless(cell)}
    return _cell_blocks(root, candidates, drop_tags, hidden) if candidates else ()


def _wordless(cell: etree._Element) -> bool:
    """Whether a table cell's text (its hidden and dropped elements' included) has something but no word
    character, and it holds no other cell: a cell that may show only symbols."""
    if cell.text and _HAS_WORD.search(cell.text):  # most cells: no generator needed
        return False
    texts = []
    for text in cell.itertext():
        if _HAS_WORD.search(text):
            return False
        texts.append(text)
    return bool("".join(texts).strip()) and next(cell.iterdescendants("td", "th"), None) is None


def _cell_blocks(root: etree._Element, cells: set[etree._Element], drop_tags: frozenset[str],
                 hidden: bool) -> tuple[Block, ...]:
    """Blocks of `cells` as `_walk` would cut them from its tree (same element ids, path, ancestors and column;
    text read as it reads text: hidden and dropped elements left out), those with text left; one cell one block."""
    found: list[Block] = []
    stack: list[tuple | None] = [("", (0,), 0, 0)]  # path, element ids, ancestor bits, depth of the open elements
    serial = 0
    cell: etree._Element | None = None  # the cell of `cells` being read, and its frame and text
    frame: tuple = ()
    parts: list[str] = []
    columns: dict[etree._Element, int] = {}  # the cells' columns, counted a row at a time: not again a cell
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        if event == "end":
            if el is cell:
                text = " ".join(visible("".join(parts)).split())
                if text:
                    path, chain, anc, depth = frame
                    if el not in columns:
                        columns.update(_row_columns(el))
                    found.append(Block(text, el.tag, depth, path, ancestors=anc, elements=chain,
                                       column=columns[el]))
                cell = None
            elif cell is not None:
                if el.tag in BLOCK_TAGS and stack[-1] is not None:  # "✓<br>✗", "<li>✓</li><li>✗</li>": apart
                    parts.append(" ")
                if el.tail:
                    parts.append(el.tail)
            stack.pop()
            continue
        tag = el.tag
        if type(tag) is not str or tag in drop_tags or (not hidden and _hidden(el)):
            walker.skip_subtree()
            stack.append(None)
            continue
        path, chain, anc, depth = stack[-1]  # type: ignore[misc]
        serial += 1
        if depth < 40:
            path, chain = path + "/" + tag, chain + (serial,)
        stack.append((path, chain, anc | ANCESTOR_BIT.get(tag, 0), depth + 1))
        if cell is None and el in cells:
            cell, frame, parts = el, stack[-1], []
        elif cell is not None and tag in BLOCK_TAGS:
            parts.append(" ")
        if cell is not None and el.text:
            parts.append(el.text)
    return tuple(found)


def _row_columns(cell: etree._Element) -> dict[etree._Element, int]:
    """The column of a cell and of its sibling cells (`_cell_column` of each), in one pass over the row."""
    parent = cell.getparent()
    if parent is None:
        return {cell: 0}
    columns, column = {}, 0
    for sibling in parent:
        if sibling.tag in CELL_TAGS:
            columns[sibling] = column
            column += colspan(sibling.get("colspan"))
    return columns


def _hidden(el: etree._Element) -> bool:
    """Whether the walk skips an element as hidden: a style hiding it, or the `hidden` attribute."""
    style = el.get("style")
    return bool(style and _HIDDEN_STYLE.search(style)) or el.get("hidden") is not None


_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")  # a line of white space, no-break and ideographic spaces among it
# Line breaks as str.splitlines reads them, as "\n"; a paragraph separator as a blank line; a lone surrogate
# (from surrogateescape decoding) as "?", as on the HTML path, or the text would not encode
_LINE_BREAKS = str.maketrans({"\r": "\n", "\v": "\n", "\f": "\n", "\x1c": "\n", "\x1d": "\n", "\x1e": "\n",
                              "\x85": "\n", "\u2028": "\n", "\u2029": "\n\n",
                              **{chr(c): "?" for c in range(0xD800, 0xE000)}})
# What `_LINE_BREAKS` maps: searched for first, as translating through a table of that size reads every
# character of a page through a dict, and most texts hold none of them.
_ODD_CHARS = re.compile("[\r\v\f\x1c-\x1e\x85\u2028\u2029\ud800-\udfff]")
# A hard-wrapped text (`_wrap_width`): its width is this quantile of its lines' lengths, from this many columns to
# this many, and this share of its lines are full.
_WRAP_QUANTILE, _WRAP_MIN_WIDTH, _WRAP_MAX_WIDTH, _WRAP_FULL_SHARE = 0.9, 30, 132, 0.8
# Without blank lines, each paragraph's last line is among the lines that should be full: fewer are.
_WRAP_FULL_SHARE_UNBROKEN = 0.6


def _line_blocks(pieces: list[str]) -> list[Block]:
    """The blocks of plain-text pieces: white space runs as one space, pieces without a word character left out;
    the reference of the compiled `_walk.line_blocks`."""
    blocks: list[Block] = []
    offset = 0
    for piece in pieces:
        clean = " ".join(piece.split())
        if clean and _HAS_WORD.search(clean):
            blocks.append(Block(text=clean, tag="line", offset=offset))
            offset += len(clean) + 1
    return blocks


_line_blocks_of = _compiled_line_blocks if COMPILED_WALK else _line_blocks


def _blank_line_pieces(text: str) -> list[str]:
    """The pieces of a text that has blank lines: where their lines are a hard-wrapped text's, its paragraphs,
    each cut after a line that had room for the next line's first word (a subhead over its paragraph); else its
    lines, as a browser copies a page (blank lines around its paragraphs only, one line a list item or heading)
    or a line dump holds a stray blank line."""
    pieces = _BLANK_LINE.split(text)
    paragraphs = [piece.split("\n") for piece in pieces if "\n" in piece]
    if not paragraphs:
        return pieces
    width = _wrap_width(paragraphs)
    if not width:
        return [line for piece in pieces for line in piece.split("\n")]
    return [run for piece in pieces for run in _wrapped_runs(piece.split("\n"), width)]


def _line_pieces(lines: list[str]) -> list[str]:
    """The pieces of a text without blank lines: its lines (a WET record's, a line dump's), or, where they are a
    hard-wrapped text's, its runs of lines up to each line that had room for the next line's first word."""
    width = _wrap_width([lines], _WRAP_FULL_SHARE_UNBROKEN)
    return _wrapped_runs(lines, width) if width else lines


def _wrap_width(paragraphs: list[list[str]], full_share: float = _WRAP_FULL_SHARE) -> int:
    """The width the lines of paragraphs were broken at, 0 when they were not: nearly every line but a
    paragraph's last (and a heading's, under three quarters of the width) too full to take the next line's first word
    within the width, and no line wider (a headline over an unbroken paragraph is no wrapped text). Lines of
    one word (a long link, a menu item) are left out: only they can be wider than a wrapped text."""
    pairs = [(len(line.rstrip()), len(following.split(maxsplit=1)[0]) if following.strip() else 0)
             for lines in paragraphs for line, following in zip(lines, lines[1:]) if " " in line.strip()]
    if not pairs:
        return 0
    lengths = sorted(n for n, _ in pairs)
    width = lengths[int(_WRAP_QUANTILE * (len(lengths) - 1))]
    body = [(n, word) for n, word in pairs if 4 * n >= 3 * width]  # not a heading over its paragraph
    full = sum(n + 1 + word > width for n, word in body)
    widest = max(len(line.rstrip()) for lines in paragraphs for line in lines if " " in line.strip())
    wrapped = (_WRAP_MIN_WIDTH <= width <= _WRAP_MAX_WIDTH and full >= full_share * len(body)
               and widest <= width + max(4, width // 10))
    return widest if wrapped else 0  # a line with room under the widest for the next word ended its block


def _wrapped_runs(lines: list[str], width: int) -> list[str]:
    """The lines of a hard-wrapped piece as runs, cut after each line that had room for the next line's first
    word: the line ended a heading or a paragraph."""
    runs, start = [], 0
    for i, (line, following) in enumerate(zip(lines, lines[1:])):
        word = following.split(maxsplit=1)
        if word and len(line.rstrip()) + 1 + len(word[0]) <= width:
            runs.append("\n".join(lines[start:i + 1]))
            start = i + 1
    runs.append("\n".join(lines[start:]))
    return runs


def segment_page(page: Page) -> Document:
    """The HTML blocks of a corpus page, read with its declared encoding and named by its key."""
    return segment_html(page.content, source=page.key, encoding=page.encoding or None)


def segment_text(text: str, *, source: str = "", title: str = "") -> Document:
    """Cut plain text into blocks: paragraphs where its lines are hard-wrapped, else lines."""
    text = text.replace("\r\n", "\n")
    text = visible(text.translate(_LINE_BREAKS) if _ODD_CHARS.search(text) else text)
    pieces = _blank_line_pieces(text) if _BLANK_LINE.search(text) else _line_pieces(text.split("\n"))
    blocks = _line_blocks_of(pieces)
    if not title:  # the first headline-like line: a few words, no sentence of body text, no menu
        title = next((b.text for b in blocks[:8] if 4 <= len(b.text.split()) <= 25
                      and not b.text.endswith((".", ":")) and not _menu_line(b.text)), "")
    return Document(blocks=tuple(blocks), title=title, format="text", source=source)


def _menu_line(text: str) -> bool:
    """A menu printed on one line: three items or more, none over two words ("Home | News | Sport")."""
    items = _MENU_SEPARATORS.split(text)
    return len(items) >= 3 and all(len(item.split()) <= 2 for item in items)


def flatten(doc: Document) -> str:
    """Render a Document as a plain-text dump: one block a paragraph, as scrapers flatten pages."""
    return "\n\n".join(b.text for b in doc.blocks)


def as_format(doc: Document, format: Format, source: str) -> Document:
    """The HTML blocks as they are, or flattened to a text dump (keeping the page's <title>) and re-segmented
    as text: how training and the feature probe read a page as a text model."""
    if format == "html":
        return doc
    text_doc = segment_text(flatten(doc), source=source, title=doc.title)
    if len(text_doc.blocks) != len(doc.blocks):  # cannot happen unless segmentation changes
        raise InputError(f"{source}: flattened text does not keep the HTML blocks")
    return text_doc


_HTML_SNIFF = re.compile(
    r"<(?:!doctype\s+html|html|head|body|div|p|span|a\s|table|meta|title|script|article|section)\b", re.I
)
_ANY_TAG = re.compile(r"<[A-Za-z!/?]")
# a fragment (as a scraper's selector returns one) opens with one of these elements and closes one of them
_FRAGMENT_TAGS = (r"(?:html|head|body|meta|title|script|p|div|span|a|h[1-6]|ul|ol|li|dl|table|tr|td|th|blockquote|pre|"
                  r"main|article|section|header|footer|nav|aside|figure|em|strong|b|i)\b")
_FRAGMENT_OPEN = re.compile("<" + _FRAGMENT_TAGS, re.I)
_FRAGMENT_CLOSE = re.compile("</" + _FRAGMENT_TAGS + r"\s*>", re.I)
_HTML_CLOSE = re.compile(r"</(?:html|head|body|div|p|span|a|table|title|script|article|section)\s*>", re.I)
_PREAMBLE = r"\s*(?:<!--.*?-->\s*)*"  # white space and comments before a page's first tag
_PREAMBLE_TEXT = re.compile("\ufeff?" + _PREAMBLE, re.S)
_PREAMBLE_BYTES = re.compile(_PREAMBLE.encode(), re.S)


def sniff_format(content: str | bytes) -> Format:
    """Guess whether content is HTML or plain text from the content itself, not a file name.

    HTML starts with a doctype or <html>; or, a fragment, opens with one of its elements and closes one
    ("<p>…</p>", "<body>…</html>"); or has two of its common tags and a tag at its start or a closing tag:
    text that only names tags ("wrap it in <div> or <p>") stays text.
    """
    head = _sniff_head(content)
    if head[:9].lower().startswith(("<!doctype", "<html")):
        return "html"
    if _FRAGMENT_OPEN.match(head) and _FRAGMENT_CLOSE.search(head):
        return "html"
    tags = len(_HTML_SNIFF.findall(head))
    if tags < 2:
        return "text"
    return "html" if head.startswith("<") or _HTML_CLOSE.search(head) else "text"


def settle_format(content: str, hint: str) -> Format:
    """The format of content whose source suggests `hint` ("html" or "text" from a file suffix, a WARC
    record's type or a JSON Lines field; "auto" for none). The content overrules the hint only on clear
    evidence: an .html file without a single tag is text; a .txt file is HTML only where it opens as a page
    does (a doctype, <html>, or a tag first and page markup after it), not where its prose shows tags."""
    if hint == "html":
        return "html" if _ANY_TAG.search(content) else "text"
    if hint == "text" and not _sniff_head(content).startswith("<"):
        return "text"
    return sniff_format(content)


def _sniff_head(content: str | bytes) -> str:
    """The first 8 KB of content after its BOM, leading white space and comments, as text."""
    if isinstance(content, bytes):
        wide = next((name for bom, name in _BOMS[1:] if content.startswith(bom)), None)
        if wide is None:
            start = _PREAMBLE_BYTES.match(content, 3 if content.startswith(codecs.BOM_UTF8) else 0).end()
            return content[start:start + 8192].decode("utf-8", errors="ignore")
        content = content[:65536].decode(wide, errors="ignore")
    start = _PREAMBLE_TEXT.match(content).end()
    return content[start:start + 8192]


def _checked(content: object, encoding: object, source: str) -> str | bytes:
    """The content as str or bytes (a bytearray or memoryview read as bytes), after a clear error for any
    other content and for an `encoding` Python has no codec for (a caller's typo, not the page's label)."""
    name = source or "input"
    if isinstance(content, (bytearray, memoryview)):
        content = bytes(content)
    elif not isinstance(content, (str, bytes)):
        raise InputError(f"{name}: content is {type(content).__name__}, not str or bytes")
    if encoding is not None and not isinstance(encoding, str):
        raise InputError(f"{name}: encoding must be a codec name, not {type(encoding).__name__}")
    if encoding and _codec(encoding) is None:
        raise InputError(f"{name}: unknown encoding {encoding!r}")
    return content


def segment(content: str | bytes, *, format: str = "auto", source: str = "",
            encoding: str | None = None) -> Document:
    """Segment content as HTML or text; `format="auto"` sniffs the content."""
    if format not in ("auto", "html", "text"):
        raise InputError(f"{source or 'input'}: unknown format {format!r} (use auto, html or text)")
    content = _checked(content, encoding, source)
    if isinstance(content, bytes):  # sniffed as read: through its BOM or declared charset (UTF-16, ...)
        content = decode_html(content, encoding, source)
    fmt = sniff_format(content) if format == "auto" else format
    return segment_html(content, source=source) if fmt == "html" else segment_text(content, source=source)
