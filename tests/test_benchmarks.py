"""The benchmark scripts run end to end on a few pages and refuse bad arguments: their figures are only
worth what the scripts measure (a fake extractor that failed every record was once timed as a page)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from noiseclf import corpora

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def bench(script: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


@pytest.mark.parametrize("script, args, message", [
    ("bench_batch.py", ["--pages", "0"], "--pages must be at least 1, not 0"),
    ("bench_batch.py", ["--rss-every", "0"], "--rss-every must be at least 1, not 0"),
    ("bench_speed.py", ["--limit", "0"], "--limit must be at least 1, not 0"),
    ("bench_speed.py", ["--corpus", "bogus"], "unknown corpus 'bogus'"),
    ("bench_speed.py", ["--model", "nowhere.joblib"], "nowhere.joblib: model file not found"),
    ("bench_api.py", ["--calls", "0"], "--calls must be at least 1, not 0"),
])
def test_bad_arguments_are_refused_without_a_traceback(script: str, args: list[str], message: str) -> None:
    done = bench(script, *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_a_model_of_the_other_format_is_refused_not_swapped_for_the_shipped_one(tiny_model: Path) -> None:
    done = bench("bench_speed.py", "--format", "text", "--model", str(tiny_model))
    assert done.returncode == 2 and "is a html model; text input is timed with a text model" in done.stderr


def test_api_overhead_runs_on_the_shipped_model() -> None:
    done = bench("bench_api.py", "--calls", "3")
    assert done.returncode == 0, done.stderr
    assert "overhead of extract beyond its stages" in done.stdout


@pytest.mark.skipif(not corpora.corpus_available("wcxb"), reason="WCXB not found")
def test_batch_and_speed_benchmarks_time_real_rows(tmp_path: Path) -> None:
    batch = bench("bench_batch.py", "--fake", "--pages", "4", "--parts", "cpu", "rss", "--rss-records", "8",
                  "--rss-every", "2", "--workdir", str(tmp_path))
    assert batch.returncode == 0, batch.stderr
    assert "cpu: noiseclf     4 pages" in batch.stdout and "error rows" not in batch.stdout
    assert "rss: worker" in batch.stdout and "lower --rss-every" not in batch.stdout
    speed = bench("bench_speed.py", "--limit", "3", "--no-peer")
    assert speed.returncode == 0, speed.stderr
    assert speed.stdout.startswith("3 pages of wcxb:test (html)")
