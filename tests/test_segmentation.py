"""Segmentation: HTML and plain text to blocks, encodings, hidden content, bad input."""

import gzip
import os
import subprocess
import sys
import textwrap

import pytest
from lxml import etree

from noiseclf import segmentation
from noiseclf.segmentation import (
    _DROP, _line_blocks, _parse, _walk, _wrap_width, _wrapped_runs, decode_html, flatten, segment, segment_html,
    segment_text, settle_format, sniff_format,
)
from noiseclf.types import Block, InputError

try:
    from noiseclf._walk import line_blocks as compiled_line_blocks
    from noiseclf._walk import walk as compiled_walk
except ImportError:
    compiled_walk = compiled_line_blocks = None
needs_compiled_walk = pytest.mark.skipif(
    compiled_walk is None, reason="noiseclf._walk is not built (python setup.py build_ext --inplace)")

PAGE = """<!DOCTYPE html><html><head><title>Harbour ferry returns | The Coast Gazette</title>
<style>p { color: red }</style><script>var x = "not text";</script></head>
<body>
<nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav>
<div style="display: none">Hidden promo text</div>
<div hidden>Also hidden</div>
<article class="story-body">
  <h1>Harbour ferry returns after two years</h1>
  <p>The ferry between the two harbours <b>resumed</b> service on Monday, <a href="/x">officials said</a>.</p>
  <p>Line one<br>Line two</p>
  <ul><li>First point</li><li>Second point</li></ul>
  <table><tr><td>Cell A</td><td>Cell B</td></tr></table>
</article>
<noscript>Enable JavaScript</noscript>
<footer id="site-footer"><p>&copy; 2026 Coast Gazette</p></footer>
</body></html>"""


def texts(doc):
    return [b.text for b in doc.blocks]


def test_blocks_follow_block_elements_and_drop_scripts_styles_hidden():
    doc = segment_html(PAGE)
    assert texts(doc) == [
        "Home", "News", "Harbour ferry returns after two years",
        "The ferry between the two harbours resumed service on Monday, officials said.",
        "Line one", "Line two", "First point", "Second point", "Cell A", "Cell B", "© 2026 Coast Gazette",
    ]
    assert doc.format == "html"


def test_blocks_carry_layout_context():
    doc = segment_html(PAGE)
    by_text = {b.text: b for b in doc.blocks}
    assert by_text["Home"].within("nav") and by_text["Home"].within("li") and by_text["Home"].hinted("nav")
    assert by_text["Home"].link_chars == len("Home")
    heading = by_text["Harbour ferry returns after two years"]
    assert heading.heading == 1 and heading.within("article") and heading.hinted("story")
    para = by_text["The ferry between the two harbours resumed service on Monday, officials said."]
    assert para.tag == "p" and 0 < para.link_chars < len(para.text)
    assert para.path.endswith("/article/p")
    assert by_text["Cell A"].within("td") and by_text["© 2026 Coast Gazette"].hinted("footer")
    offsets = [b.offset for b in doc.blocks]
    assert offsets == sorted(offsets)


def test_blocks_name_their_enclosing_elements():
    doc = segment_html(PAGE)
    by_text = {b.text: b for b in doc.blocks}
    home, news = by_text["Home"].elements, by_text["News"].elements
    assert home[-1] != news[-1] and home[:-1] == news[:-1]  # two <li> of one <ul>
    line_one, line_two = by_text["Line one"].elements, by_text["Line two"].elements
    assert line_one[:-1] == line_two[:-1]  # both in the same <p>, cut at the <br>
    para = by_text["The ferry between the two harbours resumed service on Monday, officials said."].elements
    assert para[:-1] == by_text["Harbour ferry returns after two years"].elements[:-1]  # siblings in <article>
    assert not set(para) & set(by_text["© 2026 Coast Gazette"].elements[-2:])
    assert all(b.elements == () for b in segment_text("One.\n\nTwo.").blocks)


def test_title_prefers_the_headline_over_the_site_suffix():
    assert segment_html(PAGE).title == "Harbour ferry returns after two years"


@pytest.mark.parametrize("title, h1, expected", [
    ("Reading CSV files — mylib 2.1 documentation", "Reading CSV files", "Reading CSV files"),  # a shorter part
    ("World news | The Daily Post", "World news", "World news"),
    ("The Daily Post | Council approves the budget", "Council approves the budget", "Council approves the budget"),
    ("Spring recipes - Kitchen Notes", "Our favourite dishes", "Spring recipes"),  # no match: the longest part
    ("Storm floods the coast overnight | The Daily Times", "The Daily Times", "Storm floods the coast overnight"),
    ("Storm floods the coast overnight - Times", "Times Square reopens", "Storm floods the coast overnight"),
    ("The Daily Times | Storm floods the coast overnight", "<a href='/'>The Daily Times</a>",  # a logo's <h1>
     "Storm floods the coast overnight"),
])
def test_title_is_the_headline_that_restates_the_longest_or_first_part_of_the_title(title, h1, expected):
    body = "<p>" + "A paragraph of the page that says what the page is about. " * 3 + "</p>"
    page = f"<html><head><title>{title}</title></head><body><h1>{h1}</h1>{body}</body></html>"
    assert segment_html(page).title == expected


BODY = "<p>" + "A paragraph of the page that says what the page is about. " * 3 + "</p>"


@pytest.mark.parametrize("head, h1, expected", [
    ('<meta property="og:title" content="What is Cloud Computing? | Google Cloud">'  # og:title keeps its suffix
     '<meta property="og:site_name" content="Google Cloud">', "", "What is Cloud Computing?"),
    ("<title>Kayaks | REI Co-op</title>", "Kayaks", "Kayaks"),  # the <h1> restates the leading part
    ("<title>Galaxy S25 Ultra | Features &amp; Highlights | Samsung US</title>", "Galaxy S25 Ultra",
     "Galaxy S25 Ultra"),
    ('<title>Best Long-Distance Movers of 2026 | Move.org</title><link rel="canonical" '  # the host's letters
     'href="https://www.move.org/best-movers/">', "", "Best Long-Distance Movers of 2026"),
    ('<title>Seven Tips for Renting a Car - Fastarz</title><meta property="og:url" content="https://fastarz.com/tips">',
     "", "Seven Tips for Renting a Car"),
    ('<title>Best Stocks of 2025 | The Motley Fool</title><meta name="application-name" content="Motley Fool">',
     "", "Best Stocks of 2025"),
    ('<meta property="og:title" content="Home - Ohio Artisan Collective">'
     '<meta property="og:site_name" content="Ohio Artisan Collective">',
     "", "Home - Ohio Artisan Collective"),  # what is left would be one word: a home page keeps its title
    ('<meta property="og:title" content="Ohio Artisan Collective - Handmade gifts from Ohio makers">'  # only a trailing
     # name goes
     '<meta property="og:site_name" content="Ohio Artisan Collective">', "",
     "Ohio Artisan Collective - Handmade gifts from Ohio makers"),
    ('<meta property="og:title" content="REI Co-op | Kayaks and paddling gear">', '<a href="/">REI Co-op</a>',
     "REI Co-op | Kayaks and paddling gear"),  # a logo's <h1> restates the site's name, not the story
    ('<meta property="og:title" content="REI Co-op | Kayaks and paddling gear">'
     '<meta property="og:site_name" content="REI Co-op">', "REI Co-op", "REI Co-op | Kayaks and paddling gear"),
    ('<meta property="og:title" content="Moose cross the highway | Alaska"><meta property="og:site_name" '
     'content="AL">', "", "Moose cross the highway | Alaska"),  # a site named "AL" is no "Alaska"
    ('<meta property="og:title" content="Moose cross the highway | The AL Post"><meta property="og:site_name" '
     'content="AL Post">', "", "Moose cross the highway"),
    ('<meta property="og:title" content="Storm floods the coast: what we know">', "",  # no site named
     "Storm floods the coast: what we know"),
    ('<meta property="og:title" content="Storm floods the coast | Weather"><link rel="canonical" href="not a url">', "",
     "Storm floods the coast | Weather"),
])
def test_the_shown_title_leaves_out_the_site_name(head, h1, expected):
    """What outputs show as a page's title: the story's, without the name of its site that <title> and
    og:title mostly carry (the features read the title as the page gives it, as the shipped models learned)."""
    page = f"<html><head>{head}</head><body>{f'<h1>{h1}</h1>' if h1 else ''}{BODY}</body></html>"
    doc = segment_html(page)
    assert doc.shown_title == expected
    assert doc.title.startswith(expected)


def test_a_text_page_title_is_no_menu_line():
    text = ("Home | News | Sport | Weather | Culture\n\nHarbour ferry returns after two years\n\n"
            "The ferry between the two harbours resumed service on Monday, officials said.")
    assert segment_text(text).title == "Harbour ferry returns after two years"
    dashes = text.replace("Home | News | Sport | Weather | Culture", "Home - News - Sport")
    assert segment_text(dashes).title == "Harbour ferry returns after two years"
    assert segment_text("Storm - what we know - live updates\n\n" + text).title.startswith("Storm - what")
    assert segment_text("Oil / gas / coal prices climb again this winter\n\n" + text).title.startswith("Oil / gas")


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "iso-8859-1", "utf-16"])
def test_encodings_are_detected_from_meta_or_bom(encoding):
    html = '<html><head><meta charset="{}"></head><body><p>Caf\u00e9 cr\u00e8me, na\u00efve</p></body></html>'
    data = html.format(encoding).encode(encoding)
    if encoding == "utf-16":
        assert data.startswith((b"\xff\xfe", b"\xfe\xff"))
    assert "Café crème" in texts(segment_html(data))[0]


def test_undeclared_non_utf8_bytes_fall_back_sanely():
    data = "<html><body><p>Stra\u00dfe und M\u00fcnchen, sch\u00f6n gr\u00fc\u00dfe aus K\u00f6ln</p></body></html>".encode("cp1252")
    assert "München" in decode_html(data)


def test_binary_input_is_refused_with_the_input_named():
    with pytest.raises(InputError, match="photo.jpg"):
        segment_html(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, source="photo.jpg")


def test_empty_and_whitespace_pages_give_no_blocks():
    assert segment_html(b"").blocks == ()
    assert segment_html("   \n ").blocks == ()
    assert segment_html("<html><body><div>   </div><p>|</p></body></html>").blocks == ()


def test_broken_and_deeply_nested_html_still_segments():
    broken = "<html><body><div><p>Unclosed paragraph <b>bold<div>inner text</span></p></td>tail words"
    assert "inner text" in " ".join(texts(segment_html(broken)))
    deep = "<div>" * 5000 + "<p>deep text</p>" + "</div>" * 5000
    assert "deep text" in texts(segment_html(deep))


def test_huge_text_node_is_not_truncated():
    words = " ".join(["word"] * 400_000)
    doc = segment_html(f"<html><body><p>{words}</p></body></html>")
    assert len(doc.blocks[0].text) == len(words)


def test_text_keeps_only_what_a_browser_shows():
    html = ("<html><head><title>Das Mit&shy;tel&shy;al&shy;ter</title></head><body>"
            "<p>Im Mit&shy;tel&shy;al&shy;ter war&#8203;en Bur&#x2060;gen &#xFEFF;häufig.</p><p>&#8203;</p>"
            "<p><a href='/x'>Mehr&shy;wert</a> lesen</p>"
            "<p><ruby>子<rp>(</rp><rt>こ</rt><rp>)</rp></ruby>どもへの<ruby>虐待<rt>ぎゃくたい</rt></ruby></p></body></html>")
    doc = segment_html(html)
    assert doc.title == "Das Mittelalter"
    assert [b.text for b in doc.blocks] == ["Im Mittelalter waren Burgen häufig.", "Mehrwert lesen", "子どもへの虐待"]
    assert doc.blocks[1].link_chars == len("Mehrwert")
    text = segment_text("Im Mit\u00adtel\u00adal\u00adter.\n\n\ufeffZweite\u200b Zeile.\n\n\u200b")
    assert [b.text for b in text.blocks] == ["Im Mittelalter.", "Zweite Zeile."]


def test_plain_text_blocks_are_paragraphs_or_lines():
    first = "The first paragraph runs over two lines, as a mail program wraps it at its margin."
    assert texts(segment_text(f"Title line\n\n{textwrap.fill(first, 50)}\n\n\nSecond para.")) == [
        "Title line", first, "Second para."]
    assert texts(segment_text("one line\nsecond line\r\nthird line")) == ["one line", "second line", "third line"]
    doc = segment_text("Headline of the story\n\nBody text here.")
    assert doc.format == "text" and doc.title == "Headline of the story"


def test_lines_between_blank_lines_are_blocks_unless_they_are_a_hard_wrapped_text():
    story = ("The harbour board approved the plan on Tuesday after a long debate about the cost of the new quay wall. "
             "Work on the wall starts in May and should take two years.")
    dump = "Skip to content\nHome\n" + story + "\nRead also:\n\nThe ferry returns in May, after two years away.\n" \
           "Newsletter"
    assert texts(segment_text(dump)) == ["Skip to content", "Home", story, "Read also:",
                                         "The ferry returns in May, after two years away.", "Newsletter"]
    assert texts(segment_text(textwrap.fill(story, 60) + "\n\nWork starts in May.")) == [story, "Work starts in May."]
    menu = "Home\nNews\nSport\n\nHarbour plan approved\nBy Jo Smith, harbour reporter\n\n" + story
    assert texts(segment_text(menu)) == ["Home", "News", "Sport", "Harbour plan approved",
                                         "By Jo Smith, harbour reporter", story]  # as a browser copies a page
    paragraphs = [f"{story} {story} The plans are at", "https://example.org/harbour/" + "plans/" * 20, story]
    email = textwrap.fill(paragraphs[0], 72) + "\n" + paragraphs[1] + "\n\n" + textwrap.fill(paragraphs[2], 72)
    assert texts(segment_text(email)) == [" ".join(paragraphs[:2]), story]  # a long link in a hard-wrapped text
    assert texts(segment_text("Harbour plan approved\n" + story)) == ["Harbour plan approved", story]


def test_flatten_round_trips_blocks():
    doc = segment_html(PAGE)
    assert texts(segment_text(flatten(doc))) == texts(doc)


def test_format_sniffing_looks_at_content():
    assert sniff_format(PAGE) == "html"
    assert sniff_format(PAGE.encode()) == "html"
    assert sniff_format("Just some text.\n\nWith <b> one tag.") == "text"
    assert segment("<p>a</p><div>b</div>").format == "html"
    assert segment("plain words\n\nmore words").format == "text"
    with pytest.raises(InputError, match="unknown format"):
        segment("x", format="pdf")


@pytest.mark.parametrize("blank", ["\n\u00a0\n", "\n\u3000\n", "\n \t\u00a0\n", "\u2029", "\n\f\n"])
def test_a_line_of_any_white_space_or_a_paragraph_separator_ends_a_paragraph(blank: str) -> None:
    first = "The first paragraph of the letter, wrapped at the margin as a mail program or a text browser wraps it."
    second = "The second paragraph, which a blank line of some kind of white space sets apart, is wrapped too."
    text = blank.join(textwrap.fill(paragraph, 44) for paragraph in (first, second))
    assert texts(segment_text(text)) == [first, second]


@pytest.mark.parametrize("brk", ["\u2028", "\x85", "\f", "\v"])
def test_every_line_break_of_str_splitlines_cuts_lines(brk: str) -> None:
    assert texts(segment_text(brk.join(["one line", "second line", "third line"]))) == [
        "one line", "second line", "third line"]


def test_gzip_bytes_are_not_mistaken_for_text():
    with pytest.raises(InputError):
        segment_html(gzip.compress(b"<p>x</p>" * 2000), source="page.html.gz")


TRICKY_PAGES = [
    PAGE,
    '<p>See <a href="/x">the <b>big <i>news</i></b> story</a> now, <a href="/y"> </a>then <a>more</a></p>',
    ("<div>before<script>x()</script>after<span style='display: none'>gone</span>tail"
     "<em hidden>gone</em>more<b style='VISIBILITY:hidden'>gone</b>end<style>p{}</style></div>"),
    "<p>one<br>two<br/>three<br></p><div><br>after break</div>",
    "<p>&amp; &lt;tag&gt; &nbsp;&copy;&#x2014;&#169; &unknown; &amp</p>",
    "<p>Grüße aus Köln, 東京, Ελληνικά 🎉 \u00a0 \u2003 x</p><p>\u200b\u3000</p><p>_</p>",
    ('<div class="sidebar-widget" id="main_content" role="navigation" itemprop="articleBody">'
     '<p class="a&amp;b nav teaser" id="Über">hinted</p><p class="">x</p><div class>valueless</div></div>'),
    "<body>" + "<div class='wrap'><span>lvl</span>" * 60 + "<h2>deep <a>heading</a></h2>tail"
    + "</div>" * 60 + "after</body>",
    "<p></p><div> </div><span></span><td></td><ul><li> <li>\t</ul>text<p>end</p>",
    "<html><body><noscript><p>only for readers without scripts</p></noscript></body></html>",
    "<table><tr><th>H</th><td>cell <sup>2</sup></td></tr></table><dl><dt>t<dd>d</dl>",
    ("<p>Mit&shy;tel&#173;al\u00adter <a>Bei&#8203;spiel&#x2060;e</a> &#xFEFF;x</p><p>&#8203;</p>"
     "<p><ruby>漢<rp>(</rp><rt>かん</rt><rp>)</rp>字</ruby>の読み</p>"),
    ("<pre>\n\n  def f(x):\t\n\t<b>return</b> x &lt; 1  \n\n</pre><pre>one line</pre>"
     "<pre>a<br>    b<div>\n  c\n</div>d\r\n  e</pre><pre> \n </pre>"),
    ("<table><tr><td colspan=3>a</td><td colspan='x'>b</td><th colspan=' 07px'><p>c</p></th><td colspan=0>d</td>"
     "<td colspan=99999999999999999999>e</td><td hidden>f</td><td>g<table><tr><td></td><td>inner</td></tr></table>"
     "</td></tr><tr><!-- c --><th>h</th></tr></table>"),
    ("<table><tr><td>a</td><td>b<table><tr><td>x</td><td colspan=2>y</td></tr></table></td><td colspan=2>c</td>"
     "<td hidden>h</td><td>d</td></tr><tr>" + "".join(f"<td colspan={1 + i % 3}>w{i}</td>" for i in range(300))
     + "</tr></table>"),
]


def test_a_wide_table_row_counts_its_columns_in_one_pass(monkeypatch):
    """A cell's column was the colspans of every cell before it, counted again for each cell: a row of 20,000
    cells took 11 s to segment. Counting now goes back to the cell counted last."""
    calls = []
    colspan = segmentation.colspan
    monkeypatch.setattr(segmentation, "colspan", lambda value: calls.append(value) or colspan(value))
    cells = "".join(f"<td colspan={1 + i % 2}>cell {i}</td>" for i in range(3000))
    blocks = segmentation._walk(_parse(f"<table><tr>{cells}</tr></table>", "wide"))
    assert [b.column for b in blocks] == [i + i // 2 for i in range(3000)]
    assert len(calls) <= 2 * 3000


@needs_compiled_walk
@pytest.mark.parametrize("html", TRICKY_PAGES)
def test_compiled_walk_matches_python_walk(html):
    root = _parse(html, "tricky")
    for drop in (_DROP, _DROP - {"noscript"}):
        for hidden in (False, True):
            assert compiled_walk(root, drop, hidden) == _walk(root, drop, hidden)


@needs_compiled_walk
def test_compiled_walk_matches_on_trees_the_page_parser_does_not_make():
    """Comments and PIs (iterwalk skips them and the text after them), repeated attributes (the
    parser keeps the first), entity references, CDATA, namespaced tags and attributes."""
    keep = etree.HTMLParser(remove_comments=False, remove_pis=False)
    xml = etree.XMLParser(resolve_entities=False)
    trees = [
        etree.fromstring(b"<html><body><p>a<!--c-->b<i>x</i>y<!--d-->z<?pi q?>w</p><!--e-->v</body></html>", keep),
        etree.fromstring(b'<div class="a" class="nav" id="x">repeated<p id=a id=b>p</p></div>', keep),
        etree.fromstring(b'<!DOCTYPE r [<!ENTITY e "ENT">]><r xmlns:q="urn:q" xmlns="urn:d">'
                         b'<p q:class="nav" class="side" id="a&e;">a&e;b<![CDATA[cd]]>e<q:a>n</q:a>m</p>'
                         b'<q:p>x</q:p></r>', xml),
    ]
    for root in trees:
        assert compiled_walk(root, _DROP) == _walk(root, _DROP)
        assert compiled_walk(root, _DROP, True) == _walk(root, _DROP, True)


@needs_compiled_walk
def test_compiled_line_blocks_match_python_line_blocks():
    pieces = ["Headline of the story", "  First para\ncontinues\t here.  ", "", " \u00a0 ", "...", "!!", "\u3000word\u3000",
              "Hello ? world.", "日本語の文", "x", "tail  \n"]
    for cut in (pieces, pieces[::-1], pieces[:1], []):
        compiled = compiled_line_blocks(list(cut))
        assert compiled == _line_blocks(list(cut))
        assert all(type(b) is Block for b in compiled)


def test_a_page_a_script_reveals_is_read_with_its_hidden_wrapper():
    story = "".join(f"<p>Paragraph {i} of the story tells how the harbour bridge was rebuilt by the town.</p>"
                    for i in range(10))
    menu = "<ul style='display:none'><li>Home</li><li>Sport</li></ul>"
    shown = segment_html(f"<html><body><div style='visibility:hidden;min-height:100vh'>{menu}{story}</div>"
                         "<footer>Contact</footer></body></html>")
    assert texts(shown)[2] == "Paragraph 0 of the story tells how the harbour bridge was rebuilt by the town."
    assert "Home" in texts(shown) and len(shown.blocks) == 13  # every hidden element, once nothing else shows
    assert "Home" not in texts(segment_html(f"<html><body>{menu}{story}</body></html>"))  # hidden when text shows


def test_pure_python_switch():
    env = {**os.environ, "NOISECLF_PURE_PYTHON": "1"}
    code = ("import noiseclf.segmentation as s, noiseclf.model as m, noiseclf.features as f; "
            "print(s.COMPILED_WALK, s._walk_blocks is s._walk, s._line_blocks_of is s._line_blocks, m.COMPILED_TREES, "
            "f.COMPILED_SCAN, f._scan is f._scan_numpy, f._group_ids is f._group_ids_python, "
            "f._off_spine_chains is f._off_spine_python)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True", "False", "False", "True", "True", "True"]


def test_class_hints_take_the_longest_word_at_each_position():
    doc = segment_html(b'<html><body><div class="sidebar header-top"><p>Archive of older posts</p></div></body></html>')
    (block,) = doc.blocks
    assert block.hinted("sidebar") and block.hinted("header")
    assert not block.hinted("side") and not block.hinted("ad")  # inside "sidebar" and "header"


def test_class_tokens_split_at_white_space_underscores_and_dashes():
    page = (b'<html><body><div id="Site_Comments" class="--main\tnavbar__links-  x"><p role="complementary">'
            b'Archive of older posts</p></div></body></html>')
    for _ in range(2):  # the second page reads the memoised tokens
        (block,) = segment_html(page).blocks
        assert block.attrs == "main navbar links x site comments complementary"
        assert all(block.hinted(word) for word in ("main", "nav", "comment"))
        assert not block.hinted("list")  # "links" holds no hint word


PROSE = ("The council approved the harbour budget on Tuesday after a long debate about school funding, road "
         "repairs and the library. Members said the plan balances the needs of families with a shrinking tax base.")


def test_a_stray_byte_leaves_a_page_in_its_charset_and_a_mislabelled_page_is_guessed():
    story = f"“{PROSE}” Its café reopens in March. "
    page = f'<html><head><meta charset="utf-8"></head><body><p>{story}</p></body></html>'.encode()
    stray = page.replace(b"Its ", b"Its \xe9 ")  # one Latin-1 byte in a UTF-8 page
    assert texts(segment(stray)) == [story.replace("Its ", "Its \ufffd ").strip()]
    assert texts(segment(stray.replace(b'<meta charset="utf-8">', b""), format="html")) == \
        [story.replace("Its ", "Its \ufffd ").strip()]
    cp1252 = f'<html><head><meta charset="utf-8"></head><body><p>{story * 3}</p></body></html>'.encode("cp1252")
    assert "café" in texts(segment(cp1252))[0]  # every non-ASCII byte bad: the label is wrong, not the bytes


def test_an_undefined_charset_is_read_past():
    page = b'<meta charset="undefined"><p>' + PROSE.encode() + b"</p>"
    assert texts(segment(page)) == [PROSE]
    assert texts(segment(b"<html><p>" + PROSE.encode() + b"</p>", encoding="undefined")) == [PROSE]


def test_a_declared_charset_that_reads_escape_or_nul_bytes_is_not_binary():
    jp = "東京都議会は新しい予算案を可決しました。" * 3
    page = f'<html><head><meta charset="iso-2022-jp"><title>予算案</title></head><body><p>{jp}</p></body></html>'
    assert texts(segment(page.encode("iso-2022-jp"))) == [jp]
    utf16 = f"<html><body><p>{PROSE}</p></body></html>".encode("utf-16-le")
    assert texts(segment(utf16, encoding="utf-16-le")) == [PROSE]
    with pytest.raises(InputError, match="scan.pdf"):  # a declared charset does not make binary text
        segment(b"%PDF-1.4\n" + bytes(range(256)) * 20, encoding="cp1252", source="scan.pdf")


@pytest.mark.parametrize("label", ["utf-16", "utf-16le", "UTF-16BE", "utf-32"])
def test_a_wide_charset_label_on_ascii_bytes_reads_as_utf8(label):
    page = f'<html><head><meta charset="{label}"></head><body><p>{PROSE} Café.</p></body></html>'
    data = (page + " " * (len(page.encode()) % 4)).encode()  # even lengths decode as UTF-16 without error
    assert texts(segment(data)) == [PROSE + " Café."]
    plain = f"<html><body><p>{PROSE}</p></body></html>   ".encode()
    assert texts(segment(plain, encoding=label)) == [PROSE]  # as an HTTP header would declare it


def test_sniffing_reads_past_boms_and_long_preambles():
    page = f"<html><body><p>{PROSE}</p></body></html>"
    for data in (page.encode("utf-16"), page.encode("utf-32"), "<!-- " + "x" * 9000 + " -->\n" + page,
                 " " * 9000 + page, ("\n<!-- build 7 -->" * 600 + page).encode()):
        assert sniff_format(data) == "html"
        assert texts(segment(data)) == [PROSE]


def test_text_that_names_tags_is_not_sniffed_as_html():
    text = f"The template wraps items in <div> and lines in <p> tags.\n\n{PROSE}"
    assert sniff_format(text) == "text"
    assert texts(segment(text)) == ["The template wraps items in <div> and lines in <p> tags.", PROSE]
    assert sniff_format("Intro words <div>one</div> and <p>two") == "html"
    fragment = f"<p>{PROSE}</p>"  # one element, as a scraper's selector returns it
    assert sniff_format(fragment) == "html" and texts(segment(fragment)) == [PROSE]
    for element in ("<h2>Sub</h2>", "<ul><li>one</li><li>two</li></ul>", "<blockquote>Quoted.</blockquote>",
                    "<body><h1>Title</h1>Some words</body>", "<title>Foo</title>\nSome text"):
        assert sniff_format(element) == "html", element
    assert sniff_format(f"<p>{PROSE}") == sniff_format(f"Use <p>text</p> for paragraphs. {PROSE}") == "text"


def test_a_fragment_opening_with_a_listed_element_and_closing_one_is_html():
    """One rule for fragments: opening with one of the elements sniffing lists and closing one of them, the
    same or another (a page's tail, a paragraph left open round inline markup), is HTML; opening with another
    tag, or with a listed one and closing none, stays text."""
    for fragment in ("<head><title>Page</title></head>", "<script>var a = 1;</script>\nSome text",
                     '<meta charset="utf-8">\n<h1>Title</h1>', '<a href="/x">Read more</a>',
                     "<table><tr><td>1</td></tr></table>", "<ul><li>one<li>two</ul>", "<li>one<li>two</ul>",
                     f"<p>{PROSE} <b>Bold</b> words", "<body><h1>Title</h1>Some words</html>"):
        assert sniff_format(fragment) == sniff_format(fragment.encode()) == "html", fragment
    assert texts(segment(f"<p>{PROSE} <b>Bold</b> words")) == [PROSE + " Bold words"]
    for text in ("<br> breaks a line, and </p> ends a paragraph.", f"<b>{PROSE}", f"<i>{PROSE}\n\n{PROSE}"):
        assert sniff_format(text) == "text", text


@pytest.mark.parametrize("tag", ["blockquote", "ul", "article", "nav", "q", "label", "ins", "abbr"])
def test_deep_nesting_of_any_tag_keeps_the_text(tag):
    assert texts(segment_html(f"<html><body>{f'<{tag}>' * 3000}{PROSE}{f'</{tag}>' * 3000}")) == [PROSE]


def test_deep_nesting_mid_page_keeps_the_blocks_after_it_or_is_refused():
    page = (f"<html><body><p>Before. {PROSE}</p>{'<blockquote>' * 2100}<p>inner</p>{'</blockquote>' * 2100}"
            f"<p>After. {PROSE}</p></body></html>")
    assert texts(segment_html(page)) == [f"Before. {PROSE}", "inner", f"After. {PROSE}"]
    mixed = "".join(f"<x{i % 300}>" for i in range(3000))  # no tag repeats enough to strip
    with pytest.raises(InputError, match="deep.html.*nested"):
        segment_html(f"<html><body>{mixed}{PROSE}", source="deep.html")


def test_an_inline_svg_title_is_not_the_page_title():
    svg = "<svg><title>Daily News logo</title></svg>"
    head = "<html><head><title>Council passes budget | Daily News</title></head>"
    assert segment_html(f"{head}<body>{svg}<p>{PROSE}</p></body></html>").title == "Council passes budget"
    page = f"<html><body>{svg}<math><title>x</title></math><h1>Council passes budget</h1><p>{PROSE}</p></body></html>"
    assert segment_html(page).title == "Council passes budget"


def test_bytes_like_content_and_bad_arguments():
    data = f"<html><body><p>{PROSE}</p></body></html>".encode()
    assert texts(segment(bytearray(data))) == texts(segment(memoryview(data))) == [PROSE]
    for content, message in ((None, "NoneType"), (12, "int")):
        with pytest.raises(InputError, match=f"page.html: content is {message}"):
            segment(content, source="page.html")
    with pytest.raises(InputError, match="page.html: encoding must be a codec name"):
        segment(data, encoding=123, source="page.html")
    with pytest.raises(InputError, match="page.html: unknown encoding 'bogus-xyz'"):
        segment_html(data, encoding="bogus-xyz", source="page.html")
    assert PROSE in decode_html(data, "bogus-xyz")  # an HTTP charset comes from the page's server: read past


def test_lone_surrogates_in_text_become_question_marks_as_in_html():
    text = f"Hello \ud800 world. {PROSE}"
    html_text = texts(segment(f"<p>{text}</p>", format="html"))[0]
    assert texts(segment(text, format="text")) == [html_text] == [f"Hello ? world. {PROSE}"]


@pytest.mark.parametrize("text", ["El niño comió en la casa el sábado.", "Søren bor i København.", "Prices from £5 a day.",
                                  "Café au lait à la crème, très bien."])
def test_a_short_western_text_without_a_declared_charset_reads_as_windows_1252(text: str) -> None:
    assert decode_html(text.encode("cp1252")) == text  # charset_normalizer's first of a tie read "ni˝o", "Ł5"


def test_the_guess_takes_windows_1252_only_from_a_near_tie_and_never_utf_16_without_nuls(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import charset_normalizer

    from noiseclf import segmentation

    class Match:
        def __init__(self, encoding: str, coherence: float, chaos: float = 0.0) -> None:
            self.encoding, self.coherence, self.chaos = encoding, coherence, chaos

    def guesses(*matches: Match):
        monkeypatch.setattr(charset_normalizer, "from_bytes", lambda data: list(matches))
        return segmentation._guessed_codec(b"caf\xe9 cr\xe8me")

    assert guesses(Match("cp1250", 0.52), Match("cp1252", 0.50)) == "cp1252"
    assert guesses(Match("cp1250", 0.60), Match("cp1252", 0.50)) == "cp1250"
    assert guesses(Match("cp1250", 0.5), Match("cp1252", 0.5, chaos=0.1)) == "cp1250"
    assert guesses(Match("utf_16_le", 0.0), Match("cp1006", 0.0)) == "cp1006"
    monkeypatch.undo()
    muller = "Müller".encode("cp1252")
    assert decode_html(muller) != muller.decode("utf-16-le", errors="replace")  # charset_normalizer's first guess


def test_windows_1252_wins_a_near_tie_but_not_a_clear_guess() -> None:
    page = "<html><body><p>El niño comió en la casa el sábado. Cuesta £5.</p></body></html>"
    assert decode_html(page.encode("cp1252")) == page  # cp1250 scored a little more coherent in this markup
    polish = "Zażółć gęślą jaźń w Łodzi. Łódź, Kraków i Gdańsk to duże miasta, a Wisła płynie przez nie."
    assert decode_html(polish.encode("cp1250")) == polish


def test_a_text_file_whose_prose_shows_tags_stays_text() -> None:
    tutorial = ("A paragraph is written as <p>Hello</p> and a section as <div>...</div> in the source.\n\n"
                "Never put a <div> inside a <p>, because the parser closes the paragraph early.")
    assert settle_format(tutorial, "text") == "text" and sniff_format(tutorial) == "html"
    assert settle_format("<!doctype html><html><body><p>Page</p></body></html>", "text") == "html"
    assert settle_format("<div><p>A page saved as .txt</p><p>still markup</p></div>", "text") == "html"


def test_hard_wrapping_needs_lines_no_wider_than_its_width_and_cuts_at_lines_with_room_left() -> None:
    story = ("The harbour board approved the plan on Tuesday after a long debate about the cost of the new quay wall. "
             "Work on the wall starts in May and should take two years, the board's chair said.")
    later = "The ferry returns in May, after two years away, on the old timetable of four crossings a day."
    headline = "Harbour board approves the new quay wall"
    assert texts(segment_text(f"{headline}\n{story}\n\n{later}")) == [headline, story, later]  # no wrapped text
    wrapped = f"{headline}\n{textwrap.fill(story, 72)}\n\nBackground\n{textwrap.fill(later, 72)}"
    assert texts(segment_text(wrapped)) == [headline, story, "Background", later]  # subheads over their paragraphs
    narrow = textwrap.fill(story, 34) + "\n\n" + textwrap.fill(later, 34)
    assert texts(segment_text(narrow)) == [story, later]
    unbroken = "\n".join([headline, textwrap.fill(story, 72), textwrap.fill(later, 72)])  # no blank line at all
    assert texts(segment_text(unbroken)) == [headline, story, later]
    assert texts(segment_text(f"Home\nNews\n{story}\n{later}")) == ["Home", "News", story, later]  # a line dump


def test_a_wrapped_run_ends_at_a_line_with_room_for_the_next_word_and_not_before() -> None:
    lines = ["aaaa bbbb cccc dddd eeee ffff gggg hhhh", "iiii jjjj kkkk llll mmmm nnnn oooo", "Next line here"]
    assert _wrapped_runs(lines, 39) == ["\n".join(lines[:2]), lines[2]]  # 34 + 1 + len("Next") fits 39 exactly
    assert _wrapped_runs(lines, 38) == ["\n".join(lines)]
    story = " ".join(f"word{i % 7}" + "x" * (i % 5) for i in range(120))
    wrapped = textwrap.fill(story, 60).split("\n")
    assert _wrap_width([wrapped]) == max(map(len, wrapped))  # the widest line, which the cut is measured against
