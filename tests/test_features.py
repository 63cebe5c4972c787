"""Page-level features on a hand-written flattened page: repetition, truncation, markers, calls to action."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from noiseclf import extract
from noiseclf.features import COMPILED_SCAN, FEATURE_NAMES, N_FEATURES, _scan_compiled, _scan_numpy, block_features
from noiseclf.segmentation import segment_html, segment_text

PAGE = """Skip to content

Lighthouse keeper's diary found in attic after ninety years

The diary, kept through the winter storms of 1934, describes nightly watches and supply boats that never came.

Historians at the county archive said the entries were written in pencil and are still easy to read today.

They plan to publish a transcript next spring, alongside photographs of the lighthouse and its keeper.

Read also:

Ferry fares to rise by a fifth from March

Operators blamed fuel costs for the increase.

Operators blamed fuel costs for the increase. Commuters on the island route said they would look for

Members Public

Sign up for our newsletter to get the day's stories in your inbox."""


def column(X, name):
    return X[:, FEATURE_NAMES.index(name)]


def test_matrix_shape_and_finiteness():
    doc = segment_text(PAGE)
    X = block_features(doc)
    assert X.shape == (len(doc.blocks), N_FEATURES) and np.isfinite(X).all()
    assert block_features(segment_html(b"")).shape == (0, N_FEATURES)


def test_teaser_repetition_truncation_and_markers():
    doc = segment_text(PAGE)
    X = block_features(doc)
    texts = [b.text for b in doc.blocks]
    line = texts.index("Operators blamed fuel costs for the increase.")
    cut = line + 1
    assert column(X, "is_prefix_of_other")[line] == 1
    assert column(X, "truncated")[cut] == 1
    assert column(X, "is_marker")[texts.index("Read also:")] == 1
    assert column(X, "is_cta")[texts.index("Skip to content")] == 1
    run = column(X, "in_marker_run")
    assert run[line] == 1 and run[cut] == 1
    assert run[texts.index(texts[2])] == 0  # article prose before the marker
    assert column(X, "cta_terms")[-1] >= 2  # newsletter, inbox
    article = [i for i, t in enumerate(texts) if t.startswith(("The diary", "Historians", "They plan"))]
    assert column(X, "topic_sim")[article].min() > column(X, "topic_sim")[texts.index("Members Public")]
    assert column(X, "title_recall")[1] == 1.0  # the headline restates the title it was taken as


@pytest.mark.parametrize("line", ["Today's most read", "Latest headlines", "The Latest", "Top Stories",
                                  "More Football News from TEAMtalk", "More on this story", "External links",
                                  "Don’t miss", "Editor's picks", "Editors’ Choice", "In case you missed it",
                                  "Previous Post", "Related Links", "Related searches", "More videos...",
                                  "Next Article in World »", "Most Recommended", "Recommended Reading",
                                  "Trending Stories", "Promoted Stories", "From Around the Web",
                                  "You may also be interested in"])
def test_list_headings_are_section_markers(line):
    texts = [line, "Harbour ferry fares to rise by a fifth from March", "Storm closes coastal road for a week"]
    X = block_features(segment_text("\n\n".join(texts)))
    assert column(X, "is_marker").tolist() == [1, 0, 0]
    assert column(X, "after_marker").tolist() == [1, 1, 1]


@pytest.mark.parametrize("line", ["Editor's choice award goes to the island ferry", "Latest figures show fares rose",
                                  "Related costs fell by a fifth", "Recommended by the harbour board in May",
                                  "Trending stories rarely last a week"])
def test_a_sentence_opening_with_a_marker_phrase_is_no_marker(line):
    X = block_features(segment_text(line + "\n\nThe harbour master said the ferries would run again on Monday."))
    assert column(X, "is_marker")[0] == 0


@pytest.mark.parametrize("line, prefixed", [("Previous story: Ferry fares to rise by a fifth", 1),
                                            ("Next article: Storm closes coastal road", 1),
                                            ("Previous: Ferry fares rise | Next: Storm closes road", 1),
                                            ("TAGS: Harbour, ferries, island routes", 1),
                                            ("Read full article: How to choose a ferry pass", 1),
                                            ("» Next in Travel: Storm closes coastal road", 1),
                                            ("Next: stir in the flour and leave the dough to rest", 0),
                                            ("More than 400 homes lost power during the storm", 0)])
def test_story_link_and_tag_lines_open_with_a_marker(line, prefixed):
    X = block_features(segment_text(line + "\n\nThe harbour master said the ferries would run again on Monday."))
    assert column(X, "marker_prefix")[0] == prefixed and column(X, "is_marker")[0] == 0

def test_a_long_unlinked_keyword_line_is_not_the_pages_topic():
    keywords = " ".join(f"{w}{i}" for i in range(8) for w in ("harbour", "election", "recipes", "cycling", "weather",
                                                              "football", "theatre", "markets", "gardens", "schools"))
    story = ["Beekeepers in the valley lost a third of their hives to a damp spring, the growers' association said.",
             "The association's beekeepers blamed the damp spring and mites for the hives they lost this year.",
             "Valley beekeepers will restock their hives next spring with colonies bred by the association."]
    page = f'<html><body><p class="keywords">{keywords}</p>' + "".join(f"<p>{t}</p>" for t in story) + "</body></html>"
    doc = segment_html(page.encode())
    X = block_features(doc)
    sim = column(X, "topic_sim")
    # A story paragraph is compared with the other story paragraphs, not with the page's longest block.
    assert sim[1:].min() > 0.2 > sim[0]


ONE_STORY = ("The ferry service was suspended in 2021 when inspectors found corrosion in the hull of the old diesel "
             "boat, which had been in use since 1974, and the towns on both shores argued over who should pay.")


def test_the_only_block_carrying_the_topic_is_the_topic_not_rounding_noise():
    page = (f"<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav><h1>Lake ferry returns</h1>"
            f"<p>{ONE_STORY}</p><footer>Contact us</footer></body></html>")
    topic = FEATURE_NAMES.index("topic_sim")
    for doc in (segment_html(page), segment_text(ONE_STORY)):
        sim = block_features(doc)[:, topic]
        story = [b.text for b in doc.blocks].index(ONE_STORY)
        assert sim[story] == 1.0 and np.all(np.abs(sim) <= 1.0 + 1e-6)  # a cosine; was 3.11, 279.6, -0.0003...


def test_a_one_paragraph_text_is_kept() -> None:
    from noiseclf import extract

    assert extract(ONE_STORY, format="text").text == ONE_STORY


def test_a_repeated_text_differing_in_case_counts_once_in_finding_the_main_element():
    summary = "The ferry will run every twenty minutes from May, the council said on Monday evening."
    story = ["Commuters on the island route welcomed the change after a long winter of cancelled crossings.",
             "The council will add another boat in June if the ferry stays full in spring."]
    promo = [summary.upper(), summary.lower(), summary]  # one teaser summary three times, styled differently
    page = ('<html><body><div class="promo">' + "".join(f"<p>{t}</p>" for t in promo) + '</div><div class="story">'
            + "".join(f"<p>{t}</p>" for t in [summary, *story]) + "</div></body></html>")
    doc = segment_html(page.encode())
    X = block_features(doc)
    main = column(X, "main_el")
    # Counted three times, the promo would hold as much prose as the story and their wrapper would be the main element.
    assert main[:3].tolist() == [0, 0, 0] and main[3:].tolist() == [1, 1, 1]


def test_a_repeated_line_ending_in_an_ellipsis_opens_its_copies_and_a_plain_repeat_does_not():
    blocks = ["Watch the council debate the budget…", "Share this story", "The council met on Monday night to "
              "debate the budget for the coming year, and voted to keep the library open.", "Share this story",
              "Watch the council debate the budget…", "Flood warning for the valley...",
              "Flood warning for the valley as rain continues into the weekend."]
    X = block_features(segment_text("\n\n".join(blocks)))
    assert column(X, "is_prefix_of_other").tolist() == [1, 0, 0, 0, 1, 1, 0]
    assert column(X, "dup_count").tolist() == [1, 1, 0, 1, 1, 0, 0]


def test_neighbour_repetition_context():
    X = block_features(segment_text(PAGE))
    texts = [b.text for b in segment_text(PAGE).blocks]
    headline = texts.index("Ferry fares to rise by a fifth from March")
    assert column(X, "is_prefix_of_other@-1")[headline] == 1  # the next block is a repeated teaser line


ARTICLE_PAGE = """<html><head><title>Orchard growers count the cost of a late frost</title></head><body>
<div class="wrap">
<article>
<h1>Orchard growers count the cost of a late frost</h1>
<p>Apple growers in the valley lost about a third of their blossom when temperatures fell below freezing for two nights in April.</p>
<p>The frost came after an unusually warm March had brought the orchards into flower weeks earlier than in most years.</p>
<p>Several growers ran wind machines and sprinklers through the night, but said the cold settled too low for them to help.</p>
<p>The regional growers' association expects the harvest to be the smallest in a decade and has asked for emergency support.</p>
</article>
<aside class="more">
<h3>More stories</h3>
<ul>
<li><a href="/a">Bridge repairs to close the coast road for a month</a></li>
<li><a href="/b">School choir wins national title</a></li>
<li><a href="/c">New bus timetable starts on Monday</a></li>
<li><a href="/d">Museum reopens its maritime gallery</a></li>
</ul>
</aside>
</div></body></html>"""


def test_container_and_main_element_features():
    doc = segment_html(ARTICLE_PAGE)
    X = block_features(doc)
    texts = [b.text for b in doc.blocks]
    prose = [i for i, t in enumerate(texts) if len(t.split()) > 15]
    teasers = [texts.index(t) for t in ("School choir wins national title", "New bus timetable starts on Monday")]
    assert len(prose) == 4
    assert column(X, "main_el")[prose].min() == 1 and column(X, "main_el")[teasers].max() == 0
    assert column(X, "main_el_share")[0] == 1.0
    assert column(X, "below_main_el")[teasers].max() == -1 and np.all(column(X, "below_main_el")[prose] == 1)  # <p> in <article>
    assert column(X, "c1_link")[teasers].min() == 1.0 and column(X, "c1_link")[prose].max() == 0.0
    assert np.allclose(column(X, "c1_children")[teasers], np.log1p(4))  # four <li> in the teasers' <ul>
    assert column(X, "c1_prose_share")[prose].min() > 0.5 > column(X, "c1_prose_share")[teasers].max()


def test_a_summary_repeated_in_a_teaser_box_counts_once_in_finding_the_main_element():
    story = "".join(f"<p>Story paragraph {i} on the late frost in the valley orchards, with the growers' counts of "
                    f"the blossom they lost over two cold nights.</p>" for i in range(3))
    teasers = "".join(f"<div><h3><a href='/{i}'>Other story {i}</a></h3><p>{summary}</p><p>{summary}</p></div>"
                      for i, summary in enumerate(("The council approved a new bus timetable for the coast road "
                                                   "villages after a year of complaints from commuters.",
                                                   "The school choir won the national title in the capital after "
                                                   "three rounds of singing against older choirs.")))
    doc = segment_html(f"<html><body><article>{story}</article><section>{teasers}</section></body></html>")
    X = block_features(doc)
    texts = [b.text for b in doc.blocks]
    paragraphs = [i for i, t in enumerate(texts) if t.startswith("Story paragraph")]
    summaries = [i for i, t in enumerate(texts) if t.startswith("The ")]
    assert len(paragraphs) == 3 and len(summaries) == 4  # with its repeats the box outweighs the story (74 words to 72)
    assert column(X, "main_el")[paragraphs].min() == 1 and column(X, "main_el")[summaries].max() == 0


def _teaser_cards(stories: list[tuple[str, str]]) -> str:
    return "".join(f"<dt><a href='/{i}'>{head}</a></dt><dd>{summary}</dd>" for i, (head, summary) in enumerate(stories))


CARDS = [(f"Other story {i}", f"Police in the harbour town {i} said on Wednesday that the night ferry had been held "
                               f"in port for a second day while engineers checked its steering gear.") for i in range(6)]


def test_a_story_beside_a_larger_column_of_teaser_cards_is_the_main_element():
    story = ("<p>Story paragraph one on the late frost in the valley orchards, with the growers' counts of the "
             "blossom they lost over two cold nights.</p><h3>What comes next</h3>"
             "<p>Story paragraph two on the insurers, who said claims would be paid before the harvest if the "
             "growers filed them by the end of the month.</p>"
             "<p>Story paragraph three on the weather office, which expects a milder week and no more frost "
             "before the cherries set their fruit.</p>")
    doc = segment_html(f"<html><body><div id='story'>{story}</div><div id='rail'><h2>More headlines</h2>"
                       f"<dl>{_teaser_cards(CARDS)}</dl></div></body></html>")
    X = block_features(doc)
    texts = [b.text for b in doc.blocks]
    paragraphs = [i for i, t in enumerate(texts) if t.startswith("Story paragraph")]
    summaries = [i for i, t in enumerate(texts) if t.startswith("Police in")]
    assert len(paragraphs) == 3 and len(summaries) == 6  # the cards hold twice the story's prose
    assert column(X, "main_el")[paragraphs].min() == 1 and column(X, "main_el")[summaries].max() == 0
    assert column(X, "after_main_el")[summaries].min() == 1


def test_a_listing_of_teaser_cards_keeps_its_list_as_the_main_element():
    intro = "<p>Our weekly round-up of the stories readers followed most, from the harbour and beyond it.</p>"
    doc = segment_html(f"<html><body><div id='intro'>{intro}</div><dl>{_teaser_cards(CARDS)}</dl></body></html>")
    X = block_features(doc)
    texts = [b.text for b in doc.blocks]
    summaries = [i for i, t in enumerate(texts) if t.startswith("Police in")]
    assert column(X, "main_el")[summaries].min() == 1  # no run of paragraphs to move it to


def test_hints_off_the_main_element_count_and_hints_around_it_do_not():
    page = (ARTICLE_PAGE.replace("<body>", '<body class="has-sidebar related-posts">', 1)
            .replace("<article>", '<article class="story">', 1)
            .replace('<aside class="more">', '<aside class="sidebar"><div class="related-box">', 1)
            .replace("</aside>", "</div></aside>", 1))
    doc = segment_html(page)
    X = block_features(doc)
    texts = [b.text for b in doc.blocks]
    prose = [i for i, t in enumerate(texts) if len(t.split()) > 15]
    teasers = [texts.index(t) for t in ("School choir wins national title", "New bus timetable starts on Monday")]
    assert all(b.hinted("sidebar") and b.hinted("related") for b in doc.blocks)  # the <body> class reaches all
    for name in ("off_main_sidebar", "off_main_related"):
        assert column(X, name)[teasers].min() == 1 and column(X, name)[prose].max() == 0
    assert column(X, "off_main_content")[prose].max() == 0  # the story's own class encloses the main element
    assert np.all(column(X, "off_main_levels")[prose] == 1)  # each <p> below the <article>
    assert column(X, "off_main_levels")[teasers].min() == 4  # aside, div, ul and the block's own <li>
    assert column(block_features(segment_text(PAGE)), "off_main_sidebar").max() == 0


def test_plain_text_sections_stand_in_for_elements():
    doc = segment_text(PAGE)
    X = block_features(doc)
    texts = [b.text for b in doc.blocks]
    article = [i for i, t in enumerate(texts) if t.startswith(("The diary", "Historians", "They plan"))]
    teasers = [i for i, t in enumerate(texts) if t.startswith(("Ferry fares", "Operators"))]
    assert column(X, "main_el")[article].min() == 1 and column(X, "main_el")[teasers].max() == 0
    assert column(X, "c1_topic")[article].min() > column(X, "c1_topic")[teasers].max()


@pytest.mark.skipif(not COMPILED_SCAN, reason="noiseclf._scan is not built (pip install -e .)")
def test_compiled_scan_matches_the_numpy_scan():
    texts = ["İstanbul ΌΣΟΣ ǅemal ß ﬁ: lowercasing that changes lengths and cases.", "𝐀𝐁𝐂 word_x 𝟙𝟚 😀 end.",
             "a", ":", "Hello, World: 12,000 (1984)|", "\u00a0nbsp\u2028sep", "日本語のテキスト。次。", "…", "x . y ! z ?",
             "中文ABC文字，ｶﾀｶﾅ・ー〜 テスト！", "Ἀθῆναι 漢字x", "Read more...", "cut […]", "cut [...]", "x..]", "..",
             "ALL CAPS, 2026!", "ǅ TITLECASE", "see http://x or www.y", "a | b", "quoted»", "said.”", "[…",
             " Leading", "trailing ", "two  spaces", "a\ttab", "İ\u2003em space", "x\u00a0",
             "caf\udce9 (a lone surrogate, as surrogateescape decoding leaves one)"]
    numpy_scan, compiled_scan = _scan_numpy(texts), _scan_compiled(texts)
    for a, b in zip(numpy_scan, compiled_scan):
        if isinstance(a, dict):
            assert list(a.items()) == list(b.items())  # the same terms, in the same order
        elif isinstance(a, list):
            assert a == b
        else:
            assert a.dtype == b.dtype and np.array_equal(a, b)


_FEATURE_DIGEST = """
import hashlib, pathlib, sys
from noiseclf.features import block_features
from noiseclf.segmentation import segment
digest = hashlib.sha256()
for path in sorted(pathlib.Path(sys.argv[1]).glob("*[lt]")):  # .html, .txt
    digest.update(block_features(segment(path.read_bytes())).tobytes())
print(digest.hexdigest())
"""


@pytest.mark.skipif(not COMPILED_SCAN, reason="noiseclf._scan is not built (pip install -e .)")
def test_the_compiled_helpers_give_the_features_of_the_python_ones():
    """Every feature of the hand-written pages, HTML and text, bitwise, with and without `NOISECLF_PURE_PYTHON`
    (the compiled scan, its marks and normalised texts, `group_ids` and `off_spine` against their twins)."""
    news = str(Path(__file__).parent / "fixtures" / "news")
    digests = [subprocess.run([sys.executable, "-c", _FEATURE_DIGEST, news], env={**os.environ, **env},
                              capture_output=True, text=True, check=True).stdout
               for env in ({}, {"NOISECLF_PURE_PYTHON": "1"})]
    assert digests[0] == digests[1] and len(digests[0].strip()) == 64


def test_word_counts_match_regex_words_in_any_script():
    import re

    blocks = ["snake_case and İstanbul count as words", "emoji 🎉 are not words but 𠀀 is one",
              "Ünïcödé — dashes – split; numbers 3.14 don't"]
    X = block_features(segment_text("\n\n".join(blocks)))
    expected = [len(re.findall(r"\w+", b.lower())) for b in blocks]
    assert np.allclose(np.expm1(column(X, "log_words")), expected)


def test_han_and_kana_count_a_word_a_character_and_sentences_end_at_full_stops():
    # Chinese and Japanese put no spaces between words: a paragraph is as long as its characters, not one word.
    blocks = ["北海道の漁港で、サンマの水揚げが十年ぶりの水準に達した。組合は資源管理を続ける。",
              "新闻：今年的秋刀鱼捕捞量创下十年来新高！", "Tokyo 東京 2026年"]
    X = block_features(segment_text("\n\n".join(blocks)))
    han_kana = [sum(c.isalnum() for c in blocks[0]), sum(c.isalnum() for c in blocks[1]), 1 + 2 + 2]
    assert np.allclose(np.expm1(column(X, "log_words")), han_kana)
    assert column(X, "sentences").tolist() == [2, 1, 0] and column(X, "ends_terminal")[:2].min() == 1


def test_comment_framing_lines_and_blocks_after_the_main_element():
    page = ARTICLE_PAGE.replace("</div></body>", """<section class="responses">
<p>Maria said...</p><p>We lost most of our pears too, the same two nights.</p><p>Reply</p>
<p>Tom said...</p><p>Wind machines never help when the cold sits this low.</p><p>Reply</p>
</section></div></body>""")
    doc = segment_html(page)
    X = block_features(doc)
    texts = [b.text for b in doc.blocks]
    framing = [texts.index("Maria said..."), texts.index("Reply")]
    assert column(X, "comment_line")[framing].min() == 1
    assert column(X, "comment_line")[texts.index("We lost most of our pears too, the same two nights.")] == 0
    comment = texts.index("Wind machines never help when the cold sits this low.")
    assert column(X, "comment_line@-1")[comment] == 1 and column(X, "c1_comment_lines")[comment] >= 0.5
    assert column(X, "after_main_el")[comment] == 1 and column(X, "after_main_el")[1] == 0


def _comment_thread(n: int) -> str:
    return "".join(f'<div class="comment-body"><p>Reader {i} wrote a long reply about frost, orchards and the '
                   f'price of pears this year, and how the cold nights came early in the valley again.</p></div>'
                   for i in range(n))


def test_comment_region_against_the_prose_outside_it():
    article = ARTICLE_PAGE.replace("</div></body>", f'<div id="comments">{_comment_thread(12)}</div></div></body>')
    X = block_features(segment_html(article))
    texts = [b.text for b in segment_html(article).blocks]
    prose = [i for i, t in enumerate(texts) if len(t.split()) > 15 and not t.startswith("Reader")]
    replies = [i for i, t in enumerate(texts) if t.startswith("Reader")]
    assert column(X, "main_el")[prose].max() == 0  # the replies outweigh the story...
    assert column(X, "main_outside_el")[prose].min() == 1  # ...but the story is the prose outside them
    assert column(X, "comment_region")[replies].min() == 1 and column(X, "comment_region")[prose].max() == 0
    assert np.all(column(X, "outside_prose_before")[replies] == 1)
    assert column(X, "page_comment_share")[0] > 0.5 and column(X, "page_outside_prose")[0] > np.log1p(60)

    assert column(X, "forum_like")[0] == 0
    thread = f"<html><body><h1>Frost in the valley</h1>{_comment_thread(5)}</body></html>"
    X = block_features(segment_html(thread))
    assert np.all(column(X, "page_comment_share") == 1) and np.all(column(X, "page_outside_prose") == 0)


def test_a_page_wide_comment_class_is_not_a_comment_region():
    on_body = ARTICLE_PAGE.replace("<body>", '<body class="single-post has-comments">', 1)
    on_wrapper = ARTICLE_PAGE.replace('<div class="wrap">', '<div class="wrap comments-open">', 1)
    for page in (on_body, on_wrapper):
        assert page != ARTICLE_PAGE
        doc = segment_html(page)
        assert all(b.hinted("comment") for b in doc.blocks)
        assert column(block_features(doc), "comment_region").max() == 0


def test_a_comment_class_around_the_headline_and_story_is_no_comment_region_but_a_thread_inside_it_is():
    # <article class="BlogItem ... has-comments">, <main class="main has-comments">: the story's own wrapper
    wrapped = ARTICLE_PAGE.replace("<article>", '<article class="post has-comments">', 1)
    doc = segment_html(wrapped)
    assert not all(b.hinted("comment") for b in doc.blocks)
    assert column(block_features(doc), "comment_region").max() == 0
    threaded = wrapped.replace("</article>", f'<section id="comments">{_comment_thread(3)}</section></article>', 1)
    doc = segment_html(threaded)
    region = column(block_features(doc), "comment_region")
    replies = np.array([b.text.startswith("Reader") for b in doc.blocks])
    assert replies.sum() == 3 and region[replies].min() == 1 and region[~replies].max() == 0
    # a thread nested deeper than the element chains the segmenter records still counts
    deep = wrapped.replace("</article>", "<div>" * 45 + f'<div class="comments">{_comment_thread(3)}</div>'
                           + "</div>" * 45 + "</article>", 1)
    doc = segment_html(deep)
    region = column(block_features(doc), "comment_region")
    replies = np.array([b.text.startswith("Reader") for b in doc.blocks])
    assert replies.sum() == 3 and region[replies].min() == 1 and region[~replies].max() == 0


def test_forum_markup_and_lines_mark_a_forum_thread():
    posts = "".join(f'<div class="forum-post"><p>Joined: May 2010</p><p>Posts: {i}</p><p>Reply {i} on frost and '
                    f'pears, with enough words to read as prose in a long thread about orchards.</p></div>'
                    for i in range(4))
    X = block_features(segment_html(f"<html><body>{posts}</body></html>"))
    assert np.all(column(X, "forum_like") == 1) and np.isclose(column(X, "forum_attrs")[0], np.log1p(12))
    assert np.isclose(column(X, "forum_lines")[0], np.log1p(8))
    xenforo = "".join(f'<article class="message"><div class="message-userDetails"><h4>grower{i}</h4></div>'
                      f'<div class="message-content"><div class="bbWrapper">Reply {i}: the pears went black overnight, '
                      f'all of them, after two nights below freezing in the valley.</div></div></article>'
                      for i in range(3))
    assert np.all(column(block_features(segment_html(f"<html><body>{xenforo}</body></html>")), "forum_like") == 1)
    replies = "\n\n".join(f"Re: Frost in the valley this week, by grower{i}\n\nJoined: May 201{i}\n\n"
                           "Same here, all the pears went." for i in range(3))
    assert column(block_features(segment_text(replies)), "forum_like")[0] == 1
    text = segment_text("Frost thread\n\nJoined: May 2010\n\nPosts: 12\n\nQuote\n\nSame here, all the pears went.")
    assert block_features(text)[0, FEATURE_NAMES.index("forum_like")] == 1
    assert column(block_features(segment_text(PAGE)), "forum_like").max() == 0


def test_a_blogs_feed_links_and_boxes_are_no_forum_profile_lines_and_its_thread_goes():
    # A blog's sidebar: feed links ("Posts Only"), a quote box, a quote request, a company's registration.
    sidebar = "".join(f"<li>{line}</li>" for line in (
        "Posts Only", "Posts + Comments", "Posts by topic", "Quote of the day", "Quote & compare",
        "Quote | Report this post", "Registered office: 1 Quay Street", "Joined-up thinking on orchards"))
    thread = "".join(f'<div class="comment"><p>grower{i} says:</p><p>Reader {i} wrote a long reply about frost, '
                     f'orchards and the price of pears, and the cold nights that came early again.</p></div>'
                     for i in range(4))
    page = ARTICLE_PAGE.replace("</div></body>", f'<ul class="feeds">{sidebar}</ul><div id="comments">{thread}'
                                "</div></div></body>")
    X = block_features(segment_html(page))
    assert column(X, "forum_lines")[0] == 0 and column(X, "forum_like")[0] == 0
    out = extract(page).text
    assert "Apple growers in the valley" in out and "Reader 0 wrote" not in out  # the thread rule drops it
    profile = "\n\n".join(("Frost thread", "Join Date: Mar 2016", "Registered User", "Posts: 4,567",
                            "Quote grower2:", "Same here, all the pears went."))
    assert column(block_features(segment_text(profile)), "forum_lines")[0] == np.log1p(4).astype(np.float32)


def test_topic_tag_links_do_not_make_a_news_page_a_forum_but_topic_posts_do():
    tags = "".join(f'<li class="topic-tag"><a href="/topics/{t}">{t.title()} news</a></li>'
                   for t in ("frost", "orchards", "weather", "farming"))
    page = ARTICLE_PAGE.replace("<body>", f"<body><ul>{tags}</ul>", 1)
    assert page != ARTICLE_PAGE
    X = block_features(segment_html(page))
    assert column(X, "forum_attrs")[0] == 0 and column(X, "forum_like")[0] == 0
    posts = "".join(f'<div class="topic-post"><p>Reply {i} on frost and pears, with enough words to read as prose '
                    f'in a long thread about orchards.</p></div>' for i in range(3))
    X = block_features(segment_html(f"<html><body>{posts}</body></html>"))
    assert np.all(column(X, "forum_like") == 1)


def test_reply_titles_alone_do_not_make_a_story_with_comments_a_forum():
    # A story summary over a long thread whose replies are titled "Re: ...", as under Slashdot's stories.
    thread = "".join(f'<div class="comment"><h4>Re: Frost in the valley</h4><p>Reader {i} wrote a long reply about '
                     f'frost, orchards and the price of pears, and the cold nights that came early again.</p></div>'
                     for i in range(12))
    page = ARTICLE_PAGE.replace("</div></body>", f'<div id="comments">{thread}</div></div></body>')
    X = block_features(segment_html(page))
    assert column(X, "forum_lines")[0] == 0 and column(X, "forum_like")[0] == 0
    replies = "\n\n".join(f"Re: Frost in the valley this week, by grower{i}\n\nSame here, all the pears went."
                           for i in range(3))
    assert column(block_features(segment_text(replies)), "forum_like")[0] == 0


def test_comment_region_in_plain_text_starts_at_a_comments_line():
    doc = segment_text(PAGE.replace("Read also:", "3 Comments"))
    X = block_features(doc)
    texts = [b.text for b in doc.blocks]
    start = texts.index("3 Comments")
    assert column(X, "comment_region")[:start].max() == 0 and column(X, "comment_region")[start:].min() == 1


def test_plain_text_comment_region_starts_after_the_story_at_a_marker_or_reader_signatures():
    story = PAGE.split("Read also:")[0]
    replies = "\n\n".join(f"reader{i} says:\n\nNovember {i + 1}, 2019 at 6:34 am\n\nThe diary should go to a museum."
                          for i in range(3))
    for thread, start in ((f"12 responses to “Lighthouse keeper's diary found”\n\n{replies}", "12 responses"),
                          ("[ 3 comments ]\n\n" + replies, "[ 3 comments ]"), (replies, "reader0 says:")):
        doc = segment_text("Comments\n\n" + story + thread)  # a "Comments" menu line before the story starts nothing
        region = column(block_features(doc), "comment_region")
        first = next(i for i, b in enumerate(doc.blocks) if b.text.startswith(start))
        assert region[:first].max() == 0 and region[first:].min() == 1, start
    for heading in ("Response", "Discussion", "Add a comment |"):  # a docs section, an article's, a Q&A prompt
        assert column(block_features(segment_text(story + heading + "\n\n" + story)), "comment_region").max() == 0


def test_reader_names_over_a_date_and_time_open_a_plain_text_thread_but_qa_and_story_stamps_do_not():
    # Blog engines sign each comment with the reader's name, the date and the time, and nothing else: no
    # "Comments" heading, no "says:". Slashdot signs "by name (id) on day, @time". A Q&A site stamps every
    # question and answer ("asked ... at ...", "answered ..."), and a story its own update time.
    head, story = PAGE.split("Read also:")[0].split("\n\n", 2)[1:]
    replies = ("Tim Walker 11.06.12 at 11:06 am", "Ana Ruiz | March 3, 2012 at 4:15 PM",
               "by lamplighter (1285) on Monday July 23, @09:16PM (#40744375)", "by keeper (543817)", "Jacob said,")
    thread = "\n\n".join(f"{who}\n\nThe diary belongs in a museum, where anyone could read the entries of that winter."
                          for who in replies)
    doc = segment_text("\n\n".join((head, story, thread)))
    region = column(block_features(doc), "comment_region")
    first = [b.text for b in doc.blocks].index(replies[0])
    assert region[:first].max() == 0 and region[first:].min() == 1
    for stamps in (("asked Feb 11, 2011 at 23:49", "answered Feb 12, 2011 at 1:01", "edited Feb 12, 2011 at 21:50"),
                   ("Updated March 5, 2013 at 3:45 pm", "Published March 5, 2013 at 9:10 am", "Meet us at 10:30"),
                   ("Saturday, May 5 at 7:30 pm", "Sunday, May 6 at 2:00 pm", "Friday, May 11 at 8:00 pm"),  # events
                   ("by Jane Doe (2012)", "by Ann Lee (1998)", "by Tom Hale (2004)")):  # a reading list
        page = "\n\n".join((head, story) + tuple(f"{stamp}\n\nThe entries were written in pencil." for stamp in stamps))
        assert column(block_features(segment_text(page)), "comment_region").max() == 0, stamps


def test_blogger_signatures_open_a_plain_text_thread():
    # Blogger signs each comment "name said..." over it and the date and time under it; one quoted line of a
    # story that trails off after "said..." opens nothing.
    head, story = PAGE.split("Read also:")[0].split("\n\n", 2)[1:]
    replies = "\n\n".join(f"{who}\n\nThe diary belongs in a museum, where anyone could read it.\n\nMay 2, 2019 6:34 AM"
                          for who in ("tRiSh said...", "Ankita said…", "The Flightless Darling said..."))
    doc = segment_text("\n\n".join((head, story, replies)))
    region = column(block_features(doc), "comment_region")
    first = [b.text for b in doc.blocks].index("tRiSh said...")
    assert region[:first].max() == 0 and region[first:].min() == 1
    quoted = "\n\n".join((head, story, "And then the keeper said...", "The entries stop there, in pencil."))
    assert column(block_features(segment_text(quoted)), "comment_region").max() == 0


def test_a_comments_link_in_a_share_bar_starts_no_comment_region():
    # "Facebook / Twitter / Comments / Print / Email" between the summary and the story: a share bar's link to
    # the comments, as news sites put it over the article, not the heading of a thread.
    head, story = PAGE.split("Read also:")[0].split("\n\n", 2)[1:]
    summary = "The diary, kept through the winter storms of 1934, is the first record of the light to survive."
    bar = "Facebook\n\nTwitter\n\nComments\n\nPrint\n\nEmail"
    doc = segment_text("\n\n".join((head, summary, bar, story)))
    assert column(block_features(doc), "comment_region").max() == 0
    thread = "Comments\n\nreader1 says:\n\nThe diary should go to a museum."
    doc = segment_text("\n\n".join((head, summary, story, "Share\n\nPrint", thread)))
    region = column(block_features(doc), "comment_region")
    start = [b.text for b in doc.blocks].index("Comments")
    assert region[:start].max() == 0 and region[start:].min() == 1


def test_a_comments_widget_over_the_story_heads_no_thread_but_a_heading_over_a_dated_thread_does():
    # A "Comments" link set under the lede with the site's other widgets ("Weigh In", "Corrections?") stands over
    # most of the story's prose; read as the thread's heading it made the story a comment region. A heading over
    # a thread longer than a short story is one where the thread's own stamps follow it.
    head, story = PAGE.split("Read also:")[0].split("\n\n", 2)[1:]
    lede, *rest = story.strip().split("\n\n")
    more = ("The keeper, Thomas Hale, wrote every evening at six, noting the wind, the sea and the ships he saw.",
            "In February he recorded eleven days without a supply boat, and rationed the lamp oil to one wick.",
            "The archive will lend the diary to the lighthouse museum for a summer exhibition next year.")
    widget = "Comments\n\nWeigh In\n\nCorrections?"
    doc = segment_text("\n\n".join((head, lede, widget, *rest, *more)))
    assert column(block_features(doc), "comment_region").max() == 0
    replies = "\n\n".join(f"{who} Aug {day}, 2012 10:40 AM\n\nI grew up near that light and never knew a diary "
                          f"survived, what a wonderful find for the whole county." for who, day in
                          (("Marta", 9), ("Joe K", 10), ("Linh", 11), ("Sam", 12), ("Ada", 13)))
    doc = segment_text("\n\n".join((head, lede, "Comments", replies)))
    region = column(block_features(doc), "comment_region")
    start = [b.text for b in doc.blocks].index("Comments")
    assert region[:start].max() == 0 and region[start:].min() == 1


def test_a_qa_posts_comment_count_heads_no_thread():
    # A Q&A page counts the comments under the question and under each answer, each count over an "Add a
    # comment" link: the answers after them are the page, not a thread after a story.
    question = ("How do I keep a lighthouse diary from fading? The pencil entries from 1934 are getting harder "
                "to read every year, and the archive wants to scan them before they go.")
    answer = ("Keep it dark and dry first: store the diary flat in an acid-free box at a steady temperature, "
              "and scan every page at high resolution before anyone handles it again.")
    page = "\n\n".join(("Keeping an old pencil diary readable", question, "2 Comments", "Add a comment",
                         "marta Over a year ago", "Have you asked the county archive?", "1 Answer", answer,
                         answer.replace("Keep it dark", "Above all keep it dark"), "Comments", "Add a comment"))
    assert column(block_features(segment_text(page)), "comment_region").max() == 0


def test_a_comment_on_call_to_action_starts_no_comment_region_but_a_counted_heading_does():
    # "Comment on this story" (a link to the form) or a sidebar's "Comment on <title> in <magazine>" is no
    # thread's heading; "2 comments on <title>" is.
    head, story = PAGE.split("Read also:")[0].split("\n\n", 2)[1:]
    summary = "The diary, kept through the winter storms of 1934, is the first record of the light to survive."
    for line in ("Comment on this story", "Comment on \u201cThe keeper's log\u201d in the Coastal Quarterly"):
        doc = segment_text("\n\n".join((head, summary, line, story)))
        assert column(block_features(doc), "comment_region").max() == 0, line
    thread = "2 comments on \u201cA lighthouse diary\u201d\n\nThe diary should go to a museum.\n\nAgreed, and soon."
    doc = segment_text("\n\n".join((head, summary, story, thread)))
    region = column(block_features(doc), "comment_region")
    start = next(i for i, b in enumerate(doc.blocks) if b.text.startswith("2 comments on"))
    assert region[:start].max() == 0 and region[start:].min() == 1


def test_html_reader_signatures_after_the_story_open_a_comment_region_but_a_comment_count_does_not():
    signed = "".join(f"<p>Posted by: reader{i} at September {i + 1}, 2012 9:01 AM</p>"
                     f"<p>We lost the pears too, two nights of frost and nothing left on the trees.</p>"
                     for i in range(3))
    page = ARTICLE_PAGE.replace("<p>The frost came", "<p><a href='#c'>34 comments</a></p><p>The frost came", 1)
    page = page.replace("</article>", f"</article><div class='c'>{signed}</div>", 1)
    doc = segment_html(page)
    region = column(block_features(doc), "comment_region")
    first = next(i for i, b in enumerate(doc.blocks) if b.text.startswith("Posted by: reader0"))
    assert region[:first].max() == 0 and region[first:first + 6].min() == 1
