"""Reading aids: formatted tables, the place-name table, the grouped References page, screen images."""
from __future__ import annotations

from html import escape as html_escape

import re

import pandas as pd
import pytest

from kazdiaspora import bib, places, references, screen, tables


def test_table_shows_every_cell_with_separators_units_and_citations():
    key = sorted(bib.bib_keys())[0]
    long = "a very long text " * 20
    df = pd.DataFrame({"country": ["Mongolia", "China"], "value": [101526, 1_462_588],
                       "year": [2020, 2010], "note": [long, None], "source_key": [key, key]})
    md = tables.show(df, name="tbl-demo", caption="Demo table", units={"value": "persons"},
                     sources="source_key", plain=("year",),
                     columns={"country": "Country", "value": "Kazakhs", "year": "Year", "note": "Note",
                              "source_key": "Source"})._repr_markdown_()
    assert md.startswith("```{list-table} Demo table\n:name: tbl-demo\n:header-rows: 1")
    assert "Kazakhs (persons)" in md
    assert "1,462,588" in md and "101,526" in md
    assert "  - 2020" in md and "2,020" not in md  # years are not numbers to separate
    assert " ".join(long.split()) in md  # never truncated
    assert "\u2014" in md  # missing value as a dash
    assert f"{{cite:t}}`{key}`" in md
    assert md.count("* - ") == 3


def test_table_refuses_unknown_source_keys_bad_names_and_missing_columns():
    df = pd.DataFrame({"v": [1], "source_key": ["no_such_key_in_bib"]})
    with pytest.raises(ValueError, match="no_such_key_in_bib"):
        tables.show(df, name="tbl-x", caption="c", sources="source_key")._repr_markdown_()
    with pytest.raises(ValueError, match="tbl-"):
        tables.show(df, name="Table X", caption="c")
    with pytest.raises(KeyError, match="nope"):
        tables.show(df, name="tbl-x", caption="c", columns={"nope": "N"})


def test_table_escapes_markdown_in_cells():
    md = tables.show(pd.DataFrame({"a": ["x|y *z* [w]"]}), name="tbl-e", caption="c")._repr_markdown_()
    assert r"x\|y \*z\* \[w\]" in md


def test_places_table_has_every_gazetteer_row_and_name_form(tmp_path):
    cols, rows = places.read()
    md = places.places_markdown()
    assert md.count("\n* - ") == len(rows) + 1
    for r in rows[:10]:
        assert r["name_en"].split(" (")[0] in md
    p = tmp_path / "g.csv"
    p.write_text("place_id,name_en,country_iso3,lat,lon,name_local,name_kk\nx,Testplace,KAZ,43.25,76.95,Тест,Тест\n"
                 "y,Otherplace,CHN,-10,-20,,\n", encoding="utf-8")
    md = places.places_markdown(p)
    assert "  - Тест (Kazakh)\n  - Тест\n" in md  # the local form names its language
    assert "10.00\u00b0\u00a0S" in md and "20.00\u00b0\u00a0W" in md
    assert "Тест" in md and "43.25\u00b0\u00a0N" in md and "76.95\u00b0\u00a0E" in md and "Kazakhstan" in md
    bad = tmp_path / "bad.csv"
    bad.write_text("place_id,name_en,lat,lon\nx,T,1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="country_iso3"):
        places.read(bad)


def test_references_are_grouped_every_key_once_and_notes_cleaned():
    g = references.groups()
    keys = [k for ks in g.values() for k in ks]
    assert sorted(keys) == sorted(bib.entries()), "every entry in exactly one group"
    assert all(g[gid] for gid in ("official", "scholarly", "encyclopedia")), {k: len(v) for k, v in g.items()}
    md = references.bibliography_markdown()
    for gid, heading in references.GROUPS:
        if g[gid]:
            assert f"## {heading}" in md
    assert references.clean_note("Population census. Tier B source; seed document 002.") == "Population census."
    for key, entry in bib.entries().items():
        clean = references.reader_entry(entry)
        note = str(clean.fields.get("note", ""))
        assert not re.search(r"\b(tier|seed|research pack)\b", note, re.I), (key, note)
        for name, value in clean.fields.items():
            if name.lower() != "url":
                assert "`" not in value and "research pack" not in value.lower(), (key, name, value)
    assert references.typographic_quotes("Clark, `How the Kazakhs Fled', and ``A'' Kazakhs' land") == \
        "Clark, \u2018How the Kazakhs Fled\u2019, and \u201cA\u201d Kazakhs' land"


def test_screen_images_are_small_deterministic_and_sized(tmp_path):
    from PIL import Image

    src = tmp_path / "demo.png"
    Image.new("RGB", (3000, 1500), (200, 30, 30)).save(src)
    one, two, size = screen.make(src, tmp_path / "a", "screen")
    assert size == (800, 400) and Image.open(two).size == (1600, 800)
    again = screen.make(src, tmp_path / "b", "screen")
    assert one.read_bytes() == again[0].read_bytes()
    t1, _, tsize = screen.make(src, tmp_path / "a", "thumb")
    assert tsize[0] == 360
    with pytest.raises(ValueError):
        screen.make(src, tmp_path, "huge")
    with pytest.raises(FileNotFoundError):
        screen.make(tmp_path / "missing.png", tmp_path, "screen")


def _notebook_text(stem: str) -> tuple[str, str]:
    """(Markdown of the prose cells, source of the code cells) of a chapter."""
    import nbformat

    from kazdiaspora import paths

    nb = nbformat.read(paths.NOTEBOOKS_DIR / f"{stem}.ipynb", as_version=4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return md, code


def test_every_figure_and_table_is_numbered_and_referenced_in_the_prose():
    """Each figure shown in a chapter and each named table there is cited by number ({numref}) in
    the prose of that chapter; the strict build checks that every {numref} resolves."""
    from kazdiaspora import figpage, figures

    specs = figures.load_all()
    numbers = figpage.figure_numbers()
    for stem in figpage.numbered_chapters():
        md, code = _notebook_text(stem)
        shown = [f for f, s in specs.items() if s.chapter == stem and f in numbers]
        for fid in shown:
            assert re.search(rf"\{{numref\}}`(?:[^`<]*<)?{re.escape(figures.label(fid))}>?`", md), \
                f"{stem}: figure {fid} is never referred to as {{numref}}`{figures.label(fid)}`"
        for name in re.findall(r"""name=["'](tbl-[a-z0-9-]+)["']""", code):
            assert re.search(rf"\{{numref\}}`(?:[^`<]*<)?{re.escape(name)}>?`", md), \
                f"{stem}: table {name} is never referred to by number"


def test_no_figure_or_table_code_is_shown_to_the_reader():
    """Cells that show a figure or a table keep their code in the notebook but hide it in the book."""
    import nbformat

    from kazdiaspora import figpage, paths

    for stem in figpage.numbered_chapters():
        nb = nbformat.read(paths.NOTEBOOKS_DIR / f"{stem}.ipynb", as_version=4)
        for i, c in enumerate(nb.cells):
            if c.cell_type != "code":
                continue
            tags = set(c.metadata.get("tags", []))
            assert tags & {"remove-input", "remove-cell", "hide-input"}, f"{stem}, cell {i}: code shown to readers"
            if "figures.show(" in c.source or "tables.show(" in c.source:
                assert "remove-input" in tags, f"{stem}, cell {i}: a figure or table cell must keep its output"


def test_page_weights_count_each_1x_image_once_and_flag_pages_over_budget(tmp_path):
    from kazdiaspora import weights

    root = tmp_path / "html"
    (root / "_images").mkdir(parents=True)
    (root / "_static").mkdir()
    (root / "notebooks").mkdir()
    (root / "_images" / "a.webp").write_bytes(b"x" * 1_000_000)
    (root / "_images" / "a2.webp").write_bytes(b"x" * 4_000_000)
    (root / "_static" / "logo.png").write_bytes(b"x" * 5_000_000)
    (root / "index.html").write_text("<img src='_static/logo.png'>", encoding="utf-8")
    (root / "notebooks" / "c.html").write_text(
        "<img src='../_images/a.webp' srcset='../_images/a.webp 1x, ../_images/a2.webp 2x'>"
        "<img src='../_images/a.webp'>", encoding="utf-8")
    ws = {w.page: w for w in weights.weights(root)}
    assert ws["index.html"].bytes == 0  # the theme is not counted
    assert (ws["notebooks/c.html"].images, ws["notebooks/c.html"].bytes) == (1, 1_000_000)
    assert not ws["notebooks/c.html"].over
    (root / "notebooks" / "d.html").write_text("<img src='../_images/a2.webp'>", encoding="utf-8")
    assert weights.page_weight(root, root / "notebooks" / "d.html").over
    assert weights.main([str(root)]) == 1
    (root / "notebooks" / "e.html").write_text("<img src='../_images/gone.webp'>", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="gone.webp"):
        weights.weights(root)


def test_built_book_is_within_its_page_budgets(built_book):
    """Checks the test run's strict build of the book."""
    from kazdiaspora import weights

    root = built_book.html
    ws = weights.weights(root)
    assert [w.page for w in ws if w.over] == [], weights.report(ws)
    chapters = [w for w in ws if w.page.startswith("notebooks/")]
    from kazdiaspora import figpage

    numbers = set(figpage.figure_numbers().values())  # "2.3": chapter 2 shows a third figure
    with_figures = {f"notebooks/{c}.html" for i, c in enumerate(figpage.numbered_chapters(), 1)
                    if any(n.startswith(f"{i}.") for n in numbers)}  # a text-only chapter loads no image
    assert with_figures and all(w.images for w in chapters if w.page in with_figures)
    assert all(n.endswith(".webp") for n in __import__("os").listdir(root / "_images" / "screen"))


def test_every_glossary_term_has_its_forms_and_they_match():
    from kazdiaspora import glossary

    terms = glossary.terms()
    assert sorted(terms) == sorted(glossary.FORMS), "book/glossary.md and glossary.FORMS disagree"
    for term in terms:
        assert glossary.pattern(term).search(term.split(" (")[0]), term
    assert glossary.pattern("Kurultay").search("the World Kurultays of Kazakhs").group(1) == "Kurultays"
    assert not glossary.pattern("Kandas").search("kandastar")  # whole words only


def test_first_use_of_a_term_links_to_the_glossary_once_and_not_in_headings(tmp_path):
    """A tiny Sphinx project with the book's glossary hook: the first use in running text is linked,
    later uses and headings are not, and a page that already links the term gets no second link."""
    from sphinx.application import Sphinx

    src = tmp_path / "src"
    (src / "book").mkdir(parents=True)
    (src / "notebooks").mkdir()
    (src / "conf.py").write_text(
        "import sys\nsys.path.insert(0, %r)\nextensions = ['glossary_hook']\n" % str(tmp_path), encoding="utf-8")
    (tmp_path / "glossary_hook.py").write_text(
        "from kazdiaspora.glossary import link_first_uses\n"
        "def setup(app):\n    app.connect('doctree-resolved', link_first_uses)\n", encoding="utf-8")
    (src / "index.rst").write_text("Book\n====\n\n.. toctree::\n\n   book/glossary\n   notebooks/ch\n   notebooks/ch2\n",
                                   encoding="utf-8")
    (src / "book" / "glossary.rst").write_text(
        "Glossary\n========\n\n.. glossary::\n\n   Kurultay\n      A congress.\n\n   Diaspora\n      Abroad.\n",
        encoding="utf-8")
    (src / "notebooks" / "ch.rst").write_text(
        "The Kurultays and diasporas\n===========================\n\n"
        "Intro without terms, ``Kurultay`` in code.\n\nThe first World Kurultays met. A later Kurultay too.\n",
        encoding="utf-8")
    (src / "notebooks" / "ch2.rst").write_text(
        "Two\n===\n\nAn explicit :term:`Kurultay` link, then Kurultay again.\n", encoding="utf-8")
    out = tmp_path / "out"
    Sphinx(str(src), str(src), str(out), str(tmp_path / "dt"), "html", status=None, warning=None).build()
    html = (out / "notebooks" / "ch.html").read_text(encoding="utf-8")
    assert html.count("kaz-term") == 1
    assert re.search(r'class="kaz-term[^"]*" href="../book/glossary.html#term-Kurultay"[^>]*>Kurultays</a> met', html)
    assert "<h1>The Kurultays" in html  # the heading is left alone
    html2 = (out / "notebooks" / "ch2.html").read_text(encoding="utf-8")
    assert "kaz-term" not in html2 and html2.count("#term-Kurultay") == 1


def test_built_book_names_the_wikipedia_article_in_each_citation(built_book):
    """In the built book: no in-text citation reads only "Wikipedia contributors", which is the same
    for every article."""
    root = built_book.html
    pages = sorted(root.glob("notebooks/*.html")) + [root / "book" / "glossary.html"]
    bad = {p.name: n for p in pages if (n := p.read_text(encoding="utf-8").count(">Wikipedia contributors, "))}
    assert not bad, bad
    assert any(">Wikipedia (" in p.read_text(encoding="utf-8") for p in pages)


def test_each_in_text_citation_names_sources_as_the_references_label_them(built_book):
    """In the built book: every parenthetical citation is '[Name, year; Name, year]', each part the
    label of one References entry (one citation style; a semicolon between sources, since a comma
    parts a name from its year)."""
    from html import unescape

    labels = {bib.cite_label(k) for k in bib.entries()}
    root = built_book.html
    seen, bad = 0, []
    for page in sorted(root.glob("notebooks/*.html")) + sorted((root / "book").rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        for span in re.findall(r'<span class="bibtex-citation"[^>]*>(.*?)</span>', html, re.S):
            text = unescape(re.sub(r"<[^>]+>", "", span)).strip()
            if not text.startswith("["):
                continue  # textual: 'Askhat [n.d.]'
            seen += 1
            parts = text[1:-1].split("; ")
            bad += [f"{page.name}: {text}" for part in parts if part not in labels]
    assert seen > 50 and not bad, bad[:10]


def test_built_references_page_shows_keys_groups_and_back_links(built_book):
    """In the built book: one entry per key of references.bib, under its group, labelled as the text
    cites it (one citation style: 'Kara, n.d.a'; no two alike), ending with the key the data tables
    use, with a line of back-links (pages citing it, figures drawn from it)."""
    from kazdiaspora import paths

    page = built_book.html / "book" / "references.html"
    html = page.read_text(encoding="utf-8")
    labels = re.findall(r'<span class="label"><span class="fn-bracket">\[</span>([^<]+)<span', html)
    expected = sorted(html_escape(bib.cite_label(k), quote=False) for k in bib.entries())
    assert sorted(labels) == expected, "every source once, labelled as the text cites it"
    assert len(set(labels)) == len(labels), "two sources cited alike"
    for key in bib.entries():
        assert f"Key in the data tables: {key}." in html, key
    assert html.count('class="kaz-backlinks') == len(labels)
    for gid, heading in references.GROUPS:
        if references.groups()[gid]:
            assert f'id="refs-{gid}"' in html and heading in html, heading
    assert re.search(r'Cited in: <a class="reference internal" href="../notebooks/', html)
    assert re.search(r'Data in: <a class="reference internal" href="../notebooks/[^"]+#fig-', html)


def test_readingfix_hides_figure_code_and_adds_a_numbered_reference_once():
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    from kazdiaspora import readingfix

    nb = new_notebook(cells=[
        new_markdown_cell("# Chapter\n\nThe first figure shows the counts."),
        new_code_cell('figures.show("census-series")'),
        new_markdown_cell("Below, {numref}`Table %s <tbl-x>` lists them."),
        new_code_cell('tables.show(df, name="tbl-x", caption="c")', metadata={"tags": ["remove-input"]}),
        new_code_cell("x = 1", metadata={"tags": ["remove-cell"]}),
    ])
    changes = readingfix.fix(nb)
    assert nb.cells[1].metadata["tags"] == ["remove-input"]
    assert nb.cells[0].source.endswith("The first figure shows the counts. See {numref}`fig-census-series`.")
    assert nb.cells[2].source == "Below, {numref}`Table %s <tbl-x>` lists them."  # already referred to
    assert len(changes) == 2
    before = nbformat.writes(nb)
    assert readingfix.fix(nb) == [] and nbformat.writes(nb) == before  # idempotent
    nb.cells[1].metadata["tags"] = ["remove-cell"]
    with pytest.raises(ValueError, match="remove-cell"):
        readingfix.fix(nb)
    # a figure under a bare heading: the reference becomes a paragraph, not part of the heading
    nb = new_notebook(cells=[new_markdown_cell("## All routes"), new_code_cell('figures.show("census-series")')])
    readingfix.fix(nb)
    assert nb.cells[0].source == "## All routes\n\nSee {numref}`fig-census-series`."


def test_the_chapters_already_follow_the_reading_rules():
    from kazdiaspora import figpage, paths, readingfix

    for stem in figpage.numbered_chapters():
        assert readingfix.fix_file(paths.NOTEBOOKS_DIR / f"{stem}.ipynb", write=False) == [], stem


def test_index_entries_go_to_the_first_paragraph_naming_them(tmp_path):
    from docutils.core import publish_doctree
    from sphinx import addnodes

    from kazdiaspora import indexing

    csvp = tmp_path / "ix.csv"
    csvp.write_text('entry,pattern\n"Iran; Kazakhs of",Iran\nGorgan,Gorgan\nNowhere,Atlantis\n', encoding="utf-8")
    entries = indexing.load(csvp)
    doc = publish_doctree("Iran and Gorgan\n===============\n\nFirst ``Iran`` in code only.\n\n"
                          "Then Iran in text.\n\nGorgan, and Iran again.\n\nIranian is another word.\n")
    added = indexing.add_entries(doc, "notebooks/x", entries)
    assert added == ["Iran; Kazakhs of", "Gorgan"]
    idx = list(doc.findall(addnodes.index))
    assert [n["entries"][0][1] for n in idx] == added
    # each index node stands just before the first paragraph naming its entry (not the title, not code)
    after = [n.parent[n.parent.index(n) + 2].astext() for n in idx]
    assert after == ["Then Iran in text.", "Gorgan, and Iran again."]
    assert indexing.add_entries(doc, "book/references", entries) == []  # only chapters and front matter
    bad = tmp_path / "bad.csv"
    bad.write_text("entry,pattern\nX,(unclosed\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 2, column pattern"):
        indexing.load(bad)


def test_book_index_entries_are_valid_and_each_found_in_a_chapter():
    from kazdiaspora import figpage, indexing

    entries = indexing.load()
    assert len({e for e, _ in entries}) == len(entries), "an entry listed twice"
    from kazdiaspora import paths

    text = " ".join(_notebook_text(s)[0] for s in figpage.numbered_chapters())
    import nbformat

    front = nbformat.read(paths.ROOT / "book" / "intro.ipynb", as_version=4)  # the front page is a notebook
    text += " ".join(c.source for c in front.cells if c.cell_type == "markdown")
    text += (paths.ROOT / "book" / "methods.md").read_text(encoding="utf-8")
    missing = [e for e, rx in entries if not rx.search(text)]
    assert len(missing) <= len(entries) // 5, f"many index entries name nothing in the chapters: {missing}"


def test_the_bibliography_is_formatted_again_only_when_its_inputs_change(tmp_path):
    """A tiny Sphinx project with sphinxcontrib-bibtex and the book's reuse of the formatted
    bibliography: a second build with nothing changed formats nothing and writes the same page; an
    edited entry is formatted again and shown; a build that warns (an unknown key) leaves nothing
    to reuse, so the next build formats again and warns again."""
    import subprocess
    import sys

    from kazdiaspora import reading_sphinx

    src = tmp_path / "src"
    src.mkdir()
    (tmp_path / "bib_hook.py").write_text(
        "from kazdiaspora.reading_sphinx import reuse_formatted_bibliography as setup\n", encoding="utf-8")
    (src / "conf.py").write_text(
        "import sys\nsys.path.insert(0, %r)\nextensions = ['sphinxcontrib.bibtex', 'bib_hook']\n"
        "bibtex_bibfiles = ['refs.bib']\n" % str(tmp_path), encoding="utf-8")
    bib = ("@book{alpha,\n  author = {Alpha, Anna},\n  title = {{%s}},\n  year = {2001},\n  publisher = {P}\n}\n"
           "@book{beta,\n  author = {Beta, Bob},\n  title = {{Second}},\n  year = {2002},\n  publisher = {P}\n}\n")
    (src / "refs.bib").write_text(bib % "First title", encoding="utf-8")
    (src / "index.rst").write_text("Book\n====\n\nSee :cite:p:`alpha`.\n\n.. toctree::\n\n   two\n\n"
                                   ".. bibliography::\n", encoding="utf-8")
    (src / "two.rst").write_text("Two\n===\n\nAnd :cite:p:`beta`.\n", encoding="utf-8")
    out, dt = tmp_path / "out", tmp_path / "dt"
    driver = ("import io, sys\nfrom sphinx.application import Sphinx\nfrom kazdiaspora import reading_sphinx\n"
              "warn = io.StringIO()\n"
              f"Sphinx({str(src)!r}, {str(src)!r}, {str(out)!r}, {str(dt)!r}, 'html', status=None, warning=warn).build()\n"
              "print(reading_sphinx.FORMATTED[0]); print(warn.getvalue())\n")

    def build():  # each build in a process of its own, as `make book` runs it
        done = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, check=True)
        n, _, warned = done.stdout.partition("\n")
        return int(n), (out / "index.html").read_text(encoding="utf-8"), warned.strip()

    n, first, warned = build()
    assert n == 1 and "First title" in first and not warned
    n, again, _ = build()
    assert n == 0 and again == first
    (src / "refs.bib").write_text(bib % "Corrected title", encoding="utf-8")
    n, edited, _ = build()
    assert n == 1 and "Corrected title" in edited and "First title" not in edited
    (src / "two.rst").write_text("Two\n===\n\nAnd :cite:p:`beta` and :cite:p:`gamma`.\n", encoding="utf-8")
    n, _, warned = build()
    assert n == 1 and "gamma" in warned
    assert not (dt / reading_sphinx.BIB_KEY_FILE).exists()
    n, _, _ = build()
    assert n == 1  # formatted again: what a build that warned formatted is never reused


def test_screen_images_made_ahead_are_those_the_build_would_make(tmp_path):
    """The build starts making the screen images in a forked process before it reads the pages
    (screen.make_ahead): the files are those make() writes, and make() then finds them."""
    import os

    from PIL import Image

    src = tmp_path / "demo.png"
    Image.new("RGB", (2000, 1000), (20, 90, 160)).save(src)
    pid = screen.make_ahead([src], tmp_path / "ahead")
    assert pid
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    ahead = {p.name: p.read_bytes() for p in (tmp_path / "ahead").iterdir()}
    for kind in screen.WIDTHS:
        screen.make(src, tmp_path / "here", kind)
    here = {p.name: p.read_bytes() for p in (tmp_path / "here").iterdir()}
    assert ahead == here and len(here) == 2 * len(screen.WIDTHS)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "ahead").iterdir()}
    for kind in screen.WIDTHS:
        screen.make(src, tmp_path / "ahead", kind)
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "ahead").iterdir()} == before
    assert screen.make_missing([src], tmp_path / "ahead") == []


NUMREF = re.compile(r'<a class="reference internal" href="([^"#]*)#([^"]+)"><span class="std std-numref">([^<]+)</span></a>')


@pytest.mark.slow
def test_every_numbered_reference_names_the_number_its_target_shows(built_book):
    """"Figure 2.3" in the text is the number printed under the figure it links to (and the same
    for tables), on every page: numbered references are resolved from a doctree kept for the
    writing phase (kazdiaspora.sphinxext), which must never give the number of another target."""
    import posixpath

    root = built_book.html
    pages: dict[str, str] = {}

    def page(rel: str) -> str:
        if rel not in pages:
            pages[rel] = (root / rel).read_text(encoding="utf-8")
        return pages[rel]

    checked = 0
    for f in sorted(root.rglob("*.html")):
        rel = f.relative_to(root).as_posix()
        for href, anchor, text in NUMREF.findall(page(rel)):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), href)) if href else rel
            html = page(target)
            at = html.find(f'id="{anchor}"')
            assert at >= 0, f"{rel}: {text} links to {target}#{anchor}, which is not there"
            shown = re.search(r'<span class="caption-number">([^<]+)</span>', html[at:])
            assert shown and shown.group(1).strip() == text.strip(), \
                f"{rel}: the text says {text!r}, {target}#{anchor} shows {shown.group(1) if shown else None!r}"
            checked += 1
    assert checked >= 20, f"only {checked} numbered references found"
