"""noiseclf: main-content extraction as a trained block classifier (content versus boilerplate)."""

from ._version import __version__
from .inference import Extractor, extract
from .types import (
    Block, BlockClass, Document, Extraction, InputError, ModelError, NoiseclfError, ScoredBlock,
)

__all__ = [
    "Block", "BlockClass", "Document", "Extraction", "Extractor", "InputError", "ModelError",
    "NoiseclfError", "ScoredBlock", "extract", "__version__",
]
