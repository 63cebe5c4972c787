"""Corpus loaders: behaviour on tiny fake corpora written here, plus page counts on the real data."""

from __future__ import annotations

import gzip
import json
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest

from noiseclf.corpora import (
    CORPORA, DEFAULT_TEST_SPLIT, SPLITS, corpus_available, count_pages, data_root, load_corpus,
)
from noiseclf.types import BlockClass, GoldRun, InputError

L3S = "l3s_gn1/L3S-GN1-20100130203947-00001"
UUID = "0a1b2c3d-0000-4000-8000-000000000001"
WCXB_HTML = {"0001": b"<html><body>one</body></html>", "0002": b"<html><body>two</body></html>",
             "0003": b"<html><body>three</body></html>"}
CLEANEVAL_HTML = b"<html>\n<head><title>Flak</title></head>\n<body><p>Review</p></body>\n</html>"
ANNOTATED = """<html><head><meta charset="iso-8859-1"><title>Page</title>
<style>.x-nc-sel2 { color: black }</style></head><body>
<div><span class="x-nc-sel0">Home</span> | <a href="/"><span class="x-nc-sel0">News</span></a></div>
<h1><span class="x-nc-sel1">Big headline</span></h1>
<p><span class="x-nc-sel2">First  paragraph with a</span> <a href="/x"><span class="x-nc-sel2">link\
</span></a><span class="x-nc-sel2"> inside, café.</span></p>
<script>var s = "<span class='x-nc-sel2'>not text</span>";</script>
<p><span class="x-nc-sel2">Second paragraph.</span></p>
<p><span class="x-nc-sel3">A caption</span></p>
Loose text outside spans
<div><span class="x-nc-sel4">Related story</span><br><span class="x-nc-sel4">Another one</span></div>
<div><span class="x-nc-sel5">Nice post!</span></div>
</body></html>"""


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _wcxb_gold(pid: str, url: str | None, paragraphs: tuple[str, ...] = ()) -> str:
    paragraphs = paragraphs or (f"Gold {pid} one.", f"Gold {pid} two.")
    return json.dumps({"url": url, "file_id": pid, "ground_truth": {
        "title": f"Title {pid}", "main_content": "\n\n".join(paragraphs) + "\n",
        "with": [paragraphs[0].rstrip(".")], "without": ["Menu"]}})


def _fake_wcxb(base: Path) -> None:
    files = {"0001": {"split": "dev", "page_type": "article", "domain": "www.example.org"},
             "0002": {"split": "test", "page_type": "forum", "domain": "forum.example.com"},
             "0003": {"split": "dev", "page_type": "product", "domain": ""}}
    _write(base / "wcxb/metadata.json", json.dumps({"splits": {}, "files": files}))
    urls = {"0001": "https://www.example.org/a", "0002": "https://forum.example.com/t/1",
            "0003": "https://www.shop.example/p/1"}
    for pid, meta in files.items():
        _write(base / f"wcxb/{meta['split']}/html/{pid}.html.gz", gzip.compress(WCXB_HTML[pid]))
        _write(base / f"wcxb/{meta['split']}/ground-truth/{pid}.json", _wcxb_gold(pid, urls[pid]))
    # the test page also sits under dev/, byte-identical, as in the real corpus
    _write(base / "wcxb/dev/html/0002.html.gz", gzip.compress(WCXB_HTML["0002"]))
    _write(base / "wcxb/dev/ground-truth/0002.json", _wcxb_gold("0002", urls["0002"]))


def _fake_cleaneval(base: Path) -> None:
    wrapper = b'<text id="http://www.flak.example/film.html" title="Flak &amp; Co" encoding="iso-8859-1">\n'
    for split, pid in (("dev", "1"), ("dev", "60"), ("final", "60"), ("final", "61")):
        _write(base / f"cleaneval/cleaneval-{split}/input/{pid}.html",
               wrapper + CLEANEVAL_HTML + b"\n\n</text>\n")
    _write(base / "cleaneval/cleaneval-dev/GoldStandard/1.txt",
           b"\xef\xbb\xbfURL: http://www.flak.example/film.html\n\n   <h>Sunshine\n"
           b"   <p>The torching of a float\n   opens the film.\n   <l>An item\n")
    _write(base / "cleaneval/cleaneval-dev/GoldStandard/60.txt", b"URL: x\n<p>Older gold\n")
    _write(base / "cleaneval/cleaneval-final/GoldStandard/60.txt",
           b"URL: http://www.flak.example/film.html\n<P>It\x92s \xe9t\xe9\n\n   <h>Next\n\nLoose text\n")


def _fake_l3s(base: Path) -> None:
    _write(base / f"{L3S}/url-mapping.txt", f"<urn:uuid:{UUID}>\thttp://www.news.example.com/a\n")
    _write(base / f"{L3S}/original/{UUID}.html", b"<html><body>original bytes</body></html>")
    _write(base / f"{L3S}/annotated/{UUID}.html", ANNOTATED)


def _fake_dragnet(base: Path) -> None:
    _write(base / "dragnet/training.txt", "a1\nc3")
    _write(base / "dragnet/test.txt", "b2")
    for pid in ("a1", "b2", "c3"):
        _write(base / f"dragnet/HTML/{pid}.html", f"<html><body>{pid}</body></html>")
    _write(base / "dragnet/Corrected/a1.html.corrected.txt",
           "Headline\r\nFirst  line\t\r\n\r\nSecond line\r\n!@#$%^&*()  COMMENTS\r\nGreat post\r\n")
    _write(base / "dragnet/Corrected/b2.html.corrected.txt",
           b"It\x92s here\n!@#$%^&*() COMMENTS\nspam\n")  # cp1252 and a marker variant
    _write(base / "dragnet/Corrected/c3.html.corrected.txt",
           "No comments at all\n!@ $%^&*()  COMMENTS\nFirst!\n")  # a marker that lost its '#'


def _fake_aeb(base: Path) -> None:
    _write(base / "scrapinghub_aeb/html/ff01.html.gz", gzip.compress(b"<html>aeb</html>"))
    _write(base / "scrapinghub_aeb/ground-truth.json", json.dumps(
        {"ff01": {"articleBody": "Body one.\n\nBody two.", "url": "https://www.news.example/x"}}))


def _fake_trafilatura(base: Path) -> None:
    records = {"https://www.blog.example/a": {"file": "blog.example.a.html", "with": ["kept"],
                                              "without": ["Impressum"], "title": "A"},
               "https://site.example/b": {"file": "site.example.b.html", "with": ["also"],
                                          "without": [], "title": None}}
    _write(base / "trafilatura_eval/tests/evaldata.json", json.dumps(records))
    _write(base / "trafilatura_eval/tests/eval/blog.example.a.html", b"<html>a</html>")
    _write(base / "trafilatura_eval/tests/cache/site.example.b.html", b"<html>b</html>")


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("folders")
    for make in (_fake_wcxb, _fake_cleaneval, _fake_l3s, _fake_dragnet, _fake_aeb,
                 _fake_trafilatura):
        make(base)
    return base


@pytest.fixture(scope="module")
def archives(folders: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("archives")
    for name in CORPORA:
        with tarfile.open(base / f"{name}.tar.gz", "w:gz") as tar:
            tar.add(folders / name, arcname=name)
    return base


@pytest.fixture(params=["folder", "archive"])
def root(request: pytest.FixtureRequest, folders: Path, archives: Path) -> Path:
    return folders if request.param == "folder" else archives


def _ids(name: str, split: str | None, root: Path) -> list[str]:
    return [page.id for page in load_corpus(name, split, root=root)]


def test_wcxb_split_comes_from_metadata_only(root: Path) -> None:
    assert _ids("wcxb", "dev", root) == ["0001", "0003"]
    assert _ids("wcxb", "test", root) == ["0002"]
    assert [(p.id, p.split) for p in load_corpus("wcxb", root=root)] == [
        ("0001", "dev"), ("0002", "test"), ("0003", "dev")]


def test_wcxb_page_fields(root: Path) -> None:
    page = next(load_corpus("wcxb", "test", root=root))
    assert page.content == WCXB_HTML["0002"]
    assert page.gold_text == "Gold 0002 one.\n\nGold 0002 two."
    assert page.with_snippets == ("Gold 0002 one",) and page.without_snippets == ("Menu",)
    assert (page.title, page.page_type, page.url) == ("Title 0002", "forum",
                                                      "https://forum.example.com/t/1")
    domains = [p.domain for p in load_corpus("wcxb", "dev", root=root)]
    assert domains == ["example.org", "shop.example"]  # "www." stripped; URL host when no domain


def test_cleaneval_unwraps_page_and_decodes_gold(root: Path) -> None:
    pages = {(p.split, p.id): p for p in load_corpus("cleaneval", root=root)}
    assert sorted(pages) == [("dev", "1"), ("final", "60")]  # 60 is final only; 61 has no gold
    dev, final = pages["dev", "1"], pages["final", "60"]
    assert dev.content == CLEANEVAL_HTML
    assert (dev.url, dev.domain, dev.title, dev.encoding) == (
        "http://www.flak.example/film.html", "flak.example", "Flak & Co", "iso-8859-1")
    assert dev.gold_text == "Sunshine\n\nThe torching of a float opens the film.\n\nAn item"
    assert final.gold_text == "It\u2019s \u00e9t\u00e9\n\nNext\n\nLoose text"


def test_l3s_gold_runs_follow_the_annotation(root: Path) -> None:
    page = next(load_corpus("l3s_gn1", root=root))
    assert page.id == UUID and page.split == "all"
    assert page.content == b"<html><body>original bytes</body></html>"
    assert (page.url, page.domain) == ("http://www.news.example.com/a", "news.example.com")
    assert page.gold_runs == (
        GoldRun("Home | News", BlockClass.NOT_CONTENT),
        GoldRun("Big headline", BlockClass.HEADLINE),
        GoldRun("First paragraph with a link inside, café.\n\nSecond paragraph.",
                BlockClass.FULL_TEXT),
        GoldRun("A caption", BlockClass.SUPPLEMENTAL),
        GoldRun("Loose text outside spans", BlockClass.NOT_CONTENT),
        GoldRun("Related story\n\nAnother one", BlockClass.RELATED),
        GoldRun("Nice post!", BlockClass.COMMENTS),
    )
    assert page.gold_text == (
        "Big headline\n\nFirst paragraph with a link inside, café.\n\nSecond paragraph.")


def test_dragnet_gold_stops_at_comments(root: Path) -> None:
    assert _ids("dragnet", "train", root) == ["a1", "c3"]
    pages = {p.id: p for p in load_corpus("dragnet", root=root)}
    assert pages["a1"].gold_text == "Headline\n\nFirst line\n\nSecond line"
    assert pages["b2"].gold_text == "It\u2019s here" and pages["b2"].split == "test"
    assert pages["c3"].gold_text == "No comments at all"
    assert pages["a1"].content == b"<html><body>a1</body></html>"


def test_scrapinghub_and_trafilatura_pages(root: Path) -> None:
    aeb = next(load_corpus("scrapinghub_aeb", root=root))
    assert (aeb.id, aeb.split, aeb.content) == ("ff01", "test", b"<html>aeb</html>")
    assert (aeb.gold_text, aeb.domain) == ("Body one.\n\nBody two.", "news.example")
    first, second = load_corpus("trafilatura_eval", "all", root=root)
    assert (first.id, first.content, first.title) == ("blog.example.a.html", b"<html>a</html>", "A")
    assert (first.with_snippets, first.without_snippets, first.gold_text) == (
        ("kept",), ("Impressum",), "")
    assert (second.content, second.domain, second.title) == (b"<html>b</html>", "site.example", "")


@pytest.mark.parametrize("name", CORPORA)
def test_archive_and_folder_give_the_same_pages(name: str, folders: Path, archives: Path) -> None:
    assert list(load_corpus(name, root=folders)) == list(load_corpus(name, root=archives))


@pytest.mark.parametrize("name", CORPORA)
def test_count_pages_matches_load(name: str, root: Path) -> None:
    for split in (None, *SPLITS[name]):
        assert count_pages(name, split, root=root) == len(list(load_corpus(name, split, root=root)))


def test_limit_caps_pages(root: Path) -> None:
    assert _ids("wcxb", None, root)[:2] == [p.id for p in load_corpus("wcxb", root=root, limit=2)]


def test_folder_is_preferred_over_archive(folders: Path, tmp_path: Path) -> None:
    (tmp_path / "wcxb").symlink_to(folders / "wcxb")
    (tmp_path / "wcxb.tar.gz").write_bytes(b"not an archive")
    assert _ids("wcxb", "test", tmp_path) == ["0002"]


def test_augmented_draws_of_a_corpus_concatenate_as_distinct_pages_of_the_same_sites(folders: Path,
                                                                                      tmp_path: Path) -> None:
    from noiseclf.tables import build_table, code_fingerprint, to_matrix

    draws = [build_table("wcxb", "dev", root=folders, cache_dir=tmp_path, num_proc=1, augment=1.0, draw=k)
             for k in (0, 1)]
    assert draws[0].cache_files and all(Path(f["filename"]).is_relative_to(tmp_path / "tables" / code_fingerprint())
               for t in draws for f in t.cache_files)  # kept apart from other code's tables
    keys = [sorted(set(t["page"])) for t in draws]
    assert keys[0] and [k.split("+")[0] + "~1" for k in keys[0]] == [k.split("+")[0] for k in keys[1]]
    both = to_matrix(draws)
    assert len(both.page_keys) == 2 * len(keys[0]) and len(set(both.sites)) == len(set(to_matrix(draws[:1]).sites))


def test_a_table_built_for_a_given_code_version_is_cached_under_it(folders: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from noiseclf import tables

    monkeypatch.setattr(tables, "code_fingerprint", lambda: "edited-meanwhile")  # the files changed mid-run
    table = tables.build_table("wcxb", "dev", root=folders, cache_dir=tmp_path, num_proc=1, version="at-start")
    assert table.cache_files and all(Path(f["filename"]).is_relative_to(tmp_path / "tables" / "at-start")
                                     for f in table.cache_files)
    assert not (tmp_path / "tables" / "edited-meanwhile").exists()


def test_bad_requests_raise_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope"):
        load_corpus("nope")
    with pytest.raises(InputError, match="final"):
        load_corpus("wcxb", "final", root=tmp_path)
    with pytest.raises(InputError, match=str(tmp_path / "dragnet.tar.gz")):
        load_corpus("dragnet", root=tmp_path)  # raised at call time, before iterating
    (tmp_path / "dragnet.tar.gz").write_bytes(b"not an archive")
    with pytest.raises(InputError, match="dragnet.tar.gz"):
        list(load_corpus("dragnet", root=tmp_path))


def _story_wcxb(base: Path, topics: tuple[str, ...]) -> None:
    """A WCXB dev split of one story a topic, with a headline and three gold paragraphs: enough for teasers."""
    files = {}
    for k, topic in enumerate(topics):
        pid = f"{k + 1:04d}"
        files[pid] = {"split": "dev", "page_type": "article", "domain": f"{topic}.example"}
        paragraphs = tuple(f"The {topic} council met on day {d} to weigh the plan. Members spoke at length about it."
                           for d in range(3))
        body = "".join(f"<p>{text}</p>" for text in paragraphs)
        _write(base / f"wcxb/dev/html/{pid}.html.gz", gzip.compress(
            f"<html><head><title>{topic.title()} council weighs plan</title></head><body><nav><a href='/'>Home</a>"
            f"</nav><h1>{topic.title()} council weighs plan</h1>{body}</body></html>".encode()))
        _write(base / f"wcxb/dev/ground-truth/{pid}.json", _wcxb_gold(pid, f"https://{topic}.example/a", paragraphs))
    _write(base / "wcxb/metadata.json", json.dumps({"splits": {}, "files": files}))


def test_a_table_is_the_same_however_many_processes_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from noiseclf import tables

    _story_wcxb(tmp_path / "data", ("river", "harbour", "orchard", "quarry", "meadow", "canal", "forest"))
    monkeypatch.setattr(tables, "TABLE_SHARDS", 3)
    built = [tables.build_table("wcxb", "dev", root=tmp_path / "data", cache_dir=tmp_path / str(n), num_proc=n,
                                augment=1.0, furniture=0.5, draw=1) for n in (1, 2, 3)]
    assert len({key for key in built[0]["page"] if "+aug" in key}) == 4  # every page but the first of a shard
    for other in built[1:]:
        assert other["page"] == built[0]["page"]
        np.testing.assert_array_equal(tables.to_matrix([other]).X, tables.to_matrix(built[:1]).X)


def test_training_on_several_draws_fits_each_member_on_its_own_draws_rows(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from noiseclf.model import AveragedTrees
    from noiseclf.tables import build_table, to_matrix
    from noiseclf.training import TrainConfig, train

    _story_wcxb(tmp_path / "data", ("river", "harbour", "orchard", "quarry", "meadow", "canal"))
    fitted = []
    fit = AveragedTrees.fit

    def recording_fit(self, X, y, draws=None):
        fitted.append((X, draws))
        return fit(self, X, y, draws)

    monkeypatch.setattr(AveragedTrees, "fit", recording_fit)
    train(TrainConfig(sources=(("wcxb", "dev"),), root=tmp_path / "data", cache_dir=tmp_path, augment=1.0, draws=2,
                      max_iter=5, specialist=""))
    X, draws = max(fitted, key=lambda call: len(call[0]))  # the final fit, on every row
    tables = [to_matrix([build_table("wcxb", "dev", root=tmp_path / "data", cache_dir=tmp_path, num_proc=1,
                                     augment=1.0, draw=k)]).X for k in (0, 1)]
    assert tables[0].shape != tables[1].shape or not np.array_equal(*tables)  # the draws differ
    for k, rows in enumerate(tables):
        np.testing.assert_array_equal(X[draws == k], rows)


def test_data_root_and_availability(monkeypatch: pytest.MonkeyPatch, folders: Path) -> None:
    monkeypatch.setenv("NOISECLF_DATA", str(folders))
    assert data_root() == folders
    assert corpus_available("wcxb") and not corpus_available("nope")
    assert set(DEFAULT_TEST_SPLIT) == set(SPLITS) == set(CORPORA)
    assert all(DEFAULT_TEST_SPLIT[name] in SPLITS[name] for name in CORPORA)


# --- the real corpora, where present ----------------------------------------------------------

REAL_COUNTS = [
    ("wcxb", "dev", 1358), ("wcxb", "test", 511), ("scrapinghub_aeb", "test", 181),
    ("dragnet", "train", 966), ("dragnet", "test", 415), ("l3s_gn1", "all", 621),
    ("cleaneval", "final", 681), ("cleaneval", "dev", 57),  # dev 60 is also final: kept as final
    ("trafilatura_eval", "all", 990),
]


def _need(name: str) -> None:
    if not corpus_available(name):
        pytest.skip(f"corpus {name} not under {data_root()}")


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "split", "expected"), REAL_COUNTS)
def test_real_page_counts(name: str, split: str, expected: int) -> None:
    _need(name)
    assert count_pages(name, split) == expected


@pytest.mark.corpus
def test_real_wcxb_dev_never_holds_a_test_id() -> None:
    _need("wcxb")
    dev = _ids("wcxb", "dev", data_root())
    assert len(dev) == 1358 and not set(dev) & set(_ids("wcxb", "test", data_root()))


@pytest.mark.corpus
def test_real_l3s_pages_have_content_runs() -> None:
    _need("l3s_gn1")
    pages = list(load_corpus("l3s_gn1"))
    assert len(pages) == 621 and all(page.gold_text for page in pages)
    assert all(run.text for page in pages for run in page.gold_runs)


def test_a_negative_limit_is_refused_when_asked(folders: Path) -> None:
    with pytest.raises(InputError, match="limit must be a number of pages, at least 0, not -1"):
        load_corpus("wcxb", "dev", root=folders, limit=-1)


def test_tables_of_another_data_folder_or_a_changed_corpus_are_not_reused(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from noiseclf.tables import build_table

    _story_wcxb(tmp_path / "a", ("river", "harbour"))
    _story_wcxb(tmp_path / "b", ("orchard", "quarry", "meadow"))
    sites = {}
    for name in ("a", "b"):  # the default data folder, as NOISECLF_DATA gives it
        monkeypatch.setenv("NOISECLF_DATA", str(tmp_path / name))
        sites[name] = set(build_table("wcxb", "dev", cache_dir=tmp_path / "cache", num_proc=1)["site"])
    assert sites == {"a": {"river.example", "harbour.example"},
                     "b": {"orchard.example", "quarry.example", "meadow.example"}}
    (tmp_path / "b" / "wcxb").rename(tmp_path / "old")  # the same folder, now holding other pages
    _story_wcxb(tmp_path / "b", ("canal",))
    assert set(build_table("wcxb", "dev", cache_dir=tmp_path / "cache", num_proc=1)["site"]) == {"canal.example"}


@pytest.mark.parametrize("metadata, gold, message", [
    ("[1, 2]", None, "its index is not laid out as wcxb's"),
    ('{"files": {"0001": "dev"}}', None, "its index is not laid out as wcxb's"),
    (None, "[1, 2]", "page '0001' is not laid out as wcxb's pages"),
    (None, '{"ground_truth": {"main_content": 5}}', "page '0001' is not laid out as wcxb's pages"),
    (None, "{not json", "wcxb/dev/ground-truth/0001.json: invalid JSON"),
])
def test_a_corpus_file_of_another_shape_is_an_error_naming_the_corpus(tmp_path: Path, metadata: str | None,
                                                                       gold: str | None, message: str) -> None:
    _story_wcxb(tmp_path / "data", ("river",))
    if metadata is not None:
        (tmp_path / "data/wcxb/metadata.json").write_text(metadata)
    if gold is not None:
        (tmp_path / "data/wcxb/dev/ground-truth/0001.json").write_text(gold)
    with pytest.raises(InputError, match=message) as caught:
        list(load_corpus("wcxb", "dev", root=tmp_path / "data", limit=10 ** 30))
    assert str(tmp_path / "data" / "wcxb") in str(caught.value)


@pytest.mark.parametrize("processes", [1, 2])
def test_a_corpus_page_that_cannot_be_read_fails_the_table_with_one_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int) -> None:
    from noiseclf import tables

    _story_wcxb(tmp_path / "data", ("river", "harbour", "orchard"))
    (tmp_path / "data/wcxb/dev/html/0002.html.gz").unlink()
    monkeypatch.setattr(tables, "TABLE_SHARDS", 2)
    with pytest.raises(InputError, match=r"wcxb/dev/html/0002\.html\.gz") as raised:
        tables.build_table("wcxb", "dev", root=tmp_path / "data", cache_dir=tmp_path / "cache", num_proc=processes)
    assert "\n" not in str(raised.value) and "Traceback" not in str(raised.value)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "delete", "info"])
def test_a_damaged_cached_table_is_built_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    from noiseclf import tables

    _story_wcxb(tmp_path / "data", ("river", "harbour", "orchard", "quarry"))
    monkeypatch.setattr(tables, "TABLE_SHARDS", 2)
    build = lambda: tables.build_table("wcxb", "dev", root=tmp_path / "data", cache_dir=tmp_path / "cache",  # noqa: E731
                                       num_proc=2)
    first = build()
    pages, X = list(first["page"]), tables.to_matrix([first]).X  # read before the files under it are damaged
    del first
    arrow = sorted((tmp_path / "cache").rglob("*.arrow"))
    assert arrow
    if damage == "truncate":
        arrow[0].write_bytes(arrow[0].read_bytes()[:100])
    elif damage == "garbage":
        arrow[0].write_bytes(os.urandom(arrow[0].stat().st_size))
    elif damage == "info":  # the table's description cut short
        info = next((tmp_path / "cache").rglob("dataset_info.json"))
        info.write_text(info.read_text()[: len(info.read_text()) // 2])
    else:
        arrow[-1].unlink()

    again = build()

    assert list(again["page"]) == pages
    np.testing.assert_array_equal(tables.to_matrix([again]).X, X)


def test_ctrl_c_while_a_table_is_built_is_an_interrupt_not_a_pool_timeout(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    from noiseclf import tables

    def interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise TimeoutError from None  # as `datasets`' pool raises it, the interrupt its context

    _story_wcxb(tmp_path / "data", ("river", "harbour"))
    monkeypatch.setattr(datasets.Dataset, "from_generator", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tables.build_table("wcxb", "dev", root=tmp_path / "data", cache_dir=tmp_path / "cache", num_proc=1)


def test_an_edited_gold_file_in_a_corpus_folder_builds_the_table_again(tmp_path: Path) -> None:
    from noiseclf import tables

    _story_wcxb(tmp_path / "data", ("river", "harbour", "orchard"))
    build = lambda: tables.build_table("wcxb", "dev", root=tmp_path / "data", cache_dir=tmp_path / "cache",  # noqa: E731
                                       num_proc=1)
    before = np.asarray(build()["label"]).sum()
    gold = tmp_path / "data/wcxb/dev/ground-truth/0002.json"  # two levels down in the corpus folder
    record = json.loads(gold.read_text())
    record["ground_truth"]["main_content"] = ""
    gold.write_text(json.dumps(record))

    assert np.asarray(build()["label"]).sum() < before


def test_a_full_disk_while_one_table_builds_leaves_the_other_tables(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    from noiseclf import tables

    _story_wcxb(tmp_path / "data", ("river", "harbour"))
    build = lambda **kw: tables.build_table("wcxb", "dev", root=tmp_path / "data",  # noqa: E731
                                            cache_dir=tmp_path / "cache", num_proc=1, **kw)
    build()
    kept = sorted((tmp_path / "cache").rglob("*.arrow"))

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(datasets.Dataset, "from_generator", full)
    with pytest.raises(OSError, match="No space left"):
        build(augment=1.0)
    assert kept and all(path.exists() for path in kept)


def test_a_corpus_folder_linked_inside_the_corpus_is_part_of_its_identity(tmp_path: Path) -> None:
    from noiseclf.tables import _identity

    real = tmp_path / "real"
    real.mkdir()
    (real / "page.html").write_text("<p>One.</p>")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "html").symlink_to(real)
    before = _identity(corpus)
    (real / "page.html").write_text("<p>One, edited.</p>")
    assert _identity(corpus) != before
    (real / "loop").symlink_to(corpus)  # a link back up: walked once
    assert _identity(corpus) != before
