# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled sum of a boosted ensemble's trees over one page's rows, all trees in one call.

`scoring.PackedTrees.tables` packs the node table of a fitted HistGradientBoostingClassifier into
8-byte records (the split's threshold as a float32, the feature read with the side missing values
take, and the right child as an offset from the tree's root; a leaf's record holds its index among
its tree's leaves, whose values are kept apart in float64). The left child is the next record, as
scikit-learn lays its trees out. Small records keep a whole ensemble in the CPU's cache.

This walks the trees one at a time over every row, so a tree's nodes stay in the fastest cache, with
the rule of scikit-learn's own `_predict_from_raw_data` (NaN follows `missing_go_to_left`, else
`x <= threshold` goes left); each row adds its leaf values in tree order, so the raw scores are
bitwise the same. A float32 feature is compared with the largest float32 not above the threshold,
which splits it exactly as the float64 threshold does; float64 features read the float64 thresholds.
"""

from libc.math cimport isnan
from libc.stdint cimport int16_t, uint16_t

ctypedef fused real:
    float
    double

cdef packed struct Node:
    float split  # a split's threshold, rounded down to a float32
    int16_t feature  # -1 for a leaf; else the column, with MISSING_LEFT set when NaN goes left
    uint16_t right  # a split's right child, from its tree's root; a leaf's index among its tree's leaves

cdef enum:
    MISSING_LEFT = 0x4000
    COLUMN = 0x3FFF


cdef inline bint _at_most(real x, const Node* nodes, const double* thresholds, int node) noexcept nogil:
    """x <= the node's threshold: its float32 record for float32 features, else the float64 value."""
    if real is float:
        return x <= nodes[node].split
    else:
        return x <= thresholds[node]


def raw_scores(const real[:, ::1] X, const int[::1] roots, const Node[::1] node_table, const double[::1] thresholds,
               const double[::1] leaves, const int[::1] first_leaf, double baseline, double[::1] out) -> None:
    """Write baseline plus each tree's leaf value, tree by tree, into out[row]."""
    cdef Py_ssize_t row, t, n = X.shape[0], n_trees = roots.shape[0]
    cdef int node, root, f
    cdef real x
    cdef const Node* nodes = &node_table[0]
    cdef const double* split64 = &thresholds[0]
    with nogil:
        for row in range(n):
            out[row] = baseline
        for t in range(n_trees):
            root = roots[t]
            for row in range(n):
                node = root
                f = nodes[node].feature
                while f >= 0:
                    x = X[row, f & COLUMN]
                    if isnan(x):
                        node = node + 1 if f & MISSING_LEFT else root + nodes[node].right
                    elif _at_most(x, nodes, split64, node):
                        node = node + 1
                    else:
                        node = root + nodes[node].right
                    f = nodes[node].feature
                out[row] += leaves[first_leaf[t] + nodes[node].right]
