"""Training-data augmentation: teaser sections of other pages spliced into a page."""

import numpy as np

from noiseclf.augment import (INLINE, LIST_MARKERS, MARKERS, SEMANTIC_TAGS, STORY_LINKS, Augmenter, Donor, donor,
                              plain_markup, splice)
from noiseclf.segmentation import segment_html

PAGE = """<html><head><title>Canal boats return to the old wharf</title></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Canal boats return to the old wharf</h1>
<p>For the first time in forty years, narrowboats moored at the old wharf on Saturday after the canal was dredged.</p>
<p>Volunteers spent three winters clearing silt, shopping trolleys and fallen trees from the last mile of the channel.</p>
<p>The trust that led the work hopes to open a small museum in the wharf's former stables next summer.</p>
</article><footer><p>Contact us</p></footer></body></html>"""

DONORS = [Donor("Town hall clock to chime again after repairs", ("The clock stopped in 2019. Engineers found a cracked gear.",)),
          Donor("Rowing club celebrates its centenary", ("Members old and new gathered at the boathouse on Sunday.",))]


def content_mask(doc):
    return np.array([len(b.text.split()) > 10 for b in doc.blocks])


def test_splice_adds_boilerplate_teasers_beside_the_article():
    doc = segment_html(PAGE)
    content = content_mask(doc)
    new_doc, labels, added = splice(doc, content, DONORS, np.random.default_rng(3))
    assert added.sum() > 2 and len(new_doc.blocks) == len(doc.blocks) + added.sum()
    assert not labels[added].any()
    assert np.array_equal(labels[~added], content)  # the page's own blocks keep their labels
    spliced = [b for b, a in zip(new_doc.blocks, added) if a]
    assert any(b.text in MARKERS for b in spliced)
    assert any(b.text == d.title for b in spliced for d in DONORS)
    section = {b.elements[-3] for b in spliced}
    assert len(section) == 1 and section.isdisjoint(e for b in doc.blocks for e in b.elements)
    offsets = [b.offset for b in new_doc.blocks]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)


def test_an_inline_teaser_is_one_linked_line_set_between_the_story_s_paragraphs():
    doc = segment_html(PAGE)
    content = content_mask(doc)
    new_doc, labels, added = splice(doc, content, DONORS, np.random.default_rng(3), inline=1.0)
    assert added.sum() == 1 and np.array_equal(labels[~added], content) and not labels[added].any()
    at = int(np.flatnonzero(added)[0])
    line, after = new_doc.blocks[at], new_doc.blocks[at + 1]
    title = next(d.title for p in INLINE for d in DONORS if line.text == f"{p} {d.title}")
    assert line.link_chars == len(title) and line.tag == "p"
    assert labels[at - 1] and labels[at + 1]  # between two paragraphs of the story, in their parent element
    assert line.elements[:-1] == after.elements[:-1] and line.elements[-1] not in {e for b in doc.blocks for e in b.elements}
    assert [b.offset for b in new_doc.blocks] == sorted({b.offset for b in new_doc.blocks})


def test_augmenter_is_deterministic_and_lends_pages_as_donors():
    doc = segment_html(PAGE)
    assert donor(doc, content_mask(doc)).title == "Canal boats return to the old wharf"
    runs = []
    for _ in range(2):
        augment = Augmenter(1.0, seed=7)
        first = augment(doc, content_mask(doc))
        second = augment(doc, content_mask(doc))  # the first page is now a donor
        runs.append([b.text for b in second[0].blocks])
        assert not first[2].any() and second[2].any()
    assert runs[0] == runs[1]


def test_spliced_teasers_carry_the_classes_every_block_of_the_page_carries():
    from noiseclf.types import HINT_BIT

    doc = segment_html(PAGE.replace("<body>", '<body class="has-comments">'))
    assert all(b.hinted("comment") for b in doc.blocks)
    new_doc, _, added = splice(doc, content_mask(doc), DONORS, np.random.default_rng(3))
    assert all(b.hints & HINT_BIT["comment"] for b, a in zip(new_doc.blocks, added) if a)


def test_spliced_teasers_sit_under_the_anchor_s_enclosing_elements_with_their_own_hints():
    doc = segment_html(PAGE.replace("<article>", '<article class="story">'))
    new_doc, _, added = splice(doc, content_mask(doc), DONORS, np.random.default_rng(3))
    spliced = [b for b, a in zip(new_doc.blocks, added) if a]
    story = next(b for b in doc.blocks if b.hinted("story"))
    for b in spliced:
        assert len(b.element_hints) == len(b.elements)
        assert b.elements[:-3] == story.elements[:-2] and b.element_hints[:-3] == story.element_hints[:-2]


def test_furniture_sits_between_the_article_paragraphs_as_boilerplate():
    """Newsletter boxes go between the story's paragraphs; cookie notices top or tail the page."""
    from noiseclf.augment import furnish
    from noiseclf.segmentation import as_format

    doc = segment_html(PAGE)
    content = content_mask(doc)
    first, last = np.flatnonzero(content)[[0, -1]]
    seen = set()
    for seed in range(40):
        new_doc, labels, added = furnish(doc, content, np.random.default_rng(seed))
        assert added.any() and not labels[added].any() and np.array_equal(labels[~added], content)
        assert [b.text for b, a in zip(new_doc.blocks, added) if not a] == [b.text for b in doc.blocks]
        texts = [b.text for b, a in zip(new_doc.blocks, added) if a]
        own = np.flatnonzero(~added)
        outside = [i for i in np.flatnonzero(added) if i < own[0] or i > own[-1]]
        inside = [i for i in np.flatnonzero(added) if i not in outside]
        assert all(own[first] < i < own[last] for i in inside)  # between the first and last paragraph
        assert all(new_doc.blocks[i].path.startswith("/html/body/") and new_doc.blocks[i].depth == 4
                   for i in outside)  # only a cookie notice tops or tails the page, in its own box under <body>
        assert any("cookies" in new_doc.blocks[i].text for i in outside) or not outside
        assert len(as_format(new_doc, "text", "page").blocks) == len(new_doc.blocks)
        seen |= {"newsletter" for b, a in zip(new_doc.blocks, added) if a and b.path.endswith("/p") and "cookies" not in b.text}
        seen |= {"cookie" for t in texts if "cookies" in t}
    assert seen == {"newsletter", "cookie"}


def test_furniture_keeps_teasers_spliced_before_it_marked_as_added():
    from noiseclf.augment import furnish

    doc = segment_html(PAGE)
    rng = np.random.default_rng(5)
    spliced, labels, added = splice(doc, content_mask(doc), DONORS, rng)
    furnished, labels2, added2 = furnish(spliced, labels, rng, added=added)
    assert added2.sum() > added.sum() and not labels2[added2].any()
    assert [b.text for b, a in zip(furnished.blocks, added2) if not a] == [b.text for b in doc.blocks]


def test_augmenter_without_furniture_draws_as_before_and_with_it_adds_boxes():
    doc = segment_html(PAGE)
    plain = [Augmenter(1.0, seed=7), Augmenter(1.0, seed=7, furniture=0.0)]
    runs = [[aug(doc, content_mask(doc))[0].blocks for _ in range(3)] for aug in plain]
    assert runs[0] == runs[1]
    furnished = Augmenter(0.0, seed=7, furniture=1.0)
    outputs = [furnished(doc, content_mask(doc)) for _ in range(3)]
    assert not outputs[0][2].any()  # the first page only lends
    assert all(out[2].any() and not out[1][out[2]].any() for out in outputs[1:])
    texts = [b.text for out in outputs[1:] for b, a in zip(out[0].blocks, out[2]) if a]
    assert not any(t in MARKERS for t in texts)  # furniture only: no teaser section


def test_augmenter_splices_inline_teasers_only_at_the_share_asked_for():
    doc = segment_html(PAGE)

    def spliced(**options):
        augment = Augmenter(1.0, seed=7, **options)
        outs = [augment(doc, content_mask(doc)) for _ in range(4)][1:]  # the first page only lends
        return [[b.text for b, a in zip(out[0].blocks, out[2]) if a] for out in outs]

    assert spliced() == spliced(inline=0.0)
    assert all(len(new) >= 2 for new in spliced())  # sections: a marker and teasers
    inline = spliced(inline=1.0)
    assert all(len(new) == 1 and new[0].startswith(INLINE) for new in inline)


MORE_DONORS = DONORS + [Donor(f"Harbour festival {n} draws record crowds", ("Boats lined the quay.",)) for n in range(6)]


def test_a_related_list_sits_in_the_story_s_own_element_as_linked_headlines_of_other_stories():
    doc = segment_html(PAGE)
    content = content_mask(doc)
    story = {b.elements[:-1] for b, keep in zip(doc.blocks, content) if keep}
    titles = {d.title for d in MORE_DONORS}
    shapes = set()
    for seed in range(40):
        new_doc, labels, added = splice(doc, content, MORE_DONORS, np.random.default_rng(seed), lists=1.0,
                                        lists_rng=np.random.default_rng([seed, 2]))
        assert np.array_equal(labels[~added], content) and not labels[added].any()
        new = [b for b, a in zip(new_doc.blocks, added) if a]
        at = int(np.flatnonzero(added)[0])
        assert labels[at - 1]  # after a paragraph of the story: inside it or right after its last
        items = [b for b in new if b.tag == "li"]
        lines = [b for b in new if b.tag == "p" and b.link_chars]
        assert all(b.link_chars == len(b.text) and b.path.endswith("/ul/li") and b.within("ul") for b in items)
        assert all(b.elements[:-2] in story and b.elements[-2] == items[0].elements[-2] for b in items)
        assert all(b.elements[:-1] in story and b.link_chars < len(b.text) for b in lines)
        assert all(any(t in b.text for t in titles) for b in items + lines)
        if items:
            assert len(items) >= 2 and all(b.text in LIST_MARKERS for b in new if b.tag == "p")
            shapes.add("list under a marker" if len(new) > len(items) else "list")
        else:
            assert len(lines) == 2 and any(lines[0].text.startswith(p) for p, _ in STORY_LINKS)
            shapes.add("previous/next")
    assert shapes == {"list", "list under a marker", "previous/next"}


def test_augmenter_sets_related_lists_in_place_of_sections_at_their_share_and_draws_the_rest_as_before():
    doc = segment_html(PAGE)

    def spliced(**options):
        augment = Augmenter(1.0, seed=7, **options)
        outs = [augment(doc, content_mask(doc)) for _ in range(12)][1:]
        return [[b.text for b, a in zip(out[0].blocks, out[2]) if a] for out in outs]

    sections = spliced()
    assert sections == spliced(lists=0.0)
    assert all(any(t in MARKERS for t in new) for new in sections)
    some = spliced(lists=0.5)
    kept = [new == old for new, old in zip(some, sections)]
    assert any(kept) and not all(kept)  # the pages not given a list draw their section as before


def test_plain_markup_keeps_the_text_and_structure_without_sectioning_elements_or_class_hints():
    doc = segment_html(PAGE.replace("<article>", '<article class="story-body">'))
    plain = plain_markup(doc)
    assert [b.text for b in plain.blocks] == [b.text for b in doc.blocks]
    assert [b.elements for b in plain.blocks] == [b.elements for b in doc.blocks]
    assert any(b.within("article") and b.hints for b in doc.blocks) and any(b.within("nav") for b in doc.blocks)
    for before, after in zip(doc.blocks, plain.blocks):
        assert not any(after.within(tag) for tag in ("nav", "article", "footer"))
        assert not set(after.path.split("/")) & set(SEMANTIC_TAGS) and after.path.count("/") == before.path.count("/")
        assert after.hints == 0 and after.attrs == "" and not any(after.element_hints)
        assert after.within("div") or before.ancestors == after.ancestors
        assert after.tag == ("div" if before.tag in SEMANTIC_TAGS else before.tag)
        assert (after.heading, after.link_chars, after.depth) == (before.heading, before.link_chars, before.depth)


def test_augmenter_rewrites_plain_markup_at_its_share_and_draws_the_rest_as_before():
    doc = segment_html(PAGE)

    def outputs(**options):
        augment = Augmenter(1.0, seed=7, **options)
        return [augment(doc, content_mask(doc)) for _ in range(6)]

    before, zero, every = outputs(), outputs(plain=0.0), outputs(plain=1.0)
    assert [o[0] for o in before] == [o[0] for o in zero]
    for (doc0, labels0, added0), (doc1, labels1, added1) in zip(before, every):
        assert [b.text for b in doc1.blocks] == [b.text for b in doc0.blocks]  # the same teasers drawn
        assert np.array_equal(labels0, labels1) and np.array_equal(added0, added1)
        assert all(b.hints == 0 and not b.within("nav") for b in doc1.blocks)
    some = outputs(plain=0.5)
    rewritten = [o[0] != b[0] for o, b in zip(some, before)]
    assert any(rewritten) and not all(rewritten)
