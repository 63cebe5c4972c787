"""Spark integration: the mapInPandas function in-process, then in Spark's local mode, and the WARC example.

In-process tests call the partition function on pandas batches directly (pyspark must import, no
JVM starts). Spark tests (marked slow) run one local[1] session, skipped without pyspark or Java;
real models: conftest's tiny trained model, and the shipped default model when it loads. A fake extractor (regular expressions, no model)
stands in for the real one through `extractor_factory`; it is top-level in this module, which the
Spark workers import by name (the session puts tests/ on their PYTHONPATH).
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import noiseclf
from noiseclf.types import InputError, ModelError, NoiseclfError

from fakes import FakeExtractor, failing_factory

ROOT = Path(noiseclf.__file__).resolve().parents[1]
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


# ---------------------------------------------------------------------------------------------
# Hand-written pages


NAV = """<header class="site-header"><div class="logo"><a href="/">The Valley Courier</a></div>
<nav class="main-nav"><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/business">Business</a></li><li><a href="/weather">Weather</a></li>
<li><a href="/subscribe">Subscribe</a></li><li><a href="/login">Sign in</a></li></ul></nav></header>"""

FOOTER = """<footer class="site-footer"><ul><li><a href="/about">About us</a></li>
<li><a href="/contact">Contact</a></li><li><a href="/privacy">Privacy policy</a></li>
<li><a href="/terms">Terms of use</a></li></ul>
<p class="copyright">Copyright 2024 The Valley Courier. All rights reserved.</p></footer>"""

ARTICLE = f"""<!doctype html><html><head><meta charset="utf-8"><title>River bridge reopens</title></head>
<body>{NAV}
<main><article class="story"><h1>River bridge reopens after two years of repairs</h1>
<p>The old stone bridge over the river reopened to traffic on Monday morning after a repair programme
that took almost two years and cost the county more than four million pounds.</p>
<p>Engineers replaced the crumbling parapets, rebuilt two of the five arches from the foundations up
and laid a new waterproof deck beneath the road surface, which had been letting rain seep into the
masonry for decades.</p>
<p>Local businesses on both banks said the closure had cut their trade by a third, as shoppers who
once walked across the river in a few minutes faced a detour of more than six miles.</p>
<p>The council's head of highways said the bridge would now be inspected every six months, and that
a weight limit would stay in place to protect the restored arches from heavy lorries.</p>
</article></main>
<aside class="sidebar"><h3>Most read</h3><ul><li><a href="/a">Council tax to rise again</a></li>
<li><a href="/b">New cafe opens on the high street</a></li></ul></aside>
{FOOTER}</body></html>"""

RECIPE = f"""<!doctype html><html><head><title>Slow-cooked bean stew</title></head><body>{NAV}
<div id="content" class="post"><h1>A slow-cooked bean stew for cold evenings</h1>
<p>This stew takes almost no effort to prepare, and the long, gentle cooking turns a handful of dried
beans, onions and tomatoes into something rich and warming that tastes even better the next day.</p>
<p>Soak the beans overnight in plenty of cold water, then drain them, cover them with fresh water and
simmer them for about an hour until they are tender but still hold their shape in the pot.</p>
<p>Meanwhile soften the onions and garlic slowly in olive oil, add the tomatoes, a bay leaf and a
spoonful of smoked paprika, and let the sauce bubble quietly until it has thickened.</p>
</div>{FOOTER}</body></html>"""

NAV_WORDS = ("Subscribe", "Sign in", "Privacy policy", "Council tax to rise again")


def tiny(title: str, *paragraphs: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a></nav>{body}</body></html>"


# ---------------------------------------------------------------------------------------------
# A fake extractor; top-level so that Spark workers unpickle the factory by reference


LOADS: list[str | None] = []


def fake_factory(model: str | None) -> FakeExtractor:
    LOADS.append(model)
    return FakeExtractor(model, sign_titles=True)




def _default_model_loads() -> bool:
    try:
        from noiseclf.inference import Extractor

        Extractor.load()
        return True
    except ModelError:
        return False


def _java_problem() -> str:
    """Why Spark cannot start here (no working java, or one too old for this pyspark), else ""."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    try:
        done = subprocess.run([java or "java", "-version"], check=False, capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"no working Java runtime ({exc}); .ci/ensure-java.sh installs one"
    if done.returncode != 0:
        return "no working Java runtime (java -version fails); .ci/ensure-java.sh installs one"
    import pyspark

    found = re.search(r'version "(?:1\.)?(\d+)', done.stderr)
    if found and int(found.group(1)) < 17 and int(pyspark.__version__.split(".")[0]) >= 4:
        return f"pyspark {pyspark.__version__} needs Java 17 or later, found Java {found.group(1)}"
    return ""


def load_example() -> Any:
    """examples/spark_warc.py as the module `spark_warc` (the name Spark workers import it by)."""
    if "spark_warc" not in sys.modules:
        spec = importlib.util.spec_from_file_location("spark_warc", EXAMPLES / "spark_warc.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["spark_warc"] = module
        spec.loader.exec_module(module)
    return sys.modules["spark_warc"]


# ---------------------------------------------------------------------------------------------
# In-process: the partition function on pandas batches


@pytest.fixture
def spark_mod(monkeypatch: pytest.MonkeyPatch) -> Any:
    """noiseclf.integrations.spark with an empty extractor cache and load log."""
    pytest.importorskip("pyspark")
    pytest.importorskip("pandas")
    import noiseclf.integrations.spark as module

    monkeypatch.setattr(module, "_EXTRACTORS", {})
    LOADS.clear()
    return module


def run_partitions(fn: Any, *batches: Any) -> Any:
    import pandas as pd

    out = list(fn(iter(batches)))
    assert [len(o) for o in out] == [len(b) for b in batches]
    return pd.concat(out, ignore_index=True)


def test_partitions_give_one_row_per_input(spark_mod: Any) -> None:
    import pandas as pd

    fn = spark_mod.extract_partitions(extractor_factory=fake_factory, max_bytes=2000, format_col="fmt",
                                      charset_col="charset", status_col="status", error_col="error")
    first = pd.DataFrame({
        "id": [1, 2, 3, 4],
        "url": ["https://ex.com/a", None, "https://ex.com/c", "https://ex.com/d"],
        "html": [tiny("A", "Kept one.", "Kept two."), None, "", tiny("Boom", "BOOM")],
        "fmt": ["html", None, None, None],
        "charset": [None] * 4, "status": [None] * 4, "error": [None] * 4,
    })
    second = pd.DataFrame({
        "id": [5.0, 6.0, None],  # an integer column with a null, as pandas gives it
        "url": ["https://ex.com/e", "https://ex.com/f", "https://ex.com/g"],
        "html": [tiny("Latin", "caf\xe9").encode("latin-1"), "x" * 2001, None],
        "fmt": [None] * 3,
        "charset": ["iso-8859-1", None, None],
        "status": [None, None, "skipped"],
        "error": [None, None, "not HTML: image/png"],
    })
    out = run_partitions(fn, first, second)
    assert list(out.columns) == list(spark_mod.OUTPUT_COLUMNS)
    rows = out.astype(object).where(out.notna(), None).to_dict("records")
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5", "6", None]
    assert [r["status"] for r in rows] == ["ok", "error", "empty", "error", "ok", "error", "skipped"]
    assert rows[0]["text"] == "Kept one.\n\nKept two." and rows[0]["title"].startswith("A|None|")
    assert rows[0]["confidence"] == 0.75 and rows[0]["error"] is None
    assert rows[1] == {"id": "2", "url": None, "title": None, "text": None, "confidence": None,
                       "status": "error", "error": "row 2: no content (null html)"}
    assert rows[3]["error"] == "https://ex.com/d: ValueError: parser exploded"
    assert rows[4]["text"] == "caf\xe9"
    assert rows[5]["error"] == "https://ex.com/f: over max_bytes (2,001 > 2,000)"
    assert rows[6]["error"] == "not HTML: image/png" and rows[6]["text"] is None
    assert LOADS == [None]


def test_each_model_path_keeps_its_own_extractor(spark_mod: Any) -> None:
    import pandas as pd

    batch = pd.DataFrame({"html": [tiny("T", "Text.")]})  # no id or url column: both come out null
    a = spark_mod.extract_partitions("a.joblib", extractor_factory=fake_factory)
    b = spark_mod.extract_partitions("b.joblib", extractor_factory=fake_factory)
    titles = [run_partitions(fn, batch)["title"][0] for fn in (a, b, a, b)]
    assert LOADS == ["a.joblib", "b.joblib"]  # loaded once each, neither replacing the other
    assert titles[0] == titles[2] != titles[1] == titles[3]
    assert titles[0].startswith("T|a.joblib|") and titles[1].startswith("T|b.joblib|")
    assert run_partitions(a, batch)[["id", "url"]].isna().all().all()


def test_time_limit_and_failures(spark_mod: Any) -> None:
    import pandas as pd

    fn = spark_mod.extract_partitions(extractor_factory=fake_factory, timeout=0.5)
    start = time.perf_counter()
    out = run_partitions(fn, pd.DataFrame({"id": ["s"], "html": [tiny("S", "SLEEP")]}))
    assert out["status"][0] == "error" and out["error"][0] == "row s: timed out after 0.5 s"
    assert time.perf_counter() - start < 5

    broken = spark_mod.extract_partitions("gone.joblib", extractor_factory=failing_factory)
    with pytest.raises(ModelError, match="readable on every executor"):
        run_partitions(broken, pd.DataFrame({"html": ["<p>x</p>"]}))
    other = spark_mod.extract_partitions(content_col="body", extractor_factory=fake_factory)
    with pytest.raises(InputError, match="no column 'body'"):
        run_partitions(other, pd.DataFrame({"html": ["<p>x</p>"]}))
    for options, message in (({"keep_cols": ["url"]}, "clash"), ({"format": "pdf"}, "format"),
                             ({"keep_cols": ["Title", "size"]}, "'Title' would clash"),  # Spark ignores case
                             ({"keep_cols": ["a", "A"]}, "names a column twice"),
                             ({"keep_cols": "path"}, "a list of column names, not the string 'path'"),
                             ({"keep_cols": ["a", "a"]}, "names a column twice"),
                             ({"content_col": None}, "content_col must name the column"),
                             ({"max_bytes": "10"}, "max_bytes must be a positive whole number of bytes"),
                             ({"timeout": float("nan")}, "timeout must be positive and at most 1e\\+08 s"),
                             ({"timeout": 1e12}, "not 1000000000000.0"),
                             ({"threshold": 2}, "threshold must be a number from 0 to 1")):
        with pytest.raises(InputError, match=message):
            spark_mod.extract_partitions(**options)
    unlimited = spark_mod.extract_partitions(extractor_factory=fake_factory, timeout=float("inf"))
    assert unlimited.timeout is None
    assert run_partitions(unlimited, pd.DataFrame({"html": [tiny("T", "Text.")]}))["status"][0] == "ok"


def test_a_threshold_reaches_the_extractor_on_the_executors(spark_mod: Any, tiny_model: Path) -> None:
    import pandas as pd

    from noiseclf import Extractor

    page = (Path(__file__).parent / "fixtures" / "article.html").read_text(encoding="utf-8")
    batch = pd.DataFrame({"html": [page]})
    texts = [run_partitions(spark_mod.extract_partitions(str(tiny_model), threshold=t), batch)["text"][0]
             for t in (None, 0.0)]
    assert texts == [Extractor.load(tiny_model, threshold=t).extract(page).text for t in (None, 0.0)]
    assert len(texts[1]) > len(texts[0])  # every block, the navigation too
    fake = spark_mod.extract_partitions(extractor_factory=fake_factory, threshold=0.5)
    with pytest.raises(InputError, match="FakeExtractor extractors take no threshold"):
        run_partitions(fake, batch)


def test_rows_of_odd_values_each_get_a_clear_row(spark_mod: Any) -> None:
    import pandas as pd

    fn = spark_mod.extract_partitions(extractor_factory=fake_factory, format_col="fmt", charset_col="charset",
                                      status_col="status", error_col="error")
    batch = pd.DataFrame({
        "id": [b"r1", "r2", "r3", "r4", "r5"], "url": [b"https://ex.com/1", None, None, None, None],
        "html": [tiny("A", "One."), tiny("B", "Two."), tiny("C", "Three."), "<p>x</p>", tiny("E", "Five.")],
        "fmt": ["HTML", "pdf", None, None, " "], "charset": pd.Series([None, None, 7, None, None], dtype=object),
        "status": [None, None, None, "error", None], "error": [None, None, None, 5, None],
    })
    rows = run_partitions(fn, batch).to_dict("records")
    assert [(r["id"], r["status"]) for r in rows] == [("r1", "ok"), ("r2", "error"), ("r3", "error"),
                                                      ("r4", "error"), ("r5", "ok")]  # a blank format: auto
    assert rows[0]["url"] == "https://ex.com/1" and rows[0]["text"] == "One."
    assert rows[1]["error"] == "row r2: fmt is 'pdf', not auto, html or text"
    assert rows[2]["error"] == "row r3: charset holds int, not a charset name"
    assert rows[3]["error"] == "5"


def test_missing_pyspark_names_the_extra(spark_mod: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(NoiseclfError, match=re.escape("pip install noiseclf[spark]")):
        spark_mod.extract_partitions()


# ---------------------------------------------------------------------------------------------
# The example's WARC reading, without Spark


def write_warc(path: Path) -> None:
    """A WARC with warcinfo, an HTML response, its request, a PNG response and a gzipped HTML response."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    def http(ctype: str, extra: tuple[tuple[str, str], ...] = ()) -> StatusAndHeaders:
        return StatusAndHeaders("200 OK", [("Content-Type", ctype), *extra], protocol="HTTP/1.1")

    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        writer.write_record(writer.create_warcinfo_record("tiny.warc.gz", {"software": "test"}))
        page = tiny("Bridge", "Reopened.").encode()
        writer.write_record(writer.create_warc_record("https://ex.com/bridge", "response",
                                                      payload=io.BytesIO(page),
                                                      http_headers=http("text/html; charset=utf-8")))
        writer.write_record(writer.create_warc_record("https://ex.com/bridge", "request",
                                                      payload=io.BytesIO(b""),
                                                      http_headers=StatusAndHeaders("GET / HTTP/1.1", [],
                                                                                    is_http_request=True)))
        png = b"\x89PNG\r\n\x1a\n" + bytes(64)
        writer.write_record(writer.create_warc_record("https://ex.com/logo.png", "response",
                                                      payload=io.BytesIO(png),
                                                      http_headers=http("image/png")))
        zipped = gzip.compress(tiny("Stew", "Simmer.").encode("latin-1"))
        writer.write_record(writer.create_warc_record(
            "https://ex.com/stew", "response", payload=io.BytesIO(zipped),
            http_headers=http("text/html; charset=iso-8859-1", (("Content-Encoding", "gzip"),))))


def test_example_reads_warc_records(tmp_path: Path) -> None:
    pytest.importorskip("warcio")
    example = load_example()
    warc = tmp_path / "tiny.warc.gz"
    write_warc(warc)
    rows = list(example.warc_rows(str(warc)))
    assert [(r[2], r[4], r[5], r[6]) for r in rows] == [
        ("https://ex.com/bridge", "html", "utf-8", None),
        ("https://ex.com/logo.png", "auto", None, "skipped"),
        ("https://ex.com/stew", "html", "iso-8859-1", None),
    ]
    assert all(r[0] == str(warc) and r[1].startswith("<urn:uuid:") for r in rows)
    assert b"<p>Reopened.</p>" in rows[0][3] and b"<p>Simmer.</p>" in rows[2][3]  # gzip undone
    assert rows[1][3] == b"" and rows[1][7] == "not HTML: image/png"
    assert len(example.RECORD_SCHEMA.split(",")) == len(rows[0])

    missing = list(example.warc_rows(str(tmp_path / "gone.warc.gz")))
    assert len(missing) == 1 and missing[0][6] == "error" and "gone.warc.gz" in missing[0][7]


@pytest.mark.parametrize("args, message", [
    (["--max-bytes", "0"], "--max-bytes must be at least 1, not 0"),
    (["--output", "{existing}"], "exists; remove it or give --mode overwrite"),
    (["{folder}"], "not a WARC or WET file name"),
    (["s3://bucket/crawl.warc.gz"], "only local or mounted paths can be read"),
])
def test_example_refuses_bad_arguments_before_spark_starts(tmp_path: Path, args: list[str], message: str,
                                                           capsys: pytest.CaptureFixture,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    example = load_example()
    monkeypatch.setattr(example, "extract_warcs", lambda *a, **k: pytest.fail("Spark started"))
    existing = tmp_path / "out.parquet"
    existing.mkdir()
    fill = {"{existing}": str(existing), "{folder}": str(tmp_path)}
    given = [fill.get(a, a) for a in args]
    if "--output" not in given:
        given += ["--output", str(tmp_path / "new.parquet")]
    if not any(a.endswith(".warc.gz") or a == str(tmp_path) for a in given):
        given.append("file://" + str(tmp_path / "crawl.warc.gz"))
    with pytest.raises(SystemExit) as done:
        example.main(given)
    assert done.value.code == 2 and message in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# Spark, local mode


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local[1] session for the module: 512 MB, no UI, bound to 127.0.0.1."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install noiseclf[spark])")
    pytest.importorskip("pandas", reason="pandas is not installed (pip install noiseclf[spark])")
    problem = _java_problem()
    if problem:
        pytest.skip(problem)
    from pyspark.sql import SparkSession

    workers_path = os.pathsep.join([str(ROOT), str(Path(__file__).resolve().parent), str(EXAMPLES)])
    session = (SparkSession.builder.master("local[1]").appName("noiseclf-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.driver.memory", "512m")
               .config("spark.sql.shuffle.partitions", "1")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "2")
               .config("spark.python.worker.reuse", "true")
               .config("spark.pyspark.python", sys.executable)
               .config("spark.executorEnv.PYTHONPATH", workers_path)
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


PAGES = [("article", "https://ex.com/bridge", ARTICLE), ("recipe", "https://ex.com/stew", RECIPE),
         ("broken", "https://ex.com/broken", None), ("blank", None, "  ")]
PAGE_SCHEMA = "id string, url string, html string"


def pages_frame(spark: Any) -> Any:
    return spark.createDataFrame(PAGES, PAGE_SCHEMA)


@pytest.mark.slow
def test_spark_plumbing_with_fake_extractor(spark: Any) -> None:
    from noiseclf.integrations.spark import OUTPUT_SCHEMA, extract_partitions

    data = [(f"p{i}", f"https://ex.com/{i}", tiny(f"P{i}", f"Paragraph {i}.")) for i in range(5)]
    data += [("slow", "https://ex.com/slow", tiny("Slow", "SLEEP")), *PAGES]
    df = spark.createDataFrame(spark.sparkContext.parallelize(data, 3), PAGE_SCHEMA)
    fn = extract_partitions(extractor_factory=fake_factory, timeout=1.0)
    rows = {r["id"]: r for r in df.mapInPandas(fn, schema=OUTPUT_SCHEMA).collect()}
    assert len(rows) == len(data) == 10
    assert rows["broken"]["status"] == "error" and rows["broken"]["error"] == \
        "https://ex.com/broken: no content (null html)"
    assert rows["broken"]["confidence"] is None and rows["broken"]["text"] is None
    assert rows["blank"]["status"] == "empty"
    assert rows["slow"]["error"] == "https://ex.com/slow: timed out after 1 s"  # SIGALRM works in workers
    assert rows["p3"]["text"] == "Paragraph 3." and rows["p3"]["status"] == "ok"
    assert "rebuilt two of the five arches" in rows["article"]["text"] and "Subscribe" not in rows["article"]["text"]
    loaded = {r["title"].split("|", 1)[1] for r in rows.values() if r["title"]}
    assert len(loaded) == 1  # three partitions, one reused worker, one extractor loaded


@pytest.mark.slow
def test_spark_extract_dataframe_keeps_columns(spark: Any, tmp_path: Path) -> None:
    from noiseclf.integrations.spark import extract_dataframe

    df = pages_frame(spark).selectExpr("id", "url", "html", "length(html) AS size",
                                       "named_struct('a b', 1, 'c', url) AS `the meta`")
    out = extract_dataframe(df, extractor_factory=fake_factory, keep_cols=["size", "the meta"])
    assert out.columns == ["size", "the meta", "id", "url", "title", "text", "confidence", "status", "error"]
    assert dict(out.dtypes)["size"] == "int" and dict(out.dtypes)["the meta"] == "struct<a b:int,c:string>"
    rows = {r["id"]: r for r in out.collect()}
    assert rows["recipe"]["size"] == len(RECIPE) and rows["broken"]["size"] is None
    assert rows["recipe"]["the meta"]["a b"] == 1 and rows["recipe"]["the meta"]["c"] == "https://ex.com/stew"
    with pytest.raises(InputError, match="no column 'body'"):
        extract_dataframe(df, content_col="body")


@pytest.mark.slow
@pytest.mark.skipif("not _default_model_loads()", reason="the default model cannot load yet")
def test_spark_default_model_keeps_article_drops_navigation(spark: Any) -> None:
    check_real_extraction(spark, None)


@pytest.mark.slow
def test_spark_trained_model_keeps_article_drops_navigation(spark: Any, tiny_model: Path) -> None:
    check_real_extraction(spark, str(tiny_model))  # conftest's model, trained on tests/fixtures pages


def check_real_extraction(spark: Any, model_path: str | None) -> None:
    """Article and recipe text kept, navigation and footer dropped, the broken row an error row."""
    from noiseclf.integrations.spark import extract_dataframe

    rows = {r["id"]: r for r in extract_dataframe(pages_frame(spark), model_path=model_path).collect()}
    assert sorted(rows) == ["article", "blank", "broken", "recipe"]
    article, recipe = rows["article"], rows["recipe"]
    assert article["status"] == recipe["status"] == "ok"
    assert "rebuilt two of the five arches" in article["text"] and "Soak the beans overnight" in recipe["text"]
    for text in (article["text"], recipe["text"]):
        assert not any(word in text for word in NAV_WORDS)
    assert 0.0 <= article["confidence"] <= 1.0
    assert rows["broken"]["status"] == "error" and "no content" in rows["broken"]["error"]
    assert rows["blank"]["status"] == "empty"


@pytest.mark.slow
def test_spark_example_over_a_warc(spark: Any, tmp_path: Path) -> None:
    pytest.importorskip("warcio")
    example = load_example()
    warc = tmp_path / "tiny.warc.gz"
    write_warc(warc)
    out = example.extract_warcs(spark, [str(warc), str(tmp_path / "gone.warc")],
                                extractor_factory=fake_factory)
    out.write.parquet(str(tmp_path / "out.parquet"))
    rows = sorted(spark.read.parquet(str(tmp_path / "out.parquet")).collect(),
                  key=lambda r: (r["path"], r["url"] or ""))
    assert [(Path(r["path"]).name, r["url"], r["status"]) for r in rows] == [
        ("gone.warc", None, "error"),
        ("tiny.warc.gz", "https://ex.com/bridge", "ok"),
        ("tiny.warc.gz", "https://ex.com/logo.png", "skipped"),
        ("tiny.warc.gz", "https://ex.com/stew", "ok"),
    ]
    assert rows[1]["text"] == "Reopened." and rows[3]["text"] == "Simmer."
    assert rows[1]["id"].startswith("<urn:uuid:")
