"""Block tables: every block of a corpus split with its features and gold label, as Arrow on disk.

Built with `datasets` so training streams from a memory-mapped table and a second run with the
same code and data reuses the cache; the fingerprint covers the source of every stage that
shapes a row and of this module, so editing segmentation, features, labelling, augmentation, the core
types (hint words, ancestor tags, invisible characters) or the row layout rebuilds the table. Tables live in a folder per fingerprint (`<cache>/tables/<fingerprint>/`,
`<cache>/user-tables/<fingerprint>/`), so `cache_usage` can tell the current code's from stale ones and
`prune_cache` can remove the stale ones.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import augment, corpora, features, labelling, segmentation, types
from .augment import Augmenter
from .features import N_FEATURES, block_features, block_path_ids, block_words
from .labelling import label_blocks
from .segmentation import as_format, segment_page
from .types import Document, Format, InputError, Page

DEFAULT_CACHE = Path(os.environ.get("NOISECLF_CACHE") or Path.home() / ".cache" / "noiseclf")  # "" is unset
CACHE_KINDS = ("tables", "user-tables")  # the cache's subfolders of block tables, one folder a code fingerprint
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")
_COMPILED_SOURCES = ("_walk.pyx", "_scan.pyx")  # the compiled helpers that shape a table's rows
# what the older layout (tables straight under the kind folder) left there: `datasets`' folder and lock files,
# and user tables under their 24-digit keys
_OLDER_LAYOUT = {"tables": re.compile(r"generator|.*\.lock"), "user-tables": re.compile(r"[0-9a-f]{24}")}


def code_fingerprint() -> str:
    """Hash of the modules whose code decides a table's rows, this one (the rows' layout) included; `types`
    holds the hint words, ancestor tags and invisible characters the blocks are read with, and the compiled
    walk and scan (their Cython sources, installed beside them) build the blocks and counts where present."""
    digest = hashlib.sha256()
    for module in (segmentation, features, labelling, corpora, augment, types):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    for source in _COMPILED_SOURCES:
        path = Path(__file__).with_name(source)
        digest.update(path.read_bytes() if path.is_file() else source.encode())
    return digest.hexdigest()[:16]


def _kind_folder(kind: str, cache_dir: Path | None) -> Path:
    """The cache's folder of one kind of table ("tables" or "user-tables"), every code version's."""
    return Path(cache_dir or DEFAULT_CACHE) / kind


def table_cache(kind: str, cache_dir: Path | None = None, version: str | None = None) -> Path:
    """The folder of the tables of a kind built by code `version` (default: the current code's): stale
    code's stay apart."""
    return _kind_folder(kind, cache_dir) / (version or code_fingerprint())


@dataclass(frozen=True)
class CacheEntry:
    """One entry of the table cache: a fingerprint folder, or (fingerprint None) a leftover of an older layout."""

    kind: str
    fingerprint: str | None
    path: Path
    bytes: int
    current: bool


def _size(path: Path) -> int:
    """Bytes of a file, or of the files under a folder (links counted as links, not followed)."""
    if path.is_symlink() or not path.is_dir():
        return path.lstat().st_size
    return sum(f.lstat().st_size for f in path.rglob("*") if f.is_symlink() or not f.is_dir())


def _remove(path: Path) -> None:
    """Delete a folder with everything in it, or a file or link (never what a link points to)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _ours(kind: str, path: Path) -> bool:
    """Whether a kind folder's entry is noiseclf's: a fingerprint folder or a leftover of the older layout."""
    if _FINGERPRINT.fullmatch(path.name):
        return path.is_dir()
    if not _OLDER_LAYOUT[kind].fullmatch(path.name):
        return False
    if path.name.endswith(".lock"):
        return path.is_file() or path.is_symlink()
    return path.is_dir() and not path.is_symlink()


def cache_usage(cache_dir: Path | None = None) -> list[CacheEntry]:
    """Every entry of the table cache with its size and whether it is the current code's, to see what is stale;
    other files there and a kind folder that is a link (its target is not the cache's) are left out."""
    current = code_fingerprint()
    entries = []
    for kind in CACHE_KINDS:
        folder = _kind_folder(kind, cache_dir)
        if folder.is_symlink() or not folder.is_dir():
            continue
        for path in sorted(p for p in folder.iterdir() if _ours(kind, p)):
            fingerprint = path.name if _FINGERPRINT.fullmatch(path.name) else None
            entries.append(CacheEntry(kind, fingerprint, path, _size(path), fingerprint == current))
    return entries


def prune_cache(cache_dir: Path | None = None, *, dry_run: bool = False) -> list[CacheEntry]:
    """Delete every cache entry but the current code's tables (nothing outside `CACHE_KINDS`); return them."""
    stale = [entry for entry in cache_usage(cache_dir) if not entry.current]
    if not dry_run:
        for entry in stale:
            _remove(entry.path)
    return stale


def page_document(page: Page, format: Format) -> Document:
    """Segment a corpus page; the text format is the HTML blocks flattened the way dumps are."""
    return as_format(segment_page(page), format, page.key)


def block_columns(doc: Document, key: str, site: str, content: np.ndarray,
                  classes: np.ndarray, page_type: str = "") -> dict[str, np.ndarray]:
    """One page's rows of a block table, as columns in `table_schema()`'s layout."""
    n = len(doc.blocks)
    return {"page": np.full(n, key, dtype=object), "site": np.full(n, site, dtype=object),
            "page_type": np.full(n, page_type, dtype=object),
            "index": np.arange(n, dtype=np.int32), "features": block_features(doc), "label": content.astype(bool),
            "cls": classes.astype(np.int8), "words": block_words(doc), "path": block_path_ids(doc).astype(np.int32)}


TABLE_SHARDS = 2  # fixed, not the machine's cores: each shard draws its own augmentation, so this shapes the table


def _rows(corpus: str, split: str | None, format: Format, limit: int | None, root: str,
          shards: list[int], augment: float, furniture: float, inline: float, plain: float,
          draw: int, version: str, source: str, lists: float) -> Iterator[dict]:
    """One row per block of the pages in `shards` (page number modulo TABLE_SHARDS), shard after shard, so a
    table is the same however many processes build it; `version` and `source` key the cache.

    With `augment` > 0 that share of pages gets a spliced teaser section (of those, the share `inline` one
    inline "Related: ..." line instead, the share `lists` a list of linked headlines inside the story), with `furniture` > 0 that share a newsletter box or cookie notice
    (noiseclf.augment), with `plain` > 0 that share in plain markup, each shard from its own seed and its
    own pages as donors. Draw k > 0 splices with other random draws and suffixes the page keys with "~k",
    so several draws concatenate as distinct pages of the same sites.
    """
    for shard in shards:
        augmenter = Augmenter(augment, seed=shard + 1000 * draw, furniture=furniture, inline=inline, plain=plain,
                              lists=lists)
        pages = corpora.load_corpus(corpus, split, root=Path(root), limit=limit)
        for number, page in enumerate(pages):
            if number % TABLE_SHARDS == shard:
                yield from _page_rows(page, format, augmenter, draw)


def _page_rows(page: Page, format: Format, augmenter: Augmenter, draw: int) -> Iterator[dict]:
    """A corpus page's rows, augmented by `augmenter`; none for a page that does not parse or has no blocks."""
    try:
        html_doc = segment_page(page)
    except InputError:
        return
    if not html_doc.blocks:
        return
    labels = label_blocks(html_doc, page)
    html_doc, content, added = augmenter(html_doc, labels.content)
    classes = np.zeros(len(html_doc.blocks), np.int8)
    classes[~added] = labels.classes
    doc = as_format(html_doc, format, page.key)
    key = (f"{page.key}~{draw}" if draw else page.key) + ("+aug" if added.any() else "")
    columns = block_columns(doc, key, page.domain or page.key, content, classes, page.page_type)
    for i in range(len(doc.blocks)):
        yield {name: values[i] for name, values in columns.items()}


def table_schema():
    """The row layout of every block table (corpus or user pages), so tables concatenate."""
    import datasets

    return datasets.Features({
        "page": datasets.Value("string"), "site": datasets.Value("string"), "page_type": datasets.Value("string"),
        "index": datasets.Value("int32"),
        "features": datasets.Sequence(datasets.Value("float32"), length=N_FEATURES),
        "label": datasets.Value("bool"), "cls": datasets.Value("int8"), "words": datasets.Value("float32"),
        "path": datasets.Value("int32"),
    })


def _identity(location: Path) -> str:
    """The corpus archive or folder as a cache key: its path, size and modification time (a folder's: those of
    every file in it), so tables of another data folder, of a replaced archive or of an edited page or gold
    file are not reused."""
    paths = [location, *(sorted(_files_within(location)) if location.is_dir() else ())]
    digest = hashlib.sha256()
    for path in paths:
        status = path.stat() if path.exists() else path.lstat()  # a link to nothing is still an entry
        digest.update(f"{path}\t{status.st_size}\t{status.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return f"{location}\t{digest.hexdigest()}"


def _files_within(folder: Path) -> Iterator[Path]:
    """Every entry under a folder, linked folders too, each real folder once (a link loop ends)."""
    seen: set[str] = set()
    for top, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(top)
        if real in seen:
            dirs.clear()
            continue
        seen.add(real)
        yield from (Path(top) / name for name in dirs + files)


def build_table(corpus: str, split: str | None, *, format: Format = "html", limit: int | None = None,
                root: Path | None = None, cache_dir: Path | None = None, num_proc: int | None = None,
                augment: float = 0.0, furniture: float = 0.0, inline: float = 0.0, draw: int = 0,
                plain: float = 0.0, lists: float = 0.0, version: str | None = None):
    """The block table of a corpus split (augmented with random draw `draw`), built once and then read from
    the on-disk cache; by up to `num_proc` processes (all cores by default, at most TABLE_SHARDS), which do not
    change it. `version` keys the cache (default: the code's fingerprint now), so the tables of one training
    run share the fingerprint it records even if the files change during the run."""
    import datasets
    import pyarrow as pa

    location = corpora.corpus_location(corpus, split, root).resolve()  # checked here, not in `datasets`' generator
    datasets.disable_progress_bars()
    n_proc = min(max(1, num_proc or os.cpu_count() or 1), TABLE_SHARDS)
    version = version or code_fingerprint()
    gen_kwargs = {"corpus": corpus, "split": split, "format": format, "limit": limit,
                  "root": str(root or corpora.data_root()), "shards": list(range(TABLE_SHARDS)),
                  "augment": augment, "furniture": furniture, "inline": inline, "draw": draw,
                  "plain": plain, "lists": lists, "version": version, "source": _identity(location)}
    # a folder a table, so that a damaged one is removed alone
    folder = table_cache("tables", cache_dir, version) / hashlib.sha256(repr(gen_kwargs).encode()).hexdigest()[:16]

    def build():
        try:  # a process takes a run of shards: rows stay in shard order
            return datasets.Dataset.from_generator(_rows, features=table_schema(), cache_dir=str(folder),
                                                   num_proc=n_proc if n_proc > 1 else None, gen_kwargs=gen_kwargs)
        except datasets.exceptions.DatasetGenerationError as exc:  # a page that could not be read, in a worker
            raise _generation_error(exc, f"{corpus}:{split or 'all'}") from None
        except Exception as exc:
            if isinstance(exc.__context__, KeyboardInterrupt):  # Ctrl-C: the pool's last wait timed out after it
                raise KeyboardInterrupt from None
            raise

    try:
        return build()
    except (OSError, ValueError, pa.ArrowException) as exc:  # a cached table damaged: Arrow's "invalid IPC stream",
        # a file gone, its dataset_info.json cut short
        if isinstance(exc, OSError) and exc.errno not in (None, errno.ENOENT):  # a full disk: the cache is sound
            raise
        shutil.rmtree(folder, ignore_errors=True)  # the cache is only a cache
    return build()


def _generation_error(exc: BaseException, table: str) -> InputError:
    """The error behind a failed table build, as one message: the InputError a worker raised (it reaches here
    as the text of a remote traceback), else the first cause's last line."""
    causes = []
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        causes.append(exc)
    for cause in causes:
        if isinstance(cause, InputError):
            return cause
        found = re.search(r"(?m)^(?:noiseclf\.types\.)?InputError: (.+)$", str(cause))
        if found:
            return InputError(found.group(1))
    last = str(causes[-1]).strip().splitlines()[-1] if causes and str(causes[-1]).strip() else "unknown error"
    return InputError(f"the block table of {table} could not be built: {last}")


@dataclass
class BlockMatrix:
    """A table as arrays: what the classifier trains and validates on."""

    X: np.ndarray
    y: np.ndarray
    cls: np.ndarray
    pages: np.ndarray  # integer page id per row, contiguous
    sites: np.ndarray  # integer site id per row, for grouped splits
    words: np.ndarray
    paths: np.ndarray
    page_keys: list[str]
    page_types: np.ndarray | None = None  # per row: the page's type where the corpus says ("" where not)

    def subset(self, rows: np.ndarray) -> "BlockMatrix":
        types = self.page_types[rows] if self.page_types is not None else None
        return BlockMatrix(self.X[rows], self.y[rows], self.cls[rows], self.pages[rows], self.sites[rows],
                           self.words[rows], self.paths[rows], self.page_keys, types)


def _column(table, name: str) -> np.ndarray:
    """One column of a block table as NumPy, straight from Arrow (no per-row formatting)."""
    column = table.data.column(name).combine_chunks()
    if name == "features":
        return column.flatten().to_numpy(zero_copy_only=False).reshape(-1, N_FEATURES)
    return column.to_numpy(zero_copy_only=False)


def to_matrix(tables: Sequence) -> BlockMatrix:
    """Concatenate block tables into arrays with integer page and site ids."""
    def cat(name: str) -> np.ndarray:
        return np.concatenate([_column(t, name) for t in tables])

    keys, pages = np.unique(cat("page").astype(object), return_inverse=True)
    _, sites = np.unique(cat("site").astype(object), return_inverse=True)
    return BlockMatrix(
        X=cat("features").astype(np.float32), y=cat("label").astype(np.int8), cls=cat("cls").astype(np.int8),
        pages=pages, sites=sites, words=cat("words").astype(np.float32), paths=cat("path").astype(np.int64),
        page_keys=list(keys), page_types=cat("page_type").astype(object),
    )
