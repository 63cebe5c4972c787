"""Peer extractors as Systems: each returns the story of a hand-written page; C4's line rule; missing extras."""

from __future__ import annotations

import sys

import pytest

from noiseclf.evaluation import run_system, text_as_html
from noiseclf.peers import PEERS, available_peers, c4_html, c4_lines, html_to_paragraphs, justext_language, make_peer
from noiseclf.types import InputError, NoiseclfError, Page

STORY = [
    "The city council voted on Tuesday to rebuild the old harbour bridge, which has been closed to traffic since "
    "the storm damaged its northern pillars two winters ago.",
    "Engineers told the council that repairs would cost less than a new crossing, but residents argued that the "
    "bridge had become a symbol of the neglect of the eastern districts and deserved a proper replacement.",
    "Work is expected to begin next spring and to last for about eighteen months, during which a ferry will carry "
    "pedestrians and cyclists between the two banks of the river every fifteen minutes.",
    "The mayor said the vote was the most important decision of her term and thanked the people who had written "
    "letters, signed petitions and attended the long public hearings over the past year.",
]
PAGE = f"""<!DOCTYPE html><html lang="en"><head><title>Council votes to rebuild harbour bridge</title></head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/weather">Weather</a></li></ul></nav></header>
<main><article><h1>Council votes to rebuild harbour bridge</h1>
{''.join(f'<p>{p}</p>' for p in STORY)}
</article></main>
<aside><h3>Most read</h3><ul><li><a href="/a">Ten recipes for a rainy day</a></li>
<li><a href="/b">Local team wins the cup</a></li></ul></aside>
<footer><p>Copyright 2024 The Harbour Gazette. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>"""


@pytest.mark.parametrize("name", [n for n in PEERS if n != "c4"])
def test_each_installed_peer_extracts_the_story(name: str) -> None:
    if name not in available_peers():
        pytest.skip(f"{name} is not installed")
    text = make_peer(name).fn(PAGE)
    assert "harbour bridge" in text and "eighteen months" in text
    assert "Ten recipes" not in text


@pytest.mark.parametrize("name", available_peers())
def test_peers_run_as_systems_on_html_and_on_text(name: str) -> None:
    page = Page(id="p1", corpus="wcxb", split="test", content=PAGE.encode(), gold_text="\n\n".join(STORY))
    for format in ("html", "text"):
        [score] = run_system(make_peer(name), [page], format)  # type: ignore[arg-type]
        assert not score.error
        assert score.word["recall"] > 0.9, (name, format, score.word)
        assert score.cpu_ms > 0


@pytest.mark.parametrize("name, page", [("boilerpy3", b"</span></div><p>Stray end tags first.</p>"),
                                        ("readability", b"")])
def test_a_peer_that_fails_on_a_page_gets_an_error_row_without_logging_tracebacks(
        name: str, page: bytes, caplog: pytest.LogCaptureFixture) -> None:
    if name not in available_peers():
        pytest.skip(f"{name} is not installed")
    [score] = run_system(make_peer(name), [Page(id="p1", corpus="wcxb", split="test", content=page)])  # type: ignore[arg-type]
    assert score.error
    assert not [r for r in caplog.records if r.name.startswith(name)]  # printed on stderr by `evaluate`


def test_every_peer_records_its_version() -> None:
    for name in available_peers():
        assert make_peer(name).version


def test_c4_keeps_lines_ending_in_punctuation_with_three_words() -> None:
    text = "\n".join([
        "Home | News | Sport",  # no terminal punctuation
        "A full sentence about the bridge.",
        "Really?",  # one word
        "  Is it open yet?  ",  # stripped, kept
        'He said "it is done."',  # ends in a quote
        "Read more",
        "Two words.",  # too short
        "Shout it loud!",
        "Trailing ellipsis here...",  # ends in "."
    ])
    assert c4_lines(text).split("\n") == ["A full sentence about the bridge.", "Is it open yet?",
                                          'He said "it is done."', "Shout it loud!", "Trailing ellipsis here..."]


def test_c4_on_html_reads_the_blocks() -> None:
    kept = c4_html(PAGE).split("\n")
    assert kept == STORY + ["Copyright 2024 The Harbour Gazette. All rights reserved."]


def test_text_mode_peers_read_one_paragraph_a_block() -> None:
    text = "\n\n".join(["Home", *STORY, "Most read"])
    assert "harbour bridge" in make_peer("c4").run(Page("p", "wcxb", "test", b""), text).text
    assert text_as_html(text).count("<p>") == len(STORY) + 2


def test_html_to_paragraphs_breaks_at_blocks() -> None:
    assert html_to_paragraphs("<div><h2>Title</h2><p>One  two</p>three<br>four<p>five</p></div>") == \
        "Title\n\nOne two\n\nthree\nfour\n\nfive"


def test_justext_language_from_lang_attribute_or_stopwords() -> None:
    if "justext" not in available_peers():
        pytest.skip("justext is not installed")
    assert justext_language('<html lang="de-DE"><body>whatever</body></html>') == "German"
    german = "<html><body><p>Der Hund und die Katze sind nicht in dem Haus, aber sie waren auch nicht hier.</p>"
    assert justext_language(german) == "German"
    assert justext_language(PAGE.replace(' lang="en"', "")) == "English"
    assert justext_language("<html><body>12345</body></html>") == "English"


def test_missing_peer_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # makes `import trafilatura` fail
    assert "trafilatura" not in available_peers()
    with pytest.raises(NoiseclfError, match=r"trafilatura.*pip install noiseclf\[peers\]"):
        make_peer("trafilatura")


def test_unknown_peer_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown peer 'goose'"):
        make_peer("goose")
