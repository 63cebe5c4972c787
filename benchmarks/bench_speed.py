"""CPU time per page, single process, noiseclf against trafilatura on the same pages in the same run.

    python benchmarks/bench_speed.py [--corpus wcxb:test] [--limit N] [--model PATH] [--format html|text]

Each page is timed with time.process_time from raw bytes to extracted text (decoding and parsing
included) for both systems, alternating between them page by page so both see the same machine
state. Prints the median, mean and p90 per system, the ratio, and noiseclf's time by stage.
With `--format text` the pages are first flattened to text dumps, as `noiseclf evaluate --format text`
reads them, and timed from that string: noiseclf with its text model, trafilatura on the same dump
wrapped one <p> a block (issue 3's baseline).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # common.py, however the script is started

from common import load_extractor  # noqa: E402

from noiseclf.corpora import DEFAULT_TEST_SPLIT, load_corpus
from noiseclf.evaluation import text_as_html
from noiseclf.features import block_features
from noiseclf.inference import Extractor
from noiseclf.segmentation import flatten, segment_html, segment_text
from noiseclf.types import NoiseclfError


def _stats(values: list[float]) -> str:
    p90 = statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]
    return (f"median {statistics.median(values):6.2f} ms  mean {statistics.fmean(values):6.2f} ms  "
            f"p90 {p90:6.2f} ms")


def _stage_times(ex: Extractor, inputs: list, fmt: str) -> dict[str, list[float]]:
    """noiseclf's CPU time split into segmentation, features and the classifier."""
    out: dict[str, list[float]] = {"segment": [], "features": [], "classify": []}
    cut = segment_text if fmt == "text" else segment_html
    for content in inputs:
        t0 = time.process_time()
        doc = cut(content)
        t1 = time.process_time()
        X = block_features(doc)
        t2 = time.process_time()
        if len(X):
            ex.score(doc, X)
        t3 = time.process_time()
        for key, value in zip(out, (t1 - t0, t2 - t1, t3 - t2)):
            out[key].append(value * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="wcxb:test")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument("--no-peer", action="store_true", help="skip trafilatura")
    parser.add_argument("--format", choices=("html", "text"), default="html",
                        help="text: time the pages flattened to text dumps (see above)")
    args = parser.parse_args()
    if args.limit is not None and args.limit < 1:
        parser.error(f"--limit must be at least 1, not {args.limit}")
    corpus, _, split = args.corpus.partition(":")
    try:
        pages = list(load_corpus(corpus, split or DEFAULT_TEST_SPLIT.get(corpus), limit=args.limit))
    except NoiseclfError as exc:
        parser.error(str(exc))
    if not pages:
        parser.error(f"{args.corpus}: no pages")
    if args.format == "text":
        inputs = [flatten(segment_html(page.content)) for page in pages]
        peer_inputs = [text_as_html(text) for text in inputs]
    else:
        inputs = peer_inputs = [page.content for page in pages]
    ex = load_extractor(parser, args.model, args.format)
    try:
        import trafilatura
    except ImportError:
        trafilatura = None
    if args.no_peer:
        trafilatura = None
    for content, peer_content in zip(inputs[:5], peer_inputs[:5]):  # warm caches and lazy imports before timing
        ex.extract(content, format=args.format)
        if trafilatura:
            trafilatura.extract(peer_content)
    ours: list[float] = []
    theirs: list[float] = []
    for content, peer_content in zip(inputs, peer_inputs):
        t0 = time.process_time()
        ex.extract(content, format=args.format)
        ours.append((time.process_time() - t0) * 1000)
        if trafilatura:
            t0 = time.process_time()
            trafilatura.extract(peer_content)
            theirs.append((time.process_time() - t0) * 1000)
    print(f"{len(pages)} pages of {args.corpus} ({args.format}), CPU time per page, single process")
    print(f"noiseclf     {_stats(ours)}")
    if theirs:
        print(f"trafilatura  {_stats(theirs)}  (version {trafilatura.__version__})")
        print(f"ratio trafilatura/noiseclf: median {statistics.median(theirs) / statistics.median(ours):.2f}x, "
              f"mean {statistics.fmean(theirs) / statistics.fmean(ours):.2f}x")
    for stage, values in _stage_times(ex, inputs, args.format).items():
        print(f"  noiseclf {stage:9s} {_stats(values)}")


if __name__ == "__main__":
    main()
