"""Hand-computed checks of every metric in noiseclf.metrics, edge cases included."""

from __future__ import annotations

import math

import numpy as np
import pytest

from noiseclf.metrics import (
    PRF,
    Confusion,
    SnippetCounts,
    block_counts,
    block_prf,
    mean_prf,
    paired_bootstrap,
    related_kept,
    shingle_counts,
    shingle_f1_score,
    shingle_prf,
    snippet_accuracy,
    snippet_counts,
    snippet_f1_score,
    snippet_prf,
    title_matches,
    word_prf,
)

THIRD = 1 / 3


# --- AEB shingles ---


def test_shingle_counts_one_shared_shingle_of_three() -> None:
    # gold: (a b c d), (b c d e); pred: (a b c d), (b c d x) -> tp 1, fp 1, fn 1
    assert shingle_counts("a b c d x", "a b c d e") == (THIRD, THIRD, THIRD)


def test_shingle_counts_identical_texts() -> None:
    assert shingle_counts("One, two; three four five.", "One two three four five") == (1.0, 0.0, 0.0)


def test_shingle_counts_empty_cases() -> None:
    assert shingle_counts("", "") == (0.0, 0.0, 0.0)
    assert shingle_counts("", "a b c d") == (0.0, 0.0, 1.0)
    assert shingle_counts("a b c d", "") == (0.0, 1.0, 0.0)
    assert shingle_counts("!!! ...", "— ?") == (0.0, 0.0, 0.0)


def test_shingle_counts_are_case_sensitive_and_ignore_punctuation() -> None:
    # fewer than 4 tokens: the whole token tuple is the one shingle
    assert shingle_counts("Hello world", "hello world") == (0.0, 0.5, 0.5)
    assert shingle_counts("Hello, world!", "Hello world") == (1.0, 0.0, 0.0)
    assert shingle_counts("a-b c.d", "a b c d") == (1.0, 0.0, 0.0)


def test_shingle_counts_short_text_against_long_text() -> None:
    # pred has 3 tokens -> one 3-token shingle, which never equals a 4-token gold shingle
    assert shingle_counts("a b c", "a b c d") == (0.0, 0.5, 0.5)


def test_shingle_counts_repeated_shingles_are_a_multiset() -> None:
    # gold windows: abcd, bcda, cdab, dabc, abcd -> abcd twice; pred has abcd once
    assert shingle_counts("a b c d", "a b c d a b c d") == (0.2, 0.0, 0.8)
    # and the other way round: the second abcd in pred is a false positive
    assert shingle_counts("a b c d a b c d", "a b c d") == (0.2, 0.8, 0.0)
    # both hold abcd twice: both copies match -> tp 5 (abcd x2, bcda, cdab, dabc), fn 1 (bcdx)
    assert shingle_counts("a b c d a b c d", "a b c d a b c d x") == (5 / 6, 0.0, 1 / 6)


def test_shingle_counts_unicode_words() -> None:
    assert shingle_counts("Привет, мир! 안녕하세요 세계", "Привет мир 안녕하세요 세계") == (1.0, 0.0, 0.0)
    # 2 gold shingles (Мы идём в кино, идём в кино сегодня); pred shares the first
    assert shingle_counts("Мы идём в кино", "Мы идём в кино сегодня") == (0.5, 0.0, 0.5)


def test_shingle_prf_averages_pages_like_aeb() -> None:
    pages = [(0.5, 0.5, 0.0), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0)]
    result = shingle_prf(pages)
    # precision over pages with output (1, 3, 5): 0.5, 0, 1; recall over pages with gold (1, 2, 5): 1, 0, 1
    assert result.precision == 0.5
    assert result.recall == pytest.approx(2 / 3, abs=1e-15)
    assert result.f1 == pytest.approx(4 / 7, abs=1e-15)
    assert result.n == 5


def test_shingle_prf_from_page_counts() -> None:
    pages = [shingle_counts("a b c d x", "a b c d e"), shingle_counts("", "a b c d")]
    result = shingle_prf(pages)
    assert result.precision == 0.5
    assert result.recall == 0.25
    assert result.f1 == pytest.approx(1 / 3, abs=1e-15)


def test_shingle_prf_undefined_and_zero() -> None:
    nothing = shingle_prf([(0.0, 0.0, 0.0)])
    assert math.isnan(nothing.precision) and math.isnan(nothing.recall) and math.isnan(nothing.f1)
    all_wrong = shingle_prf([(0.0, 0.5, 0.5)])
    assert (all_wrong.precision, all_wrong.recall, all_wrong.f1) == (0.0, 0.0, 0.0)


# --- WCXB words ---


def test_word_prf_lowercases_and_counts_overlap() -> None:
    result = word_prf("The cat sat", "the cat sat on the mat")
    assert (result.precision, result.recall, result.n) == (1.0, 0.5, 1)
    assert result.f1 == pytest.approx(2 / 3, abs=1e-15)


def test_word_prf_repeated_words_are_a_multiset() -> None:
    result = word_prf("the the the", "the cat")
    assert result.precision == pytest.approx(1 / 3, abs=1e-15)
    assert result.recall == 0.5
    assert result.f1 == pytest.approx(0.4, abs=1e-15)
    twice = word_prf("the the cat", "the the dog")  # a set would count "the" once
    assert (twice.precision, twice.recall) == (pytest.approx(2 / 3), pytest.approx(2 / 3))


def test_word_prf_empty_cases() -> None:
    assert word_prf("", "") == PRF(1.0, 1.0, 1.0, 1)
    assert word_prf("...", "—") == PRF(1.0, 1.0, 1.0, 1)
    assert word_prf("some words", "") == PRF(0.0, 0.0, 0.0, 1)
    assert word_prf("", "some words") == PRF(0.0, 0.0, 0.0, 1)
    assert word_prf("other", "some words") == PRF(0.0, 0.0, 0.0, 1)


def test_word_prf_unicode_words() -> None:
    assert word_prf("Привет, Мир!", "привет мир") == PRF(1.0, 1.0, 1.0, 1)
    assert word_prf("안녕하세요 세계", "안녕하세요 친구") == PRF(0.5, 0.5, 0.5, 1)


def test_mean_prf_averages_each_score() -> None:
    pages = [PRF(1.0, 0.5, 0.6, 1), PRF(0.0, 0.0, 0.0, 1), PRF(0.5, 1.0, 0.9, 1), PRF(0.5, 0.5, 0.5, 1)]
    assert mean_prf(pages) == PRF(0.5, 0.5, 0.5, 4)


def test_mean_prf_of_no_pages_is_undefined() -> None:
    result = mean_prf([])
    assert math.isnan(result.precision) and math.isnan(result.recall) and math.isnan(result.f1)
    assert result.n == 0


def test_prf_as_dict() -> None:
    assert PRF(0.25, 0.5, 1 / 3, 7).as_dict() == {"precision": 0.25, "recall": 0.5, "f1": 1 / 3, "n": 7}


# --- trafilatura snippets ---

OUTPUT = "Hello   world.\nThis is\tthe text.  "


def test_snippet_counts_normalise_whitespace_on_both_sides() -> None:
    counts = snippet_counts(OUTPUT, ["Hello world.", "is \n the   text", "missing bit"], ["This is", "footer"])
    assert counts == SnippetCounts(tp=2, fp=1, fn=1, tn=1)


def test_snippet_counts_are_case_sensitive() -> None:
    assert snippet_counts(OUTPUT, ["hello world."], ["THIS IS"]) == SnippetCounts(tp=0, fp=0, fn=1, tn=1)


def test_snippet_counts_empty_prediction() -> None:
    assert snippet_counts("", ["a", "b"], ["c"]) == SnippetCounts(tp=0, fp=0, fn=2, tn=1)


def test_snippet_counts_unicode() -> None:
    counts = snippet_counts("Это текст\u00a0статьи. 본문 내용", ["текст статьи", "본문  내용"], [])
    assert counts == SnippetCounts(tp=2, fp=0, fn=0, tn=0)


def test_snippet_prf_sums_over_pages() -> None:
    counts = [SnippetCounts(tp=2, fp=1, fn=1, tn=1), SnippetCounts(tp=1, fp=0, fn=2, tn=3)]
    # summed: tp 3, fp 1, fn 3, tn 4
    result = snippet_prf(counts)
    assert result.precision == 0.75
    assert result.recall == 0.5
    assert result.f1 == 0.6
    assert result.n == 11
    assert snippet_accuracy(counts) == pytest.approx(7 / 11, abs=1e-15)


def test_snippet_prf_with_nothing_counted() -> None:
    assert snippet_prf([]) == PRF(0.0, 0.0, 0.0, 0)
    assert snippet_prf([SnippetCounts(fn=2, tn=1)]) == PRF(0.0, 0.0, 0.0, 3)
    assert snippet_accuracy([]) == 0.0


# --- blocks ---


def test_block_counts_and_prf() -> None:
    pred = np.array([True, True, False, False, True])
    gold = np.array([True, False, True, False, True])
    assert block_counts(pred, gold) == Confusion(tp=2, fp=1, fn=1, tn=1)
    result = block_prf(pred, gold)
    assert result.precision == pytest.approx(2 / 3, abs=1e-15)
    assert result.recall == pytest.approx(2 / 3, abs=1e-15)
    assert result.f1 == pytest.approx(2 / 3, abs=1e-15)
    assert result.n == 5


def test_block_counts_accumulate_micro() -> None:
    pages = [
        block_counts(np.array([True, True]), np.array([True, False])),
        block_counts(np.array([False, False, False]), np.array([True, True, False])),
    ]
    total = sum(pages, Confusion())
    assert total == Confusion(tp=1, fp=1, fn=2, tn=1)
    assert total.prf() == PRF(0.5, 1 / 3, 0.4, 5)
    assert total.accuracy == 0.4


def test_block_prf_empty_and_mismatched() -> None:
    assert block_prf(np.array([], dtype=bool), np.array([], dtype=bool)) == PRF(0.0, 0.0, 0.0, 0)
    with pytest.raises(ValueError):
        block_prf(np.array([True]), np.array([True, False]))


# --- L3S related content kept ---


def test_related_kept_shingles_and_short_run_words() -> None:
    output = "intro Read more about cats and dogs here"
    # run 1: 3 shingles, all in the output; run 2 has 2 tokens -> 2 word units, neither in the output
    assert related_kept(output, ["Read more about cats and dogs", "Top stories"]) == (3, 5)


def test_related_kept_single_string_is_one_run() -> None:
    assert related_kept("x Read more about cats y", "Read more about cats") == (1, 1)
    # joined into one run the texts would give 5 shingles; per run there are 2
    assert related_kept("a b c d e f g h", "a b c d e f g h") == (5, 5)
    assert related_kept("a b c d e f g h", ["a b c d", "e f g h"]) == (2, 2)


def test_related_kept_is_a_multiset() -> None:
    assert related_kept("Top stories", ["Top stories", "Top stories"]) == (2, 4)
    assert related_kept("a b c d", "a b c d a b c d") == (1, 5)


def test_related_kept_empty_cases() -> None:
    assert related_kept("anything", []) == (0, 0)
    assert related_kept("anything", "") == (0, 0)
    assert related_kept("", ["a b c d e"]) == (0, 2)


def test_related_kept_unicode_and_case() -> None:
    assert related_kept("Читать также новости дня", "читать также новости дня") == (0, 1)
    assert related_kept("관련 기사 더 보기", "관련 기사") == (2, 2)


# --- paired bootstrap ---


def test_paired_bootstrap_constant_difference() -> None:
    a = np.array([0.9, 0.7, 0.5, 0.6])
    assert paired_bootstrap(a, a - 0.5) == pytest.approx((0.5, 0.5, 0.5), abs=1e-12)
    assert paired_bootstrap(a, a) == (0.0, 0.0, 0.0)


def test_paired_bootstrap_interval_and_determinism() -> None:
    rng = np.random.default_rng(1)
    a = rng.random(200)
    b = a - 0.1 + rng.normal(0, 0.05, 200)
    mean, low, high = paired_bootstrap(a, b, n=500, seed=3)
    assert mean == pytest.approx(float(np.mean(a - b)), abs=1e-15)
    assert low < mean < high
    assert 0.05 < low and high < 0.15
    assert paired_bootstrap(a, b, n=500, seed=3) == (mean, low, high)
    assert paired_bootstrap(a, b, n=500, seed=4) != (mean, low, high)


def test_paired_bootstrap_of_a_corpus_score_centres_on_the_difference_of_the_scores() -> None:
    rng = np.random.default_rng(2)
    a = rng.dirichlet(np.ones(3), 120)  # per-page (tp, fp, fn), normalised as shingle_counts gives them
    b = rng.dirichlet(np.ones(3), 120)
    a[:10] = (0.0, 0.0, 1.0)  # pages with no output: left out of the mean precision, not scored 0
    b[10:30] = (0.0, 0.0, 1.0)
    diff, low, high = paired_bootstrap(a, b, n=500, seed=1, statistic=shingle_f1_score)
    expected = shingle_prf([tuple(r) for r in a]).f1 - shingle_prf([tuple(r) for r in b]).f1
    assert diff == pytest.approx(expected, abs=1e-12) and low < diff < high
    per_page = 2 * a[:, 0] / (2 * a[:, 0] + a[:, 1] + a[:, 2]) - 2 * b[:, 0] / (2 * b[:, 0] + b[:, 1] + b[:, 2])
    assert abs(per_page.mean() - expected) > 0.01  # the mean page F1 is another figure
    ours, theirs = rng.integers(0, 4, (2, 50, 3)).astype(float)  # per-page snippet (tp, fp, fn)
    diff, _, _ = paired_bootstrap(ours, theirs, n=50, statistic=snippet_f1_score)
    f1 = [snippet_prf([SnippetCounts(*map(int, r), 0) for r in t]).f1 for t in (ours, theirs)]
    assert diff == pytest.approx(f1[0] - f1[1], abs=1e-12) and diff != 0


def test_paired_bootstrap_rejects_unpaired_input() -> None:
    with pytest.raises(ValueError):
        paired_bootstrap(np.array([1.0, 2.0]), np.array([1.0]))
    with pytest.raises(ValueError):
        paired_bootstrap(np.array([]), np.array([]))


def test_a_title_matches_ignoring_case_spaces_quotes_and_dash_kinds() -> None:
    assert title_matches("We’ve  compiled the TOP 7 – agencies", "We've compiled the top 7 - agencies")
    assert not title_matches("What is cloud computing? | Google Cloud", "What is cloud computing?")
    assert not title_matches("", "A title")
