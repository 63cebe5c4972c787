"""Gold labels for blocks: align a page's gold text to its segmented blocks, token by token.

Training tables need a content/boilerplate label per block, but corpora give gold as free text
(or L3S-GN1's class-labelled runs). Both sides are cut into lowercased `\\w+` tokens, so
whitespace, entities, punctuation and markup do not matter, and aligned monotonically (gold
follows page order): k-grams unique on both sides anchor a patience diff, difflib aligns the
short gaps between anchors, and matched runs too short to be trusted are dropped. A block is
content when enough of its tokens align to content gold.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from .types import BlockClass, Document, GoldRun, Page, visible

_TOKEN = re.compile(r"\w+")
_N_CLASSES = len(BlockClass)
_IS_CONTENT = np.array([c.is_content for c in BlockClass])

CONTENT_COVERAGE = 0.5  # a block is content when at least this share of its tokens aligns to content gold
MIN_RUN = 3  # matched runs shorter than this are trusted only in context (see _keep_runs)
MAX_GAP = 2  # tokens a short run may lie from a trusted run, in the gold and on the page, and still continue it
ANCHOR_K = 4  # tokens per anchor k-gram
MIN_ANCHOR_RUN = 8  # grown anchor runs shorter than this may be chance: their gap is diffed instead
RELAXED_COPIES = 8  # in a gap too costly to diff, anchor k-grams may recur this often on each side
MAX_DIFF_PAIRS = 50_000  # equal-token pairs above which difflib on a gap is too slow


@dataclass(frozen=True)
class BlockLabels:
    """Per-block gold: content flag, fine class and the share of tokens aligned to content gold."""

    content: np.ndarray  # bool, one per block
    classes: np.ndarray  # int8 BlockClass, one per block
    coverage: np.ndarray  # float32 in [0, 1], one per block


def _tokens(text: str) -> list[str]:
    """Lowercased \\w+ tokens of the visible characters (as blocks hold them): the unit both sides are aligned on."""
    return _TOKEN.findall(visible(text).lower())


def _gold_runs(page: Page) -> tuple[GoldRun, ...]:
    """The page's class-labelled runs, or its gold text as one FULL_TEXT run."""
    if page.gold_runs:
        return page.gold_runs
    return (GoldRun(page.gold_text),) if page.gold_text.strip() else ()


def _encode(pieces: list[list[str]], vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of all pieces concatenated, and the piece index of each token."""
    ids = np.fromiter((vocab.setdefault(tok, len(vocab)) for piece in pieces for tok in piece), dtype=np.int64)
    owner = np.repeat(np.arange(len(pieces)), [len(piece) for piece in pieces])
    return ids, owner


def _kgram_keys(ids: np.ndarray) -> np.ndarray:
    """Each position's ANCHOR_K-token window as one comparable byte string."""
    windows = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(ids, ANCHOR_K))
    return windows.view(np.dtype((np.void, windows.itemsize * ANCHOR_K))).ravel()


def _anchors(page: np.ndarray, gold: np.ndarray, copies: int) -> np.ndarray:
    """(page, gold) starts of k-grams found 1..copies times on each side, by page then falling gold position."""
    if len(page) < ANCHOR_K or len(gold) < ANCHOR_K:
        return np.empty((0, 2), dtype=np.int64)
    page_keys = _kgram_keys(page)
    _, inverse, counts = np.unique(np.concatenate([page_keys, _kgram_keys(gold)]),
                                   return_inverse=True, return_counts=True)
    page_key, gold_key = inverse[:len(page_keys)], inverse[len(page_keys):]
    on_page = np.bincount(page_key, minlength=len(counts))
    in_gold = counts - on_page
    wanted = (on_page >= 1) & (on_page <= copies) & (in_gold >= 1) & (in_gold <= copies)
    page_pos = np.flatnonzero(wanted[page_key])
    keys = page_key[page_pos]
    repeats = in_gold[keys]  # pair each page occurrence with every gold occurrence of its k-gram
    within = np.arange(repeats.sum()) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    by_key = np.argsort(gold_key, kind="stable")
    first = np.searchsorted(gold_key[by_key], keys)
    pairs = np.stack([np.repeat(page_pos, repeats), by_key[np.repeat(first, repeats) + within]], axis=1)
    return pairs[np.lexsort((-pairs[:, 1], pairs[:, 0]))]


def _chain(anchors: np.ndarray) -> list[list[int]]:
    """Runs [page start, gold start, length] of the longest anchor chain increasing on both sides (patience diff)."""
    tails: list[int] = []  # smallest gold position ending a chain of each length
    ends: list[int] = []  # anchor index of that chain end
    previous = [-1] * len(anchors)
    for i, gold_pos in enumerate(anchors[:, 1].tolist()):
        length = bisect_left(tails, gold_pos)
        previous[i] = ends[length - 1] if length else -1
        tails[length:length + 1] = [gold_pos]
        ends[length:length + 1] = [i]
    order, i = [], ends[-1] if ends else -1
    while i >= 0:
        order.append(i)
        i = previous[i]
    runs: list[list[int]] = []
    for a, b in anchors[order[::-1]].tolist():
        if runs and a - b == runs[-1][0] - runs[-1][1] and a <= runs[-1][0] + runs[-1][2]:
            runs[-1][2] = a + ANCHOR_K - runs[-1][0]  # overlaps the last run on its diagonal: extend it
        elif not runs or (a >= runs[-1][0] + runs[-1][2] and b >= runs[-1][1] + runs[-1][2]):
            runs.append([a, b, ANCHOR_K])
    return runs


def _grow(runs: list[list[int]], page: np.ndarray, gold: np.ndarray) -> None:
    """Extend each run along its diagonal while tokens agree, up to its neighbours, in place."""
    for i, run in enumerate(runs):
        a_low, b_low = (runs[i - 1][0] + runs[i - 1][2], runs[i - 1][1] + runs[i - 1][2]) if i else (0, 0)
        a_high, b_high = (runs[i + 1][0], runs[i + 1][1]) if i + 1 < len(runs) else (len(page), len(gold))
        while run[0] > a_low and run[1] > b_low and page[run[0] - 1] == gold[run[1] - 1]:
            run[0], run[1], run[2] = run[0] - 1, run[1] - 1, run[2] + 1
        while run[0] + run[2] < a_high and run[1] + run[2] < b_high and page[run[0] + run[2]] == gold[run[1] + run[2]]:
            run[2] += 1


def _diff(page: np.ndarray, gold: np.ndarray) -> list[list[int]] | None:
    """difflib's matching runs of a gap, or None when its equal-token pairs make it too slow."""
    if not len(page) or not len(gold):
        return []
    size = int(max(page.max(), gold.max())) + 1
    if np.dot(np.bincount(page, minlength=size), np.bincount(gold, minlength=size)) > MAX_DIFF_PAIRS:
        return None
    blocks = SequenceMatcher(None, page.tolist(), gold.tolist(), autojunk=False).get_matching_blocks()
    return [[m.a, m.b, m.size] for m in blocks if m.size]


def _align(page: np.ndarray, gold: np.ndarray, copies: int = 1) -> list[list[int]]:
    """Monotone matching runs [page start, gold start, length]: anchors grown on their diagonals, then gaps diffed.

    Growing anchors first lets text next to an anchor win over an earlier copy of it (a teaser
    repeating the lead, say). Short anchor runs are left to the diff: a lone unique k-gram can pair
    two unrelated places ("edited by <name>") and make the chain skip real text. A gap too costly
    for difflib is anchored again with k-grams that may recur on either side (duplicated content);
    past that it stays unmatched, which caps the worst case.
    """
    runs = _chain(_anchors(page, gold, copies))
    _grow(runs, page, gold)
    runs = [run for run in runs if run[2] >= MIN_ANCHOR_RUN]
    found: list[list[int]] = []
    a_end = b_end = 0
    for a, b, size in runs + [[len(page), len(gold), 0]]:
        gap = _diff(page[a_end:a], gold[b_end:b])
        if gap is None and copies == 1:
            gap = _align(page[a_end:a], gold[b_end:b], RELAXED_COPIES)
        found += [[a_end + x, b_end + y, n] for x, y, n in gap or ()]
        if size:
            found.append([a, b, size])
        a_end, b_end = a + size, b + size
    return found


def _keep_runs(runs: np.ndarray, block_of: np.ndarray) -> np.ndarray:
    """Mask of the runs to trust: long ones, and short ones that the context vouches for.

    A short run is kept when it is a whole block amid the long runs (a subheading, a list item),
    or when it continues a kept neighbour: at most MAX_GAP tokens apart in the gold, and on the page
    too unless in the same block (an edit, a short title, a price under its product). Elsewhere it
    is chance: "Home" in a menu matching a "home" of the gold that the page lacks.
    """
    a, b, size = runs.T
    keep = size >= MIN_RUN
    if not keep.any():
        return keep
    block = block_of[a]  # runs lie within one block each (see _split_at_blocks)
    whole = (np.searchsorted(block_of, block) == a) & (np.searchsorted(block_of, block, side="right") == a + size)
    keep |= whole & (a > a[keep][0]) & (a < a[keep][-1])
    gold_near = b[1:] - (b[:-1] + size[:-1]) <= MAX_GAP
    page_near = (a[1:] - (a[:-1] + size[:-1]) <= MAX_GAP) | (block[1:] == block[:-1])
    near = gold_near & page_near
    for i in range(1, len(runs)):
        keep[i] |= keep[i - 1] and near[i - 1]
    for i in range(len(runs) - 2, -1, -1):
        keep[i] |= keep[i + 1] and near[i]
    return keep


def _merge(runs: list[list[int]]) -> np.ndarray:
    """Runs sorted by page position, those touching on one diagonal joined, as an (n, 3) array."""
    merged: list[list[int]] = []
    for a, b, size in sorted(runs):
        if merged and a - b == merged[-1][0] - merged[-1][1] and a == merged[-1][0] + merged[-1][2]:
            merged[-1][2] += size
        else:
            merged.append([a, b, size])
    return np.array(merged, dtype=np.int64).reshape(-1, 3)


def _split_at_blocks(runs: np.ndarray, block_of: np.ndarray) -> np.ndarray:
    """Runs cut where they cross from one block into the next, so each piece is judged with its block."""
    if not len(runs):
        return runs
    block_starts = np.flatnonzero(np.diff(block_of)) + 1
    pieces = []
    for a, b, size in runs.tolist():
        cuts = block_starts[np.searchsorted(block_starts, a, side="right"):np.searchsorted(block_starts, a + size)]
        edges = [a, *cuts.tolist(), a + size]
        pieces += [(start, b + start - a, end - start) for start, end in zip(edges, edges[1:])]
    return np.array(pieces, dtype=np.int64)


def _aligned_gold(page: np.ndarray, gold: np.ndarray, block_of: np.ndarray) -> np.ndarray:
    """For each page token, the gold token it aligns to, or -1."""
    aligned = np.full(len(page), -1, dtype=np.int64)
    runs = _split_at_blocks(_merge(_align(page, gold)), block_of)
    for a, b, size in runs[_keep_runs(runs, block_of)].tolist() if len(runs) else ():
        aligned[a:a + size] = np.arange(b, b + size)
    return aligned


def label_blocks(doc: Document, page: Page) -> BlockLabels:
    """Label each block of `doc` from the gold of `page` by token alignment."""
    n = len(doc.blocks)
    runs = _gold_runs(page)
    vocab: dict[str, int] = {}
    page_ids, block_of = _encode([_tokens(b.text) for b in doc.blocks], vocab)
    gold_ids, run_of = _encode([_tokens(r.text) for r in runs], vocab)
    token_class = np.full(len(page_ids), int(BlockClass.NOT_CONTENT))  # unaligned tokens are not content
    if len(page_ids) and len(gold_ids):
        aligned = _aligned_gold(page_ids, gold_ids, block_of)
        run_class = np.array([int(r.cls) for r in runs], dtype=np.int64)
        token_class[aligned >= 0] = run_class[run_of[aligned[aligned >= 0]]]
    counts = np.zeros((n, _N_CLASSES), dtype=np.int64)  # tokens per block and gold class
    np.add.at(counts, (block_of, token_class), 1)
    total = counts.sum(axis=1)
    coverage = np.divide(counts[:, _IS_CONTENT].sum(axis=1), total, out=np.zeros(n), where=total > 0)
    content = coverage >= CONTENT_COVERAGE
    best_content = np.flatnonzero(_IS_CONTENT)[counts[:, _IS_CONTENT].argmax(axis=1)]
    best_other = np.flatnonzero(~_IS_CONTENT)[counts[:, ~_IS_CONTENT].argmax(axis=1)]
    classes = np.where(content, best_content, best_other).astype(np.int8)
    return BlockLabels(content=content, classes=classes, coverage=coverage.astype(np.float32))


def oracle_text(doc: Document, labels: BlockLabels) -> str:
    """Text of the content blocks, blank-line separated: the best a block classifier can output here."""
    return "\n\n".join(block.text for block, keep in zip(doc.blocks, labels.content) if keep)
