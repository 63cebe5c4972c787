"""Output formats of an extraction: plain text, Markdown and a small clean HTML document.

Each renderer reads the kept blocks of an Extraction (made with `with_blocks=True`) and uses their
layout context: headings (`Block.heading`), list items (`within("li")`, ordered by the nearest
ul/ol in `Block.path`, nested by the number of li on the path), blockquotes, preformatted text
and table cells. A block knows its tag path but not its row or column, so a table is rebuilt
only when its cells show the shape: a leading row of at least two <th> gives the column count
(a Markdown table with a header when the other cells fill whole rows, else one ` | `-joined line
per row), or <th> cells recurring at a fixed stride mark the start of each row (` | `-joined
lines). Other cells are rendered as paragraphs, one per cell. Text inside
<pre> reaches us with its whitespace collapsed, so a code block has one line per block.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby

from .types import Block, Extraction, InputError

OUTPUTS: tuple[str, ...] = ("text", "markdown", "html")
_LIST_TAGS = frozenset({"ul", "ol", "menu"})
_CELL_TAGS = frozenset({"td", "th"})
# What CommonMark reads as inline markup: code spans, emphasis (an _ inside a word is none), links and images,
# raw HTML and autolinks, entity references, and a backslash escaping the punctuation after it or breaking a line
_MD_INLINE = re.compile(r"[`*\[]|(?<![^\W_])_|_(?![^\W_])|<(?=\S)|&(?=#?[A-Za-z0-9]+;)|\\(?=[!-/:-@\[-`{-~]|$)")
# A line start read as a block (heading, quote, bullet, thematic break, tilde fence), or an ordered list's number
_MD_BLOCK_START = re.compile(r"^(?=#{1,6}(?:\s|$)|>|[-+](?:\s|$)|---|~~~)|^(\d{1,9})(?=[.)](?:\s|$))")
_MD_CLOSING_HASHES = re.compile(r"(?<!\S)(?=#+$)")  # an ATX heading's closing sequence, dropped when unescaped
_CODE_LANGUAGE = re.compile(r"\b(?:language|lang|highlight|brush)\s+([A-Za-z0-9+#]+)")


@dataclass(frozen=True, slots=True)
class _Item:
    """A kept block reduced to what the renderers need."""

    kind: str  # "h" heading, "p" paragraph, "li" list item, "pre" preformatted, "cell" table cell
    text: str
    level: int = 0  # heading level (1-6) or list nesting (0 = top level)
    ordered: bool = False  # list item of an <ol>
    quote: bool = False  # inside a <blockquote>
    header: bool = False  # a <th> cell
    group: str = ""  # items with equal kind and group join one list, code block or table
    language: str = ""  # a code block's language, from class names like "language-python"


def _prefix(path: str, tags: frozenset[str]) -> str:
    """The path up to and including its last component in `tags`, or ""."""
    parts = path.split("/")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in tags:
            return "/".join(parts[: i + 1])
    return ""


def _item(block: Block) -> _Item:
    """Classify a block as heading, list item, code, table cell or paragraph."""
    quote = block.within("blockquote")
    if block.heading:
        return _Item("h", block.text, level=block.heading, quote=quote)
    if block.within("pre"):
        match = _CODE_LANGUAGE.search(block.attrs)
        return _Item("pre", block.text, quote=quote, group=_prefix(block.path, frozenset({"pre"})),
                     language=match.group(1).lower() if match else "")
    if block.tag in _CELL_TAGS:
        return _Item("cell", block.text, quote=quote, header=block.tag == "th",
                     group=_prefix(block.path, frozenset({"table"})))
    if block.within("li"):
        parts = block.path.split("/")
        lists = [p for p in parts if p in _LIST_TAGS]
        return _Item("li", block.text, level=max(parts.count("li") - 1, 0), quote=quote,
                     ordered=bool(lists) and lists[-1] == "ol")
    return _Item("p", block.text, quote=quote)


def _groups(items: Sequence[_Item]) -> list[list[_Item]]:
    """Consecutive items that render together: a list, a code block, a table; others alone."""
    groups: list[list[_Item]] = []
    for item in items:
        last = groups[-1][-1] if groups else None
        joins = (last is not None and item.kind in ("li", "pre", "cell") and last.kind == item.kind
                 and last.quote == item.quote and last.group == item.group)
        if joins:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _table_rows(cells: Sequence[_Item]) -> tuple[list[list[_Item]], bool] | None:
    """Rows of a run of table cells and whether the first is a header, when the shape tells them."""
    n = len(cells)
    lead = next((i for i, c in enumerate(cells) if not c.header), n)
    if lead >= 2:
        rows = [list(cells[i: i + lead]) for i in range(0, n, lead)]
        return rows, (n - lead) % lead == 0 and n > lead
    starts = [i for i, c in enumerate(cells) if c.header]
    if len(starts) >= 2 and starts[0] == 0:
        stride = starts[1]
        if stride >= 2 and n % stride == 0 and starts == list(range(0, n, stride)):
            return [list(cells[i: i + stride]) for i in range(0, n, stride)], False
    return None


def _kept_items(ex: Extraction) -> list[_Item]:
    return [_item(b.block) for b in ex.blocks if b.keep]


def to_text(ex: Extraction) -> str:
    """The kept blocks as plain text, one paragraph per block."""
    return "\n\n".join(b.text for b in ex.blocks if b.keep)


# ------------------------------------------------------------------------------------------ Markdown


def _md_inline(text: str) -> str:
    """`text` with a backslash before each character CommonMark would read as inline markup, and no other."""
    return _MD_INLINE.sub(r"\\\g<0>", text)


def _md_line(line: str) -> str:
    """`line` with a start Markdown would read as a block escaped: `\\# x`, `\\- x`, `1\\. x`."""
    return _MD_BLOCK_START.sub(lambda m: (m.group(1) or "") + "\\", line, count=1)


def _md_escape(text: str) -> str:
    """A block's text as Markdown that renders as exactly that text."""
    return _md_line(_md_inline(text))


def _md_heading(text: str) -> str:
    """A heading's text escaped; a final run of # standing alone would be read as the closing sequence."""
    return _MD_CLOSING_HASHES.sub(r"\\", _md_inline(text), count=1)


def _md_cell(text: str) -> str:
    return _md_inline(text).replace("|", "\\|")


def _md_fence(body: str) -> str:
    """Backticks enough to fence `body`: more than its longest run of them, and at least three."""
    return "`" * max(3, max(map(len, re.findall("`+", body)), default=0) + 1)


def _md_table(cells: Sequence[_Item]) -> list[str]:
    shape = _table_rows(cells)
    if shape is None:
        return [_md_escape(c.text) for c in cells]
    rows, header = shape
    if not header:
        return [_md_line(" | ".join(_md_cell(c.text) for c in row)) for row in rows]
    lines = ["| " + " | ".join(_md_cell(c.text) for c in row) + " |" for row in rows]
    lines.insert(1, "|" + " --- |" * len(rows[0]))
    return ["\n".join(lines)]


def _md_group(group: list[_Item]) -> list[str]:
    """Markdown paragraphs of one group (lines of a list or table stay in one paragraph)."""
    first = group[0]
    if first.kind == "h":
        return ["#" * first.level + " " + _md_heading(first.text)]
    if first.kind == "li":
        return ["\n".join("   " * it.level + ("1. " if it.ordered else "- ") + _md_escape(it.text) for it in group)]
    if first.kind == "pre":
        body = "\n".join(it.text for it in group)
        fence = _md_fence(body)
        return [f"{fence}{first.language}\n{body}\n{fence}"]
    if first.kind == "cell":
        return _md_table(group)
    return [_md_escape(first.text)]


def to_markdown(ex: Extraction) -> str:
    """The kept blocks as Markdown: headings, lists, blockquotes, tables and fenced code kept."""
    paragraphs: list[str] = []
    for group in _groups(_kept_items(ex)):
        for para in _md_group(group):
            paragraphs.append(_md_quote(para) if group[0].quote else para)
    return "\n\n".join(paragraphs)


def _md_quote(para: str) -> str:
    return "\n".join("> " + line if line else ">" for line in para.split("\n"))


# ---------------------------------------------------------------------------------------------- HTML


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _html_list(items: Sequence[_Item]) -> str:
    """Nested <ul>/<ol> for a run of list items, each deeper list inside its parent's <li>."""
    out: list[str] = []
    stack: list[str] = []
    for it in items:
        tag = "ol" if it.ordered else "ul"
        level = min(it.level, len(stack))
        while len(stack) > level + 1:
            out.append(f"</li></{stack.pop()}>")
        if len(stack) == level + 1:
            if stack[-1] == tag:
                out.append("</li>")
            else:
                out.append(f"</li></{stack.pop()}>")
        if len(stack) == level:
            out.append(f"<{tag}>")
            stack.append(tag)
        out.append(f"<li>{_esc(it.text)}")
    while stack:
        out.append(f"</li></{stack.pop()}>")
    return "".join(out)


def _html_cell(cell: _Item) -> str:
    tag = "th" if cell.header else "td"
    return f"<{tag}>{_esc(cell.text)}</{tag}>"


def _html_row(row: Sequence[_Item]) -> str:
    return "<tr>" + "".join(_html_cell(c) for c in row) + "</tr>"


def _html_table(cells: Sequence[_Item]) -> str:
    shape = _table_rows(cells)
    if shape is None:
        return "\n".join(f"<p>{_esc(c.text)}</p>" for c in cells)
    rows, header = shape
    if header:
        return (f"<table><thead>{_html_row(rows[0])}</thead><tbody>"
                + "".join(_html_row(r) for r in rows[1:]) + "</tbody></table>")
    return "<table><tbody>" + "".join(_html_row(r) for r in rows) + "</tbody></table>"


def _html_group(group: list[_Item]) -> str:
    first = group[0]
    if first.kind == "h":
        return f"<h{first.level}>{_esc(first.text)}</h{first.level}>"
    if first.kind == "li":
        return _html_list(group)
    if first.kind == "pre":
        lang = f' class="language-{_esc(first.language)}"' if first.language else ""
        return f"<pre><code{lang}>" + _esc("\n".join(it.text for it in group)) + "</code></pre>"
    if first.kind == "cell":
        return _html_table(group)
    return f"<p>{_esc(first.text)}</p>"


def to_html(ex: Extraction) -> str:
    """The kept blocks as a small, escaped HTML document (headings, paragraphs, lists, quotes, tables, code)."""
    body: list[str] = []
    for quoted, run in groupby(_groups(_kept_items(ex)), key=lambda g: g[0].quote):
        parts = "\n".join(_html_group(g) for g in run)
        body.append(f"<blockquote>\n{parts}\n</blockquote>" if quoted else parts)
    return ("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{_esc(ex.title)}</title>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")


RENDERERS: dict[str, Callable[[Extraction], str]] = {"text": to_text, "markdown": to_markdown, "html": to_html}


def render(ex: Extraction, output: str = "text") -> str:
    """The extraction's kept blocks in the named output format (text, markdown or html)."""
    check_output(output)
    if not any(b.keep for b in ex.blocks):
        return ""
    return RENDERERS[output](ex)


def check_output(output: str, source: str = "") -> None:
    """Refuse an unknown output format before any work is done."""
    if output not in RENDERERS:
        raise InputError(f"{source or 'input'}: unknown output {output!r} (use {', '.join(OUTPUTS)})")
