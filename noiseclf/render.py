"""Output formats of an extraction: plain text, Markdown and a small clean HTML document.

Each renderer reads the kept blocks of an Extraction (made with `with_blocks=True`) and uses their
layout context: headings (`Block.heading`), list items (`within("li")`, ordered by the nearest
ul/ol in `Block.path`, nested by the number of li on the path), blockquotes, preformatted text
and table cells. A table's rows and cells are its blocks' enclosing <tr> and <td>/<th> elements
(`Block.elements`, one per `Block.path` component), so two tables never merge and a cell's blocks
stay one cell; a first row of <th> only is the header of a Markdown table (rows padded to its
width), and a table without one has an empty header row. In plain text a data table's rows are lines, their
cells apart by tabs. A cell that held no text leaves no
block, so each cell sits at its column (`Block.column`: the colspans before it in its row, not the
rowspans of rows above) with empty cells before it. A cell showing only symbols ("✓", "—") leaves no block
either (no word to classify): the page's `Document.symbol_cells` (`Extraction.symbol_cells`) put it back in the
rows of a data table that keep a block. In a table where a row keeps text in two cells or more, paragraphs, lists
and headings inside a cell are that cell's text, and so is a short table nested in a cell beside others (its
rows apart by "; ", their cells by ", ", as a list of items is written in a sentence), so the row stays one row;
a table around a whole story (one cell a row) keeps them as paragraphs. Text inside <pre> keeps its line breaks
and indentation (`Block.shown`), in every output.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate, groupby, pairwise

from .types import CELL_TAGS, Block, Extraction, InputError

OUTPUTS: tuple[str, ...] = ("text", "markdown", "html")
_LIST_TAGS = frozenset({"ul", "ol", "menu"})
_ROW_TAGS = frozenset({"tr"})
_TABLE_TAGS = frozenset({"table"})
_QUOTE_TAGS = frozenset({"blockquote"})
_PRE_TAGS = frozenset({"pre"})
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
    quote: int = 0  # inside a <blockquote>: its element id + 1 (-1 where the path does not tell which); else 0
    header: bool = False  # a <th> cell
    group: str = ""  # items with equal kind and group join one list, code block or table
    language: str = ""  # a code block's language, from class names like "language-python"
    row: int = 0  # a table cell's <tr> element (a number of its own where the path does not tell)
    cell: int = 0  # a table cell's <td>/<th> element: the blocks of one cell join
    column: int = 0  # a table cell's column in its row (0 for a block of a table nested in the cell: not known)
    nested: tuple[_Place, ...] = ()  # a block of tables nested in the cell: its places in them (`_cell_places`)


def _prefix(path: str, tags: frozenset[str]) -> str:
    """The path up to and including its last component in `tags`, or ""."""
    parts = path.split("/")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in tags:
            return "/".join(parts[: i + 1])
    return ""


def _enclosing(block: Block, tags: frozenset[str]) -> int | None:
    """The element id of the block's nearest enclosing element with one of `tags`, or None (none, or a path
    cut short on a very deep page, which no longer lines up with the element ids)."""
    parts = block.path.split("/")
    if len(parts) != len(block.elements):
        return None
    return next((block.elements[i] for i in range(len(parts) - 1, -1, -1) if parts[i] in tags), None)


_Place = tuple[int | None, int | None, int | None]  # (table, row, cell) element ids of a table cell's block
_Places = tuple[_Place, ...]


def _cell_places(block: Block) -> _Places:
    """The table, row and cell of each table cell enclosing a block, outermost first; () outside cells. The last
    is its nearest table, row and cell, each None where the path does not tell (all where it is cut short)."""
    if not (block.within("td") or block.within("th")):
        return ()
    parts = block.path.split("/")
    if len(parts) != len(block.elements):
        return ((None, None, None),)
    cells: list[_Place] = []
    table = row = None
    for part, element in zip(parts, block.elements):
        if part in CELL_TAGS:
            cells.append((table, row, element))
        elif part in _TABLE_TAGS:
            table = element
        elif part in _ROW_TAGS:
            row = element
    nearest = cells.pop()[2] if cells else None
    return (*cells, (table, row, nearest))


# A cell whose nested tables keep more text is no row's value but a story or list laid out in a table of its own
_NESTED_CHARS = 300


@dataclass(frozen=True, slots=True)
class _Tables:
    """What the kept blocks tell of the tables they lie in."""

    data: set[int]  # tables in which some row keeps text in two cells or more (by the blocks' nearest cells)
    marked: set[int]  # tables in which some row shows two cells or more, its symbol cells counted
    holding: set[_Place]  # cells of data tables' rows of two cells or more whose nested tables are that cell's text


def _tables(kept: Sequence[Block], places: Sequence[_Places], marks: Sequence[_Places]) -> _Tables:
    """What the kept blocks (`places`: theirs; `marks`: the symbol cells') tell of their tables: the data tables,
    whose cells may hold paragraphs, lists or headings, unlike a layout table around a whole story; the tables
    whose rows show cells beside a kept block's; and the cells of data tables' rows of several cells that hold
    tables of at most `_NESTED_CHARS` characters of text."""
    nearest: dict[tuple[int, int], set[int]] = {}
    outer: dict[tuple[int, int], set[int]] = {}
    nested: dict[_Place, int] = {}  # the characters of nested tables' text in each cell
    for block, levels in zip(kept, places):
        if levels and None not in levels[-1]:
            table, row, cell = levels[-1]
            nearest.setdefault((table, row), set()).add(cell)  # type: ignore[arg-type]
            for place in levels[:-1]:
                outer.setdefault(place[:2], set()).add(place[2])  # type: ignore[arg-type]
                nested[place] = nested.get(place, 0) + len(block.text)
    data = {table for (table, _), held in nearest.items() if len(held) > 1}
    shown = {row: set(held) for row, held in nearest.items()}
    for levels in marks:
        if levels and levels[-1][:2] in shown and levels[-1][2] is not None:
            shown[levels[-1][:2]].add(levels[-1][2])  # type: ignore[index, arg-type]
    wide = {row for row, held in outer.items() if len(held | nearest.get(row, set())) > 1}  # rows of cells
    holding = {place for place, chars in nested.items() if place[0] in data and chars <= _NESTED_CHARS
               and place[:2] in wide}
    return _Tables(data, {table for (table, _), held in shown.items() if len(held) > 1}, holding)


def _data_level(places: _Places, tables: _Tables) -> int | None:
    """Which of a block's `places` it renders in: the outermost cell that holds it (`_Tables.holding`) through
    tables that show rows of cells (a short table of cells nested in a row of cells is its cell's text; a long one,
    one alone in its row and a layout table stay as they are), else its nearest cell's in a data table; None
    outside data tables."""
    for level, place in enumerate(places[:-1]):
        if place in tables.holding and all(inner[0] in tables.marked for inner in places[level + 1:]):
            return level
    if places and places[-1][0] in tables.data and None not in places[-1]:
        return len(places) - 1
    return None


def _separator(before: _Places, after: _Places) -> str:
    """What parts two blocks of one cell (by their places in tables nested in it): "; " between the rows of a
    nested table, ", " between the cells of one of its rows, else a space."""
    for (table, row, cell), (table2, row2, cell2) in zip(before, after):
        if table != table2:
            break
        if row != row2:
            return "; "
        if cell != cell2:
            return ", "
    return " "


def _with_symbols(kept: list[Block], places: list[_Places], marks: Sequence[tuple[Block, _Places]],
                  tables: _Tables) -> tuple[list[Block], list[_Places]]:
    """The kept blocks and their places with the symbol cells (`Document.symbol_cells`) of the data tables' rows
    that keep a block among them: each after the row's last kept block of an earlier cell, else before its first.
    A symbol shows where its row is kept, and only there."""
    held: dict[tuple[int | None, int | None], list[tuple[int, int]]] = {}  # a row's kept blocks, and their cells
    for i, levels in enumerate(places):
        for table, row, cell in levels:
            if row is not None and cell is not None:
                held.setdefault((table, row), []).append((i, cell))
    before: dict[int, list[tuple[Block, _Places]]] = {}  # the symbols to put before each kept block
    # a row's cells in order, with the last kept block among the cells up to each: read without a pass over the
    # row for each symbol, which a wide row of marks made quadratic
    ordered: dict[tuple[int | None, int | None], tuple[list[int], list[int]]] = {}
    for symbol, levels in marks:
        table, row, cell = levels[-1] if levels else (None, None, None)
        row_blocks = held.get((table, row))
        if not row_blocks or cell is None or _data_level(levels, tables) is None:
            continue
        if (table, row) not in ordered:
            by_cell = sorted(row_blocks, key=lambda pair: pair[1])
            ordered[table, row] = [c for _, c in by_cell], list(accumulate((i for i, _ in by_cell), max))
        cells, last = ordered[table, row]
        earlier = bisect_left(cells, cell)
        before.setdefault(last[earlier - 1] + 1 if earlier else row_blocks[0][0], []).append((symbol, levels))
    if not before:
        return kept, places
    merged: list[tuple[Block, _Places]] = []
    for i, pair in enumerate(zip(kept, places)):
        merged += before.get(i, [])
        merged.append(pair)
    merged += before.get(len(kept), [])
    return [block for block, _ in merged], [levels for _, levels in merged]


def _cell_tag(block: Block, table: int | None, data_tables: set[int]) -> str:
    """"td" or "th" for a block that is a table cell or lies in a cell (of `table`) of a data table; else ""."""
    if block.tag in CELL_TAGS:
        return block.tag
    if data_tables and table in data_tables:
        return next((tag for tag in reversed(block.path.split("/")) if tag in CELL_TAGS), "")
    return ""


def _nested_cell(block: Block, places: _Places, tables: _Tables, quote: int) -> _Item | None:
    """The cell item of a block inside a table nested in a data table's cell: a part of that cell's text (its
    header from that cell's tag, its column not known); None for any other block."""
    level = _data_level(places, tables)
    if level is None or level == len(places) - 1:
        return None
    table, row, cell = places[level]
    tag = [part for part in block.path.split("/") if part in CELL_TAGS][level]
    return _Item("cell", block.text, quote=quote, header=tag == "th", group=f"table {table}",
                 row=row, cell=cell, nested=places[level + 1:])  # type: ignore[arg-type]


def _item(block: Block, position: int, places: _Places, tables: _Tables) -> _Item:
    """Classify a block as heading, list item, code, table cell or paragraph (`position`: its place among the
    kept blocks, a row of its own for a cell whose row the path does not tell; `places`: its `_cell_places`)."""
    quote = 0
    if block.within("blockquote"):
        element = _enclosing(block, _QUOTE_TAGS)
        quote = -1 if element is None else element + 1
    nested = _nested_cell(block, places, tables, quote) if len(places) > 1 else None
    if nested is not None:
        return nested
    place = places[-1] if places else None
    cell_tag = _cell_tag(block, place[0], tables.data) if place is not None else ""
    if cell_tag:
        table, row, cell = place  # type: ignore[misc]
        if row is None or cell is None:
            row = cell = -1 - position
        return _Item("cell", block.text, quote=quote, header=cell_tag == "th",
                     group=_prefix(block.path, _TABLE_TAGS) if table is None else f"table {table}", row=row, cell=cell,
                     column=block.column)
    if block.heading:
        return _Item("h", block.text, level=block.heading, quote=quote)
    if block.within("pre"):
        match = _CODE_LANGUAGE.search(block.attrs)
        pre = _enclosing(block, _PRE_TAGS)  # two <pre> in a row are two code blocks
        return _Item("pre", block.shown, quote=quote, language=match.group(1).lower() if match else "",
                     group=_prefix(block.path, _PRE_TAGS) if pre is None else f"pre {pre}")
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


def _table_rows(cells: Sequence[_Item]) -> tuple[list[list[_Item]], bool]:
    """The rows of a run of table cells, a cell's blocks joined, and whether the first row is a header: <th>
    cells only, with rows under it."""
    rows = [_placed([_joined(list(blocks)) for _, blocks in groupby(row, key=lambda c: c.cell)])
            for _, row in groupby(cells, key=lambda c: c.row)]
    width = max(map(len, rows))  # a row whose last cells held no text ends short
    rows = [row + [replace(row[-1], text="")] * (width - len(row)) for row in rows]
    return rows, len(rows) > 1 and all(c.header for c in rows[0])


def _placed(cells: list[_Item]) -> list[_Item]:
    """A row's cells at their columns: a cell that held no text left no block, so an empty one takes its place
    (and the places a colspan covers), of the kind of the cell after it."""
    row: list[_Item] = []
    for cell in cells:
        row += [replace(cell, text="")] * (cell.column - len(row))
        row.append(cell)
    return row


def _joined(blocks: list[_Item]) -> _Item:
    """The blocks of one table cell (lines split by <br>, paragraphs, tables nested in it) as one cell, at the
    column its own blocks tell."""
    first = blocks[0]
    if len(blocks) == 1:
        return first
    text = first.text + "".join(_separator(a.nested, b.nested) + b.text for a, b in pairwise(blocks))
    return replace(first, text=text, column=max(b.column for b in blocks), nested=())


def _kept_blocks(ex: Extraction) -> tuple[list[Block], list[_Places], _Tables]:
    """The kept blocks of an extraction with its symbol cells among them, their places in tables, and the data
    tables."""
    return _placed_blocks([b.block for b in ex.blocks if b.keep], ex.symbol_cells)


def _placed_blocks(kept: list[Block], symbols: Sequence[Block]) -> tuple[list[Block], list[_Places], _Tables]:
    """Kept blocks with the `symbols` of their data tables among them, their `_cell_places` and the data tables
    (told by the kept blocks alone)."""
    places = [_cell_places(block) for block in kept]
    marks = [(symbol, _cell_places(symbol)) for symbol in symbols]
    tables = _tables(kept, places, [levels for _, levels in marks])
    if marks and tables.data:
        kept, places = _with_symbols(kept, places, marks, tables)
    return kept, places, tables


def _kept_items(ex: Extraction) -> list[_Item]:
    kept, places, tables = _kept_blocks(ex)
    return [_item(block, i, levels, tables) for i, (block, levels) in enumerate(zip(kept, places))]


def to_text(ex: Extraction) -> str:
    """The kept blocks as plain text, one paragraph per block (see `plain_text`)."""
    return plain_text((b.block for b in ex.blocks if b.keep), ex.symbol_cells)


def plain_text(blocks: Iterable[Block], symbol_cells: Sequence[Block] = ()) -> str:
    """Blocks as plain text: a paragraph each, but the lines of one <pre> that <br> cut into blocks one under
    another, as the page shows them, and a data table's rows a line each, their cells apart by tabs (a table nested
    in a cell is that cell's text: its rows apart by "; ", their cells by ", "). `symbol_cells`: the page's
    `Document.symbol_cells`, shown in the data tables' rows kept."""
    kept, places, tables = _placed_blocks(list(blocks), symbol_cells)
    paragraphs: list[str] = []
    last: tuple = ()  # ("pre", element) or ("table", table, row, cell, nested places) of the block before
    column = 0  # the column of the last cell written
    for block, levels in zip(kept, places):
        at = _table_place(block, levels, tables)
        at_column = block.column if at is not None and not at[4] else 0  # a nested table's cell's is not the row's
        if at is not None and last[:2] == at[:2]:  # the same table: another block of the cell, cell or row
            if last[2] != at[2]:  # a row a line, a cell at its column
                paragraphs[-1] += "\n" + "\t" * at_column
                column = at_column
            elif last[3] != at[3]:
                paragraphs[-1] += "\t" * max(1, at_column - column)
                column = max(column + 1, at_column)
            else:
                paragraphs[-1] += _separator(last[4], at[4])
            paragraphs[-1] += block.text
            last = at
            continue
        if at is not None:
            paragraphs.append("\t" * at_column + block.text)
            last, column = at, at_column
            continue
        pre = ("pre", _enclosing(block, _PRE_TAGS)) if block.within("pre") else ()
        if pre and pre[1] is not None and pre == last:
            paragraphs[-1] += "\n" + block.shown
        else:
            paragraphs.append(block.shown)
        last = pre
    return "\n\n".join(paragraphs)


def _table_place(block: Block, places: _Places, tables: _Tables) -> tuple | None:
    """("table", table, row, cell, nested places) of a block inside a data table's cell, the outermost (`places`:
    its `_cell_places`), else None (also for code: a <pre> in a cell keeps its lines, a paragraph of its own)."""
    level = _data_level(places, tables)
    if level is None or block.within("pre"):
        return None
    return ("table", *places[level], places[level + 1:])


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
    """A GitHub-flavoured table: the first row is its header when it is one, else the header is empty (such a
    table needs a header row), as pandoc writes a table without one."""
    rows, header = _table_rows(cells)
    lines = ["| " + " | ".join(_md_cell(c.text) for c in row) + " |" for row in rows]
    if not header:
        lines.insert(0, "|" + "  |" * len(rows[0]))
    lines.insert(1, "|" + " --- |" * len(rows[0]))
    return ["\n".join(lines)]


def _md_group(group: list[_Item]) -> list[str]:
    """Markdown paragraphs of one group (lines of a list or table stay in one paragraph)."""
    first = group[0]
    if first.kind == "h":
        return ["#" * first.level + " " + _md_heading(first.text)]
    if first.kind == "li":
        return ["\n".join("   " * level + ("1. " if it.ordered else "- ") + _md_escape(it.text)
                          for it, level in zip(group, _list_levels(group)))]
    if first.kind == "pre":
        body = "\n".join(it.text for it in group)
        fence = _md_fence(body)
        return [f"{fence}{first.language}\n{body}\n{fence}"]
    if first.kind == "cell":
        return _md_table(group)
    return [_md_escape(first.text)]


def _list_levels(items: Sequence[_Item]) -> list[int]:
    """Nesting levels to render: at most one deeper than the item before (a level with no kept item of its own,
    the first item's included, would read as code or as the parent's text)."""
    levels: list[int] = []
    open_lists: list[int] = []  # the source levels of the lists open at this item
    for it in items:
        while open_lists and open_lists[-1] > it.level:
            open_lists.pop()
        if not open_lists or open_lists[-1] < it.level:
            open_lists.append(it.level)
        levels.append(len(open_lists) - 1)
    return levels


def to_markdown(ex: Extraction) -> str:
    """The kept blocks as Markdown: headings, lists, blockquotes, tables and fenced code kept; the paragraphs
    of one <blockquote> in one quote."""
    paragraphs = [(group[0].quote, para) for group in _groups(_kept_items(ex)) for para in _md_group(group)]
    out = []
    for quote, run in groupby(paragraphs, key=lambda qp: qp[0]):
        paras = [para for _, para in run]
        out += [_md_quote("\n\n".join(paras))] if quote else paras
    return "\n\n".join(out)


def _md_quote(para: str) -> str:
    return "\n".join("> " + line if line else ">" for line in para.split("\n"))


# ---------------------------------------------------------------------------------------------- HTML


# What HTML does not allow in a document's text: controls other than its white space, and noncharacters
_NONCHARACTERS = "".join(chr(plane + 0xFFFE) + chr(plane + 0xFFFF) for plane in range(0, 0x110000, 0x10000))
_NOT_HTML_TEXT = re.compile(f"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef{_NONCHARACTERS}]")


def html_escaped(text: str) -> str:
    """`text` as HTML text or an attribute value: escaped, without the characters HTML does not allow."""
    return html.escape(_NOT_HTML_TEXT.sub("", text), quote=True)


def _html_list(items: Sequence[_Item]) -> str:
    """Nested <ul>/<ol> for a run of list items, each deeper list inside its parent's <li>."""
    out: list[str] = []
    stack: list[str] = []
    for it, level in zip(items, _list_levels(items)):
        tag = "ol" if it.ordered else "ul"
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
        out.append(f"<li>{html_escaped(it.text)}")
    while stack:
        out.append(f"</li></{stack.pop()}>")
    return "".join(out)


def _html_cell(cell: _Item) -> str:
    tag = "th" if cell.header else "td"
    return f"<{tag}>{html_escaped(cell.text)}</{tag}>"


def _html_row(row: Sequence[_Item]) -> str:
    return "<tr>" + "".join(_html_cell(c) for c in row) + "</tr>"


def _html_table(cells: Sequence[_Item]) -> str:
    rows, header = _table_rows(cells)
    if header:
        return (f"<table><thead>{_html_row(rows[0])}</thead><tbody>"
                + "".join(_html_row(r) for r in rows[1:]) + "</tbody></table>")
    return "<table><tbody>" + "".join(_html_row(r) for r in rows) + "</tbody></table>"


def _html_group(group: list[_Item]) -> str:
    first = group[0]
    if first.kind == "h":
        return f"<h{first.level}>{html_escaped(first.text)}</h{first.level}>"
    if first.kind == "li":
        return _html_list(group)
    if first.kind == "pre":
        lang = f' class="language-{html_escaped(first.language)}"' if first.language else ""
        return f"<pre><code{lang}>" + html_escaped("\n".join(it.text for it in group)) + "</code></pre>"
    if first.kind == "cell":
        return _html_table(group)
    return f"<p>{html_escaped(first.text)}</p>"


def to_html(ex: Extraction) -> str:
    """The kept blocks as a small, escaped HTML document (headings, paragraphs, lists, quotes, tables, code)."""
    body: list[str] = []
    for quoted, run in groupby(_groups(_kept_items(ex)), key=lambda g: g[0].quote):
        parts = "\n".join(_html_group(g) for g in run)
        body.append(f"<blockquote>\n{parts}\n</blockquote>" if quoted else parts)
    return ("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html_escaped(ex.title)}</title>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")


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
