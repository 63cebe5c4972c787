"""Scrapy item pipeline: the main text, title and confidence of every scraped page (`pip install noiseclf[scrapy]`).

Item pipelines never see the response, so the spider puts the page into the item::

    def parse(self, response):
        yield {"url": response.url, "html": response.text}

and the project enables the pipeline::

    ITEM_PIPELINES = {"noiseclf.integrations.scrapy.NoiseclfPipeline": 300}

The pipeline then adds `main_text`, `title` and `confidence` (see `noiseclf.Extraction`) and, unless
told to keep it, removes the raw page (sets it to None in a dataclass or attrs item). Items are dicts or any item type itemadapter supports (an
`scrapy.Item` must declare the added fields). An item without the page field passes untouched; a
page that cannot be read (binary content, say) or is over NOISECLF_MAX_BYTES drops the item with
DropItem naming its URL.

Settings:
    NOISECLF_MODEL         a model file; default: the shipped models
    NOISECLF_OUTPUT        how `main_text` is rendered: text (default), markdown or html
    NOISECLF_FIELD_PREFIX  put before the added field names (default ""; e.g. "noiseclf_")
    NOISECLF_HTML_FIELD    the item field holding the page, str or bytes (default "html")
    NOISECLF_ENCODING_FIELD  the item field holding the charset of a page given as bytes, such as
                           `response.encoding` (default "encoding"; where it is absent, the charset is
                           read from the page, as for files)
    NOISECLF_URL_FIELD     the item field holding the URL, used in messages (default "url")
    NOISECLF_KEEP_HTML     keep the page field in the item (default False)
    NOISECLF_THRESHOLD     a block's content probability needed to keep it, 0 to 1 (default: the
                           model's own; higher for precision, lower for recall)
    NOISECLF_MAX_BYTES     a page longer than this (bytes, or characters of a str) is dropped unread,
                           as `noiseclf extract --max-bytes` does (default 10000000; 0: no limit)

A field noiseclf adds that the item already holds (a spider's own `title`) is replaced, with one warning a
crawl; NOISECLF_FIELD_PREFIX keeps both.

The model loads once, when the crawler builds the pipeline. Extraction runs in the reactor's
thread pool (REACTOR_THREADPOOL_MAXSIZE), so the crawl keeps downloading meanwhile; an Extractor
keeps no per-page state and is shared by those threads.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import MutableMapping
from typing import Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from ..batch import checked_limits
from ..inference import Extractor, checked_threshold
from ..render import check_output
from ..types import MAX_BYTES, Extraction, InputError, ModelError, NoiseclfError

_ADDED = ("main_text", "title", "confidence")
logger = logging.getLogger(__name__)


def _check_fields(prefix: object, html_field: object, url_field: object, encoding_field: object = "encoding") -> None:
    """Refuse field settings that are no names, or under which the added fields would take the page's, the
    URL's or the charset's place (the page field is removed after extraction: `main_text` there would go with
    it)."""
    for setting, value in (("NOISECLF_FIELD_PREFIX", prefix), ("NOISECLF_HTML_FIELD", html_field),
                           ("NOISECLF_URL_FIELD", url_field), ("NOISECLF_ENCODING_FIELD", encoding_field)):
        if not isinstance(value, str) or (not value and setting != "NOISECLF_FIELD_PREFIX"):
            raise InputError(f"{setting}: a field name, not {value!r}")
    added = {prefix + name for name in _ADDED}  # type: ignore[operator]
    if html_field in added | {url_field, encoding_field}:
        raise InputError(f"NOISECLF_HTML_FIELD: {html_field!r} is also a field noiseclf writes or the URL's "
                         f"({', '.join(sorted(added))}, NOISECLF_URL_FIELD {url_field!r}) or the charset's")
    for setting, value in (("NOISECLF_URL_FIELD", url_field), ("NOISECLF_ENCODING_FIELD", encoding_field)):
        if value in added:
            raise InputError(f"{setting}: {value!r} is also a field noiseclf writes")


def _charset(value: object) -> str | None:
    """An item's charset field as a codec name; None (read the charset from the page) for anything else,
    such as a name Python does not know ("utf8mb4")."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return codecs.lookup(value.strip()).name
    except LookupError:
        return None


def _max_bytes(value: object) -> object:
    """NOISECLF_MAX_BYTES as set (a number, or its digits as a string): an int, None for 0 (no limit). A string
    of anything else is refused; another value that is no whole number is returned for `checked_limits` to
    refuse by name."""
    if isinstance(value, str):
        if not value.strip().isdigit():
            raise InputError(f"NOISECLF_MAX_BYTES must be a whole number of bytes (0: no limit), not {value!r}")
        value = int(value.strip())
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    return None if type(value) is int and value == 0 else value


def _threshold(value: object) -> object:
    """NOISECLF_THRESHOLD as set: a number, or a number's string; None for the model's own."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise InputError(f"NOISECLF_THRESHOLD must be a number from 0 to 1, not {value!r}") from None
    return value


class NoiseclfPipeline:
    """Adds main_text, title and confidence to items that carry a page."""

    def __init__(self, model: str | None = None, *, output: str = "text", prefix: str = "",
                 html_field: str = "html", url_field: str = "url", keep_html: bool = False,
                 max_bytes: int | None = MAX_BYTES, threshold: float | None = None, encoding_field: str = "encoding"):
        check_output(output, "NOISECLF_OUTPUT")
        _check_fields(prefix, html_field, url_field, encoding_field)
        checked_limits(max_bytes, None, "NOISECLF_MAX_BYTES")
        try:
            self.extractor = Extractor.load(model or None, threshold=checked_threshold(threshold, "NOISECLF_THRESHOLD"))
        except ModelError as exc:
            raise ModelError(f"NOISECLF_MODEL: {exc}") from None
        self.output = output
        self.prefix = prefix
        self.html_field = html_field
        self.url_field = url_field
        self.keep_html = keep_html
        self.max_bytes = max_bytes
        self.encoding_field = encoding_field
        self._warned = False  # a replaced field of the spider's own is said once a crawl

    @classmethod
    def from_crawler(cls, crawler: Any) -> NoiseclfPipeline:
        """Build the pipeline from the NOISECLF_* settings."""
        s = crawler.settings
        try:
            keep_html = s.getbool("NOISECLF_KEEP_HTML", False)
        except ValueError as exc:
            raise InputError(f"NOISECLF_KEEP_HTML: {exc}") from None
        return cls(s.get("NOISECLF_MODEL"), output=s.get("NOISECLF_OUTPUT", "text"),
                   prefix=s.get("NOISECLF_FIELD_PREFIX", ""), html_field=s.get("NOISECLF_HTML_FIELD", "html"),
                   url_field=s.get("NOISECLF_URL_FIELD", "url"), keep_html=keep_html,
                   max_bytes=_max_bytes(s.get("NOISECLF_MAX_BYTES", MAX_BYTES)),  # type: ignore[arg-type]
                   threshold=_threshold(s.get("NOISECLF_THRESHOLD")),  # type: ignore[arg-type]
                   encoding_field=s.get("NOISECLF_ENCODING_FIELD", "encoding"))

    @property
    def added(self) -> tuple[str, str, str]:
        """The names of the fields the pipeline adds."""
        return tuple(self.prefix + name for name in _ADDED)  # type: ignore[return-value]

    def extract(self, page: str | bytes, url: str, encoding: str | None = None) -> Extraction:
        """Extract one page (runs in a worker thread); `encoding`: the charset of a page given as bytes."""
        return self.extractor.extract(page, format="auto", url=url, output=self.output, encoding=encoding)

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        """Extract the item's page off the reactor thread and add the fields."""
        adapter = ItemAdapter(item)
        page = adapter.get(self.html_field)
        if page is None:
            return item
        declared = ItemAdapter.get_field_names_from_class(type(item))  # None: a dict, which takes any field
        undeclared = [name for name in self.added if declared is not None and name not in declared]
        if undeclared:  # before the work, which could not be stored
            raise TypeError(f"{type(item).__name__} items do not declare the fields noiseclf adds: "
                            f"{', '.join(undeclared)} (declare them, or set NOISECLF_FIELD_PREFIX)")
        url = str(adapter.get(self.url_field) or "")
        if not isinstance(page, (str, bytes, bytearray, memoryview)):
            raise DropItem(f"noiseclf could not read {url or 'the page'}: its {self.html_field!r} field holds "
                           f"{type(page).__name__}, not str or bytes (response.text or response.body)")
        if self.max_bytes and len(page) > self.max_bytes:
            raise DropItem(f"noiseclf could not read {url or 'the page'}: over NOISECLF_MAX_BYTES "
                           f"({len(page):,} > {self.max_bytes:,})")
        charset = None if isinstance(page, str) else _charset(adapter.get(self.encoding_field))
        try:
            result = await maybe_deferred_to_future(deferToThread(self.extract, page, url, charset))
        except NoiseclfError as exc:
            named = str(exc) if url and str(exc).startswith(url) else f"{url or 'the page'}: {exc}"
            raise DropItem(f"noiseclf could not read {named}") from exc
        self._warn_replaced(adapter)
        for name, value in zip(self.added, (result.text, result.title, result.confidence)):
            adapter[name] = value
        if not self.keep_html:  # a dataclass or attrs item cannot lose a field: its page becomes None
            if isinstance(item, MutableMapping):
                del adapter[self.html_field]
            else:
                adapter[self.html_field] = None
        return item

    def _warn_replaced(self, adapter: ItemAdapter) -> None:
        """Warn, once a crawl, that an added field replaces a value the spider put there."""
        held = [name for name in self.added if name in adapter and adapter.get(name)]
        if held and not self._warned:
            self._warned = True
            logger.warning("noiseclf replaces the item's own %s (set NOISECLF_FIELD_PREFIX to keep both); "
                           "said once a crawl", ", ".join(held))
