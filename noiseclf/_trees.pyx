# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled sum of a boosted ensemble's trees over one page's rows, all trees in one call.

`model.pack_trees` packs the numeric trees of a fitted HistGradientBoostingClassifier into flat
arrays (one node table, one root per tree); this walks every tree for every row with the rule of
scikit-learn's own `_predict_from_raw_data` (NaN follows `missing_go_to_left`, else `x <= threshold`
goes left) and adds the leaf values in tree order, so the raw scores are bitwise the same.
"""

from libc.math cimport isnan


def raw_scores(const double[:, ::1] X, const int[::1] roots, const int[::1] feature,
               const double[::1] threshold, const int[::1] left, const int[::1] right,
               const unsigned char[::1] missing_left, const unsigned char[::1] is_leaf,
               const double[::1] value, double baseline, double[::1] out) -> None:
    """Write baseline plus each tree's leaf value, tree by tree, into out[row]."""
    cdef Py_ssize_t row, t, n_trees = roots.shape[0]
    cdef int node
    cdef double total, x
    with nogil:
        for row in range(X.shape[0]):
            total = baseline
            for t in range(n_trees):
                node = roots[t]
                while not is_leaf[node]:
                    x = X[row, feature[node]]
                    if isnan(x):
                        node = left[node] if missing_left[node] else right[node]
                    elif x <= threshold[node]:
                        node = left[node]
                    else:
                        node = right[node]
                total += value[node]
            out[row] = total
