"""Per-call overhead of the API: Extractor.extract on a tiny page versus the sum of its stages.

The stages are the page's own work: segmentation, block features and the classifier's prediction.
Everything else `extract` does (checks, threshold, joining the text, page confidence, building the
Extraction) is overhead; the target is under 2 ms per call. Calls are timed in alternating rounds
so that drift on a shared machine hits both sides alike; the median and the fastest round per
call are printed (on a busy machine the fastest round is the better estimate of the cost).

    python benchmarks/bench_api.py                         # the shipped default model
    python benchmarks/bench_api.py --model some.joblib --calls 50 --rounds 40
    python benchmarks/bench_api.py --openmp-threads 1      # HistGradientBoosting predicting on one thread

The OpenMP setting matters on a busy machine: scikit-learn's trees predict a page's few dozen
rows with a thread team, whose start-up and barrier waits can dwarf the work itself.
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


def per_call_ms(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) * 1000 / calls


def measure(extractor: Extractor, content: bytes, calls: int, rounds: int) -> dict[str, tuple[float, float]]:
    """(median, fastest) per-call milliseconds of each variant over alternating rounds."""
    variants: dict[str, Callable[[], object]] = {
        "stages": lambda: stages(extractor, content),
        "extract": lambda: extractor.extract(content, format="html"),
        "extract markdown": lambda: extractor.extract(content, format="html", output="markdown"),
        "extract html": lambda: extractor.extract(content, format="html", output="html"),
    }
    for fn in variants.values():  # warm up caches and lazy imports
        per_call_ms(fn, 5)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            samples[name].append(per_call_ms(fn, calls))
    return {name: (statistics.median(values), min(values)) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a model file (default: the shipped models)")
    parser.add_argument("--calls", type=int, default=30, help="calls per round")
    parser.add_argument("--rounds", type=int, default=20, help="alternating rounds")
    parser.add_argument("--openmp-threads", type=int, help="limit OpenMP threads while timing (threadpoolctl)")
    args = parser.parse_args()
    extractor = Extractor.load(args.model)
    limit: contextlib.AbstractContextManager = contextlib.nullcontext()
    if args.openmp_threads:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(limits=args.openmp_threads, user_api="openmp")
    with limit:
        result = measure(extractor, TINY_PAGE, args.calls, args.rounds)
    blocks = len(segment(TINY_PAGE, format="html").blocks)
    print(f"tiny page: {len(TINY_PAGE)} bytes, {blocks} blocks; per-call ms over {args.rounds} rounds "
          f"of {args.calls} calls; OpenMP threads: {args.openmp_threads or 'default'}")
    print(f"  {'':<18} {'median':>8} {'fastest':>8}")
    for name, (median, fastest) in result.items():
        print(f"  {name:<18} {median:8.3f} {fastest:8.3f}")
    for i, label in enumerate(("median", "fastest")):
        overhead = result["extract"][i] - result["stages"][i]
        print(f"  overhead of extract beyond its stages ({label}): {overhead:+.3f} ms (target < 2 ms): "
              f"{'ok' if overhead < 2 else 'ABOVE TARGET'}")
    fastest = {name: values[1] for name, values in result.items()}
    print(f"  rendering (fastest): markdown {fastest['extract markdown'] - fastest['extract']:+.3f} ms, "
          f"html {fastest['extract html'] - fastest['extract']:+.3f} ms")

if __name__ == "__main__":
    main()
