# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled twin of `features._scan_numpy`: the same counts, term ids and vocabulary, block by block.

The NumPy version makes some twenty passes over the code points of the whole page, each with its own
temporary array, and tokenises with a regex; here one loop over each block's characters does the
counting and a second over its lowercased text cuts the tokens (`features._WORD`: runs of \\w characters,
and each Han or kana character alone). Both read the same character tables (`features._SCAN_TABLES`),
so they agree on every code point.
"""

import numpy as np

from cpython.unicode cimport Py_UNICODE_ISALNUM

cdef enum:
    WORD = 0
    DIGIT = 1
    UPPER = 2
    PUNCT = 3
    TERMINAL = 4
    SOLO = 5
    FULL_STOP = 6
    BMP = 0x10000


def scan(list texts, const unsigned char[:, ::1] tables):
    """(counts, term ids, vocabulary, words per block) of a page's blocks; see `features._scan_numpy`."""
    cdef Py_ssize_t n = len(texts), b, i, j, length
    counts = np.zeros((n, 9), np.float32)
    words = np.zeros(n, np.float32)
    cdef float[:, ::1] c = counts
    cdef float[::1] w = words
    cdef dict vocab = {}
    cdef list cols = []
    cdef str text, low, token
    cdef Py_UCS4 ch, nxt
    cdef Py_ssize_t tc
    cdef bint alnum, previous, solo, previous_solo
    for b in range(n):
        text = texts[b]
        length = len(text)
        previous = previous_solo = False
        for i in range(length):
            ch = text[i]
            tc = ch if ch < BMP else BMP - 1
            alnum = tables[WORD, tc] or ch >= BMP
            solo = tables[SOLO, tc] and ch < BMP
            nxt = text[i + 1] if i + 1 < length else 10
            c[b, 0] += ch == 32
            c[b, 1] += (tables[TERMINAL, tc] and (nxt == 32 or nxt == 10)) or (tables[FULL_STOP, tc] and ch < BMP)
            c[b, 2] += tables[DIGIT, tc] and ch < BMP
            c[b, 3] += tables[PUNCT, tc] and ch < BMP
            c[b, 4] += ch == 44
            c[b, 5] += alnum and (not previous or solo or previous_solo) and tables[UPPER, tc]
            previous, previous_solo = alnum, solo
        if length:
            ch = text[0]
            c[b, 6] = tables[UPPER, ch if ch < BMP else BMP - 1]
            c[b, 7] = not (ch >= BMP or tables[WORD, ch])
            c[b, 8] = text[length - 1] == 58
        low = text.lower()
        length = len(low)
        i = 0
        while i < length:
            if not _is_word(low[i], tables):
                i += 1
                continue
            j = i + 1
            if not _is_solo(low[i], tables):
                while j < length and _is_word(low[j], tables) and not _is_solo(low[j], tables):
                    j += 1
            token = low[i:j]
            col = vocab.get(token)
            if col is None:
                col = vocab[token] = len(vocab)
            cols.append(col)
            w[b] += 1
            i = j
    return counts, np.array(cols, np.int64), vocab, words


cdef inline bint _is_word(Py_UCS4 ch, const unsigned char[:, ::1] tables):
    """What `\\w` matches: the table over the BMP, Unicode's alphanumerics past it."""
    return tables[WORD, ch] if ch < BMP else Py_UNICODE_ISALNUM(ch)


cdef inline bint _is_solo(Py_UCS4 ch, const unsigned char[:, ::1] tables):
    """A word character that is a token by itself (Han, kana: `features._SOLO_RANGES`)."""
    return ch < BMP and tables[SOLO, ch]
