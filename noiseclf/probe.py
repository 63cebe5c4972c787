"""The reference page a model's manifest records its features on, so a model meets the feature code it
was trained with.

Feature names alone do not tell two versions of the code apart: a changed marker list, ratio or
neighbour window keeps every name and moves the values the trees split on. `feature_probe` sums each
feature over the blocks of one fixed page (as HTML, or flattened to text for a text model); a model
file records those sums when it is saved and loading compares them with what the code computes now.
The page holds the noise the features are about (menus, a headline said twice, a cut summary, teasers
after markers, a comment thread, a newsletter prompt, a sidebar, a footer) and the markup they read, so it
moves every feature that a page of its format can move (tests/test_api.py names the few that none can).
"""

from __future__ import annotations

import numpy as np

from .features import FEATURE_NAMES, block_features, block_words
from .segmentation import as_format, segment_html
from .types import Document, Format

PROBE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Harbour town votes to rebuild its sea wall | Coast Post</title>
<meta property="og:title" content="Harbour town votes to rebuild its sea wall"></head>
<body>
<a href="#main" class="skip-link">Skip to content</a>
<header class="site-header"><nav class="main-nav menu"><ul>
<li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/weather">Weather</a></li><li><a href="/login">Log in</a></li></ul></nav>
<form class="search"><input name="q"><button>Search</button></form>
<div class="ticker"><h2>Latest news</h2><a href="/news/ferry">Ferry strike called off</a></div></header>
<main id="main"><article class="story post entry article-content">
<ol class="breadcrumb"><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ol>
<div class="post-category blog-section"><a href="/news/local">Local news</a></div>
<span class="kicker"><div>Coastal defences</div></span>
<h1 class="headline title">Harbour town votes to rebuild its sea wall</h1>
<p class="standfirst summary lead">Councillors in Westhaven approved a plan on Tuesday to replace the crumbling wall that...</p>
<figure><img src="wall.jpg" alt=""><figcaption class="caption">The old sea wall after the February storm.</figcaption><div class="photo-credit">Photo: J. Marsh</div></figure>
<p class="byline">By <strong>Ana Ferreira</strong>, Coast Post | <time class="date" datetime="2026-03-14">14 March 2026, 09:12</time></p>
<div class="date updated">Updated 15 March 2026, 11:30</div>
<div class="toc"><dl><dt>In this story</dt><dd><a href="#next">What happens next</a></dd></dl></div>
<div class="body text">
<h2>Harbour town votes to rebuild its sea wall</h2>
<p>Councillors in Westhaven approved a plan on Tuesday to replace the crumbling wall that has guarded
the harbour since 1887, after a winter of storms left two sections close to collapse.</p>
<p>The vote, 11 to 4, commits the town to a budget of &pound;18.5 million over six years. About a third
will come from a national coastal fund; the rest from borrowing and a small rise in the harbour dues.</p>
<blockquote><p>"We have patched this wall for forty years," said the council leader, Mair Pritchard. "Another patch
would be money thrown into the sea."</p><cite>Mair Pritchard</cite></blockquote>
<p>Opponents argued that the <em>estimate</em> would grow, as the last one did.<sup>1</sup></p>
<h3 id="next">What happens next</h3>
<ul><li>Surveys of the sea bed begin in May.</li><li>The first section is rebuilt over the winter of 2026.</li>
<li>Residents can comment on the design until 30 April.</li></ul>
<p>Fishermen, who moor about forty boats behind the wall, welcomed the decision but asked for the work to
avoid the summer season, when most of their catch is landed; the engineers said that it would.</p>
<table class="costs"><tr><th>Phase</th><th>Cost</th></tr><tr><td>Survey</td><td>&pound;0.9m</td></tr>
<tr><td>North section</td><td>&pound;7.1m</td></tr><tr class="total">Total so far<td>&pound;8.0m</td></tr></table>
<pre><code>tide gauge: +0.42 m above datum</code></pre>
<p>FULL REPORT: https://westhaven.example.gov.uk/council/sea-wall-2026.pdf</p>
<p class="note">1. The 2019 estimate was &pound;11 million.</p>
<p class="disclaimer"><small>This article was amended on 15 March to correct the vote count.</small></p></div>
<p><em>Reporting by Ana Ferreira; additional reporting by Tom Lyle.</em></p>
<div class="share-bar social tools"><div class="icon-button">Share this story</div><a href="#">Share</a> <a href="#">Tweet</a> <a href="#">Email</a> <a href="#">Print</a></div>
<div class="newsletter-signup subscribe widget"><p>Sign up for our free weekly newsletter and never miss a story from the coast.</p>
<button class="button">Subscribe</button><p class="small">We respect your privacy. Unsubscribe at any time.</p></div>
<p class="tags">Tags: <a href="/tag/harbour">Harbour</a>, <a href="/tag/council">Council</a></p>
<p class="prev-next">Previous story: <a href="/news/pier">Pier reopens after repairs</a></p>
<p>Related: <a href="/news/ferry-timetable-changes">Ferry timetable changes for the spring</a></p>
</article>
<section class="related-stories recommended more"><h2>Read also:</h2>
<div class="teaser card"><h3><a href="/news/mp-gun-licences">MP calls for tighter rules on gun licences</a></h3>
<p><a href="/news/mp-gun-licences">The MP for the north coast said on Monday that the rules on gun licences
had not kept up with...</a></p><span class="tag category">Members Public</span></div>
<a class="card-link" href="/news/storm-season"><div class="teaser card"><h3>Hurricane season forecast to be busier than usual</h3>
<p>Forecasters expect up to nine named storms this year, two more than the long-term
average, as the ocean...</p></div></a><span class="tag category">Members Public</span>
</section>
<section id="comments" class="comments"><h2>3 Comments</h2>Comments are checked before they appear.
<ol class="comment-list"><li class="comment reply review"><div class="rating">Rated 4 out of 5</div><p class="comment-author">harbourwatcher said...</p>
<p>About time. The north end floods every spring tide now, and the council has known about the cracks
in the wall since the last survey, when the engineers said the same thing they say today.</p>
<p class="comment-meta">Joined: May 2019 | Posts: 412</p><div class="signature">Westhaven born and bred</div><p class="comment-meta">2 hours ago | Reply</p></li>
<li class="comment answer question"><p class="comment-author">Posted by Gwen at 10:41</p><p class="comment-meta">Joined: June 2021 | Posts: 9</p>
<p>Quote harbourwatcher: About time.</p><p>Who pays if the estimate doubles again?</p></li>
</ol><button class="load-more"><div>Load more comments</div></button>
<nav class="pagination pager"><a href="?page=2">Older comments</a></nav></section></main>
<aside class="sidebar side"><h4 class="widget-title">Weather</h4><p>Sunny spells, a light breeze, high tide at 14:20.</p>
<div class="latest feed"><h3>LATEST</h3><ul>Updated every hour<li><a href="/news/4">Pier reopens after repairs</a></li></ul></div>
<div class="links"><h3>Related links</h3><ul><li><a href="https://westhaven.example.gov.uk">Westhaven council</a></li></ul></div>
<div class="popular trending"><h3>Most popular</h3><ol>
<li><a href="/news/1">Lifeboat crew rescue three from cliff path</a></li>
<li><a href="/news/2">Festival returns to the quay in June</a></li>
<li><a href="/news/3">New bus route links the villages</a></li></ol></div>
<div class="promo sponsor"><b>Sponsored</b> <i>Holiday cottages on the coast</i></div>
<details><summary>Why am I seeing this?</summary><p>Ads help pay for local news.</p></details>
<div class="ad hidden print">Advertisement</div>
<div class="login modal popup"><label><div>Your email address</div></label><select><option>Daily</option></select></div></aside>
<footer class="site-footer"><h5>About us</h5><h6>Follow us on social media</h6><address class="contact">Coast Post, 2 Quay Street, Westhaven</address><p class="copyright legal">&copy; 2026 Coast Post Ltd. All rights reserved.</p>
<p><a href="/privacy">Privacy policy</a> | <a href="/cookies">Cookie settings</a> | <a href="/contact">Contact us</a></p>
<div class="cookie-banner consent"><dialog open>Cookie choices</dialog><menu><li>Manage</li></menu><p>We use cookies to personalise content and ads. By continuing you agree to our use of cookies.</p>
<button>Accept</button></div></footer>
</body></html>"""


def probe_document(format: Format) -> Document:
    """The reference page segmented as a model of `format` reads it: HTML, or flattened to a text dump."""
    return as_format(segment_html(PROBE_PAGE, source="feature probe"), format, "feature probe")


def feature_probe(format: Format) -> list[float]:
    """The reference page's block count and words, then each feature's sum over its blocks and its sum
    weighted by the block's place in the page (so a change of order or of one block's value shows)."""
    doc = probe_document(format)
    X = block_features(doc).astype(np.float64)
    place = np.arange(1, len(doc.blocks) + 1, dtype=np.float64) / len(doc.blocks)
    head = [float(len(doc.blocks)), float(block_words(doc).sum())]
    return [float(f"{v:.9g}") for v in [*head, *X.sum(axis=0), *(place @ X)]]


PROBE_LENGTH = 2 + 2 * len(FEATURE_NAMES)


def probe_differences(recorded: list[float], format: Format) -> list[str]:
    """What differs between a recorded probe of PROBE_LENGTH values and this code's: "blocks", "words" or
    feature names, in order. The tolerance absorbs float32 sums taken in another order (other NumPy
    builds), not a changed feature."""
    close = np.isclose(np.array(recorded, dtype=np.float64), feature_probe(format), rtol=1e-4, atol=1e-5)
    n = len(FEATURE_NAMES)
    names = ["blocks", "words"]
    differs = [names[i] for i in range(2) if not close[i]]
    features = ~(close[2:2 + n] & close[2 + n:])
    return differs + [FEATURE_NAMES[i] for i in np.flatnonzero(features)]
