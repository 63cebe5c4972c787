"""Run a noiseclf model over a Spark DataFrame of pages: one output row per input row.

Needs the `spark` extra (`pip install noiseclf[spark]`: pyspark and pandas) on the driver and on
every executor, with noiseclf itself.

    from noiseclf.integrations.spark import OUTPUT_SCHEMA, extract_dataframe, extract_partitions

    pages = spark.read.parquet("pages.parquet")  # columns id, url, html
    rows = extract_dataframe(pages)  # the same as:
    rows = pages.mapInPandas(extract_partitions(), schema=OUTPUT_SCHEMA)
    rows.write.parquet("extracted.parquet")

Rows have OUTPUT_SCHEMA's columns, noiseclf.batch's row layout without `path`: id, url, title,
text, confidence, status, error. `status` is "ok", "empty" (blank page or nothing kept), "error"
(the message in `error`: null content, over `max_bytes`, binary content, a failing or timed-out
extraction), or for rows decided before extraction (`status_col`) the status they carry. One bad
row never fails a task; a model that cannot be loaded does, on purpose (a run of error rows would
hide it).

Each Python worker process loads the model once, into a module-level cache keyed by (extractor
factory, model path), and keeps it for every later partition and query it runs, since Spark reuses
Python workers (spark.python.worker.reuse, on by default); two model paths in one worker each keep
their own extractor.

Model distribution: executors load the model themselves, so the model file and its manifest beside
it (`<name>.manifest.json`) must be readable there.
  * `model_path=None` loads the default model shipped inside the installed noiseclf package: it
    works on every executor where noiseclf is installed (the executor image, or a packed
    environment shipped with `--archives`).
  * A custom model on storage that every executor mounts (NFS, a shared volume): its absolute path.
  * Otherwise ship both files with the job, `spark-submit --files model.joblib,model.manifest.json`
    or `SparkContext.addFile` for each, and pass the bare file name ("model.joblib"): on an
    executor, a relative path that is not a file in the working directory is looked up with
    `SparkFiles.get`.

Memory: mapInPandas hands a worker Arrow batches of spark.sql.execution.arrow.maxRecordsPerBatch
rows (10,000 by default); with raw HTML pages of up to `max_bytes` each, lower it (e.g. to 256).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..batch import ExtractorLike, Record, RecordProcessor, alarm_handler, checked_limits, with_threshold
from ..types import MAX_BYTES, InputError, ModelError, NoiseclfError

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

OUTPUT_COLUMNS: tuple[str, ...] = ("id", "url", "title", "text", "confidence", "status", "error")
OUTPUT_SCHEMA = ("id string, url string, title string, text string, confidence double, status string, "
                 "error string")
_FORMATS = ("auto", "html", "text")
_DTYPES = {"confidence": "float64"}  # pandas dtypes of the output columns; the others are object (str/None)

ExtractorFactory = Callable[[str | None], ExtractorLike]

_EXTRACTORS: dict[tuple[str, str | None], ExtractorLike] = {}


def require_spark() -> None:
    """Import pyspark and pandas, or raise NoiseclfError saying how to install them."""
    try:
        import pandas  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise NoiseclfError(f"the Spark integration needs pyspark and pandas ({exc}): "
                            f"pip install noiseclf[spark]") from exc


def extract_partitions(model_path: str | None = None, content_col: str = "html", url_col: str | None = "url",
                       id_col: str | None = "id", format: str = "auto", *, format_col: str | None = None,
                       charset_col: str | None = None, status_col: str | None = None,
                       error_col: str | None = None, max_bytes: int | None = MAX_BYTES,
                       timeout: float | None = 30.0, keep_cols: Sequence[str] = (),
                       extractor_factory: ExtractorFactory | None = None,
                       threshold: float | None = None) -> PartitionExtractor:
    """A function for `DataFrame.mapInPandas(fn, schema=OUTPUT_SCHEMA)` that extracts every row.

    model_path: model file as executors see it (see the module docstring); None for the default.
    content_col: the page, a string or binary column (bytes are decoded like noiseclf.batch does).
    url_col, id_col: copied to the output (id as a string); None, or a column absent from the
        input, gives null.
    format: "auto", "html" or "text" for every row; with "auto", `format_col` (when given) holds
        each row's format ("auto", "html" or "text").
    charset_col: a declared charset per row (e.g. from the HTTP Content-Type), tried first on bytes.
    status_col, error_col: rows decided before extraction, as noiseclf.batch's readers decide
        them: a row whose status is set is not extracted and keeps that status and error message.
    max_bytes: a page longer than this (bytes, or characters for a string column) gets an error row.
    timeout: seconds one page may take to decode and extract before it gets an error row (SIGALRM,
        between Python bytecodes, as in noiseclf.batch); None for no limit.
    keep_cols: input columns copied unchanged into the output, before OUTPUT_SCHEMA's columns (whose
        names they must not take); the schema to give mapInPandas is then `fn.output_schema(df)`.
    extractor_factory: called as `factory(model_path)` once per worker instead of `Extractor.load`;
        a top-level function or class of a module importable on the executors.
    threshold: a block's content probability needed to keep it, 0 to 1, instead of the model's own
        (higher: more precision, less recall); see `Extractor.load`.
    """
    from ..inference import checked_threshold

    require_spark()
    if format not in _FORMATS:
        raise InputError(f"format must be auto, html or text, not {format!r}")
    timeout = checked_limits(max_bytes, timeout)
    threshold = checked_threshold(threshold)
    if not isinstance(content_col, str) or not content_col:
        raise InputError(f"content_col must name the column of the pages, not {content_col!r}")
    if isinstance(keep_cols, str):
        raise InputError(f"keep_cols is a list of column names, not the string {keep_cols!r}")
    taken = sorted(name for name in keep_cols if name.lower() in OUTPUT_COLUMNS)  # Spark's names ignore case
    if taken:
        raise InputError(f"keep_cols {', '.join(map(repr, taken))} would clash with the output columns")
    if len({name.lower() for name in keep_cols}) != len(keep_cols):
        raise InputError(f"keep_cols names a column twice: {list(keep_cols)}")
    return PartitionExtractor(model_path, content_col, url_col, id_col, format, format_col, charset_col,
                              status_col, error_col, max_bytes, timeout, tuple(keep_cols), extractor_factory,
                              threshold)


def extract_dataframe(df: DataFrame, **options: Any) -> DataFrame:
    """`df.mapInPandas` with `extract_partitions(**options)`, after checking that the columns exist."""
    fn = extract_partitions(**options)
    missing = [name for name in fn.required_columns if name not in df.columns]
    if missing:
        raise InputError(f"the DataFrame has no column {', '.join(map(repr, missing))} "
                         f"(it has {', '.join(df.columns)})")
    return df.mapInPandas(fn, schema=fn.output_schema(df))


@dataclass(frozen=True)
class PartitionExtractor:
    """The mapInPandas function `extract_partitions` returns: pandas batches of pages in, rows out.

    A top-level class, so that each task unpickles it by reference and finds this module's
    extractor cache (a closure would be pickled by value, each task with a fresh cache).
    """

    model_path: str | None
    content_col: str
    url_col: str | None
    id_col: str | None
    format: str
    format_col: str | None
    charset_col: str | None
    status_col: str | None
    error_col: str | None
    max_bytes: int | None
    timeout: float | None
    keep_cols: tuple[str, ...]
    factory: ExtractorFactory | None
    threshold: float | None = None

    @property
    def required_columns(self) -> list[str]:
        """Input columns that must exist (url and id columns are optional)."""
        named = (self.content_col, self.format_col, self.charset_col, self.status_col, self.error_col)
        return [name for name in named if name is not None] + list(self.keep_cols)

    def output_schema(self, df: DataFrame) -> StructType:
        """The schema of the output rows: OUTPUT_SCHEMA's columns after the kept ones, typed as in `df` (built as
        types, not as DDL text, which would not quote the field names nested in a struct)."""
        from pyspark.sql.types import DoubleType, StringType, StructField, StructType

        own = [StructField(name, DoubleType() if name in _DTYPES else StringType()) for name in OUTPUT_COLUMNS]
        return StructType([df.schema[name] for name in self.keep_cols] + own)

    def __call__(self, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import pandas as pd

        extractor = with_threshold(cached_extractor(self.model_path, self.factory), self.threshold)
        with alarm_handler() as armed:
            processor = RecordProcessor(extractor, format=self.format, timeout=self.timeout if armed else None)
            for batch in batches:
                rows = [processor(record) for record in self._records(batch)]
                out = batch[list(self.keep_cols)].reset_index(drop=True)
                for name in OUTPUT_COLUMNS:
                    out[name] = pd.Series([row[name] for row in rows], dtype=_DTYPES.get(name, object))
                yield out

    def _records(self, batch: pd.DataFrame) -> Iterator[Record]:
        """One batch.Record per row; a row that cannot be extracted gets an error status."""
        missing = [name for name in self.required_columns if name not in batch.columns]
        if missing:
            raise InputError(f"no column {', '.join(map(repr, missing))} in the input "
                             f"(columns: {', '.join(map(str, batch.columns))})")
        n = len(batch)
        columns = [_values(batch, name, n) for name in (self.content_col, self.id_col, self.url_col,
                                                        self.format_col, self.charset_col,
                                                        self.status_col, self.error_col)]
        for content, rid, url, fmt, charset, status, error in zip(*columns):
            fmt = (fmt.strip().lower() or None) if isinstance(fmt, str) else fmt  # "HTML" as "html", "" as unset
            record = Record(_text(rid), _text(url), b"", "auto", "row", charset)
            if status:
                yield replace(record, status=str(status), error="" if error is None else _text(error))
            elif problem := self._problem(record.name, content, fmt, charset):
                yield replace(record, status="error", error=problem)
            else:
                yield replace(record, content=bytes(content) if isinstance(content, (bytearray, memoryview))
                              else content, format=fmt or "auto")

    def _problem(self, name: str, content: Any, fmt: Any, charset: Any) -> str:
        """Why a row cannot be extracted, or "" when it can."""
        if fmt is not None and fmt not in _FORMATS:
            return f"{name}: {self.format_col} is {fmt!r}, not auto, html or text"
        if charset is not None and not isinstance(charset, str):
            return f"{name}: {self.charset_col} holds {type(charset).__name__}, not a charset name"
        if content is None:
            return f"{name}: no content (null {self.content_col})"
        if not isinstance(content, (str, bytes, bytearray, memoryview)):
            return f"{name}: {self.content_col} holds {type(content).__name__}, not text or bytes"
        if self.max_bytes and len(content) > self.max_bytes:
            return f"{name}: over max_bytes ({len(content):,} > {self.max_bytes:,})"
        return ""


def _values(batch: pd.DataFrame, name: str | None, n: int) -> list[Any]:
    """A column's values with missing ones (None, NaN, NA) as None; all None for an absent column."""
    if name is None or name not in batch.columns:
        return [None] * n
    column = batch[name]
    return [None if missing else value for value, missing in zip(column.tolist(), column.isna().tolist())]


def _text(value: Any) -> str | None:
    """An id, URL or message as a string: a whole float is an integer column that had nulls (5.0 -> "5"),
    bytes (a binary column) are read as UTF-8."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def cached_extractor(model_path: str | None = None, factory: ExtractorFactory | None = None) -> ExtractorLike:
    """The extractor for `model_path` in this process, loaded on first use and kept."""
    key = (_factory_name(factory), model_path)
    if key not in _EXTRACTORS:
        resolved = _resolve_model(model_path)
        try:
            _EXTRACTORS[key] = (factory or _load_extractor)(resolved)
        except ModelError as exc:
            raise ModelError(f"{exc} (the model and its manifest must be readable on every executor: "
                             f"see noiseclf.integrations.spark)") from exc
    return _EXTRACTORS[key]


def _factory_name(factory: ExtractorFactory | None) -> str:
    """Names a factory alike in every task, though each task unpickles its own copy of it."""
    if factory is None:
        return "noiseclf.inference.Extractor.load"
    qualname = getattr(factory, "__qualname__", None)
    return f"{factory.__module__}.{qualname}" if qualname else repr(factory)


def _load_extractor(model_path: str | None) -> ExtractorLike:
    from ..inference import Extractor

    return Extractor.load(model_path)


def _resolve_model(model_path: str | None) -> str | None:
    """The model file as this process sees it: as given, else (on an executor) a file shipped to the job."""
    if model_path is None or os.path.isabs(model_path) or os.path.exists(model_path):
        return model_path
    from pyspark import SparkFiles, TaskContext

    if TaskContext.get() is None:  # not in a Spark task: there are no shipped files to look in
        return model_path
    shipped = SparkFiles.get(model_path)
    return shipped if os.path.exists(shipped) else model_path
