# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled sum of a boosted ensemble's trees over one page's rows, all trees in one call.

`scoring.PackedTrees.nodes` packs the node table of a fitted HistGradientBoostingClassifier into
16-byte records (a split's threshold or a leaf's value, the feature read with the side missing values
take, the right child; the left child is the next record, as scikit-learn lays its trees out). This
walks the trees one at a time over every row, so a tree's nodes stay in the CPU's cache, with the rule
of scikit-learn's own `_predict_from_raw_data` (NaN follows `missing_go_to_left`, else
`x <= threshold` goes left); each row adds its leaf values in tree order, so the raw scores are
bitwise the same.
"""

from libc.math cimport isnan
from libc.stdint cimport int32_t

ctypedef fused real:
    float
    double

cdef packed struct Node:
    double split  # a split's threshold, or a leaf's value
    int32_t feature  # -1 for a leaf; else the column, with MISSING_LEFT set when NaN goes left
    int32_t right

cdef enum:
    MISSING_LEFT = 0x40000000
    COLUMN = 0x3FFFFFFF


def raw_scores(const real[:, ::1] X, const int[::1] roots, const Node[::1] nodes, double baseline,
               double[::1] out) -> None:
    """Write baseline plus each tree's leaf value, tree by tree, into out[row]."""
    cdef Py_ssize_t row, t, n = X.shape[0], n_trees = roots.shape[0]
    cdef int node, f
    cdef double x
    with nogil:
        for row in range(n):
            out[row] = baseline
        for t in range(n_trees):
            for row in range(n):
                node = roots[t]
                f = nodes[node].feature
                while f >= 0:
                    x = X[row, f & COLUMN]
                    if isnan(x):
                        node = node + 1 if f & MISSING_LEFT else nodes[node].right
                    elif x <= nodes[node].split:
                        node = node + 1
                    else:
                        node = nodes[node].right
                    f = nodes[node].feature
                out[row] += nodes[node].split
