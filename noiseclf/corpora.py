"""Labelled corpora: load the six gold corpora as `Page` records, from an archive or a folder.

Data lives outside the project (see `data_root`), one corpus per `NAME.tar.gz` archive or its
extracted `NAME/` folder. An archive is read in place in a single streaming pass; a folder is
preferred when both exist. Pages come in a deterministic order (ids sorted as strings), and
every corpus fills the same `Page` fields: raw bytes in `content`, gold main text
in `gold_text` (plain paragraphs separated by blank lines), snippets where the corpus has them.

Corpus-specific pitfalls handled here:
- wcxb: the split comes from metadata.json only; 139 test ids also sit under dev/ and are never
  yielded as dev.
- cleaneval: page 60 is in both dev and final (same page, slightly different gold); it is yielded
  as final only. The 59 final inputs without a gold file are skipped. `Page.encoding` is the
  wrapper's declared encoding when Python knows it ("unset", "unknown-..." become "").
- dragnet: the comments marker has typo variants ("!@#$%^&*() COMMENTS", "!!@#...", "!@ $%^...",
  "#$%^...") that are honoured too; 43 gold files are cp1252, not UTF-8.
- l3s_gn1: gold runs are taken from the annotated copy (whose curly quotes became "?").
"""

from __future__ import annotations

import codecs
import gzip
import html
import json
import os
import re
import sys
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import groupby, islice
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from .types import BlockClass, GoldRun, InputError, Page

CORPORA: tuple[str, ...] = (
    "wcxb", "scrapinghub_aeb", "dragnet", "l3s_gn1", "cleaneval", "trafilatura_eval",
)
SPLITS: dict[str, tuple[str, ...]] = {
    "wcxb": ("dev", "test"),
    "scrapinghub_aeb": ("test",),
    "dragnet": ("train", "test"),
    "l3s_gn1": ("all",),
    "cleaneval": ("dev", "final"),
    "trafilatura_eval": ("all",),
}
DEFAULT_TEST_SPLIT: dict[str, str] = {
    "wcxb": "test",
    "scrapinghub_aeb": "test",
    "dragnet": "test",
    "l3s_gn1": "all",
    "cleaneval": "final",
    "trafilatura_eval": "all",
}
DATA_ENV = "NOISECLF_DATA"
# What reading a corpus file of valid JSON but another shape raises (a list where an object belongs, ...).
_LAYOUT_ERRORS = (AttributeError, TypeError, KeyError, IndexError)


# ---------------------------------------------------------------------------------------------
# Where the data is


def data_root() -> Path:
    """The folder holding the corpora, so code and CI find them without configuration.

    $NOISECLF_DATA if set; else the first existing of `<checkout>/../shared/data` (next to the
    project checkout), `../shared/data` and `./shared/data` from the working directory; else the
    checkout-relative path, so that error messages name where the data was expected.
    """
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    checkout = Path(__file__).resolve().parents[2] / "shared" / "data"
    candidates = (checkout, Path.cwd().parent / "shared" / "data", Path.cwd() / "shared" / "data")
    return next((path for path in candidates if path.is_dir()), checkout)


def corpus_available(name: str, root: Path | None = None) -> bool:
    """Whether corpus `name` is under `root` (folder or archive), so callers can skip if absent."""
    base = root if root is not None else data_root()
    return name in SPLITS and ((base / name).is_dir() or (base / f"{name}.tar.gz").is_file())


# ---------------------------------------------------------------------------------------------
# Reading files from a folder or from an archive


class _Folder:
    """Corpus files under an extracted folder, read on demand."""

    def __init__(self, base: Path) -> None:
        self.base = base

    def names(self, folder: str) -> list[str]:
        path = self.base / folder
        if not path.is_dir():
            raise InputError(f"{path}: folder missing")
        return sorted(p.name for p in path.iterdir() if p.is_file())

    def has(self, rel: str) -> bool:
        return (self.base / rel).is_file()

    def where(self, rel: str) -> str:
        """File `rel` as messages name it."""
        return str(self.base / rel)

    def read(self, rel: str) -> bytes:
        try:
            return (self.base / rel).read_bytes()
        except OSError as err:
            raise InputError(f"{self.base / rel}: {err.strerror or err}") from err


class _Archive:
    """Corpus files of a tar.gz, streamed once: every name is listed, only wanted files are kept."""

    def __init__(self, archive: Path, name: str, wanted: Callable[[str], bool]) -> None:
        self.archive = archive
        self.listing: dict[str, set[str]] = {}
        self.data: dict[str, bytes] = {}
        try:
            with tarfile.open(archive, "r|gz") as tar:
                for member in tar:
                    self._take(tar, member, f"{name}/", wanted)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
            raise InputError(f"{archive}: unreadable archive ({err})") from err

    def _take(self, tar: tarfile.TarFile, member: tarfile.TarInfo, prefix: str,
              wanted: Callable[[str], bool]) -> None:
        if not member.isfile() or not member.name.startswith(prefix):
            return
        rel = member.name[len(prefix):]
        folder, _, file = rel.rpartition("/")
        self.listing.setdefault(folder, set()).add(file)
        if wanted(rel):
            self.data[rel] = tar.extractfile(member).read()

    def names(self, folder: str) -> list[str]:
        if folder not in self.listing:
            raise InputError(f"{self.archive}: folder {folder!r} missing")
        return sorted(self.listing[folder])

    def has(self, rel: str) -> bool:
        folder, _, file = rel.rpartition("/")
        return file in self.listing.get(folder, ())

    def where(self, rel: str) -> str:
        """Member `rel` as messages name it."""
        return f"{self.archive}: {rel}"

    def read(self, rel: str) -> bytes:
        if rel not in self.data:
            raise InputError(f"{self.archive}: member {rel!r} missing")
        return self.data[rel]


_Tree = _Folder | _Archive


class _Entry(NamedTuple):
    """One page to load: its id, split and what the corpus index says about it."""

    id: str
    split: str
    meta: Mapping[str, Any]


class _Spec(NamedTuple):
    """How one corpus is laid out: index files, page folders per split, and its two readers."""

    index_files: tuple[str, ...]
    page_dirs: Callable[[str | None], tuple[str, ...]]
    index: Callable[[_Tree, str | None], list[_Entry]]
    page: Callable[[_Tree, _Entry], Page]


# ---------------------------------------------------------------------------------------------
# Shared helpers


_LATIN1_NAMES = frozenset({"iso8859-1", "ascii"})


def _codec(name: str) -> str | None:
    """A Python codec for a declared encoding (latin-1 and ASCII read as cp1252, as browsers do)."""
    try:
        found = codecs.lookup(name).name
    except (LookupError, TypeError, ValueError):
        return None
    return "cp1252" if found in _LATIN1_NAMES else found


def _decode(data: bytes, *declared: str) -> str:
    """Text of `data`: by its BOM, else UTF-8 if it is, else the first declared encoding that fits, else cp1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    for name in ("utf-8-sig", *declared, "cp1252"):
        codec = _codec(name)
        if codec:
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                continue
    return data.decode("latin-1")


def _paragraphs(chunks: Iterable[str]) -> str:
    """Whitespace-collapsed non-empty chunks joined by blank lines: the gold text normal form."""
    return "\n\n".join(p for p in (" ".join(chunk.split()) for chunk in chunks) if p)


def _domain(url: str) -> str:
    """Host of `url` without a leading "www.", or "" when there is none."""
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _json(tree: _Tree, rel: str) -> Any:
    """The parsed JSON file `rel`; InputError naming it when it is not JSON."""
    try:
        return json.loads(tree.read(rel))
    except ValueError as err:
        raise InputError(f"{tree.where(rel)}: invalid JSON ({err})") from err


def _gunzip(tree: _Tree, rel: str) -> bytes:
    """The gunzipped bytes of file `rel`; InputError naming it when it is not gzip."""
    try:
        return gzip.decompress(tree.read(rel))
    except (OSError, EOFError, zlib.error) as err:
        raise InputError(f"{tree.where(rel)}: not a gzip file ({err})") from err


def _stem(file: str, suffix: str) -> str | None:
    """`file` without `suffix`, or None for files of another kind."""
    return file[: -len(suffix)] if file.endswith(suffix) else None


# ---------------------------------------------------------------------------------------------
# wcxb


def _wcxb_index(tree: _Tree, split: str | None) -> list[_Entry]:
    files = _json(tree, "metadata.json").get("files", {})
    return [_Entry(pid, meta["split"], meta) for pid, meta in files.items()
            if meta.get("split") in SPLITS["wcxb"] and split in (None, meta["split"])]


def _wcxb_page(tree: _Tree, entry: _Entry) -> Page:
    record = _json(tree, f"{entry.split}/ground-truth/{entry.id}.json")
    gold = record.get("ground_truth") or {}
    url = record.get("url") or gold.get("url") or ""
    html_file = f"{entry.split}/html/{entry.id}.html.gz"
    return Page(
        id=entry.id, corpus="wcxb", split=entry.split,
        content=_gunzip(tree, html_file),
        gold_text=(gold.get("main_content") or "").strip(),
        with_snippets=tuple(gold.get("with") or ()),
        without_snippets=tuple(gold.get("without") or ()),
        url=url, domain=(entry.meta.get("domain") or "").removeprefix("www.") or _domain(url),
        title=gold.get("title") or "", page_type=entry.meta.get("page_type") or "",
    )


# ---------------------------------------------------------------------------------------------
# scrapinghub_aeb


def _aeb_index(tree: _Tree, split: str | None) -> list[_Entry]:
    return [_Entry(pid, "test", meta) for pid, meta in _json(tree, "ground-truth.json").items()]


def _aeb_page(tree: _Tree, entry: _Entry) -> Page:
    url = entry.meta.get("url") or ""
    html_file = f"html/{entry.id}.html.gz"
    return Page(
        id=entry.id, corpus="scrapinghub_aeb", split=entry.split,
        content=_gunzip(tree, html_file),
        gold_text=(entry.meta.get("articleBody") or "").strip(), url=url, domain=_domain(url),
    )


# ---------------------------------------------------------------------------------------------
# dragnet

_DRAGNET_LISTS = {"train": "training.txt", "test": "test.txt"}
_COMMENTS_MARKER = re.compile(r"[!@#$%^&*()\s]{3,}COMMENTS")  # any run of the marker's symbols: it has typos


def _dragnet_index(tree: _Tree, split: str | None) -> list[_Entry]:
    return [_Entry(pid, name, {}) for name, file in _DRAGNET_LISTS.items()
            if split in (None, name) for pid in tree.read(file).decode("utf-8", "replace").split()]


def _dragnet_gold(data: bytes) -> str:
    """Main text of a Corrected file: each line a paragraph, up to the comments marker."""
    lines = _decode(data).splitlines()
    cut = next((i for i, line in enumerate(lines) if _COMMENTS_MARKER.fullmatch(line.strip())),
               len(lines))
    return _paragraphs(lines[:cut])


def _dragnet_page(tree: _Tree, entry: _Entry) -> Page:
    return Page(
        id=entry.id, corpus="dragnet", split=entry.split,
        content=tree.read(f"HTML/{entry.id}.html"),
        gold_text=_dragnet_gold(tree.read(f"Corrected/{entry.id}.html.corrected.txt")),
    )


# ---------------------------------------------------------------------------------------------
# l3s_gn1

_L3S = "L3S-GN1-20100130203947-00001"
_SEL_CLASS = re.compile(r"\bx-nc-sel([0-5])\b")
_L3S_SKIP = frozenset({"head", "script", "style"})
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "caption", "center", "dd", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hr", "iframe", "legend", "li", "main", "nav", "ol", "option", "p", "pre",
    "section", "select", "table", "tbody", "td", "textarea", "tfoot", "th", "thead", "title",
    "tr", "ul",
})
_BREAK = None  # a block boundary in the stream of (text, class) pieces
_UTF8_HTML = lxml.html.HTMLParser(encoding="utf-8")  # annotated copies are UTF-8, whatever declared


def _l3s_index(tree: _Tree, split: str | None) -> list[_Entry]:
    urls: dict[str, str] = {}
    for line in tree.read(f"{_L3S}/url-mapping.txt").decode("utf-8", "replace").splitlines():
        key, _, url = line.partition("\t")
        urls[key.strip().removeprefix("<urn:uuid:").removesuffix(">")] = url.strip()
    stems = (_stem(file, ".html") for file in tree.names(f"{_L3S}/annotated"))
    return [_Entry(pid, "all", {"url": urls.get(pid, "")}) for pid in stems if pid]


def _own_class(el: Any, inherited: int) -> int:
    """The class an element gives its text: its x-nc-selN class, else the enclosing one."""
    found = _SEL_CLASS.search(el.get("class") or "")
    return int(found.group(1)) if found else inherited


def _l3s_pieces(root: Any) -> Iterator[tuple[str, int] | None]:
    """Text of the annotated DOM in order, each piece with its class; _BREAK at block edges."""
    stack: list[tuple[Any, int, bool]] = [(root, 0, False)]
    while stack:
        el, outer, closing = stack.pop()
        visible = isinstance(el.tag, str) and el.tag not in _L3S_SKIP
        if visible and not closing:
            own = _own_class(el, outer)
            if el.tag in _BLOCK_TAGS:
                yield _BREAK
            if el.text:
                yield el.text, own
            stack.append((el, outer, True))
            stack.extend((child, own, False) for child in reversed(el))
            continue
        if visible and el.tag in _BLOCK_TAGS:
            yield _BREAK
        if el.tail and el is not root:
            yield el.tail, outer


def _l3s_stretches(pieces: Iterable[tuple[str, int] | None]) -> Iterator[tuple[int, str]]:
    """Maximal same-class stretches of text within one block, whitespace-collapsed."""
    parts: list[str] = []
    cls = 0
    for piece in [*pieces, _BREAK]:
        starts_new = piece is _BREAK or (piece[1] != cls and piece[0].strip())
        if starts_new:
            text = " ".join("".join(parts).split())
            if text:
                yield cls, text
            parts = []
        if piece is not _BREAK:
            cls = piece[1] if piece[0].strip() else cls
            parts.append(piece[0])


def _l3s_runs(annotated: bytes, rel: str) -> tuple[GoldRun, ...]:
    """Gold runs of an annotated page: adjacent same-class text merged, its blocks as paragraphs."""
    try:
        root = lxml.html.document_fromstring(annotated, parser=_UTF8_HTML)
    except (etree.ParserError, ValueError) as err:
        raise InputError(f"{rel}: unparsable HTML ({err})") from err
    return tuple(GoldRun("\n\n".join(text for _, text in group), BlockClass(cls))
                 for cls, group in groupby(_l3s_stretches(_l3s_pieces(root)), key=lambda s: s[0]))


def _l3s_page(tree: _Tree, entry: _Entry) -> Page:
    rel = f"{_L3S}/annotated/{entry.id}.html"
    runs = _l3s_runs(tree.read(rel), rel)
    url = entry.meta["url"]
    return Page(
        id=entry.id, corpus="l3s_gn1", split=entry.split,
        content=tree.read(f"{_L3S}/original/{entry.id}.html"),
        gold_text="\n\n".join(run.text for run in runs if run.cls.is_content),
        gold_runs=runs, url=url, domain=_domain(url),
    )


# ---------------------------------------------------------------------------------------------
# cleaneval

_WRAPPER_ATTR = re.compile(rb'(\w+)="([^"]*)"')
_GOLD_SPLIT = re.compile(r"<[phl]>|\n[ \t\r\f\v]*\n", re.IGNORECASE)
_URL_LINE = re.compile(r"\s*(URL:.*|https?://\S+\s*)")


def _cleaneval_gold_ids(tree: _Tree, split: str) -> set[str]:
    """Ids of a split's pages that have a gold file (59 final inputs have none)."""
    return {pid for f in tree.names(f"cleaneval-{split}/GoldStandard") if (pid := _stem(f, ".txt"))}


def _cleaneval_index(tree: _Tree, split: str | None) -> list[_Entry]:
    final = _cleaneval_gold_ids(tree, "final")
    dev = _cleaneval_gold_ids(tree, "dev") - final  # page 60 is in both: keep it out of dev
    return [_Entry(pid, name, {}) for name, ids in (("dev", dev), ("final", final))
            if split in (None, name) for pid in ids]


def _cleaneval_unwrap(data: bytes) -> tuple[bytes, dict[str, bytes]]:
    """The page inside the `<text id=.. title=.. encoding=..>` wrapper, and the wrapper's attrs."""
    head, _, body = data.partition(b"\n")
    if not head.lstrip().startswith(b"<text"):
        return data, {}
    body = body.rstrip()
    body = body[: -len(b"</text>")].rstrip() if body.endswith(b"</text>") else body
    return body, {key.decode("ascii"): value for key, value in _WRAPPER_ATTR.findall(head)}


def _cleaneval_gold(data: bytes, encoding: str) -> str:
    """Gold text without its URL line and block markers, each marked block a paragraph."""
    text = _decode(data, encoding)
    first, _, rest = text.partition("\n")
    return _paragraphs(_GOLD_SPLIT.split(rest if _URL_LINE.fullmatch(first) else text))


def _cleaneval_page(tree: _Tree, entry: _Entry) -> Page:
    folder = f"cleaneval-{entry.split}"
    content, attrs = _cleaneval_unwrap(tree.read(f"{folder}/input/{entry.id}.html"))
    declared = attrs.get("encoding", b"").decode("ascii", "replace")
    encoding = declared if _codec(declared) else ""
    url = _decode(attrs.get("id", b""))
    return Page(
        id=entry.id, corpus="cleaneval", split=entry.split, content=content,
        gold_text=_cleaneval_gold(tree.read(f"{folder}/GoldStandard/{entry.id}.txt"), encoding),
        url=url, domain=_domain(url), encoding=encoding,
        title=" ".join(html.unescape(_decode(attrs.get("title", b""), encoding)).split()),
    )


# ---------------------------------------------------------------------------------------------
# trafilatura_eval

_TRAFILATURA_DIRS = ("tests/eval", "tests/cache")


def _trafilatura_index(tree: _Tree, split: str | None) -> list[_Entry]:
    records = _json(tree, "tests/evaldata.json")
    return [_Entry(record["file"], "all", {**record, "url": url})
            for url, record in records.items() if record.get("file")]


def _trafilatura_page(tree: _Tree, entry: _Entry) -> Page:
    paths = [f"{folder}/{entry.id}" for folder in _TRAFILATURA_DIRS]
    path = next((p for p in paths if tree.has(p)), paths[0])
    url = entry.meta["url"]
    return Page(
        id=entry.id, corpus="trafilatura_eval", split=entry.split, content=tree.read(path),
        with_snippets=tuple(entry.meta.get("with") or ()),
        without_snippets=tuple(entry.meta.get("without") or ()),
        url=url, domain=_domain(url), title=entry.meta.get("title") or "",
    )


# ---------------------------------------------------------------------------------------------
# Public entry points


def _split_dirs(template: str, splits: tuple[str, ...]) -> Callable[[str | None], tuple[str, ...]]:
    """Page folders for a corpus whose pages sit in one folder per split."""
    return lambda split: tuple(template.format(s) for s in splits if split in (None, s))


_SPECS: dict[str, _Spec] = {
    "wcxb": _Spec(("metadata.json",), _split_dirs("{}/", SPLITS["wcxb"]),
                  _wcxb_index, _wcxb_page),
    "scrapinghub_aeb": _Spec(("ground-truth.json",), lambda split: ("html/",),
                             _aeb_index, _aeb_page),
    "dragnet": _Spec(tuple(_DRAGNET_LISTS.values()), lambda split: ("HTML/", "Corrected/"),
                     _dragnet_index, _dragnet_page),
    "l3s_gn1": _Spec((f"{_L3S}/url-mapping.txt",),
                     lambda split: (f"{_L3S}/original/", f"{_L3S}/annotated/"),
                     _l3s_index, _l3s_page),
    "cleaneval": _Spec((), _split_dirs("cleaneval-{}/", SPLITS["cleaneval"]),
                       _cleaneval_index, _cleaneval_page),
    "trafilatura_eval": _Spec(("tests/evaldata.json",),
                              lambda split: tuple(f"{d}/" for d in _TRAFILATURA_DIRS),
                              _trafilatura_index, _trafilatura_page),
}


def _locate(name: str, split: str | None, root: Path | None) -> tuple[_Spec, Path]:
    """Check the corpus name and split; return its spec and its folder or archive."""
    if name not in _SPECS:
        raise InputError(f"unknown corpus {name!r}; expected one of {', '.join(CORPORA)}")
    if split is not None and split not in SPLITS[name]:
        raise InputError(f"corpus {name!r} has no split {split!r}; expected one of {SPLITS[name]}")
    base = root if root is not None else data_root()
    folder, archive = base / name, base / f"{name}.tar.gz"
    if folder.is_dir():
        return _SPECS[name], folder
    if archive.is_file():
        return _SPECS[name], archive
    raise InputError(f"corpus {name!r} missing: neither {folder} nor {archive} exists "
                     f"(set {DATA_ENV} to the folder holding the corpora)")


def _open(name: str, location: Path, wanted: Callable[[str], bool]) -> _Tree:
    """The corpus files: a folder read on demand, or an archive streamed once keeping `wanted`."""
    return _Folder(location) if location.is_dir() else _Archive(location, name, wanted)


def _entries(spec: _Spec, tree: _Tree, split: str | None) -> list[_Entry]:
    """The split's pages to load, sorted by id so every run sees the same order."""
    return sorted(spec.index(tree, split), key=lambda entry: entry.id)


def corpus_location(name: str, split: str | None = None, root: Path | None = None) -> Path:
    """The folder or archive `load_corpus` reads for a corpus; InputError for an unknown corpus or split or
    missing data, so callers can check a request before any work."""
    return _locate(name, split, root)[1]


def check_sources(sources: Sequence[tuple[str, str | None]], root: Path | None = None) -> None:
    """Refuse, before any work, an unknown corpus or split, missing data, and a corpus given twice (or whole
    beside one of its splits), whose pages would be read twice."""
    seen: list[tuple[str, str | None]] = []
    for corpus, split in sources:
        for other in (s for c, s in seen if c == corpus and (s is None or split is None or s == split)):
            name, other_name = source_name(corpus, split), source_name(corpus, other)
            raise InputError(f"{name} is given twice" if name == other_name else
                             f"{other_name} and {name} hold the same pages: give each once")
        seen.append((corpus, split))
    for corpus, split in sources:
        corpus_location(corpus, split, root)


def source_name(corpus: str, split: str | None) -> str:
    """CORPUS[:SPLIT], as the command line names a corpus or one of its splits."""
    return f"{corpus}:{split}" if split else corpus


def load_corpus(name: str, split: str | None = None, root: Path | None = None,
                limit: int | None = None) -> Iterator[Page]:
    """Pages of corpus `name` (all splits when `split` is None) in sorted-id order, for train/eval.

    Raises InputError at call time for an unknown corpus or split, missing data or a negative `limit`;
    `limit` caps how many pages are yielded.
    """
    if limit is not None and limit < 0:
        raise InputError(f"limit must be a number of pages, at least 0, not {limit}")
    spec, location = _locate(name, split, root)
    return _pages(name, spec, location, split, limit)


def _pages(name: str, spec: _Spec, location: Path, split: str | None,
           limit: int | None) -> Iterator[Page]:
    """Read the corpus (once, for an archive) and build its pages lazily in id order."""
    prefixes = spec.page_dirs(split)
    tree = _open(name, location, lambda rel: rel in spec.index_files or rel.startswith(prefixes))
    try:
        entries = _entries(spec, tree, split)
    except _LAYOUT_ERRORS as err:
        raise InputError(f"{location}: its index is not laid out as {name}'s ({type(err).__name__}: {err})") from err
    for entry in islice(entries, None if limit is None or limit >= sys.maxsize else limit):
        try:
            page = spec.page(tree, entry)
        except _LAYOUT_ERRORS as err:
            raise InputError(f"{location}: page {entry.id!r} is not laid out as {name}'s pages "
                             f"({type(err).__name__}: {err})") from err
        yield page


def count_pages(name: str, split: str | None = None, root: Path | None = None) -> int:
    """How many pages `load_corpus(name, split)` yields, reading only the corpus index."""
    spec, location = _locate(name, split, root)
    tree = _open(name, location, lambda rel: rel in spec.index_files)
    return len(_entries(spec, tree, split))
