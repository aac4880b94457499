"""Browser checks of the evidence layer (issue 15), on the built book, with ``browser_check.Browser``.

* :func:`check_hotspots` — on a page, every figure with hotspot data gets its layer; for a sample of
  marks in every figure, moving the mouse (real DevTools mouse events) over the mark shows that
  row's popover (its id and value as printed), moving away hides it, and focusing the mark's
  button (keyboard) shows it too; each button lies over its image;
* :func:`check_explorer` — the explorer table holds every figure row of data/; the search box
  filters it (every row left contains the term); a filter pane (Status) selects exactly the rows
  with that status;
* :func:`check_profiles_reachable` — each country profile is linked from the front page (its
  table of contents), from the explorer and from a map's marks;
* :func:`layer_weight` — bytes the interactive layer adds to a page (embedded data + JS + CSS).

Run from the repository root: ``.venv/bin/python tests/evidence_check.py [_build/html]``.
"""
from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_check as bc  # noqa: E402

MAX_LAYER_BYTES = 300_000
SAMPLE_PER_FIGURE = 6
LAYER_FILES = ("_static/hotspots.js", "_static/hotspots.css")

_SCRIPT = re.compile(r'<script type="application/json" class="kaz-hotspots" data-figure-id="([a-z0-9-]+)">(.*?)</script>',
                     re.S)


def page_hotspots(page: Path) -> dict[str, dict]:
    """figure id -> embedded hotspot data of a built page (static read of the HTML)."""
    out = {}
    for fid, text in _SCRIPT.findall(page.read_text(encoding="utf-8")):
        out[fid] = json.loads(text.replace("<\\/", "</"))
    return out


def layer_weight(root: Path, page: Path) -> int:
    """Bytes added by the interactive layer to ``page``: its embedded scripts plus the JS and CSS files."""
    html = page.read_text(encoding="utf-8")
    embedded = sum(len(m.group(0).encode()) for m in _SCRIPT.finditer(html))
    return embedded + sum((root / f).stat().st_size for f in LAYER_FILES if (root / f).exists())


PROBE = r"""
(() => {
  const wraps = [...document.querySelectorAll('.kaz-hs-wrap')];
  return wraps.map(w => {
    const img = w.querySelector('img');
    const ir = img.getBoundingClientRect();
    const btns = [...w.querySelectorAll('button.kaz-hs')];
    const outside = btns.filter(b => { const r = b.getBoundingClientRect(); const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
      return cx < ir.left - 1 || cx > ir.right + 1 || cy < ir.top - 1 || cy > ir.bottom + 1; }).length;
    return {id: w.dataset.figureId, buttons: btns.length, focusable: btns.filter(b => b.tabIndex === 0).length,
            rows: [...new Set(btns.map(b => b.dataset.rowId))].length, outside, imgw: ir.width,
            labelled: btns.filter(b => (b.getAttribute('aria-label') || '').length > 10).length};
  });
})()
"""

POINT = r"""
((fid, k) => {
  const w = document.querySelector('.kaz-hs-wrap[data-figure-id="' + fid + '"]');
  const btns = [...w.querySelectorAll('button.kaz-hs')].filter(b => b.tabIndex === 0);
  const b = btns[k];
  b.scrollIntoView({block: 'center', inline: 'center'});
  const r = b.getBoundingClientRect();
  // a point of the button not covered by another element (overlapping marks)
  for (const [fx, fy] of [[.5, .5], [.3, .5], [.7, .5], [.5, .3], [.5, .7], [.2, .2], [.8, .8], [.2, .8], [.8, .2]]) {
    const x = r.left + r.width * fx, y = r.top + r.height * fy;
    if (document.elementFromPoint(x, y) === b) return {x, y, id: b.dataset.rowId, n: btns.length};
  }
  return {x: null, y: null, id: b.dataset.rowId, n: btns.length};
})
"""

POPOVER = r"""
((fid) => {
  const w = document.querySelector('.kaz-hs-wrap[data-figure-id="' + fid + '"]');
  const p = w.querySelector('.kaz-hs-pop');
  return {visible: !p.hidden && p.offsetHeight > 0, text: p.textContent};
})
"""

HIDE_WAIT_MS = 600
"""How long the popover may take to hide after the mouse leaves its mark (the page waits 250 ms)."""

POPOVER_HIDDEN = r"""
(async (fid, ms) => {
  const p = document.querySelector('.kaz-hs-wrap[data-figure-id="' + fid + '"] .kaz-hs-pop');
  for (let t = 0; t <= ms; t += 25) {
    if (p.hidden || p.offsetHeight === 0) return true;
    await new Promise(r => setTimeout(r, 25));
  }
  return false;
})
"""

FOCUS = r"""
((fid, k) => {
  const w = document.querySelector('.kaz-hs-wrap[data-figure-id="' + fid + '"]');
  const b = [...w.querySelectorAll('button.kaz-hs')].filter(b => b.tabIndex === 0)[k];
  b.focus();
  const p = w.querySelector('.kaz-hs-pop');
  const r = {active: document.activeElement === b, visible: !p.hidden, text: p.textContent, id: b.dataset.rowId};
  b.blur();
  return r;
})
"""


def _call(b, s, fn: str, *args):
    return b.evaluate(s, f"({fn})({', '.join(json.dumps(a) for a in args)})")


def _mouse(b, s, x, y):
    b.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y}, s)


def sample(n: int, k: int = SAMPLE_PER_FIGURE) -> list[int]:
    """Indices of a spread sample of k out of n (first, last and evenly between)."""
    if n <= k:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})


def check_hotspots(b, s, root: Path, page: Path) -> tuple[list, dict]:
    """Problems and a summary {figure: {marks, rows, sampled, hovered, focused, covered}}."""
    rel = page.relative_to(root).as_posix()
    problems, summary = [], {}
    expected = page_hotspots(page)
    b.goto(s, page.as_uri())
    b.evaluate(s, bc.PAGE_PROBE, timeout=30)
    layers = {x["id"]: x for x in b.evaluate(s, PROBE)}
    for fid, data in sorted(expected.items()):
        drawn = [r for r in data["rows"] if r.get("boxes")]
        rows = {r["id"]: r for r in data["rows"]}
        lay = layers.get(fid)
        if lay is None:
            problems.append(bc.Problem(rel, "no-hotspot-layer", fid))
            continue
        if lay["rows"] != len(drawn) or lay["focusable"] != len(drawn):
            problems.append(bc.Problem(rel, "hotspot-count", f"{fid}: {lay['rows']} rows with buttons, "
                                                             f"{lay['focusable']} focusable, {len(drawn)} drawn rows in the data"))
        if lay["outside"]:
            problems.append(bc.Problem(rel, "hotspot-outside-image", f"{fid}: {lay['outside']} buttons"))
        if lay["labelled"] != lay["buttons"]:
            problems.append(bc.Problem(rel, "hotspot-no-label", f"{fid}: {lay['buttons'] - lay['labelled']} buttons"))
        info = {"marks": lay["buttons"], "rows": len(data["rows"]), "drawn": len(drawn), "sampled": 0,
                "hovered": 0, "focused": 0, "covered": 0}
        ks = sample(lay["focusable"])
        for k in ks:
            info["sampled"] += 1
            pt = _call(b, s, POINT, fid, k)
            r = rows[pt["id"]]
            want = [r["id"]] + ([r["printed"]] if r.get("printed") else [])
            if pt["x"] is None:
                info["covered"] += 1
            else:
                _mouse(b, s, pt["x"], pt["y"])
                pop = _call(b, s, POPOVER, fid)
                if pop["visible"] and all(w in pop["text"] for w in want):
                    info["hovered"] += 1
                else:
                    problems.append(bc.Problem(rel, "hover-no-row-text", f"{fid}: {r['id']} (popover: "
                                                                          f"{pop['text'][:80]!r})"))
                _mouse(b, s, 1, 1)
                # the popover hides a moment after the mouse leaves (so that it can be entered); every
                # mark of a figure shares one handler, so this is checked on its first and last mark
                if k in (ks[0], ks[-1]) and _call(b, s, POPOVER_HIDDEN, fid, HIDE_WAIT_MS) is not True:
                    problems.append(bc.Problem(rel, "popover-stays", f"{fid}: {r['id']} {HIDE_WAIT_MS} ms after the mouse left"))
            f = _call(b, s, FOCUS, fid, k)
            if f["active"] and f["visible"] and all(w in f["text"] for w in want):
                info["focused"] += 1
            else:
                problems.append(bc.Problem(rel, "focus-no-row-text", f"{fid}: {r['id']}"))
        summary[fid] = info
    return problems, summary


# ----------------------------------------------------------------------------- explorer
EXPLORER_READY = r"""
(async () => {
  for (let i = 0; i < 100; i++) {
    const info = document.querySelector('.kaz-explorer .dt-info');
    if (info && document.querySelector('.kaz-explorer .dtsp-searchPane')) return info.textContent;
    await new Promise(r => setTimeout(r, 100));
  }
  return null;
})()
"""

EXPLORER_SEARCH = r"""
(async (term) => {
  const input = document.querySelector('.kaz-explorer .dt-search input');
  input.value = term;
  input.dispatchEvent(new Event('input', {bubbles: true}));
  input.dispatchEvent(new KeyboardEvent('keyup', {bubbles: true}));
  await new Promise(r => setTimeout(r, 400));
  const sel = document.querySelector('.kaz-explorer .dt-length select');
  // a row's text and the addresses of its links (a locator is shown shortened, searched whole)
  const rows = [...document.querySelectorAll('.kaz-explorer table.dataTable tbody tr')]
    .filter(tr => !tr.closest('.dtsp-panesContainer')).map(  // the table, not its filter panes
    tr => tr.textContent + ' ' + [...tr.querySelectorAll('a')].map(a => decodeURIComponent(a.href)).join(' '));
  return {info: document.querySelector('.kaz-explorer .dt-info').textContent, rows};
})
"""

EXPLORER_PANE = r"""
(async (pane, value) => {
  const p = [...document.querySelectorAll('.kaz-explorer .dtsp-searchPane')]
    .find(x => (x.querySelector('input') || {}).placeholder === pane);
  const row = [...p.querySelectorAll('tbody tr')].find(tr => (tr.querySelector('.dtsp-name') || tr).textContent.trim() === value);
  if (!row) return {info: null, options: [...p.querySelectorAll('tbody tr')].map(t => t.textContent)};
  row.querySelector('td').click();
  await new Promise(r => setTimeout(r, 400));
  return {info: document.querySelector('.kaz-explorer .dt-info').textContent};
})
"""


def _count(info: str) -> int:
    m = re.search(r"of ([\d,]+) entries", info or "")
    return int(m.group(1).replace(",", "")) if m else -1


def check_explorer(b, s, root: Path, total: int, status_counts: dict[str, int], term: str = "Turkey") -> tuple[list, dict]:
    rel = "book/explorer.html"
    problems, out = [], {}
    b.goto(s, (root / rel).as_uri())
    info = b.evaluate(s, EXPLORER_READY, timeout=30)
    out["initial"] = info
    if info is None:
        return [bc.Problem(rel, "explorer-not-ready", "no table after 10 s")], out
    if _count(info) != total:
        problems.append(bc.Problem(rel, "explorer-rows", f"{info!r}; data/ holds {total} figure rows"))
    res = _call(b, s, EXPLORER_SEARCH, term)
    out["search"] = res["info"]
    n = _count(res["info"])
    if not 0 < n < total or any(term.lower() not in t.lower() for t in res["rows"]) or not res["rows"]:
        missing = [t[:160] for t in res["rows"] if term.lower() not in t.lower()]
        problems.append(bc.Problem(rel, "explorer-search", f"{term!r}: {res['info']!r}; rows without it: {missing[:3]}"))
    _call(b, s, EXPLORER_SEARCH, "")
    pick = "disputed" if "disputed" in status_counts else sorted(status_counts)[0]
    for status, want in [(pick, status_counts[pick])]:  # one pane selection keeps the check fast
        b.goto(s, (root / rel).as_uri())
        b.evaluate(s, EXPLORER_READY, timeout=30)
        res = _call(b, s, EXPLORER_PANE, "Status", status.replace("_", " "))
        out[f"status={status}"] = res.get("info")
        if _count(res.get("info")) != want:
            problems.append(bc.Problem(rel, "explorer-filter", f"Status {status}: {res!r}, expected {want} rows"))
    return problems, out


# ----------------------------------------------------------------------------- country profiles
def check_profiles_reachable(root: Path, profile_pages: list[str], map_pages: list[Path]) -> list:
    """Each profile linked from the front page, the explorer's table data, and a map's marks."""
    problems = []
    front = (root / "book" / "intro.html").read_text(encoding="utf-8")
    explorer = (root / "book" / "explorer.html").read_text(encoding="utf-8")
    from_maps = set()
    for p in map_pages:
        for fid, data in page_hotspots(p).items():
            if "map" in fid:
                for r in data["rows"]:
                    if r.get("profile") and r.get("boxes"):
                        from_maps.add(r["profile"].rsplit("/", 1)[-1])
    for name in profile_pages:
        if not (root / "book" / "countries" / name).is_file():
            problems.append(bc.Problem("book/countries", "profile-missing", name))
        if f'href="countries/{name}"' not in front:
            problems.append(bc.Problem("book/intro.html", "profile-not-linked", name))
        if f'countries/{name}' not in explorer.replace('\\"', '"'):
            problems.append(bc.Problem("book/explorer.html", "profile-not-linked", name))
        if name not in from_maps:
            problems.append(bc.Problem("maps", "profile-not-linked", name))
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else "_build/html").resolve()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from kazdiaspora import explorer, profiles

    ev = explorer.evidence_table()
    chapters = sorted((root / "notebooks").glob("*.html"))
    problems = []
    with bc.Browser() as b:
        s = b.new_tab()
        for page in chapters:
            p, summary = check_hotspots(b, s, root, page)
            problems += p
            for fid, info in summary.items():
                print(f"{page.name} {fid}: {info}", file=sys.stderr)
            print(f"{page.name}: interactive layer {layer_weight(root, page):,} bytes", file=sys.stderr)
        p, out = check_explorer(b, s, root, len(ev), ev["status"].value_counts().to_dict())
        problems += p
        print(f"explorer: {out}", file=sys.stderr)
    names = [f"{profiles.page_name(i)}.html" for i in profiles.countries(ev)]
    problems += check_profiles_reachable(root, names, chapters)
    for page in chapters:
        w = layer_weight(root, page)
        if w > MAX_LAYER_BYTES:
            problems.append(bc.Problem(page.name, "layer-too-heavy", f"{w:,} bytes"))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
