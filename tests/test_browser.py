"""The built book, page by page, in a real browser (Debian's headless chromium).

Fails on a missing or undecodable image, an image without a meaningful alt text, a broken local
link or #anchor, a local file that fails to load, a JavaScript error, and a figure that does not
show as a light card in dark mode. Saves screenshots of every page, light and dark, to
``_build/screenshots/`` (look at them). The checker is ``tests/browser_check.py``; its own tests
come first (a tiny synthetic site with known faults), then the book.

The book checked is the one strict build of the test run (fixture ``built_book`` in
``tests/conftest.py``, shared with tests/test_book.py); set ``KAZ_BOOK_HTML=<dir>`` to check an
existing build instead.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_check as bc  # noqa: E402

from kazdiaspora import paths  # noqa: E402

ROOT = paths.ROOT

# the built book is shared with tests/test_book.py: same worker under pytest-xdist
pytestmark = pytest.mark.xdist_group("repository-build")

GOOD_ALT = "Bar chart of the number of Kazakhs by country, China first, then Uzbekistan."


# ---------------------------------------------------------------------------------------------
# a tiny synthetic site with known faults


def _png(path: Path, colour=(255, 255, 255), size=(400, 200)) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def _page(body: str, head: str = "") -> str:
    return (f"<!DOCTYPE html><html lang='en' data-theme='light'><head><meta charset='utf-8'>{head}</head>"
            f"<body><div class='bd-content'>{body}</div></body></html>")


@pytest.fixture
def site(tmp_path) -> Path:
    root = tmp_path / "html"
    _png(root / "_images" / "fig.png")
    (root / "_images" / "corrupt.png").write_bytes(b"this is not a png")
    (root / "chapter").mkdir(parents=True)
    (root / "chapter" / "a.html").write_text(_page(
        f"<h1 id='top'>A</h1>"
        f"<img src='../_images/fig.png' alt='{GOOD_ALT}'>"                      # fine
        f"<img src='../_images/missing.png' alt='{GOOD_ALT}'>"                  # missing-image
        f"<img src='../_images/fig.png'>"                                       # bad-alt: none
        f"<img src='../_images/fig.png' alt='<Figure size 640x480 with 1 Axes>'>"  # bad-alt: repr
        f"<img src='../_images/fig.png' alt='fig.png'>"                         # bad-alt: file name
        f"<a href='b.html'>b</a><a href='b.html#sec-1'>b1</a><a href='#top'>top</a>"  # fine
        f"<a href='#'>noop</a><a href='https://example.org/x.html'>ext</a>"     # ignored
        f"<a href='nowhere.html'>x</a>"                                         # broken-link
        f"<a href='b.html#no-such-id'>y</a>"                                    # broken-anchor
        f"<a href='#not-here'>z</a>"                                            # broken-anchor
    ), encoding="utf-8")
    (root / "chapter" / "b.html").write_text(_page(
        f"<h1 id='sec-1'>B</h1><img src='../_images/corrupt.png' alt='{GOOD_ALT}'>"  # browser only
        f"<a href='a.html#top'>a</a>"), encoding="utf-8")
    # skipped: the theme's files, the sources, the indices
    (root / "_static").mkdir()
    (root / "_static" / "x.html").write_text(_page("<img src='nope.png'>"), encoding="utf-8")
    (root / "genindex.html").write_text(_page("<a href='nope.html'>n</a>"), encoding="utf-8")
    return root


def kinds(problems):
    return sorted((p.page, p.kind) for p in problems)


def test_list_pages_skips_theme_sources_and_indices(site):
    assert [p.relative_to(site).as_posix() for p in bc.list_pages(site)] == ["chapter/a.html", "chapter/b.html"]


def test_static_check_reports_exactly_the_planted_faults(site):
    problems = bc.check_static(site)
    assert kinds(problems) == sorted([
        ("chapter/a.html", "missing-image"),
        ("chapter/a.html", "bad-alt"), ("chapter/a.html", "bad-alt"), ("chapter/a.html", "bad-alt"),
        ("chapter/a.html", "broken-link"),
        ("chapter/a.html", "broken-anchor"), ("chapter/a.html", "broken-anchor"),
    ]), "\n".join(map(str, problems))
    text = "\n".join(map(str, problems))
    for needle in ("../_images/missing.png", "no alt attribute", "Python repr", "file name",
                   "nowhere.html", "'no-such-id'", "'not-here'"):
        assert needle in text


def test_static_check_passes_a_clean_site(tmp_path):
    root = tmp_path / "html"
    _png(root / "_images" / "fig.png")
    (root / "index.html").write_text("<meta http-equiv='refresh' content='0; url=p/x.html'>", encoding="utf-8")
    (root / "p").mkdir()
    (root / "p" / "x.html").write_text(_page(
        f"<h2 id='s'>S</h2><img src='../_images/fig.png' alt='{GOOD_ALT}'><a href='x.html#s'>s</a>"
        f"<a href='../index.html'>home</a><a href='#s'>s</a><a href='%78.html'>encoded</a>"), encoding="utf-8")
    assert bc.check_static(root) == []
    (root / "index.html").write_text("<meta http-equiv='refresh' content='0; url=p/gone.html'>", encoding="utf-8")
    assert kinds(bc.check_static(root)) == [("index.html", "broken-link")]


@pytest.mark.parametrize("alt, src, bad", [
    (None, "x.png", True),
    ("", "x.png", True),
    ("   ", "x.png", True),
    ("<Figure size 640x480 with 1 Axes>", "x.png", True),
    ("png", "x.png", True),
    ("Figure", "x.png", True),
    ("image", "x.png", True),
    ("scripts-count.png", "../_images/scripts-count.png", True),
    ("scripts-count", "../_images/scripts-count.png", True),
    ("scripts count", "../_images/scripts-count.png", True),
    ("a chart", "x.png", True),
    (GOOD_ALT, "../_images/scripts-count.png", False),
    ("Map of Kazakh communities in Iran, most of them in Golestan province.", "x.png", False),
])
def test_generic_alt(alt, src, bad):
    assert (bc.generic_alt(alt, src) is not None) == bad


def test_icons_may_have_short_alt_text_but_figures_not():
    assert bc.generic_alt("Binder logo", "../_static/images/logo_binder.svg", figure=False) is None
    assert bc.generic_alt("Binder logo", "../_images/x.png", figure=True) is not None
    assert bc.generic_alt("", "../_static/images/logo_binder.svg", figure=False) is not None
    assert bc.generic_alt("logo_binder.svg", "../_static/images/logo_binder.svg", figure=False) is not None


def test_corner_brightness_of_a_card_in_a_screenshot():
    import io

    from PIL import Image

    shot = Image.new("RGB", (300, 200), (20, 20, 20))
    shot.paste(Image.new("RGB", (100, 80), (255, 255, 255)), (50, 40))
    buf = io.BytesIO()
    shot.save(buf, format="PNG")
    assert bc._corner_brightness(buf.getvalue(), (50, 40, 100, 80)) == pytest.approx(255)
    assert bc._corner_brightness(buf.getvalue(), (0, 0, 100, 80)) < 100   # overlaps the dark page
    assert bc._corner_brightness(buf.getvalue(), (0, 0, 10, 10)) is None  # too small to sample


def test_screenshot_names_are_flat_and_distinct():
    assert bc.shot_name("notebooks/01_where.html") == "notebooks__01_where.png"
    assert bc.shot_name("notebooks/01_where.html", dark=True) == "notebooks__01_where.dark.png"


# ---------------------------------------------------------------------------------------------
# in the browser


@pytest.fixture(scope="session")
def chromium() -> str:
    exe = bc.find_chromium()
    if not exe:
        pytest.fail("chromium not found: run `make sysdeps` (scripts/install-system-deps.sh test)")
    return exe


@pytest.mark.slow
def test_browser_check_finds_what_only_a_browser_sees(site, chromium, tmp_path):
    # an image that exists but does not decode; a script error; a figure that turns dark in dark mode
    b = site / "chapter" / "b.html"
    _png(site / "_images" / "white.png")
    b.write_text(_page(
        f"<h1 id='sec-1'>B</h1><img src='../_images/corrupt.png' alt='{GOOD_ALT}'>"
        f"<img class='inv' src='../_images/white.png' alt='{GOOD_ALT}'>"
        f"<img src='../_images/fig.png' alt='{GOOD_ALT}'>"
        f"<script>undefinedFunction();</script>",
        head="<style>html[data-theme=dark] body{background:#111} html[data-theme=dark] img.inv{filter:invert(1)}</style>"),
        encoding="utf-8")
    # a redirect like the book's root index.html is not opened (its refresh would navigate away
    # while the page is probed); the static check follows its link instead
    redirect = site / "index.html"
    redirect.write_text("<meta http-equiv='Refresh' content='0; url=chapter/b.html' />", encoding="utf-8")
    assert bc.is_redirect(redirect) and not bc.is_redirect(b)
    problems, results = bc.check_browser(site, tmp_path / "shots", pages=[redirect, b])
    assert [r.page for r in results] == ["chapter/b.html"]
    assert kinds(problems) == sorted([
        ("chapter/b.html", "image-not-loaded"), ("chapter/b.html", "js-error"), ("chapter/b.html", "dark-figure"),
    ]), "\n".join(map(str, problems))
    text = "\n".join(map(str, problems))
    assert "corrupt.png" in text and "undefinedFunction" in text and "white.png" in text
    assert "fig.png" not in text  # the white figure without the filter stays a light card
    assert [p.name for p in results[0].screenshots] == ["chapter__b.png", "chapter__b.dark.png"]
    assert all(p.stat().st_size > 1000 for p in results[0].screenshots)


@pytest.mark.slow
def test_browser_is_killed_on_failure(chromium):
    b = bc.Browser(chromium, timeout=10)
    b.start()
    pid = b.proc.pid
    profile = b.profile
    with pytest.raises(bc.BrowserError):
        b.call("No.suchMethod")
    b.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not Path(profile).exists()


@pytest.fixture(scope="session")
def book_html(request) -> Path:
    env = os.environ.get("KAZ_BOOK_HTML")
    if env:
        root = Path(env).resolve()
    else:
        root = request.getfixturevalue("built_book").html  # the one strict build of the test run
    assert (root / "index.html").is_file(), f"no built book in {root}"
    return root


def _toc_files(node) -> list[str]:
    out = []
    if isinstance(node, dict):
        for k in ("root", "file"):
            if k in node:
                out.append(node[k])
        for v in node.values():
            if isinstance(v, (list, dict)):
                out += _toc_files(v)
    elif isinstance(node, list):
        for v in node:
            out += _toc_files(v)
    return out


@pytest.mark.slow
def test_every_toc_page_is_built(book_html):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = _toc_files(toc)
    assert len(files) >= 5
    missing = [f for f in files if not (book_html / f"{f}.html").is_file()]
    assert not missing, f"TOC pages not built: {missing}"
    pages = {p.relative_to(book_html).as_posix() for p in bc.list_pages(book_html)}
    assert {f"{f}.html" for f in files} - bc.SKIP_PAGES <= pages


@pytest.mark.slow
def test_book_links_images_and_alt_text(book_html):
    problems = bc.check_static(book_html)
    assert not problems, "\n".join(map(str, problems))


def _figure_names(page: Path) -> set[str]:
    """The figure ids of a page's images (the screen images are named <id>.<width>.<hash>.webp)."""
    info = bc.parse_html(page.read_text(encoding="utf-8"))
    return {src.rsplit("/", 1)[-1].split(".", 1)[0] for src, _, _ in info.images if bc.is_figure(src)}


@pytest.mark.slow
def test_every_chapter_figure_is_on_the_figures_page(book_html):
    """Each figure in a chapter can be downloaded and cited from the Figures and data page."""
    on_page = _figure_names(book_html / "book" / "figures.html")
    missing = {}
    for page in sorted((book_html / "notebooks").glob("*.html")):
        names = _figure_names(page) - on_page
        if names:
            missing[page.name] = sorted(names)
    assert not missing, f"figures shown in chapters but not on book/figures: {missing}"


@pytest.mark.slow
def test_book_in_the_browser(book_html, chromium):
    shots = book_html.parent / "screenshots"
    t0 = time.monotonic()
    problems, results = bc.check_browser(book_html, shots)
    elapsed = time.monotonic() - t0
    pages = [p for p in bc.list_pages(book_html) if not bc.is_redirect(p)]
    assert len(results) == len(pages)
    for r in results:
        name = bc.shot_name(r.page)
        assert (shots / name).is_file() and (shots / name.replace(".png", ".dark.png")).is_file()
    assert not problems, "\n".join(map(str, problems))
    assert elapsed < 120, f"browser check took {elapsed:.0f} s"


@pytest.mark.slow
def test_evidence_layer_in_the_browser(book_html, chromium):
    """Issue 15: marks identify themselves (hover and focus), the explorer searches and filters,
    every country profile is reachable, and the interactive layer stays light."""
    import evidence_check as ec

    from kazdiaspora import explorer, profiles

    ev = explorer.evidence_table()
    chapters = sorted((book_html / "notebooks").glob("*.html"))
    problems, figures_seen = [], set()
    with bc.Browser(chromium) as b:
        s = b.new_tab()
        for page in chapters:
            p, summary = ec.check_hotspots(b, s, book_html, page)
            problems += p
            for fid, info in summary.items():
                figures_seen.add(fid)
                assert info["hovered"] + info["covered"] == info["sampled"] and info["focused"] == info["sampled"], (fid, info)
                assert info["hovered"] >= max(1, info["sampled"] // 2), (fid, info)
        p, _ = ec.check_explorer(b, s, book_html, len(ev), ev["status"].value_counts().to_dict())
        problems += p
    from kazdiaspora import figures as kfig

    assert figures_seen == set(kfig.load_all()), f"charts without a working layer: {set(kfig.load_all()) - figures_seen}"
    names = [f"{profiles.page_name(i)}.html" for i in profiles.countries(ev)]
    problems += ec.check_profiles_reachable(book_html, names, chapters)
    for page in chapters:
        w = ec.layer_weight(book_html, page)
        assert w <= ec.MAX_LAYER_BYTES, f"{page.name}: the interactive layer adds {w:,} bytes"
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.slow
def test_evidence_check_reports_a_popover_that_stays(book_html, chromium, tmp_path):
    """The check of the popover's hiding can fail: in a copy of the site whose popovers hide 5 s
    after the mouse leaves (the book's wait is 250 ms), it reports every figure of a chapter, and
    nothing else."""
    import shutil

    import evidence_check as ec

    root = tmp_path / "html"
    shutil.copytree(book_html, root)
    js = root / "_static" / "hotspots.js"
    text = js.read_text(encoding="utf-8")
    assert "setTimeout(f, 250)" in text, "the planted fault no longer applies: update this test"
    js.write_text(text.replace("setTimeout(f, 250)", "setTimeout(f, 5000)"), encoding="utf-8")
    page = root / "notebooks" / "04_identity_and_institutions.html"
    with bc.Browser(chromium) as b:
        problems, summary = ec.check_hotspots(b, b.new_tab(), root, page)
    assert summary, "no figure with marks on the page"
    assert {p.kind for p in problems} == {"popover-stays"}, problems
    assert {p.detail.split(":")[0] for p in problems} == set(summary)


# ---------------------------------------------------------------------------------------------
# reading at phone width (issue 14)


def _reading_site(tmp_path) -> Path:
    import shutil

    root = tmp_path / "html"
    _png(root / "_images" / "big.png", size=(1600, 800))
    _png(root / "_images" / "small.png", size=(400, 200))
    (root / "_static").mkdir(parents=True)
    for f in ("lightbox.js", "figures.css"):
        shutil.copy(ROOT / "_static" / f, root / "_static" / f)
    (root / "chapter").mkdir()
    return root


def _reading_page(body: str) -> str:
    return _page(body, head="<meta name='viewport' content='width=device-width, initial-scale=1'>"
                            "<link rel='stylesheet' href='../_static/figures.css'>"
                            "<script src='../_static/lightbox.js' defer></script>")


def _fig(fid: str, src: str, number: str | None = "Figure 1.1", full: str | None = None) -> str:
    num = f"<span class='caption-number'>{number} </span>" if number else ""
    data = f" data-full='{full}'" if full else ""
    return (f"<figure class='kaz-figure' id='{fid}'><img src='{src}'{data} alt='{GOOD_ALT}'>"
            f"<figcaption><p>{num}A title</p></figcaption></figure>")


@pytest.mark.slow
def test_reading_check_finds_the_planted_faults_at_phone_width(tmp_path, chromium):
    root = _reading_site(tmp_path)
    big = "../_images/big.png"
    bad = root / "chapter" / "bad.html"
    bad.write_text(_reading_page(
        "<p>See <a href='#fig-a'>Figure 1.1</a> and <a href='#fig-c'>Figure 1.3</a>.</p>"
        + _fig("fig-a", big, full=big)                                              # fine
        + _fig("fig-b", big, number=None, full=big)                                 # unnumbered, unreferenced
        + "<div class='cell'><div class='cell_input'><pre>figures.show('c')</pre></div>"
        + "<div class='cell_output'>" + _fig("fig-c", big, "Figure 1.3", full=big) + "</div></div>"  # code above
        + f"<p><img src='../_images/small.png' data-full='../_images/small.png' alt='{GOOD_ALT}'></p>"  # not larger
        + f"<p><img src='{big}' style='max-width:100%' alt='{GOOD_ALT}'></p>"         # not zoomable
        + "<div style='width:1200px'>a wide block</div>"                             # sideways
        + "<div style='overflow-x:auto'><table style='width:1500px'><tr><td>x</td></tr></table></div>"  # fine
    ), encoding="utf-8")
    good = root / "chapter" / "good.html"
    good.write_text(_reading_page(
        "<p>See <a href='#fig-a'>Figure 1.1</a>.</p>" + _fig("fig-a", big, full=big)
        + "<table class='kaz-table' style='width:1500px'><tr><td>a table that scrolls in its box</td></tr></table>"
    ), encoding="utf-8")
    problems = bc.check_reading(root, pages=[bad, good])
    assert kinds(problems) == sorted([
        ("chapter/bad.html", "unnumbered-figure"), ("chapter/bad.html", "unreferenced-figure"),
        ("chapter/bad.html", "code-above-figure"),
        ("chapter/bad.html", "figure-not-zoomable"), ("chapter/bad.html", "figure-not-zoomable"),
        ("chapter/bad.html", "sideways-scroll"),
    ]), "\n".join(map(str, problems))
    text = "\n".join(map(str, problems))
    assert "small.png: full-size image 400 px" in text and "no full-size image" in text
    assert "px wide on a 390 px screen: div" in text, text


@pytest.mark.slow
def test_book_reads_on_a_phone(book_html, chromium):
    """At 390 px: no page scrolls sideways, every figure opens full screen and zooms to full size,
    no code cell stands above a figure, every figure is numbered and referred to on its page."""
    problems = bc.check_reading(book_html)
    assert not problems, "\n".join(map(str, problems))
    from kazdiaspora import figpage

    numbers = set(figpage.figure_numbers().values())  # "2.3": chapter 2 shows figures
    chapters = [book_html / "notebooks" / f"{c}.html" for i, c in enumerate(figpage.numbered_chapters(), 1)
                if any(n.startswith(f"{i}.") for n in numbers)]  # a text-only chapter has none to number
    assert chapters
    for page in chapters:
        assert "caption-number" in page.read_text(encoding="utf-8"), page.name


@pytest.mark.slow
def test_search_finds_words_of_the_running_text(book_html, chromium):
    """The search page finds a chapter by a word of its text that is not in any page title."""
    import re as _re

    page = sorted((book_html / "notebooks").glob("*.html"))[-1]
    html = page.read_text(encoding="utf-8")
    main = html.split("<main", 1)[-1]
    paras = " ".join(_re.findall(r"<p>(.*?)</p>", main, _re.S))
    body = _re.sub(r"<[^>]+>", " ", _re.sub(r"<a\b.*?</a>", " ", paras, flags=_re.S))
    titles = " ".join(_re.findall(r"<title>(.*?)</title>", html)).lower()
    words = [w for w in _re.findall(r"[A-Za-z]{9,}", body) if w.lower() not in titles]
    assert words
    counts = {w: words.count(w) for w in set(words)}
    others = [p.read_text(encoding="utf-8") for p in book_html.rglob("*.html") if p != page and "_static" not in p.parts]
    spread = {w: sum(w in t for t in others) for w in counts}
    # a word used often on this page and on few others, so the page is among the first results
    word = min(sorted(counts), key=lambda w: (spread[w], -counts[w], -len(w)))
    with bc.Browser(chromium) as b:
        s = b.new_tab()
        b.goto(s, (book_html / "search.html").as_uri() + "?q=" + word)
        hits = b.evaluate(s, "(async () => { for (let i = 0; i < 50; i++) { const li = document.querySelectorAll("
                             "'#search-results li'); if (li.length) return [...li].map(l => l.querySelector('a')"
                             ".getAttribute('href')); await new Promise(r => setTimeout(r, 200)); } return []; })()",
                          timeout=30)
    assert any(page.stem in h for h in hits), f"search for {word!r} found {hits}"
