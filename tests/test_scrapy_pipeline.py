"""A real Scrapy crawl of a local site through NoiseclfPipeline: items come out with the article, not the nav."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("scrapy")
pytestmark = pytest.mark.slow

SITE = Path(__file__).parent / "fixtures" / "site"
ROOT = Path(__file__).resolve().parents[1]
SPIDER = '''
import scrapy


class SiteSpider(scrapy.Spider):
    """Follows every link of the site and yields the pages that have an <article>."""

    name = "site"

    def __init__(self, start: str, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start]

    def parse(self, response):
        yield from response.follow_all(css="a", callback=self.parse)
        if response.css("article"):
            yield {"url": response.url, "html": response.text}
'''


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture()
def site_url():
    """The fixture site served on an ephemeral port of 127.0.0.1 for the test's duration."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _crawl(tmp_path: Path, start: str, settings: dict[str, str], source: str = SPIDER) -> list[dict]:
    spider = tmp_path / "spider.py"
    spider.write_text(source)
    items = tmp_path / "items.jsonl"
    pipelines = json.dumps({"noiseclf.integrations.scrapy.NoiseclfPipeline": 300})
    options = {"ITEM_PIPELINES": pipelines, "ROBOTSTXT_OBEY": "False", "TELNETCONSOLE_ENABLED": "False",
               "LOG_LEVEL": "WARNING", **settings}
    command = [sys.executable, "-m", "scrapy", "runspider", str(spider), "-a", f"start={start}",
               "-o", f"{items}:jsonlines"]
    for name, value in options.items():
        command += ["-s", f"{name}={value}"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return [json.loads(line) for line in items.read_text().splitlines()]


def test_crawl_adds_main_text_title_and_confidence(tmp_path: Path, site_url: str, tiny_model: Path) -> None:
    items = _crawl(tmp_path, site_url, {"NOISECLF_MODEL": str(tiny_model)})
    by_page = {item["url"].rsplit("/", 1)[1]: item for item in items}
    assert set(by_page) == {"bridge.html", "beekeepers.html"}
    bridge, bees = by_page["bridge.html"], by_page["beekeepers.html"]
    assert "packhorse bridge below the mill has reopened to walkers" in bridge["main_text"]
    assert "Parish councillors thanked the masons" in bridge["main_text"]
    assert "colonies came through the winter" in bees["main_text"]
    for item in items:
        assert "Front page" not in item["main_text"] and "Country life" not in item["main_text"]
        assert "All rights reserved" not in item["main_text"]
        assert 0.0 <= item["confidence"] <= 1.0
        assert "html" not in item  # dropped unless NOISECLF_KEEP_HTML
    assert bridge["title"] == "Old stone bridge reopens to walkers"


def test_prefix_output_and_keep_html_settings(tmp_path: Path, site_url: str, tiny_model: Path) -> None:
    items = _crawl(tmp_path, site_url, {"NOISECLF_MODEL": str(tiny_model), "NOISECLF_FIELD_PREFIX": "nc_",
                                        "NOISECLF_OUTPUT": "markdown", "NOISECLF_KEEP_HTML": "True"})
    assert len(items) == 2
    for item in items:
        assert item["html"].startswith("<!DOCTYPE html>")
        assert {"nc_main_text", "nc_title", "nc_confidence"} <= set(item)
        assert "\n\n" in item["nc_main_text"] and "Front page" not in item["nc_main_text"]


def test_a_dataclass_item_keeps_its_page_field_as_none(tmp_path: Path, site_url: str, tiny_model: Path) -> None:
    spider = SPIDER.replace("import scrapy\n", """import dataclasses

import scrapy


@dataclasses.dataclass
class Page:
    url: str
    html: str | None
    main_text: str = ""
    title: str = ""
    confidence: float = 0.0
""").replace('yield {"url": response.url, "html": response.text}', "yield Page(response.url, response.text)")
    # at DEBUG Scrapy logs each item's repr, which failed on a dataclass whose field had been deleted
    items = _crawl(tmp_path, site_url, {"NOISECLF_MODEL": str(tiny_model), "LOG_LEVEL": "DEBUG"}, spider)
    assert len(items) == 2
    for item in items:
        assert item["html"] is None and "Front page" not in item["main_text"] and item["title"]


@pytest.mark.parametrize("settings, message", [
    ({"NOISECLF_HTML_FIELD": "main_text"}, "NOISECLF_HTML_FIELD: 'main_text' is also a field noiseclf writes"),
    ({"NOISECLF_HTML_FIELD": "url"}, "NOISECLF_HTML_FIELD: 'url' is also a field noiseclf writes or the URL's"),
    ({"NOISECLF_HTML_FIELD": ""}, "NOISECLF_HTML_FIELD: a field name, not ''"),
    ({"NOISECLF_FIELD_PREFIX": 5}, "NOISECLF_FIELD_PREFIX: a field name, not 5"),
    ({"NOISECLF_URL_FIELD": "noiseclf_title", "NOISECLF_FIELD_PREFIX": "noiseclf_"},
     "NOISECLF_URL_FIELD: 'noiseclf_title' is also a field noiseclf writes"),
    ({"NOISECLF_KEEP_HTML": "yes"}, "NOISECLF_KEEP_HTML: Supported values for boolean settings"),
    ({"NOISECLF_THRESHOLD": "high"}, "NOISECLF_THRESHOLD must be a number from 0 to 1, not 'high'"),
    ({"NOISECLF_THRESHOLD": "2"}, r"NOISECLF_THRESHOLD must be a number from 0 to 1 \(a block's content probability\), not 2.0"),
    ({"NOISECLF_MAX_BYTES": "1e6"}, "NOISECLF_MAX_BYTES must be a whole number of bytes .0: no limit., not '1e6'"),
    ({"NOISECLF_MAX_BYTES": -5}, r"NOISECLF_MAX_BYTES must be a positive whole number of bytes \(or None\), not -5"),
    ({"NOISECLF_MAX_BYTES": 0.5}, "NOISECLF_MAX_BYTES must be a positive whole number of bytes .or None., not 0.5"),
    ({"NOISECLF_MAX_BYTES": 1.5}, "NOISECLF_MAX_BYTES must be a positive whole number of bytes .or None., not 1.5"),
    ({"NOISECLF_MAX_BYTES": False}, "NOISECLF_MAX_BYTES must be a positive whole number of bytes .or None., not False"),
    ({"NOISECLF_THRESHOLD": True}, r"NOISECLF_THRESHOLD must be a number from 0 to 1 \(a block's content probability\), not True"),
    ({"NOISECLF_ENCODING_FIELD": "title"}, "NOISECLF_ENCODING_FIELD: 'title' is also a field noiseclf writes"),
])
def test_settings_that_would_lose_fields_are_refused_naming_the_setting(tiny_model: Path, settings: dict,
                                                                        message: str) -> None:
    from scrapy.utils.test import get_crawler

    from noiseclf import InputError
    from noiseclf.integrations.scrapy import NoiseclfPipeline

    crawler = get_crawler(settings_dict={"NOISECLF_MODEL": str(tiny_model), **settings})
    with pytest.raises(InputError, match=message):
        NoiseclfPipeline.from_crawler(crawler)


def test_an_item_that_cannot_hold_the_fields_is_refused_before_extraction(tiny_model: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    import scrapy

    from noiseclf import ModelError
    from noiseclf.integrations.scrapy import NoiseclfPipeline

    class Bare(scrapy.Item):
        url = scrapy.Field()
        html = scrapy.Field()

    pipeline = NoiseclfPipeline(str(tiny_model))
    monkeypatch.setattr(pipeline, "extract", lambda page, url: pytest.fail("extracted a page it cannot store"))
    with pytest.raises(TypeError, match="Bare items do not declare the fields noiseclf adds: main_text, title, "
                                        "confidence"):
        asyncio.run(pipeline.process_item(Bare(url="https://ex.com/a", html="<p>x</p>")))
    with pytest.raises(ModelError, match="NOISECLF_MODEL: .*nowhere.joblib"):
        NoiseclfPipeline("nowhere.joblib")


def test_size_limit_and_threshold_settings(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from scrapy.exceptions import DropItem
    from scrapy.utils.test import get_crawler

    from noiseclf.integrations.scrapy import NoiseclfPipeline

    crawler = get_crawler(settings_dict={"NOISECLF_MODEL": str(tiny_model), "NOISECLF_MAX_BYTES": "2000"})
    pipeline = NoiseclfPipeline.from_crawler(crawler)
    assert pipeline.max_bytes == 2000  # pages under it are extracted: the crawl tests, under the default
    assert pipeline.extractor.threshold is None
    strict = get_crawler(settings_dict={"NOISECLF_MODEL": str(tiny_model), "NOISECLF_THRESHOLD": "0.9"})
    assert NoiseclfPipeline.from_crawler(strict).extractor.threshold_for("html") == 0.9
    monkeypatch.setattr(pipeline, "extract", lambda page, url: pytest.fail("read a page over the limit"))
    with pytest.raises(DropItem, match=r"https://ex.com/big: over NOISECLF_MAX_BYTES \(2,001 > 2,000\)"):
        asyncio.run(pipeline.process_item({"url": "https://ex.com/big", "html": b"x" * 2001}))
    unlimited = get_crawler(settings_dict={"NOISECLF_MODEL": str(tiny_model), "NOISECLF_MAX_BYTES": 0})
    assert NoiseclfPipeline.from_crawler(unlimited).max_bytes is None
    with pytest.raises(DropItem, match=r"https://ex.com/r: its 'html' field holds object, not str or bytes"):
        asyncio.run(pipeline.process_item({"url": "https://ex.com/r", "html": object()}))  # a response, say
    _in_this_thread(monkeypatch)
    with pytest.raises(DropItem, match=r"^noiseclf could not read https://ex.com/b: binary content"):
        asyncio.run(NoiseclfPipeline(str(tiny_model)).process_item({"url": "https://ex.com/b",
                                                                    "html": b"\x00\x01\x02PDF" * 20}))


def _in_this_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Extraction in the calling thread: outside a crawl no reactor runs the thread pool."""
    from twisted.internet.defer import maybeDeferred

    monkeypatch.setattr("noiseclf.integrations.scrapy.deferToThread", maybeDeferred)


def test_a_page_in_bytes_reads_with_the_item_s_charset_and_replaced_fields_are_said(
        tiny_model: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from noiseclf.integrations.scrapy import NoiseclfPipeline

    pipeline = NoiseclfPipeline(str(tiny_model))
    _in_this_thread(monkeypatch)
    body = ("<html><head><title>Opatření</title></head><body><p>Vláda schválila nová opatření pro "
            "dopravu ve městě a okolí, platná od příštího měsíce.</p></body></html>").encode("cp1250")
    items = [asyncio.run(pipeline.process_item({"url": f"https://ex.cz/{i}", "html": body, "encoding": "cp1250",
                                                "title": "the spider's title"})) for i in range(2)]
    assert [item["title"] for item in items] == ["Opatření", "Opatření"]  # not "Opatøení", cp1252's reading
    unknown = asyncio.run(pipeline.process_item({"url": "https://ex.cz/u", "html": body.decode("cp1250").encode(),
                                                 "encoding": "utf8mb4"}))  # a name Python lacks: sniffed
    assert unknown["title"] == "Opatření"
    said = [r.getMessage() for r in caplog.records if "replaces the item's own" in r.getMessage()]
    assert said == ["noiseclf replaces the item's own title (set NOISECLF_FIELD_PREFIX to keep both); said once a crawl"]
