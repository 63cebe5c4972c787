"""Features: one row per block of a Document, computed with NumPy over all blocks of the page.

Four groups: the block's own text shape, its layout (tags, class/id hints), its neighbourhood,
and how it compares with the rest of the page (dominant topic, title, repetition, truncation,
position after "Read also"-style markers). `neighbour_features` adds the second pass's inputs.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import chain

import numpy as np
from scipy import sparse

from .types import ANCESTOR_TAGS, HINT_WORDS, Document

_WORD = re.compile(r"\w+")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_TERMINAL = frozenset('.!?。！？"”»)\'')
_SECTION_MARKER = re.compile(
    r"^(?:read (?:also|more|next)|also read|see also|related(?: (?:articles?|stories|posts|content|coverage|topics|news))?|"
    r"more (?:from|on|in|stories|news|articles?|like this)|latest(?: news| stories)?|most (?:read|popular|viewed)|"
    r"popular(?: now)?|trending(?: now)?|you (?:may|might) (?:also )?(?:like|enjoy)|recommended(?: for you)?|"
    r"comments?|\d+ comments?|leave a (?:comment|reply)|further reading|up next|what to read next|tags?|topics?|"
    r"lesen sie auch|mehr zum thema|das könnte sie auch interessieren|weitere artikel|lire aussi|à lire aussi|"
    r"leia também|veja também|читайте также|лучшее|relacionad[oa]s?|te puede interesar|leggi anche|"
    r"关联|相关|관련 기사|関連記事)\W*$",
    re.I,
)
_CTA_MARKER = re.compile(
    r"^(?:advertisement|sponsored|share(?: this)?(?: article| story)?|tweet|email|print|newsletter|sign up|subscribe|"
    r"log ?in|sign in|register|menu|search|skip to (?:main )?content|back to top|anzeige|publicité|реклама)\W*$",
    re.I,
)
_MARKER_PREFIX = re.compile(
    r"^(?:related|read (?:also|more|next)|also read|see also|more|watch|listen|lesen sie auch|lire aussi|"
    r"leia também|читайте также)\s*:\s+\S", re.I)
# Words of newsletter prompts, consent banners and account nags: calls to action, not stories.
_CTA_TERMS = re.compile(
    r"\b(?:newsletters?|inbox|sign(?:ing)? up|subscri(?:be|ption)|unsubscribe|privacy (?:policy|notice|settings)|"
    r"terms of (?:use|service)|cookies?|our partners|personali[sz]ed?|your e-?mail|consent|log in|"
    r"create an account|free trial|advertis\w*)\b", re.I)
_TAG_GROUPS: tuple[tuple[str, ...], ...] = (
    ("p",), ("div",), ("li",), ("td", "th"), ("tr", "table", "tbody"), ("h1", "h2", "h3", "h4", "h5", "h6"),
    ("blockquote",), ("pre",), ("figcaption", "figure", "caption"), ("dt", "dd", "dl"), ("br",),
    ("section", "article", "main"), ("header", "footer", "nav", "aside"), ("form", "fieldset", "legend", "option"),
    ("ul", "ol", "menu"), ("body", "html", "line"), ("address",), ("summary", "details"),
)
_TAG_INDEX = {tag: i for i, group in enumerate(_TAG_GROUPS) for tag in group}

_SHAPE = ("log_chars", "log_words", "mean_word_len", "sentences", "sentences_per_word", "ends_terminal",
          "ends_ellipsis", "ends_colon", "starts_upper", "starts_bullet", "digit_ratio", "punct_ratio",
          "comma_ratio", "cap_word_ratio", "has_pipe", "is_marker", "all_caps", "has_year", "has_url",
          "is_cta", "marker_prefix", "cta_terms")
_LAYOUT = ("depth", "heading", "link_density", "all_link", "attr_len")
_CONTEXT_BASE = ("log_words", "link_density", "ends_terminal", "heading", "sentences")
_CONTEXT_SHIFTS = (-2, -1, 1, 2)
_PAGE = ("position", "char_position", "log_blocks", "log_page_words", "word_share", "words_vs_max",
         "dist_to_max", "path_word_share", "path_count", "parent_path_word_share", "topic_sim", "topic_sim_long",
         "title_overlap", "title_recall", "dup_count", "prefix_dup", "is_prefix_of_other", "truncated",
         "after_marker", "blocks_since_marker", "in_marker_run", "before_first_long", "after_last_long",
         "window_words_3", "window_words_10", "window_link_10", "words_before", "words_after")
_REPEAT_CONTEXT = ("dup_count", "is_prefix_of_other", "truncated", "in_marker_run", "cta_terms")

FEATURE_NAMES: tuple[str, ...] = (
    _SHAPE + _LAYOUT
    + tuple(f"tag_{g[0]}" for g in _TAG_GROUPS)
    + tuple(f"in_{t}" for t in ANCESTOR_TAGS)
    + tuple(f"hint_{w}" for w in HINT_WORDS)
    + tuple(f"{name}@{s:+d}" for s in _CONTEXT_SHIFTS for name in _CONTEXT_BASE)
    + _PAGE
    + tuple(f"{name}@{s:+d}" for s in _CONTEXT_SHIFTS for name in _REPEAT_CONTEXT)
)
N_FEATURES = len(FEATURE_NAMES)
_COL = {name: i for i, name in enumerate(FEATURE_NAMES)}

NEIGHBOUR_WINDOWS = (1, 2, 3)
NEIGHBOUR_NAMES: tuple[str, ...] = (
    ("p_self",)
    + tuple(f"p@{s:+d}" for w in NEIGHBOUR_WINDOWS for s in (-w, w))
    + ("p_mean_5", "p_mean_15", "p_max_before_10", "p_max_after_10", "p_mass_before", "p_mass_after",
       "p_path_mean", "p_rank")
)


def _bits(values: list[int], width: int) -> np.ndarray:
    """Unpack integer bitmasks into a (n, width) 0/1 matrix."""
    nbytes = (width + 7) // 8
    raw = np.frombuffer(b"".join(v.to_bytes(nbytes, "little") for v in values), np.uint8)
    return np.unpackbits(raw.reshape(len(values), nbytes), axis=1, bitorder="little")[:, :width].astype(np.float32)


def _shift(a: np.ndarray, s: int, fill: float = 0.0) -> np.ndarray:
    out = np.full_like(a, fill)
    if s > 0:
        out[s:] = a[:-s]
    elif s < 0:
        out[:s] = a[-s:]
    else:
        out[:] = a
    return out


def _window_mean(a: np.ndarray, radius: int) -> np.ndarray:
    c = np.concatenate(([0.0], np.cumsum(a, dtype=np.float64)))
    n = len(a)
    lo = np.clip(np.arange(n) - radius, 0, n)
    hi = np.clip(np.arange(n) + radius + 1, 0, n)
    return ((c[hi] - c[lo]) / (hi - lo)).astype(np.float32)


def _window_max(a: np.ndarray, radius: int, before: bool) -> np.ndarray:
    """Max of `a` over the `radius` blocks strictly before (or after) each block."""
    n = len(a)
    padded = np.concatenate((np.zeros(radius, a.dtype), a, np.zeros(radius, a.dtype)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, radius)
    return windows[:n] if before else windows[radius + 1: radius + 1 + n]


def _topic_similarity(tokens: list[list[str]], weights: np.ndarray) -> np.ndarray:
    """Cosine of each block's term vector with the weighted sum of the others' (leave-one-out)."""
    n = len(tokens)
    flat = list(chain.from_iterable(tokens))
    if not flat:
        return np.zeros(n, np.float32)
    vocab, cols = np.unique(np.array(flat), return_inverse=True)
    rows = np.repeat(np.arange(n), [len(t) for t in tokens])
    m = sparse.csr_matrix((np.ones(len(flat), np.float32), (rows, cols)), shape=(n, len(vocab)))
    m.sum_duplicates()
    m.data = np.log1p(m.data)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel()) + 1e-9
    centroid = np.asarray(m.T @ weights).ravel()
    proj = m @ centroid
    dots = proj - weights * norms**2
    rest = centroid @ centroid - 2 * weights * proj + weights**2 * norms**2
    return (dots / (norms * np.sqrt(np.maximum(rest, 1e-9)))).astype(np.float32)


def _prefix_features(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact repeats, shared openings, and blocks whose text opens a longer block (teasers)."""
    low = [" ".join(t.lower().split()) for t in texts]
    counts = Counter(low)
    heads = Counter(t[:40] for t in low if len(t) >= 20)
    dup = np.array([counts[t] - 1 for t in low], np.float32)
    prefix_dup = np.array([heads[t[:40]] - 1 if len(t) >= 20 else 0 for t in low], np.float32)
    is_prefix = np.zeros(len(low), np.float32)
    by_head: dict[str, list[int]] = {}
    for i, t in enumerate(low):
        by_head.setdefault(t[:20], []).append(i)
    for group in by_head.values():
        if len(group) > 1:
            for i in group:
                t = low[i].rstrip(".… ")
                is_prefix[i] = any(j != i and len(low[j]) > len(t) and low[j].startswith(t) for j in group)
    return dup, prefix_dup, is_prefix


def _path_shares(paths: list[str], words: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share of the page's words under each block's tag path and its parent path, and path counts."""
    total = max(words.sum(), 1.0)
    _, inv, counts = np.unique(np.array(paths, dtype=object), return_inverse=True, return_counts=True)
    path_words = np.bincount(inv, weights=words)
    parents = [p.rsplit("/", 1)[0] for p in paths]
    _, pinv = np.unique(np.array(parents, dtype=object), return_inverse=True)
    parent_words = np.bincount(pinv, weights=words)
    return ((path_words[inv] / total).astype(np.float32), counts[inv].astype(np.float32),
            (parent_words[pinv] / total).astype(np.float32))


def _char_classes() -> tuple[np.ndarray, ...]:
    """Lookup tables over the Basic Multilingual Plane: alnum, digit, upper, punctuation, terminal."""
    size = 0x10000
    cps = [chr(i) for i in range(size)]
    alnum = np.array([c.isalnum() for c in cps])
    digit = np.array([c.isdigit() for c in cps])
    upper = np.array([c.isupper() for c in cps])
    punct = np.array([not (c.isalnum() or c.isspace()) for c in cps])
    terminal = np.zeros(size, bool)
    terminal[[ord(c) for c in ".!?;。！？"]] = True
    return alnum, digit, upper, punct, terminal


_ALNUM, _DIGITS, _UPPER, _PUNCT_CP, _TERMINAL_CP = _char_classes()


def _matches_per_block(pattern: re.Pattern, joined: str, starts: np.ndarray) -> np.ndarray:
    """Matches of a rare pattern per block, found in one pass over the page's joined text."""
    positions = [m.start() for m in pattern.finditer(joined)]
    counts = np.zeros(len(starts), np.float32)
    np.add.at(counts, np.searchsorted(starts, positions, side="right") - 1, 1)
    return counts


def _shape(texts: list[str], words: np.ndarray, chars: np.ndarray) -> np.ndarray:
    """Text-shape features, counted over the code points of the whole page at once."""
    joined = "\n".join(texts)
    cp = np.frombuffer(joined.encode("utf-32-le"), np.uint32)
    table_cp = np.minimum(cp, len(_ALNUM) - 1)
    high = cp >= len(_ALNUM)  # CJK and beyond: letters, for our purposes
    alnum = _ALNUM[table_cp] | high
    word_start = alnum & ~np.concatenate(([False], alnum[:-1]))
    nxt = np.concatenate((cp[1:], [10]))
    sentence = _TERMINAL_CP[table_cp] & ((nxt == 32) | (nxt == 10))
    starts = np.concatenate(([0], np.cumsum(chars[:-1] + 1))).astype(np.int64)

    def per_block(flags: np.ndarray) -> np.ndarray:
        return np.add.reduceat(flags.astype(np.float32), starts)

    safe_words = np.maximum(words, 1)
    safe_chars = np.maximum(chars, 1)
    sentences = per_block(sentence)
    first = cp[starts]
    last = cp[starts + chars.astype(np.int64) - 1]
    last_char = [t[-1] for t in texts]
    cols = (
        np.log1p(chars), np.log1p(words), (chars - per_block(cp == 32)) / safe_words, sentences,
        sentences / safe_words, np.array([c in _TERMINAL for c in last_char], np.float32),
        np.array([t.endswith(("...", "…", "[…]", "[...]")) for t in texts], np.float32),
        last == ord(":"), _UPPER[np.minimum(first, len(_UPPER) - 1)], ~alnum[starts],
        per_block(_DIGITS[table_cp] & ~high) / safe_chars, per_block(_PUNCT_CP[table_cp] & ~high) / safe_chars,
        per_block(cp == 44) / safe_words, per_block(word_start & _UPPER[table_cp]) / safe_words,
        np.array(["|" in t for t in texts], np.float32),
        np.array([len(t) < 60 and _SECTION_MARKER.match(t) is not None for t in texts], np.float32),
        np.array([t.isupper() for t in texts], np.float32),
        _matches_per_block(_YEAR, joined, starts) > 0,
        np.array(["http" in t or "www." in t for t in texts], np.float32),
        np.array([len(t) < 60 and _CTA_MARKER.match(t) is not None for t in texts], np.float32),
        np.array([_MARKER_PREFIX.match(t) is not None for t in texts], np.float32),
        _matches_per_block(_CTA_TERMS, joined, starts),
    )
    return np.column_stack(cols).astype(np.float32)


def block_features(doc: Document) -> np.ndarray:
    """The (n_blocks, N_FEATURES) float32 feature matrix of a page."""
    blocks = doc.blocks
    n = len(blocks)
    if n == 0:
        return np.zeros((0, N_FEATURES), np.float32)
    texts = [b.text for b in blocks]
    tokens = [_WORD.findall(t.lower()) for t in texts]
    words = np.array([len(t) for t in tokens], np.float32)
    chars = np.array([len(t) for t in texts], np.float32)
    X = np.zeros((n, N_FEATURES), np.float32)
    X[:, : len(_SHAPE)] = _shape(texts, words, chars)

    link = np.array([b.link_chars for b in blocks], np.float32) / np.maximum(chars, 1)
    c = len(_SHAPE)
    X[:, c] = [b.depth for b in blocks]
    X[:, c + 1] = [b.heading for b in blocks]
    X[:, c + 2] = link
    X[:, c + 3] = link > 0.95
    X[:, c + 4] = [len(b.attrs) for b in blocks]
    c += len(_LAYOUT)
    X[np.arange(n), c + np.array([_TAG_INDEX.get(b.tag, 1) for b in blocks])] = 1.0
    c += len(_TAG_GROUPS)
    X[:, c: c + len(ANCESTOR_TAGS)] = _bits([b.ancestors for b in blocks], len(ANCESTOR_TAGS))
    c += len(ANCESTOR_TAGS)
    X[:, c: c + len(HINT_WORDS)] = _bits([b.hints for b in blocks], len(HINT_WORDS))
    c += len(HINT_WORDS)
    base = X[:, [_COL[name] for name in _CONTEXT_BASE]]
    for s in _CONTEXT_SHIFTS:
        X[:, c: c + base.shape[1]] = _shift(base, s, fill=-1.0)
        c += base.shape[1]
    page = _page_features(doc, texts, tokens, words, chars, link, X[:, _COL["is_marker"]])
    X[:, c: c + page.shape[1]] = page
    c += page.shape[1]
    repeat = X[:, [_COL[name] for name in _REPEAT_CONTEXT]]
    for s in _CONTEXT_SHIFTS:
        X[:, c: c + repeat.shape[1]] = _shift(repeat, s, fill=-1.0)
        c += repeat.shape[1]
    return X


def _page_features(doc: Document, texts: list[str], tokens: list[list[str]], words: np.ndarray,
                   chars: np.ndarray, link: np.ndarray, marker: np.ndarray) -> np.ndarray:
    n = len(texts)
    idx = np.arange(n, dtype=np.float32)
    total_words = max(float(words.sum()), 1.0)
    cum_words = np.cumsum(words) - words
    offsets = np.array([b.offset for b in doc.blocks], np.float32)
    longish = (words >= 15) & (link < 0.3)
    weight = words * (1 - link) * longish
    sim = _topic_similarity(tokens, weight if weight.sum() > 0 else words * (1 - link))
    title_tokens = set(_WORD.findall(doc.title.lower()))
    overlap = np.array([len(title_tokens.intersection(t)) for t in tokens], np.float32)
    dup, prefix_dup, is_prefix = _prefix_features(texts)
    path_share, path_count, parent_share = _path_shares([b.path for b in doc.blocks], words)
    last_marker = np.maximum.accumulate(np.where(marker > 0, idx, -1.0))
    prose = (words >= 15) & ~_stops_mid_sentence(texts) & (link < 0.5)
    last_prose = np.maximum.accumulate(np.where(prose, idx, -1.0))
    long_idx = np.flatnonzero(longish)
    first_long = long_idx[0] if len(long_idx) else n
    last_long = long_idx[-1] if len(long_idx) else -1
    cols = (
        idx / max(n - 1, 1), offsets / max(offsets[-1] + chars[-1], 1.0), np.full(n, np.log1p(n)),
        np.full(n, np.log1p(total_words)), words / total_words, words / max(words.max(), 1.0),
        (idx - float(np.argmax(words))) / n, path_share, np.log1p(path_count), parent_share,
        sim, sim * longish,
        overlap / np.maximum(words, 1), overlap / max(len(title_tokens), 1),
        dup, prefix_dup, is_prefix,
        (np.array([t.endswith(("...", "…")) for t in texts]) | ((words >= 8) & (_stops_mid_sentence(texts)))),
        last_marker >= 0, np.where(last_marker >= 0, np.log1p(idx - last_marker), -1.0),
        last_marker > last_prose,
        idx < first_long, idx > last_long,
        _window_mean(np.log1p(words), 3), _window_mean(np.log1p(words), 10), _window_mean(link, 10),
        cum_words / total_words, (total_words - cum_words - words) / total_words,
    )
    return np.column_stack(cols).astype(np.float32)


def _stops_mid_sentence(texts: list[str]) -> np.ndarray:
    """Blocks that stop mid-sentence: no terminal punctuation at the end."""
    return np.array([t[-1] not in _TERMINAL and t[-1] != ":" for t in texts])


def block_words(doc: Document) -> np.ndarray:
    """Whitespace tokens per block: the weight of a block in page-level sums."""
    return np.array([b.text.count(" ") + 1 for b in doc.blocks], np.float32)


def block_path_ids(doc: Document) -> np.ndarray:
    """An integer id per distinct tag path of the page."""
    ids: dict[str, int] = {}
    return np.array([ids.setdefault(b.path, len(ids)) for b in doc.blocks], np.int64)


def neighbour_features(proba: np.ndarray, doc_words: np.ndarray, paths: np.ndarray) -> np.ndarray:
    """Second-pass inputs for one page: the first pass's scores around each block."""
    n = len(proba)
    p = proba.astype(np.float32)
    cols = [p]
    for w in NEIGHBOUR_WINDOWS:
        cols += [_shift(p, w, fill=-1.0), _shift(p, -w, fill=-1.0)]
    mass = p * doc_words
    total = max(float(mass.sum()), 1e-6)
    before = np.cumsum(mass) - mass
    _, inv = np.unique(paths, return_inverse=True)
    path_mean = (np.bincount(inv, weights=p) / np.bincount(inv))[inv]
    rank = np.argsort(np.argsort(-p, kind="stable"), kind="stable") / max(n - 1, 1)
    cols += [_window_mean(p, 5), _window_mean(p, 15), _window_max(p, 10, True).max(axis=1) if n else p,
             _window_max(p, 10, False).max(axis=1) if n else p, before / total, (total - before - mass) / total,
             path_mean, rank]
    return np.column_stack(cols).astype(np.float32)
