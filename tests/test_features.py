"""Page-level features on a hand-written flattened page: repetition, truncation, markers, calls to action."""

import numpy as np

from noiseclf.features import FEATURE_NAMES, N_FEATURES, block_features
from noiseclf.segmentation import segment_html, segment_text

PAGE = """Skip to content

Lighthouse keeper's diary found in attic after ninety years

The diary, kept through the winter storms of 1934, describes nightly watches and supply boats that never came.

Historians at the county archive said the entries were written in pencil and are still easy to read today.

They plan to publish a transcript next spring, alongside photographs of the lighthouse and its keeper.

Read also:

Ferry fares to rise by a fifth from March

Operators blamed fuel costs for the increase.

Operators blamed fuel costs for the increase. Commuters on the island route said they would look for

Members Public

Sign up for our newsletter to get the day's stories in your inbox."""


def column(X, name):
    return X[:, FEATURE_NAMES.index(name)]


def test_matrix_shape_and_finiteness():
    doc = segment_text(PAGE)
    X = block_features(doc)
    assert X.shape == (len(doc.blocks), N_FEATURES) and np.isfinite(X).all()
    assert block_features(segment_html(b"")).shape == (0, N_FEATURES)


def test_teaser_repetition_truncation_and_markers():
    doc = segment_text(PAGE)
    X = block_features(doc)
    texts = [b.text for b in doc.blocks]
    line = texts.index("Operators blamed fuel costs for the increase.")
    cut = line + 1
    assert column(X, "is_prefix_of_other")[line] == 1
    assert column(X, "truncated")[cut] == 1
    assert column(X, "is_marker")[texts.index("Read also:")] == 1
    assert column(X, "is_cta")[texts.index("Skip to content")] == 1
    run = column(X, "in_marker_run")
    assert run[line] == 1 and run[cut] == 1
    assert run[texts.index(texts[2])] == 0  # article prose before the marker
    assert column(X, "cta_terms")[-1] >= 2  # newsletter, inbox
    article = [i for i, t in enumerate(texts) if t.startswith(("The diary", "Historians", "They plan"))]
    assert column(X, "topic_sim")[article].min() > column(X, "topic_sim")[texts.index("Members Public")]
    assert column(X, "title_recall")[1] == 1.0  # the headline restates the title it was taken as


def test_neighbour_repetition_context():
    X = block_features(segment_text(PAGE))
    texts = [b.text for b in segment_text(PAGE).blocks]
    headline = texts.index("Ferry fares to rise by a fifth from March")
    assert column(X, "is_prefix_of_other@-1")[headline] == 1  # the next block is a repeated teaser line
