"""The product-defining news cases: article paragraphs stay, page furniture and teasers go.

Fixtures in tests/fixtures/news/ (rendered from cases_spec.py by build_fixtures.py): per case a text
dump with blank lines (NAME.txt), a WET-style dump with one block a line (NAME.wet.txt), an HTML page
(NAME.html) and NAME.json with the `keep` paragraphs (each must be in the output), the `drop`
strings (teasers, markers, tags, cookie and newsletter prompts, share bars, comments; none may be a
paragraph of the output) and `drop_chrome` (menu, site name, footer lines).

Model-dependent tests use the shipped models (`Extractor.load()`) and are skipped when those cannot
be loaded. NOISECLF_TEST_HTML_MODEL / NOISECLF_TEST_TEXT_MODEL point them at other model files (the
CLI tests pass the HTML one as --model).
"""

from __future__ import annotations

import json
import os
import shutil
from functools import lru_cache
from pathlib import Path

import pytest

from noiseclf.segmentation import segment_html, segment_text, sniff_format
from noiseclf.types import Extraction, NoiseclfError

FIXTURES = Path(__file__).parent / "fixtures" / "news"
CASES = sorted(p.stem for p in FIXTURES.glob("*.json"))
# variant -> (file suffix, format passed to extract)
VARIANTS = {"txt": (".txt", "text"), "html": (".html", "html"), "wet": (".wet.txt", "text")}
PAIRS = [(case, variant) for case in CASES for variant in VARIANTS if (FIXTURES / (case + VARIANTS[variant][0])).is_file()]
PAIR_IDS = [f"{case}-{variant}" for case, variant in PAIRS]
HTML_MODEL = os.environ.get("NOISECLF_TEST_HTML_MODEL") or None
TEXT_MODEL = os.environ.get("NOISECLF_TEST_TEXT_MODEL") or None


def norm(text: str) -> str:
    return " ".join(text.split())


def paragraphs(text: str) -> list[str]:
    """The output's paragraphs (blocks are joined by blank lines), whitespace-normalised."""
    return [p for p in (norm(x) for x in text.split("\n\n")) if p]


@lru_cache(maxsize=None)
def meta(case: str) -> dict:
    return json.loads((FIXTURES / f"{case}.json").read_text(encoding="utf-8"))


def page(case: str, variant: str) -> str:
    return (FIXTURES / (case + VARIANTS[variant][0])).read_text(encoding="utf-8")


def test_fixtures_exist():
    assert len(CASES) >= 6, f"expected at least 6 news cases in {FIXTURES}, found {CASES}"
    for case in CASES:
        for variant, (suffix, _) in VARIANTS.items():
            assert (FIXTURES / (case + suffix)).is_file(), f"{case}{suffix} missing"


# ---------------------------------------------------------------------------------------------
# Model-free: the fixtures hold what they claim, and auto-detection reads them right


@pytest.mark.parametrize("case,variant", PAIRS, ids=PAIR_IDS)
def test_fixture_strings_are_blocks_of_the_page(case, variant):
    """Every keep/drop string is a whole block of the segmented page, so the model-level checks bite."""
    m = meta(case)
    content = page(case, variant)
    doc = segment_html(content) if variant == "html" else segment_text(content)
    blocks = {norm(b.text) for b in doc.blocks}
    expected = m["keep"] + m["drop"] + [m["headline"]]
    if variant != "txt" or m.get("txt_chrome"):
        expected += m["drop_chrome"]
    missing = [s for s in expected if norm(s) not in blocks]
    assert not missing, f"{case}/{variant}: not a block of the page: {missing[:5]}"
    assert 15 <= len(m["keep"]) <= 30, f"{case}: {len(m['keep'])} article paragraphs"


@pytest.mark.parametrize("case", CASES)
def test_a_page_copied_from_a_browser_reads_as_its_blocks(case):
    """A browser's copy sets blank lines around paragraphs only, one line a list item, heading or caption
    (innerText): every line is a block, as in the HTML page, not runs of them joined as hard-wrapped text."""
    blocks = segment_html(page(case, "html")).blocks
    copied = "".join(("\n\n" if "p" in (b.tag, a.tag) else "\n") + b.text for a, b in zip(blocks, blocks[1:]))
    assert [b.text for b in segment_text(blocks[0].text + copied).blocks] == [b.text for b in blocks]


@pytest.mark.parametrize("case,variant", PAIRS, ids=PAIR_IDS)
def test_sniff_format(case, variant):
    content = page(case, variant)
    want = VARIANTS[variant][1]
    assert sniff_format(content) == want
    assert sniff_format(content.encode("utf-8")) == want


# ---------------------------------------------------------------------------------------------
# Model-dependent


@lru_cache(maxsize=1)
def _load():
    from noiseclf.inference import Extractor

    return Extractor.load(HTML_MODEL, text_path=TEXT_MODEL)


@pytest.fixture(scope="module")
def extractor():
    try:
        return _load()
    except (NoiseclfError, OSError) as exc:
        pytest.skip(f"no model to run the news cases with (train artifacts/default-html.joblib and "
                    f"default-text.joblib, or set NOISECLF_TEST_HTML_MODEL): {exc}")


_RESULTS: dict[tuple[str, str], Extraction] = {}


def extraction(extractor, case: str, variant: str) -> Extraction:
    key = (case, variant)
    if key not in _RESULTS:
        _RESULTS[key] = extractor.extract(page(case, variant), format=VARIANTS[variant][1], with_blocks=True)
    return _RESULTS[key]


def _probabilities(result: Extraction) -> dict[str, str]:
    """Each block text's probabilities (one per occurrence, in page order), for failure messages."""
    found: dict[str, list[str]] = {}
    for b in result.blocks:
        found.setdefault(norm(b.text), []).append(f"{b.probability:.3f}")
    return {text: "/".join(ps) for text, ps in found.items()}


@pytest.mark.parametrize("case,variant", PAIRS, ids=PAIR_IDS)
def test_keeps_every_article_paragraph(extractor, case, variant):
    result = extraction(extractor, case, variant)
    out = norm(result.text)
    proba = _probabilities(result)
    missing = [k for k in meta(case)["keep"] if norm(k) not in out]
    report = "\n".join(f"  p={proba.get(norm(k), '?')}  {k[:90]}" for k in missing)
    assert not missing, (f"{case}/{variant}: {len(missing)} of {len(meta(case)['keep'])} article paragraphs "
                         f"missing from the output:\n{report}")


# Known shortfalls of the shipped models (issue 3 stays open until they pass): teasers set in the
# middle of an article and newsletter/consent prose are still kept on these pages. strict=True:
# a pair that starts passing fails here, so a fix shows. The text model trained with newsletter and
# cookie furniture passes marine_discovery's txt and wet pages; with the article specialist blended
# in, court_ruling's html page and football_transfer's txt page pass too; with 240 trees in the text
# model, heat_wave's txt and wet pages; with inline "Related: ..." teasers in the text model's
# training, product_recall's txt and wet pages. The text model of three averaged augmentation draws
# keeps heat_wave's newsletter prompt in txt and wet again (0.40 against its threshold of 0.35). The
# html model trained with a share of its pages in plain markup (round 22) passes heat_wave's html page;
# the html model of round 28 (trained with related lists inside the story) keeps a sentence of one of
# its mid-story teaser cards again (0.363 against the routed threshold of 0.348; the same command without
# the lists kept one of court_ruling's instead); since round 37 inference drops such cards after the model
# (`inference.card_teasers`), and heat_wave's html page passes again.
KNOWN_KEPT_NOISE = {
    ("court_ruling", "txt"), ("court_ruling", "wet"),
    ("heat_wave", "txt"), ("heat_wave", "wet"),
    ("marine_discovery", "html"),
    ("product_recall", "html"),
}
DROP_PAIRS = [
    pytest.param(case, variant, id=f"{case}-{variant}", marks=pytest.mark.xfail(
        strict=True, reason="known: mid-article teasers / newsletter prompts still kept"))
    if (case, variant) in KNOWN_KEPT_NOISE else pytest.param(case, variant, id=f"{case}-{variant}")
    for case, variant in PAIRS
]


@pytest.mark.parametrize("case,variant", DROP_PAIRS)
def test_drops_boilerplate_and_teasers(extractor, case, variant):
    result = extraction(extractor, case, variant)
    paras = set(paragraphs(result.text))
    out = norm(result.text)
    proba = _probabilities(result)
    m = meta(case)
    kept = []
    for s in dict.fromkeys(m["drop"] + m["drop_chrome"]):
        n = norm(s)
        # a whole paragraph of the output, or (for a sentence-length string) any part of it
        if n in paras or (len(n.split()) >= 6 and n in out):
            kept.append(s)
    report = "\n".join(f"  p={proba.get(norm(s), '?')}  {s[:90]}" for s in kept)
    assert not kept, f"{case}/{variant}: {len(kept)} boilerplate strings kept:\n{report}"


@pytest.mark.parametrize("case,variant", PAIRS, ids=PAIR_IDS)
def test_headline_at_most_twice(extractor, case, variant):
    result = extraction(extractor, case, variant)
    count = norm(result.text).count(norm(meta(case)["headline"]))
    assert count <= 2, f"{case}/{variant}: the headline appears {count} times in the output"


@pytest.mark.parametrize("blank", ["\n\n", "\n \u00a0\n"])
@pytest.mark.parametrize("case", CASES)
def test_a_stray_blank_line_in_a_one_line_a_block_dump_changes_nothing(extractor, case, blank):
    """A WET record or line dump with one empty (or white-space) line in it: its lines stay blocks, not two
    paragraphs that run the menu, the story and the teasers together."""
    lines = page(case, "wet").strip().split("\n")
    for cut in (3, len(lines) // 2):
        stray = "\n".join(lines[:cut]) + blank + "\n".join(lines[cut:])
        assert extractor.extract(stray, format="text").text == extraction(extractor, case, "wet").text


JAPANESE = Path(__file__).parent / "fixtures" / "ja" / "sanma.txt"


@pytest.mark.parametrize("variant", ["txt", "html"])
def test_a_japanese_story_is_kept_and_its_menu_and_teasers_dropped(extractor, variant):
    """Han and kana are written without spaces: the article's paragraphs must still read as prose."""
    text = JAPANESE.read_text(encoding="utf-8")
    blocks = text.strip().split("\n\n")
    article, noise = blocks[7:15], blocks[:5] + blocks[15:]
    result = extractor.extract(JAPANESE.with_suffix("." + variant).read_text(encoding="utf-8"),
                               format="text" if variant == "txt" else "html", with_blocks=True)
    paras = set(paragraphs(result.text))
    proba = _probabilities(result)
    missing = [k for k in article if norm(k) not in paras]
    kept = [s for s in noise if norm(s) in paras]
    assert not missing, "missing: " + "; ".join(f"p={proba.get(norm(k), '?')} {k[:30]}" for k in missing)
    assert not kept, "kept: " + "; ".join(f"p={proba.get(norm(k), '?')} {k[:30]}" for k in kept)


# ---------------------------------------------------------------------------------------------
# Through the command line


def _cli(args: list[str]) -> list[dict]:
    from typer.testing import CliRunner

    from noiseclf.cli import app

    model = ["--model", HTML_MODEL] if HTML_MODEL else []
    result = CliRunner().invoke(app, ["extract", *args, "--jobs", "1", "--quiet", *model])
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}\n{result.exception!r}"
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@lru_cache(maxsize=1)
def _cli_extractor():
    from noiseclf.inference import Extractor

    return Extractor.load(HTML_MODEL)  # what `extract --model HTML_MODEL` (or no --model) loads


CLI_FILES = [(case, suffix) for case in CASES for suffix in (".txt", ".html")]
CLI_IDS = [f"{case}{suffix}" for case, suffix in CLI_FILES]


@pytest.fixture(scope="module")
def cli_rows(extractor, tmp_path_factory):
    """One `noiseclf extract` run over every .txt and .html fixture, by file name and as nameless copies.

    Named files get their format from the suffix; the copies without a suffix are sniffed from content.
    """
    tmp = tmp_path_factory.mktemp("news-cli")
    named = [str(FIXTURES / (case + suffix)) for case, suffix in CLI_FILES]
    nameless = []
    for case, suffix in CLI_FILES:
        copy = tmp / f"{case}-{suffix.strip('.')}-page"
        shutil.copyfile(FIXTURES / (case + suffix), copy)
        nameless.append(str(copy))
    rows = _cli([*named, *nameless, "--format", "auto", "--blocks"])
    assert [r["path"] for r in rows] == named + nameless
    by_path = {r["path"]: r for r in rows}
    return {(case, suffix): (by_path[a], by_path[b]) for (case, suffix), a, b in zip(CLI_FILES, named, nameless)}


@pytest.mark.parametrize("case,suffix", CLI_FILES, ids=CLI_IDS)
def test_cli_extract_matches_library(cli_rows, case, suffix):
    row, _ = cli_rows[(case, suffix)]
    assert row["status"] == "ok", row["error"]
    fmt = "html" if suffix == ".html" else "text"
    content = (FIXTURES / (case + suffix)).read_text(encoding="utf-8")
    expected = _cli_extractor().extract(content, format=fmt)
    assert row["text"] == expected.text
    assert row["title"] == expected.title
    assert norm(meta(case)["keep"][0]) in norm(row["text"]), "the article's first paragraph is missing"


@pytest.mark.parametrize("case,suffix", CLI_FILES, ids=CLI_IDS)
def test_cli_format_auto(cli_rows, case, suffix):
    """--format auto reads .txt as text (blocks are lines) and .html as HTML, by name and by content."""
    for row in cli_rows[(case, suffix)]:
        assert row["status"] == "ok", row["error"]
        tags = {b["tag"] for b in row["blocks"]}
        if suffix == ".txt":
            assert tags == {"line"}, f"{row['path']}: read as HTML ({sorted(tags)[:5]})"
        else:
            assert "line" not in tags and tags & {"p", "td"}, f"{row['path']}: read as text ({sorted(tags)[:5]})"


STORY = [
    "The city library on Harbour Street reopened on Saturday after an eighteen-month renovation that cost "
    "just under four million pounds and added a children's wing, a café and a roof terrace.",
    "Hundreds of people queued before the doors opened at nine, and staff said more than two thousand "
    "visitors had come through by the early afternoon.",
    "The building, which dates from 1904, had been closed since a leak in the roof damaged part of the "
    "reading room and much of the local history collection in the winter before last.",
    "Conservators spent most of last year drying and repairing about six thousand books, maps and "
    "newspapers, of which all but a few hundred have now returned to the shelves.",
    "The head librarian, Moira Quentin, said the new children's wing had been planned for a decade and "
    "that the flood had, in an odd way, made it possible by forcing the whole building to close.",
    "The council has promised to keep the library open seven days a week for at least the next three "
    "years, reversing cuts to its opening hours that were made in 2016.",
]
CARD = [
    "Ferry service to the outer islands resumes after a two-year pause",
    "The operator says its new vessel can carry twice as many cars as the old one.",
    "The operator says its new vessel can carry twice as many cars as the old one.",
    "The operator says its new vessel can carry twice as many cars as the old one. The first sailing left "
    "the harbour at seven on Monday morning with forty passengers and a dozen vehicles on board, and the",
    "Members Public",
]


@pytest.mark.parametrize("blank", ["\n\n", "\n"], ids=["paragraphs", "lines"])
def test_a_teaser_card_inside_a_plain_text_story_goes(extractor, blank):
    """A card for another story (its headline, its first sentence twice, then that sentence with what
    follows it) set among a story's paragraphs is dropped, whatever its topic, and the story stays."""
    page = blank.join(STORY[:3] + CARD + STORY[3:])
    text = norm(extractor.extract(page, format="text").text)
    assert all(norm(p) in text for p in STORY)
    assert not any(norm(line) in text for line in CARD[:2])


def test_a_summary_that_opens_the_story_keeps_the_story(extractor):
    """A story's first sentence printed twice above it (a summary and a share text) is not a card."""
    lede = STORY[0].split(" that ")[0] + "."
    page = "\n\n".join([lede, lede] + [lede + " " + STORY[0]] + STORY[1:])
    assert norm(lede + " " + STORY[0]) in norm(extractor.extract(page, format="text").text)
