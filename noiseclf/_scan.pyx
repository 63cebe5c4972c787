# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled twin of `features._scan_numpy`: the same counts, term ids and vocabulary, block by block.

The NumPy version makes some twenty passes over the code points of the whole page, each with its own
temporary array, and tokenises with a regex; here one loop over each block's characters does the
counting and a second over its lowercased text cuts the tokens (`features._WORD`: runs of \\w characters,
and each Han or kana character alone). Both read the same character tables (`features._SCAN_TABLES`),
so they agree on every code point.

Also compiled here, as twins of their Python versions in `features`: the numbering of a page's keys in
order of first appearance (`group_ids`) and the hint bits of the elements off a chain (`off_spine`),
both per-block Python loops.
"""

import numpy as np

from cpython.unicode cimport Py_UNICODE_ISALNUM, Py_UNICODE_ISSPACE

cdef enum:
    WORD = 0
    DIGIT = 1
    UPPER = 2
    PUNCT = 3
    TERMINAL = 4
    SOLO = 5
    FULL_STOP = 6
    CLOSING = 7
    BMP = 0x10000
    # features._marks bits
    CLOSED = 1
    ELLIPSIS = 2
    BRACKETED_ELLIPSIS = 4
    PIPE = 8
    COLON = 16
    URL = 32
    CAPITALS = 64


def scan(list texts, const unsigned char[:, ::1] tables):
    """(counts, term ids, vocabulary, words per block, marks, normalised texts) of a page's blocks; see
    `features._scan_numpy`."""
    cdef Py_ssize_t n = len(texts), b, i, j, length
    counts = np.zeros((n, 9), np.float32)
    words = np.zeros(n, np.float32)
    marks = np.zeros(n, np.uint8)
    cdef float[:, ::1] c = counts
    cdef float[::1] w = words
    cdef unsigned char[::1] m = marks
    cdef unsigned char mark
    cdef list normalised = []
    cdef bint spaced, normal  # normal: white space only as single " " between other characters
    cdef dict vocab = {}
    cdef Py_ssize_t n_cols = 0
    # a token holds a character at least of the lowercased text, which str.lower() makes at most twice as
    # long (only U+0130 lowercases to two characters)
    cols = np.empty(2 * sum([len(text) for text in texts]), np.int64)
    cdef long long[::1] col_view = cols
    cdef str text, low, token
    cdef Py_UCS4 ch, nxt
    cdef Py_ssize_t tc
    cdef bint alnum, previous, solo, previous_solo
    for b in range(n):
        text = texts[b]
        length = len(text)
        previous = previous_solo = False
        mark = 0
        spaced = False
        normal = True
        for i in range(length):
            ch = text[i]
            if ch == 124:
                mark |= PIPE
            elif ch == 58:
                mark |= COLON
            if Py_UNICODE_ISSPACE(ch):
                if ch != 32 or spaced or i == 0 or i == length - 1:
                    normal = False
                spaced = True
            else:
                spaced = False
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
            mark |= _endings(text, length, tables)
            if "http" in text or "www." in text:
                mark |= URL
            if text.isupper():
                mark |= CAPITALS
            m[b] = mark
        low = text.lower()  # lowercasing neither makes nor changes white space
        normalised.append(low if normal else " ".join(low.split()))
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
            col_view[n_cols] = col
            n_cols += 1
            w[b] += 1
            i = j
    return counts, cols[:n_cols].copy(), vocab, words, marks, normalised


cdef inline unsigned char _endings(str text, Py_ssize_t length, const unsigned char[:, ::1] tables):
    """The `CLOSED`, `ELLIPSIS` and `BRACKETED_ELLIPSIS` bits of a non-empty text."""
    cdef Py_UCS4 last = text[length - 1]
    cdef unsigned char mark = CLOSED if last < BMP and tables[CLOSING, last] else 0
    if last == 0x2026 or (length >= 3 and last == 46 and text[length - 2] == 46 and text[length - 3] == 46):
        mark |= ELLIPSIS
    elif last == 93 and ((length >= 3 and text[length - 2] == 0x2026 and text[length - 3] == 91) or (
            length >= 5 and text[length - 2] == 46 and text[length - 3] == 46 and text[length - 4] == 46
            and text[length - 5] == 91)):
        mark |= BRACKETED_ELLIPSIS
    return mark


cdef inline bint _is_word(Py_UCS4 ch, const unsigned char[:, ::1] tables):
    """What `\\w` matches: the table over the BMP, Unicode's alphanumerics past it."""
    return tables[WORD, ch] if ch < BMP else Py_UNICODE_ISALNUM(ch)


cdef inline bint _is_solo(Py_UCS4 ch, const unsigned char[:, ::1] tables):
    """A word character that is a token by itself (Han, kana: `features._SOLO_RANGES`)."""
    return ch < BMP and tables[SOLO, ch]


def group_ids(list keys):
    """An integer per distinct key, in order of first appearance; see `features._group_ids_python`."""
    cdef Py_ssize_t i, n = len(keys)
    cdef dict ids = {}
    out = np.empty(n, np.int64)
    cdef long long[::1] view = out
    for i in range(n):
        key = keys[i]
        found = ids.get(key)
        if found is None:
            found = ids[key] = len(ids)
        view[i] = found
    return out


def off_spine(list chains, list owns, tuple spine):
    """Each block's hint bits from its elements off `spine`, and how many such elements enclose it; see
    `features._off_spine_python`."""
    cdef dict memo = dict.fromkeys(spine, (0, 0))
    cdef Py_ssize_t i, j, d, levels, n = len(chains)
    cdef tuple chain, own, found
    cdef list off_bits = [0] * n
    cdef list off_levels = [0] * n
    for i in range(n):
        chain = chains[i]
        if not chain:
            continue
        own = owns[i]
        j = len(chain) - 1
        while j >= 0 and chain[j] not in memo:
            j -= 1
        if j >= 0:
            found = memo[chain[j]]
            bits = found[0]
            levels = found[1]
        else:
            bits = 0
            levels = 0
        for d in range(j + 1, len(chain)):
            bits = bits | own[d]
            levels += 1
            memo[chain[d]] = (bits, levels)
        off_bits[i] = bits
        off_levels[i] = levels
    return off_bits, off_levels
