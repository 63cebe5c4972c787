"""`noiseclf explain`: every block with its verdict and the features that weighed most, in the terminal and as HTML."""

from __future__ import annotations

import gzip
import html
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from noiseclf import Extractor
from noiseclf.cli import app
from noiseclf.explain import METHOD, explain, explain_document, occlusion
from noiseclf.features import FEATURE_NAMES, block_features
from noiseclf.segmentation import segment

PAGE = Path(__file__).parent / "fixtures" / "article.html"


def test_explain_command_lists_blocks_and_writes_the_report(tiny_model: Path, tmp_path: Path) -> None:
    report = tmp_path / "out" / "report.html"
    result = CliRunner().invoke(app, ["explain", str(PAGE), "--model", str(tiny_model), "--html-report",
                                      str(report), "--top", "2"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Planting an orchard on a small plot" in result.stdout
    assert "blocks kept at threshold" in result.stdout
    assert "Soak the roots" in result.stdout and "Privacy" in result.stdout  # kept and dropped blocks alike
    assert "top features" in result.stdout
    page = report.read_text()
    assert 'class="blk keep' in page and 'class="blk drop' in page and 'title="p=' in page
    assert html.escape(METHOD) in page


def test_explain_command_fails_cleanly_on_a_missing_page(tiny_model: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["explain", str(tmp_path / "missing.html"), "--model", str(tiny_model)])
    assert result.exit_code == 2 and "missing.html" in result.output


def test_explain_command_fails_cleanly_on_a_truncated_gzip_page_and_a_folder_as_report(tiny_model: Path,
                                                                                       tmp_path: Path) -> None:
    truncated = tmp_path / "cut.html.gz"
    truncated.write_bytes(gzip.compress(PAGE.read_bytes())[:200])
    folder = tmp_path / "reports"
    folder.mkdir()
    for args, message in (([str(truncated)], f"{truncated}: Compressed file ended"),
                          ([str(PAGE), "--html-report", str(folder)], f"{folder}: is a folder, not an output file")):
        result = CliRunner().invoke(app, ["explain", *args, "--model", str(tiny_model)], env={"COLUMNS": "300"})
        assert result.exit_code == 2
        assert f"error: {message}" in " ".join(result.output.split())


def test_explain_command_reads_stdin_and_refuses_record_files_and_bad_reports_before_any_work(
        tiny_model: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["explain", "-", "--model", str(tiny_model)], input=PAGE.read_bytes(),
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Soak the roots" in result.stdout
    crawl = tmp_path / "crawl.warc.gz"
    crawl.write_bytes(b"")
    page = tmp_path / "page.html"
    page.write_bytes(PAGE.read_bytes())
    manifest = tiny_model.with_suffix(".manifest.json")
    for args, message in (([str(crawl)], f"{crawl}: explain reads one page, not a WARC file of records"),
                          ([str(PAGE), "--html-report", "/proc/nope/r.html"], "/proc/nope/r.html: cannot write"),
                          ([str(page), "--html-report", str(page)], f"{page}: is {page}, an input of explain"),
                          ([str(page), "--html-report", str(manifest)], f"{manifest}: is {manifest}, an input")):
        result = CliRunner().invoke(app, ["explain", *args, "--model", str(tiny_model)], env={"COLUMNS": "300"})
        assert result.exit_code == 2
        assert f"error: {message}" in " ".join(result.output.split())
        assert "Soak the roots" not in result.output  # refused before the table
    assert page.read_bytes() == PAGE.read_bytes()
    from noiseclf.inference import default_model_path

    shipped = default_model_path("text").with_suffix(".manifest.json")  # without -m, the shipped models' files
    result = CliRunner().invoke(app, ["explain", str(page), "--html-report", str(shipped)])
    assert result.exit_code == 2 and f"{shipped}: is {shipped}, an input of explain" in " ".join(result.output.split())
    warc = b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 0\r\n\r\n\r\n\r\n"
    for data in (warc, gzip.compress(warc)):  # a WARC on stdin is refused as a WARC file is
        result = CliRunner().invoke(app, ["explain", "-", "--model", str(tiny_model)], input=data)
        assert result.exit_code == 2 and "-: explain reads one page, not a WARC file of records" in result.output


def test_explain_reads_a_page_of_the_other_format_as_extract_does(tiny_model: Path, tmp_path: Path) -> None:
    """-m names an html model: a text page goes to the shipped text model, in explain as in extract."""
    import json

    page = tmp_path / "news.txt"
    page.write_text((Path(__file__).parents[1] / "examples" / "news.txt").read_text())
    report = tmp_path / "report.html"
    explained = CliRunner().invoke(app, ["explain", str(page), "--model", str(tiny_model), "--top", "1",
                                         "--html-report", str(report)])
    assert explained.exit_code == 0, explained.output
    assert f"note: {tiny_model} classifies html input; text input is read by the shipped text model" in " ".join(
        explained.stderr.split())
    extracted = CliRunner().invoke(app, ["extract", str(page), "--model", str(tiny_model), "--blocks", "-q"])
    blocks = json.loads(extracted.stdout)["blocks"]
    shown = [float(p) for p in re.findall(r'title="p=([0-9.]+)', report.read_text())]
    assert shown == [round(b["probability"], 3) for b in blocks] and len(shown) > 10


def test_explain_command_prints_titles_and_names_as_they_are(tiny_model: Path, tmp_path: Path) -> None:
    page = tmp_path / "odd:smile:.html"  # rich would read ":smile:" as an emoji and "[/b]" as markup
    page.write_text("<html><head><title>Tips [/b] :train: for pruning</title></head><body><p>Prune apple trees in "
                    "late winter, before the buds break, and cut back to an outward-facing bud.</p></body></html>")
    result = CliRunner().invoke(app, ["explain", str(page), "--model", str(tiny_model), "--html-report",
                                      str(tmp_path / "out:train:" / "report.html")], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "odd:smile:.html: Tips [/b] :train: for pruning" in result.stdout
    assert "out:train:" in result.stderr  # "wrote …" names the report's path verbatim


def test_probabilities_match_the_extractor(tiny_model: Path) -> None:
    extractor = Extractor.load(tiny_model)
    content = PAGE.read_bytes()
    exp = explain(extractor, content, top=4)
    result = extractor.extract(content, with_blocks=True)
    assert [b.probability for b in exp.blocks] == [b.probability for b in result.blocks]
    assert exp.confidence == result.confidence
    assert [b.keep for b in exp.blocks] == [b.keep for b in result.blocks]
    assert all(len(b.contributions) <= 4 for b in exp.blocks)
    features = {c.feature for b in exp.blocks for c in b.contributions}
    assert any(f.startswith("ctx:") for f in features) and any(f in FEATURE_NAMES for f in features)


def test_an_own_feature_contribution_is_what_occluding_it_changes(tiny_model: Path) -> None:
    extractor = Extractor.load(tiny_model)
    doc = segment(PAGE.read_bytes())
    exp = explain(extractor, PAGE.read_bytes())
    model = extractor.classifier("html")
    X = block_features(doc)
    block = max(exp.blocks, key=lambda b: max((abs(c.delta) for c in b.contributions
                                               if not c.feature.startswith("ctx:")), default=0))
    top = next(c for c in block.contributions if not c.feature.startswith("ctx:"))
    j = FEATURE_NAMES.index(top.feature)
    row = X[block.index].copy()
    row[j] = np.median(X[:, j])
    p1 = model.first_.predict_proba(X[block.index: block.index + 1])[0, 1]
    assert p1 - model.first_.predict_proba(row[None, :])[0, 1] == pytest.approx(top.delta, abs=1e-5)
    assert top.value == pytest.approx(X[block.index, j])
    sorted_deltas = [abs(c.delta) for c in block.contributions]
    assert sorted_deltas == sorted(sorted_deltas, reverse=True)


def test_occlusion_is_zero_for_a_constant_page() -> None:
    class Half:
        def predict_proba(self, X: np.ndarray) -> np.ndarray:
            return np.column_stack([1 - X[:, 0] / 2, X[:, 0] / 2])

    X = np.array([[1.0, 5.0], [0.0, 5.0], [1.0, 5.0]], np.float32)
    deltas = occlusion(Half(), X, X[:, 0] / 2, np.array([0, 1]))
    assert np.allclose(deltas, [[0, 0], [-0.5, 0], [0, 0]])


def test_a_thread_dropped_after_the_story_is_explained_as_such(tiny_model: Path) -> None:
    from noiseclf.model import load_model

    model, manifest = load_model(tiny_model)
    model.thread_floor = 50.0
    extractor = Extractor({"html": (model, manifest)})
    replies = "".join(f'<div class="comment"><p>Reader {i}: we planted two pear trees last spring and both took, '
                      f'though the deer found them before the fence went up.</p></div>' for i in range(3))
    content = PAGE.read_text().replace("</body>", f'<section id="comments">{replies}</section></body>')
    exp = explain(extractor, content, top=3)
    result = extractor.extract(content, with_blocks=True)
    assert [b.keep for b in exp.blocks] == [b.keep for b in result.blocks]
    thread = [b for b in exp.blocks if b.block.text.startswith("Reader")]
    assert len(thread) == 3 and not any(b.keep for b in thread) and all(b.probability == 0 for b in thread)
    assert all(b.contributions[0].feature == "after_story_thread" for b in thread)


def test_a_page_routed_to_the_specialist_is_explained_with_the_extractors_scores(default_extractor) -> None:
    page = Path(__file__).parents[1] / "examples" / "news.html"
    if not default_extractor.classifier("html").routed:
        pytest.skip("the shipped html model has no page-type specialist")
    exp = explain(default_extractor, page.read_bytes(), top=3)
    result = default_extractor.extract(page.read_bytes(), with_blocks=True)
    assert exp.routed
    assert np.allclose([b.probability for b in exp.blocks], [b.probability for b in result.blocks])
    assert [b.keep for b in exp.blocks] == [b.keep for b in result.blocks]
    assert any(b.contributions for b in exp.blocks)
    shown = CliRunner().invoke(app, ["explain", str(page)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "specialist blended in" in shown.stdout


def test_page_text_that_looks_like_markup_is_shown_as_text(tiny_model: Path, tmp_path: Path) -> None:
    page = tmp_path / "brackets.html"
    page.write_text("<html><body><nav><a href='/'>[/button] Home</a></nav><article>"
                    + "".join(f"<p>Paragraph {i} of the [b]story[/b] with [red]enough[/red] words to read "
                              f"as prose about the harbour wall repairs and the tide tables.</p>" for i in range(6))
                    + "</article></body></html>")
    result = CliRunner().invoke(app, ["explain", str(page), "--model", str(tiny_model)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "[/button] Home" in result.stdout and "[b]story[/b]" in result.stdout


def test_a_teaser_card_is_explained_by_the_card_rule(default_extractor) -> None:
    """The news example's cards for other stories score 0, and the card rule is given as the reason."""
    page = Path(__file__).parents[1] / "examples" / "news.html"
    exp = explain(default_extractor, page.read_bytes(), top=3)
    cards = [b for b in exp.blocks if b.contributions and b.contributions[0].feature == "card_teaser"]
    assert len(cards) >= 4 and all(b.probability == 0 and not b.keep for b in cards)
    result = default_extractor.extract(page.read_bytes())
    assert not any(b.block.text in result.text for b in cards)


@pytest.mark.parametrize("name,format", [("court_ruling.html", "html"), ("heat_wave.txt", "text")])
def test_explain_reports_the_extractors_probabilities_where_the_rules_drop_blocks(default_extractor, name: str,
                                                                                 format: str) -> None:
    """On news pages with a reader thread after the story and teaser cards, explanation and extraction
    score every block alike, to the last bit (both run `inference.page_scores`)."""
    content = (Path(__file__).parent / "fixtures" / "news" / name).read_bytes()
    exp = explain(default_extractor, content, format=format, top=3)
    result = default_extractor.extract(content, format=format, with_blocks=True)
    rules = {b.contributions[0].feature for b in exp.blocks if b.contributions}
    assert {"after_story_thread", "card_teaser"} <= rules
    assert [b.probability for b in exp.blocks] == [b.probability for b in result.blocks]
    assert [b.keep for b in exp.blocks] == [b.keep for b in result.blocks]
    assert exp.confidence == result.confidence


@pytest.mark.parametrize("threshold", [0.999, 0.001], ids=["keeps-nothing", "keeps-plenty"])
def test_a_page_keeping_almost_nothing_beside_its_thread_is_scored_without_it(tiny_model: Path,
                                                                               threshold: float) -> None:
    """Once the thread rule drops a thread, a page that keeps under THREADLESS_WORDS words is scored
    again without the thread (a short post under a long thread reads as a minor block of the page);
    a page that keeps more keeps its scores. Extraction and explanation agree either way."""
    from dataclasses import replace

    from noiseclf.features import block_path_ids, block_words
    from noiseclf.model import after_story_thread, load_model

    model, manifest = load_model(tiny_model)
    model.thread_floor, model.threshold = 50.0, threshold
    extractor = Extractor({"html": (model, manifest)})
    replies = "".join(f'<div class="comment"><p>Reader {i}: we planted two pear trees last spring and both took, '
                      f'though the deer found them before the fence went up.</p></div>' for i in range(6))
    doc = segment(PAGE.read_text().replace("</body>", f'<section id="comments">{replies}</section></body>'))
    X = block_features(doc)
    whole = model.predict_proba(X, words=block_words(doc), paths=block_path_ids(doc))[:, 1]
    thread = after_story_thread(X, model.thread_floor)
    assert thread.any() and all(t for b, t in zip(doc.blocks, thread) if b.text.startswith("Reader"))
    rest = replace(doc, blocks=tuple(b for b, t in zip(doc.blocks, thread) if not t))
    scores = extractor.classify(doc)
    expected = extractor.classify(rest) if threshold > 0.5 else whole[~thread]
    assert scores[~thread].tolist() == expected.tolist() and not scores[thread].any()
    assert threshold < 0.5 or expected.tolist() != whole[~thread].tolist()
    exp = explain_document(extractor, doc, top=3)
    assert [b.probability for b in exp.blocks] == scores.tolist()
