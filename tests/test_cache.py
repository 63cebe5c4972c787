"""The block-table cache a code version: tables kept per fingerprint, `noiseclf cache` to list and prune them."""

from __future__ import annotations

from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits
from typer.testing import CliRunner

from noiseclf.cli import app
from noiseclf.tables import cache_usage, code_fingerprint, prune_cache
from noiseclf.userdata import user_tables

JSONL = Path(__file__).parent / "fixtures" / "pages.jsonl"
STALE = "0123456789abcdef"  # a fingerprint of some other code
OLD_KEY = "0f" * 12  # a user table of the older layout: its 24-digit key straight under user-tables/
runner = CliRunner()


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """A cache holding a current user table built for real, stale tables and other files of the cache root."""
    folder = tmp_path / "cache"
    with threadpool_limits(limits=1, user_api="openmp"):
        user_tables([JSONL], cache_dir=folder)
    (folder / "tables" / STALE / "generator").mkdir(parents=True)
    (folder / "tables" / STALE / "generator" / "data.arrow").write_bytes(b"x" * 3000)
    (folder / "user-tables" / OLD_KEY).mkdir()
    (folder / "user-tables" / OLD_KEY / "data.arrow").write_bytes(b"y" * 500)
    (folder / "tables" / "stray.lock").write_text("")
    (folder / "models").mkdir()
    (folder / "models" / "mine.joblib").write_bytes(b"z")
    (folder / "notes.txt").write_text("mine")
    return folder


def _names(entries) -> set[tuple[str, str]]:
    return {(e.kind, e.path.name) for e in entries}


def test_user_tables_live_in_the_current_code_s_folder(cache: Path) -> None:
    table, = user_tables([JSONL], cache_dir=cache)
    assert Path(table.cache_files[0]["filename"]).is_relative_to(cache / "user-tables" / code_fingerprint())


def test_usage_lists_every_entry_with_its_size_and_whether_it_is_current(cache: Path) -> None:
    entries = {(e.kind, e.path.name): e for e in cache_usage(cache)}
    assert set(entries) == {("user-tables", code_fingerprint()), ("tables", STALE),
                            ("user-tables", OLD_KEY), ("tables", "stray.lock")}
    current = entries["user-tables", code_fingerprint()]
    assert current.current and current.fingerprint == code_fingerprint() and current.bytes > 1000
    assert entries["tables", STALE].bytes == 3000 and not entries["tables", STALE].current
    assert entries["user-tables", OLD_KEY].fingerprint is None and entries["user-tables", OLD_KEY].bytes == 500


def test_a_missing_cache_has_nothing_to_list_or_prune(tmp_path: Path) -> None:
    assert cache_usage(tmp_path / "none") == [] and prune_cache(tmp_path / "none") == []
    assert not (tmp_path / "none").exists()


def test_cache_command_lists_the_entries_and_their_total(cache: Path) -> None:
    result = runner.invoke(app, ["cache", "--cache", str(cache)])
    assert result.exit_code == 0, result.output
    for name in (code_fingerprint(), STALE, OLD_KEY + " (older layout)", "3.0 kB"):
        assert name in result.stdout
    assert "total:" in result.stdout


def test_dry_run_removes_nothing(cache: Path) -> None:
    before = sorted(cache.rglob("*"))
    result = runner.invoke(app, ["cache", "--cache", str(cache), "--prune", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert STALE in result.stdout and "would free: 3.5 kB" in result.stdout
    assert code_fingerprint() not in result.stdout
    assert sorted(cache.rglob("*")) == before


def test_prune_removes_the_stale_tables_and_keeps_the_current_and_everything_else(cache: Path) -> None:
    kept, = user_tables([JSONL], cache_dir=cache)
    result = runner.invoke(app, ["cache", "--cache", str(cache), "--prune"])
    assert result.exit_code == 0, result.output
    assert "freed: 3.5 kB" in result.stdout
    assert _names(cache_usage(cache)) == {("user-tables", code_fingerprint())}
    assert (cache / "notes.txt").read_text() == "mine" and (cache / "models" / "mine.joblib").is_file()
    again, = user_tables([JSONL], cache_dir=cache)  # read back from the kept table, not rebuilt
    assert again.cache_files[0]["filename"] == kept.cache_files[0]["filename"]
    assert prune_cache(cache) == []


def test_dry_run_needs_prune(cache: Path) -> None:
    before = sorted(cache.rglob("*"))
    result = runner.invoke(app, ["cache", "--cache", str(cache), "--dry-run"])
    assert result.exit_code == 2
    assert "--dry-run only applies with --prune" in result.output
    assert sorted(cache.rglob("*")) == before


@pytest.mark.parametrize("module", ["segmentation", "features", "labelling", "types"])
def test_tables_of_other_code_are_another_version(tmp_path, monkeypatch, module):
    import importlib

    stage = importlib.import_module(f"noiseclf.{module}")
    before = code_fingerprint()
    edited = tmp_path / f"{module}.py"
    edited.write_text(Path(stage.__file__).read_text(encoding="utf-8") + "\n# another hint word\n", encoding="utf-8")
    monkeypatch.setattr(stage, "__file__", str(edited))
    assert code_fingerprint() != before


def test_prune_never_follows_a_linked_kind_folder(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / STALE).mkdir(parents=True)
    (elsewhere / "important.txt").write_text("keep me")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "tables").symlink_to(elsewhere)
    result = runner.invoke(app, ["cache", "--cache", str(tmp_path / "cache"), "--prune"])
    assert result.exit_code == 0, result.output
    assert (elsewhere / "important.txt").read_text() == "keep me" and (elsewhere / STALE).is_dir()


def test_prune_keeps_files_that_are_not_noiseclf_s(cache: Path) -> None:
    (cache / "tables" / "notes.txt").write_text("mine")
    (cache / "user-tables" / "my-pages").mkdir()
    assert ("tables", "notes.txt") not in _names(cache_usage(cache))
    prune_cache(cache)
    assert (cache / "tables" / "notes.txt").read_text() == "mine" and (cache / "user-tables" / "my-pages").is_dir()
    assert not (cache / "tables" / "stray.lock").exists() and not (cache / "user-tables" / OLD_KEY).exists()


@pytest.mark.parametrize("make, message", [(lambda p: None, "no such folder"),
                                           (lambda p: p.write_text("x"), "is not a folder")])
def test_cache_command_names_a_cache_that_is_not_a_folder(tmp_path: Path, make, message: str) -> None:
    make(tmp_path / "c")
    result = runner.invoke(app, ["cache", "--cache", str(tmp_path / "c"), "--prune"])
    assert result.exit_code == 2 and f"{tmp_path / 'c'}: {message}" in " ".join(result.output.split())
