"""Training on your own labelled pages: the JSONL and marked-HTML formats, tables, `noiseclf train --pages --base`."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits
from typer.testing import CliRunner

from noiseclf import Extractor, InputError
from noiseclf.cli import app
from noiseclf.tables import to_matrix
from noiseclf.userdata import marked_text, read_pages, user_tables

FIXTURES = Path(__file__).parent / "fixtures"
JSONL = FIXTURES / "pages.jsonl"
MARKED = FIXTURES / "marked"
BRIDGE = (FIXTURES / "site" / "bridge.html").read_bytes()


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread():
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def test_train_on_your_pages_then_extract(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine.joblib"
    result = CliRunner().invoke(app, ["train", "--pages", str(JSONL), "--pages", str(MARKED), "--out", str(out),
                                      "--max-iter", "20", "--one-pass", "--cache", str(tmp_path / "cache"),
                                      "--base", str(tiny_model)])
    assert result.exit_code == 0, result.output
    assert "word F1 on your 16 pages: new model" in result.stderr and "optimistic" in result.stderr
    info = json.loads(CliRunner().invoke(app, ["info", "--model", str(out)]).stdout)
    recorded = [source.get("pages_file") for source in info["html"]["training_data"]]
    assert recorded == [str(JSONL), str(MARKED)]  # your pages, as `info` shows them
    text = Extractor.load(out).extract(BRIDGE).text
    assert "packhorse bridge below the mill has reopened" in text
    assert "Front page" not in text and "Advertise" not in text


@pytest.mark.parametrize("specialist, articles", [("article", 7), ("", 7), ("article", 1)])
def test_pages_that_say_their_type_train_a_specialist_and_its_router(tmp_path: Path, specialist: str,
                                                                      articles: int) -> None:
    typed = tmp_path / "typed.jsonl"
    rows = [json.loads(line) for line in JSONL.read_text().splitlines()]
    kinds = ["article" if (i % 2 if articles > 1 else i == 0) else "listing" for i in range(len(rows))]
    typed.write_text("".join(json.dumps({**r, "page_type": kind}) + "\n" for r, kind in zip(rows, kinds)))
    out = tmp_path / "typed.joblib"
    result = CliRunner().invoke(app, ["train", "--pages", str(typed), "--out", str(out), "--max-iter", "20",
                                      "--specialist", specialist, "--cache", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    manifest = json.loads(out.with_suffix(".manifest.json").read_text())
    fitted = bool(specialist) and articles > 1  # one article page cannot sit on both sides of every fold
    assert manifest["params"]["specialist"] == (specialist if fitted else "")
    assert ("specialist" in manifest["validation"]) == fitted
    if fitted:
        assert "router accuracy" in result.stderr
        assert manifest["validation"]["specialist"]["special_pages"] == articles
    elif specialist:
        assert "no article specialist" in result.stderr
    assert "packhorse bridge below the mill has reopened" in Extractor.load(out).extract(BRIDGE).text


def _leaf_counts(model_path: Path) -> list[int]:
    from noiseclf.model import _tree_nodes, load_model

    return [int(nodes["is_leaf"].sum()) for nodes in _tree_nodes(load_model(model_path)[0].first_)]


def test_leaves_bound_every_tree_and_are_recorded(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "small.joblib"
    result = CliRunner().invoke(app, ["train", "--pages", str(JSONL), "--out", str(out), "--max-iter", "10",
                                      "--leaves", "3", "--one-pass", "--specialist", "", "--cache",
                                      str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    assert json.loads(out.with_suffix(".manifest.json").read_text())["params"]["leaves"] == 3
    assert max(_leaf_counts(out)) == 3
    assert max(_leaf_counts(tiny_model)) > 3  # the default lets the same pages grow larger trees


def test_jsonl_rows_follow_the_corpus_table_layout(tmp_path: Path) -> None:
    plain, = user_tables([JSONL], format="html", cache_dir=tmp_path)
    assert plain.column_names == ["page", "site", "page_type", "index", "features", "label", "cls", "words", "path"]
    packed = tmp_path / "pages.jsonl.gz"
    packed.write_bytes(gzip.compress(JSONL.read_bytes()))
    zipped, = user_tables([packed], format="html", cache_dir=tmp_path)
    a, b = to_matrix([plain]), to_matrix([zipped])
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert len(a.page_keys) == 14 and 0.1 < a.y.mean() < 0.6
    assert set(plain["site"]) == {p.domain for p in read_pages(JSONL)}  # 14 hosts: validation holds out sites


def test_text_format_tables(tmp_path: Path) -> None:
    table, = user_tables([JSONL], format="text", cache_dir=tmp_path)
    assert to_matrix([table]).y.sum() > 0


def test_marked_html_gold_is_the_marked_elements() -> None:
    pages = {p.id: p for p in read_pages(MARKED)}
    assert set(pages) == {"page14.html", "page15.html"}
    gold = pages["page14.html"].gold_text
    assert gold.startswith("Tips for photographing birds in winter light\n\nLow winter sun")
    assert "Copyright" not in gold and "Home" not in gold
    container = pages["page15.html"].gold_text  # a marked <main>: everything inside it
    assert "ferry company has published" in container and "5 min read" in container
    assert "Most read" not in container and "cookies" not in container


def test_marked_text_skips_hidden_parts_and_nested_marks() -> None:
    page = ('<div data-noiseclf="content"><p>Kept paragraph.</p><script>var x;</script>'
            '<p data-noiseclf="content">Nested once.</p><p style="display:none">Hidden.</p></div>'
            '<p>Menu</p>')
    assert marked_text(page) == "Kept paragraph.\n\nNested once."


def test_the_cache_is_reused_and_keyed_by_content(tmp_path: Path) -> None:
    data = tmp_path / "pages.jsonl"
    data.write_bytes(JSONL.read_bytes())
    first, = user_tables([data], cache_dir=tmp_path / "cache")
    again, = user_tables([data], cache_dir=tmp_path / "cache")
    assert again.cache_files[0]["filename"] == first.cache_files[0]["filename"]
    data.write_text("\n".join(JSONL.read_text().splitlines()[:5]) + "\n")
    changed, = user_tables([data], cache_dir=tmp_path / "cache")
    assert len(set(changed["page"])) == 5


def _write(path: Path, records: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return path


@pytest.mark.parametrize("records, message", [
    (['{"html": "<p>x</p>", "text": "x"}', "{not json"], r"bad\.jsonl:2: not a JSON object"),
    ([{"html": "<p>One two three.</p>"}], r"bad\.jsonl:1: field 'text'"),
    ([{"html": "<html><body><p>Nothing in common here at all.</p></body></html>", "text": "Completely other words."}],
     "matches none of the page's text"),
    ([{"id": "a", "html": "<p>x y</p>", "text": "x y"}, {"id": "a", "html": "<p>x y</p>", "text": "x y"}],
     "page id 'a' occurs more than once"),
    (['{"html": "<p>x \\ud800 y</p>", "text": "x y"}'], r"bad\.jsonl:1: field 'html' holds a lone surrogate escape"),
    ([{"url": "http://[::1", "html": "<p>x y</p>", "text": "x y"}], r"bad\.jsonl:1: url 'http://\[::1' is not a URL"),
    ([{"page_type": ["article"], "html": "<p>x y</p>", "text": "x y"}], "field 'page_type' is a list, not a string"),
    ([{"id": "e", "html": "", "text": "A gold text for a page that holds nothing."}],
     "page e: its gold text is not empty, but the page holds no text"),
])
def test_unusable_records_raise_input_errors_naming_them(tmp_path: Path, records: list, message: str) -> None:
    with pytest.raises(InputError, match=message):
        user_tables([_write(tmp_path / "bad.jsonl", records)], cache_dir=tmp_path / "cache")


def test_files_that_are_no_utf8_or_damaged_gzip_are_refused_naming_the_line(tmp_path: Path) -> None:
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"html": "<p>x y</p>", "text": "x y"}\n{"html": "<p>caf\xe9</p>", "text": "x"}\n')
    with pytest.raises(InputError, match=r"latin\.jsonl:2: not UTF-8"):
        read_pages(latin)
    damaged = bytearray(gzip.compress(JSONL.read_bytes()))
    damaged[40:60] = bytes(20)
    (tmp_path / "damaged.jsonl.gz").write_bytes(bytes(damaged))
    with pytest.raises(InputError, match=r"damaged\.jsonl\.gz: cannot be read"):
        read_pages(tmp_path / "damaged.jsonl.gz")
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + JSONL.read_bytes())
    assert len(read_pages(bom)) == len(read_pages(JSONL))


def test_files_without_ids_in_one_folder_and_odd_names_keep_their_pages_apart(tmp_path: Path) -> None:
    rows = [{k: v for k, v in json.loads(line).items() if k != "id"} for line in JSONL.read_text().splitlines()]
    folder = tmp_path / "parts"
    folder.mkdir()
    _write(folder / "a.jsonl", rows[:3])
    _write(folder / "b.jsonl", rows[3:5])
    (folder / "caf\udce9.html".encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")).write_bytes(
        (MARKED / sorted(p.name for p in MARKED.iterdir())[0]).read_bytes())
    pages = read_pages(folder)
    assert [p.id for p in pages] == ["a.jsonl:1", "a.jsonl:2", "a.jsonl:3", "b.jsonl:1", "b.jsonl:2", "caf\\xe9.html"]
    assert len(user_tables([folder], cache_dir=tmp_path / "cache")[0]) > 0


def test_deeply_nested_marked_content_is_gold() -> None:
    deep = "<div>" * 300 + '<p data-noiseclf="content">A deep paragraph of the story.</p>' + "</div>" * 300
    page = f'<html><body><p data-noiseclf="content">A shallow paragraph.</p>{deep}<p>Footer</p></body></html>'
    assert marked_text(page) == "A shallow paragraph.\n\nA deep paragraph of the story."


def test_a_damaged_cached_table_is_built_again(tmp_path: Path) -> None:
    first, = user_tables([JSONL], cache_dir=tmp_path / "cache")
    arrow = Path(first.cache_files[0]["filename"])
    rows = len(first)
    del first
    arrow.write_bytes(arrow.read_bytes()[:100])
    again, = user_tables([JSONL], cache_dir=tmp_path / "cache")
    assert len(again) == rows


def test_html_without_marks_and_unknown_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "plain.html").write_text("<html><body><p>Nothing marked.</p></body></html>")
    with pytest.raises(InputError, match="no element marked"):
        read_pages(tmp_path / "plain.html")
    (tmp_path / "notes.csv").write_text("a,b\n")
    with pytest.raises(InputError, match="not a page file"):
        read_pages(tmp_path / "notes.csv")
    with pytest.raises(InputError, match="no such file"):
        read_pages(tmp_path / "absent.jsonl")


def test_cli_reports_a_bad_pages_file(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.jsonl", ["[1, 2]"])
    result = CliRunner().invoke(app, ["train", "--pages", str(bad), "--out", str(tmp_path / "m.joblib"),
                                      "--cache", str(tmp_path / "cache")])
    assert result.exit_code == 2 and "bad.jsonl:1" in result.stderr


STORY = ("Heavy rain closed the mountain road above the village for most of Sunday afternoon.",
         "Council workers cleared the fallen rocks by evening and the buses ran again on Monday.")


def _story(i: int, text: str | None = None) -> dict:
    """A hand-written page of two story paragraphs; its gold text is both (all content) unless `text` says."""
    html = f"<html><body><p>Page {i}: {STORY[0]}</p><p>{STORY[1]}</p></body></html>"
    gold = f"Page {i}: {STORY[0]}\n\n{STORY[1]}"
    return {"id": f"s{i}", "url": f"https://site{i}.example/{i}", "html": html, "text": gold if text is None else text}


def _train(tmp_path: Path, *args: str):
    out = tmp_path / "m.joblib"
    result = CliRunner().invoke(app, ["train", "--out", str(out), "--max-iter", "5", "--one-pass", "--cache",
                                      str(tmp_path / "cache"), *args])
    return result, out


@pytest.mark.parametrize("records, estimator, message", [
    (lambda rows: rows[:1], "trees", "1 page(s) with text blocks; at least 2 pages are needed to choose a threshold"),
    (lambda rows: [{**r, "text": ""} for r in rows], "trees", "every block is labelled boilerplate"),
    (lambda rows: [{**r, "text": ""} for r in rows], "logistic", "every block is labelled boilerplate"),
    (lambda rows: [_story(i) for i in range(4)], "trees", "every block is labelled content"),
])
def test_training_data_without_held_out_pages_or_both_classes_is_refused(tmp_path: Path, records, estimator: str,
                                                                         message: str) -> None:
    rows = [json.loads(line) for line in JSONL.read_text().splitlines()]
    pages = _write(tmp_path / "mine.jsonl", records(rows))
    result, out = _train(tmp_path, "--pages", str(pages), "--estimator", estimator)
    assert result.exit_code == 2, result.output
    assert f"{pages}: " in result.stderr and message in " ".join(result.stderr.split())
    assert not out.exists()


def test_the_same_page_ids_in_two_files_are_refused_naming_both(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in JSONL.read_text().splitlines()]
    first, second = _write(tmp_path / "a.jsonl", rows[:7]), _write(tmp_path / "b.jsonl", rows[7:])
    assert _train(tmp_path, "--pages", str(first), "--pages", str(second))[0].exit_code == 0
    result, out = _train(tmp_path, "--pages", str(first), "--pages", str(_write(tmp_path / "c.jsonl", rows[:3])))
    assert result.exit_code == 2
    assert f"page id 'p00': is in both {first} and {tmp_path / 'c.jsonl'}" in " ".join(result.stderr.split())


def test_train_refuses_outputs_that_would_destroy_something_before_any_work(tmp_path: Path) -> None:
    pages = _write(tmp_path / "mine.jsonl", [json.loads(line) for line in JSONL.read_text().splitlines()])
    before = pages.read_bytes()
    (tmp_path / "m.trees.npz").mkdir()
    cases = ((["--out", str(pages)], f"{pages}: the model would overwrite the pages given with --pages"),
             (["--out", "/dev/null"], "/dev/null: is a device or pipe, not an output file"),
             (["--out", str(tmp_path / "m.joblib")], f"{tmp_path / 'm.trees.npz'}: is a folder, not an output file"),
             (["--out", str(tmp_path / "n.joblib"), "--cache", str(pages)], f"{pages}: cannot write there"))
    for args, message in cases:
        result = CliRunner().invoke(app, ["train", "--pages", str(pages), "--max-iter", "5", *args])
        assert result.exit_code == 2, result.output
        assert message in " ".join(result.stderr.split())
        assert "out-of-fold" not in result.stderr
    assert pages.read_bytes() == before and not (tmp_path / "m.joblib").exists()


def test_options_for_corpus_pages_alone_are_said_to_go_unused_with_pages_alone(tmp_path: Path) -> None:
    result, out = _train(tmp_path, "--pages", str(JSONL), "--draws", "2", "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "note: --limit, --draws apply to corpus pages (--corpus) only, not to --pages" in result.stderr


@pytest.mark.parametrize("estimator", ["forest", "logistic"])
def test_a_fold_that_saw_one_class_does_not_stop_other_estimators(tmp_path: Path, estimator: str) -> None:
    rows = [_story(0, text=""), {**_story(1), "html": "<html><body><p>Menu</p><p>" + STORY[0] + "</p></body></html>",
                                 "text": STORY[0]}]
    result, out = _train(tmp_path, "--pages", str(_write(tmp_path / "two.jsonl", rows)), "--estimator", estimator)
    assert result.exit_code == 0, result.output
    assert out.exists()


@pytest.fixture(scope="module")
def text_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("text_model")
    result, out = _train(folder, "--pages", str(JSONL), "--format", "text")
    assert result.exit_code == 0, result.output
    return out


def test_a_base_of_the_other_format_or_missing_is_refused_before_training(tmp_path: Path, text_model: Path) -> None:
    for base, message in ((text_model, f"{text_model}: a model for text input cannot be the base of one for html"),
                          (tmp_path / "absent.joblib", f"{tmp_path / 'absent.joblib'}: model file not found")):
        result, out = _train(tmp_path, "--pages", str(JSONL), "--base", str(base))
        assert result.exit_code == 2 and message in " ".join(result.stderr.split())
        assert "out-of-fold" not in result.stderr and not out.exists()


@pytest.mark.parametrize("fmt", ["html", "text"])
def test_evaluate_refuses_a_model_of_the_other_format(tiny_model: Path, text_model: Path, fmt: str) -> None:
    model, other = (text_model, "text") if fmt == "html" else (tiny_model, "html")
    result = CliRunner().invoke(app, ["evaluate", "-c", "wcxb:dev", "--limit", "1", "-f", fmt, "-m", str(model)])
    assert result.exit_code == 2
    assert f"a model for {other} input; pass --format {other}" in " ".join(result.stderr.split())
