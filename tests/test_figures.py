"""Figure registry and export: source lines, byte-stable files, all-or-nothing writes, the figures page."""
from __future__ import annotations

import os

import json

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from kazdiaspora import figures, figpage, paths, style


@pytest.fixture
def demo():
    fid = "test-demo-figure"

    @figures.register(fid, chapter="00_test", title="A demo figure",
                      caption=lambda d: f"{len(d)} rows plotted.", alt=lambda d: f"Bar chart of {len(d)} demo values.")
    def build():
        d = pd.DataFrame({"label": ["a", "b"], "value": [1.0, 2.0],
                          "source_key": ["askhat_grfdt", "askhat_grfdt"], "locator": ["Table 1", "Table 2"]})
        fig, ax = style.new_figure(2.0, layout="constrained")
        ax.bar(d["label"], d["value"])
        ax.set_ylabel("Value (persons)")
        return fig, d

    yield fid
    figures.REGISTRY.pop(fid, None)


def test_render_adds_source_line_and_texts(demo):
    r = figures.render(demo)
    assert r.sources == ["askhat_grfdt"]
    assert r.source_line.startswith("Source: Askhat (n.d.).")
    assert "CC BY 4.0" in r.source_line
    assert any(t.get_text().startswith("Source: Askhat") for t in r.fig.texts)
    assert r.caption == "2 rows plotted." and r.alt == "Bar chart of 2 demo values."
    plt.close(r.fig)


def test_export_is_byte_identical_and_complete(demo, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        r = figures.render(demo)
        figures.export(r, d)
        plt.close(r.fig)
    names = sorted(p.name for p in a.iterdir())
    assert names == [f"{demo}.{e}" for e in ("csv", "hotspots.json", "json", "pdf", "png", "svg")]
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), f"{n} differs between two exports"
    assert b"Software" not in (a / f"{demo}.png").read_bytes()
    # the plotted columns, then the evidence every figure's CSV carries (kazdiaspora.evidence.annotate)
    assert (a / f"{demo}.csv").read_text().splitlines()[0] == \
        "label,value,source_key,locator,status,status_note,reference_year,grade,reference"
    meta = json.loads((a / f"{demo}.json").read_text())
    assert meta["alt"] == "Bar chart of 2 demo values." and meta["rows"] == 2


def test_png_and_pdf_drawn_from_the_same_figure_are_kept_and_otherwise_drawn_again(demo, tmp_path, monkeypatch):
    """A second export of an unchanged figure keeps its PNG and PDF (they say what they were drawn
    from); a changed figure, a file drawn from something else or a file that is not what it says
    is drawn again."""
    real, log = figures._save_bytes, tmp_path / "drawn.log"

    def counting(fig, fmt, key=None):  # noted in a file: the PDF is written in a forked copy
        with open(log, "a") as fh:
            fh.write(fmt + "\n")
        return real(fig, fmt, key)

    monkeypatch.setattr(figures, "_save_bytes", counting)

    def export():
        log.write_text("")
        r = figures.render(demo)
        out = figures.export(r, tmp_path / "out")
        plt.close(r.fig)
        return out, sorted(log.read_text().split())

    first, d = export()
    assert d == ["pdf", "png", "svg"]
    png, pdf = first["png"].read_bytes(), first["pdf"].read_bytes()
    _, d = export()
    assert d == ["svg"] and first["png"].read_bytes() == png and first["pdf"].read_bytes() == pdf
    # a file kept only when it says so: a PNG without the mark (an older export) is drawn again
    first["png"].write_bytes(png.replace(figures.DRAWN_FROM.encode(), b"something-else-entir"[:len(figures.DRAWN_FROM)]))
    first["pdf"].write_bytes(b"%PDF-1.4 not a figure")
    _, d = export()
    assert d == ["pdf", "png", "svg"] and first["png"].read_bytes() == png and first["pdf"].read_bytes() == pdf
    # a changed figure: drawn again, and the new files differ
    build = figures.REGISTRY[demo].build

    def changed():
        fig, d = build()
        fig.axes[0].set_ylabel("Another label (persons)")
        return fig, d

    monkeypatch.setattr(figures.REGISTRY[demo], "build", changed)
    _, d = export()
    assert d == ["pdf", "png", "svg"] and first["png"].read_bytes() != png


def test_the_pdf_written_in_a_forked_copy_is_the_one_written_here(demo):
    r = figures.render(demo)
    here = figures._save_bytes(r.fig, "pdf", "k")
    forked = figures._Forked(lambda: figures._save_bytes(r.fig, "pdf", "k"))
    assert forked.pid is not None and forked.pid != os.getpid()
    assert forked.result() == here
    plt.close(r.fig)


def test_a_failure_in_the_forked_copy_is_raised_here():
    """A figure that cannot be written (a glyph missing from the font is an error) fails in the
    copy; the parent then writes it itself and raises the error where the export called it."""
    calls = []

    def boom():
        calls.append(os.getpid())
        raise ValueError("Glyph 1234 missing from font")

    forked = figures._Forked(boom)
    assert forked.pid is not None
    with pytest.raises(ValueError, match="Glyph 1234"):
        forked.result()
    assert calls == [os.getpid()]  # the copy's own attempt stayed in the copy


def _fail_saving(monkeypatch, failing_fmt: str, exc: Exception) -> None:
    """Make writing one format of a figure raise ``exc``; the others are written as usual."""
    real = figures._save_bytes

    def save(fig, fmt, key=None):
        if fmt == failing_fmt:
            raise exc
        return real(fig, fmt, key)

    monkeypatch.setattr(figures, "_save_bytes", save)


def test_a_failed_png_leaves_no_forked_copy_behind(demo, tmp_path, monkeypatch):
    """The PDF is being written in a forked copy when the PNG fails: the copy is stopped and
    collected, not left running or as a zombie."""
    _fail_saving(monkeypatch, "png", ValueError("Glyph 1234 missing from font"))
    made, pids = [], []

    def forked(fn, _F=figures._Forked):
        made.append(_F(fn))
        pids.append(made[-1].pid)
        return made[-1]

    monkeypatch.setattr(figures, "_Forked", forked)
    r = figures.render(demo)
    with pytest.raises(ValueError, match="Glyph 1234"):
        figures.export(r, tmp_path)
    plt.close(r.fig)
    assert len(made) == 1 and pids[0] is not None and made[0].pid is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pids[0], os.WNOHANG)  # the copy was collected: it is no longer this process's child


def test_failed_export_leaves_nothing_half_written(demo, tmp_path, monkeypatch):
    _fail_saving(monkeypatch, "pdf", RuntimeError("disk full"))
    r = figures.render(demo)
    with pytest.raises(RuntimeError, match="disk full"):
        figures.export(r, tmp_path)
    plt.close(r.fig)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_midway_removes_temporary_files(demo, tmp_path, monkeypatch):
    import os as _os

    calls = {"n": 0}
    real_replace = _os.replace

    def replace(src, dst):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("interrupted")
        return real_replace(src, dst)

    monkeypatch.setattr(figures.os, "replace", replace)
    r = figures.render(demo)
    with pytest.raises(OSError):
        figures.export(r, tmp_path)
    plt.close(r.fig)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_unknown_source_key_is_refused():
    d = pd.DataFrame({"source_key": ["no_such_key"], "locator": ["x"]})
    with pytest.raises(ValueError, match="no_such_key"):
        figures.source_keys(d)
    with pytest.raises(ValueError, match="source_key"):
        figures.source_keys(pd.DataFrame({"value": [1]}))


def test_display_is_a_numbered_figure_with_one_title_alt_caption_and_download_link(demo):
    r = figures.render(demo)
    md = figures.FigureDisplay(r)._repr_markdown_()
    # the image carries the same single title as the caption
    sup = r.fig._suptitle.get_text() if r.fig._suptitle else ""
    ax_titles = [ax.get_title(loc=l) for ax in r.fig.axes for l in ("center", "left", "right")]
    plt.close(r.fig)
    lines = md.splitlines()
    assert lines[0] == ":::{figure} ../figures/test-demo-figure.png"
    assert ":name: fig-test-demo-figure" in lines  # {numref} target: "Figure 1.2"
    assert ":alt: Bar chart of 2 demo values." in lines
    assert lines[-1] == ":::"
    body = md.split("\n\n")
    assert body[1] == "A demo figure"  # the caption's first paragraph is the one title
    assert body[2].startswith("2 rows plotted.")
    assert "<figdata-test-demo-figure>" in md
    assert "A demo figure" in sup or "A demo figure" not in " ".join(ax_titles)
    assert repr(figures.FigureDisplay(r)) == "Figure test-demo-figure: A demo figure"


def test_unify_title_replaces_the_drawn_heading_but_not_panel_titles():
    fig, ax = style.new_figure(2.0)
    ax.set_title("Another wording of the title")
    figures.unify_title(fig, "The one title")
    assert ax.get_title() == "The one title"
    plt.close(fig)
    fig, (a, b) = plt.subplots(1, 2)
    a.set_title("A. First panel")
    b.set_title("B. Second panel")
    figures.unify_title(fig, "The one title")
    assert (a.get_title(), b.get_title()) == ("A. First panel", "B. Second panel")
    plt.close(fig)


def test_figure_numbers_follow_the_chapters_and_the_show_calls():
    nums = figpage.figure_numbers()
    specs = figures.load_all()
    assert set(nums) == set(specs), "every figure shown once in a numbered chapter"
    chapters = figpage.numbered_chapters()
    for fid, n in nums.items():
        ch, k = n.split(".")
        assert chapters[int(ch) - 1] == specs[fid].chapter, fid
    by_chapter = {}
    for fid, n in nums.items():
        by_chapter.setdefault(n.split(".")[0], []).append(int(n.split(".")[1]))
    for ch, ks in by_chapter.items():
        assert sorted(ks) == list(range(1, len(ks) + 1)), f"chapter {ch}: numbers {sorted(ks)}"


def test_register_rejects_bad_ids():
    with pytest.raises(ValueError):
        figures.register("Bad_ID", chapter="x", title="t", caption="c", alt="a")


def test_every_registered_figure_is_exported_and_titles_are_unique():
    specs = figures.load_all()
    titles = [s.title for s in specs.values()]
    assert len(titles) == len(set(titles)), "figure titles must be unique (they are the page anchors)"
    exported = {p.stem for p in paths.FIGURES_DIR.glob("*.json") if not p.name.endswith(".hotspots.json")}
    assert exported == set(specs), f"figures/ out of sync with the registry: run `make figures` " \
                                   f"(missing {sorted(set(specs) - exported)}, stale {sorted(exported - set(specs))})"
    for fid, spec in specs.items():
        assert spec.chapter, fid
        assert (paths.NOTEBOOKS_DIR / f"{spec.chapter}.ipynb").exists(), f"{fid}: no notebook {spec.chapter}"


def test_figures_page_is_up_to_date():
    page = figpage.PAGE.read_text(encoding="utf-8")
    assert page == figpage.render_page(), "book/figures.md is stale: run `make figures`"


@pytest.mark.slow
@pytest.mark.parametrize("fid", sorted(figures.load_all()))
def test_committed_figures_equal_a_fresh_export_outside_jupyter(fid, tmp_path):
    """`make figures` reproduces, byte for byte, what the notebooks exported and what is committed.
    This is also the determinism test of every figure: the committed files come from another
    process (the notebook's kernel) that drew the figures in another order, so a figure whose bytes
    depended on the run would differ here (one figure per case, so that the test workers share them;
    the figure is the one the chart tests of this worker render, drawn once per worker)."""
    from conftest import rendered

    figures.export(rendered(fid), tmp_path)
    for ext in ("png", "svg", "pdf", "csv", "json"):
        fresh = (tmp_path / f"{fid}.{ext}").read_bytes()
        committed = (paths.FIGURES_DIR / f"{fid}.{ext}").read_bytes()
        assert fresh == committed, f"figures/{fid}.{ext} differs from a fresh export: run `make figures`"


def test_svg_ids_do_not_depend_on_float_noise():
    """Two SVGs that differ only in the hash of a clip path (a coordinate's last bits) come out equal."""
    a = b'<clipPath id="p805a7285ac"><rect/></clipPath><g clip-path="url(#p805a7285ac)"/><path id="mc481edc87d"/><use xlink:href="#mc481edc87d"/>'
    b = a.replace(b"p805a7285ac", b"pbd977eab74").replace(b"mc481edc87d", b"m0123456789")
    assert a != b and figures.stable_svg_ids(a) == figures.stable_svg_ids(b)
    assert b'url(#p0000000001)' in figures.stable_svg_ids(a) and b'#m0000000001' in figures.stable_svg_ids(a)


def test_every_entry_of_the_figures_page_says_how_to_get_its_paper_files():
    """Each figure's entry on the Figures and data page names the command that writes its paper
    edition and links the section of the paper page that explains the files."""
    page = figpage.render_page()
    entries = page.split("\n(figdata-")[1:]
    assert len(entries) == len(figures.load_all())
    for e in entries:
        fid = e.split(")=", 1)[0]
        assert f"`python -m kazdiaspora.figures paper {fid}`" in e, fid
        assert f"<{figpage.PAPER_TARGET}>`" in e, fid
    assert f"({figpage.PAPER_TARGET})=\n## Making the files" in (paths.ROOT / "book/paper_figures.md").read_text(encoding="utf-8")


def test_the_figures_page_is_rendered_again_only_when_an_input_changed(tmp_path, monkeypatch):
    """`write_page` (run after every execution) skips the work when nothing it reads changed; a
    changed figure caption, a page edited by hand or a changed notebook make it render again."""
    import shutil

    figdir = tmp_path / "figures"
    figdir.mkdir()
    for p in paths.FIGURES_DIR.glob("*.json"):
        shutil.copy(p, figdir / p.name)
    page = tmp_path / "figures.md"
    monkeypatch.setattr(paths, "FIGURES_DIR", figdir)
    monkeypatch.setattr(figpage, "PAGE", page)
    monkeypatch.setattr(figpage, "STAMP", tmp_path / "stamp")
    calls = []
    real = figpage.render_page
    monkeypatch.setattr(figpage, "render_page", lambda d=None: calls.append(1) or real(d))

    assert figpage.write_page(figdir, page) is True and len(calls) == 1
    assert figpage.write_page(figdir, page) is False and len(calls) == 1  # nothing changed: nothing rendered
    meta = json.loads((figdir / "census-series.json").read_text(encoding="utf-8"))
    meta["caption"] += " Edited."
    (figdir / "census-series.json").write_text(json.dumps(meta), encoding="utf-8")
    assert figpage.write_page(figdir, page) is True and len(calls) == 2
    assert "Edited." in page.read_text(encoding="utf-8")
    page.write_text("edited by hand\n", encoding="utf-8")
    assert figpage.write_page(figdir, page) is True and len(calls) == 3
    assert page.read_text(encoding="utf-8") == real(figdir)
    # another page than the book's own is always rendered
    other = tmp_path / "other.md"
    figpage.write_page(figdir, other)
    figpage.write_page(figdir, other)
    assert len(calls) == 5


@pytest.mark.parametrize("fid", sorted(figures.load_all()))
def test_no_text_of_a_book_figure_overlaps_another(fid):
    """In the book's figures as on the site, no two texts overlap (tick labels, labels, legends,
    titles, the source line) and no annotation's leader line crosses a text: the paper edition's
    check (kazdiaspora.paper.text_overlaps), applied to the book edition. It found a legend
    standing on a panel's title and data, two tick labels of a narrow panel run together, and a
    label crossed by leader lines."""
    from conftest import rendered

    from kazdiaspora import paper

    r = rendered(fid)
    assert paper.text_overlaps(r.fig) == [], f"{fid}: texts overlap"


@pytest.mark.parametrize("fid", sorted(figures.load_all()))
def test_no_key_of_a_book_figure_hides_its_data(fid):
    """No legend stands on a plotted row's mark or label (kazdiaspora.hotspots.covered_by_legends,
    from the marks each row is drawn as). The totals chart's key hid ten of its twenty figures."""
    from conftest import rendered

    from kazdiaspora import hotspots

    assert hotspots.covered_by_legends(rendered(fid).fig) == [], f"{fid}: a key covers plotted rows"


@pytest.mark.parametrize("fid", sorted(figures.load_all()))
def test_no_label_of_a_book_figure_lies_on_another_figures_mark(fid):
    """No figure's label stands on the marker of another figure (kazdiaspora.hotspots.labels_over_marks):
    the reader would take one number for the other. On the Iran returnees chart the label of the
    1991-1999 total began on the 1991-2000 total's diamond."""
    from conftest import rendered

    from kazdiaspora import hotspots

    assert hotspots.labels_over_marks(rendered(fid).fig) == [], f"{fid}: a label lies on another row's marker"


def test_a_label_on_a_neighbours_marker_is_found():
    """The check above finds a label drawn over the next row's marker, and not its own."""
    from kazdiaspora import hotspots

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    for rid, x in (("a", 2), ("b", 6)):
        hotspots.tag(ax.plot(x, 5, marker="D", ms=7)[0], rid)
    try:
        hotspots.tag(ax.annotate("a: 4,800", xy=(2, 5), xytext=(2.4, 6), fontsize=8), "a")
        assert hotspots.labels_over_marks(fig) == []  # over its own marker at most
        far = hotspots.tag(ax.annotate("a: 4,800 persons", xy=(2, 5), xytext=(4.5, 5), fontsize=8), "a")
        assert hotspots.labels_over_marks(fig) == [("a", "b")]
        far.set_visible(False)
        sc = ax.scatter([8], [2], s=60)
        hotspots.tag(sc, ["c"])
        hotspots.tag(ax.text(7.6, 1.8, "b", fontsize=9), "b")
        assert hotspots.labels_over_marks(fig) == [("b", "c")]
    finally:
        plt.close(fig)


def key_groups_out_of_place(fig) -> list[str]:
    """What is wrong with the keys of ``fig`` as the book's grammar reads them: an entry for a kind,
    a status or a grade whose heading is missing, or stands in another column or below it."""
    from matplotlib.legend import Legend

    from kazdiaspora import evidence, style

    groups = {evidence.KIND_HEADING: set(style.KIND_LABEL.values()),
              evidence.STATUS_HEADING: set(evidence.STATUS_LABEL.values()),
              evidence.GRADE_HEADING: set(evidence.GRADE_LABEL.values())}
    fig.draw_without_rendering()
    r = fig.canvas.get_renderer()
    out = []
    for lg in fig.findobj(Legend):
        where = {" ".join(t.get_text().split()): t.get_window_extent(r) for t in lg.get_texts()}
        for head, labels in groups.items():
            for lab in sorted(labels & set(where)):
                h = where.get(head)
                if h is None:
                    out.append(f"{lab!r}: no heading {head!r} in its key")
                elif abs(where[lab].x0 - h.x0) > 1 or where[lab].y1 > h.y0 + 1:
                    out.append(f"{lab!r}: not under {head!r} in the same column")
    return out


@pytest.mark.parametrize("fid", sorted(figures.load_all()))
def test_every_key_names_the_grammar_the_same_way(fid):
    """The same mark means the same thing in every figure, and every key says so in the same words:
    each entry for a kind of figure, a status or a grade stands under its heading, in its column.
    (The waves timeline split the reliability heading from its entries and had no heading for the
    kinds; other keys called the kinds "Kind of source" or "Kind of count".)"""
    from conftest import rendered

    assert key_groups_out_of_place(rendered(fid).fig) == []


def test_a_key_split_from_its_heading_is_found():
    from kazdiaspora import evidence

    fig, ax = plt.subplots(figsize=(6, 2))
    try:
        hs = evidence.status_handles() + evidence.grade_handles()
        ax.legend(handles=hs, ncol=1)
        assert key_groups_out_of_place(fig) == []
        ax.legend(handles=hs, ncol=2)  # the column break falls inside the status group
        assert any("not under" in p for p in key_groups_out_of_place(fig))
        ax.legend(handles=evidence.kind_handles(["census"], with_heading=False))
        assert key_groups_out_of_place(fig) == ["'Census': no heading 'Kind of figure (shape and colour):' in its key"]
    finally:
        plt.close(fig)


@pytest.mark.parametrize("fid", sorted(figures.load_all()))
def test_no_mark_of_a_book_figure_is_cut_by_its_axes(fid):
    """No figure's marker stands across the edge of its panel (kazdiaspora.hotspots.marks_cut_by_axes):
    the famine's square on the timeline of turning points stood on the axis line at 1930."""
    from conftest import rendered

    from kazdiaspora import hotspots

    assert hotspots.marks_cut_by_axes(rendered(fid).fig) == [], f"{fid}: a mark is cut by its axes"


def test_a_mark_on_the_axis_line_is_found():
    from kazdiaspora import hotspots

    fig, ax = plt.subplots(figsize=(3, 2))
    try:
        ax.set_xlim(1930, 2030)
        ax.set_ylim(0, 10)
        hotspots.tag(ax.plot([1960], [5], marker="s", ms=8, ls="")[0], "inside")
        hotspots.tag(ax.plot([2000], [0.1], marker="_", ms=12, mew=2, ls="")[0], "flat, on its line")
        assert hotspots.marks_cut_by_axes(fig) == []
        hotspots.tag(ax.plot([1931], [5], marker="s", ms=8, ls="")[0], "famine")
        hotspots.tag(ax.scatter([1990, 2030], [5, 9.9], s=40), ["ok", "edge"])
        assert hotspots.marks_cut_by_axes(fig) == ["edge", "famine"]
    finally:
        plt.close(fig)


def test_a_key_over_the_data_is_found():
    """The check above finds a legend placed over the marks it explains."""
    from kazdiaspora import hotspots

    fig, ax = plt.subplots(figsize=(3, 2))
    pts = ax.scatter([0.1, 0.5, 0.9], [0.5, 0.5, 0.5], label="figures")
    hotspots.tag(pts, ["a", "b", "c"])
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    try:
        assert hotspots.covered_by_legends(fig) == []
        ax.legend(loc="center", markerscale=3, fontsize=14)
        assert ("b", "figures") in hotspots.covered_by_legends(fig)
    finally:
        plt.close(fig)


def test_methods_names_the_keys_headings_as_the_charts_do():
    """Methods tells the reader what each heading of a chart's key means, in the charts' words."""
    from kazdiaspora import evidence, paths

    text = " ".join((paths.ROOT / "book" / "methods.md").read_text(encoding="utf-8").split())
    for h in (evidence.KIND_HEADING, evidence.STATUS_HEADING, evidence.GRADE_HEADING, evidence.OTHER_HEADING):
        assert f"*{h.rstrip(':')}*" in text, h
