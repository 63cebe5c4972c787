"""Batch inference at crawl scale: many pages in, one output row per record out.

Inputs (`iter_records`): files and folders (recursive) of HTML or text pages (.html, .htm, .xhtml,
.txt, each optionally .gz), JSON Lines (.jsonl, .ndjson, .json, optionally .gz), Parquet (.parquet, a row
a record, columns named as JSON Lines fields are), WARC and WET files
(.warc, .warc.gz, .wet, .warc.wet.gz...) read with fastwarc, and standard input ("-"), which is
sniffed: WARC (plain or gzip), JSON Lines (first non-blank byte "{"), else one page. A file with
another name given explicitly is sniffed the same way; inside folders such files are ignored.
Reading is lazy, one record at a time, so memory stays flat whatever the input size.

Outputs: one row per record, in input order unless `unordered`, to JSON Lines or Parquet (fixed
schema `row_schema`), in a file or on standard output. Every row has the keys path, id, url, title,
text, confidence, status, error (plus blocks with `with_blocks`); unknown values are null.
Strings are written as UTF-8: a lone surrogate (a byte of a file name that is not UTF-8, or a JSON
"\\udc00" escape) becomes the text \\xNN (the byte) or \\uNNNN, so such names stay distinct.
`status` is "ok", "empty" (empty input or nothing kept), "error" (message in `error`) or
"skipped" (a WARC response that is not HTML, or a FIFO, socket or device file found inside a folder,
which is not opened: opening a FIFO waits for a writer; the reason in `error`). Which records exist:
  * a page file: one row, `path` = the file as read, `id` null;
  * a JSON Lines file: one row per non-blank line, `id` = the id field (else the 1-based line number);
    a JSON array, or pretty-printed objects one after another: one row per object (`id` else its number);
  * a Parquet file: one row per row (`id` column else the row number; a binary content column is decoded
    as pages are, its charset sniffed); a file without the content column gets one error row;
  * a WARC/WET file: one row per response or conversion record (warcinfo, request, metadata, revisit
    records have none), `id` = WARC-Record-ID, `url` = WARC-Target-URI, `path` = the WARC file. A
    Content-Length too long, which takes in the records after it, gives its record an error row and the
    records inside its block their own rows; after one too short, reading goes on at the next header;
  * an input that cannot be read at all (missing, unreadable, corrupt gzip or WARC mid-file): one
    error row with `id` null naming it, after the rows of the records read before the damage. A
    `.warc.gz` file or stream cut within the first few dozen bytes of its last record's gzip member, which
    fastwarc reads as the end of the file, gets that error row too (a stream keeps the bytes of its last
    record for that check, up to 64 MiB).

Resume: rows go to a partial file beside the output, `.<name>.partial`, moved into place
(os.replace) when the run completes. An interrupted run (KeyboardInterrupt, an exception, or a hard
kill) leaves the partial file. With `resume=True` the rows already in it (or, when there is no
partial file, in a finished output, which is then moved back to the partial name) are counted by
their (path, id) key; the same inputs are read again in the same order, the records whose key has
a row are skipped (a key that occurs n times skips its first n records) and the others are
appended; at the end the partial file is moved into place. JSON Lines: rows are appended to the
partial file itself; a torn last line (hard kill mid-write) is cut off first. Parquet cannot be
appended to: every run writes `.<name>.partial.writing`, a resumed run first copying the partial's
rows into it batch by batch, and that file replaces the partial one when the writer is closed,
cleanly or on an exception; after a hard kill the `.writing` file is incomplete and ignored, the
partial file keeping the rows of the run before. Without `resume`, a leftover partial is overwritten.
Rows already written are final: resume does not retry records that ended with an error.

Time limits: each record's decoding and extraction runs under `signal.setitimer(ITIMER_REAL)`; the
SIGALRM handler raises `RecordTimeout`, a BaseException so that `except Exception` in extractor
code cannot swallow it, and the record gets an error row. The signal is handled between Python
bytecodes: a single native call (one lxml parse) finishes first, which `max_bytes` keeps bounded.
Workers always enforce the limit (POSIX); with jobs=1 it is enforced when `run_batch` runs in the
main thread, and not at all on platforms without SIGALRM. A worker process that dies (the kernel's
OOM killer, a crash in native code) is detected within seconds; the chunks then out are run again a
record at a time, each in a worker of its own, so the record that kills a worker gets an error row
and the run goes on (a resumed run would otherwise meet the same record and die again).
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import gzip
import io
import json
import math
import mmap
import multiprocessing as mp
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Protocol

from .segmentation import decode_html, settle_format
from .types import MAX_BYTES, SURROGATE, Extraction, InputError, NoiseclfError

if TYPE_CHECKING:
    import pyarrow as pa

Status = Literal["ok", "empty", "error", "skipped"]
Key = tuple[str, "str | None"]

ROW_FIELDS: tuple[str, ...] = ("path", "id", "url", "title", "text", "confidence", "status", "error")
_WARC_NAMES = (".warc", ".warc.gz", ".wet", ".wet.gz")
_JSONL_NAMES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz")
_PARQUET_NAMES = (".parquet",)
_PARQUET_READ_ROWS = 64  # rows of a Parquet input decoded at a time: pages are large
_PAGE_FORMATS = {".html": "html", ".htm": "html", ".xhtml": "html", ".txt": "text"}
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:\-]+)", re.I)
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_SPOOL_CHUNK = 1 << 20
_STREAM_TAIL_MAX = 64 << 20  # bytes a gzipped WARC stream keeps of its last record, to check the end
_BOM = b"\xef\xbb\xbf"
_NEXT_WARC_RECORD = re.compile(rb"(?<=\n)WARC/1\.[01]\r\n(?:[^\r\n]{1,8192}\r\n){0,64}?WARC-Type:")  # in a block
_SNIFF_BYTES = 4096
_JSON_CHUNK = 1 << 20  # characters of a JSON array read at a time
_JSON_SPACE = re.compile(r"[ \t\r\n]*")
_JSON_START = re.compile(rb'\{\s*["}]|\[\s*[{\]]')  # JSON Lines' first object, or an array of objects
_PARQUET_ROWS = 1024  # rows buffered per Parquet row group: bounds memory, keeps groups useful
_TIMEOUT_MAX = 1e8  # seconds; the interval timer overflows not far above
_POLL_SECONDS = 0.05  # how often an unordered run looks for any finished chunk
_WATCH_SECONDS = 2.0  # how long the parent waits for a row before checking that workers live
_READ_ERRORS = (OSError, EOFError, zlib.error)
_RECORD_START = b"WARC/1."
_JSONL_OUTPUT_NAMES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson", ".ndjson.gz")


class BatchError(NoiseclfError):
    """A batch run cannot go on: the model did not load, or resume found bad output."""


class RecordTimeout(BaseException):
    """One record ran past `timeout`; a BaseException so extractor code cannot swallow it."""


class ExtractorLike(Protocol):
    """What a batch run needs of an extractor: `noiseclf.inference.Extractor.extract`'s signature."""

    def extract(self, content: str | bytes, *, format: str = "auto", source: str = "",
                url: str | None = None, with_blocks: bool = False, output: str = "text") -> Extraction: ...


@dataclass(frozen=True)
class BatchOptions:
    """Every knob of a batch run; each field maps to one CLI option.

    output: output file; None or "-" writes to standard output (where `resume` is refused).
    output_format: "jsonl" or "parquet"; None picks parquet for a name ending in .parquet, else jsonl.
    format: "auto" (per record: what the content shows, the file suffix, JSONL field or WARC record type
        deciding where it is unclear; see `segmentation.settle_format`), or "html" / "text" to force one
        format for every record.
    content_field: JSON Lines field holding the page; "text" is tried when it is absent. Records from
        "html" are read as HTML, from "text" as plain text, from any other field as "auto".
    id_field: JSON Lines field holding the record id (else the 1-based line number is the id).
    url_field: JSON Lines field holding the page URL (optional).
    with_blocks: add `blocks` to each row: a list of {text, tag, probability, keep}.
    text_format: how `text` renders the kept blocks: "text", "markdown" (headings, lists, quotes,
        tables) or "html".
    jobs: worker processes; None means one per CPU this process may use, but no more than there are
        records when every input is a page file (one record each); 1 runs in-process, no pool.
    chunk_size: records sent to a worker at a time (fewer round trips versus finer balancing).
    unordered: write rows as workers finish chunks instead of in input order (no head-of-line wait).
    max_bytes: a record larger than this many bytes (characters for JSON Lines text) gets an error
        row without being extracted; None for no limit.
    timeout: seconds one record may take to decode and extract before it gets an error row; None (or
        inf) for no limit. Enforced with SIGALRM (see the module docstring for when it applies).
    resume: continue an interrupted run into the same output, skipping records it already has.
    quiet: no progress bar and no summary line on standard error (the bar only shows on a terminal).
    model: model path for `Extractor.load(model)`; None loads the shipped default models.
    extractor_factory: called as `factory(model)` once per worker to build the extractor, instead of
        `Extractor.load`; must be picklable (a top-level function or class) since workers are
        separate processes. A hook for tests and custom extractors.
    start_method: multiprocessing start method; "spawn" (default) is safe with the threads of the
        progress bar and pyarrow, "forkserver" too, "fork" starts faster but is not.
    """

    output: str | None = None
    output_format: Literal["jsonl", "parquet"] | None = None
    format: Literal["auto", "html", "text"] = "auto"
    content_field: str = "html"
    id_field: str = "id"
    url_field: str = "url"
    with_blocks: bool = False
    text_format: Literal["text", "markdown", "html"] = "text"
    jobs: int | None = None
    chunk_size: int = 64
    unordered: bool = False
    max_bytes: int | None = MAX_BYTES
    timeout: float | None = 30.0
    resume: bool = False
    quiet: bool = False
    model: str | None = None
    threshold: float | None = None  # each model's own when None
    extractor_factory: Callable[[str | None], ExtractorLike] | None = None
    start_method: Literal["spawn", "forkserver", "fork"] = "spawn"

    def __post_init__(self) -> None:
        """Refuse bad values with an InputError, which the CLI reports like its own argument checks."""
        checks = (
            (self.format in ("auto", "html", "text"), f"format must be auto, html or text, not {self.format!r}"),
            (self.output_format in (None, "jsonl", "parquet"), f"unknown output format {self.output_format!r}"),
            (self.jobs is None or self.jobs >= 1, "jobs (--jobs) must be at least 1"),
            (self.chunk_size >= 1, "chunk_size must be at least 1"),
            (not self.resume or self.output not in (None, "-"),
             "resume (--resume) needs an output file, not standard output"),
        )
        for ok, message in checks:
            if not ok:
                raise InputError(message)
        timeout = checked_limits(self.max_bytes, self.timeout, "max_bytes (--max-bytes)", "timeout (--timeout)")
        if self.threshold is not None:
            from .inference import checked_threshold

            checked_threshold(self.threshold, "threshold (--threshold)")
        object.__setattr__(self, "timeout", timeout)  # frozen: a plain assignment is refused


def checked_limits(max_bytes: object, timeout: object, max_bytes_name: str = "max_bytes",
                   timeout_name: str = "timeout") -> float | None:
    """Refuse a record size or time limit that is no positive number (InputError naming the option); the
    time limit to apply, None for none (None or inf: the interval timer overflows on huge values)."""
    def number(value: object) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    if max_bytes is not None and not (number(max_bytes) and max_bytes > 0 and float(max_bytes).is_integer()):
        raise InputError(f"{max_bytes_name} must be a positive whole number of bytes (or None), not {max_bytes!r}")
    if timeout is None or timeout == math.inf:
        return None
    if not (number(timeout) and 0 < timeout <= _TIMEOUT_MAX):
        raise InputError(f"{timeout_name} must be positive and at most {_TIMEOUT_MAX:.0e} s (or inf, or None, for "
                         f"no limit), not {timeout!r}")
    return float(timeout)


@dataclass(frozen=True)
class BatchSummary:
    """What a run did: rows written per status, records skipped by resume, time taken."""

    records: int
    ok: int
    empty: int
    error: int
    skipped: int
    resumed: int  # records not processed because the output already had their rows
    seconds: float
    output: str | None  # the output file, None for standard output

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        """The one-line summary written to standard error at the end of a run."""
        resumed = f", {self.resumed:,} already done" if self.resumed else ""
        return (f"noiseclf batch: {_records(self.records)} (ok {self.ok:,}, empty {self.empty:,}, "
                f"error {self.error:,}, skipped {self.skipped:,}){resumed} in {self.seconds:.1f} s, "
                f"{self.records_per_second:,.1f} records/s -> {self.output or 'standard output'}")


@dataclass(frozen=True, slots=True)
class Record:
    """One page read from an input; a set `status` means the reader already decided the row."""

    id: str | None  # WARC-Record-ID or JSON Lines id; None for a page file
    url: str | None
    content: bytes | str
    format: str  # "auto", "html" or "text", as the input says
    source: str  # the file it came from ("-" for standard input): the row's `path`
    charset: str | None = None  # a declared charset (HTTP Content-Type), tried first on bytes
    status: str = ""  # "error" or "skipped" for a record not to extract
    error: str = ""

    @property
    def key(self) -> Key:
        return (self.source, self.id)

    @property
    def name(self) -> str:
        """How messages name the record: its URL, else file and id."""
        return self.url or (f"{self.source} {self.id}" if self.id else self.source)


def _failed(source: str, rid: str | None, message: str, url: str | None = None,
            status: Status = "error") -> Record:
    return Record(rid, url, b"", "auto", source, status=status, error=message)


def describe(exc: BaseException) -> str:
    """A short reason for a read failure, without the traceback."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def check_writable(path: str | os.PathLike[str], *, folder: bool = False) -> None:
    """Refuse, before any work, an output file (with `folder`, an output folder) that cannot be written: a
    folder where a file is asked for, or a place where nothing can be created; InputError names it."""
    path = Path(path)
    if not folder and path.is_dir():
        raise InputError(f"{path}: is a folder, not an output file")
    if not folder and path.exists() and not path.is_file():  # /dev/null: files would be written beside it
        raise InputError(f"{path}: is a device or pipe, not an output file")
    where = path if folder else path.parent
    try:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=where):
            pass
    except (FileExistsError, NotADirectoryError):  # mkdir met a file where a folder of the path should be
        raise InputError(f"{path}: cannot write there: part of the path is a file, not a folder") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot write there: {describe(exc)}") from None


def _is_read_failure(exc: BaseException) -> bool:
    """Whether an exception from a reader means damaged input (fastwarc panics are BaseExceptions)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


# ---------------------------------------------------------------------------------------------
# Readers


def iter_records(inputs: Sequence[str], options: BatchOptions) -> Iterator[Record]:
    """Every record of every input, lazily and in order; never raises for bad input."""
    for given in inputs:
        given = os.fspath(given)
        if given == "-":
            records = _stream_records(sys.stdin.buffer, "-", options)
        elif os.path.isdir(given):
            records = _folder_records(given, options)
        else:
            records = _file_records(given, input_kind(given), options)
        found = False
        for found, record in enumerate(records, 1):
            yield record
        if not found:  # an empty WARC, JSON Lines or array, or a folder without pages: still a row
            yield _failed(given, None, f"{given}: no page or record in it", status="empty")


def input_kind(path: str) -> tuple[str, str] | None:
    """The input kind ("warc", "jsonl", "parquet" or "page") and page format a file name says, else None."""
    name = path.lower()
    if name.endswith(_WARC_NAMES):
        return "warc", "auto"
    if name.endswith(_JSONL_NAMES):
        return "jsonl", "auto"
    if name.endswith(_PARQUET_NAMES):
        return "parquet", "auto"
    fmt = _PAGE_FORMATS.get(os.path.splitext(name.removesuffix(".gz"))[1])
    return ("page", fmt) if fmt else None


def _folder_records(folder: str, options: BatchOptions) -> Iterator[Record]:
    """Records of the known files under a folder, sorted by path; unlistable folders get error rows."""
    errors: list[OSError] = []
    for root, dirs, files in os.walk(folder, onerror=errors.append):
        dirs.sort()
        yield from _listing_errors(errors)
        for name in sorted(files):
            kind = input_kind(name)
            if not kind:
                continue
            path = os.path.join(root, name)
            special = _special_file(path)
            if special:  # opening a FIFO blocks until something writes to it
                yield _failed(path, None, f"{path}: {special}, not read inside a folder", status="skipped")
            else:
                yield from _file_records(path, kind, options)
    yield from _listing_errors(errors)


def _special_file(path: str) -> str:
    """What a path found in a folder is when it is no regular file (a FIFO, socket or device), else "".
    A path that cannot be stat'ed is left to the reader, whose error row names the cause."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return ""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return ""
    return "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device file"


def _listing_errors(errors: list[OSError]) -> Iterator[Record]:
    while errors:
        exc = errors.pop(0)
        where = str(exc.filename or "")
        yield _failed(where, None, f"{where}: {describe(exc)}")


def _file_records(path: str, kind: tuple[str, str] | None, options: BatchOptions) -> Iterator[Record]:
    if kind is None or kind[0] == "jsonl":
        try:
            stream = _open_binary(path, gunzip=kind is not None)  # an unknown kind's gzip is sniffed
        except _READ_ERRORS as exc:
            yield _failed(path, None, f"{path}: {describe(exc)}")
            return
        with stream:
            yield from (_jsonl_records(stream, path, options) if kind else _stream_records(stream, path, options))
    elif kind[0] == "warc":
        yield from _warc_records(path, path, options)
    elif kind[0] == "parquet":
        yield from _parquet_records(path, options)
    else:
        yield _page_file(path, kind[1], options)


def _open_binary(path: str, gunzip: bool = True) -> BinaryIO:
    gz = gunzip and path.lower().endswith(".gz")
    return gzip.open(path, "rb") if gz else open(path, "rb")  # type: ignore[return-value]


def _page_file(path: str, fmt: str, options: BatchOptions) -> Record:
    try:
        with _open_binary(path) as stream:
            return _page_record(stream, path, fmt, options)
    except _READ_ERRORS as exc:
        return _failed(path, None, f"{path}: {describe(exc)}")


def _page_record(stream: BinaryIO, source: str, fmt: str, options: BatchOptions) -> Record:
    """A whole stream as one page, reading at most max_bytes + 1 bytes of it."""
    cap = options.max_bytes
    data = stream.read(cap + 1) if cap else stream.read()
    if cap and len(data) > cap:
        return _failed(source, None, f"{source}: over max_bytes ({cap:,} bytes)")
    return Record(None, None, data, fmt, source)


def _stream_records(stream: BinaryIO, source: str, options: BatchOptions) -> Iterator[Record]:
    """Records of a stream whose kind its first bytes tell: WARC, JSON Lines or one page (gzip or not).

    A gzipped WARC goes to fastwarc still compressed: it decompresses member by member, as it does for
    a file read by path, so damage mid-stream loses no record before it (gzip.GzipFile, read ahead,
    would fail first). The head is sniffed from the read buffer, which stays unread."""
    try:
        raw = stream.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]  # type: ignore[attr-defined]
        head = _inflated_head(raw).removeprefix(_BOM).lstrip()
    except zlib.error as exc:  # a damaged first member: only a WARC, a member a record, can be read on after it
        yield from _warc_records(_ForwardReader(stream, keep_max=_STREAM_TAIL_MAX), source, options, damaged_head=exc)
        return
    except _READ_ERRORS as exc:
        yield _failed(source, None, f"{source}: {describe(exc)}")
        return
    gzipped = raw.startswith(_GZIP_MAGIC)
    if head.startswith(b"WARC/"):
        yield from _warc_records(_ForwardReader(stream, keep_max=_STREAM_TAIL_MAX if gzipped else 0), source, options)
        return
    if gzipped:
        stream = gzip.GzipFile(fileobj=stream)  # type: ignore[assignment]
    if head.startswith(_PARQUET_MAGIC):
        yield from _spooled_parquet_records(stream, source, options)
    elif _JSON_START.match(head):
        yield from _jsonl_records(stream, source, options)
    else:
        try:
            yield _page_record(stream, source, "auto", options)
        except _READ_ERRORS as exc:
            yield _failed(source, None, f"{source}: {describe(exc)}")


class _ForwardReader:
    """A non-seekable stream (a pipe) as fastwarc wants it: read, plus tell counted by hand. It keeps the
    bytes read since `keep_from` (the last record's start), up to `keep_max`, to check the stream's end and to
    read on past a damaged gzip member (`read_on_after`)."""

    def __init__(self, stream: BinaryIO, keep_max: int) -> None:
        self._stream = stream
        self._pos = 0  # the stream offset of the next byte `read` returns
        self._kept, self._kept_at, self._keep_max = bytearray(), 0, keep_max
        self._pending = b""  # bytes read from the stream and not yet returned, from `_pos` on

    def read(self, size: int = -1) -> bytes:
        if not self._pending:
            data = self._stream.read(size)
        elif size < 0:
            data, self._pending = self._pending + self._stream.read(), b""
        else:
            data, self._pending = self._pending[:size], self._pending[size:]
        if self._kept_at >= 0:
            self._kept += data
            if len(self._kept) > self._keep_max:
                self._kept, self._kept_at = bytearray(), -1
        self._pos += len(data)
        return data

    def keep_from(self, pos: int) -> None:
        """Drop the kept bytes before stream offset `pos`."""
        if 0 <= self._kept_at <= pos:
            del self._kept[:pos - self._kept_at]
            self._kept_at = pos

    def tail(self) -> tuple[int, bytes] | None:
        """The rest of the stream read to its end, with the bytes kept before it, and the offset they start
        at; None once more than `keep_max` had to be kept."""
        while self._kept_at >= 0 and self.read(1 << 20):
            pass
        return None if self._kept_at < 0 else (self._kept_at, bytes(self._kept))

    def read_on_after(self, after: int) -> int | None:
        """Go back to the first gzip member at or after stream offset `after` that decompresses, whole, to a
        record header (reading on as far as it takes), and return its offset; None where no such member
        follows, or where the bytes since the last record were more than `keep_max` (the pipe cannot rewind)."""
        if self._kept_at < 0 or after < self._kept_at:
            return None
        data, base = self._kept + self._pending, self._kept_at
        self._pending, pos = b"", after - base
        while True:
            pos = data.find(_GZIP_MAGIC + b"\x08", pos)
            whole = _whole_record_member(data, pos, ends=False) if pos >= 0 else None
            if whole:
                self._kept, self._kept_at, self._pos = bytearray(), base + pos, base + pos
                self._pending = bytes(data[pos:])
                return self._pos
            if whole is False:
                pos += 1
                continue
            more = self._stream.read(max(1 << 20, len(data)))  # no magic yet, or a member running past it
            if not more or len(data) > self._keep_max:
                self._kept_at = -1
                return None
            pos = max(0, len(data) - 2) if pos < 0 else pos
            data += more

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if (whence, offset) in ((0, self._pos), (1, 0)):
            return self._pos
        raise OSError(29, "Illegal seek")

    def close(self) -> None:
        """The stream belongs to the caller."""


def _jsonl_records(stream: BinaryIO, source: str, options: BatchOptions) -> Iterator[Record]:
    """Records of JSON Lines, of a JSON array of objects (Scrapy's `-o items.json`), or of pretty-printed
    objects (a first line of "{" alone), as the head tells."""
    try:
        head = stream.peek(_SNIFF_BYTES)[:_SNIFF_BYTES].removeprefix(_BOM).lstrip()  # type: ignore[attr-defined]
    except _READ_ERRORS as exc:  # a `.jsonl.gz` that is not gzip
        yield _failed(source, None, f"{source}: unreadable: {describe(exc)}")
        return
    if head[:1] == b"[" or head.split(b"\n", 1)[0].strip() == b"{":  # an array, or an object over many lines
        yield from _json_sequence_records(stream, source, options, array=head[:1] == b"[")
        return
    lineno = 0
    try:
        for lineno, line in enumerate(stream, 1):
            if line.strip():
                yield _jsonl_record(line, lineno, source, options)
    except _READ_ERRORS as exc:
        yield _failed(source, None, f"{source}: unreadable after line {lineno}: {describe(exc)}")


def _json_sequence_records(stream: BinaryIO, source: str, options: BatchOptions, array: bool) -> Iterator[Record]:
    """Records of a JSON array of objects, or (`array` False) of objects one after another as pretty-printed
    JSON writes them, decoded one at a time (memory holds one, and damage loses only what follows it);
    element N is `source:#N`, its id N unless it has one."""
    decoder, buf, index = json.JSONDecoder(), _TextBuffer(stream), 0
    try:
        if array:
            buf.next_char()
            buf.pos += 1  # the "[" the caller saw
        if buf.next_char() == ("]" if array else ""):
            return
        while True:
            index += 1
            buf.next_char()
            while True:
                try:
                    obj, buf.pos = decoder.raw_decode(buf.text, buf.pos)
                    break
                except ValueError as exc:
                    if not buf.more():  # else the element may go on in the next chunk
                        yield _failed(source, str(index), f"{source}:#{index}: not valid JSON: {exc}")
                        return
            yield _object_record(obj, f"{source}:#{index}", str(index), source, options)
            after = buf.next_char()
            if not array:
                if not after:
                    return
                continue
            if after != ",":
                if after != "]":
                    yield _failed(source, None, f"{source}: after element {index}, {after or 'the end'!r} where "
                                                f"',' or ']' belongs")
                return
            buf.pos += 1
    except _READ_ERRORS as exc:
        yield _failed(source, None, f"{source}: unreadable after element {index}: {describe(exc)}")


class _TextBuffer:
    """UTF-8 text of a byte stream, read a chunk at a time; `pos` is where reading has come to."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream, self._utf8 = stream, codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self.text, self.pos, self.ended = "", 0, False

    def more(self) -> bool:
        """Append the next chunk (dropping what was read); False at the end of the stream."""
        if self.ended:
            return False
        chunk = self._stream.read(_JSON_CHUNK)
        self.ended = not chunk
        self.text, self.pos = self.text[self.pos:] + self._utf8.decode(chunk, final=self.ended), 0
        return True

    def next_char(self) -> str:
        """The next character that is not white space ("" at the end), with `pos` on it."""
        while True:
            self.pos = _JSON_SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text) or not self.more():
                return self.text[self.pos:self.pos + 1]


def _jsonl_record(line: bytes, lineno: int, source: str, options: BatchOptions) -> Record:
    """One JSON Lines row as a record; a row without usable content becomes an error record."""
    where = f"{source}:{lineno}"
    try:
        obj = json.loads(line.decode("utf-8-sig"))  # bytes would be read as UTF-16 or UTF-32 where they look so
    except UnicodeDecodeError as exc:
        return _failed(source, str(lineno), f"{where}: not UTF-8, as JSON Lines are (byte {exc.object[exc.start]:#04x} "
                                            f"at column {exc.start + 1}); re-encode the file to UTF-8")
    except ValueError as exc:
        return _failed(source, str(lineno), f"{where}: not valid JSON: {exc}")
    return _object_record(obj, where, str(lineno), source, options)


def _spooled_parquet_records(stream: BinaryIO, source: str, options: BatchOptions) -> Iterator[Record]:
    """Records of Parquet read from a pipe (or a file whose name does not say Parquet): its footer, which
    says where the rows are, comes last, so the stream is first copied to a temporary file."""
    with tempfile.TemporaryFile(prefix="noiseclf-") as spool:
        try:
            shutil.copyfileobj(stream, spool, _SPOOL_CHUNK)
        except _READ_ERRORS as exc:
            yield _failed(source, None, f"{source}: {describe(exc)}")
            return
        spool.seek(0)
        yield from _parquet_records(spool, options, source)


def _parquet_records(path: str | BinaryIO, options: BatchOptions, source: str = "") -> Iterator[Record]:
    """Records of a Parquet file's rows, read a few rows at a time and only the columns used: content (the
    content field, else `text`; str, or bytes whose charset is sniffed), id (else the row number) and URL. A
    damaged row group gets one error row for the rows it loses, and reading goes on at the next. `source`
    names a file object in rows and messages."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = source or str(path)
    try:
        table = pq.ParquetFile(path)
        names = table.schema_arrow.names
    except (OSError, pa.ArrowException) as exc:
        yield _failed(source, None, f"{source}: not a readable Parquet file: {describe(exc)}")
        return
    content = (options.content_field, "text") if options.content_field != "text" else ("text",)
    if not any(name in names for name in content):
        yield _failed(source, None, f"{source}: no column {' or '.join(map(repr, content))} "
                                    f"(it has {', '.join(names) or 'none'}); name one with --content-field")
        return
    wanted = [name for name in dict.fromkeys((*content, options.id_field, options.url_field)) if name in names]
    first = 0  # rows before this row group
    for group in range(table.num_row_groups):
        row, rows = first, table.metadata.row_group(group).num_rows
        try:
            for batch in table.iter_batches(batch_size=_PARQUET_READ_ROWS, row_groups=[group], columns=wanted):
                for values in batch.to_pylist():
                    row += 1
                    yield _object_record(values, f"{source}:#{row}", str(row), source, options)
        except (OSError, ValueError, pa.ArrowException) as exc:  # ValueError: damaged text (UnicodeDecodeError)
            yield _failed(source, None, f"{source}: rows {row + 1} to {first + rows} unreadable "
                                        f"(row group {group + 1}): {describe(exc)}")
        first += rows


def _object_record(obj: Any, where: str, position: str, source: str, options: BatchOptions) -> Record:
    """One decoded JSON value or Parquet row as a record: an object with usable content, else an error
    record."""
    if not isinstance(obj, dict):
        return _failed(source, position, f"{where}: not a JSON object")
    given = obj.get(options.id_field)
    rid = position if given is None else _as_text(given)
    url = obj.get(options.url_field)
    url = _as_text(url) if isinstance(url, (str, bytes)) and url else None
    fields = (options.content_field, "text") if options.content_field != "text" else ("text",)
    name = next((f for f in fields if obj.get(f) is not None), None)
    if name is None:
        if any(f in obj for f in fields):
            return _failed(source, rid, f"{where}: field {next(f for f in fields if f in obj)!r} is null", url)
        held = ", ".join(map(str, list(obj)[:10])) + (", …" if len(obj) > 10 else "")
        return _failed(source, rid, f"{where}: no {' or '.join(map(repr, fields))} field (it has "
                                    f"{held or 'none'}); name one with --content-field", url)
    content = obj[name]
    if not isinstance(content, (str, bytes)):  # bytes: a Parquet binary column
        return _failed(source, rid, f"{where}: field {name!r} is not a string", url)
    cap = options.max_bytes
    if cap and len(content) > cap:
        return _failed(source, rid, f"{where}: over max_bytes ({cap:,})", url)
    return Record(rid, url, content, name if name in ("html", "text") else "auto", source)


def _as_text(value: object) -> str:
    """An id or URL as text: a string as it is, bytes decoded, anything else as JSON (or its str)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    try:
        return json.dumps(value)
    except TypeError:  # a date or decimal from a Parquet column
        return str(value)


def _warc_records(stream: str | _ForwardReader, source: str, options: BatchOptions,
                  damaged_head: BaseException | None = None) -> Iterator[Record]:
    """Response and conversion records of a WARC/WET file or stream. fastwarc's quirks mode reads on from
    the next record header after bytes that are not one (a Content-Length too short); a gzip member that
    does not decompress gives an error row, and a gzipped WARC file or stream is read on from the next member
    that opens a record. `damaged_head`: the gzip stream's first member failed before it could tell a WARC,
    so where no record is found after it either, its one row says the data is damaged, not the WARC."""
    count, last, start = 0, 0, 0
    while True:
        with contextlib.ExitStack() as opened:
            try:
                archive = _archive(opened.enter_context(_opened_at(stream, start)))
            except Exception as exc:
                yield _failed(source, None, f"{source}: {describe(exc)}")
                return
            try:
                for warc_record in archive:
                    count, last = count + 1, warc_record.stream_pos
                    if isinstance(stream, _ForwardReader):
                        stream.keep_from(last)
                    yield from _warc_record(warc_record, source, options.max_bytes)
                break
            except BaseException as exc:
                if not _is_read_failure(exc):
                    raise
                damage = describe(exc)
                after = max(last, start) + 1
                start = _next_member(stream, after) if isinstance(stream, str) else stream.read_on_after(after)
        went_on = "" if start is None else f"; read on from byte {start:,}"
        if damaged_head is not None and not count and start is None:
            yield _failed(source, None, f"{source}: unreadable: gzip data damaged from its start "
                                        f"({describe(damaged_head)})")
            return
        yield _failed(source, None, f"{source}: corrupt WARC after {_records(count)}: {damage}{went_on}")
        if start is None:
            return
    if not count and not start and isinstance(stream, str) and not _opens_as_warc(stream):  # read-on found a record
        yield _failed(source, None, f"{source}: not a WARC file (it opens with no record header)")
        return
    # from the last record read, or the member reading went on at (whole, as read-on found it)
    cut = _last_member_cut(stream, max(last, start), skip_first=count > 0 or start > 0)
    if cut is not None:
        yield _failed(source, None, f"{source}: gzip member cut short at byte {cut:,}, after {_records(count)}: "
                                    "the record in it is lost")


def _records(n: int) -> str:
    return f"{n:,} record{'' if n == 1 else 's'}"


def _opens_as_warc(path: str) -> bool:
    """Whether a file is empty or opens (gzipped or not) with a WARC record header."""
    try:
        with open(path, "rb") as f:
            head = _inflated_head(f.read(_SNIFF_BYTES))
    except (OSError, zlib.error):
        return False
    return not head.strip() or head.removeprefix(_BOM).lstrip().startswith(b"WARC/")


def _inflated_head(raw: bytes) -> bytes:
    """The first bytes of an input, gunzipped where it is gzip, to tell its kind from (zlib.error for a gzip
    head that does not inflate)."""
    if raw.startswith(_GZIP_MAGIC):
        return zlib.decompressobj(wbits=31).decompress(raw, _SNIFF_BYTES)
    return raw


@contextlib.contextmanager
def _opened_at(stream: str | _ForwardReader, start: int) -> Iterator[str | BinaryIO | _ForwardReader]:
    """The input as fastwarc reads it from its start, a WARC file opened at byte `start`, or a stream that
    went back to it."""
    if not start or isinstance(stream, _ForwardReader):
        yield stream
        return
    with open(stream, "rb") as f:  # type: ignore[arg-type]
        f.seek(start)
        yield f


def _next_member(path: str, after: int) -> int | None:
    """The offset of the first gzip member at or after byte `after` of a gzipped WARC file that decompresses,
    whole, to a record header, or None (also for a file that is not gzipped). A damaged member whose start
    still decompresses is passed over, so that it fails once."""
    with open(path, "rb") as f:
        if f.read(2) != _GZIP_MAGIC:
            return None
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            pos = data.find(_GZIP_MAGIC + b"\x08", after)
            while pos >= 0:
                if _whole_record_member(data, pos):
                    return pos
                pos = data.find(_GZIP_MAGIC + b"\x08", pos + 1)
    return None


def _whole_record_member(data: bytes | bytearray | mmap.mmap, pos: int, chunk: int = 1 << 20,
                         ends: bool = True) -> bool | None:
    """Whether the gzip member at `pos` decompresses to its end and opens with a WARC record header; with
    `ends` False, None for a member that runs past the end of `data` while what it opens with may still be one
    (more bytes may tell)."""
    inflate, head = zlib.decompressobj(wbits=31), b""
    try:
        while not inflate.eof and pos < len(data):
            out = inflate.decompress(data[pos:pos + chunk])
            if len(head) < len(_RECORD_START):
                head = (head + out)[:len(_RECORD_START)]
            pos += chunk
    except zlib.error:
        return False
    if inflate.eof:
        return head == _RECORD_START
    return None if not ends and _RECORD_START.startswith(head) else False


def _archive(stream: Any) -> Any:
    """fastwarc's iterator over the response and conversion records of a WARC file, stream or bytes."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    return ArchiveIterator(stream, record_types=WarcRecordType.response | WarcRecordType.conversion,
                           quirks_mode=True)


def _last_member_cut(stream: str | _ForwardReader, last: int, skip_first: bool) -> int | None:
    """`_cut_gzip_member` from the last record read, in a WARC file or in the bytes a stream kept of it."""
    if isinstance(stream, str):
        with open(stream, "rb") as f:
            return _cut_gzip_member(f, last, skip_first)
    tail = stream.tail()
    if tail is None:
        return None
    start, data = tail
    cut = _cut_gzip_member(io.BytesIO(data), last - start, skip_first)
    return None if cut is None else start + cut


def _cut_gzip_member(f: BinaryIO, start: int, skip_first: bool, chunk: int = 1 << 20) -> int | None:
    """The offset of a gzip member, from `start` (a member's) to the end of `f`, that never ends, or None;
    with `skip_first`, not the member at `start` (the last record read, which has its row).
    fastwarc reads a last member cut within its first few dozen bytes as the end of the file."""
    f.seek(start)
    data = f.read(chunk)
    if not data.startswith(_GZIP_MAGIC):
        return None
    pos = member = start
    inflate, fresh = zlib.decompressobj(wbits=31), True
    while True:
        if not data:
            data = f.read(chunk)
            if not data:
                if fresh:
                    return None
                break
        try:
            inflate.decompress(data, 1 << 16)
        except zlib.error:
            break
        if inflate.eof:
            pos += len(data) - len(inflate.unused_data)
            data, member, fresh = inflate.unused_data, pos, True
            inflate = zlib.decompressobj(wbits=31)
        else:
            pos += len(data) - len(inflate.unconsumed_tail)
            data, fresh = inflate.unconsumed_tail, False
    return None if skip_first and member == start else member


def _warc_record(rec: Any, source: str, cap: int | None) -> Iterator[Record]:
    """One WARC record as a Record: HTML responses and WET text; other payloads are skipped. A record whose
    Content-Length runs on into the records after it is an error, and those records are read from its block."""
    rid = rec.record_id or f"offset {rec.stream_pos}"
    url = rec.headers.get("WARC-Target-URI") or None
    length = rec.headers.get("Content-Length")
    if length is None:
        yield _failed(source, rid, f"{source}: record {rid} has no Content-Length (truncated WARC?)", url)
        return
    if not (length.isascii() and length.strip().isdigit()):  # fastwarc reads "x20" or "-5" as 0
        yield _failed(source, rid, f"{source}: record {rid} has a malformed Content-Length {length!r}", url)
        return
    fmt, charset, skip = _warc_payload(rec)
    if skip:
        yield _failed(source, rid, skip, url, status="skipped")
        return
    if cap and rec.content_length > cap:
        yield _failed(source, rid, f"{url or rid}: over max_bytes ({rec.content_length:,} > {cap:,})", url)
        return
    try:
        body = rec.reader.read()
        swallowed = _NEXT_WARC_RECORD.search(body) if _RECORD_START in body else None  # the regex is slow
        if swallowed:
            yield _failed(source, rid, f"{url or rid}: its Content-Length {length.strip()} runs into the next "
                                       f"record, {len(body) - swallowed.start():,} bytes before its end", url)
            yield from _embedded_records(body[swallowed.start():], source, cap)
            return
        if len(body) < rec.content_length:
            yield _failed(source, rid, f"{url or rid}: truncated record ({len(body):,} of "
                                       f"{rec.content_length:,} bytes): the input ends inside it", url)
            return
        if rec.is_http:
            body = _undo_encodings(body, rec.http_headers, cap)
    except BaseException as exc:
        if not _is_read_failure(exc):
            raise
        yield _failed(source, rid, f"{url or rid}: unreadable payload: {describe(exc)}", url)
        return
    yield Record(rid, url, body, fmt, source, charset)


def _embedded_records(data: bytes, source: str, cap: int | None) -> Iterator[Record]:
    """The records inside another's block, from the header that opens `data`; the last may be cut short."""
    try:
        for warc_record in _archive(io.BytesIO(data)):
            yield from _warc_record(warc_record, source, cap)
    except BaseException as exc:
        if not _is_read_failure(exc):
            raise
        yield _failed(source, None, f"{source}: corrupt WARC inside a record's block: {describe(exc)}")


def _warc_payload(rec: Any) -> tuple[str, str | None, str]:
    """(format, declared charset, skip reason) of a record's payload; the reason is empty to keep it."""
    from fastwarc.warc import WarcRecordType

    if rec.record_type == WarcRecordType.conversion:
        match = _CHARSET.search(rec.headers.get("Content-Type") or "")
        return "text", match.group(1) if match else None, ""
    if not rec.is_http:
        return "auto", None, "not an HTTP response"
    mime = (rec.http_content_type or "").strip().lower()
    if mime and mime not in _HTML_TYPES:
        return "auto", None, f"not HTML: {mime}"
    return ("html" if mime else "auto"), rec.http_charset, ""


def _undo_encodings(body: bytes, headers: Any, cap: int | None) -> bytes:
    """Undo chunked transfer and gzip/deflate/br content encoding, per record, so damage stays local.

    A body declared gzip that has no gzip header is taken as stored already decoded (some crawlers
    keep the header); the decoded size is held to `cap` too (compression bombs).
    """
    from fastwarc.stream_io import BrotliReader, ChunkedReader

    transfer = (headers.get("Transfer-Encoding") or "").lower()
    codings = [c.strip() for c in (headers.get("Content-Encoding") or "").lower().split(",")]
    codings = [c for c in codings if c not in ("", "identity")]
    if "chunked" not in transfer and not codings:
        return body
    if "chunked" in transfer:
        body = ChunkedReader(io.BytesIO(body)).read()
    for coding in reversed(codings):  # listed in the order they were applied
        if coding in ("gzip", "x-gzip"):
            if body.startswith(_GZIP_MAGIC):
                body = _inflate(body, 31, cap)
        elif coding == "deflate":  # zlib-wrapped as the RFC says, or raw as some servers send it
            body = _inflate(body, 15 if _zlib_header(body) else -15, cap)
        elif coding == "br":
            body = BrotliReader(io.BytesIO(body)).read(cap + 1 if cap else -1)
        else:
            raise ValueError(f"unsupported Content-Encoding {coding!r}")
        if cap and len(body) > cap:
            raise ValueError(f"over max_bytes ({cap:,}) once decoded")
    return body


def _zlib_header(body: bytes) -> bool:
    """Whether a deflate body opens with a zlib header (method 8, and a check that makes it a multiple of 31)."""
    return len(body) > 1 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0


def _inflate(body: bytes, wbits: int, cap: int | None) -> bytes:
    """A gzip (`wbits` 31) or deflate body decoded, at most `cap` + 1 bytes of it; a body cut short (a
    truncated record) is an error, where a plain read would return what it holds as the whole page."""
    inflate = zlib.decompressobj(wbits)
    out = inflate.decompress(body, cap + 1 if cap else 0)
    if cap and len(out) > cap:
        return out
    if not inflate.eof:
        raise ValueError(f"compressed body cut short ({len(body):,} bytes hold {len(out):,} of the page)")
    return out


# ---------------------------------------------------------------------------------------------
# Extraction: records to rows


class RecordProcessor:
    """Turns records into output rows with one loaded extractor; what every worker runs."""

    def __init__(self, extractor: ExtractorLike, *, format: str = "auto", with_blocks: bool = False,
                 timeout: float | None = None, text_format: str = "text") -> None:
        self.extractor = extractor
        self.format = format
        self.text_format = text_format
        self.with_blocks = with_blocks
        self.timeout = timeout  # only set where a SIGALRM handler raising RecordTimeout is installed

    def __call__(self, record: Record) -> dict[str, Any]:
        if record.status:
            return self._row(record, record.status, error=record.error)
        try:
            with _time_limit(self.timeout):
                result = self._extract(record)
        except RecordTimeout:
            return self._row(record, "error", error=f"{record.name}: timed out after {self.timeout:g} s")
        except InputError as exc:
            return self._row(record, "error", error=str(exc))
        except Exception as exc:
            return self._row(record, "error", error=f"{record.name}: {type(exc).__name__}: {exc}")
        if result is None:
            return self._row(record, "empty", title="", text="", blocks=[])
        blocks = [{"text": b.text, "tag": b.block.tag, "probability": float(b.probability), "keep": bool(b.keep)}
                  for b in result.blocks]
        return self._row(record, "ok" if result.text.strip() else "empty", title=result.title,
                         text=result.text, confidence=float(result.confidence), blocks=blocks)

    def _extract(self, record: Record) -> Extraction | None:
        """Decode (declared charset first) and extract; None for an empty page."""
        content = record.content
        if isinstance(content, bytes):
            content = decode_html(content, record.charset, record.name)
        if not content or content.isspace():
            return None
        fmt = self.format if self.format != "auto" else settle_format(content, record.format)
        return self.extractor.extract(content, format=fmt, source=record.name, url=record.url,
                                      with_blocks=self.with_blocks, output=self.text_format)

    def _row(self, record: Record, status: Status, **fields: Any) -> dict[str, Any]:
        return output_row(record, status, self.with_blocks, **fields)


def output_row(record: Record, status: Status, with_blocks: bool, *, title: str | None = None,
               text: str | None = None, confidence: float | None = None, error: str | None = None,
               blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The output row of a record: `ROW_FIELDS`, and `blocks` when asked for."""
    row = {"path": record.source, "id": record.id, "url": record.url, "title": title, "text": text,
           "confidence": confidence, "status": status, "error": error or None}
    if with_blocks:
        row["blocks"] = blocks
    return row


def _on_alarm(signum: int, frame: Any) -> None:
    raise RecordTimeout


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise RecordTimeout in this thread after `seconds` (needs the SIGALRM handler installed)."""
    if not seconds:
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextlib.contextmanager
def alarm_handler() -> Iterator[bool]:
    """Install the SIGALRM handler for in-process runs; yields whether time limits can be enforced."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _load_extractor(model: str | None) -> ExtractorLike:
    from .inference import Extractor

    return Extractor.load(model)


def with_threshold(extractor: ExtractorLike, threshold: float | None) -> ExtractorLike:
    """The extractor deciding at `threshold` (None: as it is); one that takes no threshold is refused."""
    if threshold is None:
        return extractor
    if not hasattr(extractor, "with_threshold"):
        raise InputError(f"threshold: {type(extractor).__name__} extractors take no threshold")
    return extractor.with_threshold(threshold)


def make_processor(options: BatchOptions, *, enforce_timeout: bool) -> RecordProcessor:
    """Load the extractor (`extractor_factory` or `Extractor.load`) and wrap it in a processor."""
    extractor = with_threshold((options.extractor_factory or _load_extractor)(options.model), options.threshold)
    return RecordProcessor(extractor, format=options.format, with_blocks=options.with_blocks,
                           timeout=options.timeout if enforce_timeout else None, text_format=options.text_format)


_WORKER: RecordProcessor | BaseException | None = None


def _init_worker(options: BatchOptions) -> None:
    """Pool initializer: load the model once per worker; Ctrl-C is the parent's to handle."""
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    alarm = hasattr(signal, "setitimer")
    if alarm:
        signal.signal(signal.SIGALRM, _on_alarm)
    try:
        _WORKER = make_processor(options, enforce_timeout=alarm)
    except Exception as exc:  # raised with the first chunk, so the parent fails instead of hanging
        _WORKER = exc


def _work(chunk: list[Record]) -> list[dict[str, Any]]:
    """Rows of one chunk of records, in a worker."""
    if not isinstance(_WORKER, RecordProcessor):
        raise BatchError(f"the extractor could not be loaded in a worker: {type(_WORKER).__name__}: {_WORKER}")
    return [_WORKER(record) for record in chunk]


def _cpu_count() -> int:
    """CPUs this process may run on (affinity and containers), not all the machine has."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _default_jobs(inputs: Sequence[str]) -> int:
    """One worker per usable CPU, but no more than records when the inputs are page files alone:
    starting a pool costs more than a handful of pages."""
    pages_only = all(given != "-" and not os.path.isdir(given) and (input_kind(os.fspath(given)) or ("",))[0] == "page"
                     for given in inputs)
    return max(1, min(_cpu_count(), len(inputs))) if pages_only else _cpu_count()


@contextlib.contextmanager
def _row_source(options: BatchOptions,
                inputs: Sequence[str]) -> Iterator[Callable[[Iterator[Record]], Iterator[dict[str, Any]]]]:
    """The model loaded (in-process, or in a started pool, once loaded here to check it); yields records -> rows."""
    jobs = options.jobs or _default_jobs(inputs)
    if jobs == 1:
        with alarm_handler() as armed:
            processor = make_processor(options, enforce_timeout=armed)
            yield lambda records: map(processor, records)
        return
    if options.extractor_factory is None:  # a bad model fails here, not with the first chunk (never, without records)
        _load_extractor(options.model)
    yield lambda records: _pool_rows(records, options, jobs)


class _Workers:
    """A pool of worker processes that each load the model once, and can tell when one of them has died."""

    def __init__(self, options: BatchOptions, jobs: int) -> None:
        before = {p.pid for p in mp.active_children()}
        self.pool = mp.get_context(options.start_method).Pool(jobs, _init_worker, (options,))
        self.pids = {p.pid for p in mp.active_children()} - before

    def lost(self) -> bool:
        """Whether a worker died (the pool starts another, but the task it ran never ends)."""
        return bool(self.pids - {p.pid for p in mp.active_children()})

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()


def _pool_rows(records: Iterator[Record], options: BatchOptions, jobs: int) -> Iterator[dict[str, Any]]:
    """Rows from worker processes, in input order (or as chunks finish), with at most 2 * jobs chunks out.

    A worker that dies (out of memory, a crash in native code) takes its chunk with it: the chunks then out
    are run again a record at a time (`_isolated_rows`), so only the record that kills a worker gets an error
    row, and the run goes on with a fresh pool."""
    chunks = _chunks(records, options.chunk_size)
    out: list[tuple[list[Record], Any]] = []  # (chunk, AsyncResult, or its rows once recovered)
    workers = _Workers(options, jobs)
    try:
        while True:
            while len(out) < 2 * jobs and (chunk := next(chunks, None)) is not None:
                out.append((chunk, workers.pool.apply_async(_work, (chunk,))))
            if not out:
                return
            ready = [i for i, (_, result) in enumerate(out) if isinstance(result, list) or result.ready()]
            i = ready[0] if ready and (options.unordered or ready[0] == 0) else None
            if i is not None:
                _, result = out.pop(i)
                yield from result if isinstance(result, list) else result.get()
                continue
            head = next(result for _, result in out if not isinstance(result, list))
            head.wait(_POLL_SECONDS if options.unordered else _WATCH_SECONDS)
            if not head.ready() and workers.lost():
                workers.close()
                out = [(chunk, _recovered(chunk, result, options)) for chunk, result in out]
                workers = _Workers(options, jobs)
    finally:
        workers.close()


def _recovered(chunk: list[Record], result: Any, options: BatchOptions) -> list[dict[str, Any]]:
    """The rows of a chunk that was out when a worker died: those it already has, else its records run again."""
    if isinstance(result, list):
        return result
    return result.get() if result.ready() and result.successful() else _isolated_rows(chunk, options)


def _isolated_rows(chunk: list[Record], options: BatchOptions) -> list[dict[str, Any]]:
    """Rows of a chunk whose worker may have died, each record run alone in a worker of its own; a record
    whose worker dies too gets an error row saying so."""
    rows: list[dict[str, Any]] = []
    workers = _Workers(options, 1)
    try:
        for record in chunk:
            result = workers.pool.apply_async(_work, ([record],))
            while True:
                try:
                    rows += result.get(_WATCH_SECONDS)
                    break
                except mp.TimeoutError:
                    if workers.lost():
                        rows.append(output_row(record, "error", options.with_blocks, error=(
                            f"{record.name}: the worker process died extracting it (out of memory, or a crash "
                            f"in native code)")))
                        workers.close()
                        workers = _Workers(options, 1)
                        break
    finally:
        workers.close()
    return rows


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# ---------------------------------------------------------------------------------------------
# Writers


def row_schema(with_blocks: bool = False) -> pa.Schema:
    """The fixed Parquet schema of output rows."""
    import pyarrow as pa

    fields = [(name, pa.string()) for name in ROW_FIELDS]
    fields[ROW_FIELDS.index("confidence")] = ("confidence", pa.float64())
    if with_blocks:
        block = pa.struct([("text", pa.string()), ("tag", pa.string()), ("probability", pa.float64()),
                           ("keep", pa.bool_())])
        fields.append(("blocks", pa.list_(block)))
    return pa.schema(fields)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def _clean(value: Any) -> Any:
    """A row value with every string made encodable: a lone surrogate is written as an escape, \\xNN for
    a byte that file-name decoding kept (surrogateescape), else \\uNNNN, so names stay traceable and distinct."""
    if isinstance(value, str):
        return SURROGATE.sub(_escape, value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(map(_clean, value))
    return value


class _JsonlSink:
    """Rows as JSON Lines on a binary stream."""

    def __init__(self, stream: BinaryIO, owned: bool) -> None:
        self._stream = stream
        self._owned = owned

    def write(self, row: dict[str, Any]) -> None:
        try:
            line = json.dumps(row, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            line = json.dumps(_clean(row), ensure_ascii=False).encode("utf-8")
        self._stream.write(line + b"\n")

    def close(self) -> None:
        self._stream.flush()
        if self._owned:
            self._stream.close()


class _NamedGzip(gzip.GzipFile):
    """Gzip written to `path` whose header names `output`, the finished file (what `gunzip -N` restores), not the
    partial file being written; it closes the file it opens."""

    def __init__(self, path: str, mode: str, output: str) -> None:
        self._raw = open(path, mode, 1 << 20)
        super().__init__(filename=os.path.basename(output), mode=mode, compresslevel=6, fileobj=self._raw)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def _finished_name(partial: str) -> str:
    """The output a partial file (`.<name>.partial`) becomes."""
    return os.path.basename(partial).removeprefix(".").removesuffix(".partial")


class _ParquetSink:
    """Rows as Parquet, written in row groups of _PARQUET_ROWS with a ParquetWriter."""

    def __init__(self, where: Any, schema: pa.Schema) -> None:
        import pyarrow.parquet as pq

        self._schema = schema
        self._writer = pq.ParquetWriter(where, schema, compression="zstd")
        self._rows: list[dict[str, Any]] = []

    def copy(self, path: str) -> None:
        """Write the rows of an earlier partial file first (resume), batch by batch."""
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches():  # its columns checked by `_parquet_keys`
            self._writer.write_batch(batch)

    def write(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        if len(self._rows) >= _PARQUET_ROWS:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if not self._rows:
            return
        try:
            table = pa.Table.from_pylist(self._rows, schema=self._schema)
        except UnicodeEncodeError:
            table = pa.Table.from_pylist([_clean(row) for row in self._rows], schema=self._schema)
        self._writer.write_table(table)
        self._rows.clear()

    def close(self) -> None:
        self._flush()
        self._writer.close()


class _Output:
    """Where rows go: standard output, or a partial file beside the target, moved into place at the end."""

    def __init__(self, options: BatchOptions) -> None:
        self.path = None if options.output in (None, "-") else os.path.abspath(options.output)
        name = (self.path or "").lower()
        self.named = ("parquet" if name.endswith((".parquet", ".parquet.gz")) else
                      "jsonl" if name.endswith(_JSONL_OUTPUT_NAMES) else None)
        self.parquet = options.output_format == "parquet" or (options.output_format is None and self.named == "parquet")
        self.gzip = not self.parquet and name.endswith(".gz")  # JSON Lines, gzipped as the name says
        self.with_blocks = options.with_blocks
        self.html_text = options.text_format == "html"
        folder, name = os.path.split(self.path or "")
        self.partial = os.path.join(folder, f".{name}.partial")  # both unused for standard output
        self.writing = self.partial + ".writing"  # Parquet only

    def check(self, inputs: Sequence[str]) -> None:
        """Refuse an output that cannot be written, or that is one of the inputs, before any work rather than
        after extracting everything (and overwriting that input)."""
        if self.path is None:
            if self.parquet and sys.stdout.isatty():
                raise InputError("Parquet is binary: name an output file (-o rows.parquet) or redirect standard output")
            return
        if self.parquet and self.path.lower().endswith(".gz"):
            raise InputError(f"{self.path}: Parquet compresses its columns itself; name the file .parquet")
        if self.named and self.named != ("parquet" if self.parquet else "jsonl"):
            raise InputError(f"{self.path}: the name says {self.named} and the output format is "
                             f"{'parquet' if self.parquet else 'jsonl'}; name the file for its format")
        check_writable(self.path)
        for given in inputs:
            if given != "-" and same_file(given, self.path):
                raise InputError(f"{self.path}: the output is also an input; name another output file")

    def resume_keys(self) -> Counter[Key]:
        """Keys of the rows already written: those of the partial file, else of a finished output, which is
        moved back to the partial name only once it reads as this run's output (a file that does not stays
        where it is, untouched)."""
        partial = os.path.exists(self.partial)
        if not partial and not os.path.exists(self.path):
            return Counter()
        where = self.partial if partial else self.path
        if self.parquet:
            keys = _parquet_keys(where, row_schema(self.with_blocks), self.html_text)
        else:
            # a finished output ends whole
            keys = _jsonl_keys(where, partial, self.with_blocks, self.html_text, self.gzip)
        if not partial:
            os.replace(self.path, self.partial)
        return keys

    @contextlib.contextmanager
    def sink(self, resume: bool) -> Iterator[_JsonlSink | _ParquetSink]:
        """A sink to write rows to; closed however the block ends, the partial file kept."""
        sink: _JsonlSink | _ParquetSink
        if self.path is None:
            out = sys.stdout.buffer
            sink = _ParquetSink(out, row_schema(self.with_blocks)) if self.parquet else _JsonlSink(out, owned=False)
        elif self.parquet:
            sink = self._parquet_partial(resume)
        else:
            mode = "ab" if resume else "wb"  # gzip: a resumed run adds a member
            opened = _NamedGzip(self.partial, mode, self.path) if self.gzip else open(self.partial, mode, 1 << 20)
            sink = _JsonlSink(opened, owned=True)  # type: ignore[arg-type]
        try:
            yield sink
        finally:
            sink.close()
            if self.path is not None and self.parquet:
                os.replace(self.writing, self.partial)

    def _parquet_partial(self, resume: bool) -> _ParquetSink:
        """A Parquet sink on the .writing file, given the partial file's rows first when resuming."""
        sink = _ParquetSink(self.writing, row_schema(self.with_blocks))
        if resume and os.path.exists(self.partial):
            try:
                sink.copy(self.partial)
            except BaseException:
                sink.close()
                os.remove(self.writing)  # the partial file stays as it was
                raise
        return sink

    def commit(self) -> None:
        """Move the finished output into place."""
        if self.path is not None:
            os.replace(self.partial, self.path)


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name one existing file."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist (yet)
        return False


_OTHER_RUN = "so this run cannot resume it; name another output, or leave out --resume to overwrite it"
_HTML_DOCUMENT = "<!DOCTYPE html>"  # how --text-format html output opens (render.to_html)


def _jsonl_keys(path: str, torn: bool, with_blocks: bool, html_text: bool, gzipped: bool = False) -> Counter[Key]:
    """(path, id) of each row of a JSON Lines output (gzipped or not); with `torn` (a partial file), after cutting
    off a torn last line. Rows made with other `--blocks` or with html text against another text format are
    refused."""
    if gzipped and not _starts_gzip(path):
        raise BatchError(f"{path}: not gzipped, as its name says, {_OTHER_RUN}")
    if torn:
        (_cut_torn_gzip if gzipped else _cut_torn_line)(path)
    keys: Counter[Key] = Counter()
    with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as rows:
        for lineno, line in enumerate(rows, 1):
            try:
                row = json.loads(line)
                keys[(row["path"], row["id"])] += 1
            except (ValueError, KeyError, TypeError) as exc:
                raise BatchError(f"{path}:{lineno}: not a noiseclf output row ({exc}), so there is no run to "
                                 f"resume; name another output, or leave out --resume to overwrite it") from None
            if ("blocks" in row) != with_blocks:
                raise BatchError(f"{path}:{lineno}: a row {'without' if with_blocks else 'with'} blocks (was "
                                 f"--blocks different?), {_OTHER_RUN}")
            _check_text_format(row.get("text"), html_text, f"{path}:{lineno}")
    return keys


def _check_text_format(text: object, html_text: bool, where: str) -> None:
    """Refuse a row whose text is an html document in a run of another text format, or the reverse."""
    if isinstance(text, str) and text and text.startswith(_HTML_DOCUMENT) != html_text:
        raise BatchError(f"{where}: a row of {'another' if html_text else 'html'} text (was --text-format "
                         f"different?), {_OTHER_RUN}")


def _cut_torn_line(path: str) -> None:
    """Truncate a file after its last newline: a hard kill can leave half a row."""
    with open(path, "r+b") as f:
        end = f.seek(0, os.SEEK_END)
        while end > 0:
            start = max(0, end - (1 << 16))
            f.seek(start)
            newline = f.read(end - start).rfind(b"\n")
            if newline >= 0:
                f.truncate(start + newline + 1)
                return
            end = start
        f.truncate(0)


def _starts_gzip(path: str) -> bool:
    """Whether a file is empty or opens with the gzip magic."""
    with open(path, "rb") as f:
        head = f.read(2)
    return not head or head == _GZIP_MAGIC


def _cut_torn_gzip(path: str) -> None:
    """Rewrite a gzipped file with the whole lines that decompress: a hard kill leaves its last member cut short."""
    whole = f"{path}.whole"
    try:
        _whole_gzip_lines(path, whole)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(whole)
        raise
    os.replace(whole, path)


def _whole_gzip_lines(path: str, whole: str) -> None:
    """Write to `whole`, gzipped, the whole lines of the gzip file `path` up to where it stops decompressing."""
    with open(path, "rb") as raw, _NamedGzip(whole, "wb", _finished_name(path)) as out:
        inflate, rest = zlib.decompressobj(wbits=31), b""
        for chunk in iter(functools.partial(raw.read, 1 << 20), b""):
            while chunk:
                try:
                    rest += inflate.decompress(chunk)
                except zlib.error:  # the damage: nothing after it is read
                    return
                chunk = inflate.unused_data if inflate.eof else b""
                if inflate.eof:  # a member ends: its lines are whole, and the next member starts
                    inflate = zlib.decompressobj(wbits=31)
                cut = rest.rfind(b"\n") + 1
                out.write(rest[:cut])
                rest = rest[cut:]


def _parquet_keys(path: str, schema: pa.Schema, html_text: bool) -> Counter[Key]:
    """(path, id) of each row of a Parquet output whose columns are `schema`'s and whose text format (html or
    not) is this run's, as its first text says: a resumed run never mixed them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path)
        if not source.schema_arrow.equals(schema, check_metadata=False):
            raise BatchError(f"{path}: output has other columns (was --blocks different?), {_OTHER_RUN}")
        texts = (text for batch in source.iter_batches(columns=["text"]) for text in batch.column(0).to_pylist())
        _check_text_format(next((text for text in texts if text), None), html_text, path)
        keys: Counter[Key] = Counter()
        for batch in source.iter_batches(columns=["path", "id"]):
            keys.update(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()))
    except (pa.ArrowException, OSError) as exc:
        raise BatchError(f"{path}: output unreadable ({exc}); name another output, or leave out --resume to "
                         f"overwrite it") from None
    return keys


# ---------------------------------------------------------------------------------------------
# The run


@dataclass
class _Tally:
    records: int = 0
    ok: int = 0
    empty: int = 0
    error: int = 0
    skipped: int = 0
    resumed: int = 0

    def add(self, status: Status) -> None:
        self.records += 1
        setattr(self, status, getattr(self, status) + 1)


def _skip_done(records: Iterable[Record], done: Counter[Key], tally: _Tally) -> Iterator[Record]:
    """Drop records whose rows a resumed output already has (the first n of a key seen n times)."""
    for record in records:
        key = _clean(record.key)
        if done[key] > 0:
            done[key] -= 1
            tally.resumed += 1
        else:
            yield record


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[_Tally], None]]:
    """A live line on standard error (records, records/s, errors), refreshed at most 10 times a second."""
    if not enabled:
        yield lambda tally: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.completed:,.0f} records"),
               TextColumn("{task.fields[rate]:,.1f} records/s"), TextColumn("{task.fields[errors]:,} errors"),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("batch", total=None, rate=0.0, errors=0)
        start = last = time.perf_counter()

        def update(tally: _Tally) -> None:
            nonlocal last
            now = time.perf_counter()
            if now - last >= 0.1:
                last = now
                bar.update(task, completed=tally.records, rate=tally.records / (now - start), errors=tally.error)

        yield update


def run_batch(inputs: Sequence[str], options: BatchOptions) -> BatchSummary:
    """Extract every record of `inputs` into one row each; what the CLI's batch command calls.

    Raises InputError before any work when the output cannot be written; BatchError when the run
    cannot go on (the model failed to load in a worker, unusable partial output on resume; a worker
    that dies costs only the record that killed it an error row), ModelError when the model fails to
    load with jobs=1, and re-raises KeyboardInterrupt;
    in every such case the rows written so far stay in the partial file for `resume`. Unless `quiet`,
    writes `BatchSummary.line()` to standard error.
    """
    start = time.perf_counter()
    if list(map(os.fspath, inputs)).count("-") > 1:
        raise InputError("-: standard input can be read once; name it once")
    output = _Output(options)
    output.check(inputs)
    tally = _Tally()
    show = not options.quiet and sys.stderr.isatty()
    with _row_source(options, inputs) as rows_of:  # the model loads (in-process) before any output is touched
        done = output.resume_keys() if options.resume else Counter()
        records = _skip_done(iter_records(inputs, options), done, tally)
        with output.sink(options.resume) as sink, _progress(show) as progress:
            for row in rows_of(records):
                sink.write(row)
                tally.add(row["status"])
                progress(tally)
    output.commit()
    summary = BatchSummary(tally.records, tally.ok, tally.empty, tally.error, tally.skipped, tally.resumed,
                           time.perf_counter() - start, output.path)
    if not options.quiet:
        sys.stderr.write(summary.line() + "\n")
    return summary
