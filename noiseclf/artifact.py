"""A model on disk: the joblib file, its packed trees (`.trees.npz`) and the manifest beside them.

The manifest records versions, feature names, the features of a reference page (`probe`), training
data, validation scores and the sha256 of both files; reading it verifies the files *before* anything
is unpickled or loaded, and refuses a model this code cannot use, saying why: one whose features this
code would compute otherwise. Nothing here imports scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import get_args, get_origin, get_type_hints

import numpy as np

from ._version import __version__
from .features import FEATURE_NAMES
from .probe import PROBE_LENGTH, probe_differences
from .types import Format, ModelError

MODEL_FORMAT = 3  # bump when the artifact layout changes (2: a page-type specialist and its router; 3: feature_probe)


def installed_sklearn() -> str:
    """scikit-learn's installed version, read from the package metadata (no import)."""
    try:
        return version("scikit-learn")
    except PackageNotFoundError:
        return "not installed"


@dataclass
class Manifest:
    """What a model file is: versions, features, training data and validation scores.

    The defaults describe a model this code makes; a manifest read from a file must state every field."""

    format: str  # "html" or "text": the input the model classifies
    noiseclf_version: str = __version__
    model_format: int = MODEL_FORMAT
    sklearn_version: str = field(default_factory=installed_sklearn)
    numpy_version: str = np.__version__
    python_version: str = platform.python_version()
    feature_names: list[str] = field(default_factory=lambda: list(FEATURE_NAMES))
    feature_probe: list[float] = field(default_factory=list)  # `probe.feature_probe` of the code it trained on
    threshold: float = 0.5
    training_data: list[dict] = field(default_factory=list)  # corpus, split, pages, blocks, sha256; or pages_file
    validation: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    model_sha256: str = ""
    trees_sha256: str = ""  # of the packed trees inference reads; empty when the model cannot be packed
    created: str = ""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_path(model_path: Path) -> Path:
    return model_path.with_suffix(".manifest.json")


def trees_path(model_path: Path) -> Path:
    return model_path.with_suffix(".trees.npz")


def _minor(text: str) -> str:
    return ".".join(text.split(".")[:2])


def check_manifest(manifest: Manifest, path: Path, *, unpickling: bool = True) -> None:
    """Refuse a model this code cannot use; the message says why and what to do.

    The scikit-learn version matters only when its objects are unpickled, not for packed trees."""
    problems = []
    if manifest.model_format != MODEL_FORMAT:
        problems.append(f"artifact format {manifest.model_format}, this noiseclf reads {MODEL_FORMAT}")
    if list(manifest.feature_names) != list(FEATURE_NAMES):
        problems.append(f"its {len(manifest.feature_names)} features differ from this noiseclf's "
                        f"{len(FEATURE_NAMES)}{_first_difference(manifest.feature_names)} (made by noiseclf "
                        f"{manifest.noiseclf_version})")
    else:
        problems.extend(_probe_problem(manifest))
    if unpickling and _minor(manifest.sklearn_version) != _minor(installed_sklearn()):
        problems.append(f"trained with scikit-learn {manifest.sklearn_version}, installed is {installed_sklearn()}")
    if problems:
        raise ModelError(f"{path}: incompatible model: " + "; ".join(problems)
                         + ". Retrain it with `noiseclf train` or install the matching versions.")


def _first_difference(names: Sequence[str]) -> str:
    """Where a model's feature names first part from this code's: ", from #12: 'x' for 'y'"."""
    ours = list(FEATURE_NAMES)
    at = next((i for i, (a, b) in enumerate(zip(names, ours)) if a != b), min(len(names), len(ours)))
    theirs = repr(names[at]) if at < len(names) else "nothing"
    return f", from #{at}: {theirs} where this code has {ours[at]!r}" if at < len(ours) else ""


def _probe_problem(manifest: Manifest) -> list[str]:
    """Why the manifest's reference-page features are not this code's, if they are not."""
    if len(manifest.feature_probe) != PROBE_LENGTH:
        return [f"its feature_probe holds {len(manifest.feature_probe)} values, this noiseclf's {PROBE_LENGTH}"]
    differs = probe_differences(manifest.feature_probe, manifest.format)
    if not differs:
        return []
    shown = ", ".join(differs[:5]) + (f" and {len(differs) - 5} more" if len(differs) > 5 else "")
    return [f"it was trained on other feature code: on the reference page this code computes other values "
            f"of {shown}"]


def check_threshold(manifest: Manifest, threshold: float, path: Path) -> None:
    """Refuse a manifest whose threshold is not the one the model runs with (an edited manifest):
    `noiseclf info` and `Extractor.manifests` would show a figure that does not apply."""
    if manifest.threshold != threshold:
        raise ModelError(f"{manifest_path(path)}: threshold {manifest.threshold} differs from the model's own "
                         f"{threshold}: the manifest was modified; refusing to load the model")


def _verify(path: Path, expected: str) -> None:
    actual = file_sha256(path)
    if actual != expected:
        raise ModelError(f"{path}: sha256 {actual[:12]}… does not match its manifest "
                         f"({expected[:12]}…): the file was modified; refusing to load it")


def _holds(value: object, hint: type) -> bool:
    """Whether a JSON value fits a Manifest field's type (a float field takes an int; a bool is no number)."""
    kind, items = get_origin(hint) or hint, get_args(hint)
    if isinstance(value, bool) and kind is not bool:
        return False
    if not isinstance(value, (int, float) if kind is float else kind):
        return False
    return not items or all(_holds(item, items[0]) for item in value)


def _manifest_from(raw: object, mpath: Path) -> Manifest:
    """The Manifest a manifest file's JSON states; ModelError names the file and the first missing, mistyped
    or unknown field, so no field falls back to this code's own value."""
    if not isinstance(raw, dict):
        raise ModelError(f"{mpath}: unreadable manifest: not a JSON object")
    if isinstance(raw.get("model_format"), int) and raw["model_format"] != MODEL_FORMAT:
        raise ModelError(f"{mpath}: artifact format {raw['model_format']}, this noiseclf reads {MODEL_FORMAT}; "
                         "retrain the model with `noiseclf train` or install the noiseclf that made it")
    hints = get_type_hints(Manifest)
    for name, hint in hints.items():
        if name not in raw:
            raise ModelError(f"{mpath}: manifest has no {name!r} field; refusing to load the model")
        if not _holds(raw[name], hint):
            expected = hint if get_origin(hint) else hint.__name__
            raise ModelError(f"{mpath}: manifest field {name!r} is {raw[name]!r}, expected {expected}; "
                             "refusing to load the model")
    unknown = sorted(raw.keys() - hints.keys())
    if unknown:
        raise ModelError(f"{mpath}: manifest field {unknown[0]!r} is unknown to this noiseclf; "
                         "refusing to load the model")
    if raw["format"] not in get_args(Format):
        raise ModelError(f"{mpath}: manifest format {raw['format']!r} is neither html nor text; "
                         "refusing to load the model")
    return Manifest(**raw)


def read_manifest(path: str | Path) -> Manifest:
    """The manifest of the model at `path`, after checking that the model file matches it."""
    path = Path(path)
    if path.is_dir():
        raise ModelError(f"{path}: a folder, not a model file")
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    mpath = manifest_path(path)
    if not mpath.is_file():
        beside = next((kind for kind in (".trees.npz", ".manifest.json") if path.name.endswith(kind)), None)
        if beside:  # one of a model's other two files
            raise ModelError(f"{path}: a model's {beside} file; name the model's .joblib file beside it")
        raise ModelError(f"{path}: manifest {mpath.name} not found beside the model; refusing to load it")
    try:
        raw = json.loads(mpath.read_text())
    except ValueError as exc:
        raise ModelError(f"{mpath}: unreadable manifest: {exc}") from exc
    manifest = _manifest_from(raw, mpath)
    _verify(path, manifest.model_sha256)
    return manifest


def packed_trees_file(path: str | Path, manifest: Manifest) -> Path | None:
    """The model's verified packed-trees file, or None when it has none (then only the joblib file serves)."""
    tpath = trees_path(Path(path))
    if not manifest.trees_sha256 or not tpath.is_file():
        return None
    _verify(tpath, manifest.trees_sha256)
    return tpath
