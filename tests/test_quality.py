"""Quality floors of the shipped default models on the real corpora (run where ../shared/data exists).

The floors sit a little under the figures measured with `noiseclf evaluate` (see README), so a
regression in segmentation, features or the models fails CI while noise does not.
"""

import pytest

from noiseclf import corpora
from noiseclf.evaluation import NoiseclfSystem, evaluate

pytestmark = pytest.mark.corpus

# (corpus, split, format) -> {summary key: floor}; "related_kept" is a ceiling.
FLOORS = {
    ("scrapinghub_aeb", "test", "html"): {"shingle_f1": 0.95},  # measured 0.970 (round 35)
    ("wcxb", "test", "html"): {"word_f1": 0.885},  # 0.906
    ("dragnet", "test", "html"): {"shingle_f1": 0.875},  # 0.891
    ("l3s_gn1", "all", "html"): {"shingle_f1": 0.93},  # 0.948
    ("cleaneval", "final", "html"): {"shingle_f1": 0.90},  # 0.913 (its gold counts reader comments, which the thread rule drops)
    ("scrapinghub_aeb", "test", "text"): {"shingle_f1": 0.89},  # 0.917
    ("wcxb", "test", "text"): {"word_f1": 0.825},  # 0.845
    ("l3s_gn1", "all", "text"): {"shingle_f1": 0.91},  # 0.934
}
# Related content kept moves by several points between retrains (24-35% for the html model over
# one earlier session's candidates; 20.1%, 24.6% and 22.9% for the three text models before the
# inline teasers, trained on the same pages, 17.8% with them). The html model's fell to 15.5% when a
# repeated text stopped making a teaser box the main element, was 18.0% with the next retrain (its
# threshold 0.425 -> 0.4), and is 12.9% since the page's topic is weighed on its prose (six pages'
# lists of linked headlines and footnotes dropped or cut), and 15.0% since a share of the training pages
# is read in plain markup (round 22); 11.4% since a share of the training teasers is a list of other
# stories' linked headlines inside the story (round 28; 18.0% for the same command without them), 10.2%
# since more list headings and "Previous story:" lines are section markers (round 29; the text model's
# 17.6% -> 14.6%), 9.5% since "Related links"-type headings and "Read article:" lines are too (round 31;
# the text model's 14.6% -> 11.7%), 7.5% with half of the html model's teasers drawn as such lists, and
# 9.3% with 240 trees a member (round 32; the text model's 11.1%), 9.2% with round 34's main element and 8.3%
# since more list headings ("Editor's choice", "Trending stories", "Around the web"...) are section markers
# (round 35; the text model's 11.1% -> 10.0%). What is left is mostly numbered references, a box of other
# stories' teasers and previous/next story lines.
CEILINGS = {
    ("l3s_gn1", "all", "html"): {"related_kept": 0.11},  # measured 0.083
    ("l3s_gn1", "all", "text"): {"related_kept": 0.16},  # 0.100
}


@pytest.fixture(scope="module")
def system(default_extractor):
    return NoiseclfSystem(default_extractor)


@pytest.mark.parametrize("corpus, split, fmt", sorted(set(FLOORS) | set(CEILINGS)))
def test_default_model_meets_its_floor(system, corpus, split, fmt):
    if not corpora.corpus_available(corpus):
        pytest.skip(f"{corpus} not found under {corpora.data_root()}")
    summary = evaluate(system, corpus, split, format=fmt).summary
    for key, floor in FLOORS.get((corpus, split, fmt), {}).items():
        assert summary[key] >= floor, f"{corpus}/{split} {fmt}: {key} {summary[key]} < floor {floor}"
    for key, ceiling in CEILINGS.get((corpus, split, fmt), {}).items():
        assert summary[key] <= ceiling, f"{corpus}/{split} {fmt}: {key} {summary[key]} > ceiling {ceiling}"
