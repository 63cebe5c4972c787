"""Boosted trees as generated C: each tree a nest of `if`s with its thresholds and leaf values written in.

`setup.py` loads this file by path (it needs NumPy only, not the package) and writes
`noiseclf/_shipped_trees.pyx` and its C header from the shipped models' `artifacts/*.trees.npz`, one C
function a tree, which setuptools compiles with the other helpers. At run time `scoring.PackedTrees` looks its own
`ensemble_digest` up in that module and, when found, sums its trees there: the same comparisons as the
table walk of `_trees.pyx` (a float32 feature against the largest float32 not above the threshold,
NaN to the side the tree names) and the same additions in the same order, so the scores are bitwise
the same, in about half the time, as no node record is read. Any other model (retrained, your own,
or a changed file) has another digest and takes the table walk.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np

# the node arrays a packed ensemble holds, with their dtypes
TREE_DTYPES = {"roots": np.int32, "feature": np.int32, "threshold": np.float64, "left": np.int32,
               "right": np.int32, "missing_left": np.uint8, "is_leaf": np.uint8, "value": np.float64}
PARTS = ("first", "second", "special", "router")  # the ensembles a `.trees.npz` may hold, as `prefix.array`
MODULE = "_shipped_trees"


def float32_at_most(values: np.ndarray) -> np.ndarray:
    """The largest float32 not above each float64 value: for a float32 x, `x <= value` exactly when
    `x <= float32_at_most(value)`."""
    with np.errstate(over="ignore"):
        rounded = values.astype(np.float32)
    above = rounded.astype(np.float64) > values
    rounded[above] = np.nextafter(rounded[above], np.float32(-np.inf))
    return rounded


def ensemble_digest(arrays: dict[str, np.ndarray], baseline: float) -> str:
    """sha256 of an ensemble's node arrays (in `TREE_DTYPES`' order and dtypes) and its baseline."""
    h = hashlib.sha256()
    for name, dtype in TREE_DTYPES.items():
        h.update(np.ascontiguousarray(arrays[name], dtype=dtype).tobytes())
    h.update(float(baseline).hex().encode())
    return h.hexdigest()


def _literal(value: float, suffix: str) -> str:
    """An exact C literal: hexadecimal floating point, or the infinities."""
    if math.isinf(value):
        return f"{'-' if value < 0 else ''}INFINITY"
    return float(value).hex() + suffix


def _tree(arrays: dict[str, np.ndarray], split32: np.ndarray, node: int, indent: int) -> list[str]:
    """The C lines of the subtree at `node`: a leaf returns its value, a split tests and goes on."""
    pad = "  " * indent
    if arrays["is_leaf"][node]:
        return [f"{pad}return {_literal(arrays['value'][node], '')};"]
    x = f"x[{int(arrays['feature'][node])}]"
    threshold = _literal(float(split32[node]), "f")
    # NaN fails every comparison: `!(x > t)` sends it left, `x <= t` right
    test = f"!({x} > {threshold})" if arrays["missing_left"][node] else f"{x} <= {threshold}"
    return ([f"{pad}if ({test}) {{"] + _tree(arrays, split32, int(arrays["left"][node]), indent + 1)
            + [f"{pad}}}"] + _tree(arrays, split32, int(arrays["right"][node]), indent))


def ensemble_c(index: int, arrays: dict[str, np.ndarray]) -> str:
    """C for one ensemble: a function a tree, and `e<index>_sum`, which adds every tree's leaf value to
    each row's `out`, tree by tree as the table walk does."""
    split32 = float32_at_most(np.asarray(arrays["threshold"], np.float64))
    lines, calls = [], []
    for t, root in enumerate(arrays["roots"]):
        lines += [f"static double e{index}_t{t}(const float* x) {{"] + _tree(arrays, split32, int(root), 1) + ["}"]
        calls.append(f"  for (r = 0; r < n; r++) out[r] += e{index}_t{t}(X + r * ncol);")
    lines += [f"static void e{index}_sum(const float* X, ptrdiff_t n, ptrdiff_t ncol, double* out) {{",
              "  ptrdiff_t r;"] + calls + ["}"]
    return "\n".join(lines)


def columns_read(arrays: dict[str, np.ndarray]) -> int:
    """How many feature columns an ensemble's trees read: one past the highest a split reads."""
    split = np.asarray(arrays["is_leaf"]) == 0
    return int(np.asarray(arrays["feature"])[split].max()) + 1 if split.any() else 0


def npz_ensembles(path: Path) -> list[tuple[dict[str, np.ndarray], float]]:
    """The ensembles of a packed model file, as (node arrays, baseline)."""
    with np.load(path, allow_pickle=False) as data:
        return [({name: data[f"{part}.{name}"] for name in TREE_DTYPES}, float(data[f"{part}.baseline"]))
                for part in PARTS if f"{part}.roots" in data]


def c_source(ensembles: list[tuple[dict[str, np.ndarray], float]]) -> str:
    """The C of the ensembles, and `sum_trees`, which adds ensemble e's trees to each row's `out`."""
    return "\n".join(["#include <math.h>", "#include <stddef.h>"]
                     + [ensemble_c(i, arrays) for i, (arrays, _) in enumerate(ensembles)]
                     + ["static int sum_trees(int e, const float* X, ptrdiff_t n, ptrdiff_t ncol, double* out) {",
                        "  switch (e) {"]
                     + [f"    case {i}: e{i}_sum(X, n, ncol, out); return 0;" for i in range(len(ensembles))]
                     + ["  }", "  return -1;", "}", ""])


def module_source(ensembles: list[tuple[dict[str, np.ndarray], float]], header: str) -> str:
    """The Cython source of `_shipped_trees` over the C in `header`: the ensembles' digests and one entry
    point."""
    index = {ensemble_digest(arrays, baseline): i for i, (arrays, baseline) in enumerate(ensembles)}
    columns = tuple(columns_read(arrays) for arrays, _ in ensembles)
    return f'''# cython: language_level=3, boundscheck=False, wraparound=False
# Generated by noiseclf/_treegen.py from the shipped models at build time; not edited by hand.

from libc.stddef cimport ptrdiff_t

cdef extern from "{header}":
    int sum_trees(int e, const float* X, ptrdiff_t n, ptrdiff_t ncol, double* out) nogil

INDEX = {index!r}
COLUMNS = {columns!r}


def raw_scores(int ensemble, const float[:, ::1] X, double baseline, double[::1] out) -> None:
    """Write baseline plus the sum of the ensemble's trees into out[row] (rows of X: float32 features)."""
    cdef ptrdiff_t n = X.shape[0], ncol = X.shape[1], row
    if not 0 <= ensemble < len(COLUMNS) or ncol < COLUMNS[ensemble] or out.shape[0] != n:
        raise ValueError(f"ensemble {{ensemble}} over {{n}} x {{ncol}} features into {{out.shape[0]}} scores")
    for row in range(n):
        out[row] = baseline
    if n:
        with nogil:
            sum_trees(ensemble, &X[0, 0], n, ncol, &out[0])
'''


def write_module(models: list[Path], folder: Path) -> Path | None:
    """Write `MODULE`.pyx and its C header into `folder` for the ensembles of `models` that exist (files
    left as they are when unchanged, so a rebuild compiles nothing); the .pyx, or None without ensembles."""
    ensembles = [e for path in models if path.is_file() for e in npz_ensembles(path)]
    if not ensembles:
        return None
    header, pyx = f"{MODULE}_gen.h", f"{MODULE}.pyx"
    for name, text in ((header, c_source(ensembles)), (pyx, module_source(ensembles, header))):
        path = folder / name
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
    return folder / pyx
