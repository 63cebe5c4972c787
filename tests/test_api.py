"""The public API as a scraper embeds it: load once, extract in any output format, share across threads, fail clearly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

import noiseclf
from noiseclf import Extraction, Extractor, InputError, ModelError, NoiseclfError, ScoredBlock
from noiseclf.artifact import trees_path
from noiseclf.features import FEATURE_NAMES, block_features
from noiseclf.model import load_model, manifest_path, save_model
from noiseclf.inference import default_model_path
from noiseclf.scoring import PackedModel
from noiseclf.render import plain_text, to_html, to_markdown, to_text
from noiseclf.segmentation import segment
from noiseclf.types import ANCESTOR_TAGS, Document

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLE = (FIXTURES / "article.html").read_bytes()
PAGES = [ARTICLE] + [(FIXTURES / "site" / name).read_bytes() for name in ("bridge.html", "beekeepers.html")]
TITLE = "Planting an orchard on a small plot"


@pytest.fixture(scope="module")
def extractor(tiny_model: Path) -> Extractor:
    return Extractor.load(tiny_model)


def _all_kept(content: bytes | str | Document) -> Extraction:
    """An extraction keeping every block of a page: renderers tested without a model's verdicts."""
    doc = content if isinstance(content, Document) else segment(content, format="html")
    return Extraction(doc.title, "", doc.format, 1.0, tuple(ScoredBlock(b, 1.0, True) for b in doc.blocks),
                      symbol_cells=doc.symbol_cells)


class _Nesting(HTMLParser):
    """Checks that every non-void element is closed in order."""

    VOID: ClassVar[set[str]] = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def _check_html(document: str) -> list[str]:
    parser = _Nesting()
    parser.feed(document)
    parser.close()
    assert not parser.stack, f"unclosed: {parser.stack}"
    return parser.tags


def test_default_model_extracts_the_article(default_extractor: Extractor) -> None:
    result = default_extractor.extract(ARTICLE)
    assert result.title == TITLE
    assert "dwarfing roots" in result.text and "Written by volunteers" not in result.text


@pytest.mark.parametrize("which", ["tiny two-pass", "default one-pass"])
def test_scores_match_the_model_given_every_page_input(which: str, extractor: Extractor,
                                                       default_extractor: Extractor) -> None:
    """`classify` hands a model the page's words and tag paths only when a second pass reads them."""
    from noiseclf.features import block_features, block_path_ids, block_words

    ex = extractor if which.startswith("tiny") else default_extractor
    model, _ = ex.model_for("html")
    assert model.two_pass == which.startswith("tiny")
    for content in PAGES:
        doc = segment(content, format="html")
        X = block_features(doc)
        full = model.predict_proba(X, words=block_words(doc), paths=block_path_ids(doc))[:, 1]
        assert ex.classify(doc).tolist() == full.tolist() == ex.score(doc, X).tolist()


def test_extract_returns_title_text_and_confidence(extractor: Extractor) -> None:
    result = extractor.extract(ARTICLE, source="article.html")
    assert result.title == TITLE
    assert result.format == "html"
    assert "You do not need a field to grow your own apples" in result.text
    assert "Privacy" not in result.text and "Recipes" not in result.text
    assert 0.0 <= result.confidence <= 1.0
    assert result.blocks == ()
    assert noiseclf.extract(ARTICLE).text == Extractor.load().extract(ARTICLE).text  # the one-call helper too


def test_the_title_is_the_story_s_without_the_site_name(extractor: Extractor) -> None:
    page = ARTICLE.replace(b"<head>", b'<head><meta property="og:title" content="' + TITLE.encode()
                           + b' | Garden Weekly"><meta property="og:site_name" content="Garden Weekly">', 1)
    assert page != ARTICLE
    assert extractor.extract(page).title == TITLE
    assert extractor.extract(page, output="html").text.count(f"<title>{TITLE}</title>") == 1


def test_with_blocks_gives_every_block_and_the_same_text(extractor: Extractor) -> None:
    result = extractor.extract(ARTICLE, with_blocks=True)
    assert len(result.blocks) == len(segment(ARTICLE).blocks)
    threshold = extractor.manifests["html"].threshold
    assert all(b.keep == (b.probability >= threshold) for b in result.blocks)
    assert result.text == "\n\n".join(b.text for b in result.kept) == to_text(result)


def test_markdown_keeps_headings_lists_quotes_tables_and_code() -> None:
    markdown = to_markdown(_all_kept(ARTICLE))
    for expected in (f"# {TITLE}", "## Choosing the trees", "- Pick a dwarfing rootstock",
                     "1. Soak the roots in a bucket", "> Plant a tree when you are young",
                     "| Rootstock | Height | Spacing |\n| --- | --- | --- |\n| Very dwarfing | 1.8 m | 1.2 m |",
                     "```text\ntree: Discovery"):
        assert expected in markdown, expected


def test_code_keeps_its_lines_and_indentation_in_every_output(extractor: Extractor) -> None:
    page = (b"<html><body><p>Loop over the items and add each one to the running total.</p>"
            b"<pre class='language-python'>\n\ndef total(items):\n    result = 0\n    for item in items:\t\n"
            b"        result += item\n\n    return <b>result</b>\n</pre>"
            b"<pre>x = 1<br>    y = 2</pre></body></html>")
    code = "def total(items):\n    result = 0\n    for item in items:\n        result += item\n\n    return result"
    kept = _all_kept(page)
    assert to_text(kept).split("\n\n", 1)[1] == code + "\n\nx = 1\n    y = 2"
    assert f"```python\n{code}\n```\n\n```\nx = 1\n    y = 2\n```" in to_markdown(kept)
    assert f"<pre><code class=\"language-python\">{code}</code></pre>" in to_html(kept)
    lines = _all_kept(b"<pre>def f(x):<br>    return x</pre><pre>y = 2</pre>")  # a <br> is a line, not a paragraph
    assert to_text(lines) == "def f(x):\n    return x\n\ny = 2"
    assert to_markdown(lines) == "```\ndef f(x):\n    return x\n```\n\n```\ny = 2\n```"  # two <pre>, two blocks
    block = next(b.block for b in kept.blocks if b.block.within("pre"))
    assert block.text == " ".join(code.split()) and block.shown == code  # features read the collapsed text
    one_line = segment(b"<pre>\nsame line  \n</pre>", format="html").blocks[0]
    assert one_line.verbatim == "" and one_line.shown == one_line.text == "same line"
    assert code in extractor.with_threshold(0.0).extract(page).text


def test_code_in_a_data_table_keeps_its_lines_in_plain_text() -> None:
    page = (b"<table><tr><td>Example</td><td><pre>def f(x):\n    return x</pre></td></tr>"
            b"<tr><td>Other</td><td>plain</td></tr></table>")
    assert to_text(_all_kept(page)) == "Example\n\ndef f(x):\n    return x\n\nOther\tplain"


def test_markdown_tables_without_a_header_row() -> None:
    rows = b"<table><tr><th>Name</th><td>Ada</td></tr><tr><th>Born</th><td>1815</td></tr></table>"
    assert to_markdown(_all_kept(rows)) == "|  |  |\n| --- | --- |\n| Name | Ada |\n| Born | 1815 |"  # still a table
    assert to_text(_all_kept(rows)) == "Name\tAda\nBorn\t1815"  # a row a line
    plain = b"<table><tr><td>a|b</td><td>c</td></tr></table>"
    assert to_markdown(_all_kept(plain)) == "|  |  |\n| --- | --- |\n| a\\|b | c |"


def test_table_rows_and_cells_come_from_the_table_not_from_counting_cells() -> None:
    page = (b"<table><tr><th>Name</th><th>Age</th><th>City</th></tr>"
            b"<tr><td>Bob</td><td></td><td>Paris</td></tr>"  # an empty cell leaves no block
            b"<tr><td>Ann</td><td>44</td><td>1 Main St<br>Rome</td></tr></table>"
            b"<table><tr><td>Other</td><td>table</td></tr></table>")
    markdown = to_markdown(_all_kept(page))
    assert markdown == ("| Name | Age | City |\n| --- | --- | --- |\n| Bob |  | Paris |\n| Ann | 44 | 1 Main St Rome |"
                        "\n\n|  |  |\n| --- | --- |\n| Other | table |")
    assert to_text(_all_kept(page)) == "Name\tAge\tCity\nBob\t\tParis\nAnn\t44\t1 Main St Rome\n\nOther\ttable"
    spans = (b"<table><tr><th></th><th>2024</th><th>2025</th></tr><tr><th>Sales</th><td></td><td>12</td></tr>"
             b"<tr><td colspan=' 2px'>Total</td><td>30</td></tr>"  # an empty corner, a gap, a colspan
             b"<tr><td></td><td>two<br>lines</td><td colspan='\xc2\xa02'>x</td><td>y</td></tr></table>")
    assert to_markdown(_all_kept(spans)) == ("|  | 2024 | 2025 |  |\n| --- | --- | --- | --- |\n| Sales |  | 12 |  |\n"
                                             "| Total |  | 30 |  |\n|  | two lines | x | y |")  # NBSP is no space
    assert ("<thead><tr><th></th><th>2024</th><th>2025</th><th></th></tr></thead>"  # every row as wide as the widest
            "<tbody><tr><th>Sales</th><td></td><td>12</td><td></td></tr><tr><td>Total</td><td></td><td>30</td><td></td>"
            "</tr>") in to_html(_all_kept(spans))
    header_only = b"<table><tr><th>A</th><th>B</th></tr></table>"  # no rows under it: no table header
    assert to_markdown(_all_kept(header_only)) == "|  |  |\n| --- | --- |\n| A | B |"
    wider = b"<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td><td>3</td></tr></table>"
    assert to_markdown(_all_kept(wider)) == "| A | B |  |\n| --- | --- | --- |\n| 1 | 2 | 3 |"
    html = to_html(_all_kept(page))
    assert "<tr><td>Ann</td><td>44</td><td>1 Main St Rome</td></tr></tbody></table>" in html
    assert "<table><tbody><tr><td>Other</td><td>table</td></tr></tbody></table>" in html
    _check_html(html)


def test_cells_of_a_data_table_hold_their_paragraphs_and_a_layout_table_keeps_its_story() -> None:
    page = (b"<table><tr><th>A</th><th>B</th><th>C</th></tr><tr><td>a2</td><td><div>div one</div><div>div two</div>"
            b"</td><td><p>c2</p></td></tr><tr><td>a3</td><td><ul><li>li one</li><li>li two</li></ul></td><td><h4>Head</h4>"
            b"</td></tr></table><table><tr><td><h1>Story</h1><p>First paragraph of a story in a layout table.</p>"
            b"<p>Second.</p></td><td></td></tr></table>")
    assert to_markdown(_all_kept(page)) == ("| A | B | C |\n| --- | --- | --- |\n| a2 | div one div two | c2 |\n"
                                            "| a3 | li one li two | Head |\n\n# Story\n\n"
                                            "First paragraph of a story in a layout table.\n\nSecond.")
    assert "<tr><td>a3</td><td>li one li two</td><td>Head</td></tr>" in to_html(_all_kept(page))


MATRIX = ("<html><body><h2>Plans compared</h2><table><tr><th>Feature</th><th>Free</th><th>Pro</th></tr>"
          "<tr><td>Backups</td><td>\u2713</td><td><span class='yes'>\u2713</span></td></tr>"
          "<tr><td>Sync</td><td> \u2717 </td><td>\u2713</td></tr>"
          "<tr><td>Price</td><td>\u2014</td><td>5 euros</td></tr>"
          "<tr><td>Support</td><td><span hidden>\u2713</span></td><td style='display:none'>*</td></tr></table>"
          "</body></html>")


def test_cells_showing_only_symbols_keep_their_marks_in_the_rows_kept(extractor: Extractor) -> None:
    every = extractor.with_threshold(0.0)
    assert every.extract(MATRIX).text == ("Plans compared\n\nFeature\tFree\tPro\nBackups\t\u2713\t\u2713\n"
                                          "Sync\t\u2717\t\u2713\nPrice\t\u2014\t5 euros\nSupport")  # hidden: not shown
    assert every.extract(MATRIX, output="markdown").text.endswith(
        "| Feature | Free | Pro |\n| --- | --- | --- |\n| Backups | \u2713 | \u2713 |\n| Sync | \u2717 | \u2713 |\n"
        "| Price | \u2014 | 5 euros |\n| Support |  |  |")
    assert ("<tr><td>Sync</td><td>\u2717</td><td>\u2713</td></tr>"
            in every.extract(MATRIX, output="html", with_blocks=True).text)
    # the classifier reads the same blocks as without the marks: no block of its own for a mark
    blank = MATRIX.replace("\u2713", "").replace("\u2717", "").replace("\u2014", "")
    assert segment(MATRIX).blocks == segment(blank).blocks
    assert [b.text for b in every.extract(MATRIX, with_blocks=True).blocks][-2:] == ["5 euros", "Support"]


def test_marks_show_only_in_a_data_table_s_rows_that_keep_a_block() -> None:
    doc = segment(MATRIX)
    kept = Extraction(doc.title, "", "html", 1.0, tuple(ScoredBlock(b, 0.9, b.text != "Sync") for b in doc.blocks),
                      symbol_cells=doc.symbol_cells)  # the classifier dropped the row "Sync"
    assert "\u2717" not in to_text(kept) and "Backups\t\u2713\t\u2713\nPrice\t\u2014\t5 euros" in to_text(kept)
    assert "| Backups | \u2713 | \u2713 |\n| Price | \u2014 | 5 euros |" in to_markdown(kept)
    layout = segment("<table><tr><td><p>The story of the harbour, told in a layout table.</p><p>More of it.</p></td>"
                     "<td>|</td></tr></table>")  # one cell a row keeps text: no data table, no marks
    assert layout.symbol_cells and to_text(_all_kept(layout)) == ("The story of the harbour, told in a layout table."
                                                                  "\n\nMore of it.")


def test_marks_of_one_cell_on_lines_or_items_of_their_own_stay_apart() -> None:
    page = ("<table><tr><th>Feature</th><th>Free</th><th>Pro</th></tr><tr><td>Sync</td><td>\u2713<br>\u2717</td>"
            "<td><ul><li>\u2713</li><li>\u2014</li></ul></td></tr></table>")
    doc = segment(page)  # as the cells' words are: "yes<br>no" is "yes no"
    assert [b.text for b in doc.symbol_cells] == ["\u2713 \u2717", "\u2713 \u2014"]
    assert to_text(_all_kept(doc)) == "Feature\tFree\tPro\nSync\t\u2713 \u2717\t\u2713 \u2014"


def test_a_wide_row_of_marks_costs_a_pass_over_the_row_not_one_a_mark(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each mark's column and its place among its row's kept blocks are read once for the row: a pass over the row
    for each mark made a page of one wide row of marks quadratic."""
    from noiseclf import segmentation

    mark = "\u2713"
    segment("<table><tr><td>a</td><td>\u2713</td></tr></table>")  # the compiled walk takes colspan once, first
    counted: list[str | None] = []
    spans = segmentation.colspan
    monkeypatch.setattr(segmentation, "colspan", lambda value: counted.append(value) or spans(value))
    cells = "".join(f"<td>{'w' + str(i) if i % 2 == 0 else mark}</td>" for i in range(4000))
    wide = segment(f"<table><tr>{cells}</tr><tr><td>a</td><td>b</td></tr></table>")
    assert len(wide.symbol_cells) == 2000 and len(counted) <= 4000  # a colspan read once a cell
    tall = segment("<table>" + "".join(f"<tr><td>w{i}</td><td>\u2713</td></tr>" for i in range(2000)) + "</table>")

    def seconds(doc: Document) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            to_text(_all_kept(doc))
            best = min(best, time.perf_counter() - start)
        return best

    assert to_text(_all_kept(wide)).count("\u2713") == 2000
    assert seconds(wide) < 6 * seconds(tall) + 0.01  # as many blocks and marks: about as long (12 times, quadratic)


def test_a_short_table_nested_in_a_row_of_cells_is_its_cell_s_text(extractor: Extractor) -> None:
    page = ("<table><tr><th>Name</th><th>Sizes</th><th>Price</th></tr><tr><td>Shirt</td><td><p>In stock:</p><table>"
            "<tr><td>S</td><td>10 left</td></tr><tr><td>M</td><td>\u2014</td></tr></table></td><td>20 euros</td></tr>"
            "<tr><td>Hat</td><td>one size</td><td>8 euros</td></tr></table>")
    every = extractor.with_threshold(0.0)
    assert every.extract(page).text == ("Name\tSizes\tPrice\nShirt\tIn stock: S, 10 left; M, \u2014\t20 euros\n"
                                        "Hat\tone size\t8 euros")  # one row a line, the nested rows in its cell
    assert every.extract(page, output="markdown").text == (
        "| Name | Sizes | Price |\n| --- | --- | --- |\n| Shirt | In stock: S, 10 left; M, \u2014 | 20 euros |\n"
        "| Hat | one size | 8 euros |")
    html = every.extract(page, output="html").text
    assert html.count("<table>") == 1 and "<td>In stock: S, 10 left; M, \u2014</td>" in html
    long = ("<table><tr><td>Ref</td><td>Notes</td></tr><tr><td>1</td><td><table>"
            + "".join(f"<tr><td>{i}.</td><td>{'A citation of some length to a paper ' * 3}</td></tr>" for i in range(4))
            + "</table></td></tr></table>")  # a long nested table is no value of its cell: it stays a table
    assert every.extract(long).text.startswith("Ref\tNotes\n1\n\n0.\tA citation")


def test_a_list_level_without_an_item_of_its_own_and_a_quote_of_several_paragraphs() -> None:
    page = (b"<html><body><ul><li>top item<ul><li><ul><li>grandchild item</li><li>sibling</li></ul></li></ul></li>"
            b"<li>back</li></ul><blockquote><p>Quoted one.</p><p>Quoted two.</p></blockquote>"
            b"<blockquote><p>Another quote.</p></blockquote></body></html>")
    markdown = to_markdown(_all_kept(page))
    assert markdown == ("- top item\n   - grandchild item\n   - sibling\n- back\n\n"
                        "> Quoted one.\n>\n> Quoted two.\n\n> Another quote.")
    html = to_html(_all_kept(page))
    assert "<ul><li>top item<ul><li>grandchild item</li><li>sibling</li></ul></li><li>back</li></ul>" in html
    assert html.count("<blockquote>") == 2
    _check_html(html)


def test_nested_lists_in_markdown_and_html() -> None:
    page = b"<ul><li>one<ol><li>inner</li></ol></li><li>two</li></ul>"
    assert to_markdown(_all_kept(page)) == "- one\n   1. inner\n- two"
    html = to_html(_all_kept(page))
    assert "<ul><li>one<ol><li>inner</li></ol></li><li>two</li></ul>" in html
    _check_html(html)


def test_output_option_renders_from_blocks_it_does_not_return(extractor: Extractor) -> None:
    full = extractor.extract(ARTICLE, with_blocks=True)
    markdown = extractor.extract(ARTICLE, output="markdown")
    assert markdown.text == to_markdown(full) and markdown.blocks == ()
    headings = [b.block for b in full.kept if b.block.heading]
    assert headings and all(f"{'#' * h.heading} {h.text}" in markdown.text for h in headings)
    html = extractor.extract(ARTICLE, output="html", with_blocks=True)
    assert html.text == to_html(full) and len(html.blocks) == len(full.blocks)
    assert extractor.extract(b"<html><body></body></html>", output="html").text == ""


def test_html_output_is_valid_and_escaped(extractor: Extractor) -> None:
    tags = _check_html(extractor.extract(ARTICLE, output="html").text)
    assert tags[:4] == ["html", "head", "meta", "title"] and "h1" in tags and "p" in tags
    every = _check_html(to_html(_all_kept(ARTICLE)))
    assert {"ul", "ol", "li", "blockquote", "table", "thead", "th", "td", "pre", "code"} <= set(every)
    nasty = b"<html><head><title>a < b & \"c\"</title></head><body><p>x &lt;script&gt;alert(1)&lt;/script&gt; &amp; y</p></body></html>"
    out = to_html(_all_kept(nasty))
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; y" in out
    assert "<title>a &lt; b &amp; &quot;c&quot;</title>" in out
    _check_html(out)
    controls = "<html><head><title>Bell\x07 title</title></head><body><p>Text\x01 with\x7f controls\ufffe.</p></body></html>"
    out = to_html(_all_kept(controls.encode()))  # characters HTML does not allow in a document are left out
    assert "<title>Bell title</title>" in out and "<p>Text with controls.</p>" in out


def test_numpy_thresholds_are_numbers_and_unknown_formats_or_documents_are_refused(extractor: Extractor) -> None:
    assert extractor.with_threshold(np.float32(0.5)).threshold == 0.5
    for bad in (np.bool_(True), True, "0.5"):
        with pytest.raises(InputError, match="threshold must be a number from 0 to 1"):
            extractor.with_threshold(bad)
    with pytest.raises(InputError, match="unknown format 'pdf'"):
        extractor.model_for("pdf")
    with pytest.raises(InputError, match="extract_document takes a Document .*, not str"):
        extractor.extract_document("<p>a page</p>")  # type: ignore[arg-type]


def test_a_threshold_trades_recall_for_precision_through_every_entry(extractor: Extractor, tiny_model: Path) -> None:
    blocks = extractor.extract(ARTICLE, with_blocks=True).blocks
    probabilities = sorted({b.probability for b in blocks})
    cut = probabilities[len(probabilities) // 2]  # a threshold between the page's own scores
    strict = Extractor.load(tiny_model, threshold=cut).extract(ARTICLE, with_blocks=True)
    assert [b.keep for b in strict.blocks] == [b.probability >= cut for b in blocks]
    assert strict.text == plain_text(b.block for b in blocks if b.probability >= cut)
    assert Extractor.load(tiny_model, threshold=0.0).extract(ARTICLE).text == plain_text(b.block for b in blocks)
    assert extractor.with_threshold(1.0).threshold_for("html") == 1.0
    assert extractor.threshold_for("html") == extractor.manifests["html"].threshold  # the original is unchanged
    everything = noiseclf.extract(ARTICLE, threshold=0.0, with_blocks=True)
    assert all(b.keep for b in everything.blocks) and everything.text == plain_text(b.block for b in everything.blocks)
    assert extractor.extract(ARTICLE, threshold=0.0).text == plain_text(b.block for b in blocks)  # one page's
    assert extractor.threshold is None
    assert extractor.extract(ARTICLE).text == plain_text(b.block for b in blocks if b.keep)
    text_model = str(default_model_path("text"))
    assert repr(Extractor.load(tiny_model, threshold=cut)) == (
        f"Extractor(html={str(tiny_model)!r} threshold {cut}, text={text_model!r} threshold {cut})")
    for bad in (1.5, -0.1, float("nan"), "0.5", True):
        with pytest.raises(InputError, match=r"threshold must be a number from 0 to 1 .*, not "):
            Extractor.load(tiny_model, threshold=bad)  # type: ignore[arg-type]


def test_two_extractors_from_two_model_files_stay_apart(tiny_model: Path, tmp_path: Path) -> None:
    model, manifest = load_model(tiny_model)
    model.threshold = 0.999  # a model that keeps nothing
    strict = save_model(model, manifest, tmp_path / "strict-html.joblib")
    first = Extractor.load(tiny_model)
    before = first.extract(ARTICLE).text
    second = Extractor.load(strict)
    assert second.extract(ARTICLE).text == ""
    assert first.extract(ARTICLE).text == before != ""
    assert first.manifests["html"].threshold != second.manifests["html"].threshold


def test_an_extractor_shared_by_threads_gives_identical_results(extractor: Extractor) -> None:
    jobs = [(page, output) for page in PAGES for output in ("text", "markdown", "html")] * 3
    expected = [extractor.extract(page, output=output, with_blocks=True) for page, output in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda job: extractor.extract(job[0], output=job[1], with_blocks=True), jobs))
    assert got == expected


def test_input_errors_name_the_input(extractor: Extractor) -> None:
    with pytest.raises(InputError, match="blob.bin"):
        extractor.extract(bytes(range(256)) * 64, source="blob.bin")
    with pytest.raises(InputError, match=r"page\.html.*'xml'"):
        extractor.extract(ARTICLE, format="xml", source="page.html")
    with pytest.raises(InputError, match=r"https://example\.org/a.*'pdf'"):
        extractor.extract(ARTICLE, output="pdf", url="https://example.org/a")
    assert issubclass(InputError, NoiseclfError) and issubclass(ModelError, NoiseclfError)


def _copy(model: Path, folder: Path, *, trees: bool = True) -> Path:
    """A copy of a model's files: the pickle, the manifest and (unless `trees` is false) the packed trees."""
    target = folder / model.name
    shutil.copy(model, target)
    shutil.copy(manifest_path(model), manifest_path(target))
    if trees:
        shutil.copy(trees_path(model), trees_path(target))
    return target


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        Extractor.load(tmp_path / "nothing.joblib")
    with pytest.raises(ModelError, match="a model path is a str or path, not int"):
        Extractor.load(5)  # type: ignore[arg-type]


def test_tampered_model_file_is_refused_before_unpickling(tiny_model: Path, tmp_path: Path) -> None:
    copy = _copy(tiny_model, tmp_path)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256") as info:
        Extractor.load(copy)
    assert str(copy) in str(info.value)


def test_tampered_packed_trees_are_refused(tiny_model: Path, tmp_path: Path) -> None:
    copy = _copy(tiny_model, tmp_path)
    data = bytearray(trees_path(copy).read_bytes())
    data[len(data) // 2] ^= 0xFF
    trees_path(copy).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256") as info:
        Extractor.load(copy)
    assert str(trees_path(copy)) in str(info.value)


def test_extraction_runs_on_packed_trees_as_the_classifier_scores(tiny_model: Path, tmp_path: Path) -> None:
    packed = Extractor.load(tiny_model)
    assert isinstance(packed.model_for("html")[0], PackedModel)
    unpacked = Extractor.load(_copy(tiny_model, tmp_path, trees=False))  # no trees file: the pickle, packed in memory
    classifier = Extractor({"html": load_model(tiny_model)})
    for page in PAGES:
        got = packed.extract(page, with_blocks=True)
        assert got == unpacked.extract(page, with_blocks=True)
        want = classifier.extract(page, with_blocks=True)
        assert [b.probability for b in got.blocks] == [b.probability for b in want.blocks]
        assert got.text == want.text and got.confidence == pytest.approx(want.confidence, abs=1e-6)


def test_extraction_does_not_import_scikit_learn(tiny_model: Path) -> None:
    code = ("import sys, noiseclf; ex = noiseclf.Extractor.load(sys.argv[1]); "
            "assert ex.extract(sys.argv[2]).text; print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(tiny_model), ARTICLE.decode()],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_model_from_another_scikit_learn_extracts_from_its_trees_but_is_not_unpickled(
        tiny_model: Path, tmp_path: Path) -> None:
    copy = _copy(tiny_model, tmp_path)
    manifest = json.loads(manifest_path(copy).read_text())
    manifest["sklearn_version"] = "0.1.0"
    manifest_path(copy).write_text(json.dumps(manifest))
    extractor = Extractor.load(copy)  # the packed trees are plain arrays: no scikit-learn object inside
    assert extractor.extract(ARTICLE).text == Extractor.load(tiny_model).extract(ARTICLE).text
    with pytest.raises(ModelError, match="scikit-learn 0.1.0"):
        extractor.classifier("html")
    trees_path(copy).unlink()
    with pytest.raises(ModelError, match="scikit-learn 0.1.0"):
        Extractor.load(copy)


def test_model_without_manifest_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    copy = _copy(tiny_model, tmp_path)
    manifest_path(copy).unlink()
    with pytest.raises(ModelError, match="manifest"):
        Extractor.load(copy)


def test_the_library_prints_nothing(tiny_model: Path, capsys: pytest.CaptureFixture) -> None:
    extractor = Extractor.load(tiny_model)
    for output in ("text", "markdown", "html"):
        extractor.extract(ARTICLE, output=output, with_blocks=True)
    with pytest.raises(InputError):
        extractor.extract(b"\x00" * 5000)
    assert capsys.readouterr() == ("", "")


def test_a_broken_default_beside_a_given_model_is_skipped_but_alone_is_refused(
        tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import noiseclf.inference as inference

    broken = _copy(tiny_model, tmp_path)
    manifest = json.loads(manifest_path(broken).read_text())
    manifest["feature_names"] = manifest["feature_names"][:-1]  # as a model from an older noiseclf
    manifest_path(broken).write_text(json.dumps(manifest))
    monkeypatch.setattr(inference, "default_model_path", lambda fmt="html": broken)
    extractor = Extractor.load(tiny_model)  # the user's html model serves text pages too
    assert set(extractor.manifests) == {"html"}
    assert extractor.extract("One plain paragraph of text.\n\nAnother one.", format="text").format == "text"
    with pytest.raises(ModelError, match="features"):
        Extractor.load()


_DROPPED = object()


@pytest.mark.parametrize("field, value, message", [
    ("feature_names", _DROPPED, "manifest has no 'feature_names' field"),  # no longer this code's own list
    ("model_format", _DROPPED, "manifest has no 'model_format' field"),
    ("feature_names", None, r"'feature_names' is None, expected list\[str\]"),
    ("model_sha256", None, "'model_sha256' is None, expected str"),
    ("model_sha256", 5, "'model_sha256' is 5, expected str"),
    ("sklearn_version", None, "'sklearn_version' is None, expected str"),
    ("model_format", "2", "'model_format' is '2', expected int"),
    ("model_format", 2, "artifact format 2, this noiseclf reads 3; retrain"),  # a model saved before the probe
    ("feature_probe", _DROPPED, "manifest has no 'feature_probe' field"),
    ("format", "xml", "format 'xml' is neither html nor text"),  # not an 'xml' model beside the shipped html one
    ("format", None, "'format' is None, expected str"),
    ("threshold", 0.99, "threshold 0.99 differs from the model's own"),  # info would show 0.99 while another runs
    ("threshold", True, "'threshold' is True, expected float"),  # a bool is no number here
    ("feature_probe", ["1.5", "2.5"], r"'feature_probe' is \['1.5', '2.5'\], expected list\[float\]"),
    ("trained_by", "someone", "manifest field 'trained_by' is unknown to this noiseclf"),
])
def test_a_manifest_missing_a_field_or_holding_a_wrong_one_is_refused_naming_both(
        tiny_model: Path, tmp_path: Path, field: str, value: object, message: str) -> None:
    copy = _copy(tiny_model, tmp_path)
    manifest = json.loads(manifest_path(copy).read_text())
    if value is _DROPPED:
        del manifest[field]
    else:
        manifest[field] = value
    manifest_path(copy).write_text(json.dumps(manifest))
    for load in (Extractor.load, load_model):
        with pytest.raises(ModelError, match=message) as info:
            load(copy)
        assert str(manifest_path(copy)) in str(info.value)


@pytest.mark.parametrize("fmt", ["html", "text"])
def test_a_model_trained_on_other_feature_code_is_refused_naming_the_features_that_moved(
        tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    """Same feature names, other values: a marker list that lost entries, as an edited features module
    would leave it. The model's manifest was written by the code before the edit."""
    import re

    import noiseclf.features as features

    copy = _copy(tiny_model, tmp_path)
    manifest = json.loads(manifest_path(copy).read_text())
    manifest["format"] = fmt
    manifest["feature_probe"] = __import__("noiseclf.probe", fromlist=["feature_probe"]).feature_probe(fmt)
    manifest_path(copy).write_text(json.dumps(manifest))
    assert Extractor.load(copy).manifests[fmt].format == fmt
    monkeypatch.setattr(features, "_MARKER_PREFIX", re.compile(r"^(?:related|see also)\s*:\s+\S", re.I))
    for load in (Extractor.load, load_model):
        with pytest.raises(ModelError, match="trained on other feature code.*marker_prefix") as info:
            load(copy)
        assert str(copy) in str(info.value)


@pytest.mark.parametrize("edit, message", [
    (lambda probe: probe[:2] + [probe[2] + 1.0] + probe[3:], r"other values of log_chars\. Retrain"),  # that feature alone
    (lambda probe: probe[:-1], "its feature_probe holds 577 values, this noiseclf's 578"),
    (lambda probe: [], "its feature_probe holds 0 values"),
])
def test_a_manifest_whose_feature_probe_was_edited_is_refused(
        tiny_model: Path, tmp_path: Path, edit, message: str) -> None:
    copy = _copy(tiny_model, tmp_path)
    manifest = json.loads(manifest_path(copy).read_text())
    manifest["feature_probe"] = edit(manifest["feature_probe"])
    manifest_path(copy).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=message) as info:
        Extractor.load(copy)
    assert str(copy) in str(info.value)


# Features no page of the format moves: a block's tag is the block element it was cut at, never <br>; an inline
# element encloses a block only in malformed markup ("<b><div>"); plain text has no tags, links or class names.
_INLINE_ANCESTORS = {f"in_{tag}" for tag in ("code", "select", "time", "strong", "em", "b", "i", "small", "sup", "cite")}
_UNMOVED = {
    "html": {"tag_br"} | _INLINE_ANCESTORS,
    "text": {"depth", "heading", "link_density", "all_link", "attr_len", "window_link_10", "c1_link", "c2_link",
             "c3_link", "forum_attrs"} | {name for name in FEATURE_NAMES if name.startswith(("off_main_", "hint_"))}
            | {f"in_{tag}" for tag in ANCESTOR_TAGS}
            | {name for name in FEATURE_NAMES if name.startswith("tag_") and name != "tag_body"},
}


@pytest.mark.parametrize("fmt", ["html", "text"])
def test_the_reference_page_moves_every_feature_a_page_of_its_format_can_move(fmt: str) -> None:
    """A feature the probe page leaves at 0 is one whose code can change unseen by the manifest check."""
    from noiseclf.probe import probe_document

    X = block_features(probe_document(fmt))
    unmoved = {name for name, column in zip(FEATURE_NAMES, X.T) if not column.any()}
    assert unmoved == _UNMOVED[fmt]


def test_a_manifest_from_a_newer_noiseclf_of_the_same_model_format_and_features_loads(
        tiny_model: Path, tmp_path: Path) -> None:
    copy = _copy(tiny_model, tmp_path)
    manifest = json.loads(manifest_path(copy).read_text())
    manifest["noiseclf_version"] = "99.0"  # model_format and the feature names are the compatibility contract
    manifest_path(copy).write_text(json.dumps(manifest))
    assert Extractor.load(copy).manifests["html"].noiseclf_version == "99.0"


def test_info_refuses_a_mistyped_manifest_without_a_traceback(tiny_model: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from noiseclf.cli import app

    copy = _copy(tiny_model, tmp_path)
    manifest = json.loads(manifest_path(copy).read_text())
    manifest["sklearn_version"] = None
    manifest_path(copy).write_text(json.dumps(manifest))
    result = CliRunner().invoke(app, ["info", "--model", str(copy)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    unwrapped = "".join(result.output.split())  # the console wraps the long path anywhere
    assert "".join(f"{manifest_path(copy)}: manifest field 'sklearn_version' is None".split()) in unwrapped


@pytest.mark.parametrize("keep", [0, 100, 0.5])
def test_a_damaged_trees_file_whose_hash_was_fixed_is_refused_naming_it(
        tiny_model: Path, tmp_path: Path, keep: float) -> None:
    import hashlib

    copy = _copy(tiny_model, tmp_path)
    data = trees_path(copy).read_bytes()
    trees_path(copy).write_bytes(data[: int(keep * len(data)) if keep < 1 else keep])
    manifest = json.loads(manifest_path(copy).read_text())
    manifest["trees_sha256"] = hashlib.sha256(trees_path(copy).read_bytes()).hexdigest()
    manifest_path(copy).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="unreadable packed trees") as info:
        Extractor.load(copy)
    assert str(trees_path(copy)) in str(info.value)


_MARKUP_IN_TEXT = b"""<html><body>
<h2>Item #</h2><h3>![img](http://x/i.png) *not* emphasis ##</h3>
<p>1) first: &lt;script&gt;alert(1)&lt;/script&gt; *stars* [link](http://x) a\\*b AT&amp;amp;T</p>
<p>1. Not a list item</p><p>&lt;div class="x"&gt; not an HTML block</p><p># not a heading</p>
<p>- not a bullet</p><p>+ nor this</p><p>--- not a rule</p><p>~~~ not a fence</p><p>&gt; not a quote</p>
<p>snake_case_name _under_ __dunder__ C:\\Users\\x x &lt; 5 &amp; y &gt; 2 &lt;1@x.com&gt; `tick` &amp;#42;</p>
<blockquote><p>&gt; nested? 2) no</p></blockquote>
<ul><li># in a list</li><li>1) x</li></ul>
<table><tr><th>a|b</th><th>*c*</th></tr><tr><td>1. x</td><td>back\\slash\\|</td></tr></table>
<pre>a ``` b ```` c</pre>
</body></html>"""


def test_markdown_escapes_text_that_would_read_as_markup() -> None:
    markdown = to_markdown(_all_kept(_MARKUP_IN_TEXT))
    paragraphs = markdown.split("\n\n")
    for expected in (r"1\) first: \<script>alert(1)\</script> \*stars\* \[link](http://x) a\\\*b AT\&amp;T",
                     r"1\. Not a list item", r'\<div class="x"> not an HTML block', r"\# not a heading",
                     r"\- not a bullet", r"\> not a quote", r"## Item \#", "- \\# in a list\n- 1\\) x"):
        assert expected in paragraphs, expected
    assert "`````\na ``` b ```` c\n`````" in paragraphs  # a fence longer than any run of backticks inside
    assert r"snake_case_name \_under\_ \_\_dunder\_\_ C:\Users\x x < 5 & y > 2" in markdown  # readable


def test_markdown_renders_as_exactly_the_text_of_the_blocks() -> None:
    markdown_it = pytest.importorskip("markdown_it")

    class Visible(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.text: list[str] = []

        def handle_data(self, data: str) -> None:
            self.text.append(data)

    kept = _all_kept(_MARKUP_IN_TEXT)
    visible = Visible()
    visible.feed(markdown_it.MarkdownIt("commonmark").enable("table").render(to_markdown(kept)))
    assert "".join(visible.text).split() == " ".join(b.text for b in kept.blocks).split()


def test_bad_content_and_encoding_arguments_are_input_errors(extractor: Extractor) -> None:
    with pytest.raises(InputError, match="page.html: content is NoneType"):
        extractor.extract(None, source="page.html")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="page.html: unknown encoding 'bogus-xyz'"):
        extractor.extract(ARTICLE, encoding="bogus-xyz", source="page.html")
    assert extractor.extract(bytearray(ARTICLE)) == extractor.extract(memoryview(ARTICLE)) == extractor.extract(ARTICLE)
