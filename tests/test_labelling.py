"""Gold-to-block labelling on small hand-written pages: what is content, what is not, and why."""

from __future__ import annotations

import numpy as np
import pytest

from noiseclf.labelling import CONTENT_COVERAGE, BlockLabels, label_blocks, oracle_text
from noiseclf.segmentation import segment_html
from noiseclf.types import Block, BlockClass, Document, GoldRun, Page

ARTICLE = """<!doctype html><html><head><title>Harbour ferry returns | Coastline Daily</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/weather">Weather</a></li></ul></nav>
<div class="share"><a href="#">Share</a> <a href="#">Print</a></div>
<article>
<h1>Harbour ferry returns after a winter of repairs</h1>
<p>The old harbour ferry carried its first passengers of the year on Saturday, after three months
in dry dock while engineers replaced the propeller shaft and rewired the wheelhouse.</p>
<p>Captain Ines Moreau said the crossing to the island now takes twelve minutes, four fewer than
last summer, and that the timetable will add an evening sailing from May.</p>
<h2>Tickets</h2>
<p>Fares are unchanged: a return costs six euros for adults and half that for children under twelve,
and season passes can be bought at the kiosk on the quay.</p>
</article>
<aside><h3>Most read</h3><ul><li><a href="/a">Storm closes coast road</a></li>
<li><a href="/b">New bakery opens on Quay Street</a></li></ul></aside>
<footer><p>Contact us</p><p>Privacy policy</p><p>&copy; 2024 Coastline Daily</p></footer>
</body></html>"""

GOLD = "\n\n".join((
    "Harbour ferry returns after a winter of repairs",
    "The old harbour ferry carried its first passengers of the year on Saturday, after three months in dry dock"
    " while engineers replaced the propeller shaft and rewired the wheelhouse.",
    "Captain Ines Moreau said the crossing to the island now takes twelve minutes, four fewer than last summer,"
    " and that the timetable will add an evening sailing from May.",
    "Tickets",
    "Fares are unchanged: a return costs six euros for adults and half that for children under twelve, and season"
    " passes can be bought at the kiosk on the quay.",
))


def _page(gold: str = "", runs: tuple[GoldRun, ...] = ()) -> Page:
    """A corpus page carrying only gold: labelling reads nothing else."""
    return Page(id="t", corpus="test", split="all", content=b"", gold_text=gold, gold_runs=runs)


def _labels_by_text(html: str, page: Page) -> tuple[Document, BlockLabels, dict[str, tuple[bool, int]]]:
    """Segment, label, and index (content, class) by block text for readable assertions."""
    doc = segment_html(html)
    labels = label_blocks(doc, page)
    by_text = {b.text: (bool(c), int(k)) for b, c, k in zip(doc.blocks, labels.content, labels.classes)}
    return doc, labels, by_text


def test_article_blocks_are_content_and_chrome_is_not() -> None:
    _, labels, by_text = _labels_by_text(ARTICLE, _page(GOLD))
    assert by_text["Harbour ferry returns after a winter of repairs"][0]
    assert by_text["Tickets"][0]
    assert all(content for text, (content, _) in by_text.items() if text.startswith(("The old", "Captain", "Fares")))
    for chrome in ("Home", "World", "Sport", "Weather", "Share Print", "Most read", "Storm closes coast road",
                   "Contact us", "Privacy policy", "© 2024 Coastline Daily"):
        assert by_text[chrome] == (False, BlockClass.NOT_CONTENT), chrome
    assert labels.content.sum() == 5


def test_labels_have_one_entry_per_block_with_documented_dtypes() -> None:
    doc, labels, _ = _labels_by_text(ARTICLE, _page(GOLD))
    for array, dtype in ((labels.content, np.bool_), (labels.classes, np.int8), (labels.coverage, np.float32)):
        assert array.shape == (len(doc),)
        assert array.dtype == dtype
    assert np.all((labels.coverage >= 0) & (labels.coverage <= 1))
    assert np.array_equal(labels.content, labels.coverage >= CONTENT_COVERAGE)


def test_oracle_text_is_the_content_blocks_joined_by_blank_lines() -> None:
    doc, labels, _ = _labels_by_text(ARTICLE, _page(GOLD))
    oracle = oracle_text(doc, labels)
    assert oracle.split("\n\n") == [b.text for b, keep in zip(doc.blocks, labels.content) if keep]
    assert oracle.startswith("Harbour ferry returns after a winter of repairs\n\nThe old harbour ferry")
    assert "Most read" not in oracle and "Privacy" not in oracle


def test_gold_with_whitespace_entity_punctuation_and_markdown_differences_still_aligns() -> None:
    html = """<html><body><div id="menu"><a href="/">Home</a> | <a href="/recipes">Recipes</a></div>
    <div class="post"><p>Salt&nbsp;&amp;&nbsp;pepper, the cook&#8217;s &ldquo;first&rdquo; tools &mdash; are
    older<br/>than most    kitchens.</p>
    <p>Grind the pepper <em>fresh</em>; pre-ground pepper loses its aroma within weeks.</p></div>
    <div class="footer">Recipes by email</div></body></html>"""
    gold = ("**Salt & pepper**, the cook?s ?first? tools -- are older than most kitchens!\n"
            "- Grind the  pepper _fresh_ -- pre ground pepper loses its aroma within weeks")
    _, labels, by_text = _labels_by_text(html, _page(gold))
    paragraphs = [text for text in by_text if text.startswith(("Salt", "Grind"))]
    assert len(paragraphs) == 2 and all(by_text[text][0] for text in paragraphs)
    assert not by_text["Home | Recipes"][0] and not by_text["Recipes by email"][0]
    assert labels.coverage.max() == pytest.approx(1.0)


def test_gold_with_soft_hyphens_aligns_to_the_words_the_page_shows() -> None:
    html = ARTICLE.replace("passengers", "pas&shy;sen&shy;gers").replace("wheelhouse", "wheel&shy;house")
    gold = "\n\n".join(p.replace("propeller", "pro\u00adpel\u00adler").replace("timetable", "time\u200btable")
                       for p in GOLD.split("\n\n"))
    doc, labels, by_text = _labels_by_text(html, _page(gold))
    rows = [i for i, b in enumerate(doc.blocks) if b.text.startswith(("The old", "Captain"))]
    assert "passengers" in doc.blocks[rows[0]].text and all(labels.content[rows])
    np.testing.assert_allclose(labels.coverage[rows], 1.0)  # every word aligned, the hyphenated ones too


def test_small_edits_in_the_gold_keep_a_paragraph_content() -> None:
    gold = GOLD.replace("three months", "3 months").replace("propeller shaft", "prop shaft")
    _, _, by_text = _labels_by_text(ARTICLE, _page(gold))
    assert next(content for text, (content, _) in by_text.items() if text.startswith("The old"))


def test_nav_word_that_also_occurs_in_the_gold_does_not_make_the_nav_content() -> None:
    # The gold opens and closes with sentences the page lacks (an editor's standfirst and sign-off):
    # "weather", "home", "contact us" and "privacy" there fall in the same stretch as menu and footer blocks.
    gold = ("Weather permitting, home owners near the quay will hear the horn again.\n\n" + GOLD
            + "\n\nReaders can contact us about privacy concerns at the desk.")
    _, _, by_text = _labels_by_text(ARTICLE, _page(gold))
    for chrome in ("Home", "Weather", "Contact us", "Privacy policy"):
        assert by_text[chrome] == (False, BlockClass.NOT_CONTENT), chrome
    assert by_text["Tickets"][0]


def test_short_blocks_amid_the_article_stay_content() -> None:
    html = """<html><body><ul class="menu"><li>Shop</li><li>Garden</li></ul><article>
    <p>Three herbs grow well on a north-facing windowsill with little fuss at all.</p>
    <ul><li>Mint</li><li>Parsley</li><li>Chives</li></ul>
    <div class="ad">Advertisement, story continues below</div><h3>Watering</h3>
    <div class="ad">Sponsored by Pots and Co</div>
    <p>Water them when the top centimetre of soil is dry, and never leave the pots standing in water.</p>
    </article><ul class="menu"><li>Mint</li><li>Basil</li></ul></body></html>"""
    gold = ("Three herbs grow well on a north-facing windowsill with little fuss at all.\n\nMint\nParsley\nChives\n\n"
            "Watering\n\n"
            "Water them when the top centimetre of soil is dry, and never leave the pots standing in water.")
    doc, labels, _ = _labels_by_text(html, _page(gold))
    content = [b.text for b, keep in zip(doc.blocks, labels.content) if keep]
    assert content[1:5] == ["Mint", "Parsley", "Chives", "Watering"]  # "Watering" sits between two ads
    assert [b.text for b in doc.blocks[-2:]] == ["Mint", "Basil"] and not labels.content[-2:].any()


def test_a_short_run_one_label_away_from_matched_text_is_tolerated_as_an_edit() -> None:
    html = """<html><body><div class="nav">Shop</div><div class="product">
    <h3>Oak bookcase with five adjustable shelves</h3>
    <p>Solid oak, oiled by hand, delivered flat-packed with every fitting you need.</p>
    <div class="price">Price $ 89.00</div></div><div class="footer">Delivery and returns</div></body></html>"""
    gold = ("Oak bookcase with five adjustable shelves\n\n"
            "Solid oak, oiled by hand, delivered flat-packed with every fitting you need.\n$89.00")
    _, _, by_text = _labels_by_text(html, _page(gold))
    # "89 00" follows the description in the gold, one token ("Price") later on the page
    assert by_text["Price $ 89.00"][0]
    assert not by_text["Shop"][0] and not by_text["Delivery and returns"][0]


def test_teaser_repeating_the_lead_is_not_content_but_the_lead_is() -> None:
    lead = "The council approved the new cycle lanes on Tuesday after a two hour debate."
    html = f"""<html><body><div class="teaser"><a href="#story">{lead}</a></div>
    <div class="ad">Advertisement</div>
    <div id="story"><p>{lead} Work starts in June.</p>
    <p>The lanes will link the station to the university campus along the river.</p></div></body></html>"""
    gold = f"{lead} Work starts in June.\n\nThe lanes will link the station to the university campus along the river."
    doc, labels, _ = _labels_by_text(html, _page(gold))
    assert doc.blocks[0].text == lead and not labels.content[0]
    assert labels.content[2] and labels.content[3]


def test_l3s_style_runs_give_a_teaser_block_the_related_class() -> None:
    html = """<html><body><div id="nav"><a href="/">Front page</a> <a href="/tech">Technology</a></div>
    <h1>Chip maker opens plant</h1>
    <p class="byline">By Lena Fischer, January 9</p>
    <p>The chip maker opened its third plant on Monday, adding eight hundred jobs in the valley.</p>
    <p>Production of sensors for cars will start in the spring, the company said.</p>
    <div class="related"><h4>Related stories</h4><p><a href="/x">Sensor shortage hits car makers in Europe</a></p></div>
    <div class="comments"><p>Great news for the valley, finally some jobs here.</p></div></body></html>"""
    runs = (
        GoldRun("Front page Technology", BlockClass.NOT_CONTENT),
        GoldRun("Chip maker opens plant", BlockClass.HEADLINE),
        GoldRun("By Lena Fischer, January 9", BlockClass.SUPPLEMENTAL),
        # L3S's annotated copies lost characters; here the comma became "?"
        GoldRun("The chip maker opened its third plant on Monday? adding eight hundred jobs in the valley.\n\n"
                "Production of sensors for cars will start in the spring, the company said.", BlockClass.FULL_TEXT),
        GoldRun("Related stories\n\nSensor shortage hits car makers in Europe", BlockClass.RELATED),
        GoldRun("Great news for the valley, finally some jobs here.", BlockClass.COMMENTS),
    )
    gold = "\n\n".join(r.text for r in runs if r.cls.is_content)
    _, _, by_text = _labels_by_text(html, _page(gold, runs))
    assert by_text["Sensor shortage hits car makers in Europe"] == (False, BlockClass.RELATED)
    assert by_text["Related stories"] == (False, BlockClass.RELATED)
    assert by_text["Chip maker opens plant"] == (True, BlockClass.HEADLINE)
    assert by_text["By Lena Fischer, January 9"] == (False, BlockClass.SUPPLEMENTAL)
    assert by_text["Production of sensors for cars will start in the spring, the company said."] == (
        True, BlockClass.FULL_TEXT)
    assert by_text["Great news for the valley, finally some jobs here."] == (False, BlockClass.COMMENTS)
    assert by_text["Front page Technology"] == (False, BlockClass.NOT_CONTENT)


@pytest.mark.parametrize("gold", ["", "   \n\n  ", "— … —"])
def test_empty_gold_labels_every_block_not_content(gold: str) -> None:
    doc, labels, _ = _labels_by_text(ARTICLE, _page(gold))
    assert len(doc) > 5
    assert not labels.content.any()
    assert np.all(labels.classes == BlockClass.NOT_CONTENT)
    assert np.all(labels.coverage == 0)
    assert oracle_text(doc, labels) == ""


def test_empty_document_gives_empty_labels() -> None:
    labels = label_blocks(Document(blocks=()), _page(GOLD))
    assert labels.content.shape == labels.classes.shape == labels.coverage.shape == (0,)
    assert oracle_text(Document(blocks=()), labels) == ""


def test_a_block_without_word_tokens_is_not_content() -> None:
    doc = Document(blocks=(Block("Rates rise again for the third month running"), Block("* * *"),
                           Block("Lenders blame the cost of funding")))
    gold = "Rates rise again for the third month running\n\n* * *\n\nLenders blame the cost of funding"
    labels = label_blocks(doc, _page(gold))
    assert labels.content.tolist() == [True, False, True]
    assert labels.coverage[1] == 0 and labels.classes[1] == BlockClass.NOT_CONTENT
