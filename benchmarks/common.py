"""What the benchmark scripts share: loading the model they time, refusing one that would not be timed."""

from __future__ import annotations

import argparse
from pathlib import Path

from noiseclf.artifact import read_manifest
from noiseclf.inference import Extractor
from noiseclf.types import NoiseclfError


def load_extractor(parser: argparse.ArgumentParser, model: str | Path | None, fmt: str) -> Extractor:
    """The shipped models, or the model file `model` with the shipped model of the other format; the parser's
    error for a file that does not load or is a model of the other format, which `fmt` input would not use."""
    try:
        if model is not None and (found := read_manifest(model).format) != fmt:
            parser.error(f"--model {model} is a {found} model; {fmt} input is timed with a {fmt} model")
        return Extractor.load(model) if fmt == "html" or model is None else Extractor.load(text_path=model)
    except NoiseclfError as exc:
        parser.error(str(exc))
