"""The `noiseclf` command line: extract, train, evaluate, explain, info, cache."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ._version import __version__
from .types import MAX_BYTES, InputError, NoiseclfError

if TYPE_CHECKING:
    from .evaluation import CorpusReport
    from .tables import CacheEntry
    from .training import TrainConfig

class _FlagsUntyped:
    """Help that prints no type beside a flag: typer shows `<bool>` there, as if the flag took a value."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class _Group(_FlagsUntyped, typer.core.TyperGroup):
    pass


class _Command(_FlagsUntyped, typer.core.TyperCommand):
    pass


app = typer.Typer(cls=_Group, add_completion=False, no_args_is_help=True,
                  context_settings={"help_option_names": ["-h", "--help"]})


def _path(value: str) -> Path:
    """A path given on the command line; an empty one is refused, as it would name the current folder."""
    if not value:
        raise typer.BadParameter("an empty path names no file or folder")
    return Path(value)


def _path_text(value: str) -> str:
    """`_path` for a path kept as text."""
    _path(value)
    return value


def _print_version(wanted: bool) -> None:
    if wanted:
        print(f"noiseclf {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Separate the main story of web pages from their boilerplate with a trained block classifier."""


class _Console(Console):
    """A console that prints text as it is: file names and page text may hold "[/b]" or ":train:"."""

    def on_broken_pipe(self) -> None:
        """The reader went away: the command decides (finish writing its report, exit 141) where rich exits 1."""
        self.quiet = True
        raise BrokenPipeError


def _console(**kwargs) -> Console:
    return _Console(markup=False, emoji=False, **kwargs)


err = _console(stderr=True, soft_wrap=True)  # one line a message, however long its path: logs are grepped
READER_GONE = 128 + signal.SIGPIPE  # the exit status of a process that SIGPIPE ended
DEFAULT_EVALUATION = ("scrapinghub_aeb", "wcxb:test", "dragnet:test", "l3s_gn1", "cleaneval:final")
THRESHOLD_HELP = ("Keep blocks whose content probability reaches this, 0 to 1, instead of the model's own (see "
                  "`noiseclf info`): higher for precision, lower for recall.")


def _fail(exc: Exception) -> None:
    err.print(Text.assemble(("error:", "red"), f" {exc}"), highlight=False)
    raise typer.Exit(2)


def _reader_gone() -> None:
    """The reader of standard output went away (`| head`): stop quietly with the status of a process that
    SIGPIPE ended, as `cat` does, with nothing left to flush into the closed pipe."""
    _silence_stdout()
    raise typer.Exit(READER_GONE)


def _silence_stdout() -> None:
    """Send what is still to be printed nowhere: its reader went away."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _sources(specs: list[str]) -> list[tuple[str, Optional[str]]]:
    """Parse CORPUS[:SPLIT] arguments."""
    out = []
    for spec in specs:
        corpus, _, split = spec.partition(":")
        out.append((corpus, split or None))
    return out


@app.command(cls=_Command)
def extract(
    inputs: list[str] = typer.Argument(..., help="HTML/text files or folders (.gz too), JSON Lines (.jsonl, .ndjson, .json; a .json array of objects too), Parquet (.parquet), WARC/WET (.warc, .wet, .gz), or - for stdin."),
    output: Optional[str] = typer.Option(None, "--output", "-o", parser=_path_text, help="Output file (.jsonl, .jsonl.gz or .parquet); stdout if omitted."),
    output_format: Optional[str] = typer.Option(None, "--output-format", help="jsonl or parquet (default: from the suffix)."),
    format: str = typer.Option("auto", "--format", "-f", help="auto, html or text: how to read pages."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", parser=_path, help="A model file (default: the shipped models)."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help=THRESHOLD_HELP),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help="Worker processes (default: all cores; no more than the files when all inputs are page files)."),
    unordered: bool = typer.Option(False, "--unordered", help="Write rows as they finish, not in input order."),
    blocks: bool = typer.Option(False, "--blocks", help="Add every block with its label and probability."),
    text_format: str = typer.Option("text", "--text-format", "-t", help="text, markdown or html: how `text` renders."),
    content_field: str = typer.Option("html", "--content-field", help="JSON Lines field (Parquet column) holding the page."),
    id_field: str = typer.Option("id", "--id-field", help="JSON Lines field (Parquet column) holding the record id."),
    url_field: str = typer.Option("url", "--url-field", help="JSON Lines field (Parquet column) holding the URL."),
    max_bytes: int = typer.Option(MAX_BYTES, "--max-bytes", help="Records larger than this get an error row."),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds a record may take before it gets an error row (inf: no limit)."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run into the same output."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar, summary or notes."),
) -> None:
    """Extract the main text of pages, one JSON object (or Parquet row) per page or record."""
    from .batch import BatchOptions, run_batch

    if format not in ("auto", "html", "text"):
        _fail(ValueError(f"--format must be auto, html or text, not {format!r}"))
    if output_format not in (None, "jsonl", "parquet"):
        _fail(ValueError(f"--output-format must be jsonl or parquet, not {output_format!r}"))
    if text_format not in ("text", "markdown", "html"):
        _fail(ValueError(f"--text-format must be text, markdown or html, not {text_format!r}"))
    if jobs is not None and jobs < 1:
        _fail(ValueError("--jobs must be at least 1"))
    if model is not None and not model.is_file():
        missing = "a folder, not a model file" if model.is_dir() else "model file not found"
        _fail(FileNotFoundError(f"{model}: {missing}"))
    if model is not None and not quiet:
        _note_other_format(model, format)
    try:
        options = BatchOptions(output=output, output_format=output_format, format=format,
                               content_field=content_field, id_field=id_field, url_field=url_field,
                               with_blocks=blocks, text_format=text_format, jobs=jobs, unordered=unordered,
                               max_bytes=max_bytes, timeout=timeout, resume=resume, quiet=quiet,
                               model=str(model) if model else None, threshold=threshold)
        run_batch(inputs, options)
    except BrokenPipeError:
        _reader_gone()
    except (NoiseclfError, OSError) as exc:
        _fail(exc)
    _check_inputs_read(inputs, quiet)


def _check_inputs_read(inputs: Sequence[str], quiet: bool) -> None:
    """Exit with status 1 when an input named on the command line is missing or unreadable (its row says so
    and every other input has its rows), as `cat` does; a bad record inside an input is only its row."""
    unread = [path for path in inputs if path != "-" and not os.access(path, os.R_OK)]
    if unread:
        if not quiet:
            err.print(Text.assemble(("error:", "red"), f" not found or unreadable: {', '.join(unread)}"),
                      highlight=False)
        raise typer.Exit(1)


@app.command(cls=_Command)
def train(
    corpus: list[str] = typer.Option([], "--corpus", "-c", help="CORPUS[:SPLIT] to train on (repeatable; "
                                     "default wcxb:dev unless --pages is given)."),
    out: Path = typer.Option(Path("model.joblib"), "--out", "-o", parser=_path, help="Where to write the model (+ .trees.npz and .manifest.json beside it)."),
    format: str = typer.Option("html", "--format", "-f", help="html or text: the input the model will classify."),
    estimator: str = typer.Option("trees", "--estimator", help="trees (gradient boosting), forest or logistic."),
    max_iter: Optional[int] = typer.Option(None, "--max-iter", help="Boosting iterations (trees; default 120) or the size knob of others."),
    leaves: Optional[int] = typer.Option(None, "--leaves", help="Leaves a boosted tree (trees only; default 63)."),
    two_pass: bool = typer.Option(False, "--two-pass/--one-pass", help="Add a second pass over neighbours' scores."),
    limit: Optional[int] = typer.Option(None, "--limit", help="At most this many pages per corpus (quick runs)."),
    augment: float = typer.Option(0.5, "--augment", help="Share of corpus pages given synthetic teasers of other pages."),
    furniture: float = typer.Option(0.0, "--furniture", help="Share of corpus pages given a synthetic newsletter box or cookie notice."),
    inline_teasers: float = typer.Option(0.0, "--inline-teasers", help="Share of the teasers (--augment) spliced as one "
                                         "'Related: <headline>' line between the story's paragraphs."),
    related_lists: float = typer.Option(0.0, "--related-lists", help="Share of the teasers (--augment) spliced as a "
                                        "list of linked headlines inside the story's own element."),
    plain_markup: float = typer.Option(0.0, "--plain-markup", help="Share of corpus pages rewritten as older markup: "
                                       "no <nav>, <aside>, <article>... (each a <div>) and no class/id hints."),
    draws: int = typer.Option(1, "--draws", help="Augmentation draws of the training pages; each model is then one "
                              "member a draw, their scores averaged (training and scoring time grow with it)."),
    specialist: str = typer.Option("article", "--specialist", help="Page type of a specialist model blended in on "
                                   "pages a router deems of that type (needs pages that say their type, as WCXB's "
                                   "do); '' for none."),
    data: Optional[Path] = typer.Option(None, "--data", parser=_path, help="Folder holding the corpora (default $NOISECLF_DATA, else ../shared/data)."),
    user_data: list[Path] = typer.Option([], "--pages", parser=_path, help="Your labelled pages: JSON Lines of {html, text}, or HTML files marked data-noiseclf=\"content\"; files or folders (repeatable)."),
    base: Optional[Path] = typer.Option(None, "--base", parser=_path, help="A model to compare the new one with on your pages "
                                        "(the ones it trains on: the new model's figure is optimistic)."),
    cache: Optional[Path] = typer.Option(None, "--cache", parser=_path, help="Block-table cache folder."),
) -> None:
    """Train a block classifier on labelled corpora and/or your own pages."""
    from .model import DEFAULT_LEAVES, DEFAULT_TREES
    from .training import TrainConfig

    _check_train_options(format, estimator, {"--augment": (augment, "pages"), "--furniture": (furniture, "pages"),
                                             "--inline-teasers": (inline_teasers, "teasers"),
                                             "--related-lists": (related_lists, "teasers"),
                                             "--plain-markup": (plain_markup, "pages")},
                         {"--draws": (draws, 1), "--leaves": (leaves, 2), "--max-iter": (max_iter, 1),
                          "--limit": (limit, 1)})
    if leaves is not None and estimator != "trees":
        _fail(ValueError(f"--leaves sets the boosted trees' size: it does not apply to --estimator {estimator}"))
    if base is not None and not user_data:
        _fail(ValueError("--base compares the new model with the base on your pages: give them with --pages"))
    _check_train_outputs(out, user_data, base, cache, data)
    sources = _sources(corpus or ([] if user_data else ["wcxb:dev"]))
    evaluated = [test for test in _sources(list(DEFAULT_EVALUATION)) if test[0] != "scrapinghub_aeb"]  # refused
    tested = [source for source in sources if any(_overlap(source, test) for test in evaluated)]
    if tested:
        err.print(f"note: training on {_named(tested)} takes in pages that `noiseclf evaluate` tests on by default "
                  f"({_named(evaluated)}); name another split, such as wcxb:dev, to keep them held out",
                  highlight=False)
    corpus_only = [name for name, given in (("--limit", limit is not None), ("--augment", augment != 0.5),
                                            ("--furniture", furniture), ("--inline-teasers", inline_teasers),
                                            ("--related-lists", related_lists), ("--plain-markup", plain_markup),
                                            ("--draws", draws > 1)) if given]
    shaping = [name for name, share in (("--inline-teasers", inline_teasers), ("--related-lists", related_lists))
               if share]
    if shaping and not augment:
        err.print(f"note: {' and '.join(shaping)} shape the synthetic teasers that --augment adds, and --augment is 0",
                  highlight=False)
    if corpus_only and not sources:
        err.print(f"note: {', '.join(corpus_only)} {'apply' if len(corpus_only) > 1 else 'applies'} to corpus pages "
                  "(--corpus) only, not to --pages", highlight=False)
    config = TrainConfig(sources=sources, format=format, estimator=estimator,
                         max_iter=DEFAULT_TREES if max_iter is None else max_iter, leaves=leaves or DEFAULT_LEAVES,
                         two_pass=two_pass, limit=limit, augment=augment, furniture=furniture,
                         inline_teasers=inline_teasers, related_lists=related_lists, plain_markup=plain_markup,
                         draws=draws, specialist=specialist, root=data, cache_dir=cache,
                         extra_names=[str(p) for p in user_data])
    try:
        _run_training(config, out, user_data, base)
    except NoiseclfError as exc:
        _fail(exc)


def _overlap(a: tuple[Optional[str], Optional[str]], b: tuple[Optional[str], Optional[str]]) -> bool:
    """Whether two CORPUS[:SPLIT] sources share pages (no split: all of the corpus)."""
    return a[0] == b[0] and (a[1] is None or b[1] is None or a[1] == b[1])


def _named(sources: Sequence[tuple[str, Optional[str]]]) -> str:
    from .corpora import source_name

    return ", ".join(source_name(corpus, split) for corpus, split in sources)


def _check_train_options(format: str, estimator: str, shares: dict[str, tuple[float, str]],
                         counts: dict[str, tuple[Optional[int], int]]) -> None:
    """Refuse an unknown format or estimator, a share outside 0..1 (name -> (share, of what)) and a count under
    its least value (name -> (count or None, least))."""
    from .training import ESTIMATORS

    if format not in ("html", "text"):
        _fail(ValueError(f"--format must be html or text, not {format!r}"))
    if estimator not in ESTIMATORS:
        _fail(ValueError(f"--estimator must be one of {', '.join(ESTIMATORS)}"))
    for name, (share, of) in shares.items():
        if not 0.0 <= share <= 1.0:
            _fail(ValueError(f"{name} is a share of {of}, between 0 and 1, not {share}"))
    what = {"--draws": "a number of augmentation draws", "--leaves": "the number of leaves a tree may grow",
            "--max-iter": "a number of iterations", "--limit": "a number of pages per corpus"}
    for name, (count, least) in counts.items():
        if count is not None and count < least:
            _fail(ValueError(f"{name} is {what[name]}, at least {least}, not {count}"))


def _check_train_outputs(out: Path, user_data: list[Path], base: Optional[Path], cache: Optional[Path],
                         data: Optional[Path]) -> None:
    """Refuse, before any work, a model path that cannot be written or would replace an input of the run."""
    from .artifact import manifest_path, trees_path
    from .batch import same_file
    from .corpora import data_root
    from .userdata import is_page_file, page_files

    _check_writable(out)
    try:
        pages = [file for given in user_data for file in page_files(given)]
    except NoiseclfError as exc:
        _fail(exc)
    if any(same_file(out, file) for file in pages + list(user_data)):
        _fail(InputError(f"{out}: the model would overwrite pages given with --pages; name another --out"))
    if is_page_file(out) and any(given.is_dir() and out.resolve().is_relative_to(given.resolve())
                                 for given in user_data):
        _fail(InputError(f"{out}: inside a --pages folder, a file of that name would be read as pages by the "
                         "next run; name another --out"))
    if base is not None and same_file(out, base):
        _fail(InputError(f"{out}: the model would overwrite the --base model it is compared with; name another --out"))
    if out.suffix != ".joblib":  # a .trees.npz or .manifest.json of another model among them
        _fail(InputError(f"{out}: --out names a .joblib file (its .trees.npz and .manifest.json are written "
                         "beside it)"))
    written = (out, trees_path(out), manifest_path(out))
    for file in written[1:]:
        _check_writable(file)
    if any(_in_corpora(file, data) for file in written):
        _fail(InputError(f"{out}: would be written among the corpora in {data or data_root()}; name another --out"))
    if cache is not None:
        _check_writable(cache, folder=True)


def _run_training(config: TrainConfig, out: Path, user_data: list[Path], base: Optional[Path]) -> None:
    """Build your pages' tables, train, write the model, and compare it with `base` on your pages."""
    from .training import train_and_save
    from .userdata import check_base, compare_with_base, user_tables

    base_extractor = check_base(base, config.format) if base is not None else None
    if user_data:
        config.extra_tables = user_tables(user_data, format=config.format, cache_dir=config.cache_dir)
    result = train_and_save(config, out, log=lambda s: err.print(s, highlight=False))
    if base is not None:
        err.print(compare_with_base(result, base_extractor, base, user_data, config.format), highlight=False)


def _note_other_format(model: Path, format: str) -> None:
    """Say that inputs of the format `model` does not classify are read by the shipped model of theirs."""
    from .artifact import read_manifest

    try:
        made_for = read_manifest(model).format
    except NoiseclfError:
        return  # loading the model reports it
    if format != made_for:
        other = "text" if made_for == "html" else "html"
        err.print(f"note: {model} classifies {made_for} input; {other} input is read by the shipped {other} model",
                  highlight=False)


def _check_writable(path: Path, folder: bool = False) -> None:
    """Refuse an output file (or folder) that cannot be written, before any work."""
    from .batch import check_writable

    try:
        check_writable(path, folder=folder)
    except InputError as exc:
        _fail(exc)


def _check_threshold(threshold: float | None) -> None:
    """Refuse a --threshold that is no probability, before any work."""
    from .inference import checked_threshold

    try:
        checked_threshold(threshold, "threshold (--threshold)")
    except InputError as exc:
        _fail(exc)


def _check_model_format(model: Path, format: str) -> None:
    """Refuse a model of the other format: scoring would silently use the shipped model of this one."""
    from .artifact import read_manifest

    model_format = read_manifest(model).format
    if model_format != format:
        raise InputError(f"{model}: a model for {model_format} input; pass --format {model_format} to score it "
                         f"(--format {format} would score the shipped {format} model)")


def _print_table(table: Table) -> None:
    """A rich table on standard output, 200 columns wide when that is not a terminal (so rows stay whole)."""
    console = _console()
    (console if console.is_terminal else _console(width=200)).print(table)


def _print_reports(rows: list[dict]) -> None:
    """One table, corpus by system, with noiseclf's paired-bootstrap lead over each peer."""
    from rich import box

    formats = " and ".join(dict.fromkeys(r["format"] for r in rows))
    table = Table(title=f"noiseclf evaluation ({formats} input)", box=box.SIMPLE_HEAD, caption=(
        "F1/P/R: each corpus's own metric; ms: CPU per page (mean); related: L3S related-content share kept; "
        "last column: noiseclf's F1 minus the system's, 95% interval over paired page resamples, * excludes 0"))
    for header in ("corpus", "system", "metric", "F1", "P", "R", "ms", "related", "noiseclf - system"):
        table.add_column(header, justify="left" if header in ("corpus", "system", "metric") else "right", no_wrap=True)
    for i, r in enumerate(rows):
        last = i + 1 == len(rows) or rows[i + 1]["corpus"] != r["corpus"]
        numbers = [f"{r[k]:.{d}f}" if isinstance(r.get(k), float) else ""
                   for k, d in (("f1", 3), ("precision", 3), ("recall", 3), ("cpu_ms_mean", 1), ("related_kept", 3))]
        table.add_row(r["corpus"] if i == 0 or rows[i - 1]["corpus"] != r["corpus"] else "", r["system"],
                      r["metric"].removesuffix("_f1"), *numbers, r.get("noiseclf_minus_system", ""), end_section=last)
    _print_table(table)


@app.command(cls=_Command)
def evaluate(
    corpus: list[str] = typer.Option([], "--corpus", "-c", help="CORPUS[:SPLIT] to evaluate on (repeatable; default "
                                     f"{', '.join(DEFAULT_EVALUATION)} unless --pages is given)."),
    user_data: list[Path] = typer.Option([], "--pages", parser=_path, help="Your labelled pages, as train reads them (JSON Lines "
                                         "of {html, text}, or HTML files marked data-noiseclf=\"content\"; files "
                                         "or folders; repeatable), scored by word F1."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", parser=_path, help="A model file (default: the shipped models)."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help=THRESHOLD_HELP),
    format: str = typer.Option("html", "--format", "-f", help="html, or text to score on pages flattened to text."),
    limit: Optional[int] = typer.Option(None, "--limit", help="At most this many pages per corpus."),
    data: Optional[Path] = typer.Option(None, "--data", parser=_path, help="Folder holding the corpora (default $NOISECLF_DATA, else ../shared/data)."),
    report: Optional[Path] = typer.Option(None, "--report", "-r", parser=_path, help="Write the JSON report here."),
    worst: int = typer.Option(0, "--worst", help="List the N pages with the lowest score in each corpus, with kept and missed text."),
    compare: Optional[str] = typer.Option(None, "--compare", help="Peers to run on the same pages, comma-separated: "
                                          "trafilatura,readability,justext,boilerpy3,resiliparse,c4."),
    plots: Optional[Path] = typer.Option(None, "--plots", parser=_path, help="Write plots and report.md here (and the JSON, "
                                         "unless --report names it)."),
    oracle: bool = typer.Option(False, "--oracle", help="Also score the gold-labelled blocks: the segmentation's ceiling."),
    plain_markup: bool = typer.Option(False, "--plain-markup", help="Read each HTML page as older markup: no <nav>, "
                                      "<aside>, <article>... (each a <div>) and no class/id hints (noiseclf only)."),
) -> None:
    """Score a model on labelled corpora with each benchmark's own metric, beside peer extractors on the same pages."""
    from . import corpora
    from .evaluation import NoiseclfSystem, OracleSystem, worst_pages
    from .inference import Extractor
    from .peers import make_peer
    from .report import (compare_systems, corpus_label, evaluate_side_by_side, held_out_pages, summary_rows,
                         write_json, write_report)
    from .userdata import read_pages

    _check_evaluate_options(format, threshold, plain_markup, limit, worst, plots, report, model, data, user_data)
    sources = _sources(corpus or ([] if user_data else list(DEFAULT_EVALUATION)))
    peer_names = [name.strip() for name in (compare or "").split(",") if name.strip()]
    if len(set(peer_names)) < len(peer_names):
        _fail(ValueError(f"--compare names a peer twice: {', '.join(peer_names)}"))
    if oracle and any(name == "trafilatura_eval" for name, _ in sources):
        _fail(ValueError("--oracle needs a gold text, and trafilatura_eval has snippets only"))
    try:
        if model is not None:
            _check_model_format(model, format)
        extractor = (Extractor.load(model, threshold=threshold) if format == "html" else
                     Extractor.load(text_path=model, threshold=threshold))
        trained_on = [(entry["corpus"], entry.get("split")) for entry in extractor.manifests[format].training_data
                      if "corpus" in entry]
        trained_on = [used for used in trained_on if any(_overlap(used, source) for source in sources)]
        if trained_on:
            err.print(f"note: the {format} model trained on {_named(trained_on)}, pages scored here: its figures "
                      "there are not held out", highlight=False)
        corpora.check_sources(sources, data)
        page_sets = [(str(path), read_pages(path)) for path in user_data]
        peers = [make_peer(name) for name in peer_names]
        keep_texts = [name for name, _ in sources] + ["user"] if worst else ["l3s_gn1"] if plots is not None else []
        reports, pages_by = evaluate_side_by_side(
            [NoiseclfSystem(extractor, plain_markup=plain_markup), *peers, *([OracleSystem()] if oracle else [])],
            sources, format=format, limit=limit, root=data, page_sets=page_sets,
            keep_texts=keep_texts, keep_pages=plots is not None, log=lambda s: err.print(s, highlight=False))
    except NoiseclfError as exc:
        _fail(exc)
    gone = _print_or_gone(lambda: _print_reports(summary_rows(reports, compare_systems(reports))))
    extra = {"confidence": _confidence_splits(reports)}
    if worst:
        extra["worst"] = {r.corpus if r.corpus != "user" else corpus_label(r): worst_pages(r, worst)
                          for r in reports if r.system == "noiseclf"}
        gone = gone or _print_or_gone(lambda: _print_worst(extra["worst"]))
    versions = {"noiseclf": "timed with OpenMP limited to 1 thread, like the single-threaded peers"
                + ("; each page read as plain markup (--plain-markup)" if plain_markup else ""),
                **{peer.name: peer.version for peer in peers}}
    try:
        if plots is not None:
            validation = held_out_pages(pages_by, data, n=min(limit or 100, 100))
            path = write_report(reports, plots, extractor, pages_by, validation_pages=validation,
                                systems=versions, json_path=report, extra=extra)
            err.print(f"wrote {path} and {report or plots / 'report.json'}")
        elif report:
            err.print(f"wrote {write_json(reports, report, versions, extra)}")
    except OSError as exc:
        _fail(_path_error(Path(exc.filename) if exc.filename else plots or report, exc))
    if gone:
        raise typer.Exit(READER_GONE)


def _check_evaluate_options(format: str, threshold: Optional[float], plain_markup: bool, limit: Optional[int],
                            worst: int, plots: Optional[Path], report: Optional[Path], model: Optional[Path],
                            data: Optional[Path], user_data: list[Path]) -> None:
    """Refuse bad options and output paths of `evaluate` before any page is scored."""
    if format not in ("html", "text"):
        _fail(ValueError(f"--format must be html or text, not {format!r}"))
    _check_threshold(threshold)
    if plain_markup and format == "text":
        _fail(ValueError("--plain-markup rewrites HTML markup; text input has none"))
    if limit is not None and limit < 1:
        _fail(ValueError(f"--limit is a number of pages per corpus, at least 1, not {limit}"))
    if worst < 0:
        _fail(ValueError(f"--worst is a number of pages, at least 0, not {worst}"))
    if len(set(map(os.path.realpath, user_data))) < len(user_data):
        _fail(ValueError(f"--pages names the same pages twice: {', '.join(map(str, user_data))}"))
    if plots is not None:
        if plots.exists() and not plots.is_dir():
            _fail(InputError(f"{plots}: is a file, not a folder for --plots"))
        _check_writable(plots, folder=True)
    if report is not None:
        _check_writable(report)
        _check_report_target(report, model, data, plots, user_data)


def _confidence_splits(reports: Sequence[CorpusReport]) -> dict[str, dict]:
    """How well noiseclf's page confidence ranks its pages on each corpus, printed and kept for the report."""
    from .calibration import confidence_split

    splits = {f"{r.corpus}:{r.split}": confidence_split(r) for r in reports
              if r.system == "noiseclf" and any(p.confidence is not None for p in r.pages)}
    for label, split in splits.items():
        err.print(f"{label}: confidence top half minus bottom half, mean page score {split['top_minus_bottom']:+.3f}"
                  if "top_minus_bottom" in split else
                  f"{label}: confidence not measured: {split['pages']} page(s) with a {split['metric']} to rank",
                  highlight=False)
    return splits


def _print_or_gone(show: Callable[[], None]) -> bool:
    """Run `show`, which prints to standard output; True, and output silenced, when the reader went away."""
    try:
        show()
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return True
    return False


def _print_worst(worst: dict[str, list[dict]]) -> None:
    """The worst pages of each corpus with what they kept wrongly and missed; page text printed as text
    ("[/button]" in a page is not markup), a line each however narrow the terminal or pipe."""
    out = _console(soft_wrap=True)
    for rows in worst.values():
        for w in rows:
            out.print(Text(f"{w['page']} {w['score']}", style="bold"), highlight=False)
            for x in w["kept_not_gold"][:5]:
                out.print(Text(f"  + {x[:160]}", style="red"), highlight=False)
            for x in w["gold_missed"][:5]:
                out.print(Text(f"  - {x[:160]}", style="yellow"), highlight=False)


def _in_corpora(path: Path, data: Path | None) -> bool:
    """Whether `path` is (or would be written as) a corpus archive or a file inside a corpus folder under the
    corpora's folder, by its own name or by the file a link names."""
    from . import corpora

    root = data or corpora.data_root()
    held = [root / name for name in corpora.CORPORA] + [root / f"{name}.tar.gz" for name in corpora.CORPORA]
    places = {p for place in held for p in (Path(os.path.abspath(place)), place.resolve())}
    return any(named.is_relative_to(place) for named in (Path(os.path.abspath(path)), path.resolve())
               for place in places)


def _check_report_target(report: Path, model: Path | None, data: Path | None, plots: Path | None,
                         pages: Sequence[Path] = ()) -> None:
    """Refuse a --report path that is an input of the run (a model file, a corpus file, your pages) or a file
    --plots writes: the report would replace it."""
    from . import corpora
    from .batch import same_file
    from .report import REPORT_FILES

    used = next((file for file in _model_files(model) if same_file(report, file)), None)
    if used is not None:
        _fail(InputError(f"{report}: is {used}, a file of the model; give the report another name"))
    if _in_corpora(report, data):
        _fail(InputError(f"{report}: is a file of the corpora in {data or corpora.data_root()}; "
                         "give the report another name"))
    if report.exists() and any(report.resolve().is_relative_to(given.resolve()) for given in pages):
        _fail(InputError(f"{report}: is among the pages given with --pages; give the report another name"))
    if plots is not None and report.parent.resolve() == plots.resolve() and report.name in REPORT_FILES:
        _fail(InputError(f"{report}: --plots writes {report.name} there; give the report another name"))


@app.command(cls=_Command)
def explain(
    page: Path = typer.Argument(..., parser=_path, help="An HTML or text page (.gz too), or - for stdin."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", parser=_path, help="A model file (default: the shipped models)."),
    format: str = typer.Option("auto", "--format", "-f", help="auto, html or text: how to read the page."),
    html_report: Optional[Path] = typer.Option(None, "--html-report", parser=_path, help="Also write an HTML report here."),
    top: int = typer.Option(3, "--top", "-k", help="Features shown per block."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help=THRESHOLD_HELP),
) -> None:
    """Show every block with its label, probability and the features that weighed most for it."""
    import gzip
    import zlib

    from .batch import input_kind
    from .explain import explain as explain_page, rich_table, write_report as write_explanation
    from .inference import Extractor
    from .segmentation import decode_html, settle_format

    if format not in ("auto", "html", "text"):
        _fail(ValueError(f"--format must be auto, html or text, not {format!r}"))
    _check_threshold(threshold)
    if top < 1:
        _fail(ValueError("--top must be at least 1"))
    kind, suffix_format = input_kind(str(page)) or ("page", "auto")
    if kind != "page":
        _fail(_not_one_page(str(page), kind))
    if html_report is not None:
        _check_writable(html_report)
        _check_explain_report(html_report, page, model)
    if model is not None:
        _note_other_format(model, format)
    try:
        # as extract loads them: a page of the format -m does not classify goes to the shipped model of its own
        extractor = Extractor.load(model, threshold=threshold)
        stdin = str(page) == "-"
        try:
            content = sys.stdin.buffer.read() if stdin else page.read_bytes()
            if content[:2] == b"\x1f\x8b" or page.name.endswith(".gz"):
                content = gzip.decompress(content)
        except (OSError, EOFError, zlib.error) as exc:  # EOFError: a truncated .gz
            raise _path_error(page, exc) from None
        source = "-" if stdin else str(page)
        if content.lstrip().startswith(b"WARC/"):
            raise _not_one_page(source, "warc")
        if format == "auto":  # as extract reads it: the content, and the suffix where the content is not clear
            content = decode_html(content, None, source)
            format = settle_format(content, suffix_format)
        exp = explain_page(extractor, content, format=format, source=source, top=top)
    except (NoiseclfError, OSError) as exc:
        _fail(exc)
    _console().print(rich_table(exp))
    if html_report is not None:
        try:
            written = write_explanation(exp, html_report)
        except OSError as exc:
            _fail(_path_error(html_report, exc))
        err.print(f"wrote {written}", highlight=False)


def _model_files(model: Optional[Path]) -> list[Path]:
    """The files of the model a command reads: those of `model` (-m), else of the shipped models."""
    from .artifact import manifest_path, trees_path
    from .inference import default_model_path

    models = [model] if model is not None else [default_model_path(fmt) for fmt in ("html", "text")]
    return [file for path in models for file in (path, manifest_path(path), trees_path(path))]


def _check_explain_report(report: Path, page: Path, model: Optional[Path]) -> None:
    """Refuse an --html-report path that is the page explained or a file of the model (the shipped ones without
    -m): it would replace it."""
    from .batch import same_file

    inputs = [page, *_model_files(model)]
    taken = next((given for given in inputs if str(given) != "-" and same_file(report, given)), None)
    if taken is not None:
        _fail(InputError(f"{report}: is {taken}, an input of explain; give the report another name"))


def _not_one_page(source: str, kind: str) -> InputError:
    return InputError(f"{source}: explain reads one page, not a {kind.upper()} file of records; "
                      "`noiseclf extract --blocks` gives every record's blocks")


def _path_error(path: Path, exc: BaseException) -> InputError:
    """A failure to read or write `path` as an error naming it: "<path>: <reason>", no errno or repr."""
    from .batch import describe

    return InputError(f"{path}: {describe(exc)}")


@app.command(cls=_Command)
def info(model: Optional[Path] = typer.Option(None, "--model", "-m", parser=_path, help="A model file (default: shipped).")) -> None:
    """Show the manifest of a model (or of both shipped models): file, versions, features, training data,
    validation scores."""
    from dataclasses import asdict

    from .inference import Extractor

    try:
        ex = Extractor.load(model)
    except NoiseclfError as exc:
        _fail(exc)
    shown = {}
    for fmt, manifest in ex.manifests.items():
        if model is not None and ex.model_files[fmt] != model:  # the shipped model of the other format
            continue
        shown[fmt] = {"file": str(ex.model_files[fmt]), **asdict(manifest)}
        shown[fmt]["feature_names"] = f"{len(manifest.feature_names)} features"
        shown[fmt]["feature_probe"] = f"{len(manifest.feature_probe)} sums over the reference page (checked)"
    if _print_or_gone(lambda: sys.stdout.write(json.dumps(shown, indent=2) + "\n")):
        raise typer.Exit(READER_GONE)


def _bytes(n: int) -> str:
    """A size for people: 12 B, 340.0 MB, 37.2 GB."""
    size, unit = float(n), "B"
    for bigger in ("kB", "MB", "GB", "TB"):
        if size < 1000:
            break
        size, unit = size / 1000, bigger
    return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"


def _print_cache(entries: list[CacheEntry], title: str, total: str) -> None:
    """The cache entries as one table: kind, fingerprint (or the older layout's name), size, current."""
    from rich import box

    table = Table(title=title, box=box.SIMPLE_HEAD, caption=f"{total}: {_bytes(sum(e.bytes for e in entries))}")
    for header in ("kind", "fingerprint", "size", "current"):
        table.add_column(header, justify="right" if header == "size" else "left", no_wrap=True)
    for e in entries:
        table.add_row(e.kind, e.fingerprint or f"{e.path.name} (older layout)", _bytes(e.bytes),
                      "yes" if e.current else "no")
    _print_table(table)


@app.command("cache", cls=_Command)
def cache_command(
    cache: Optional[Path] = typer.Option(None, "--cache", parser=_path, help="Block-table cache folder (default: train's)."),
    prune: bool = typer.Option(False, "--prune", help="Remove the tables of other code versions than this one."),
    dry_run: bool = typer.Option(False, "--dry-run", help="With --prune: only list what would be removed."),
) -> None:
    """List the cached block tables by code version with their sizes, or prune the stale ones."""
    from .tables import DEFAULT_CACHE, cache_usage, prune_cache

    if dry_run and not prune:
        _fail(ValueError("--dry-run only applies with --prune"))
    folder = cache or DEFAULT_CACHE
    if (cache is not None or folder.exists()) and not folder.is_dir():
        _fail(InputError(f"{folder}: {'is not a folder' if folder.exists() else 'no such folder'}"))
    try:
        if not prune:
            entries, title, total = cache_usage(folder), f"block tables in {folder}", "total"
        elif dry_run:
            entries, title, total = prune_cache(folder, dry_run=True), f"stale block tables in {folder}", "would free"
        else:
            entries, title, total = prune_cache(folder), f"removed from {folder}", "freed"
    except OSError as exc:
        _fail(exc)
    if _print_or_gone(lambda: _print_cache(entries, title, total)):
        raise typer.Exit(READER_GONE)


if __name__ == "__main__":
    app()
