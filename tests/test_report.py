"""The evaluation report: bootstrap marking, re-thresholding, class shares, files written, and `evaluate --compare`."""

from __future__ import annotations

import gzip
import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits
from typer.testing import CliRunner

from noiseclf import metrics
from noiseclf.cli import app
from noiseclf.augment import plain_markup
from noiseclf.evaluation import CorpusReport, NoiseclfSystem, PageScore, run_system, summarise, worst_pages
from noiseclf.features import block_features, block_path_ids, block_words
from noiseclf.inference import Extractor
from noiseclf.labelling import label_blocks
from noiseclf.model import BlockClassifier, Manifest, save_model
from noiseclf.report import (
    REPORT_FILES, THRESHOLDS, _word_pr, class_shares, compare, compare_systems, summary_rows, write_report,
)
from noiseclf.segmentation import segment_html
from noiseclf.types import BlockClass, GoldRun, Page

L3S = "l3s_gn1/L3S-GN1-20100130203947-00001"


# --- synthetic reports ------------------------------------------------------------------------


def _report(system: str, corpus: str, scores: list[float], outputs: list[str] | None = None) -> CorpusReport:
    """A report whose page i scores scores[i] on the corpus's primary metric."""
    pages = []
    for i, s in enumerate(scores):
        word = {"precision": s, "recall": s, "f1": s, "n": 1}
        shingle = (s, (1 - s) / 2, (1 - s) / 2)
        related = (int(10 * (1 - s)), 10) if corpus == "l3s_gn1" else None
        text = outputs[i] if outputs else ""
        pages.append(PageScore(key=f"{corpus}/{i}", shingle=shingle, word=word, snippets=None, related=related,
                               blocks=None, cpu_ms=1.0 + i % 3, output=text, gold="gold" if outputs else ""))
    split = "test" if corpus == "wcxb" else "all"
    return CorpusReport(system=system, corpus=corpus, split=split, format="html", pages=pages,
                        summary=summarise(pages))


def _scores(mean: float, n: int = 40, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(mean, 0.1, n), 0, 1).tolist()


def test_bootstrap_marks_only_intervals_that_exclude_zero() -> None:
    better = compare(_report("noiseclf", "wcxb", _scores(0.9)), _report("peer", "wcxb", _scores(0.5, seed=1)))
    assert better.significant and better.low > 0 and better.text().endswith(" *")
    assert better.diff == pytest.approx(np.mean(_scores(0.9)) - np.mean(_scores(0.5, seed=1)))
    worse = compare(_report("noiseclf", "wcxb", _scores(0.5)), _report("peer", "wcxb", _scores(0.9, seed=1)))
    assert worse.significant and worse.high < 0 and worse.text().endswith(" *")
    same = compare(_report("noiseclf", "wcxb", _scores(0.7)), _report("peer", "wcxb", _scores(0.7, seed=1)))
    assert same.low < 0 < same.high and not same.significant and "*" not in same.text()


def test_bootstrap_differences_are_those_of_the_corpus_scores() -> None:
    ours = _report("noiseclf", "dragnet", _scores(0.9))
    theirs = _report("peer", "dragnet", _scores(0.7, seed=1))
    theirs.pages[0].shingle = (0.0, 0.0, 1.0)  # kept nothing: out of the peer's mean precision
    theirs.summary = summarise(theirs.pages)
    delta = compare(ours, theirs)
    assert delta.diff == pytest.approx(ours.summary["shingle_f1"] - theirs.summary["shingle_f1"], abs=1e-4)
    assert delta.low < delta.diff < delta.high and delta.pages == 40


def test_bootstrap_refuses_different_pages() -> None:
    with pytest.raises(ValueError, match="same pages"):
        compare(_report("noiseclf", "wcxb", [0.5, 0.6]), _report("peer", "wcxb", [0.5, 0.6, 0.7]))


def test_summary_rows_put_noiseclf_first_with_deltas_for_peers() -> None:
    reports = [_report(s, c, _scores(m, seed=i)) for i, (s, m) in enumerate([("trafilatura", 0.6), ("noiseclf", 0.9)])
               for c in ("wcxb", "l3s_gn1")]
    rows = summary_rows(reports, compare_systems(reports))
    assert [(r["corpus"], r["system"]) for r in rows] == [
        ("l3s_gn1:all", "noiseclf"), ("l3s_gn1:all", "trafilatura"),
        ("wcxb:test", "noiseclf"), ("wcxb:test", "trafilatura")]
    assert rows[0]["noiseclf_minus_system"] == "" and rows[1]["noiseclf_minus_system"].endswith("*")
    assert rows[1]["related_kept"] is not None and rows[3]["related_kept"] is None
    assert rows[2]["metric"] == "word_f1" and rows[2]["cpu_ms_mean"] > 0


def test_rethresholding_matches_the_word_metric() -> None:
    rng = random.Random(3)
    vocab = "the a bridge river council vote mayor ferry spring months".split()
    for _ in range(100):
        texts = [" ".join(rng.choices(vocab, k=rng.randint(0, 7))) for _ in range(rng.randint(1, 6))]
        gold = " ".join(rng.choices(vocab, k=rng.randint(0, 12)))
        proba = np.array([rng.random() for _ in texts])
        precision, recall = _word_pr(texts, proba, gold)
        for j, t in enumerate(THRESHOLDS):
            expected = metrics.word_prf("\n\n".join(x for x, p in zip(texts, proba) if p >= t), gold)
            assert (precision[j], recall[j]) == pytest.approx((expected.precision, expected.recall))


def test_class_shares_count_each_class_in_the_output() -> None:
    runs = (GoldRun("Home News Sport Weather", BlockClass.NOT_CONTENT),
            GoldRun("Bridge to be rebuilt", BlockClass.HEADLINE),
            GoldRun("The council voted on Tuesday to rebuild the bridge.", BlockClass.FULL_TEXT),
            GoldRun("Ten recipes for a rainy day", BlockClass.RELATED))
    page = Page(id="0", corpus="l3s_gn1", split="all", content=b"", gold_runs=runs)
    output = "Bridge to be rebuilt\n\nThe council voted on Tuesday to rebuild the bridge."
    shares = class_shares(_report("noiseclf", "l3s_gn1", [0.9], outputs=[output]), [page])
    assert shares == {"headline": 1.0, "full text": 1.0, "related": 0.0, "not content": 0.0}
    assert class_shares(_report("noiseclf", "l3s_gn1", [0.9]), [page]) is None  # texts not kept


def test_write_report_writes_figures_markdown_and_json(tmp_path: Path) -> None:
    reports = [_report(s, c, _scores(m, seed=i)) for i, (s, m) in enumerate([("noiseclf", 0.9), ("c4", 0.6)])
               for c in ("wcxb", "l3s_gn1")]
    path = write_report(reports, tmp_path / "out", systems={"c4": "C4 line rule"})
    md = path.read_text()
    for image in ("f1_by_corpus.png", "page_scores.png"):
        assert (tmp_path / "out" / image).stat().st_size > 5000
        assert f"]({image})" in md
    assert "| wcxb:test | html | c4 | word_f1 |" in md and "- c4: C4 line rule" in md
    assert md.count("Not drawn") == 3  # no model, no pages: threshold, class shares, importance
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert {c["system"] for c in data["comparisons"]} == {"c4"} and all(c["significant"] for c in data["comparisons"])
    assert len(data["reports"]) == 4 and len(data["summary"]) == 4


# --- evaluate --compare on a tiny fake corpus -------------------------------------------------

SENTENCES = [
    "The council voted on Tuesday to rebuild the old harbour bridge after a long debate.",
    "Engineers said that repairs would cost far less than building a completely new crossing.",
    "Residents argued that the eastern districts had been neglected for many years.",
    "Work is expected to begin next spring and should last about eighteen months.",
    "A ferry will carry pedestrians and cyclists across the river every fifteen minutes.",
    "The mayor called the vote the most important decision of her whole term.",
    "Local shops near the bridge hope that the works will bring customers back.",
    "Several members asked for an independent review of the contract before signing.",
    "The regional government promised to pay for a third of the total cost.",
    "Historians pointed out that the bridge was first opened more than a century ago.",
]
NAV = ["Home", "News", "Sport", "Weather", "Contact"]
N_PAGES = 6
RELATED = ["Ten recipes for a rainy day", "Local team wins the cup", "New bus timetable from June"]


def _page_html(i: int, annotated: bool) -> tuple[str, str]:
    """A hand-written news page (with L3S class spans if `annotated`) and its gold main text."""
    rng = random.Random(i)
    story = rng.sample(SENTENCES, 4)
    title = f"Harbour bridge story number {i}"

    def span(cls: int, text: str) -> str:
        return f'<span class="x-nc-sel{cls}">{text}</span>' if annotated else text

    html = (f"<html><head><title>{title}</title></head><body><div id='nav'><ul>"
            + "".join(f"<li><a href='/{n}'>{span(0, n)}</a></li>" for n in NAV) + "</ul></div>"
            + f"<div class='article'><h1>{span(1, title)}</h1>" + "".join(f"<p>{span(2, s)}</p>" for s in story)
            + "</div><div class='related'><h3>" + span(4, "Related stories") + "</h3><ul>"
            + "".join(f"<li><a href='/r{k}'>{span(4, r)}</a></li>" for k, r in enumerate(RELATED)) + "</ul></div>"
            + f"<div class='comments'><p>{span(5, 'Great news for the town, finally!')}</p></div>"
            + f"<div id='footer'><p>{span(0, 'Copyright 2024 The Gazette. All rights reserved.')}</p></div>"
            + "</body></html>")
    return html, "\n\n".join([title, *story])


def _fake_corpora(root: Path) -> list[Page]:
    """wcxb (test split) and l3s_gn1 folders of hand-written pages; returns the wcxb pages as Page records."""
    files, pages, mapping = {}, [], []
    for i in range(N_PAGES):
        pid = f"{i:04d}"
        html, gold = _page_html(i, annotated=False)
        files[pid] = {"split": "test", "page_type": "article", "domain": f"site{i}.example"}
        (root / "wcxb/test/html").mkdir(parents=True, exist_ok=True)
        (root / "wcxb/test/ground-truth").mkdir(parents=True, exist_ok=True)
        (root / f"wcxb/test/html/{pid}.html.gz").write_bytes(gzip.compress(html.encode()))
        (root / f"wcxb/test/ground-truth/{pid}.json").write_text(json.dumps(
            {"url": f"https://site{i}.example/a", "ground_truth": {"main_content": gold, "with": [], "without": []}}))
        pages.append(Page(id=pid, corpus="wcxb", split="test", content=html.encode(), gold_text=gold,
                          domain=f"site{i}.example"))
        uuid = f"0a1b2c3d-0000-4000-8000-{i:012d}"
        for folder in ("original", "annotated"):
            (root / L3S / folder).mkdir(parents=True, exist_ok=True)
            (root / L3S / folder / f"{uuid}.html").write_text(_page_html(i, annotated=True)[0])
        mapping.append(f"<urn:uuid:{uuid}>\thttp://www.site{i}.example/a\n")
    (root / "wcxb/metadata.json").write_text(json.dumps({"files": files}))
    (root / L3S / "url-mapping.txt").write_text("".join(mapping))
    return pages


def _tiny_model(pages: list[Page], path: Path) -> Path:
    """A small two-pass model trained on the hand-written pages, saved with its manifest."""
    X, y, ids, words, paths = [], [], [], [], []
    for i, page in enumerate(pages):
        doc = segment_html(page.content)
        X.append(block_features(doc))
        y.append(label_blocks(doc, page).content)
        ids.append(np.full(len(doc.blocks), i))
        words.append(block_words(doc))
        paths.append(block_path_ids(doc))
    trees = HistGradientBoostingClassifier(max_iter=15, min_samples_leaf=2, random_state=0)
    with threadpool_limits(limits=1, user_api="openmp"):  # tiny fits only lose time to threads on a busy machine
        model = BlockClassifier(first=trees, second=trees, n_folds=2).fit(
            np.vstack(X), np.concatenate(y), pages=np.concatenate(ids), words=np.concatenate(words),
            paths=np.concatenate(paths), groups=np.concatenate(ids))
    return save_model(model, Manifest(format="html"), path)


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(data root, model file): six hand-written pages as wcxb and l3s_gn1, and a model trained on them."""
    base = tmp_path_factory.mktemp("fake")
    pages = _fake_corpora(base / "data")
    return base / "data", _tiny_model(pages, base / "model.joblib")


def test_evaluate_compare_prints_one_table_and_writes_the_report(fake: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = fake
    out = tmp_path / "report"
    result = CliRunner().invoke(app, [
        "evaluate", "--corpus", "wcxb:test", "--corpus", "l3s_gn1", "--data", str(data),
        "--model", str(model), "--compare", "c4,resiliparse", "--plots", str(out)])
    assert result.exit_code == 0, result.output
    rows = [m.groups() for m in re.finditer(r"(noiseclf|c4|resiliparse) +(shingle|word) .*?(\[.*\])?[ *]*$",
                                            result.output, re.MULTILINE)]
    assert [(system, metric) for system, metric, _ in rows] == [
        ("noiseclf", "shingle"), ("c4", "shingle"), ("resiliparse", "shingle"),
        ("noiseclf", "word"), ("c4", "word"), ("resiliparse", "word")]
    assert [bool(interval) for _, _, interval in rows] == [False, True, True] * 2
    for image in ("f1_by_corpus.png", "page_scores.png", "threshold.png", "l3s_classes.png", "importance.png"):
        assert (out / image).is_file() and f"]({image})" in (out / "report.md").read_text()
    assert {path.name for path in out.iterdir()} == {*REPORT_FILES, "report.json"}  # what --report may not name
    data = json.loads((out / "report.json").read_text())
    assert [c["corpus"] for c in data["threshold_curves"]] == ["wcxb:test", "l3s_gn1:all"]
    assert set(data["l3s_class_shares"]) == {"noiseclf", "noiseclf (block labels)", "c4", "resiliparse"}
    assert data["l3s_class_shares"]["noiseclf"]["full text"] > 0.9
    assert len(data["feature_importance"]) == 25
    reports = {(r["corpus"], r["system"]): r for r in data["reports"]}
    keys = {system: [p["key"] for p in reports[("wcxb", system)]["pages"]] for system in ("noiseclf", "c4")}
    assert keys["c4"] == keys["noiseclf"] and len(keys["c4"]) == N_PAGES
    curve = data["threshold_curves"][0]  # at the model's own threshold it is the evaluated noiseclf
    at = curve["thresholds"].index(curve["threshold"])
    summary = reports[("wcxb", "noiseclf")]["summary"]
    assert (curve["precision"][at], curve["recall"][at]) == pytest.approx(
        (summary["word_precision"], summary["word_recall"]), abs=1e-4)


def test_evaluate_compare_names_an_unknown_peer(fake: tuple[Path, Path]) -> None:
    data, model = fake
    result = CliRunner().invoke(app, ["evaluate", "--corpus", "wcxb:test", "--data", str(data),
                                      "--model", str(model), "--compare", "c4,goose"])
    assert result.exit_code == 2 and "unknown peer 'goose'" in result.output


def test_evaluate_plain_markup_reads_pages_without_class_hints_and_says_so(fake: tuple[Path, Path],
                                                                         tmp_path: Path) -> None:
    data, model = fake
    reports = {}
    for flags in ([], ["--plain-markup"]):
        out = tmp_path / f"report{len(flags)}.json"
        result = CliRunner().invoke(app, ["evaluate", "--corpus", "wcxb:test", "--data", str(data), "--model",
                                          str(model), "--report", str(out), *flags])
        assert result.exit_code == 0, result.output
        reports[bool(flags)] = json.loads(out.read_text())
    assert "plain markup" in reports[True]["systems"]["noiseclf"]
    assert "plain markup" not in reports[False]["systems"]["noiseclf"]
    page = _fake_corpora(tmp_path / "data")[0]
    extractor = Extractor.load(model)
    hinted, plain = (NoiseclfSystem(extractor, plain_markup=p).run(page, None) for p in (False, True))
    assert any(b.hints for b in hinted.doc.blocks) and not any(b.hints for b in plain.doc.blocks)
    assert [b.text for b in plain.doc.blocks] == [b.text for b in hinted.doc.blocks]
    assert plain.text == extractor.extract_document(plain_markup(segment_html(page.content))).text


def test_evaluate_on_snippet_gold_says_the_confidence_is_not_measured(tmp_path: Path) -> None:
    page = "<html><body><nav><a href='/'>Home</a></nav><article><h1>Rain</h1>{}</article></body></html>"
    body = "".join(f"<p>The river rose {i} feet overnight, and the town closed its bridge to traffic again.</p>"
                   for i in range(6))
    base = tmp_path / "trafilatura_eval" / "tests"
    (base / "eval").mkdir(parents=True)
    (base / "eval" / "rain.html").write_text(page.format(body))
    (base / "evaldata.json").write_text(json.dumps(
        {"https://rain.example/a": {"file": "rain.html", "with": ["closed its bridge"], "without": ["Home"]}}))
    result = CliRunner().invoke(app, ["evaluate", "--corpus", "trafilatura_eval", "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "confidence not measured: 0 page(s) with a word_f1 to rank" in result.output
    assert "nan" not in result.output


def test_evaluate_refuses_a_report_that_would_replace_one_of_its_inputs(fake: tuple[Path, Path],
                                                                       tmp_path: Path) -> None:
    data, model = fake
    before = model.read_bytes()
    common = ["evaluate", "--corpus", "wcxb:test", "--data", str(data), "--model", str(model)]
    archive = data / "dragnet.tar.gz"  # a corpus kept as an archive
    archive.write_bytes(b"not read")
    plots = ["--plots", str(tmp_path / "plots")]
    for report, extra, message in (
            (model, [], "a file of the model"),
            (model.with_suffix(".manifest.json"), [], "a file of the model"),
            (model.with_suffix(".trees.npz"), [], "a file of the model"),
            (data / "wcxb" / "metadata.json", [], "is a file of the corpora"),
            (archive, [], "is a file of the corpora"),
            (tmp_path / "plots" / "report.md", plots, "--plots writes report.md"),
            (tmp_path / "plots" / "threshold.png", plots, "--plots writes threshold.png")):
        result = CliRunner().invoke(app, [*common, "--report", str(report), *extra])
        assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output
    assert archive.read_bytes() == b"not read"
    archive.unlink()
    assert model.read_bytes() == before and json.loads((data / "wcxb" / "metadata.json").read_text())["files"]
    for args, message in ((["--corpus", "wcxb"], "wcxb:test and wcxb hold the same pages"),
                          (["--corpus", "dragnet:test"], "corpus 'dragnet' missing"),
                          (["--compare", "c4,c4"], "--compare names a peer twice")):
        result = CliRunner().invoke(app, [*common, *args])
        assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output
        assert "wcxb/noiseclf" not in result.output  # refused before the first corpus was scored


def test_a_report_is_never_left_half_written(fake: tuple[Path, Path], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    data, model = fake
    report = tmp_path / "report.json"
    report.write_text('{"old": "complete"}')

    def full_disk(self: Path, text: str, *args: object, **kwargs: object) -> int:
        with open(self, "w") as f:
            f.write(text[:100])
        raise OSError(28, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_text", full_disk)
    result = CliRunner().invoke(app, ["evaluate", "--corpus", "wcxb:test", "--data", str(data), "--model",
                                      str(model), "--report", str(report)])
    monkeypatch.undo()
    assert result.exit_code == 2 and "No space left on device" in result.output
    assert json.loads(report.read_text()) == {"old": "complete"} and list(tmp_path.iterdir()) == [report]


def test_evaluate_whose_reader_went_away_still_writes_its_report(fake: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = fake
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "noiseclf.cli", "evaluate", "--corpus", "wcxb:test", "--data", str(data),
               "--model", str(model), "--report", str(report), "--worst", "6"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        process.stdout.close()  # `| head -0`: gone before the first line (after it, the rest may fit the pipe)
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=300) == 141, stderr
    assert "Traceback" not in stderr and json.loads(report.read_text())["reports"]


def test_plots_of_a_model_trained_on_your_own_pages_name_its_file(fake: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = fake
    mine = tmp_path / "mine.joblib"
    for suffix in (".joblib", ".trees.npz", ".manifest.json"):
        if model.with_suffix(suffix).exists():
            shutil.copy(model.with_suffix(suffix), mine.with_suffix(suffix))
    manifest = json.loads(mine.with_suffix(".manifest.json").read_text())
    manifest["training_data"] = [{"pages_file": "labelled.jsonl", "pages": 9, "blocks": 120}]
    mine.with_suffix(".manifest.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(app, ["evaluate", "--corpus", "wcxb:test", "--data", str(data), "--model", str(mine),
                                      "--plots", str(tmp_path / "plots")])
    assert result.exit_code == 0, result.output
    assert "trained on labelled.jsonl (9 pages)" in (tmp_path / "plots" / "report.md").read_text()


def test_evaluate_scores_at_the_threshold_it_is_given(fake: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = fake
    recall = {}
    for threshold in (None, "0", "1"):
        report = tmp_path / f"at-{threshold}.json"
        extra = [] if threshold is None else ["--threshold", threshold]
        result = CliRunner().invoke(app, ["evaluate", "--corpus", "wcxb:test", "--data", str(data), "--model",
                                          str(model), "--report", str(report), *extra])
        assert result.exit_code == 0, result.output
        recall[threshold] = json.loads(report.read_text())["table"][0]["recall"]
    assert recall["0"] == 1.0 and recall["1"] == 0.0 and 0 < recall[None] <= 1


def test_worst_pages_print_a_line_each_when_piped(fake: tuple[Path, Path]) -> None:
    data, model = fake
    result = CliRunner().invoke(app, ["evaluate", "--corpus", "wcxb:test", "--data", str(data), "--model", str(model),
                                      "--worst", "6", "--threshold", "1"])  # nothing kept: every gold line missed
    assert result.exit_code == 0, result.output
    missed = [line for line in result.stdout.splitlines() if line.startswith("  - ")]
    assert missed and max(map(len, missed)) > 80  # not wrapped at rich's 80 columns for a pipe


def test_worst_pages_list_gold_missed_line_by_line_whatever_separates_them() -> None:
    page = PageScore(key="p", shingle=(0.0, 1.0, 1.0), word={"f1": 0.0}, snippets=None, related=None, blocks=None,
                     cpu_ms=1.0, output="Subscribe to our newsletter today",
                     gold="Weight 540 g per pair\nVotes by district in the last election\n\nA third paragraph here")
    rows = worst_pages(CorpusReport("noiseclf", "user", None, "html", [page], {}), 1)
    assert rows[0]["gold_missed"] == ["Weight 540 g per pair", "Votes by district in the last election",
                                      "A third paragraph here"]
    assert rows[0]["kept_not_gold"] == ["Subscribe to our newsletter today"]


def test_evaluation_scores_the_title_against_the_gold_s() -> None:
    """WCXB and CleanEval give each page's title: the share noiseclf gets right is reported beside the text's
    figures; a page whose gold has no title does not count."""
    head = ('<meta property="og:title" content="The river closes the old bridge | River Post">'
            '<meta property="og:site_name" content="River Post">')
    body = "".join(f"<p>The river rose {i} feet overnight, and the town closed its old bridge to traffic.</p>"
                   for i in range(5))
    html = f"<html><head>{head}</head><body><article>{body}</article></body></html>".encode()
    pages = [Page(id=key, corpus="wcxb", split="test", content=html, gold_text=body, title=title)
             for key, title in (("a", "The river closes the old bridge"), ("b", "Bridge news"), ("c", ""))]
    scores = run_system(NoiseclfSystem(Extractor.load()), pages)
    assert [s.title for s in scores] == [True, False, None]
    assert summarise(scores)["title_match"] == 0.5
