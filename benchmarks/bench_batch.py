"""Batch inference benchmark on the WCXB test pages packed into a WARC file.

Measures, in one run:
  cpu         CPU ms per page, single process, from WARC record to serialised output row (median and
              mean of time.process_time per record), and trafilatura's on the same records; their ratio.
  throughput  pages/s with -j 1 and -j 2 and their ratio (target >= 1.8); end to end, and with the
              start-up cost (worker start, model load) taken out by subtracting a run of one page per worker;
              the two alternate --throughput-rounds times and the median ratio is the figure.
  rss         VmRSS of each worker over --rss-records records (the pages cycled), sampled inside the
              worker every --rss-every records; prints the first and last sample and the growth
              (targets: <= 400 MB, <= 10 % growth).

    python benchmarks/bench_batch.py                       # the real default model, all parts
    python benchmarks/bench_batch.py --fake --rss-records 2000 --rss-every 500   # check the script itself

--fake swaps the model for segmentation plus a word-count rule, to validate the script before a model exists.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from noiseclf.batch import BatchOptions, ExtractorLike, iter_records, make_processor, run_batch  # noqa: E402
from noiseclf.segmentation import segment  # noqa: E402
from noiseclf.types import Extraction, NoiseclfError  # noqa: E402

RSS_LIMIT_MB = 400.0
RSS_GROWTH_LIMIT = 0.10
SCALING_TARGET = 1.8


class BenchPage(NamedTuple):
    id: str
    url: str
    content: bytes
    encoding: str


# ---------------------------------------------------------------------------------------------
# Extractors: the real one, a fake, and an RSS probe around either (all picklable for workers)


class FakeExtractor:
    """Real segmentation, then keep blocks of 10+ words: model-free but page-sized work."""

    def extract(self, content: str | bytes, *, format: str = "auto", source: str = "",
                url: str | None = None, with_blocks: bool = False, output: str = "text") -> Extraction:
        doc = segment(content, format=format, source=source)
        text = "\n\n".join(b.text for b in doc.blocks if b.text.count(" ") >= 9)
        return Extraction(doc.title, text, doc.format, 0.5)


def fake_factory(model: str | None) -> ExtractorLike:
    return FakeExtractor()


def real_factory(model: str | None) -> ExtractorLike:
    from noiseclf.inference import Extractor

    return Extractor.load(model)


def vm_rss_mb() -> float:
    """This process's resident set size from /proc/self/status (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


class _Probed:
    """An extractor that appends "pid count rss_mb" to a log every `every` pages it extracts."""

    def __init__(self, inner: ExtractorLike, every: int, log: str) -> None:
        self.inner, self.every, self.log, self.count = inner, every, log, 0

    def extract(self, content: str | bytes, **kwargs: Any) -> Extraction:
        result = self.inner.extract(content, **kwargs)
        self.count += 1
        if self.count % self.every == 0:
            with open(self.log, "a") as log:
                log.write(f"{os.getpid()} {self.count} {vm_rss_mb():.1f}\n")
        return result


@dataclass(frozen=True)
class RssProbe:
    """An extractor factory wrapping another one's extractors in _Probed."""

    inner: Callable[[str | None], ExtractorLike]
    every: int
    log: str

    def __call__(self, model: str | None) -> ExtractorLike:
        return _Probed(self.inner(model), self.every, self.log)


# ---------------------------------------------------------------------------------------------
# (a) the pages, packed into a WARC


def wcxb_pages(limit: int | None) -> list[BenchPage]:
    """The WCXB test pages (from $NOISECLF_DATA or ../shared/data); exits naming the problem without them."""
    from noiseclf.corpora import load_corpus

    try:
        pages = [BenchPage(p.id, p.url, p.content, p.encoding) for p in load_corpus("wcxb", "test", limit=limit)]
    except (NoiseclfError, OSError) as exc:
        sys.exit(f"bench_batch: cannot read the WCXB test pages: {exc}")
    if not pages:
        sys.exit("bench_batch: no WCXB test pages")
    return pages


def pack_warc(pages: list[BenchPage], path: Path) -> None:
    """One gzipped HTML response record per page, with the page's declared encoding in Content-Type."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for page in pages:
            ctype = f"text/html; charset={page.encoding}" if page.encoding else "text/html"
            http = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            url = page.url or f"https://wcxb.invalid/{page.id}"
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(page.content),
                                                          http_headers=http))


# ---------------------------------------------------------------------------------------------
# (b) CPU per page


def ms_stats(seconds: list[float]) -> tuple[float, float]:
    return statistics.median(seconds) * 1000, statistics.fmean(seconds) * 1000


def cpu_per_page(warc: Path, options: BatchOptions) -> None:
    """Per record: read from the WARC, extract, serialise; trafilatura timed on the same records."""
    try:
        import trafilatura
    except ImportError:
        trafilatura = None
    processor = make_processor(options, enforce_timeout=False)
    records = iter_records([str(warc)], options)
    ours: list[float] = []
    theirs: list[float] = []
    errors: list[str] = []
    while True:
        start = time.process_time()
        record = next(records, None)
        if record is None:
            break
        read = time.process_time()
        row = processor(record)
        json.dumps(row, ensure_ascii=False)
        ours.append(time.process_time() - start)
        if row["status"] == "error":
            errors.append(row["error"])
        if trafilatura is not None:
            before = time.process_time()
            text = trafilatura.extract(record.content, url=record.url)
            json.dumps({"url": record.url, "text": text}, ensure_ascii=False)
            theirs.append(time.process_time() - before + read - start)  # same reading cost as ours
    median, mean = ms_stats(ours)
    print(f"cpu: noiseclf     {len(ours)} pages  median {median:.2f} ms  mean {mean:.2f} ms per page")
    if errors:
        print(f"cpu: {len(errors)} of {len(ours)} records were error rows, timed as such (first: {errors[0]})")
    if not theirs:
        print("cpu: trafilatura  not installed, no comparison")
        return
    t_median, t_mean = ms_stats(theirs)
    print(f"cpu: trafilatura  {len(theirs)} pages  median {t_median:.2f} ms  mean {t_mean:.2f} ms per page")
    print(f"cpu: noiseclf / trafilatura  median {median / t_median:.2f}x  mean {mean / t_mean:.2f}x")


# ---------------------------------------------------------------------------------------------
# (c) throughput and scaling


def cycled(warc: Path, pages: int, records: int) -> list[str]:
    """The WARC named often enough to give about `records` records."""
    return [str(warc)] * max(1, math.ceil(records / pages))


def pages_per_second(inputs: list[str], startup_warc: Path, jobs: int, options: BatchOptions,
                     out: Path) -> tuple[float, float]:
    """(end to end, start-up excluded) pages/s; start-up is timed as a run of one page per worker."""
    startup = run_batch([str(startup_warc)], replace(options, output=str(out), jobs=jobs, chunk_size=1))
    summary = run_batch(inputs, replace(options, output=str(out), jobs=jobs))
    steady = (summary.records - startup.records) / max(summary.seconds - startup.seconds, 1e-9)
    return summary.records_per_second, steady


def throughput(warc: Path, pages: list[BenchPage], records: int, rounds: int, options: BatchOptions,
               workdir: Path) -> None:
    """-j 1 and -j 2 in alternation, `rounds` times: this machine's speed drifts over minutes, so the
    ratio is taken within each round and the median round is the figure. Every other round runs -j 2
    first, so that a steady drift does not favour one side."""
    inputs = cycled(warc, len(pages), records)
    startup_warc = workdir / "startup.warc.gz"
    pack_warc(pages[:2], startup_warc)
    ratios = []
    for r in range(1, rounds + 1):
        results = {jobs: pages_per_second(inputs, startup_warc, jobs, options, workdir / f"out-j{jobs}.jsonl")
                   for jobs in ((1, 2) if r % 2 else (2, 1))}
        ratios.append(tuple(results[2][i] / results[1][i] for i in (0, 1)))
        print(f"throughput round {r}: -j 1 {results[1][0]:.1f} pages/s ({results[1][1]:.1f} start-up excluded), "
              f"-j 2 {results[2][0]:.1f} ({results[2][1]:.1f}); ratio {ratios[-1][0]:.2f}x ({ratios[-1][1]:.2f}x)")
    end_ratio, steady_ratio = (statistics.median(r[i] for r in ratios) for i in (0, 1))
    verdict = "ok" if steady_ratio >= SCALING_TARGET else "BELOW TARGET"
    print(f"throughput: -j 2 / -j 1, median of {rounds} rounds: {end_ratio:.2f}x end to end, {steady_ratio:.2f}x "
          f"start-up excluded (target >= {SCALING_TARGET}: {verdict}; CPUs usable: {len(os.sched_getaffinity(0))})")


# ---------------------------------------------------------------------------------------------
# (d) worker memory over a long run


def rss_samples(log: Path) -> dict[int, list[tuple[int, float]]]:
    """(records done, RSS MB) samples per worker pid, in order."""
    samples: dict[int, list[tuple[int, float]]] = {}
    for line in log.read_text().splitlines():
        pid, count, rss = line.split()
        samples.setdefault(int(pid), []).append((int(count), float(rss)))
    return samples


def worker_rss(warc: Path, pages: int, records: int, every: int, jobs: int, options: BatchOptions,
               workdir: Path) -> None:
    """Run `records` records through `jobs` probed workers, rows to /dev/null, and report RSS growth."""
    log = workdir / "rss.log"
    log.unlink(missing_ok=True)
    probe = RssProbe(options.extractor_factory or real_factory, every, str(log))
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        summary = run_batch(cycled(warc, pages, records), replace(options, output=None, jobs=jobs,
                                                                  extractor_factory=probe))
    print(f"rss: {summary.records:,} records with -j {jobs} in {summary.seconds:.0f} s")
    samples = rss_samples(log) if log.exists() else {}
    if not samples:
        print(f"rss: no worker reached {every:,} records; lower --rss-every")
    for pid, points in sorted(samples.items()):
        (first_n, first), (last_n, last) = points[0], points[-1]
        growth = (last - first) / first
        verdict = "ok" if last <= RSS_LIMIT_MB and growth <= RSS_GROWTH_LIMIT else "OVER TARGET"
        print(f"rss: worker {pid}  {first:.0f} MB at {first_n:,}  {last:.0f} MB at {last_n:,}  "
              f"growth {growth:+.1%}  (targets <= {RSS_LIMIT_MB:.0f} MB, <= {RSS_GROWTH_LIMIT:.0%}: {verdict})")


# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", choices=("cpu", "throughput", "rss"),
                        default=["cpu", "throughput", "rss"], help="which measurements to run")
    parser.add_argument("--fake", action="store_true", help="a fake extractor instead of the model")
    parser.add_argument("--model", help="model file (default: the shipped default models)")
    parser.add_argument("--pages", type=int, help="use only the first N WCXB test pages")
    parser.add_argument("--throughput-records", type=int, default=3000, help="records per throughput run")
    parser.add_argument("--throughput-rounds", type=int, default=3, help="-j 1 / -j 2 pairs; the median ratio counts")
    parser.add_argument("--rss-records", type=int, default=100_000, help="records for the RSS run")
    parser.add_argument("--rss-every", type=int, default=10_000, help="RSS sample interval, per worker")
    parser.add_argument("--rss-jobs", type=int, default=2, help="workers in the RSS run")
    parser.add_argument("--workdir", type=Path, help="where the WARC and outputs go (default: a temp folder)")
    args = parser.parse_args(argv)
    for name in ("pages", "throughput_records", "throughput_rounds", "rss_records", "rss_every", "rss_jobs"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, not {value}")
    if args.workdir is not None and args.workdir.exists() and not args.workdir.is_dir():
        parser.error(f"--workdir {args.workdir}: is a file, not a folder")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    options = BatchOptions(model=args.model, quiet=True, timeout=None,
                           extractor_factory=fake_factory if args.fake else None)
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-batch-")))
        workdir.mkdir(parents=True, exist_ok=True)
        pages = wcxb_pages(args.pages)
        warc = workdir / "wcxb-test.warc.gz"
        pack_warc(pages, warc)
        print(f"pages: {len(pages)} WCXB test pages in {warc} ({warc.stat().st_size / 1e6:.1f} MB); "
              f"extractor: {'fake' if args.fake else args.model or 'default model'}")
        if "cpu" in args.parts:
            cpu_per_page(warc, options)
        if "throughput" in args.parts:
            throughput(warc, pages, args.throughput_records, args.throughput_rounds, options, workdir)
        if "rss" in args.parts:
            worker_rss(warc, len(pages), args.rss_records, args.rss_every, args.rss_jobs, options, workdir)


if __name__ == "__main__":
    main()
