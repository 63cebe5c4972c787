"""Extract the main text of every HTML response in WARC files with Spark, into Parquet.

    spark-submit --master 'local[2]' \\
        --conf spark.sql.execution.arrow.maxRecordsPerBatch=256 \\
        examples/spark_warc.py --output extracted.parquet crawl-00000.warc.gz crawl-00001.warc.gz

On a cluster, use its master (`--master yarn`, `k8s://...`) with noiseclf[spark] installed on every
executor. Each WARC file is one task, read on an executor by noiseclf.batch's reader (fastwarc), so
the paths must be readable there: a local path in local mode, else storage every executor mounts.
Records become rows of RECORD_SCHEMA, noiseclf.batch's records: HTML responses and WET conversion
records carry their payload, other responses come as "skipped" rows and unreadable ones (truncated,
over --max-bytes, a corrupt file) as "error" rows, all passed through unextracted. mapInPandas then
extracts every page with the model loaded once per Python worker. The output is a Parquet directory
with noiseclf.integrations.spark.OUTPUT_SCHEMA's columns plus `path`, the WARC file of each row.

A custom model: `--model /shared/models/custom.joblib` on shared storage, or shipped with the job,
`--files custom.joblib,custom.manifest.json` and `--model custom.joblib`; without --model, the
default model inside the installed noiseclf package.
"""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from noiseclf.batch import BatchOptions, input_kind, iter_records

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

RECORD_SCHEMA = ("path string, id string, url string, content binary, format string, charset string, "
                 "status string, error string")
RecordRow = tuple[str, "str | None", "str | None", bytes, str, "str | None", "str | None", "str | None"]


def warc_rows(path: str, max_bytes: int | None = 10_000_000) -> Iterator[RecordRow]:
    """The records of one WARC or WET file as RECORD_SCHEMA tuples, read by noiseclf.batch's reader."""
    for record in iter_records([path], BatchOptions(max_bytes=max_bytes)):
        content = record.content.encode("utf-8") if isinstance(record.content, str) else record.content
        yield (record.source, record.id, record.url, content, record.format, record.charset,
               record.status or None, record.error or None)


def extract_warcs(spark: SparkSession, paths: Sequence[str], max_bytes: int | None = 10_000_000,
                  **options: Any) -> DataFrame:
    """The rows of every record of the WARC files, one task per file; `options` go to extract_partitions."""
    from noiseclf.integrations.spark import extract_dataframe

    read = functools.partial(warc_rows, max_bytes=max_bytes)
    records = spark.createDataFrame(spark.sparkContext.parallelize(list(paths), len(paths)).flatMap(read),
                                    RECORD_SCHEMA)
    return extract_dataframe(records, content_col="content", format_col="format", charset_col="charset",
                             status_col="status", error_col="error", max_bytes=max_bytes, keep_cols=("path",),
                             **options)


def checked_paths(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The WARC paths as absolute local paths, after refusing what would fail only once Spark has started (or
    read the wrong thing): a bad --max-bytes, an output that exists, a path that names no WARC or WET file,
    a URL of other storage (the reader opens local or mounted paths)."""
    if args.max_bytes < 1:
        parser.error(f"--max-bytes must be at least 1, not {args.max_bytes}")
    if args.mode == "errorifexists" and "://" not in args.output and os.path.exists(args.output):
        parser.error(f"--output {args.output} exists; remove it or give --mode overwrite")
    paths = []
    for given in args.warcs:
        path = given.removeprefix("file://")
        if "://" in path:
            parser.error(f"{given}: only local or mounted paths can be read (file:// or a plain path)")
        if (input_kind(path) or ("",))[0] != "warc":
            parser.error(f"{given}: not a WARC or WET file name (.warc, .warc.gz, .wet, .wet.gz)")
        paths.append(os.path.abspath(path))
    return paths


def main(argv: Sequence[str] | None = None) -> None:
    """Read the WARC files given, extract every page, write the rows as Parquet."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warcs", nargs="+", help="WARC/WET files (.warc, .warc.gz, .wet, .warc.wet.gz)")
    parser.add_argument("--output", required=True, help="Parquet output directory")
    parser.add_argument("--model", default=None, help="model file as executors see it (default: shipped)")
    parser.add_argument("--max-bytes", type=int, default=10_000_000, help="larger records get error rows")
    parser.add_argument("--mode", default="errorifexists", choices=("errorifexists", "overwrite"),
                        help="what to do when the output exists")
    args = parser.parse_args(argv)
    paths = checked_paths(parser, args)

    from noiseclf.integrations.spark import require_spark

    require_spark()
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("noiseclf-warc").getOrCreate()
    try:
        rows = extract_warcs(spark, paths, args.max_bytes, model_path=args.model)
        rows.write.mode(args.mode).parquet(args.output)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
