"""Your own labelled pages as training data: `noiseclf train --pages FILE [--base MODEL]`.

Two input formats, given as files or folders (folders are searched recursively):

1. JSON Lines (`.jsonl`, `.jsonl.gz`, `.ndjson`, `.ndjson.gz`), one page per line:

       {"id": "a1", "url": "https://example.org/a1", "html": "<html>...</html>", "text": "The main text..."}

   `html` (the raw page) and `text` (its gold main text, paragraphs separated by blank lines, in
   page order) are required; `id` (default: the line number, in a folder "file:line"), `url` and
   `page_type` (such as "article": pages of the specialist's type, see `noiseclf train --specialist`) are
   optional. The gold text
   does not need to match the page character for character: it is aligned to the page's blocks
   word by word (`noiseclf.labelling`), and a block is content when most of its words align. An
   empty `text` marks a page with no main content; a non-empty one that matches none of the
   page's blocks is refused as a probable mix-up.

2. HTML files (`.html`, `.htm`, gzipped or not) in which the main content is marked: every element carrying
   `data-noiseclf="content"` is content, together with everything inside it; everything else on
   the page is boilerplate. Mark a whole container (`<article data-noiseclf="content">`) or single
   paragraphs. Blocks are labelled by where they sit, not by their text, so an unmarked copy of a
   marked paragraph (a pull quote) stays boilerplate; a block holding marked words among unmarked
   ones (a marked `<span>`) is content. The page id is the file name (in a folder, its path inside the
   folder); the attribute is not a feature, so it does not leak into the model.

Records that cannot be used (bad JSON or UTF-8, missing or mistyped fields, lone surrogate escapes, a URL
that is none, binary or unparseable pages, a non-empty gold text on a page without text) raise InputError
naming the file and line; pages with neither text blocks nor gold text are skipped.

Validation groups: training holds out whole sites, the site being the URL's host. A file whose
pages span fewer than MIN_SITES hosts (pages from your own site, or without URLs) holds out
single pages instead, so validation then measures pages of the same sites the model trained on;
the log and the manifest's validation method say how many pages were held out so.

Each file's block table is cached under `<cache_dir>/user-tables/<code fingerprint>/`, keyed by the
file's bytes, the format and the code that builds rows, so retraining with the same pages skips labelling
(`noiseclf cache --prune` removes the tables of older code).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

import numpy as np

from .inference import Extractor
from .labelling import label_blocks
from .metrics import word_prf
from .model import load_model
from .segmentation import as_format, segment_marked
from .tables import block_columns, page_document, table_cache, table_schema
from .training import TrainResult
from .types import SURROGATE, BlockClass, Document, Format, InputError, Page

if TYPE_CHECKING:
    import datasets

CORPUS = "user"
MIN_SITES = 5  # fewer distinct hosts than this in a file: validation holds out pages, not sites
MARK = "data-noiseclf"
_JSONL = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_HTML = (".html", ".htm", ".html.gz", ".htm.gz")
_MARKED_XPATH = f"//*[@{MARK}='content']"


def is_page_file(path: Path) -> bool:
    """Whether a file's name says it holds labelled pages (JSON Lines, or marked HTML): what a folder gives."""
    return path.name.lower().endswith(_JSONL + _HTML)


def page_files(path: Path) -> list[Path]:
    """The page files a path stands for: itself, or the JSONL and HTML files under a folder."""
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and is_page_file(p))
        if not found:
            raise InputError(f"{path}: no .jsonl or .html files in this folder")
        return found
    if not path.is_file():
        raise InputError(f"{path}: not a regular file (a pipe? training reads the pages twice: save them to a "
                         "file)" if path.exists() else f"{path}: no such file")
    if not is_page_file(path):
        raise InputError(f"{path}: not a page file (use .jsonl, .jsonl.gz, or .html or .html.gz with {MARK} marks)")
    return [path]


def _host(url: str, where: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError as exc:  # "http://[::1": an IPv6 host left open
        raise InputError(f"{where}: url {url!r} is not a URL: {exc}") from None
    return host.removeprefix("www.")


def _jsonl_pages(path: Path, id_prefix: str = "") -> Iterator[Page]:
    """Pages of a JSON Lines file of {id?, url?, html, text} records; a record without an id is
    `id_prefix` + its line number."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    number = 0
    try:
        with opener(path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise InputError(f"{path}:{number}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
                if line.strip():
                    yield _record_page(line, f"{path}:{number}", f"{id_prefix}{number}")
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: cannot be read{f' after line {number}' if number else ''}: {exc}") from None


def _record_page(line: str, where: str, default_id: str) -> Page:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise InputError(f"{where}: not a JSON object: {exc}") from exc
    if not isinstance(record, dict):
        raise InputError(f"{where}: not a JSON object")
    for name in ("html", "text"):
        if not isinstance(record.get(name), str):
            raise InputError(f"{where}: field {name!r} (a string) is missing")
    for name in ("id", "url", "page_type"):
        if record.get(name) is not None and not isinstance(record[name], (str, int)):
            raise InputError(f"{where}: field {name!r} is a {type(record[name]).__name__}, not a string")
    for name, value in record.items():
        lone = SURROGATE.search(value) if isinstance(value, str) else None
        if lone:
            raise InputError(f"{where}: field {name!r} holds a lone surrogate escape ({lone[0]!a}), not text")
    url = str(record.get("url") or "")
    rid = default_id if record.get("id") is None else str(record["id"])
    return Page(id=rid, corpus=CORPUS, split="all", content=record["html"].encode("utf-8"), encoding="utf-8",
                gold_text=record["text"], url=url, domain=_host(url, where),
                page_type=str(record.get("page_type") or ""))  # a JSON string is text: its <meta charset> is moot


class _Found(NamedTuple):
    """A labelled page with the file it comes from; a marked page also as it was segmented, with which of its
    blocks are marked (read once, for its gold text and its labels)."""

    file: Path
    page: Page
    marks: tuple[Document, list[bool]] | None = None


def marked_text(html: str | bytes, source: str = "") -> str:
    """The gold text of a page marked with data-noiseclf="content": its blocks (as the page is read) that hold
    marked text, in order; a marked element hidden on the page, or in a <noscript> it does not read, gives none."""
    return _marked_gold(*segment_marked(html, _MARKED_XPATH, source=source))


def _marked_gold(doc: Document, marked: list[bool]) -> str:
    return "\n\n".join(block.text for block, inside in zip(doc.blocks, marked) if inside)


def _html_page(path: Path, name: str) -> _Found:
    """A page from an HTML file whose content elements carry data-noiseclf="content", its id `name`, and which of
    its blocks the marks hold (its labels, read where the page is read for its gold text)."""
    try:
        content = gzip.decompress(path.read_bytes()) if path.name.lower().endswith(".gz") else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: cannot be read: {exc}") from None
    doc, marked = segment_marked(content, _MARKED_XPATH, source=str(path))
    gold = _marked_gold(doc, marked)
    if not gold:
        raise InputError(f"{path}: no text marked {MARK}=\"content\" (no element is marked, the marked ones hold "
                         "no text or are hidden, or they sit deeper in the page than the parser reads)")
    return _Found(path, Page(id=name, corpus=CORPUS, split="all", content=content, gold_text=gold), (doc, marked))


def _file_id(path: Path, file: Path) -> str:
    """How a file's pages are named: in a folder by the file's path inside it, else by the file's name (a name
    in another charset as "caf\\xe9.html")."""
    name = file.relative_to(path) if path.is_dir() else Path(file.name)
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _read_files(path: Path) -> list[_Found]:
    """Every labelled page under a path with the file it comes from; ids must not repeat."""
    found: list[_Found] = []
    for file in page_files(path):
        name = _file_id(path, file)
        if file.name.lower().endswith(_JSONL):
            found += [_Found(file, page) for page in _jsonl_pages(file, f"{name}:" if path.is_dir() else "")]
        else:
            found.append(_html_page(file, name))
    if not found:
        raise InputError(f"{path}: no pages found")
    seen: dict[str, Path] = {}
    for file, page, _ in found:
        if page.key in seen:
            where = "more than once" if seen[page.key] == file else f"in both {seen[page.key]} and {file}"
            raise InputError(f"{file}: page id {page.id!r} occurs {where}")
        seen[page.key] = file
    return found


def _page_columns(found: _Found, format: Format, site: str) -> dict[str, np.ndarray] | None:
    """The block rows of one page as columns (None for a page without text blocks). A marked page's blocks are
    content where its marks hold them; other pages' blocks where they align with the gold text."""
    source, page, marks = found
    try:
        doc = page_document(page, format) if marks is None else as_format(marks[0], format, page.key)
    except InputError as exc:
        raise InputError(f"{source}: page {page.id}: {exc}") from exc
    if not doc.blocks:
        if page.gold_text.strip():
            raise InputError(f"{source}: page {page.id}: its gold text is not empty, but the page holds no text; "
                             "is it the right page?")
        return None
    if marks is not None:
        content = np.array(marks[1], bool)
        classes = np.where(content, BlockClass.FULL_TEXT, BlockClass.NOT_CONTENT)
    else:
        labels = label_blocks(doc, page)
        content, classes = labels.content, labels.classes
        if page.gold_text.strip() and not content.any():
            raise InputError(f"{source}: page {page.id}: its gold text matches none of the page's text; "
                             "is it the right page?")
    return block_columns(doc, page.key, site, content, classes, page.page_type)


def read_pages(path: Path) -> list[Page]:
    """Every labelled page under a path (a JSONL file, a marked HTML file, or a folder of them); in a folder,
    pages are named by their file's path inside it, and a JSON Lines record without an id by its file and line
    ("part-1.jsonl:12")."""
    return [found.page for found in _read_files(Path(path))]


def _build(found: Sequence[_Found], format: Format, source: Path) -> datasets.Dataset:
    """A block table (`datasets.Dataset`) of pages (with the files they come from, for messages), with the row
    layout of corpus tables."""
    import datasets

    by_site = len({f.page.domain for f in found if f.page.domain}) >= MIN_SITES
    parts = [c for f in found
             if (c := _page_columns(f, format, f.page.domain if by_site and f.page.domain else f.page.key)) is not None]
    if not parts:
        raise InputError(f"{source}: none of the pages has any text block")
    schema = table_schema()
    columns = {name: np.concatenate([c[name] for c in parts]) for name in schema}
    columns = {name: (v.tolist() if v.dtype == object else v) for name, v in columns.items()}  # strings as lists
    return datasets.Dataset.from_dict(columns, features=schema)


def _cache_key(path: Path, format: str) -> str:
    """The files' bytes and names as their pages' ids are made of them (in a folder, their paths inside it)."""
    digest = hashlib.sha256(f"{format}\n{path.is_dir()}\n".encode())  # the code's fingerprint names the folder
    digest.update(Path(__file__).read_bytes())
    for file in page_files(path):
        digest.update(os.fsencode(_file_id(path, file)) + b"\0" + file.read_bytes())
    return digest.hexdigest()[:24]


def user_tables(paths: Sequence[Path], format: Format = "html",
                cache_dir: Path | None = None) -> list[datasets.Dataset]:
    """One block table per given path, built from your labelled pages (cached on disk)."""
    import datasets

    if format not in ("html", "text"):
        raise InputError(f"unknown format {format!r} (use html or text)")
    datasets.disable_progress_bars()
    tables = []
    for path in paths:
        where = table_cache("user-tables", cache_dir) / _cache_key(Path(path), format)
        table = _cached_table(where)
        if table is None:
            _build(_read_files(Path(path)), format, Path(path)).save_to_disk(str(where))
            table = datasets.load_from_disk(str(where))
        tables.append(table)
    return tables


def _cached_table(where: Path) -> datasets.Dataset | None:
    """The table cached at `where`, or None where there is none or it is damaged (then removed, to be built
    again): a run killed while saving, or a file since truncated."""
    import datasets

    if not where.exists():
        return None
    try:
        return datasets.load_from_disk(str(where))
    except Exception:  # pyarrow, json and file errors alike: the cache is only a cache
        shutil.rmtree(where, ignore_errors=True)
        return None


def mean_word_f1(extractor: Extractor, pages: Sequence[Page], format: Format) -> float:
    """Mean word F1 (WCXB's metric) of an extractor's output against the pages' gold texts."""
    scores = [word_prf(extractor.extract_document(page_document(p, format)).text, p.gold_text).f1 for p in pages]
    return float(np.mean(scores)) if scores else float("nan")


def check_base(base: Path, format: Format) -> Extractor:
    """The base model as an extractor of `format`; ModelError for a missing or broken file, InputError for a
    model of the other format (its scores on these pages would mean nothing)."""
    model, manifest = load_model(base)
    if manifest.format != format:
        raise InputError(f"{base}: a model for {manifest.format} input cannot be the base of one for {format} "
                         f"input (train with --format {manifest.format}, or give a {format} model as --base)")
    return Extractor({format: (model, manifest)})


def compare_with_base(result: TrainResult, old: Extractor, base: Path, paths: Sequence[Path], format: Format) -> str:
    """Word F1 of the new model and of the base model (`old`, from `check_base(base)`) on your pages, as a
    short text for the terminal.

    The pages are the ones the new model was trained on (no split is held back from training), so
    the new model's figure is optimistic; training's out-of-fold validation score is shown beside it.
    """
    pages = [page for path in paths for page in read_pages(Path(path))]
    new = Extractor({format: (result.model, result.manifest)})
    new_f1, old_f1 = mean_word_f1(new, pages, format), mean_word_f1(old, pages, format)
    validation = result.report.get("page_word_f1_blocks")
    method = result.report.get("method", "held-out validation")
    return (f"word F1 on your {len(pages)} pages: new model {new_f1:.3f}, base {base} {old_f1:.3f} "
            f"({new_f1 - old_f1:+.3f}). The new model trained on these pages, so its figure is optimistic; "
            f"its {method} gave page word F1 {validation} (from block labels).")
