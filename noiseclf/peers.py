"""Peer extractors as evaluation Systems, so noiseclf is compared with them on the same pages and clock.

Each peer runs with the settings people use by default; the only choices made here:
- trafilatura: `extract(html, include_comments=False, include_tables=True)`, its defaults otherwise
  (fallback extractors on, no precision/recall bias).
- readability: readability-lxml's `Document(html).summary()`, turned into text one paragraph per
  block-level element.
- justext: the non-boilerplate paragraphs with the stoplist of the page's language, taken from
  `<html lang>` when it names a language jusText has, else guessed as the stoplist that covers the
  most of the page's first 3,000 words (tags stripped), else English.
- boilerpy3: `ArticleExtractor().get_content(html)`.
- resiliparse: `extract_plain_text(HTMLTree.parse(html), main_content=True)`.
- c4: not an extractor but the line rule of C4 (Raffel et al. 2020): keep the lines that end in
  terminal punctuation (. ! ? ") and have at least 3 words; C4's page-level filters are not applied.
  HTML pages are first cut into noiseclf's blocks, one line a block.

On plain-text input (`--format text`) the HTML peers read the text wrapped one `<p>` a block
(`evaluation.text_as_html`); c4 reads the text's lines directly.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from .evaluation import FunctionSystem, TextSystemFn
from .segmentation import flatten, segment_html
from .types import InputError, NoiseclfError

# peer name -> (module it imports, distribution whose version the report names)
PEERS: dict[str, tuple[str, str]] = {
    "trafilatura": ("trafilatura", "trafilatura"),
    "readability": ("readability", "readability-lxml"),
    "justext": ("justext", "jusText"),
    "boilerpy3": ("boilerpy3", "boilerpy3"),
    "resiliparse": ("resiliparse.extract.html2text", "Resiliparse"),
    "c4": ("", ""),
}
_EXTRA_HINT = "pip install noiseclf[peers]"


class Peer(FunctionSystem):
    """A peer extractor as a System, with the version of the package that ran."""

    def __init__(self, name: str, fn: TextSystemFn, version: str, text_fn: TextSystemFn | None = None):
        super().__init__(name, fn, text_fn)
        self.version = version


def _installed(module: str) -> bool:
    try:
        import_module(module)
    except ImportError:
        return False
    return True


def available_peers() -> list[str]:
    """Names of the peers whose packages are installed (c4 needs none)."""
    return [name for name, (module, _) in PEERS.items() if not module or _installed(module)]


def make_peer(name: str) -> Peer:
    """The peer called `name` as a System; NoiseclfError names the extra to install when it is missing."""
    if name not in PEERS:
        raise InputError(f"unknown peer {name!r}; choose from {', '.join(PEERS)}")
    module, dist = PEERS[name]
    if module and not _installed(module):
        raise NoiseclfError(f"peer {name!r} needs the {dist} package, which is not installed: {_EXTRA_HINT}")
    if name == "c4":
        return Peer("c4", c4_html, "C4 line rule", text_fn=c4_lines)
    return Peer(name, _MAKERS[name](), f"{dist} {_version(dist)}")


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown version"


# --- the peers --------------------------------------------------------------------------------


def _trafilatura() -> TextSystemFn:
    import trafilatura

    return lambda html: trafilatura.extract(html, include_comments=False, include_tables=True) or ""


_BLOCK_TAGS = ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "blockquote", "pre", "dd", "dt",
               "figcaption", "section", "article", "table", "ul", "ol")


def html_to_paragraphs(html: str) -> str:
    """Text of an HTML fragment, one paragraph per block-level element (blank-line separated), <br> a line break."""
    import lxml.html

    if not html.strip():
        return ""
    root = lxml.html.fromstring(html)
    for el in root.iter(*_BLOCK_TAGS):
        el.text = "\n\n" + (el.text or "")
        el.tail = "\n\n" + (el.tail or "")
    for el in root.iter("br"):
        el.tail = "\n" + (el.tail or "")
    paras = ("\n".join(" ".join(line.split()) for line in p.splitlines() if line.strip())
             for p in re.split(r"\n\s*\n", root.text_content()))
    return "\n\n".join(p for p in paras if p)


def _readability() -> TextSystemFn:
    import logging

    from readability import Document

    logging.getLogger("readability").setLevel(logging.CRITICAL)  # it logs a traceback for each page it fails on
    return lambda html: html_to_paragraphs(Document(html).summary())


_ISO_LANGUAGE = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "da": "Danish",
    "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "it": "Italian",
    "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "nl": "Dutch", "no": "Norwegian_Bokmal",
    "nb": "Norwegian_Bokmal", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sk": "Slovak", "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish", "tr": "Turkish", "uk": "Ukrainian",
    "vi": "Vietnamese",
}
_LANG_ATTR = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([a-zA-Z]{2})\b", re.IGNORECASE)
_MARKUP = re.compile(r"(?is)<(script|style)\b.*?</\1\s*>|<[^>]*>")
_WORD = re.compile(r"\w+")
GUESS_WORDS = 3000


@lru_cache(maxsize=1)
def _stopword_index() -> tuple[tuple[str, ...], dict[str, tuple[int, ...]]]:
    """jusText's languages and, for every stopword, the languages listing it (built once)."""
    import justext

    names = tuple(sorted(justext.get_stoplists()))
    index: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        for word in justext.get_stoplist(name):
            index.setdefault(word, []).append(i)
    return names, {word: tuple(langs) for word, langs in index.items()}


def justext_language(html: str) -> str:
    """The jusText stoplist for a page: `<html lang>` when jusText has it, else a stopword-count guess, else English."""
    names, index = _stopword_index()
    declared = _LANG_ATTR.search(html[:5000])
    if declared and _ISO_LANGUAGE.get(declared.group(1).lower()) in names:
        return _ISO_LANGUAGE[declared.group(1).lower()]
    hits: Counter[int] = Counter()
    for word in _WORD.findall(_MARKUP.sub(" ", html).lower())[:GUESS_WORDS]:
        hits.update(index.get(word, ()))
    return names[hits.most_common(1)[0][0]] if hits else "English"


def _justext() -> TextSystemFn:
    import justext

    _stopword_index()  # built here, outside the timed calls

    def run(html: str) -> str:
        paragraphs = justext.justext(html, justext.get_stoplist(justext_language(html)))
        return "\n\n".join(p.text for p in paragraphs if not p.is_boilerplate)

    return run


def _boilerpy3() -> TextSystemFn:
    import logging

    from boilerpy3 import extractors

    # It warns on most real pages and logs each page it fails on with two tracebacks; the page's row records the error.
    logging.getLogger("boilerpy3").setLevel(logging.CRITICAL)
    extractor = extractors.ArticleExtractor()
    return lambda html: extractor.get_content(html)


def _resiliparse() -> TextSystemFn:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    return lambda html: extract_plain_text(HTMLTree.parse(html), main_content=True)


_MAKERS: dict[str, Callable[[], TextSystemFn]] = {
    "trafilatura": _trafilatura, "readability": _readability, "justext": _justext,
    "boilerpy3": _boilerpy3, "resiliparse": _resiliparse,
}


# --- C4's line rule ---------------------------------------------------------------------------

C4_END_MARKS = (".", "!", "?", '"')
C4_MIN_WORDS = 3


def c4_lines(text: str) -> str:
    """The lines C4 keeps: ending in terminal punctuation, with at least 3 words."""
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line.endswith(C4_END_MARKS) and len(line.split()) >= C4_MIN_WORDS)


def c4_html(html: str) -> str:
    """C4's line rule on an HTML page cut into noiseclf's blocks, one line a block."""
    return c4_lines(flatten(segment_html(html)))
