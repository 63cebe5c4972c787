"""A fake extractor shared by the batch and Spark tests; a module of its own so workers unpickle it by name.

It keeps <p> texts (HTML) or paragraphs (text), and misbehaves on purpose when the page holds a
marker word: SLEEP hangs, BOOM raises, CRASH kills the worker process.
"""

from __future__ import annotations

import os
import re
import time

from noiseclf.segmentation import decode_html, sniff_format
from noiseclf.types import Block, Extraction, ModelError, ScoredBlock


class FakeExtractor:
    """With `sign_titles`, each title also names the model path and this object (to count loads)."""

    def __init__(self, model: str | None = None, sign_titles: bool = False) -> None:
        self.signature = f"|{model}|{os.getpid()}:{id(self)}" if sign_titles else ""

    def extract(self, content: str | bytes, *, format: str = "auto", source: str = "",
                url: str | None = None, with_blocks: bool = False, output: str = "text") -> Extraction:
        text = decode_html(content, source=source) if isinstance(content, bytes) else content
        if "SLEEP" in text:
            time.sleep(60)
        if "BOOM" in text:
            raise ValueError("parser exploded")
        if "CRASH" in text:
            os._exit(3)
        fmt = sniff_format(text) if format == "auto" else format
        if fmt == "html":
            title = re.search(r"<title>(.*?)</title>", text, re.S)
            pieces, tag = re.findall(r"<p>(.*?)</p>", text, re.S), "p"
        else:
            title, pieces, tag = None, [p.strip() for p in text.split("\n\n") if p.strip()], "line"
        blocks = tuple(ScoredBlock(Block(p, tag=tag), 0.9, True) for p in pieces)
        return Extraction((title.group(1) if title else "") + self.signature, "\n\n".join(pieces), fmt, 0.75,
                          blocks if with_blocks else ())


def failing_factory(model: str | None) -> FakeExtractor:
    raise ModelError(f"{model}: model file not found")
