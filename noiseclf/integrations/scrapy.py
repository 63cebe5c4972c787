"""Scrapy item pipeline: the main text, title and confidence of every scraped page (`pip install noiseclf[scrapy]`).

Item pipelines never see the response, so the spider puts the page into the item::

    def parse(self, response):
        yield {"url": response.url, "html": response.text}

and the project enables the pipeline::

    ITEM_PIPELINES = {"noiseclf.integrations.scrapy.NoiseclfPipeline": 300}

The pipeline then adds `main_text`, `title` and `confidence` (see `noiseclf.Extraction`) and, unless
told to keep it, removes the raw page (sets it to None in a dataclass or attrs item). Items are dicts or any item type itemadapter supports (an
`scrapy.Item` must declare the added fields). An item without the page field passes untouched; a
page that cannot be read (binary content, say) drops the item with DropItem naming its URL.

Settings:
    NOISECLF_MODEL         a model file; default: the shipped models
    NOISECLF_OUTPUT        how `main_text` is rendered: text (default), markdown or html
    NOISECLF_FIELD_PREFIX  put before the added field names (default ""; e.g. "noiseclf_")
    NOISECLF_HTML_FIELD    the item field holding the page, str or bytes (default "html")
    NOISECLF_URL_FIELD     the item field holding the URL, used in messages (default "url")
    NOISECLF_KEEP_HTML     keep the page field in the item (default False)

The model loads once, when the crawler builds the pipeline. Extraction runs in the reactor's
thread pool (REACTOR_THREADPOOL_MAXSIZE), so the crawl keeps downloading meanwhile; an Extractor
keeps no per-page state and is shared by those threads.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from ..inference import Extractor
from ..render import check_output
from ..types import Extraction, NoiseclfError


class NoiseclfPipeline:
    """Adds main_text, title and confidence to items that carry a page."""

    def __init__(self, model: str | None = None, *, output: str = "text", prefix: str = "",
                 html_field: str = "html", url_field: str = "url", keep_html: bool = False):
        check_output(output, "NOISECLF_OUTPUT")
        self.extractor = Extractor.load(model or None)
        self.output = output
        self.prefix = prefix
        self.html_field = html_field
        self.url_field = url_field
        self.keep_html = keep_html

    @classmethod
    def from_crawler(cls, crawler: Any) -> NoiseclfPipeline:
        """Build the pipeline from the NOISECLF_* settings."""
        s = crawler.settings
        return cls(s.get("NOISECLF_MODEL"), output=s.get("NOISECLF_OUTPUT", "text"),
                   prefix=s.get("NOISECLF_FIELD_PREFIX", ""), html_field=s.get("NOISECLF_HTML_FIELD", "html"),
                   url_field=s.get("NOISECLF_URL_FIELD", "url"), keep_html=s.getbool("NOISECLF_KEEP_HTML", False))

    def extract(self, page: str | bytes, url: str) -> Extraction:
        """Extract one page (runs in a worker thread)."""
        return self.extractor.extract(page, format="auto", url=url, output=self.output)

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        """Extract the item's page off the reactor thread and add the fields."""
        adapter = ItemAdapter(item)
        page = adapter.get(self.html_field)
        if page is None:
            return item
        url = str(adapter.get(self.url_field) or "")
        try:
            result = await maybe_deferred_to_future(deferToThread(self.extract, page, url))
        except NoiseclfError as exc:
            raise DropItem(f"noiseclf could not read {url or 'the page'}: {exc}") from exc
        adapter[self.prefix + "main_text"] = result.text
        adapter[self.prefix + "title"] = result.title
        adapter[self.prefix + "confidence"] = result.confidence
        if not self.keep_html:  # a dataclass or attrs item cannot lose a field: its page becomes None
            if isinstance(item, MutableMapping):
                del adapter[self.html_field]
            else:
                adapter[self.html_field] = None
        return item
