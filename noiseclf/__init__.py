"""noiseclf: main-content extraction as a trained block classifier (content versus boilerplate)."""

__version__ = "0.1.0"

from .inference import Extractor, extract  # noqa: E402
from .types import (  # noqa: E402
    Block, BlockClass, Document, Extraction, InputError, ModelError, NoiseclfError, ScoredBlock,
)

__all__ = [
    "Block", "BlockClass", "Document", "Extraction", "Extractor", "InputError", "ModelError",
    "NoiseclfError", "ScoredBlock", "extract", "__version__",
]
