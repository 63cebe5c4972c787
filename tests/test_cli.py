"""The command line through typer's CliRunner: extract, info, train/evaluate argument errors."""

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import noiseclf
from noiseclf.cli import app

runner = CliRunner()

ARTICLE = """<html><head><title>Night trains return to the valley | Valley Post</title></head><body>
<nav><a href="/">Home</a> <a href="/trains">Trains</a> <a href="/contact">Contact</a></nav>
<main><article><h1>Night trains return to the valley</h1>
<p>After a pause of eleven years, the overnight service between the two valley towns runs again from
Friday, the regional transport office confirmed on Tuesday afternoon.</p>
<p>The trains leave at ten in the evening and arrive shortly after six, stopping at four stations on
the way, and sleeping cars can be booked from next week onwards.</p>
<p>Local businesses expect more weekend visitors, while commuters hope the timetable will add an early
morning connection in the spring, when the track works are finished.</p></article></main>
<footer><a href="/privacy">Privacy</a> <a href="/terms">Terms</a> © 2026 Valley Post</footer></body></html>"""


def rows(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_extract_writes_one_json_line_per_page(tmp_path, tiny_model):
    page = tmp_path / "night-trains.html"
    page.write_text(ARTICLE)
    gz = tmp_path / "copy.html.gz"
    gz.write_bytes(gzip.compress(ARTICLE.encode()))
    result = runner.invoke(app, ["extract", str(page), str(gz), "--model", str(tiny_model), "-j", "1", "-q"])
    assert result.exit_code == 0, result.output
    out = rows(result.stdout)
    assert [r["path"] for r in out] == [str(page), str(gz)]
    for r in out:
        assert r["status"] == "ok"
        assert "overnight service between the two valley towns" in r["text"]
        assert "Privacy" not in r["text"]
        assert "Night trains return" in r["title"]
    assert "note:" not in result.stderr
    same = runner.invoke(app, ["extract", str(page), "--model", str(tiny_model), "-f", "html", "-j", "1"])
    assert same.exit_code == 0 and "note:" not in same.stderr
    for fmt in ("auto", "text"):  # an html model: text input goes to the shipped text model, and that is said
        said = runner.invoke(app, ["extract", str(page), "--model", str(tiny_model), "-f", fmt, "-j", "1"])
        assert (f"note: {tiny_model} classifies html input; text input is read by the shipped text model"
                in " ".join(said.stderr.split()))


def test_extract_and_explain_at_a_threshold_of_their_own(tmp_path, tiny_model):
    page = tmp_path / "night-trains.html"
    page.write_text(ARTICLE)
    texts = []
    for extra in ([], ["--threshold", "0"], ["--threshold", "1"]):
        result = runner.invoke(app, ["extract", str(page), "--model", str(tiny_model), "-j", "1", "-q", *extra])
        assert result.exit_code == 0, result.output
        texts.append(rows(result.stdout)[0]["text"])
    assert "Privacy" not in texts[0] and "Privacy" in texts[1] and texts[1].startswith("Home")
    assert texts[2] == ""  # no block is that sure
    explained = runner.invoke(app, ["explain", str(page), "--model", str(tiny_model), "--threshold", "0"])
    assert explained.exit_code == 0, explained.output
    assert "kept at threshold 0;" in " ".join(explained.stdout.split())


def test_extract_as_markdown_keeps_a_feature_matrix_s_marks_and_a_nested_table_s_row(tmp_path, tiny_model):
    page = tmp_path / "plans.html"
    page.write_text("<table><tr><th>Feature</th><th>Free</th><th>Pro</th></tr><tr><td>Backups</td><td>\u2713</td>"
                    "<td>\u2713</td></tr><tr><td>Sync</td><td>\u2717</td><td><table><tr><td>Desktop</td><td>\u2713</td>"
                    "</tr><tr><td>Phone</td><td>\u2717</td></tr></table></td></tr></table>", encoding="utf-8")
    result = runner.invoke(app, ["extract", str(page), "--model", str(tiny_model), "-j", "1", "-q", "--threshold", "0",
                                 "-t", "markdown"])
    assert result.exit_code == 0, result.output
    assert rows(result.stdout)[0]["text"] == ("| Feature | Free | Pro |\n| --- | --- | --- |\n"
                                              "| Backups | \u2713 | \u2713 |\n"
                                              "| Sync | \u2717 | Desktop, \u2713; Phone, \u2717 |")


def test_explain_reads_a_file_as_extract_does(tmp_path, tiny_model):
    page = tmp_path / "lines.html"  # lines of a page separated by <br>: HTML by its suffix, text by a sniff alone
    page.write_text("<br>\n".join(["Night trains return to the valley"] + ARTICLE.split("<p>")[1:3]) + "<br>")
    extracted = runner.invoke(app, ["extract", str(page), "--model", str(tiny_model), "-j", "1", "-q", "--blocks"])
    explained = runner.invoke(app, ["explain", str(page), "--model", str(tiny_model)])
    assert extracted.exit_code == explained.exit_code == 0, explained.output
    assert {b["tag"] for b in rows(extracted.stdout)[0]["blocks"]} == {"body"}
    assert " body " in explained.stdout and " line " not in explained.stdout


def test_extract_keeps_a_row_for_every_bad_input(tmp_path, tiny_model):
    good = tmp_path / "good.html"
    good.write_text(ARTICLE)
    empty = tmp_path / "empty.html"
    empty.write_text("")
    binary = tmp_path / "binary.html"
    binary.write_bytes(bytes(range(256)) * 50)
    missing = tmp_path / "missing.html"
    out_file = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["extract", str(good), str(empty), str(binary), str(missing),
                                 "--model", str(tiny_model), "-j", "1", "-q", "-o", str(out_file)])
    assert result.exit_code == 1 and result.output == "", result.output  # a named input missing: status 1, quietly
    out = {r["path"]: r for r in rows(out_file.read_text())}
    assert out[str(good)]["status"] == "ok"
    assert out[str(empty)]["status"] == "empty"
    assert out[str(binary)]["status"] == "error" and "binary" in out[str(binary)]["error"]
    assert out[str(missing)]["status"] == "error" and "missing.html" in out[str(missing)]["error"]
    read = runner.invoke(app, ["extract", str(good), str(empty), str(binary), "--model", str(tiny_model), "-j", "1"])
    assert read.exit_code == 0 and "error:" not in read.stderr  # bad content is its row's error, not the run's
    unread = runner.invoke(app, ["extract", str(good), str(missing), "--model", str(tiny_model), "-j", "1"])
    assert unread.exit_code == 1 and f"error: not found or unreadable: {missing}" in unread.stderr


@pytest.mark.parametrize("args, message", [
    (["extract", "x.html", "--format", "pdf"], "--format must be auto, html or text"),
    (["extract", "x.html", "--jobs", "0"], "--jobs must be at least 1"),
    (["extract", "x.html", "--model", "nowhere.joblib"], "nowhere.joblib: model file not found"),
    (["extract", "x.html", "--max-bytes", "0"], "max_bytes (--max-bytes) must be a positive whole number of bytes (or None), not 0"),
    (["extract", "x.html", "--max-bytes", "-5"], "max_bytes (--max-bytes) must be a positive whole number of bytes (or None), not -5"),
    (["extract", "x.html", "--timeout", "0"], "timeout (--timeout) must be positive and at most 1e+08 s"),
    (["extract", "x.html", "--timeout", "-1"], "(or inf, or None, for no limit), not -1"),
    (["extract", "x.html", "--timeout", "nan"], "(or inf, or None, for no limit), not nan"),
    (["extract", "x.html", "--timeout", "1e10"], "at most 1e+08 s (or inf, or None, for no limit), not 10000000000.0"),
    (["extract", "x.html", "--resume"], "resume (--resume) needs an output file"),
    (["extract", "x.html", "-o", "/proc/nope/x.jsonl"], "/proc/nope/x.jsonl: cannot write there"),
    (["train", "--format", "xml"], "--format must be html or text"),
    (["train", "--estimator", "magic"], "--estimator must be one of"),
    (["train", "--corpus", "scrapinghub_aeb", "--out", "x.joblib"], "held-out test set"),
    (["train", "--furniture", "1.5"], "--furniture is a share of pages, between 0 and 1"),
    (["train", "--augment", "-0.1"], "--augment is a share of pages, between 0 and 1"),
    (["train", "--inline-teasers", "2"], "--inline-teasers is a share of teasers, between 0 and 1"),
    (["train", "--related-lists", "1.5"], "--related-lists is a share of teasers, between 0 and 1"),
    (["train", "--plain-markup", "-0.5"], "--plain-markup is a share of pages, between 0 and 1"),
    (["evaluate", "--format", "text", "--plain-markup"], "--plain-markup rewrites HTML markup; text input has none"),
    (["train", "--draws", "0"], "--draws is a number of augmentation draws, at least 1"),
    (["train", "--leaves", "1"], "--leaves is the number of leaves a tree may grow, at least 2"),
    (["evaluate", "--corpus", "nosuchcorpus", "--model", "nowhere.joblib"], "nowhere.joblib"),
    (["extract", "x.html", "--model", "[/b]nowhere[x].joblib"], "[/b]nowhere[x].joblib: model file not found"),
    (["train", "--max-iter", "0"], "--max-iter is a number of iterations, at least 1, not 0"),
    (["train", "--max-iter", "-3"], "--max-iter is a number of iterations, at least 1, not -3"),
    (["train", "--limit", "0"], "--limit is a number of pages per corpus, at least 1, not 0"),
    (["train", "--limit", "-1"], "--limit is a number of pages per corpus, at least 1, not -1"),
    (["train", "-c", "nosuch", "--limit", "5"], "unknown corpus 'nosuch'"),
    (["train", "-c", "wcxb:bogus"], "corpus 'wcxb' has no split 'bogus'"),
    (["train", "--data", "/nonexistent"], "corpus 'wcxb' missing: neither /nonexistent/wcxb nor"),
    (["train", "-c", "wcxb:dev", "-c", "wcxb:dev", "--data", "/nonexistent"], "wcxb:dev is given twice"),
    (["train", "-c", "cleaneval", "-c", "cleaneval:final", "--data", "/nonexistent"],
     "cleaneval and cleaneval:final hold the same pages"),
    (["train", "--base", "b.joblib"], "--base compares the new model with the base on your pages: give them"),
    (["train", "-o", "/proc/nope/m.joblib"], "/proc/nope/m.joblib: cannot write there"),
    (["train", "-o", "other.manifest.json"], "other.manifest.json: --out names a .joblib file"),
    (["train", "-o", ""], "an empty path names no file or folder"),
    (["evaluate", "--limit", "0"], "--limit is a number of pages per corpus, at least 1, not 0"),
    (["evaluate", "--limit", "-1"], "--limit is a number of pages per corpus, at least 1, not -1"),
    (["evaluate", "--worst", "-1"], "--worst is a number of pages, at least 0, not -1"),
    (["evaluate", "--plots", "/proc/nope"], "/proc/nope: cannot write there"),
    (["info", "-m", "/"], "/: a folder, not a model file"),
    (["extract", "x.html", "-m", "/"], "/: a folder, not a model file"),
    (["info", "-m", str(Path(__file__).parents[1] / "artifacts" / "default-html.trees.npz")],
     "a model's .trees.npz file; name the model's .joblib file"),
    (["evaluate", "--oracle", "-c", "trafilatura_eval"], "--oracle needs a gold text, and trafilatura_eval has"),
    (["extract", "x.html", "--threshold", "1.5"], "threshold (--threshold) must be a number from 0 to 1"),
    (["evaluate", "--threshold", "-0.2"], "threshold (--threshold) must be a number from 0 to 1"),
    (["explain", "x.html", "--threshold", "nan"], "threshold (--threshold) must be a number from 0 to 1"),
])
def test_bad_arguments_exit_2_with_a_clear_message(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_an_error_naming_a_long_path_is_one_line():
    model = "/tmp/" + "a-folder-with-a-long-name/" * 6 + "nowhere.joblib"
    result = runner.invoke(app, ["extract", "x.html", "--model", model])
    assert result.exit_code == 2
    assert result.stderr == f"error: {model}: model file not found\n"


def test_extract_refuses_a_folder_as_output_before_any_work(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(ARTICLE)
    folder = tmp_path / "out"
    folder.mkdir()
    result = runner.invoke(app, ["extract", str(page), "-o", str(folder), "-j", "1", "-q"])
    assert result.exit_code == 2
    assert f"{folder}: is a folder, not an output file" in " ".join(result.output.split())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "page.html"]  # no partial file left


def test_info_shows_the_manifest(tiny_model):
    result = runner.invoke(app, ["info", "--model", str(tiny_model)])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert list(shown) == ["html"]  # the given model's alone, not the shipped text model beside it
    manifest = shown["html"]
    assert manifest["file"] == str(tiny_model) and manifest["format"] == "html"
    assert len(manifest["model_sha256"]) == 64 and manifest["feature_names"].endswith("features")
    shipped = json.loads(runner.invoke(app, ["info"]).stdout)
    assert {fmt: Path(m["file"]).name for fmt, m in shipped.items()} == {
        "html": "default-html.joblib", "text": "default-text.joblib"}


def test_version_and_short_help():
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.stdout.strip() == f"noiseclf {noiseclf.__version__}"
    assert runner.invoke(app, ["extract", "-h"]).exit_code == 0


@pytest.mark.parametrize("command", ["extract", "train", "evaluate", "explain", "info", "cache"])
def test_help_prints_no_value_type_beside_a_flag(command):
    """typer would print `<bool>` beside --quiet, --help and the like, as if they took a value."""
    result = runner.invoke(app, [command, "-h"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "--help" in result.output and "<bool>" not in result.output


@pytest.mark.parametrize("args", [
    ["extract", "-o", "", "page.html"], ["extract", "-m", "", "page.html"], ["train", "--out", ""],
    ["train", "--pages", ""], ["train", "--data", ""], ["train", "--cache", ""], ["evaluate", "--plots", ""],
    ["evaluate", "--report", ""], ["explain", ""], ["info", "-m", ""], ["cache", "--cache", ""],
])
def test_an_empty_path_is_refused_not_read_as_the_current_folder(tmp_path, monkeypatch, args):
    """`--pages ''` trained on the pages of the current folder and `--plots ''` wrote into it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "page.html").write_text(ARTICLE)
    result = runner.invoke(app, args, terminal_width=200)
    assert result.exit_code == 2, result.output
    assert "an empty path names no file or folder" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]


def tampered(tmp_path, tiny_model):
    copy = tmp_path / "m.joblib"
    data = bytearray(tiny_model.read_bytes())
    data[-10] ^= 0x55
    copy.write_bytes(bytes(data))
    (tmp_path / "m.manifest.json").write_text(tiny_model.with_suffix(".manifest.json").read_text())
    return copy


def test_info_refuses_a_tampered_model(tmp_path, tiny_model):
    result = runner.invoke(app, ["info", "--model", str(tampered(tmp_path, tiny_model))])
    assert result.exit_code == 2
    assert "sha256" in result.output and "m.joblib" in " ".join(result.output.split())


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_extract_refuses_a_tampered_model_with_workers_even_without_records(tmp_path, tiny_model, jobs):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = runner.invoke(app, ["extract", str(empty), "-m", str(tampered(tmp_path, tiny_model)), "-j", jobs,
                                 "-q", "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 2
    assert "sha256" in result.output and not (tmp_path / "out.jsonl").exists()


def test_train_refuses_an_output_it_cannot_write_before_training(tmp_path):
    (tmp_path / "afile").write_text("")
    (tmp_path / "folder").mkdir()
    for out, message in ((tmp_path / "folder", "is a folder, not an output file"),
                         (tmp_path / "afile" / "m.joblib", "part of the path is a file, not a folder")):
        result = runner.invoke(app, ["train", "-o", str(out), "--data", str(tmp_path / "no-data")])
        assert result.exit_code == 2 and f"{out}: " in result.output and message in " ".join(result.output.split())


def test_evaluate_refuses_a_file_as_the_plots_folder_before_evaluating(tmp_path):
    (tmp_path / "afile").write_text("")
    result = runner.invoke(app, ["evaluate", "--plots", str(tmp_path / "afile"), "--data", str(tmp_path / "none")])
    assert result.exit_code == 2 and "is a file, not a folder for --plots" in " ".join(result.output.split())


def test_extract_into_a_pipe_its_reader_closed_stops_quietly(tiny_model, tmp_path):
    for i in range(40):  # rows with their blocks: far more than a pipe holds
        (tmp_path / f"page{i}.html").write_text(ARTICLE)
    command = [sys.executable, "-m", "noiseclf.cli", "extract", str(tmp_path), "--model", str(tiny_model),
               "--blocks", "-j", "1", "-q"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(100).startswith(b'{"path": ')
    proc.stdout.close()  # as `| head -c 100` does
    assert proc.stderr.read() == b""
    assert proc.wait(timeout=300) == 141  # 128 + SIGPIPE, as the shell reports `cat` stopped so


@pytest.mark.parametrize("command", [["info"], ["cache"]])
def test_info_and_cache_into_a_closed_pipe_stop_quietly(command, tmp_path):
    env = {**os.environ, "NOISECLF_CACHE": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "noiseclf.cli", *command], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    proc.stdout.close()  # the reader is gone before a line is written
    assert proc.stderr.read() == b""
    assert proc.wait(timeout=300) == 141


def test_an_empty_cache_variable_means_the_default_cache_not_the_current_folder(tmp_path):
    env = {**os.environ, "NOISECLF_CACHE": "", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", "from noiseclf.tables import DEFAULT_CACHE; print(DEFAULT_CACHE)"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    assert done.stdout.strip() == str(tmp_path / ".cache" / "noiseclf")


def test_train_refuses_an_out_among_the_corpora(tmp_path):
    data = tmp_path / "data"
    (data / "wcxb").mkdir(parents=True)
    (data / "wcxb" / "metadata.json").write_text("{}")
    elsewhere = tmp_path / "dragnet-copy"  # a corpus folder linked into the data folder
    elsewhere.mkdir()
    (data / "dragnet").symlink_to(elsewhere)
    for out in (data / "wcxb" / "mine.joblib", elsewhere / "x.joblib"):
        result = runner.invoke(app, ["train", "--data", str(data), "--limit", "5", "-o", str(out)])
        assert result.exit_code == 2 and f"would be written among the corpora in {data}" in result.stderr
    assert sorted(p.name for p in (data / "wcxb").iterdir()) == ["metadata.json"] and not any(elsewhere.iterdir())
    beside = runner.invoke(app, ["train", "--data", str(data), "--limit", "5",  # data/m.joblib, by way of ".."
                                 "-o", str(data / "wcxb" / ".." / "m.joblib")])
    assert "among the corpora" not in beside.stderr


def test_training_or_scoring_on_pages_the_model_is_tested_or_trained_on_is_noted(tmp_path):
    trained = runner.invoke(app, ["train", "-c", "wcxb", "-c", "dragnet:train", "--data", str(tmp_path),
                                  "-o", str(tmp_path / "m.joblib")])
    assert ("note: training on wcxb takes in pages that `noiseclf evaluate` tests on by default"
            in " ".join(trained.stderr.split()))
    assert "dragnet:train" not in trained.stderr.split("note:")[1].split(";")[0]
    scored = runner.invoke(app, ["evaluate", "-c", "wcxb:dev", "-c", "dragnet:test", "--data", str(tmp_path)])
    assert "note: the html model trained on wcxb:dev, pages scored here" in " ".join(scored.stderr.split())
    held_out = runner.invoke(app, ["evaluate", "-c", "wcxb:test", "--data", str(tmp_path)])
    assert "note:" not in held_out.stderr
    idle = runner.invoke(app, ["train", "--augment", "0", "--inline-teasers", "0.5", "--data", str(tmp_path),
                               "-o", str(tmp_path / "m.joblib")])
    assert "note: --inline-teasers shape the synthetic teasers that --augment adds, and --augment is 0" in idle.stderr
