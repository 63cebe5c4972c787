"""Training on your own labelled pages: the JSONL and marked-HTML formats, tables, `noiseclf train --pages --base`."""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits
from typer.testing import CliRunner

from noiseclf import Extractor, InputError
from noiseclf.cli import app
from noiseclf.tables import to_matrix
from noiseclf.userdata import MARK, marked_text, read_pages, user_tables

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


@pytest.mark.parametrize("specialist, articles", [("article", 7), ("", 7), ("article", 1), ("blog", 7)])
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
    fitted = specialist == "article" and articles > 1  # one article page cannot sit on both sides of every fold
    assert manifest["params"]["specialist"] == (specialist if fitted else "")
    assert ("specialist" in manifest["validation"]) == fitted
    if fitted:
        assert "router accuracy" in result.stderr
        assert manifest["validation"]["specialist"]["special_pages"] == articles
    elif specialist == "blog":
        assert "note: no page is of type 'blog' (they are 'article', 'listing'): no specialist" in result.stderr
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
    (tmp_path / "empty.html").write_text(f'<html><body><div {MARK}="content"> </div><p>Menu</p></body></html>')
    for name in ("plain.html", "empty.html"):
        with pytest.raises(InputError, match=f'{name}: no text marked {MARK}="content"'):
            read_pages(tmp_path / name)
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
    folder = tmp_path / "marked"
    (folder / "sub").mkdir(parents=True)
    inside = folder / "sub" / "page.html"
    inside.write_text(f'<html><body><p {MARK}="content">Kept words here.</p><p>Menu</p></body></html>')
    base = tmp_path / "base.joblib"
    base.write_bytes(b"a model")
    cases = ((["--out", str(pages)], f"{pages}: the model would overwrite pages given with --pages"),
             (["--pages", str(folder), "--out", str(inside)], f"{inside}: the model would overwrite pages given"),
             (["--base", str(base), "--out", str(base)], f"{base}: the model would overwrite the --base model"),
             (["--pages", str(folder), "--out", str(folder / "new.html")],
              f"{folder / 'new.html'}: inside a --pages folder, a file of that name would be read as pages"),
             (["--out", "/dev/null"], "/dev/null: is a device or pipe, not an output file"),
             (["--out", str(tmp_path / "m.joblib")], f"{tmp_path / 'm.trees.npz'}: is a folder, not an output file"),
             (["--out", str(tmp_path / "n.joblib"), "--cache", str(pages)], f"{pages}: cannot write there"))
    for args, message in cases:
        result = CliRunner().invoke(app, ["train", "--pages", str(pages), "--max-iter", "5", *args])
        assert result.exit_code == 2, result.output
        assert message in " ".join(result.stderr.split())
        assert "out-of-fold" not in result.stderr
    assert pages.read_bytes() == before and not (tmp_path / "m.joblib").exists()
    assert inside.read_text().startswith("<html>") and base.read_bytes() == b"a model"


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
    params = json.loads(out.with_suffix(".manifest.json").read_text())["params"]
    assert params["estimator"] == estimator and params["leaves"] is None and params["min_leaf"] is None
    result, _ = _train(tmp_path, "--pages", str(tmp_path / "two.jsonl"), "--estimator", estimator,
                       "--leaves", "15")
    assert result.exit_code == 2 and f"it does not apply to --estimator {estimator}" in result.stderr


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


def test_a_json_string_page_is_text_whatever_charset_its_markup_declares(tmp_path: Path) -> None:
    from noiseclf.labelling import label_blocks
    from noiseclf.tables import page_document

    story = "Шторм повалил деревья на набережной, и движение по ней закрыто до утра."
    html = (f'<html><head><meta charset="windows-1251"><title>Шторм</title></head><body><p>Главная | Новости</p>'
            f"<p>{story}</p><p>Фото: Reuters</p></body></html>")
    [page] = read_pages(_write(tmp_path / "ru.jsonl", [{"html": html, "text": story}]))
    doc = page_document(page, "html")
    labels = label_blocks(doc, page)
    assert [(b.text, bool(k)) for b, k in zip(doc.blocks, labels.content)] == [
        ("Главная | Новости", False), (story, True), ("Фото: Reuters", False)]


def test_a_few_pages_train_trees_that_tell_blocks_apart(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in JSONL.read_text().splitlines()]
    result, out = _train(tmp_path, "--pages", str(_write(tmp_path / "few.jsonl", rows[:3])), "--max-iter", "20")
    assert result.exit_code == 0, result.output
    assert "are few: a leaf of the trees holds 5 blocks at the least" in " ".join(result.stderr.split())
    assert json.loads(out.with_suffix(".manifest.json").read_text())["params"]["min_leaf"] == 5
    blocks = Extractor.load(out).extract(rows[3]["html"], with_blocks=True).blocks
    assert len({round(b.probability, 6) for b in blocks}) > 2  # with 40 blocks a leaf: one score for every block


def test_validation_says_which_pages_it_held_out_one_by_one(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in JSONL.read_text().splitlines()]
    one_site = _write(tmp_path / "mine.jsonl", [{**r, "url": f"https://my.example/{i}"} for i, r in enumerate(rows)])
    result, out = _train(tmp_path, "--pages", str(one_site))
    assert result.exit_code == 0, result.output
    assert "out-of-fold (by site, 14 of your pages one by one)" in result.stderr
    validation = json.loads(out.with_suffix(".manifest.json").read_text())["validation"]
    assert validation["method"].endswith("(14 pages without enough sites held out one by one)")
    assert (validation["sites"], validation["pages"]) == (0, 14)
    result, out = _train(tmp_path, "--pages", str(JSONL))  # 14 hosts: held out by site
    validation = json.loads(out.with_suffix(".manifest.json").read_text())["validation"]
    assert "out-of-fold (by site):" in result.stderr and (validation["sites"], validation["pages"]) == (14, 14)


def test_a_model_that_cannot_be_written_leaves_the_old_one_whole(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from noiseclf import model

    result, out = _train(tmp_path, "--pages", str(JSONL))
    assert result.exit_code == 0, result.output
    before = {p.name: p.read_bytes() for p in tmp_path.glob("m.*")}
    blocked = tmp_path / ".m.manifest.json.blocked"
    blocked.mkdir()  # the manifest cannot be written
    staged_name = model._staged_name
    monkeypatch.setattr(model, "_staged_name", lambda final, suffix=".partial": blocked
                        if final.name == "m.manifest.json" and suffix == ".partial" else staged_name(final, suffix))
    result, _ = _train(tmp_path, "--pages", str(JSONL), "--max-iter", "6")
    assert result.exit_code == 2 and "the model could not be written" in result.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.glob("m.*")} == before
    assert sorted(p.name for p in tmp_path.glob(".m.*")) == [blocked.name]  # no other leftovers
    assert Extractor.load(out).extract(BRIDGE).text


def test_two_runs_saving_one_model_at_once_leave_one_whole_model(tmp_path: Path) -> None:
    import threading

    from noiseclf.model import load_model, save_model

    first, manifest = load_model(_train(tmp_path, "--pages", str(JSONL))[1])
    errors: list[BaseException] = []

    def save(k: int) -> None:
        try:
            for _ in range(5):
                save_model(first, replace(manifest, created=f"run {k}"), tmp_path / "shared.joblib")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    runs = [threading.Thread(target=save, args=(k,)) for k in range(3)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert not errors
    assert load_model(tmp_path / "shared.joblib")[1].created.startswith("run ")  # its hashes match its files
    assert not list(tmp_path.glob(".shared.*"))  # nothing staged left behind
    umask = os.umask(0o022)
    os.umask(umask)
    assert {p.stat().st_mode & 0o777 for p in tmp_path.glob("shared.*")} == {0o666 & ~umask}  # as any file's


def test_ctrl_c_while_a_model_moves_in_puts_the_old_one_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from noiseclf import model as model_module

    first, manifest = model_module.load_model(_train(tmp_path, "--pages", str(JSONL))[1])
    out = tmp_path / "m.joblib"
    before = {p.name: p.read_bytes() for p in tmp_path.glob("m.*")}
    moves = []
    real = model_module._replace

    def interrupted(source, target, named):
        moves.append(named)
        if len(moves) == 5:  # the old files set aside, two new ones in place
            raise KeyboardInterrupt
        real(source, target, named)

    monkeypatch.setattr(model_module, "_replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model_module.save_model(first, replace(manifest, created="new"), out)
    assert {p.name: p.read_bytes() for p in tmp_path.glob("m.*")} == before
    assert not list(tmp_path.glob(".m.*"))
    moves.clear()

    def interrupted_after(source, target, named):  # the first file set aside, then Ctrl-C
        real(source, target, named)
        raise KeyboardInterrupt

    monkeypatch.setattr(model_module, "_replace", interrupted_after)
    with pytest.raises(KeyboardInterrupt):
        model_module.save_model(first, replace(manifest, created="new"), out)
    assert {p.name: p.read_bytes() for p in tmp_path.glob("m.*")} == before
    assert not list(tmp_path.glob(".m.*"))


def test_a_model_whose_last_file_cannot_be_replaced_is_put_back_whole(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    result, out = _train(tmp_path, "--pages", str(JSONL))
    assert result.exit_code == 0, result.output
    before = {p.name: p.read_bytes() for p in tmp_path.glob("m.*")}
    real = os.replace

    def immutable_manifest(source, target):  # as `chattr +i m.manifest.json` makes it
        if Path(target).name == "m.manifest.json" or Path(source).name == "m.manifest.json":
            raise PermissionError(1, "Operation not permitted")
        real(source, target)

    monkeypatch.setattr("noiseclf.model.os.replace", immutable_manifest)
    result, _ = _train(tmp_path, "--pages", str(JSONL), "--max-iter", "6")
    assert result.exit_code == 2
    assert f"could not be written ({tmp_path / 'm.manifest.json'}): Operation not permitted" in " ".join(
        result.stderr.split())
    assert {p.name: p.read_bytes() for p in tmp_path.glob("m.*")} == before
    assert not list(tmp_path.glob(".m.*"))
    monkeypatch.undo()
    assert Extractor.load(out).extract(BRIDGE).text


def test_pages_in_folders_are_named_by_their_path_and_errors_by_their_file(tmp_path: Path) -> None:
    folder = tmp_path / "sites"
    marked = f'<html><body><p {MARK}="content">The story of %s, told in full here.</p><p>Menu</p></body></html>'
    for site in ("a", "b"):
        (folder / site).mkdir(parents=True)
        (folder / site / "index.html").write_text(marked % site)
    (folder / "c.html.gz").write_bytes(gzip.compress((marked % "c").encode()))
    rows = [json.loads(line) for line in JSONL.read_text().splitlines()]
    _write(folder / "d.jsonl", [{k: v for k, v in rows[0].items() if k != "id"}])
    assert [p.id for p in read_pages(folder)] == ["a/index.html", "b/index.html", "c.html.gz", "d.jsonl:1"]
    assert [p.id for p in read_pages(folder / "a" / "index.html")] == ["index.html"]
    table_ids = [sorted(set(user_tables([path], cache_dir=tmp_path / "cache")[0]["page"]))
                 for path in (folder, folder / "d.jsonl", folder)]  # the same file cached under either name
    assert table_ids[1] == ["user/1"] and table_ids[0] == table_ids[2] and "user/d.jsonl:1" in table_ids[0]
    bad = folder / "b" / "more.jsonl"
    _write(bad, [{"id": "x", "html": "<html><body><p>Nothing in common here.</p></body></html>", "text": "Other."}])
    with pytest.raises(InputError, match=f"^{bad}: page x: its gold text matches none"):
        user_tables([folder], cache_dir=tmp_path / "cache")


def test_marked_blocks_are_content_even_where_their_text_repeats_unmarked(tmp_path: Path) -> None:
    quote = "The bridge will outlast every one of us, said the mason."
    page = tmp_path / "pull.html"
    page.write_text(f'<html><body><nav><a href="/">Home</a> <a href="/n">News</a></nav><blockquote>{quote}</blockquote>'
                    f'<article {MARK}="content"><p>The old bridge reopened on Monday after a year of repairs.</p>'
                    f'<p>{quote}</p><p>Inline <span {MARK}="content">marked words</span> in an unmarked line.</p>'
                    f'</article><p>Partly <b {MARK}="content">marked</b> paragraph.</p><footer>Contact us</footer>'
                    "</body></html>")
    [table] = user_tables([page], cache_dir=tmp_path / "cache")
    assert table["label"] == [False, False, True, True, True, True, False]
    after = tmp_path / "after.html"  # the copy after the mark, and unmarked text on both sides of a marked block
    after.write_text(f'<html><body><div>Intro words here <p {MARK}="content">{quote}</p> tail words here</div>'
                     f"<aside><p>{quote}</p></aside></body></html>")
    [table] = user_tables([after], cache_dir=tmp_path / "cache")
    assert table["label"] == [False, True, False, False]


@pytest.mark.parametrize("format", ["html", "text"])
def test_a_marked_page_is_segmented_once_for_its_gold_and_its_labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     format: str) -> None:
    """Its blocks are read once, for its gold text and its labels, in either format."""
    from noiseclf import segmentation

    original, sources = segmentation._segmented, []

    def counted(content: bytes, source: str, encoding: str | None) -> tuple:
        sources.append(source)
        return original(content, source, encoding)

    monkeypatch.setattr(segmentation, "_segmented", counted)
    [table] = user_tables([MARKED], format=format, cache_dir=tmp_path)
    assert sorted(sources) == sorted(str(file) for file in MARKED.glob("*.html"))
    assert len(set(table["page"])) == len(sources) and 0 < sum(table["label"]) < len(table)


def test_the_gold_of_a_marked_page_is_what_the_page_shows_inside_its_marks(tmp_path: Path) -> None:
    page = tmp_path / "shown.html"
    page.write_text(f'<html><body><article {MARK}="content"><p>The story as the page shows it to readers.</p>'
                    f'<noscript>Enable scripts to see the comments below this story.</noscript></article>'
                    f'<div style="display:none"><p {MARK}="content">A hidden marked paragraph.</p></div></body></html>')
    [marked] = read_pages(page)
    assert marked.gold_text == "The story as the page shows it to readers."
    deep = tmp_path / "deep.html"  # the parser flattens nesting this deep, and the marks on its <div>s go
    deep.write_text(f'<html><body><div {MARK}="content"><p>Story one.</p></div>'
                    + "<div>" * 3000 + "<p>deep filler</p>" + "</div>" * 3000 + "</body></html>")
    with pytest.raises(InputError, match="deeper in the page than the parser reads"):
        read_pages(deep)


def test_evaluate_scores_a_model_on_your_pages(tiny_model: Path, tmp_path: Path) -> None:
    report = tmp_path / "mine.json"
    result = CliRunner().invoke(app, ["evaluate", "--pages", str(JSONL), "--pages", str(MARKED), "-m", str(tiny_model),
                                      "-r", str(report), "--worst", "1"])
    assert result.exit_code == 0, result.output
    runs = json.loads(report.read_text())["reports"]
    assert [(r["corpus"], r["split"], r["primary_metric"], r["summary"]["pages"]) for r in runs] == [
        ("user", str(JSONL), "word_f1", 14), ("user", str(MARKED), "word_f1", 2)]
    assert all(r["summary"]["word_f1"] > 0.8 for r in runs) and "user:" in result.stdout
    for args, message in ((["--pages", str(JSONL), "--pages", str(JSONL)], "--pages names the same pages twice"),
                          (["--pages", str(tmp_path / "none.jsonl")], "none.jsonl: no such file"),
                          (["--pages", str(JSONL), "-r", str(JSONL)], "is among the pages given with --pages")):
        refused = CliRunner().invoke(app, ["evaluate", "-m", str(tiny_model), *args])
        assert refused.exit_code == 2 and message in " ".join(refused.stderr.split()), refused.output
