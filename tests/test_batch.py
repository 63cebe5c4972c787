"""Batch inference: every reader, both writers, workers, time limits, crashes and resume, on small inputs.

A fake extractor (regular expressions, no model) stands in for the real one through
`BatchOptions.extractor_factory`; one test uses the real default model when it loads.
"""

from __future__ import annotations

import gzip
import io
import json
import multiprocessing as mp
import os
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from noiseclf import batch
from noiseclf.batch import (
    BatchError,
    BatchOptions,
    Record,
    RecordProcessor,
    iter_records,
    row_schema,
    run_batch,
)
from noiseclf.types import Extraction, InputError, ModelError

from fakes import FakeExtractor, failing_factory  # noqa: E402

pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("warcio")
from warcio.statusandheaders import StatusAndHeaders  # noqa: E402
from warcio.warcwriter import WARCWriter  # noqa: E402


# ---------------------------------------------------------------------------------------------
# The fake extractor (tests/fakes.py); factories are top-level so that spawned workers unpickle them


def fake_factory(model: str | None) -> FakeExtractor:
    return FakeExtractor()


class _Countdown(FakeExtractor):
    """Raises KeyboardInterrupt (a user's Ctrl-C) once it has extracted `left` pages."""

    def __init__(self, left: int) -> None:
        self.left = left

    def extract(self, content: str | bytes, **kwargs: Any) -> Extraction:
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        return super().extract(content, **kwargs)


@dataclass(frozen=True)
class InterruptAfter:
    pages: int

    def __call__(self, model: str | None) -> _Countdown:
        return _Countdown(self.pages)




# ---------------------------------------------------------------------------------------------
# Fixtures written on the fly


def page(title: str, *paragraphs: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>"


def options(tmp_path: Path, name: str = "out.jsonl", **overrides: Any) -> BatchOptions:
    settings: dict[str, Any] = dict(output=str(tmp_path / name), jobs=1, quiet=True,
                                    extractor_factory=fake_factory, timeout=5.0)
    settings.update(overrides)
    return BatchOptions(**settings)


def read_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    data = path.read_bytes()
    return [json.loads(line) for line in (gzip.decompress(data) if path.suffix == ".gz" else data).splitlines()]


def write_warc(path: Path, entries: list[tuple[str, str, bytes, str]], compress: bool = True,
               http_headers: dict[str, list[tuple[str, str]]] | None = None) -> list[str]:
    """A WARC of (type, url, payload, content type) entries plus warcinfo; returns the record ids written.

    `http_headers` adds HTTP headers to the responses of the given URLs.
    """
    ids = []
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=compress)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        for kind, url, payload, ctype in entries:
            if kind == "response":
                headers = [("Content-Type", ctype), *(http_headers or {}).get(url, [])]
                http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
                record = writer.create_warc_record(url, "response", payload=io.BytesIO(payload), http_headers=http)
            elif kind == "request":
                record = writer.create_warc_record(url, "request", payload=io.BytesIO(payload),
                                                   warc_content_type="application/http; msgtype=request")
            else:
                record = writer.create_warc_record(url, kind, payload=io.BytesIO(payload), warc_content_type=ctype)
            writer.write_record(record)
            ids.append(record.rec_headers.get_header("WARC-Record-ID"))
    return ids


def write_jsonl(path: Path, rows: list[Any]) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


# ---------------------------------------------------------------------------------------------
# Readers


def test_page_files_folders_and_gzip(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "sub").mkdir(parents=True)
    (site / "a.html").write_text(page("Alpha", "First paragraph."))
    (site / "c.txt").write_text("Plain heading\n\nPlain body text.")
    (site / "logo.png").write_bytes(b"\x89PNG\r\n")  # not a page: ignored inside folders
    (site / "sub" / "b.html.gz").write_bytes(gzip.compress(page("Beta", "Zipped body.").encode()))
    loose = tmp_path / "loose"  # no suffix, named explicitly: sniffed
    loose.write_text(page("Loose", "Sniffed page."))

    summary = run_batch([str(site), str(loose)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [r["path"] for r in rows] == [str(site / "a.html"), str(site / "c.txt"),
                                         str(site / "sub" / "b.html.gz"), str(loose)]
    assert [r["title"] for r in rows] == ["Alpha", "", "Beta", "Loose"]
    assert rows[1]["text"] == "Plain heading\n\nPlain body text."
    assert rows[2]["text"] == "Zipped body."
    assert all(r["status"] == "ok" and r["id"] is None and r["error"] is None and r["confidence"] == 0.75
               for r in rows)
    assert set(rows[0]) == {"path", "id", "url", "title", "text", "confidence", "status", "error"}
    assert (summary.records, summary.ok, summary.error) == (4, 4, 0)


def test_jsonl_with_custom_and_default_fields(tmp_path: Path) -> None:
    custom = tmp_path / "custom.jsonl"
    write_jsonl(custom, [
        {"doc_id": 7, "body": page("Seven", "Body seven."), "link": "https://ex.com/7"},
        {"doc_id": "eight", "text": "Only a text field.\n\nSecond."},
        "",
        "{not json",
        {"doc_id": "n", "body": 12},
        {"doc_id": "none"},
        [1, 2],
    ])
    default = tmp_path / "default.jsonl.gz"
    default.write_bytes(gzip.compress(b'{"html": "<p>Default html.</p>", "url": "https://ex.com/d"}\n'))

    run_batch([str(custom)], options(tmp_path, content_field="body", id_field="doc_id", url_field="link"))
    run_batch([str(default)], options(tmp_path, "default.jsonl"))

    rows = read_rows(tmp_path / "out.jsonl") + read_rows(tmp_path / "default.jsonl")
    assert [(r["id"], r["status"]) for r in rows] == [
        ("7", "ok"), ("eight", "ok"), ("4", "error"), ("n", "error"), ("none", "error"), ("7", "error"),
        ("1", "ok")]
    assert rows[0]["url"] == "https://ex.com/7" and rows[0]["text"] == "Body seven."
    assert rows[1]["text"] == "Only a text field.\n\nSecond."
    assert "not valid JSON" in rows[2]["error"] and f"{custom}:4" in rows[2]["error"]
    assert "not a string" in rows[3]["error"]
    assert rows[4]["error"].endswith("no 'body' or 'text' field (it has doc_id); name one with --content-field")
    assert rows[6]["text"] == "Default html." and rows[6]["url"] == "https://ex.com/d"
    assert {r["path"] for r in rows[:6]} == {str(custom)}
    odd = tmp_path / "odd.jsonl"
    odd.write_bytes(b'{"id": "n", "html": null}\n{"id": "l", "html": "<p>Caf\xe9</p>"}\n'  # a null, and Latin-1
                    + '{"id": "w", "text": "UTF-16, as PowerShell writes"}\n'.encode("utf-16"))

    run_batch([str(odd)], options(tmp_path, "odd_out.jsonl"))

    odd_rows = read_rows(tmp_path / "odd_out.jsonl")
    assert odd_rows[0]["error"] == f"{odd}:1: field 'html' is null"
    assert odd_rows[1]["error"].startswith(f"{odd}:2: not UTF-8, as JSON Lines are (byte 0xe9 at column 28)")
    assert odd_rows[2]["error"].startswith(f"{odd}:3: not UTF-8, as JSON Lines are (byte 0xff at column 1)")


def test_warc_and_wet_records(tmp_path: Path) -> None:
    # The declared charset must win: these bytes are valid UTF-8 ("é"), but latin-1 makes them "Ã©".
    latin = page("Café", "Caf\u00c3\u00a9 au lait.").encode("latin-1")
    warc = tmp_path / "crawl.warc.gz"
    ids = write_warc(warc, [
        ("response", "https://ex.com/latin", latin, "text/html; charset=ISO-8859-1"),
        ("request", "https://ex.com/latin", b"GET /latin HTTP/1.1\r\n\r\n", ""),
        ("response", "https://ex.com/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png"),
        ("response", "https://ex.com/utf8", page("Plain", "Ünïcödé body.").encode(), "text/html"),
        ("response", "https://ex.com/doc.pdf", b"%PDF-1.4", "application/pdf"),
    ])
    wet = tmp_path / "crawl.warc.wet.gz"
    wet_ids = write_warc(wet, [("conversion", "https://ex.com/utf8", "Ünïcödé text.\n\nMore.".encode(),
                                "text/plain")])

    run_batch([str(warc), str(wet)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [r["id"] for r in rows] == [ids[0], ids[2], ids[3], ids[4], wet_ids[0]]
    assert [r["status"] for r in rows] == ["ok", "skipped", "ok", "skipped", "ok"]
    assert rows[0]["text"] == "CafÃ© au lait." and rows[0]["url"] == "https://ex.com/latin"
    assert rows[1]["error"] == "not HTML: image/png" and rows[3]["error"] == "not HTML: application/pdf"
    assert rows[2]["text"] == "Ünïcödé body."
    assert rows[4]["text"] == "Ünïcödé text.\n\nMore." and rows[4]["path"] == str(wet)
    assert {r["path"] for r in rows[:4]} == {str(warc)}


def test_broken_inputs_each_get_one_row(tmp_path: Path) -> None:
    files = {
        "binary.html": bytes(range(256)) * 40,
        "empty.html": b"",
        "big.html": page("Big", "x" * 5000).encode(),
        "hang.html": page("Hang", "SLEEP").encode(),
        "boom.html": page("Boom", "BOOM").encode(),
        "bad.html.gz": b"this is not gzip",
        "fine.html": page("Fine", "Still processed.").encode(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    inputs = [str(tmp_path / name) for name in files]
    missing = str(tmp_path / "missing.html")
    inputs.insert(3, missing)

    started = time.monotonic()
    summary = run_batch(inputs, options(tmp_path, max_bytes=4000, timeout=0.5))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [r["path"] for r in rows] == inputs
    status = {Path(r["path"]).name: (r["status"], r["error"] or "") for r in rows}
    assert status["binary.html"][0] == "error" and "binary" in status["binary.html"][1]
    assert status["empty.html"] == ("empty", "")
    assert status["missing.html"][0] == "error" and "No such file" in status["missing.html"][1]
    assert missing in status["missing.html"][1]
    assert status["big.html"][0] == "error" and "max_bytes" in status["big.html"][1]
    assert status["hang.html"][0] == "error" and "timed out after 0.5 s" in status["hang.html"][1]
    assert status["boom.html"] == ("error", f"{tmp_path / 'boom.html'}: ValueError: parser exploded")
    assert status["bad.html.gz"][0] == "error" and "gzip" in status["bad.html.gz"][1].lower()
    assert status["fine.html"] == ("ok", "")
    assert (summary.records, summary.ok, summary.empty, summary.error) == (8, 1, 1, 6)
    assert time.monotonic() - started < 10


def _release_readers(fifo: Path, done: threading.Event) -> None:
    """Open `fifo` for writing and close it whenever a reader waits on it, so a run that does open it
    reads an empty page (and fails the test) instead of hanging."""
    while not done.wait(0.05):
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # no reader waiting
            pass


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_a_fifo_inside_a_folder_gets_a_skipped_row_instead_of_blocking_the_run(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.html").write_text(page("A", "First page."))
    os.mkfifo(folder / "b.html")  # opening it for reading waits for a writer
    (folder / "c.html").write_text(page("C", "Third page."))
    (folder / "d.html").symlink_to(folder / "d.html")  # a symlink loop
    done = threading.Event()
    threading.Thread(target=_release_readers, args=(folder / "b.html", done), daemon=True).start()

    try:
        summary = run_batch([str(folder)], options(tmp_path))
    finally:
        done.set()

    rows = read_rows(tmp_path / "out.jsonl")
    assert [Path(r["path"]).name for r in rows] == ["a.html", "b.html", "c.html", "d.html"]
    status = {Path(r["path"]).name: (r["status"], r["error"] or "") for r in rows}
    assert status["a.html"] == status["c.html"] == ("ok", "")
    assert status["b.html"] == ("skipped", f"{folder / 'b.html'}: a FIFO, not read inside a folder")
    assert status["d.html"][0] == "error" and "symbolic links" in status["d.html"][1]
    assert (summary.records, summary.ok, summary.skipped, summary.error) == (4, 2, 1, 1)


def test_garbage_between_records_and_a_truncated_warc_then_next_input(tmp_path: Path) -> None:
    plain = tmp_path / "plain.warc"
    write_warc(plain, [("response", f"https://ex.com/{i}", page(f"P{i}", f"Body {i}.").encode(), "text/html")
                       for i in range(3)], compress=False)
    data = plain.read_bytes()
    cut = data.index(b"WARC/1", data.index(b"https://ex.com/0"))  # start of the second response
    corrupt = tmp_path / "corrupt.warc"
    corrupt.write_bytes(data[:cut] + b"garbage\r\n" * 20 + data[cut:])
    truncated = tmp_path / "truncated.warc"
    truncated.write_bytes(data[:data.index(b"Body 2.")])
    after = tmp_path / "after.html"
    after.write_text(page("After", "Read after the damage."))

    run_batch([str(corrupt), str(truncated), str(after)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [(Path(r["path"]).name, r["status"]) for r in rows] == [  # reading goes on after the garbage
        ("corrupt.warc", "ok"), ("corrupt.warc", "ok"), ("corrupt.warc", "ok"),
        ("truncated.warc", "ok"), ("truncated.warc", "ok"), ("truncated.warc", "error"),
        ("after.html", "ok")]
    assert "truncated record" in rows[5]["error"] and rows[5]["url"] == "https://ex.com/2"


@pytest.mark.parametrize("via", ["cut.warc.gz", "cut.bin", "-"])
@pytest.mark.parametrize("cut", [1, 20, 300, None])
def test_a_warc_gz_cut_in_its_last_member_gives_the_lost_record_one_error_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut: int | None, via: str) -> None:
    warc = tmp_path / "cut.warc.gz"
    write_warc(warc, [("response", f"https://ex.com/{i}", page(f"P{i}", f"Body {i}.").encode(), "text/html")
                      for i in range(3)])
    data = warc.read_bytes()
    last = data.rindex(b"\x1f\x8b\x08")  # the last record's gzip member
    data = data if cut is None else data[:last + cut]
    if via == "-":  # read as a stream: the bytes are gone once fastwarc has read them
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))
    else:
        (tmp_path / via).write_bytes(data)

    run_batch([via if via == "-" else str(tmp_path / via)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert len(rows) == 3 and [r["status"] for r in rows[:2]] == ["ok", "ok"]
    if cut is None:
        assert rows[2]["status"] == "ok"
    elif cut < 50:  # fastwarc reads the stub as the end of the file
        assert (rows[2]["id"], rows[2]["status"]) == (None, "error")
        assert f"gzip member cut short at byte {last:,}, after 2 records" in rows[2]["error"]
    else:  # the record's header survives: its own row (an error, or skipped when the cut falls in its
        # HTTP headers, depending on how zlib packed the member), and no second row
        assert rows[2]["url"] == "https://ex.com/2" and rows[2]["status"] in ("error", "skipped")


@pytest.mark.parametrize("length", ["x20", "-5"])
def test_a_malformed_content_length_gives_that_record_an_error_row(tmp_path: Path, length: str) -> None:
    warc = tmp_path / "bad.warc"
    warc.write_bytes(b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:x>\r\n"
                     b"Content-Type: application/http; msgtype=response\r\nContent-Length: %s\r\n\r\n"
                     b"HTTP/1.1 200 OK\r\n\r\nhi\r\n\r\n" % length.encode())

    run_batch([str(warc)], options(tmp_path))

    first = read_rows(tmp_path / "out.jsonl")[0]
    assert (first["id"], first["status"]) == ("<urn:x>", "error")
    assert f"malformed Content-Length '{length}'" in first["error"]


def _raw_response(n: int, length_change: int = 0, filler: str = "") -> bytes:
    """A WARC response record written by hand, its Content-Length off by `length_change` bytes."""
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + page(f"P{n}", f"Body {n}.", filler).encode()
    return (b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:r%d>\r\nWARC-Target-URI: https://ex.com/%d\r\n"
            b"Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n%s\r\n\r\n"
            % (n, n, len(http) + length_change, http))


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("change", [-60, 400, 20_000])
def test_a_wrong_content_length_costs_only_its_own_record(tmp_path: Path, compress: bool, change: int) -> None:
    records = [_raw_response(n, change if n == 1 else 0) for n in range(5)]
    warc = tmp_path / ("bad.warc.gz" if compress else "bad.warc")
    warc.write_bytes(b"".join(gzip.compress(r) for r in records) if compress else b"".join(records))

    run_batch([str(warc)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [r["id"] for r in rows] == [f"<urn:r{n}>" for n in range(5)]  # none lost, none twice
    if change > 0:  # record 1 took in what follows it: an error, and the records inside it are read from it
        assert rows[1]["status"] == "error" and "runs into the next record" in rows[1]["error"]
        assert all(r["status"] == "ok" for r in rows if r["id"] in ("<urn:r0>", "<urn:r2>"))
        if change == 400:  # the block ends inside record 3, which reading goes on after
            assert rows[3]["status"] == "error" and rows[4]["status"] == "ok"
    else:  # too short: reading goes on at the next record header
        assert [r["status"] for r in rows if r["id"] != "<urn:r1>"] == ["ok"] * 4


def test_a_gz_name_on_content_that_is_no_gzip_costs_that_file_only(tmp_path: Path) -> None:
    good = tmp_path / "good.html"
    good.write_text(page("Good", "A page that reads."))
    plain = tmp_path / "rows.jsonl.gz"  # JSON Lines under a gzip name
    plain.write_text('{"id": "a", "html": "<p>One.</p>"}\n')
    bad_method = tmp_path / "items.json.gz"
    bad_method.write_bytes(b"\x1f\x8b\x07" + bytes(40))  # a gzip magic with an unknown method
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "rows.jsonl.gz").write_bytes(plain.read_bytes())

    run_batch([str(plain), str(good), str(bad_method), str(folder)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [(r["path"], r["status"]) for r in rows] == [
        (str(plain), "error"), (str(good), "ok"), (str(bad_method), "error"), (str(folder / "rows.jsonl.gz"), "error")]
    assert rows[0]["error"].startswith(f"{plain}: unreadable: ") and "gzip" in rows[0]["error"].lower()


def test_a_json_array_of_records_as_scrapy_exports_it(tmp_path: Path) -> None:
    items = [{"url": f"https://ex.com/{i}", "html": page(f"T{i}", f"Item {i}. " + "x" * 3000)} for i in range(400)]
    exported = tmp_path / "items.json"  # Scrapy's `-o items.json`: one object a line, commas between
    exported.write_text("[\n" + ",\n".join(json.dumps(item) for item in items) + "\n]")
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps([{"id": {"n": 1}, "text": "Indented.\n\nTwo."}, 5, {"id": 3}], indent=2))
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(gzip.compress(b'[{"html": "<p>Whole.</p>"}, {"html": "<p>Cut'))

    run_batch([str(tmp_path / n) for n in ("items.json", "pretty.json", "cut.json.gz")], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [r["url"] for r in rows[:400]] == [item["url"] for item in items]  # across the reader's chunks
    assert rows[399]["text"].startswith("Item 399. xxx") and {r["id"] for r in rows[:400]} == {str(i) for i in
                                                                                               range(1, 401)}
    assert [(r["id"], r["status"], r["text"]) for r in rows[400:]] == [
        ('{"n": 1}', "ok", "Indented.\n\nTwo."), ("2", "error", None), ("3", "error", None),
        ("1", "ok", "Whole."), ("2", "error", None)]
    assert f"{pretty}:#2: not a JSON object" in rows[401]["error"]
    assert f"{cut}:#2: not valid JSON" in rows[404]["error"]


@pytest.mark.parametrize("where", ["start", "middle"])
@pytest.mark.parametrize("via", ["file", "stdin"])
def test_a_corrupt_gzip_member_costs_only_its_record_in_a_warc_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, via: str, where: str) -> None:
    members = [gzip.compress(_raw_response(n, filler=os.urandom(20_000).hex())) for n in range(5)]
    cut = 30 if where == "start" else len(members[2]) // 2  # in the middle, the member's start still inflates
    members[2] = members[2][:cut] + bytes(30) + members[2][cut + 30:]
    warc = tmp_path / "damaged.warc.gz"
    warc.write_bytes(b"".join(members))
    if via == "stdin":  # a pipe goes back over what it kept of the damaged member to the next one
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(warc.read_bytes()))))

    run_batch(["-" if via == "stdin" else str(warc)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [r["id"] for r in rows] == ["<urn:r0>", "<urn:r1>", None, "<urn:r3>", "<urn:r4>"]
    assert [r["status"] for r in rows] == ["ok", "ok", "error", "ok", "ok"]
    assert "corrupt WARC after 2 records" in rows[2]["error"]
    assert f"read on from byte {sum(map(len, members[:3])):,}" in rows[2]["error"]


@pytest.mark.parametrize("kept_max, after", [(None, ["<urn:r2>"]), (100_000, [])])
def test_a_stream_reads_past_a_damaged_member_larger_than_a_read_while_it_kept_the_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept_max: int | None, after: list) -> None:
    members = [gzip.compress(_raw_response(n, filler=os.urandom(1_500_000).hex())) for n in range(3)]
    assert min(map(len, members)) > 1 << 20  # each member runs past one read of the stream
    members[1] = members[1][:len(members[1]) // 2] + bytes(64) + members[1][len(members[1]) // 2 + 64:]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(b"".join(members)))))
    if kept_max:  # more than this since the last record: the pipe cannot go back, and the input ends there
        monkeypatch.setattr(batch, "_STREAM_TAIL_MAX", kept_max)

    run_batch(["-"], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")  # the damaged record's row, then the damage's
    assert [r["id"] for r in rows] == ["<urn:r0>", "<urn:r1>", None, *after]
    assert "unreadable payload" in rows[1]["error"] and "corrupt WARC after 2 records" in rows[2]["error"]
    assert ("read on from byte" in rows[2]["error"]) == (kept_max is None)


def _metadata_record() -> bytes:
    body = b"fetchTimeMs: 12\r\n"
    return (b"WARC/1.0\r\nWARC-Type: metadata\r\nWARC-Record-ID: <urn:m>\r\nContent-Type: application/warc-fields\r\n"
            b"Content-Length: %d\r\n\r\n%s\r\n\r\n" % (len(body), body))


@pytest.mark.parametrize("via", ["file", "stdin"])
def test_damage_read_past_onto_records_that_give_no_row_ends_with_its_one_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, via: str) -> None:
    members = [gzip.compress(r) for r in (_raw_response(0), _raw_response(1), _raw_response(2), _metadata_record())]
    members[2] = members[2][:30] + bytes(30) + members[2][60:]
    warc = tmp_path / "tail.warc.gz"
    warc.write_bytes(b"".join(members))
    if via == "stdin":
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(warc.read_bytes()))))

    run_batch(["-" if via == "stdin" else str(warc)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")  # no second row calling the damaged member cut short
    assert [(r["id"], r["status"]) for r in rows] == [("<urn:r0>", "ok"), ("<urn:r1>", "ok"), (None, "error")]


def test_a_stream_whose_first_member_is_damaged_reads_on_as_a_file_does(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    members = [gzip.compress(_raw_response(n, filler=os.urandom(2_000).hex())) for n in range(3)]
    members[0] = members[0][:200] + bytes(40) + members[0][240:]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(b"".join(members)))))

    run_batch(["-"], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [r["id"] for r in rows] == [None, "<urn:r1>", "<urn:r2>"]
    assert f"read on from byte {len(members[0]):,}" in rows[0]["error"]


@pytest.mark.parametrize("via", ["file", "stdin"])
def test_a_first_member_damaged_before_records_of_no_row_is_one_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   via: str) -> None:
    first = gzip.compress(_raw_response(0))
    warc = tmp_path / "first.warc.gz"
    warc.write_bytes(first[:30] + bytes(30) + first[60:] + gzip.compress(_metadata_record()))
    if via == "stdin":
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(warc.read_bytes()))))

    run_batch(["-" if via == "stdin" else str(warc)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")  # no "not a WARC file" row after the read-on found a record
    assert len(rows) == 1 and "corrupt WARC after 0 records" in rows[0]["error"] and "read on from" in rows[0]["error"]


def test_a_gzip_stream_damaged_from_its_start_that_holds_no_warc_says_so(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    data = gzip.compress(b'{"id": "a", "html": "<p>One.</p>"}\n' * 50)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data[:10] + bytes(20) + data[30:]))))

    run_batch(["-"], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert len(rows) == 1 and rows[0]["error"].startswith("-: unreadable: gzip data damaged from its start")


def test_a_member_cut_anywhere_is_one_to_read_on_not_a_damaged_one() -> None:
    member = gzip.compress(_raw_response(0, filler=os.urandom(3_000).hex()), compresslevel=1)
    assert batch._whole_record_member(member, 0, ends=False) is True
    for cut in range(10, len(member)):  # however few bytes of its head decompress so far
        assert batch._whole_record_member(member[:cut], 0, ends=False) is None, cut
        assert batch._whole_record_member(member[:cut], 0) is False
    assert batch._whole_record_member(gzip.compress(b"<html>not a record</html>"), 0, ends=False) is False


def test_a_swallowed_record_is_found_whatever_its_version_and_header_order(tmp_path: Path) -> None:
    later = _raw_response(2).replace(b"WARC/1.0", b"WARC/1.1").replace(  # WARC-Type after another header
        b"WARC-Type: response\r\nWARC-Record-ID: <urn:r2>\r\n", b"WARC-Record-ID: <urn:r2>\r\nWARC-Type: response\r\n")
    records = [_raw_response(0), _raw_response(1, len(later)), later]  # record 1's length takes in record 2
    warc = tmp_path / "versions.warc"
    warc.write_bytes(b"".join(records))

    run_batch([str(warc)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [(r["id"], r["status"]) for r in rows] == [("<urn:r0>", "ok"), ("<urn:r1>", "error"), ("<urn:r2>", "ok")]


def test_a_record_one_byte_short_of_its_content_length_is_an_error(tmp_path: Path) -> None:
    warc = tmp_path / "short.warc"
    warc.write_bytes(_raw_response(0) + _raw_response(1)[:-5])  # the last record loses its trailer and a byte

    run_batch([str(warc)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [r["status"] for r in rows] == ["ok", "error"] and "truncated record" in rows[1]["error"]


def test_an_array_with_something_else_where_a_comma_belongs_says_so(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[{"text": "First record."} x {"text": "Lost."}]')

    run_batch([str(broken)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [(r["id"], r["status"]) for r in rows] == [("1", "ok"), (None, "error")]
    assert rows[1]["error"] == f"{broken}: after element 1, 'x' where ',' or ']' belongs"


def test_a_file_named_warc_that_holds_no_record_header_is_an_error_not_an_empty_input(tmp_path: Path) -> None:
    (tmp_path / "notes.warc").write_text("These are notes, saved under the wrong name.\n" * 10)
    (tmp_path / "notes.warc.gz").write_bytes(gzip.compress(b"Not a WARC either.\n"))
    (tmp_path / "nothing.warc").write_bytes(b"")

    run_batch([str(tmp_path / n) for n in ("notes.warc", "notes.warc.gz", "nothing.warc")], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [r["status"] for r in rows] == ["error", "error", "empty"]
    assert rows[0]["error"] == f"{tmp_path / 'notes.warc'}: not a WARC file (it opens with no record header)"


def test_parquet_rows_are_records_read_by_column(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    crawl = tmp_path / "folder" / "crawl.parquet"  # found in a folder walk too
    crawl.parent.mkdir()
    pq.write_table(pa.table({
        "id": [7, None, 9, 10, 11],
        "url": ["https://ex.com/a", "https://ex.com/b", None, "https://ex.com/d", "https://ex.com/e"],
        "body": [page("A", "Caf\xe9 one.").encode("latin-1"), page("B", "Two.").encode(), None, b"",
                 page("E", "Five.").encode()],
        "extra": ["not read"] * 5,
    }), crawl, row_group_size=2)
    text_only = tmp_path / "dump.parquet"
    pq.write_table(pa.table({"text": ["First paragraph.\n\nSecond."], "id": [b"\xffbin"]}), text_only)
    columns = tmp_path / "wrong.parquet"
    pq.write_table(pa.table({"page": ["<p>x</p>"]}), columns)
    damaged = tmp_path / "cut.parquet"
    damaged.write_bytes(text_only.read_bytes()[:-20])

    run_batch([str(crawl.parent), str(text_only), str(columns), str(damaged)],
              options(tmp_path, content_field="body"))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [(r["id"], r["url"], r["status"]) for r in rows] == [
        ("7", "https://ex.com/a", "ok"), ("2", "https://ex.com/b", "ok"), ("9", None, "error"),
        ("10", "https://ex.com/d", "empty"), ("11", "https://ex.com/e", "ok"),
        ("\ufffdbin", None, "ok"), (None, None, "error"), (None, None, "error")]
    assert rows[0]["text"] == "Caf\xe9 one." and rows[2]["error"] == f"{crawl}:#3: field 'body' is null"
    assert rows[5]["text"] == "First paragraph.\n\nSecond."
    assert rows[6]["error"] == f"{columns}: no column 'body' or 'text' (it has page); name one with --content-field"
    assert rows[7]["error"].startswith(f"{damaged}: not a readable Parquet file")


def test_a_damaged_parquet_row_group_costs_only_its_rows(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    crawl = tmp_path / "crawl.parquet"
    pages = [page(f"T{i}", f"Story number {i} here.") for i in range(9)]
    pq.write_table(pa.table({"id": [f"p{i}" for i in range(9)], "html": pages}), crawl, compression="none",
                   row_group_size=3)
    data = bytearray(crawl.read_bytes())
    at = data.index(b"Story number 4")
    data[at:at + 12] = b"\xff" * 12  # the middle row group's text is no longer UTF-8
    crawl.write_bytes(bytes(data))

    run_batch([str(crawl)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [r["id"] for r in rows] == ["p0", "p1", "p2", None, "p6", "p7", "p8"]
    assert rows[3]["status"] == "error" and rows[3]["error"].startswith(f"{crawl}: rows 4 to 6 unreadable (row group 2)")


def test_pretty_printed_json_objects_are_records_not_lines(tmp_path: Path) -> None:
    one = tmp_path / "item.json"  # `json.dumps(item, indent=2)`, or jq's output
    one.write_text(json.dumps({"url": "https://ex.com/a", "html": page("A", "One item.")}, indent=2))
    several = tmp_path / "items.json.gz"
    several.write_bytes(gzip.compress((json.dumps({"id": "x", "text": "First."}, indent=2) + "\n"
                                       + json.dumps({"id": "y", "text": "Second."}, indent=4) + "\n{\n \"id\":").encode()))

    run_batch([str(one), str(several)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [(r["id"], r["url"], r["status"]) for r in rows] == [
        ("1", "https://ex.com/a", "ok"), ("x", None, "ok"), ("y", None, "ok"), ("3", None, "error")]
    assert rows[3]["error"].startswith(f"{several}:#3: not valid JSON")


def test_http_encodings_are_undone_per_record(tmp_path: Path) -> None:
    chunked = b"a\r\n<p>Chunked\r\na\r\n body.</p>\r\n0\r\n\r\n"  # two 10-byte chunks
    encoded = tmp_path / "encoded.warc.gz"
    write_warc(encoded, [
        ("response", "https://ex.com/gz", gzip.compress(page("G", "Gzipped body.").encode()), "text/html"),
        ("response", "https://ex.com/chunked", chunked, "text/html"),
        ("response", "https://ex.com/bad", b"\x1f\x8b broken gzip", "text/html"),
        ("response", "https://ex.com/stored", page("S", "Stored decoded.").encode(), "text/html"),
    ], http_headers={"https://ex.com/gz": [("Content-Encoding", "gzip")],
                     "https://ex.com/chunked": [("Transfer-Encoding", "chunked")],
                     "https://ex.com/bad": [("Content-Encoding", "gzip")],
                     "https://ex.com/stored": [("Content-Encoding", "gzip")]})

    run_batch([str(encoded)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [(r["status"], r["text"]) for r in rows] == [
        ("ok", "Gzipped body."), ("ok", "Chunked body."), ("error", None), ("ok", "Stored decoded.")]
    assert "https://ex.com/bad: unreadable payload" in rows[2]["error"]


def test_a_compressed_body_cut_short_is_an_error_and_deflate_reads_both_ways(tmp_path: Path) -> None:
    import zlib

    body = page("G", "A gzipped body long enough to cut. " * 40).encode()
    zipped, deflated = gzip.compress(body), zlib.compress(body)
    raw = zlib.compressobj(wbits=-15)
    encoded = tmp_path / "cut.warc"
    write_warc(encoded, [
        ("response", "https://ex.com/half", zipped[:len(zipped) // 2], "text/html"),
        ("response", "https://ex.com/zlib", deflated, "text/html"),
        ("response", "https://ex.com/raw", raw.compress(body) + raw.flush(), "text/html"),
        ("response", "https://ex.com/zlib-cut", deflated[:len(deflated) // 2], "text/html"),
    ], compress=False, http_headers={"https://ex.com/half": [("Content-Encoding", "gzip")],
                                     "https://ex.com/zlib": [("Content-Encoding", "deflate")],
                                     "https://ex.com/raw": [("Content-Encoding", "deflate")],
                                     "https://ex.com/zlib-cut": [("Content-Encoding", "deflate")]})

    run_batch([str(encoded)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [r["status"] for r in rows] == ["error", "ok", "ok", "error"]
    assert "https://ex.com/half: unreadable payload: compressed body cut short" in rows[0]["error"]
    assert rows[1]["text"] == rows[2]["text"] == "A gzipped body long enough to cut. " * 40
    assert "compressed body cut short" in rows[3]["error"]


def test_an_input_without_pages_still_gets_its_row(tmp_path: Path) -> None:
    (tmp_path / "empty.warc").write_bytes(b"")
    write_warc(tmp_path / "info.warc.gz", [])  # a warcinfo record only
    (tmp_path / "blank.jsonl").write_text("\n\n")
    (tmp_path / "none.json").write_text(" [ ] ")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "notes.md").write_text("Not a page kind.")
    names = ["empty.warc", "info.warc.gz", "blank.jsonl", "none.json", "folder"]

    run_batch([str(tmp_path / n) for n in names], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [(Path(r["path"]).name, r["status"]) for r in rows] == [(n, "empty") for n in names]
    assert all("no page or record in it" in r["error"] for r in rows)


def test_auto_format_follows_the_content_where_the_suffix_misleads(tmp_path: Path) -> None:
    (tmp_path / "markup.txt").write_text(page("Markup", "A page saved as text."))
    (tmp_path / "plain.html").write_text("A plain paragraph.\n\nAnother one, no tags.\n")
    (tmp_path / "fragment.html").write_text("<p>A fragment.</p>")

    run_batch([str(tmp_path / n) for n in ("markup.txt", "plain.html", "fragment.html")], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [(r["title"], r["text"]) for r in rows] == [
        ("Markup", "A page saved as text."), ("", "A plain paragraph.\n\nAnother one, no tags."),
        ("", "A fragment.")]


def test_the_output_may_not_be_one_of_the_inputs(tmp_path: Path) -> None:
    source = tmp_path / "pages.jsonl"
    numbered_jsonl(source, 2)
    before = source.read_bytes()
    with pytest.raises(InputError, match="the output is also an input"):
        run_batch([str(source)], options(tmp_path, "pages.jsonl"))
    assert source.read_bytes() == before


def test_an_infinite_timeout_means_no_limit() -> None:
    assert BatchOptions(timeout=float("inf")).timeout is None
    with pytest.raises(InputError, match="at most 1e"):
        BatchOptions(timeout=1e10)


def test_stdin_jsonl_page_and_warc_to_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warc = tmp_path / "in.warc.gz"
    write_warc(warc, [("response", "https://ex.com/w", page("W", "From a WARC pipe.").encode(), "text/html")])
    cases = [
        (b'{"id": "a", "html": "<p>One.</p>"}\n{"id": "b", "text": "Two."}\n', ["One.", "Two."]),
        (page("Stdin", "A single page.").encode(), ["A single page."]),
        (warc.read_bytes(), ["From a WARC pipe."]),
        (b'[{"html": "<p>Array one.</p>"},\n {"text": "Array two."}]', ["Array one.", "Array two."]),
        (b"{ 43 comments } on a text dump.\n\nA reply.\n", ["{ 43 comments } on a text dump.\n\nA reply."]),
    ]
    for data, texts in cases:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))
        out = io.TextIOWrapper(io.BytesIO())
        monkeypatch.setattr(sys, "stdout", out)
        summary = run_batch(["-"], options(tmp_path, output=None))
        rows = [json.loads(line) for line in out.buffer.getvalue().splitlines()]  # type: ignore[attr-defined]
        assert [r["text"] for r in rows] == texts and {r["path"] for r in rows} == {"-"}
        assert summary.output is None


def test_parquet_from_stdin_or_under_an_unknown_name_is_read_by_its_content(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = tmp_path / "crawl.parquet"
    pq.write_table(pa.table({"id": ["a", "b", "c"], "html": [page("A", "Row one."), page("B", "Row two."),
                                                             page("C", "Row three.")]}), table, row_group_size=2)
    renamed = tmp_path / "crawl.bin"  # a download that lost its suffix
    renamed.write_bytes(table.read_bytes())
    zipped = tmp_path / "crawl.data.gz"
    zipped.write_bytes(gzip.compress(table.read_bytes()))
    cut = tmp_path / "cut.bin"
    cut.write_bytes(table.read_bytes()[:-30])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(table.read_bytes()))))

    run_batch(["-", str(renamed), str(zipped), str(cut)], options(tmp_path))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [(r["path"], r["id"], r["text"]) for r in rows[:9]] == [
        (source, rid, text) for source in ("-", str(renamed), str(zipped))
        for rid, text in (("a", "Row one."), ("b", "Row two."), ("c", "Row three."))]
    assert len(rows) == 10 and rows[9]["error"].startswith(f"{cut}: not a readable Parquet file")


def test_gzipped_warc_damaged_mid_stream_loses_no_record_from_stdin_or_an_unknown_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warc = tmp_path / "crawl.warc.gz"  # one gzip member per record
    write_warc(warc, [("response", f"https://ex.com/{i}", page(f"P{i}", f"Body {i}.").encode(), "text/html")
                      for i in range(30)])
    data = bytearray(warc.read_bytes())
    damaged = data.index(b"\x1f\x8b", data.index(b"\x1f\x8b", len(data) * 2 // 3) + 2)  # a member near the end
    data[damaged + 40:damaged + 80] = bytes(b ^ 0xFF for b in data[damaged + 40:damaged + 80])
    warc.write_bytes(data)
    unknown = tmp_path / "crawl.bin"
    unknown.write_bytes(data)
    run_batch([str(warc)], options(tmp_path, "by_path.jsonl"))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(bytes(data)))))

    run_batch(["-", str(unknown)], options(tmp_path))

    by_path = [(r["id"], r["status"]) for r in read_rows(tmp_path / "by_path.jsonl")]
    damage = by_path.index((None, "error"))  # each is read on from the next member
    assert 10 < damage < 29 and len(by_path) == 30 and by_path.count((None, "error")) == 1
    assert all(status == "ok" for rid, status in by_path if rid)
    assert [(r["id"], r["status"]) for r in read_rows(tmp_path / "out.jsonl")] == by_path * 2


def test_json_lines_with_a_byte_order_mark_are_sniffed_as_json_lines(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    data = b'\xef\xbb\xbf{"id": "a", "html": "<p>One.</p>"}\n{"id": "b", "text": "Two."}\n'
    unknown = tmp_path / "rows.data"
    unknown.write_bytes(data)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))

    run_batch(["-", str(unknown)], options(tmp_path))

    assert [(r["id"], r["text"]) for r in read_rows(tmp_path / "out.jsonl")] == [("a", "One."), ("b", "Two.")] * 2


# ---------------------------------------------------------------------------------------------
# Workers


def numbered_jsonl(path: Path, count: int, special: dict[int, str] | None = None) -> list[str]:
    special = special or {}
    write_jsonl(path, [{"id": f"r{i}", "html": page(f"T{i}", special.get(i, f"Body {i}."))} for i in range(count)])
    return [f"r{i}" for i in range(count)]


def test_pool_keeps_input_order_and_times_out_in_workers(tmp_path: Path) -> None:
    source = tmp_path / "many.jsonl"
    ids = numbered_jsonl(source, 24, {1: "SLEEP", 5: "BOOM"})

    summary = run_batch([str(source)], options(tmp_path, jobs=2, chunk_size=2, timeout=1.0))

    rows = read_rows(tmp_path / "out.jsonl")
    assert [r["id"] for r in rows] == ids
    assert rows[1]["status"] == "error" and "timed out after 1 s" in rows[1]["error"]
    assert rows[5]["status"] == "error" and "parser exploded" in rows[5]["error"]
    assert all(r["status"] == "ok" and r["text"] == f"Body {i}." for i, r in enumerate(rows) if i not in (1, 5))
    assert (summary.records, summary.ok, summary.error) == (24, 22, 2)


def test_pool_unordered_loses_nothing(tmp_path: Path) -> None:
    source = tmp_path / "many.jsonl"
    ids = numbered_jsonl(source, 30)
    run_batch([str(source)], options(tmp_path, jobs=2, chunk_size=3, unordered=True, start_method="fork"))
    assert sorted(r["id"] for r in read_rows(tmp_path / "out.jsonl")) == sorted(ids)


@pytest.mark.parametrize("unordered", [False, True])
def test_a_record_that_kills_its_worker_gets_an_error_row_and_the_run_goes_on(tmp_path: Path,
                                                                              unordered: bool) -> None:
    source = tmp_path / "crash.jsonl"
    ids = numbered_jsonl(source, 20, {6: "CRASH", 13: "CRASH"})
    summary = run_batch([str(source)], options(tmp_path, jobs=2, chunk_size=3, start_method="fork",
                                               unordered=unordered))
    rows = read_rows(tmp_path / "out.jsonl")
    assert sorted(r["id"] for r in rows) == sorted(ids) and (unordered or [r["id"] for r in rows] == ids)
    failed = {r["id"]: r["error"] for r in rows if r["status"] == "error"}
    assert failed == {rid: f"{source} {rid}: the worker process died extracting it (out of memory, or a crash in "
                           f"native code)" for rid in ("r6", "r13")}
    assert summary.ok == 18 and summary.error == 2


def test_default_jobs_start_no_pool_for_a_single_page_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import noiseclf.batch as batch

    started, get_context = [], mp.get_context
    monkeypatch.setattr(batch.mp, "get_context", lambda method: started.append(method) or get_context(method))
    monkeypatch.setattr(batch, "_cpu_count", lambda: 4)
    one = tmp_path / "one.html"
    one.write_text(page("One", "Only paragraph."))
    assert run_batch([str(one)], options(tmp_path, jobs=None)).ok == 1 and started == []
    source = tmp_path / "few.jsonl"
    numbered_jsonl(source, 3)  # a JSON Lines file: its record count is unknown up front, so every CPU serves
    assert run_batch([str(source)], options(tmp_path, jobs=None, start_method="fork")).ok == 3 and started == ["fork"]


def test_model_that_fails_to_load_in_workers_fails_the_run(tmp_path: Path) -> None:
    source = tmp_path / "few.jsonl"
    numbered_jsonl(source, 3)
    with pytest.raises(BatchError, match="model file not found"):
        run_batch([str(source)], options(tmp_path, jobs=2, start_method="fork", extractor_factory=failing_factory))
    with pytest.raises(ModelError):
        run_batch([str(source)], options(tmp_path, extractor_factory=failing_factory))


# ---------------------------------------------------------------------------------------------
# Writers and resume


def test_parquet_output_with_blocks(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(page("A", "One.", "Two."))
    (tmp_path / "b.html").write_bytes(b"")
    (tmp_path / "c.html").write_text(page("C", "BOOM"))
    inputs = [str(tmp_path / n) for n in ("a.html", "b.html", "c.html")]

    run_batch(inputs, options(tmp_path, "out.parquet", with_blocks=True))

    table = pq.read_table(tmp_path / "out.parquet")
    assert table.schema.equals(row_schema(with_blocks=True), check_metadata=False)
    rows = table.to_pylist()
    assert [r["status"] for r in rows] == ["ok", "empty", "error"]
    assert rows[0]["blocks"] == [{"text": "One.", "tag": "p", "probability": 0.9, "keep": True},
                                 {"text": "Two.", "tag": "p", "probability": 0.9, "keep": True}]
    assert rows[1]["blocks"] == [] and rows[2]["blocks"] is None and rows[2]["confidence"] is None


def gzip_member_names(data: bytes) -> list[str]:
    """The file name stored in the header of each member of a gzip stream (RFC 1952: FNAME after 10 bytes)."""
    names = []
    while data:
        assert data[:2] == b"\x1f\x8b" and data[3] == 0x08  # FNAME and no other optional field
        end = data.index(b"\0", 10)
        names.append(data[10:end].decode("latin-1"))
        inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        inflate.decompress(data[end + 1:])
        data = inflate.unused_data[8:]  # past the CRC and size trailer
    return names


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz", "out.parquet"])
def test_resume_after_interruption_writes_every_record_once(tmp_path: Path, name: str) -> None:
    source = tmp_path / "pages.jsonl"
    ids = numbered_jsonl(source, 10)
    partial = tmp_path / f".{name}.partial"

    with pytest.raises(KeyboardInterrupt):
        run_batch([str(source)], options(tmp_path, name, extractor_factory=InterruptAfter(4)))
    assert not (tmp_path / name).exists()
    done = (pq.read_table(partial).to_pylist() if name.endswith(".parquet")
            else [json.loads(line) for line in gzip.open(partial)] if name.endswith(".gz") else read_rows(partial))
    assert [r["id"] for r in done] == ids[:4]
    if name.endswith(".jsonl"):
        with open(partial, "ab") as f:
            f.write(b'{"path": "torn')  # what a hard kill mid-write leaves
    elif name.endswith(".gz"):
        with open(partial, "ab") as f:
            f.write(gzip.compress(b'{"path": "torn')[:-6])  # a member cut short
    else:
        (tmp_path / f".{name}.partial.writing").write_bytes(b"PAR1 half a file")

    summary = run_batch([str(source)], options(tmp_path, name, resume=True))

    assert (summary.resumed, summary.records) == (4, 6)
    assert [r["id"] for r in read_rows(tmp_path / name)] == ids
    assert not partial.exists()
    if name.endswith(".gz"):  # each member's header names the output, as gunzip -N restores it
        assert gzip_member_names((tmp_path / name).read_bytes()) == ["out.jsonl", "out.jsonl"]
    again = run_batch([str(source)], options(tmp_path, name, resume=True))  # finished: nothing to do
    assert (again.resumed, again.records) == (10, 0)
    assert [r["id"] for r in read_rows(tmp_path / name)] == ids


def test_a_gz_output_is_gzipped_json_lines_and_a_name_of_the_other_format_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "pages.jsonl"
    ids = numbered_jsonl(source, 3)

    run_batch([str(source)], options(tmp_path, "rows.jsonl.gz"))
    run_batch([str(source)], options(tmp_path, "rows.gz"))

    assert (tmp_path / "rows.jsonl.gz").read_bytes()[:2] == (tmp_path / "rows.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert gzip_member_names((tmp_path / "rows.gz").read_bytes()) == ["rows"]  # not ".rows.gz.partial"
    assert [r["id"] for r in read_rows(tmp_path / "rows.jsonl.gz")] == ids
    with pytest.raises(InputError, match="the name says jsonl and the output format is parquet"):
        run_batch([str(source)], options(tmp_path, "rows.jsonl", output_format="parquet"))
    with pytest.raises(InputError, match="the name says parquet and the output format is jsonl"):
        run_batch([str(source)], options(tmp_path, "rows.parquet", output_format="jsonl"))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    with pytest.raises(InputError, match="Parquet is binary"):
        run_batch([str(source)], options(tmp_path, output=None, output_format="parquet"))
    with pytest.raises(InputError, match="standard input can be read once"):
        run_batch(["-", str(source), "-"], options(tmp_path))
    with pytest.raises(InputError, match="Parquet compresses its columns itself; name the file .parquet"):
        run_batch([str(source)], options(tmp_path, "rows.parquet.gz"))
    (tmp_path / "plain.jsonl.gz").write_text('{"path": "x", "id": null}\n')  # written under a gzip name before
    with pytest.raises(BatchError, match="plain.jsonl.gz: not gzipped, as its name says, so this run cannot resume"):
        run_batch([str(source)], options(tmp_path, "plain.jsonl.gz", resume=True))


@pytest.mark.parametrize("name", ["out.jsonl", "out.parquet"])
def test_names_that_are_not_utf8_are_written_as_escapes_and_resume_skips_them(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    for raw in (b"caf\xe9.html", b"caf\xe8.html"):  # Latin-1 names: not UTF-8, differing in one byte
        (folder / os.fsdecode(raw)).write_text(page("Caf", "Body."))
    lines = tmp_path / "ids.jsonl"
    write_jsonl(lines, ['{"id": "a\\ud800b", "html": "<p>Lone surrogate id.</p>"}'])

    first = run_batch([str(folder), str(lines)], options(tmp_path, name))
    again = run_batch([str(folder), str(lines)], options(tmp_path, name, resume=True))

    rows = read_rows(tmp_path / name)
    assert [(r["path"], r["id"]) for r in rows] == [
        (f"{folder}/caf\\xe8.html", None), (f"{folder}/caf\\xe9.html", None), (str(lines), "a\\ud800b")]
    assert (first.records, again.resumed, again.records) == (3, 3, 0)


def test_resume_needs_a_file_and_matching_columns(tmp_path: Path) -> None:
    source = tmp_path / "pages.jsonl"
    numbered_jsonl(source, 2)
    with pytest.raises(InputError, match="output file"):
        options(tmp_path, output=None, resume=True)
    run_batch([str(source)], options(tmp_path, "out.parquet"))
    with pytest.raises(BatchError, match="other columns"):
        run_batch([str(source)], options(tmp_path, "out.parquet", resume=True, with_blocks=True))
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 2  # kept untouched, where it was
    assert not (tmp_path / ".out.parquet.partial").exists()
    with pytest.raises(BatchError, match=r"a row of another text \(was --text-format different\?\)"):
        run_batch([str(source)], options(tmp_path, "out.parquet", resume=True, text_format="html"))
    run_batch([str(source)], options(tmp_path, "out.jsonl"))
    before = (tmp_path / "out.jsonl").read_bytes()
    for changed, message in (({"with_blocks": True}, r"out.jsonl:1: a row without blocks \(was --blocks different"),
                             ({"text_format": "html"}, r"out.jsonl:1: a row of another text")):
        with pytest.raises(BatchError, match=message):
            run_batch([str(source)], options(tmp_path, "out.jsonl", resume=True, **changed))
        assert (tmp_path / "out.jsonl").read_bytes() == before
    (tmp_path / "html.jsonl").write_text(json.dumps({"path": str(source), "id": "r0", "url": None, "title": "T0",
                                                     "text": "<!DOCTYPE html>\n<html>…", "confidence": 1.0,
                                                     "status": "ok", "error": None}) + "\n")  # --text-format html
    with pytest.raises(BatchError, match=r"html.jsonl:1: a row of html text"):
        run_batch([str(source)], options(tmp_path, "html.jsonl", resume=True))


def test_resume_leaves_a_file_that_is_no_output_where_it_was(tmp_path: Path) -> None:
    source = tmp_path / "pages.jsonl"
    numbered_jsonl(source, 2)
    notes = tmp_path / "notes.jsonl"
    notes.write_text('{"note": "mine"}\n{"note": "no newline at the end"}')
    with pytest.raises(BatchError, match="not a noiseclf output row"):
        run_batch([str(source)], options(tmp_path, "notes.jsonl", resume=True))
    assert notes.read_text() == '{"note": "mine"}\n{"note": "no newline at the end"}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.jsonl", "pages.jsonl"]


# ---------------------------------------------------------------------------------------------
# API details


def test_options_are_checked_and_summary_goes_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(InputError, match="jobs"):
        BatchOptions(jobs=0)
    with pytest.raises(InputError, match="format"):
        BatchOptions(format="pdf")  # type: ignore[arg-type]
    (tmp_path / "a.html").write_text(page("A", "One."))
    summary = run_batch([str(tmp_path / "a.html")], options(tmp_path, quiet=False))
    line = capsys.readouterr().err.strip()
    assert line == summary.line()
    assert line.startswith("noiseclf batch: 1 record (ok 1, empty 0, error 0, skipped 0) in ")
    assert line.endswith(f"records/s -> {tmp_path / 'out.jsonl'}")


def test_processor_maps_a_record_to_a_row() -> None:
    processor = RecordProcessor(FakeExtractor(), format="text")
    row = processor(Record("x", "https://ex.com", "Forced text.\n\nTwo.", "html", "f.jsonl"))
    assert row == {"path": "f.jsonl", "id": "x", "url": "https://ex.com", "title": "", "confidence": 0.75,
                   "text": "Forced text.\n\nTwo.", "status": "ok", "error": None}
    assert next(iter_records([], BatchOptions()), None) is None


def _default_model_loads() -> bool:
    try:
        from noiseclf.inference import Extractor

        Extractor.load()
        return True
    except Exception:
        return False


# A string condition is evaluated only when the test runs, not when spawned workers import this module.
@pytest.mark.skipif("not _default_model_loads()", reason="the default model cannot load yet")
def test_real_extractor_end_to_end(tmp_path: Path) -> None:
    warc = tmp_path / "real.warc.gz"
    article = page("A real article", *[f"Sentence {i} of a long article body about batch inference." * 3
                                       for i in range(8)])
    write_warc(warc, [("response", "https://ex.com/article", article.encode(), "text/html; charset=utf-8")])
    summary = run_batch([str(warc)], options(tmp_path, extractor_factory=None))
    rows = read_rows(tmp_path / "out.jsonl")
    assert summary.records == 1 and rows[0]["status"] in ("ok", "empty")
    assert 0.0 <= rows[0]["confidence"] <= 1.0
