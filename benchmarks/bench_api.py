"""Per-call overhead of the API: Extractor.extract on a tiny page versus the sum of its stages.

The stages are the page's own work: segmentation, block features and the classifier's prediction.
Everything else `extract` does (checks, threshold, joining the text, page confidence, building the
Extraction) is overhead; the target is under 2 ms per call. The variants are called in turn, one
call each, and the overhead is the median over calls of (extract - stages) for back-to-back calls,
which a busy machine's drift barely moves.

    python benchmarks/bench_api.py                         # the shipped default model
    python benchmarks/bench_api.py --model some.joblib --calls 1000
    python benchmarks/bench_api.py --openmp-threads 1      # HistGradientBoosting predicting on one thread

The OpenMP setting matters only for a model without packed trees (one `model.pack` cannot pack),
which scikit-learn scores: its trees predict a page's few dozen rows with a thread team, whose
start-up and barrier waits can dwarf the work itself on a busy machine. Packed trees run on one thread.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))  # common.py

from common import load_extractor  # noqa: E402

from noiseclf import Extractor  # noqa: E402
from noiseclf.features import block_features, block_path_ids, block_words  # noqa: E402
from noiseclf.segmentation import segment  # noqa: E402

TINY_PAGE = b"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Harbour wall repaired | Coast Post</title></head>
<body><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/about">About</a></li></ul></nav>
<article><h1>Harbour wall repaired</h1>
<p>Engineers finished repairing the harbour wall on Friday, a month ahead of the schedule agreed with the council.</p>
<p>The storm in January had opened a gap of several metres, and fishing boats had to shelter in the next bay.</p>
<p>The harbour master said the boats would be back at their usual moorings by the weekend.</p></article>
<footer><p>&copy; 2024 Coast Post</p><a href="/privacy">Privacy</a></footer></body></html>"""


def stages(extractor: Extractor, content: bytes) -> None:
    """The page's own work: segment, features, predict."""
    doc = segment(content, format="html")
    model, _ = extractor.model_for(doc.format)
    model.predict_proba(block_features(doc), words=block_words(doc), paths=block_path_ids(doc))


def measure(extractor: Extractor, content: bytes, calls: int) -> dict[str, list[float]]:
    """Milliseconds of each call of each variant, the variants called in turn so drift hits all alike."""
    variants: dict[str, Callable[[], object]] = {
        "stages": lambda: stages(extractor, content),
        "extract": lambda: extractor.extract(content, format="html"),
        "extract markdown": lambda: extractor.extract(content, format="html", output="markdown"),
        "extract html": lambda: extractor.extract(content, format="html", output="html"),
    }
    for fn in variants.values():  # warm up caches and lazy imports
        for _ in range(5):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(calls):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1000)
    return samples


def paired(samples: dict[str, list[float]], name: str) -> float:
    """Median over calls of (variant - stages) for calls made back to back."""
    return statistics.median(a - b for a, b in zip(samples[name], samples["stages"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a model file (default: the shipped models)")
    parser.add_argument("--calls", type=int, default=500, help="calls of each variant")
    parser.add_argument("--openmp-threads", type=int, help="limit OpenMP threads while timing (threadpoolctl)")
    args = parser.parse_args()
    if args.calls < 1:
        parser.error(f"--calls must be at least 1, not {args.calls}")
    if args.openmp_threads is not None and args.openmp_threads < 1:
        parser.error(f"--openmp-threads must be at least 1, not {args.openmp_threads}")
    extractor = load_extractor(parser, args.model, "html")
    limit: contextlib.AbstractContextManager = contextlib.nullcontext()
    if args.openmp_threads:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(limits=args.openmp_threads, user_api="openmp")
    with limit:
        samples = measure(extractor, TINY_PAGE, args.calls)
    blocks = len(segment(TINY_PAGE, format="html").blocks)
    print(f"tiny page: {len(TINY_PAGE)} bytes, {blocks} blocks; {args.calls} calls of each variant, in turn; "
          f"OpenMP threads: {args.openmp_threads or 'default'}")
    print(f"  {'':<18} {'median ms':>10} {'minus stages':>13}")
    for name, values in samples.items():
        extra = "" if name == "stages" else f"{paired(samples, name):+13.3f}"
        print(f"  {name:<18} {statistics.median(values):10.3f} {extra}")
    overhead = paired(samples, "extract")
    print(f"  overhead of extract beyond its stages: {overhead:+.3f} ms per call (target < 2 ms): "
          f"{'ok' if overhead < 2 else 'ABOVE TARGET'}")


if __name__ == "__main__":
    main()
