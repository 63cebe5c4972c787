"""Features: one row per block of a Document, computed with NumPy over all blocks of the page.

Seven groups: the block's own text shape, its layout (tags, class/id hints), its neighbourhood,
how it compares with the rest of the page (dominant topic, title, repetition, truncation,
position after "Read also"-style markers), its enclosing elements and the page's main element,
each described by the blocks inside, the class/id hints of its elements off that main element,
and the page's comment region against the prose outside it.
`neighbour_features` adds the second pass's inputs.
"""

from __future__ import annotations

import itertools
import os
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache, reduce
from operator import or_

import numpy as np

from .types import ANCESTOR_TAGS, HINT_BIT, HINT_WORDS, Block, Document

# Scripts written without spaces between words (Han, kana): each character is a token of its own, so that
# a paragraph of Chinese or Japanese counts as many words, as its English translation would, not as one.
_SOLO_RANGES = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
                (0xFF66, 0xFF9F))
_SOLO = "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in _SOLO_RANGES)
_WORD = re.compile(f"(?=\\w)[{_SOLO}]|[^\\W{_SOLO}]+")
_TERMINAL = frozenset('.!?。！？"”»)\'')
# Lines that open a list of other stories or of comments: "Read also", "Today's most read", "More news from X",
# "Previous story". On WCXB dev 4.5% of the lines it reads are gold, and 15% of the five blocks after them.
_SECTION_MARKER = re.compile(
    r"^(?:(?:today['’]?s|this week['’]?s|the|our) )?(?:"
    r"read (?:also|more|next)|also read|see also|"
    r"related(?: (?:articles?|stories|posts|content|coverage|topics|news|links?|sections?|videos?|items|"
    r"searches|reading|resources))?|"
    r"more (?:stories|news|articles?|like this|top stories|headlines|videos|photos|galleries|podcasts)|"
    r"more (?:from|on|in)(?: \S+){0,4}|"
    r"more (?:\w+ ){0,2}(?:news|stories|articles|headlines|videos) (?:from|on|in|at)(?: \S+){1,4}|"
    r"latest(?: (?:news|stories|headlines|articles|posts|videos|updates))?|top (?:stories|headlines|news)|"
    r"(?:most|more) (?:read|popular|viewed|shared|emailed|commented|recommended)"
    r"(?: (?:stories|articles|news|today|now))?|"
    r"other (?:stories|headlines|news)|in other news|don['’]?t miss(?: this| these)?|"
    r"editor['’]?s['’]? (?:picks?|choice)|"
    r"in case you missed it|external links?|elsewhere (?:on|in)(?: \S+){1,3}|what['’]?s (?:hot|trending|popular)|"
    r"(?:previous|next|prev\.?) (?:story|article|post|stories|articles|posts)(?: in(?: \S+){1,3})?|"
    r"popular(?: now)?|trending(?: now| stories| articles| news| topics)?|"
    r"you (?:may|might) (?:also )?(?:like|enjoy|be interested in)|"
    r"recommended(?: for you| reading| stories| articles| posts| videos| links| by)?|we recommend|"
    r"(?:promoted|sponsored) (?:stories|content|links|posts)|(?:from )?around the web|from the web|"
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
# Short lines that frame user comments: "Jane said...", "Reply", "3 hours ago", "Posted by".
_COMMENT_ENDS = (" said", " says", " wrote", " replied", " commented", " ago")
_COMMENT_WHOLE = re.compile(r"(?:reply|report(?: abuse)?|flag|permalink|quote|like|\d+ (?:likes?|replies))\W*$")
_COMMENT_START = re.compile(r"(?:posted|submitted|commented) (?:by|on)\b")
# "Comments", "34 responses to “Title”", "[ 167 comments ]", "Top Rated Comments", "Comments (12)"; not a bare
# "Response" or "Discussion" (section headings of docs and articles), nor "Add a comment" (under each Q&A post),
# nor "Comment on this story" (a call to action: "comment" with "on"/"to" needs a count, "2 comment on ...").
_COMMENT_MARKER = re.compile(r"^\W*(?P<count>\d+\s+)?(?:(?:top rated|reader|readers'|user|all|recent|latest|view|show|"
                             r"read)\s+(?:all\s+)?)?(?P<noun>comments?|responses|replies|leave a (?:comment|reply)|"
                             r"join the discussion|kommentare|commentaires|comentários?|"
                             r"comentarios|комментарии)(?:\s*\(\d+\)|(?P<about>\s+(?:to|on)\s.*))?\W*$", re.I)
_SINGULAR_COMMENT = frozenset(("comment", "comentário"))
# The line over a reader's comment: "Posted by: jo at 9:01 AM", "jo says:", "jo said," or Blogger's "jo said..."
# (blocks are whitespace-normalised, so the second ends within the last 12 characters and is searched there only).
_SIGNATURE_START = re.compile(r"(?:posted|submitted|comment(?:ed)?) by\b", re.I)
_SIGNATURE_END = re.compile(r"\b(?:says|said|wrote|writes)\s*(?:[:,]|\.\.\.|…)?$", re.I)
# A name over a dated clock time, as blog engines sign each comment ("jo 11.06.12 at 11:06 am", "March 3, 2012 at
# 4:15 pm"), or Slashdot's "by jo (1285)" and "by jo on Monday July 23, @09:16PM"; not a Q&A site's "asked Feb 11,
# 2011 at 23:49" or "edited ..." under each question and answer, a story's "Updated ... at 3:45 pm", an event's
# "Saturday, May 5 at 7:30 pm" (no year), nor a reading list's "by Jane Doe (2012)".
_SIGNATURE_STAMP = re.compile(
    r"(?!(?:asked|answered|edited|modified|commented|updated|published|posted|created|last|on)\b)"
    r".*(?:\b(?:19|20)\d\d|\d[./-]\d\d),?\s+(?:at|@)\s*\d{1,2}:\d\d\s*(?:[ap]\.?m\.?)?\W*$|"
    r"by\s(?:[^()]{1,40}\((?!(?:19|20)\d\d\))\d{2,}\)(?:\s|$)|.{1,60}@\s*\d{1,2}:\d\d)", re.I)
# Every stamp holds a clock time's colon, or opens with "by" and holds a "(" (the only two cases of "b" and "y"
# under re.I): tested first, as most lines hold neither and the regex tries every split of its leading ".*".
_BY = frozenset(("by", "By", "bY", "BY"))
# Forum engines' markup: phpBB, vBulletin, XenForo (message-*, bbWrapper), Invision (ipsComment, cAuthorPane),
# bbPress, Discourse; the class names of their posts, not of blog posts ("postBody" is CNET's article).
_FORUM_WORDS = (r"forum\w*", "signature", r"bbp\w*", "phpbb", "vbulletin", "xenforo", "discourse", "messagelist",
                r"message (?:attribution|userdetails|user\w*)")
_FORUM_PARTS = ("postbit", "postprofile", "bbwrapper", "ipscomment", "cauthorpane", "messagecontent", "usercontent",
                "threadlist")
_FORUM_ATTR = re.compile(r"\b(?:" + "|".join(_FORUM_WORDS) + r")\b|" + "|".join(_FORUM_PARTS))
# The literal opening of each alternative, one of which every match contains: tested first, as most class/id
# strings name no forum, and a search that opens with \b tries every position.
_FORUM_KEYS = tuple(re.match(r"\w+", alternative)[0] for alternative in _FORUM_WORDS + _FORUM_PARTS)
# "topic*" marks a forum's posts but also a news page's topic tag links, so it counts on blocks of own text only.
_TOPIC_ATTR = re.compile(r"\btopic\w*\b")
# Lines of a forum member's profile and quoting ("Joined: May 2019", "Posts: 412", "Registered User", "Quote",
# "Quote jo:"); not a blog's feed links ("Posts Only", "Posts by topic"), a quote request or a company's
# registration, nor "Re: ..." titles, which the comment threads under news stories (Slashdot's, for one) put on
# every reply as forums do.
_FORUM_LINE = re.compile(
    r"(?:joined|registered|member since|join date)\b\s*:?\s*(?:[a-z]+\.?,?\s+){0,2}\d|(?:joined|posts|registered)\s*:?$|"
    r"registered (?:users?|members?)$|posts\s*:?\s*\d|quote(?:\s*:|\s*$|\s+reply\b|\s+[\w.-]+\s*:)|originally posted by\b")
FORUM_MIN = 3  # blocks with forum markup, or forum lines, that make a page a forum thread
# A plain-text "Comments" line with under this share of the page's prose before it heads a thread only where
# the thread's own furniture follows within this many blocks (see `_heads_a_thread`).
HEADING_PROSE_SHARE, HEADING_REACH = 0.25, 8
# The link under each post of a Q&A page (question and answers alike), below its count of comments.
_ADD_COMMENT = re.compile(r"add a comment\W*$", re.I)
# A date ("Aug 9", "29 August", "07/03/24") or a clock time ("10:40"), as comment threads stamp each comment.
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
_DATE_OR_TIME = re.compile(rf"\b{_MONTH}\.?\s+\d{{1,2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\b|"
                           r"\b\d{1,2}:\d\d\b|\b\d{1,4}[./-]\d{1,2}[./-]\d{2,4}\b", re.I)
RUN_MIN_SHARE = 0.2  # prose in paragraph runs, as a share of all prose, that may move the main element to them
_YEARS = frozenset(str(year) for year in range(1900, 2100))
_MARKER_PREFIX = re.compile(
    r"^(?:related|read (?:also|more|next)|also read|see also|more|watch|listen|tags?|previous|"
    r"(?:previous|prev|next) (?:story|article|post)|read (?:the )?(?:full )?(?:article|story)|"
    r"(?:»\s*)?(?:previous|next) in(?: [^\s:]+){1,3}|lesen sie auch|lire aussi|"
    r"leia também|читайте также)\s*:\s+\S", re.I)
# Words of newsletter prompts, consent banners and account nags: calls to action, not stories.
_CTA_WORDS = frozenset(
    "newsletter newsletters inbox signup subscribe subscribed subscriber subscribers subscription subscriptions "
    "unsubscribe privacy cookie cookies consent personalised personalized personalise personalize login "
    "advertising advertisement advertisements advertise advertiser advertisers trial".split())
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
          "is_cta", "marker_prefix", "cta_terms", "comment_line")
_LAYOUT = ("depth", "heading", "link_density", "all_link", "attr_len")
_CONTEXT_BASE = ("log_words", "link_density", "ends_terminal", "heading", "sentences")
_CONTEXT_SHIFTS = (-2, -1, 1, 2)
_PAGE = ("position", "char_position", "log_blocks", "log_page_words", "word_share", "words_vs_max",
         "dist_to_max", "path_word_share", "path_count", "parent_path_word_share", "topic_sim", "topic_sim_long",
         "title_overlap", "title_recall", "dup_count", "prefix_dup", "is_prefix_of_other", "truncated",
         "after_marker", "blocks_since_marker", "in_marker_run", "before_first_long", "after_last_long",
         "window_words_3", "window_words_10", "window_link_10", "words_before", "words_after")
_REPEAT_CONTEXT = ("dup_count", "is_prefix_of_other", "truncated", "in_marker_run", "cta_terms", "comment_line")
# Enclosing elements 1..3 levels above a block's own element, described by the blocks they hold.
_CONTAINER_LEVELS = (1, 2, 3)
_CONTAINER = ("blocks", "children", "word_share", "link", "mean_words", "prose_share", "topic", "truncated",
              "comment_lines")
# The page's main element: the deepest one holding most of the page's prose (as Readability looks for it).
_MAIN = ("main_el", "main_el_parent", "below_main_el", "main_el_share", "before_main_el", "after_main_el")
# Class/id hints of the elements that do not enclose the main element: a "sidebar" or "related" box beside
# or inside the story says something; the same word on a wrapper around the story ("has-sidebar") does not.
# Grouped by how rarely WCXB dev's gold keeps a block under them off the main element: chrome, sidebars and
# related lists almost never; generic layout words ("list", "card", "widget", "ad") about a third of the time.
_OFF_MAIN_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("chrome", ("nav", "menu", "header", "footer", "breadcrumb", "pagination", "pager", "banner", "modal", "popup",
                "cookie", "consent", "newsletter", "subscribe", "signup", "login", "copyright", "legal",
                "disclaimer", "social", "sponsor", "contact")),
    ("sidebar", ("sidebar",)),
    ("related", ("related", "recommend", "trending", "latest", "popular")),
    ("meta", ("byline", "author", "date", "categor", "print", "share", "tag", "meta", "caption", "credit", "title")),
    ("comment", ("comment", "reply")),
    ("content", ("article", "story", "content", "text", "body", "post", "entry", "main", "lead", "summary", "blog")),
    ("layout", ("list", "card", "widget", "side", "more", "teaser", "feed", "ad", "hidden", "tool", "icon", "button",
                "search")),
)
_OFF_MAIN = tuple(f"off_main_{name}" for name, _ in _OFF_MAIN_GROUPS) + ("off_main_levels",)
# The comment region (see `_comment_region`) against the prose outside it: an article's comments
# follow prose of its own, a forum thread's posts are the prose. Forum markup and "Joined:"/"Quote"
# lines tell the two apart.
_COMMENTS = ("comment_region", "page_comment_share", "page_outside_prose", "outside_prose_before",
             "outside_prose_after", "main_outside_el", "main_outside_share", "after_main_outside_el",
             "forum_attrs", "forum_lines", "forum_like")

FEATURE_NAMES: tuple[str, ...] = (
    _SHAPE + _LAYOUT
    + tuple(f"tag_{g[0]}" for g in _TAG_GROUPS)
    + tuple(f"in_{t}" for t in ANCESTOR_TAGS)
    + tuple(f"hint_{w}" for w in HINT_WORDS)
    + tuple(f"{name}@{s:+d}" for s in _CONTEXT_SHIFTS for name in _CONTEXT_BASE)
    + _PAGE
    + tuple(f"{name}@{s:+d}" for s in _CONTEXT_SHIFTS for name in _REPEAT_CONTEXT)
    + tuple(f"c{k}_{name}" for k in _CONTAINER_LEVELS for name in _CONTAINER)
    + _MAIN
    + _OFF_MAIN
    + _COMMENTS
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

PROFILE_NAMES: tuple[str, ...] = (
    tuple(f"mean_{name}" for name in FEATURE_NAMES) + tuple(f"max_{name}" for name in FEATURE_NAMES) + ("log_blocks",)
)


def _bits(values: list[int], width: int) -> np.ndarray:
    """Unpack integer bitmasks into a (n, width) 0/1 matrix."""
    size = (width + 7) // 8
    raw = np.frombuffer(b"".join([v.to_bytes(size, "little") for v in values]), np.uint8).reshape(len(values), size)
    return np.unpackbits(raw, axis=1, bitorder="little")[:, :width].astype(np.float32)


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
    idx = np.arange(n)
    lo = np.maximum(idx - radius, 0)
    hi = np.minimum(idx + radius + 1, n)
    return ((c[hi] - c[lo]) / (hi - lo)).astype(np.float32)


def _window_max(a: np.ndarray, radius: int, before: bool) -> np.ndarray:
    """Max of `a` over the `radius` blocks strictly before (or after) each block."""
    n = len(a)
    padded = np.concatenate((np.zeros(radius, a.dtype), a, np.zeros(radius, a.dtype)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, radius)
    return windows[:n] if before else windows[radius + 1: radius + 1 + n]


@dataclass(frozen=True)
class _Terms:
    """The page's lowercased `_WORD` tokens as (block, term, count) triples, one per distinct term of a block,
    over the page's own vocabulary: a sparse block-by-term matrix kept as NumPy arrays."""

    row: np.ndarray  # block of each triple, ascending
    col: np.ndarray  # term of each triple
    count: np.ndarray  # occurrences of the term in the block
    n: int  # blocks
    vocab: dict[str, int]  # term -> column

    def flags(self, wanted: frozenset[str] | set[str]) -> np.ndarray:
        """1.0 for the columns of the terms in `wanted`."""
        flags = np.zeros(len(self.vocab))
        flags[[self.vocab[w] for w in self.vocab.keys() & wanted]] = 1.0
        return flags

    def per_block(self, flags: np.ndarray, distinct: bool = False) -> np.ndarray:
        """Tokens (or distinct terms) per block among the flagged terms."""
        weights = flags[self.col] if distinct else flags[self.col] * self.count
        return np.bincount(self.row, weights=weights, minlength=self.n).astype(np.float32)


def _terms(cols: np.ndarray, vocab: dict[str, int], owner: np.ndarray, n: int) -> _Terms:
    """The (block, term, count) triples of the tokens with term ids `cols` in blocks `owner`."""
    size = max(len(vocab), 1)
    keys, count = np.unique(owner * size + cols, return_counts=True)
    return _Terms(keys // size, keys % size, count, n, vocab)


def _topic_similarity(terms: _Terms, weights: np.ndarray) -> np.ndarray:
    """Cosine of each block's term vector with the weighted sum of the others' (leave-one-out); 1 for a
    page's only weighted block, which is its whole topic (the others' sum is empty: the expanded formula
    would divide float32 rounding noise by a near-zero norm).

    Sums run in float32 and in the order scipy's CSR sum and products take (`reduceat` by row,
    sequential `np.add.at`): bitwise the features the shipped models were trained on, but for that block.
    """
    n, row, col = terms.n, terms.row, terms.col
    if not terms.vocab:
        return np.zeros(n, np.float32)
    weights = weights.astype(np.float32)
    data = np.log1p(terms.count.astype(np.float32))
    squares = np.zeros(n, np.float32)
    starts = np.flatnonzero(np.concatenate(([True], row[1:] != row[:-1])))
    squares[row[starts]] = np.add.reduceat(data * data, starts)
    norms = np.sqrt(squares) + np.float32(1e-9)
    centroid = np.zeros(len(terms.vocab), np.float32)
    np.add.at(centroid, col, data * weights[row])
    proj = np.zeros(n, np.float32)
    np.add.at(proj, row, data * centroid[col])
    dots = proj - weights * norms**2
    rest = centroid @ centroid - 2 * weights * proj + weights**2 * norms**2
    sim = (dots / (norms * np.sqrt(np.maximum(rest, 1e-9)))).astype(np.float32)
    sim[(weights > 0) & (weights.sum() - weights <= 0)] = 1.0
    return sim


_MAX_CHAR = chr(0x10FFFF)


def _prefix_features(low: list[str], same: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Repeats, shared openings, and blocks whose text opens a longer block (teasers), among texts `low`
    normalised as `_Text.normalised` and numbered by `same` (`_group_ids` of them)."""
    n = len(low)
    dup = (np.bincount(same)[same] - 1).astype(np.float32)
    long = np.fromiter(map(len, low), np.int64, n) >= 20
    heads = _group_ids([t[:40] for t in low])
    prefix_dup = np.where(long, np.bincount(heads, weights=long)[heads] - 1, 0).astype(np.float32)
    is_prefix = np.zeros(n, np.float32)
    openings = _group_ids([t[:20] for t in low])
    # Most shared openings are copies of one text only: a copy opens the others exactly when `rstrip` below
    # would take something off it, a final "." or "…" (a normalised text never ends in a space).
    texts_per_opening = np.bincount(openings, weights=_first_occurrences(same))[openings]
    shared = np.bincount(openings)[openings] > 1
    copies = np.flatnonzero(shared & (texts_per_opening == 1))
    is_prefix[copies] = [low[i].endswith((".", "…")) for i in copies.tolist()]
    by_head: dict[int, list[int]] = {}
    for i in np.flatnonzero(shared & (texts_per_opening > 1)).tolist():
        by_head.setdefault(int(openings[i]), []).append(i)
    for group in by_head.values():
        members = sorted(low[j] for j in group)
        for i in group:
            t = low[i].rstrip(".… ")
            # The members starting with t are a sorted run; all but the copies of t itself are longer.
            longer = bisect_left(members, t + _MAX_CHAR) - bisect_right(members, t)
            is_prefix[i] = longer - (low[i] != t) > 0
    return dup, prefix_dup, is_prefix


def _path_shares(paths: list[str], words: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share of the page's words under each block's tag path and its parent path, and path counts."""
    total = max(words.sum(), 1.0)
    inv = _group_ids(paths)
    pinv = _group_ids([p.rsplit("/", 1)[0] for p in paths])
    path_words = np.bincount(inv, weights=words)
    parent_words = np.bincount(pinv, weights=words)
    return ((path_words[inv] / total).astype(np.float32), np.bincount(inv)[inv].astype(np.float32),
            (parent_words[pinv] / total).astype(np.float32))


def _group_ids_python(keys: list[str]) -> np.ndarray:
    """An integer per distinct key, in order of first appearance (a dict: sorting strings costs more)."""
    ids: dict[str, int] = {}
    return np.fromiter((ids.setdefault(k, len(ids)) for k in keys), np.int64, len(keys))


def _char_classes() -> tuple[np.ndarray, ...]:
    """Lookup tables over the Basic Multilingual Plane: word char, digit, upper, punctuation, terminal,
    solo (a word by itself, `_SOLO_RANGES`) and full stop (ends a sentence with no space after it)."""
    size = 0x10000
    cps = [chr(i) for i in range(size)]
    alnum = np.array([c.isalnum() for c in cps])
    word = alnum.copy()
    word[ord("_")] = True  # what `\\w` matches
    digit = np.array([c.isdigit() for c in cps])
    upper = np.array([c.isupper() for c in cps])
    punct = np.array([not (c.isalnum() or c.isspace()) for c in cps])
    terminal = np.zeros(size, bool)
    terminal[[ord(c) for c in ".!?;。！？"]] = True
    solo = np.zeros(size, bool)
    for a, b in _SOLO_RANGES:
        solo[a:b + 1] = word[a:b + 1]
    full_stop = np.zeros(size, bool)
    full_stop[[ord(c) for c in "。！？"]] = True
    closing = np.zeros(size, bool)
    closing[[ord(c) for c in _TERMINAL]] = True
    return word, digit, upper, punct, terminal, solo, full_stop, closing


_WORDCHAR, _DIGITS, _UPPER, _PUNCT_CP, _TERMINAL_CP, _SOLO_CP, _FULL_STOP_CP, _CLOSING_CP = _char_classes()
_BMP = len(_WORDCHAR)


def _codepoints(text: str) -> np.ndarray:
    # a lone surrogate (a str from "surrogateescape" decoding) is a code point, as the compiled scan reads it
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)


def _word_chars(cp: np.ndarray) -> np.ndarray:
    """Which code points `\\w` matches; the rare ones past the BMP are looked up one by one."""
    flags = _WORDCHAR[np.minimum(cp, _BMP - 1)]
    high = cp >= _BMP
    if high.any():
        flags = flags.copy()
        flags[high] = [chr(c).isalnum() for c in cp[high]]
    return flags


def _solo_chars(cp: np.ndarray) -> np.ndarray:
    """Which code points are a token by themselves (`_SOLO_RANGES`, all in the BMP)."""
    return _SOLO_CP[np.minimum(cp, _BMP - 1)] & (cp < _BMP)


def _token_starts(word: np.ndarray, solo: np.ndarray) -> np.ndarray:
    """Where `_WORD` tokens start: a word character after a non-word one, and every solo character and
    the one after it."""
    before = np.concatenate(([False], word[:-1]))
    solo_before = np.concatenate(([False], solo[:-1]))
    return word & (~before | solo | solo_before)


# Per-block checks of a text's characters, one bit each (`_Text.mark`): it ends in `_TERMINAL`, in an
# ellipsis ("..." or "…"), in a bracketed one ("[…]", "[...]"); it holds "|", ":", or "http"/"www."; it is all
# capitals (`str.isupper`).
_CLOSED, _ELLIPSIS, _BRACKETED_ELLIPSIS, _PIPE, _COLON, _URL, _CAPITALS = (1 << k for k in range(7))


def _marks(text: str) -> int:
    """The `_CLOSED`... bits of one text (what the compiled scan computes in its pass over the characters)."""
    return ((_CLOSED if text[-1:] in _TERMINAL else 0) | (_ELLIPSIS if text.endswith(("...", "…")) else 0)
            | (_BRACKETED_ELLIPSIS if text.endswith(("[…]", "[...]")) else 0) | (_PIPE if "|" in text else 0)
            | (_COLON if ":" in text else 0) | (_URL if "http" in text or "www." in text else 0)
            | (_CAPITALS if text.isupper() else 0))


# Per-block counts of code points that the text-shape features are ratios of. Past the BMP a code point
# counts as a letter: alphanumeric, never a digit, punctuation or capital.
_COUNTS = ("spaces", "sentences", "digits", "punct", "commas", "cap_starts", "first_upper", "first_other",
           "last_colon")


def _scan_numpy(texts: list[str]) -> tuple[np.ndarray, np.ndarray, dict[str, int], np.ndarray, np.ndarray, list[str]]:
    """A page's `_COUNTS` (n, 9), the term id of each of its lowercased `_WORD` tokens with the vocabulary
    (terms in order of first use), the tokens per block, the `_marks` of each block and its text as
    `_Text.normalised`: over the newline-joined page at once."""
    n = len(texts)
    joined = "\n".join(texts)
    chars = np.fromiter(map(len, texts), np.float32, n)
    starts = np.concatenate(([0], np.cumsum(chars[:-1] + 1))).astype(np.int64)
    cp = _codepoints(joined)
    table_cp = np.minimum(cp, _BMP - 1)
    high = cp >= _BMP
    alnum = _WORDCHAR[table_cp] | high
    word_start = _token_starts(alnum, _solo_chars(cp))
    nxt = np.concatenate((cp[1:], [10]))

    def per_block(flags: np.ndarray) -> np.ndarray:
        return np.add.reduceat(flags.astype(np.float32), starts)

    first = cp[starts]
    last = cp[starts + chars.astype(np.int64) - 1]
    counts = np.column_stack((
        per_block(cp == 32),
        per_block((_TERMINAL_CP[table_cp] & ((nxt == 32) | (nxt == 10))) | (_FULL_STOP_CP[table_cp] & ~high)),
        per_block(_DIGITS[table_cp] & ~high), per_block(_PUNCT_CP[table_cp] & ~high), per_block(cp == 44),
        per_block(word_start & _UPPER[table_cp]), _UPPER[np.minimum(first, _BMP - 1)], ~alnum[starts],
        last == ord(":"),
    )).astype(np.float32)
    low = joined.lower()
    tokens = _WORD.findall(low)
    words = None
    if len(low) == len(joined):
        low_cp = _codepoints(low)
        words = per_block(_token_starts(_word_chars(low_cp), _solo_chars(low_cp)))
    if words is None or int(words.sum()) != len(tokens):  # lowercasing changed lengths: count block by block
        words = np.array([len(_WORD.findall(t.lower())) for t in texts], np.float32)
    vocab = {w: i for i, w in enumerate(dict.fromkeys(tokens))}
    cols = np.fromiter(map(vocab.__getitem__, tokens), np.int64, len(tokens))
    normalised = [" ".join(t.lower().split()) for t in texts]
    return counts, cols, vocab, words, np.fromiter(map(_marks, texts), np.uint8, n), normalised


def _scan_compiled(texts: list[str]) -> tuple[np.ndarray, np.ndarray, dict[str, int], np.ndarray, np.ndarray,
                                              list[str]]:
    """`_scan_numpy`, block by block in one compiled pass over the characters."""
    return _compiled_scan(texts, _SCAN_TABLES)


try:
    from ._scan import group_ids as _compiled_group_ids, off_spine as _compiled_off_spine, scan as _compiled_scan
except ImportError:  # not built: no compiler at install time
    _compiled_scan = _compiled_group_ids = _compiled_off_spine = None
COMPILED_SCAN = _compiled_scan is not None and os.environ.get("NOISECLF_PURE_PYTHON") != "1"
_SCAN_TABLES = np.stack((_WORDCHAR, _DIGITS, _UPPER, _PUNCT_CP, _TERMINAL_CP, _SOLO_CP, _FULL_STOP_CP,
                         _CLOSING_CP)).view(np.uint8)
_scan = _scan_compiled if COMPILED_SCAN else _scan_numpy
_group_ids = _compiled_group_ids if COMPILED_SCAN else _group_ids_python


@dataclass(frozen=True)
class _Text:
    """A page's blocks with their per-block counts and terms: what the text features are computed from."""

    texts: list[str]
    normalised: list[str]  # the texts as repeats are compared: lower case, runs of white space as one space
    same: np.ndarray  # `_group_ids` of `normalised`: equal numbers for repeated texts, in order of first appearance
    chars: np.ndarray
    words: np.ndarray  # `_WORD` tokens per block
    counts: np.ndarray  # `_COUNTS` per block
    marks: np.ndarray  # `_marks` bits per block
    lines: np.ndarray  # `_line_checks` bits per block
    terms: _Terms

    def mark(self, check: int) -> np.ndarray:
        """Whether each block passes one of the character checks (`_CLOSED`, ...)."""
        return (self.marks & check) != 0

    def line(self, check: int) -> np.ndarray:
        """Whether each block passes one of the short-line checks (`_MARKER_LINE`, ...)."""
        return (self.lines & check) != 0


def _page_text(texts: list[str]) -> _Text:
    """Count and tokenise a page's blocks in one pass (blocks never contain a newline)."""
    n = len(texts)
    counts, cols, vocab, words, marks, normalised = _scan(texts)
    owner = np.repeat(np.arange(n), words.astype(np.int64))
    lines = np.fromiter((_line_checks(t) if len(t) < _LINE_MAX else 0 for t in texts), np.int64, n)
    return _Text(texts, normalised, _group_ids(normalised), np.fromiter(map(len, texts), np.float32, n), words,
                 counts, marks, lines, _terms(cols, vocab, owner, n))


# The checks that read short lines only (section markers, calls to action, comment framing, reader
# signatures, forum profile lines, comment headings), one bit each, memoised per text: menus, footers
# and comment furniture repeat within a page and across the pages of a site.
_MARKER_LINE, _CTA_LINE, _COMMENT_LINE, _SIGNATURE_LINE, _FORUM_PROFILE_LINE, _COMMENT_HEADING = (1 << k for k in range(6))
_LINE_MAX = 100


@lru_cache(maxsize=1 << 16)
def _line_checks(text: str) -> int:
    """The `_MARKER_LINE`... bits of a text shorter than `_LINE_MAX`."""
    n = len(text)
    bits = _COMMENT_HEADING if _is_comment_heading(text) else 0
    if n < 80:
        low = text.lower()
        bits |= _COMMENT_LINE if _is_comment_line(low) else 0
        bits |= _FORUM_PROFILE_LINE if _FORUM_LINE.match(low) else 0
        if _SIGNATURE_START.match(text) or _SIGNATURE_END.search(text, max(n - 12, 0)) or (
                (":" in text or (text[:2] in _BY and "(" in text)) and _SIGNATURE_STAMP.match(text)):
            bits |= _SIGNATURE_LINE
    if n < 60:
        bits |= _MARKER_LINE if _SECTION_MARKER.match(text) else 0
        bits |= _CTA_LINE if _CTA_MARKER.match(text) else 0
    return bits


def _is_comment_heading(text: str) -> bool:
    """Whether a line heads a thread of comments ("12 Comments", "34 responses to “Title”")."""
    m = _COMMENT_MARKER.match(text)
    return m is not None and not (m["about"] and not m["count"] and m["noun"].lower() in _SINGULAR_COMMENT)


def _shape(page: _Text) -> np.ndarray:
    """Text-shape features: ratios of the per-block counts, and the checks of each block's text."""
    texts, chars, words = page.texts, page.chars, page.words
    spaces, sentences, digits, punct, commas, cap_starts, first_upper, first_other, last_colon = page.counts.T
    safe_words = np.maximum(words, 1)
    safe_chars = np.maximum(chars, 1)
    terms = page.terms
    cols = (
        np.log1p(chars), np.log1p(words), (chars - spaces) / safe_words, sentences,
        sentences / safe_words, page.mark(_CLOSED), page.mark(_ELLIPSIS | _BRACKETED_ELLIPSIS),
        last_colon, first_upper, first_other, digits / safe_chars, punct / safe_chars,
        commas / safe_words, cap_starts / safe_words,
        page.mark(_PIPE),
        page.line(_MARKER_LINE),
        page.mark(_CAPITALS),
        terms.per_block(terms.flags(_YEARS)) > 0,
        page.mark(_URL),
        page.line(_CTA_LINE),
        _marker_prefixed(texts, page.mark(_COLON)),
        terms.per_block(terms.flags(_CTA_WORDS)),
        page.line(_COMMENT_LINE),
    )
    return np.column_stack(cols).astype(np.float32)


def _marker_prefixed(texts: list[str], colon: np.ndarray) -> np.ndarray:
    """Blocks that open with a marker and a colon ("Related: ..."), tested on the blocks holding a colon."""
    out = np.zeros(len(texts), bool)
    for i in np.flatnonzero(colon).tolist():
        out[i] = _MARKER_PREFIX.match(texts[i]) is not None
    return out


def _is_comment_line(low: str) -> bool:
    core = low.rstrip()
    core = core[:-3] if core.endswith("...") else core[:-1] if core.endswith(("…", ":")) else core
    return (" " + core.rstrip()).endswith(_COMMENT_ENDS) or "in reply to" in low \
        or _COMMENT_WHOLE.match(low) is not None or _COMMENT_START.match(low) is not None


def block_features(doc: Document) -> np.ndarray:
    """The (n_blocks, N_FEATURES) float32 feature matrix of a page."""
    blocks = doc.blocks
    n = len(blocks)
    if n == 0:
        return np.zeros((0, N_FEATURES), np.float32)
    page = _page_text([b.text for b in blocks])
    chars = page.chars
    X = np.zeros((n, N_FEATURES), np.float32)
    X[:, : len(_SHAPE)] = _shape(page)

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
    cols, sim, prose, truncated = _page_features(doc, page, link, X[:, _COL["is_marker"]])
    X[:, c: c + cols.shape[1]] = cols
    c += cols.shape[1]
    repeat = X[:, [_COL[name] for name in _REPEAT_CONTEXT]]
    for s in _CONTEXT_SHIFTS:
        X[:, c: c + repeat.shape[1]] = _shift(repeat, s, fill=-1.0)
        c += repeat.shape[1]
    chains = _chains([b.elements for b in blocks] if doc.format == "html" else
                     _text_sections(X[:, _COL["is_marker"]], prose))
    tree = _container_features(chains, page.words, chars, link, prose, sim, truncated, X[:, _COL["comment_line"]])
    X[:, c: c + tree.shape[1]] = tree
    c += tree.shape[1]
    counted = prose & _first_occurrences(page.same) if doc.format == "html" else prose
    prose_words = page.words * counted
    linked = link >= 0.5
    main = _main_element(chains, prose_words, linked)
    main_cols = _main_element_features(chains, main)
    X[:, c: c + len(_MAIN)] = main_cols
    c += len(_MAIN)
    X[:, c: c + len(_OFF_MAIN)] = _off_main_features(doc, chains.tuples, main)
    c += len(_OFF_MAIN)
    X[:, c:] = _comment_features(doc, page, chains, prose_words, linked, main_cols)
    return X


def _first_occurrences(same: np.ndarray) -> np.ndarray:
    """Blocks whose text (numbered by `_Text.same`) no earlier block has: in HTML a repeated text (a teaser's
    summary twice, a caption again) weighs once in finding the main element. Not in plain text, where it
    measured worse on validation."""
    # `same` numbers texts in order of first appearance: a first occurrence raises the running max
    return np.diff(np.maximum.accumulate(same), prepend=-1) > 0


@lru_cache(maxsize=1 << 16)
def _forum_markup(attrs: str, linked: bool) -> bool:
    """Whether class/id tokens name a forum engine's post markup (`linked`: the block is mostly link text);
    memoised, as blocks repeat their classes."""
    return (any(key in attrs for key in _FORUM_KEYS) and _FORUM_ATTR.search(attrs) is not None) or \
        (not linked and "topic" in attrs and _TOPIC_ATTR.search(attrs) is not None)


def _forum_blocks(blocks: tuple[Block, ...]) -> int:
    """How many blocks carry a forum engine's post markup (`_forum_markup`); the page's class/id strings are
    first tested together, as on most pages none opens any of its alternatives."""
    page_attrs = " ".join({b.attrs for b in blocks})
    if "topic" not in page_attrs and not any(key in page_attrs for key in _FORUM_KEYS):
        return 0
    return sum(_forum_markup(b.attrs, 2 * b.link_chars >= len(b.text)) for b in blocks)


def _comment_region(doc: Document, page: _Text, elements: list[tuple[int, ...]],
                    prose_words: np.ndarray) -> np.ndarray:
    """Blocks of user comments: from the first pair of reader signatures ("jo says:", "Posted by: jo at 9 AM")
    at most three blocks apart after some prose; in text also from a "Comments" line after prose, unless calls
    to action follow it (a share bar's) or it stands over most of the prose with no thread under it; in HTML
    also blocks whose class/id says comment or reply. (An HTML "34 comments" link often sits under the lede.)"""
    n = len(page.texts)
    before = np.cumsum(prose_words) - prose_words
    said = page.line(_SIGNATURE_LINE)
    marker = page.line(_COMMENT_HEADING) if doc.format == "text" else np.zeros(n, bool)
    if marker.any():  # "Comments" followed by "Print", "Email": a share bar's link, not a thread's heading
        marker &= ~_window_max(page.line(_CTA_LINE), 2, before=False).max(axis=1)
        marker &= _heads_a_thread(page, marker, before >= HEADING_PROSE_SHARE * prose_words.sum(), said)
    paired = np.zeros(n, bool)
    for k in (1, 2, 3):
        paired[:-k] |= said[:-k] & said[k:]
    region = np.maximum.accumulate((marker | paired) & (before > 0))
    if doc.format == "html":
        region |= _comment_markup(doc, elements)
    return region


def _heads_a_thread(page: _Text, marker: np.ndarray, after_story: np.ndarray, said: np.ndarray) -> np.ndarray:
    """Which "Comments" lines head a thread: those after a share of the prose, and those over most of it (a
    comment widget under the lede, a "View Comments" link under the byline) only where a reader signature, a
    comment's framing ("Reply", "3 hours ago") or a date or clock time follows within `HEADING_REACH` blocks;
    not a Q&A post's "6 Comments" (or "Comments") right over its "Add a comment" link, as the question and each
    answer carry."""
    n = len(marker)
    heads = marker & after_story
    framing = said | page.line(_COMMENT_LINE)
    for i in np.flatnonzero(marker & ~after_story):
        following = range(i + 1, min(i + 1 + HEADING_REACH, n))
        heads[i] = any(framing[j] or (len(page.texts[j]) < _LINE_MAX and _DATE_OR_TIME.search(page.texts[j]))
                       for j in following)
    for i in np.flatnonzero(heads):
        heads[i] = not (i + 1 < n and _ADD_COMMENT.match(page.texts[i + 1]))
    return heads


def _comment_markup(doc: Document, elements: list[tuple[int, ...]]) -> np.ndarray:
    """HTML blocks inside an element whose class/id says comment or reply, unless every block carries it or the
    element also holds the page's first <h1>: a `has-comments` article or main wrapping the story is no thread."""
    mask = (HINT_BIT["comment"] | HINT_BIT["reply"]) & ~doc.page_hints
    head = next((b for b in doc.blocks if b.heading == 1), None)
    if head is None or not any(own & mask for own in head.element_hints):
        return np.array([b.hints & mask != 0 for b in doc.blocks], bool)
    off_head, _ = _off_spine(doc, elements, head.elements)
    # A chain the segmenter cut short on a very deep page misses bits that `Block.hints` has: it keeps them all.
    return np.array([(b.hints if b.hints & ~reduce(or_, b.element_hints, 0) else bits) & mask != 0
                     for b, bits in zip(doc.blocks, off_head)], bool)


def _comment_features(doc: Document, page: _Text, chains: _Chains, prose_words: np.ndarray,
                      linked: np.ndarray, main_cols: np.ndarray) -> np.ndarray:
    """The comment region against the prose outside it, and the main element of that outside prose
    (`main_cols`, the page's own main-element features, when the region holds no prose)."""
    region = _comment_region(doc, page, chains.tuples, prose_words)
    n = len(region)
    outside = prose_words * ~region
    total_prose = max(float(prose_words.sum()), 1.0)
    total_outside = float(outside.sum())
    before = np.cumsum(outside) - outside
    main = _main_element_features(chains, _main_element(chains, outside, linked)) \
        if (region & (prose_words > 0)).any() else main_cols
    forum_attrs = _forum_blocks(doc.blocks)
    forum_lines = int(page.line(_FORUM_PROFILE_LINE).sum())
    cols = (region, np.full(n, (total_prose - total_outside) / total_prose), np.full(n, np.log1p(total_outside)),
            before / max(total_outside, 1.0), (total_outside - before - outside) / max(total_outside, 1.0),
            main[:, 0], main[:, 3], main[:, 5], np.full(n, np.log1p(forum_attrs)), np.full(n, np.log1p(forum_lines)),
            np.full(n, float(max(forum_attrs, forum_lines) >= FORUM_MIN)))
    return np.column_stack(cols).astype(np.float32)


def _page_features(doc: Document, page: _Text, link: np.ndarray,
                   marker: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features comparing a block with its page; also the topic similarity, prose and truncation flags."""
    texts, words, chars = page.texts, page.words, page.chars
    n = len(texts)
    idx = np.arange(n, dtype=np.float32)
    total_words = max(float(words.sum()), 1.0)
    cum_words = np.cumsum(words) - words
    offsets = np.array([b.offset for b in doc.blocks], np.float32)
    longish = (words >= 15) & (link < 0.3)
    open_end = ~(page.mark(_CLOSED) | (page.counts[:, _COUNTS.index("last_colon")] > 0))  # stops mid-sentence
    prose = (words >= 15) & ~open_end & (link < 0.5)
    topic_rows = (longish & prose, longish) if doc.format == "html" else (longish,)
    sim = _topic_similarity(page.terms, _topic_weights(words * (1 - link), *topic_rows))
    title_tokens = set(_WORD.findall(doc.title.lower()))
    overlap = page.terms.per_block(page.terms.flags(title_tokens), distinct=True)
    dup, prefix_dup, is_prefix = _prefix_features(page.normalised, page.same)
    path_share, path_count, parent_share = _path_shares([b.path for b in doc.blocks], words)
    last_marker = np.maximum.accumulate(np.where(marker > 0, idx, -1.0))
    last_prose = np.maximum.accumulate(np.where(prose, idx, -1.0))
    long_idx = np.flatnonzero(longish)
    first_long = long_idx[0] if len(long_idx) else n
    last_long = long_idx[-1] if len(long_idx) else -1
    truncated = page.mark(_ELLIPSIS) | ((words >= 8) & open_end)
    cols = (
        idx / max(n - 1, 1), offsets / max(offsets[-1] + chars[-1], 1.0), np.full(n, np.log1p(n)),
        np.full(n, np.log1p(total_words)), words / total_words, words / max(words.max(), 1.0),
        (idx - float(np.argmax(words))) / n, path_share, np.log1p(path_count), parent_share,
        sim, sim * longish,
        overlap / np.maximum(words, 1), overlap / max(len(title_tokens), 1),
        dup, prefix_dup, is_prefix, truncated,
        last_marker >= 0, np.where(last_marker >= 0, np.log1p(idx - last_marker), -1.0),
        last_marker > last_prose,
        idx < first_long, idx > last_long,
        _window_mean(np.log1p(words), 3), _window_mean(np.log1p(words), 10), _window_mean(link, 10),
        cum_words / total_words, (total_words - cum_words - words) / total_words,
    )
    return np.column_stack(cols).astype(np.float32), sim, prose, truncated


def _topic_weights(unlinked_words: np.ndarray, *preferred: np.ndarray) -> np.ndarray:
    """What each block adds to the page's topic: its unlinked words, from the first of the `preferred` sets of
    blocks that has any, else from every block. In HTML long prose comes before any long block: an unlinked
    tag or keyword line would otherwise weigh as the page's topic. Not in plain text, where it measured no
    better on validation."""
    for rows in preferred:
        weight = unlinked_words * rows
        if weight.sum() > 0:
            return weight
    return unlinked_words


def _container_features(chains: _Chains, words: np.ndarray, chars: np.ndarray, link: np.ndarray,
                        prose: np.ndarray, sim: np.ndarray, truncated: np.ndarray,
                        comment_line: np.ndarray) -> np.ndarray:
    """Each block's enclosing elements, 1..3 levels up, described by all the blocks inside them.

    A teaser list is a container of many short, linked, off-topic items; an article body is a
    container of long on-topic prose.
    """
    total = max(float(words.sum()), 1.0)
    link_chars = link * chars
    child = chains.up(0)
    cols = []
    for k in _CONTAINER_LEVELS:
        key = chains.up(k)
        inv = _dense_ids(key)
        count = np.bincount(inv)
        span = int(child.max()) + 1  # (container, child) pairs as one integer, to count distinct children
        children = np.bincount(np.unique(inv * span + child) // span, minlength=len(count))
        w = np.bincount(inv, weights=words)
        safe_w = np.maximum(w, 1.0)
        cols += [np.log1p(count[inv]), np.log1p(children[inv]), (w / total)[inv],
                 (np.bincount(inv, weights=link_chars) / np.maximum(np.bincount(inv, weights=chars), 1.0))[inv],
                 np.log1p(w / count)[inv], (np.bincount(inv, weights=words * prose) / safe_w)[inv],
                 (np.bincount(inv, weights=words * sim) / safe_w)[inv],
                 (np.bincount(inv, weights=truncated.astype(np.float64)) / count)[inv],
                 (np.bincount(inv, weights=comment_line) / count)[inv]]
        child = key
    return np.column_stack(cols).astype(np.float32)


def _dense_ids(ids: np.ndarray) -> np.ndarray:
    """`np.unique(ids, return_inverse=True)[1]` for non-negative integers (a page's element serials): through a
    lookup table instead of a sort, unless the largest id would make the table far longer than `ids`."""
    top = int(ids.max())
    if top > 16 * len(ids) + 4096:
        return np.unique(ids, return_inverse=True)[1].reshape(-1)
    present = np.zeros(top + 1, np.int64)
    present[ids] = 1
    return (np.cumsum(present) - 1)[ids]


@dataclass(frozen=True)
class _Chains:
    """Each block's chain of enclosing elements, root first and its own element last: as tuples, and as an
    (n, longest chain) matrix of ids padded with -1, which the element-level features read whole."""

    tuples: list[tuple[int, ...]]
    ids: np.ndarray
    lengths: np.ndarray

    def up(self, k: int) -> np.ndarray:
        """Each block's element `k` levels above its own (0: its own), or 0 above the root."""
        at = self.lengths - 1 - k
        return np.where(at >= 0, self.ids[np.arange(len(at)), np.maximum(at, 0)], 0)


def _chains(elements: list[tuple[int, ...]]) -> _Chains:
    """The chains of a page's blocks, read once into the padded id matrix."""
    lengths = np.fromiter(map(len, elements), np.int64, len(elements))
    ids = np.full((len(elements), max(int(lengths.max(initial=0)), 1)), -1, np.int64)
    ids[np.arange(ids.shape[1]) < lengths[:, None]] = np.fromiter(itertools.chain.from_iterable(elements), np.int64,
                                                                  int(lengths.sum()))
    return _Chains(elements, ids, lengths)


def _text_sections(marker: np.ndarray, prose: np.ndarray) -> list[tuple[int, ...]]:
    """Plain text has no elements; stand-ins: sections cut at "Read also"-style marker lines, and in
    them runs of consecutive prose paragraphs or of short lines (an article body, a menu, a teaser)."""
    n = len(marker)
    section = np.cumsum(marker > 0)
    run = np.cumsum(np.concatenate(([True], (prose[1:] != prose[:-1]) | (section[1:] != section[:-1]))))
    return list(zip([0] * n, (1 + section).tolist(), (n + 2 + run).tolist(), range(3 * n + 3, 4 * n + 3)))


def _deepest_holder(chains: _Chains, weights: np.ndarray) -> tuple[tuple[int, ...], np.ndarray] | None:
    """The deepest element holding over half of `weights`: its chain (root first, itself last), and which
    blocks lie inside it."""
    rows = np.flatnonzero(weights)
    if not len(rows):
        return None
    ids = chains.ids[rows]
    present = ids >= 0
    # each element's weight, summed in block order; and its depth, the same in every chain that holds it
    held = np.bincount(ids[present], weights=np.repeat(weights[rows].astype(np.float64), chains.lengths[rows]))
    depth = np.zeros(len(held), np.int64)
    depth[ids[present]] = np.nonzero(present)[1]
    candidates = np.flatnonzero(held > 0.5 * float(weights.sum()))
    if not len(candidates):
        return None
    main = int(candidates[np.argmax(depth[candidates])])  # they nest: one a depth
    level = int(depth[main])
    holder = int(rows[np.argmax(ids[:, level] == main)])
    return chains.tuples[holder][: level + 1], chains.ids[:, level] == main


def _paragraph_runs(prose_words: np.ndarray, linked: np.ndarray) -> np.ndarray:
    """The prose words of blocks with a prose neighbour, reading past unlinked short lines (subheadings,
    captions) but not past links: a story's paragraphs, not the lone summaries of teaser cards."""
    seq = np.flatnonzero((prose_words > 0) | linked)
    is_prose = prose_words[seq] > 0
    paired = np.zeros(len(seq), bool)
    paired[1:] |= is_prose[:-1]
    paired[:-1] |= is_prose[1:]
    runs = np.zeros_like(prose_words)
    runs[seq] = prose_words[seq] * paired
    return runs


def _main_element(chains: _Chains, prose_words: np.ndarray,
                  linked: np.ndarray) -> tuple[tuple[int, ...], float] | None:
    """The deepest element holding over half of the page's prose: its chain (root first, itself last) and
    its prose share. Where that element holds under half of the prose that runs in paragraphs (and such runs
    are a fifth of the prose or more), the deepest holding over half of those runs: a story beside a
    larger column of teaser cards, each a linked headline over one summary."""
    found = _deepest_holder(chains, prose_words)
    if found is None:
        return None
    runs = _paragraph_runs(prose_words, linked)
    total_runs = float(runs.sum())
    if total_runs > RUN_MIN_SHARE * float(prose_words.sum()) and float(runs[found[1]].sum()) < 0.5 * total_runs:
        found = _deepest_holder(chains, runs) or found
    spine, inside = found
    return spine, float(prose_words[inside].sum()) / float(prose_words.sum())


# (hint word, group) membership: unpacked hint bits @ this > 0 says which groups a block's bits touch.
_OFF_MAIN_GROUP_OF = np.array([[w in words for _, words in _OFF_MAIN_GROUPS] for w in HINT_WORDS], np.float32)


def _off_main_features(doc: Document, elements: list[tuple[int, ...]],
                       main: tuple[tuple[int, ...], float] | None) -> np.ndarray:
    """Hint groups carried by a block's elements that do not enclose the page's main element (without one,
    that are below the wrapper all blocks share), and how many such elements enclose the block."""
    n = len(elements)
    out = np.zeros((n, len(_OFF_MAIN)), np.float32)
    if doc.format != "html" or n == 0:
        return out
    if main is not None:
        spine = main[0]
    else:
        spine = elements[0]
        for chain in elements[1:]:
            spine = spine[: _shared_prefix(spine, chain)]
    off_bits, off_levels = _off_spine(doc, elements, spine)
    out[:, :-1] = _bits(off_bits, len(HINT_WORDS)) @ _OFF_MAIN_GROUP_OF > 0
    out[:, -1] = off_levels
    return out


def _off_spine(doc: Document, elements: list[tuple[int, ...]], spine: tuple[int, ...]) -> tuple[list[int], list[int]]:
    """Each block's hint bits from its elements that are not on `spine` (a chain of elements from the root),
    and how many such elements enclose it."""
    return _off_spine_chains(elements, [b.element_hints for b in doc.blocks], spine)


def _off_spine_python(elements: list[tuple[int, ...]], owns: list[tuple[int, ...]],
                      spine: tuple[int, ...]) -> tuple[list[int], list[int]]:
    """`_off_spine` over the chains `elements` and their elements' own hint bits `owns`."""
    # (hint bits, levels) off the spine down to each element, memoised: blocks share most of their chains.
    memo: dict[int, tuple[int, int]] = dict.fromkeys(spine, (0, 0))
    n = len(elements)
    off_bits = [0] * n
    off_levels = [0] * n
    for i, (chain, own) in enumerate(zip(elements, owns)):
        if not chain:
            continue
        j = len(chain) - 1
        while j >= 0 and chain[j] not in memo:
            j -= 1
        bits, levels = memo[chain[j]] if j >= 0 else (0, 0)
        for d in range(j + 1, len(chain)):
            bits |= own[d]
            levels += 1
            memo[chain[d]] = (bits, levels)
        off_bits[i] = bits
        off_levels[i] = levels
    return off_bits, off_levels


_off_spine_chains = _compiled_off_spine if COMPILED_SCAN else _off_spine_python


def _shared_prefix(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """How many leading element ids two chains share."""
    if b[: len(a)] == a:
        return len(a)
    return next((d for d, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _main_element_features(chains: _Chains, found: tuple[tuple[int, ...], float] | None) -> np.ndarray:
    """Whether a block lies in the main element `found` by `_main_element`, or in its parent."""
    out = np.zeros((len(chains.tuples), len(_MAIN)), np.float32)
    out[:, 2] = -1.0
    if found is None:
        return out
    spine, share = found
    main, depth = spine[-1], len(spine) - 1
    inside = chains.ids[:, depth] == main  # the padding (-1) is no element
    out[inside, 0] = 1.0
    out[inside, 2] = chains.lengths[inside] - 1 - depth
    if depth > 0:
        out[chains.ids[:, depth - 1] == spine[-2], 1] = 1.0
    out[:, 3] = share
    rows = np.flatnonzero(inside)
    out[: rows[0], 4] = 1.0
    out[rows[-1] + 1:, 5] = 1.0
    return out


def block_words(doc: Document) -> np.ndarray:
    """Whitespace tokens per block: the weight of a block in page-level sums."""
    return np.array([b.text.count(" ") + 1 for b in doc.blocks], np.float32)


def block_path_ids(doc: Document) -> np.ndarray:
    """An integer id per distinct tag path of the page."""
    return _group_ids([b.path for b in doc.blocks])


def page_profile(X: np.ndarray) -> np.ndarray:
    """One page's block features summed up as a row (mean and max of each, and the block count):
    what the page-type router reads to tell an article from a listing, a forum or a shop page."""
    X = np.asarray(X)
    if len(X) == 0:
        return np.zeros((1, len(PROFILE_NAMES)))
    if not np.isfinite(X).all():
        X = np.nan_to_num(X.astype(np.float64), nan=0.0)
    # in float64 as the mean of a float64 copy adds, row by row, without the copy
    return np.concatenate([X.mean(axis=0, dtype=np.float64), X.max(axis=0).astype(np.float64),
                           [np.log1p(len(X))]])[None, :]


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
