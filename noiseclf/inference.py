"""Inference: load a model once, extract the main text of pages (HTML or plain text).

INTERFACE CONTRACT (bodies being written by the lead; signatures are stable):

    ex = Extractor.load()                 # default shipped models (html + text)
    ex = Extractor.load("path/model.joblib")
    result: Extraction = ex.extract(content, format="auto", source="name", url=None, with_blocks=False)
        content: str | bytes (bytes are decoded: BOM, meta charset, content sniffing)
        format: "auto" | "html" | "text"
        raises InputError (names `source`) on unreadable input.
    ex.extract_document(doc: Document, with_blocks=False) -> Extraction
"""

from __future__ import annotations

from .types import Document, Extraction


class Extractor:
    """Placeholder: the real body lands with the model."""

    @classmethod
    def load(cls, path: str | None = None) -> "Extractor":
        raise NotImplementedError

    def extract(self, content: str | bytes, *, format: str = "auto", source: str = "",
                url: str | None = None, with_blocks: bool = False) -> Extraction:
        raise NotImplementedError

    def extract_document(self, doc: Document, *, with_blocks: bool = False) -> Extraction:
        raise NotImplementedError
