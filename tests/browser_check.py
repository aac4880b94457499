"""Checks of the built HTML book, statically and in a real (headless) browser.

Static checks (:func:`check_static`, standard library only) read every page of ``_build/html``
and report:

* ``missing-image`` — an ``<img>`` whose ``src`` does not resolve to a file of the build;
* ``bad-alt`` — an ``<img>`` without alt text, or with generic alt text (empty, ``<Figure ...>``,
  a file name, "png", "image", ...);
* ``broken-link`` — a link (``<a href>``, ``<link href>``, ``<script src>``, a meta refresh) to a
  local file that does not exist;
* ``broken-anchor`` — a ``#fragment`` that is not an ``id`` of the target page.

Browser checks (:class:`Browser`, :func:`check_browser`) open every page in Debian's chromium,
driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``; no websocket client, no
downloaded browser, works offline), and report:

* ``image-not-loaded`` — an image the browser could not decode (``naturalWidth == 0``);
* ``image-too-small`` — a figure rendered narrower than :data:`MIN_FIGURE_WIDTH_PX`;
* ``failed-resource`` — a local file the page requested that failed to load (CSS, JS, fonts);
* ``js-error`` — an uncaught JavaScript exception;
* ``dark-figure`` — in dark mode, a figure that does not show as a light card (its corners, sampled
  in the screenshot, are dark: the figure would be unreadable on the dark background).

Reading checks (:func:`check_reading`, issue 14) open every page at phone width
(:data:`PHONE`, mobile emulation) and report:

* ``sideways-scroll`` — the page is wider than the screen (something pushes it sideways);
* ``figure-not-zoomable`` — a figure image that does not open in the full-screen viewer, or opens
  no larger than on the page, or cannot be zoomed to its full size;
* ``code-above-figure`` — a code cell shown to the reader in or just above a figure's cell;
* ``unnumbered-figure`` — a ``<figure>`` without its number ("Figure 2.3");
* ``unreferenced-figure`` — a figure that no link of its page refers to.

Each page is saved as a screenshot in light mode (``<screenshots>/<page>.png``) and in dark mode
(``<screenshots>/<page>.dark.png``). Run from the repository root::

    .venv/bin/python tests/browser_check.py [_build/html]
"""
from __future__ import annotations

import base64
import io
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

SKIP_DIRS = {"_static", "_sources", "_images", "_downloads", ".doctrees", "_sphinx_design_static"}
SKIP_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
#: Alt texts that say nothing about the image (compared lowercased, punctuation stripped).
GENERIC_ALT = {"", "image", "img", "figure", "fig", "png", "svg", "jpg", "jpeg", "gif", "picture",
               "photo", "chart", "plot", "graph", "map", "output", "alt", "alt text", "untitled",
               "placeholder", "logo", "icon", "none", "null", "undefined"}
MIN_ALT_WORDS = 3
MIN_FIGURE_WIDTH_PX = 200
#: In dark mode a figure must show as a light card: minimum brightness (0-255) of its corners.
MIN_DARK_CARD_BRIGHTNESS = 230
#: Known harmless JavaScript errors. sphinx-thebe 0.3.1 on Sphinx 7.4 adds its inline config
#: script twice to every page (the second `const` fails; thebe is not used by the book).
ALLOWED_JS_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)
MAX_SCREENSHOT_HEIGHT = 12000
#: The phone of the reading checks: CSS pixels of an ordinary phone held upright.
PHONE = (390, 844)
WINDOW = (1280, 2000)
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-extensions", "--disable-default-apps", "--mute-audio",
    "--hide-scrollbars", "--disable-dev-shm-usage", "--allow-file-access-from-files",
    "--force-color-profile=srgb", "--font-render-hinting=none",
)


@dataclass(frozen=True, order=True)
class Problem:
    page: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: {self.kind}: {self.detail}"


# --------------------------------------------------------------------------------------------
# static checks


@dataclass
class PageInfo:
    ids: set[str] = field(default_factory=set)
    images: list[tuple[str | None, str | None, int]] = field(default_factory=list)  # src, alt, line
    links: list[tuple[str, str, int]] = field(default_factory=list)  # tag, url, line


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.info = PageInfo()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        line = self.getpos()[0]
        if a.get("id"):
            self.info.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.info.ids.add(a["name"])
        if tag == "img":
            self.info.images.append((a.get("src"), a.get("alt"), line))
        elif tag == "a" and a.get("href") is not None:
            self.info.links.append(("a", a["href"], line))
        elif tag == "link" and a.get("href") and a.get("rel") not in ("canonical", "preconnect", "dns-prefetch"):
            self.info.links.append(("link", a["href"], line))
        elif tag == "script" and a.get("src"):
            self.info.links.append(("script", a["src"], line))
        elif tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            m = re.search(r"url\s*=\s*['\"]?([^'\";]+)", a.get("content") or "", re.I)
            if m:
                self.info.links.append(("meta-refresh", m.group(1).strip(), line))

    handle_startendtag = handle_starttag


def parse_html(text: str) -> PageInfo:
    p = _Parser()
    p.feed(text)
    p.close()
    return p.info


def list_pages(root: Path) -> list[Path]:
    """Every page of the book: all .html files but the theme's, the sources and the indices."""
    root = Path(root)
    out = []
    for p in sorted(root.rglob("*.html")):
        rel = p.relative_to(root)
        if rel.parts[0] in SKIP_DIRS or rel.name in SKIP_PAGES and len(rel.parts) == 1:
            continue
        out.append(p)
    return out


def is_redirect(page: Path) -> bool:
    """A page that only sends the reader on (Jupyter Book's root index.html: a meta refresh).

    The browser checks do not open it: the refresh may navigate while the page is being probed.
    The static check still follows its target, and the page it leads to is checked itself.
    """
    return bool(re.search(r"<meta[^>]+http-equiv=[\"']?refresh", Path(page).read_text(encoding="utf-8"), re.I))


def generic_alt(alt: str | None, src: str | None = None, figure: bool = True) -> str | None:
    """Why an alt text is not acceptable, or None if it is fine.

    Every image needs a specific alt text; a figure's (``figure=True``) must also be long enough
    to describe it (at least :data:`MIN_ALT_WORDS` words), an icon's may be short ("Binder logo").
    """
    if alt is None:
        return "no alt attribute"
    text = " ".join(alt.split())
    if not text:
        return "empty alt text"
    if text.lstrip().startswith("<Figure") or text.lstrip().lower().startswith("<matplotlib"):
        return f"alt text is a Python repr: {text[:40]!r}"
    norm = re.sub(r"[^\w\s]", " ", text.lower()).strip()
    norm = " ".join(norm.split())
    if norm in GENERIC_ALT:
        return f"generic alt text {text!r}"
    if re.search(r"\.(png|svg|jpe?g|gif|webp|pdf)\b", text, re.I):
        return f"alt text is a file name: {text!r}"
    if src:
        name = unquote(urlsplit(src).path).rsplit("/", 1)[-1]
        stem = name.rsplit(".", 1)[0]
        for cand in (name, stem, stem.replace("-", " "), stem.replace("_", " ")):
            if cand and norm == " ".join(re.sub(r"[^\w\s]", " ", cand.lower()).split()):
                return f"alt text is the file name {name!r}"
    if figure and len(norm.split()) < MIN_ALT_WORDS:
        return f"alt text too short to describe a figure: {text!r}"
    return None


def _is_external(url: str) -> bool:
    s = urlsplit(url)
    return bool(s.scheme and s.scheme not in ("file",)) or url.startswith("//")


def _resolve(root: Path, page: Path, url: str) -> tuple[Path | None, str]:
    """The file a local URL points to (None for the page itself) and its fragment."""
    s = urlsplit(url)
    path = unquote(s.path)
    if s.scheme == "file":
        return Path(path), unquote(s.fragment)
    if not path:
        return None, unquote(s.fragment)
    target = (root / path.lstrip("/")) if path.startswith("/") else (page.parent / path)
    target = Path(os.path.normpath(target))
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target, unquote(s.fragment)


def check_static(root: Path, pages: list[Path] | None = None) -> list[Problem]:
    """Missing images, bad alt text, broken local links and anchors in the built HTML."""
    root = Path(root).resolve()
    pages = [Path(p).resolve() for p in (pages if pages is not None else list_pages(root))]
    cache: dict[Path, PageInfo] = {}

    def info(p: Path) -> PageInfo:
        if p not in cache:
            cache[p] = parse_html(p.read_text(encoding="utf-8", errors="replace"))
        return cache[p]

    problems: list[Problem] = []
    for page in pages:
        name = page.relative_to(root).as_posix()
        pi = info(page)
        for src, alt, line in pi.images:
            if not src:
                problems.append(Problem(name, "missing-image", f"line {line}: <img> without src"))
            elif not _is_external(src) and not src.startswith("data:"):
                target, _ = _resolve(root, page, src)
                if target is None or not target.is_file():
                    problems.append(Problem(name, "missing-image", f"line {line}: {src}"))
            why = generic_alt(alt, src, figure=is_figure(src))
            if why:
                problems.append(Problem(name, "bad-alt", f"line {line}: {src}: {why}"))
        for tag, url, line in pi.links:
            url = url.strip()
            if not url or url == "#" or _is_external(url) or url.startswith(("data:", "javascript:")):
                continue
            target, frag = _resolve(root, page, url)
            if target is not None and not target.is_file():
                problems.append(Problem(name, "broken-link", f"line {line}: <{tag}> {url}"))
                continue
            target = target or page
            if frag and target.suffix == ".html":
                if frag not in info(target).ids:
                    problems.append(Problem(name, "broken-anchor", f"line {line}: {url} (no id {frag!r} in "
                                                                    f"{target.relative_to(root).as_posix() if target.is_relative_to(root) else target})"))
    return sorted(set(problems))


# --------------------------------------------------------------------------------------------
# the browser


class BrowserError(RuntimeError):
    pass


def find_chromium() -> str | None:
    env = os.environ.get("CHROMIUM")
    if env:
        return env
    for c in CHROMIUM_CANDIDATES:
        p = shutil.which(c)
        if p:
            return p
    return None


class Browser:
    """Headless chromium driven over the DevTools protocol on a pipe (fds 3 and 4)."""

    def __init__(self, exe: str | None = None, timeout: float = 30.0, window=WINDOW):
        self.exe = exe or find_chromium()
        if not self.exe:
            raise BrowserError("chromium not found: install it with `make sysdeps` "
                               "(scripts/install-system-deps.sh test)")
        self.timeout = timeout
        self.window = window
        self.proc: subprocess.Popen | None = None
        self._id = 0
        self._buf = b""
        self.events: list[dict] = []

    # -- process
    def __enter__(self) -> "Browser":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="kazdiaspora-chromium-")
        self.log = open(Path(self.profile) / "chromium.log", "wb")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        os.set_inheritable(to_child_r, True)
        os.set_inheritable(from_child_w, True)
        # move the child's ends out of the way of 3 and 4 before dup2 in the child
        hi_r = os.dup(to_child_r) if to_child_r in (3, 4) else to_child_r
        hi_w = os.dup(from_child_w) if from_child_w in (3, 4) else from_child_w

        def child_fds():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        args = [self.exe, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
                f"--window-size={self.window[0]},{self.window[1]}", "--remote-debugging-pipe",
                "about:blank"]
        try:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                         pass_fds=(3, 4), preexec_fn=child_fds, start_new_session=True)
        finally:
            for fd in {to_child_r, from_child_w, hi_r, hi_w}:
                os.close(fd)
        try:
            self.call("Browser.getVersion")
        except Exception as exc:
            self.log.flush()
            tail = (Path(self.profile) / "chromium.log").read_bytes()[-2000:].decode(errors="replace")
            self.close()
            raise BrowserError(f"chromium did not start ({self.exe}): {exc}\n{tail}") from exc

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                if proc.poll() is None:
                    try:
                        self._send("Browser.close")
                    except OSError:
                        pass
                    try:
                        proc.wait(5)
                    except subprocess.TimeoutExpired:
                        pass
            finally:
                if proc.poll() is None:
                    try:
                        os.killpg(proc.pid, 9)
                    except ProcessLookupError:
                        pass
                    proc.wait(5)
        for fd in ("_to_child", "_from_child"):
            if getattr(self, fd, None) is not None:
                try:
                    os.close(getattr(self, fd))
                except OSError:
                    pass
                setattr(self, fd, None)
        if getattr(self, "log", None):
            self.log.close()
        if getattr(self, "profile", None):
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

    # -- protocol
    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self._to_child, data)
            data = data[n:]
        return self._id

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("timeout waiting for chromium")
            r, _, _ = select.select([self._from_child], [], [], left)
            if not r:
                continue
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise BrowserError(f"chromium exited (code {self.proc.poll() if self.proc else '?'})")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float | None = None) -> dict:
        mid = self._send(method, params, session)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self._read(deadline)
            if msg.get("id") == mid:
                if "error" in msg:
                    raise BrowserError(f"{method}: {msg['error'].get('message')}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method: str, session: str | None, timeout: float | None = None) -> dict:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, ev in enumerate(self.events):
                if ev["method"] == method and ev.get("sessionId") == session:
                    return self.events.pop(i)
            msg = self._read(deadline)
            if "method" in msg:
                self.events.append(msg)

    def evaluate(self, session: str, expr: str, timeout: float | None = None):
        res = self.call("Runtime.evaluate", {"expression": expr, "awaitPromise": True, "returnByValue": True},
                        session, timeout)
        if "exceptionDetails" in res:
            raise BrowserError(f"script failed: {res['exceptionDetails'].get('text')} "
                               f"{res['exceptionDetails'].get('exception', {}).get('description', '')}")
        return res.get("result", {}).get("value")

    # -- pages
    def new_tab(self) -> str:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network"):
            self.call(f"{domain}.enable", {}, session)
        self.call("Emulation.setDeviceMetricsOverride", {"width": self.window[0], "height": self.window[1],
                                                         "deviceScaleFactor": 1, "mobile": False}, session)
        return session

    def goto(self, session: str, url: str) -> None:
        self.events = [e for e in self.events if e.get("sessionId") != session]
        res = self.call("Page.navigate", {"url": url}, session)
        if res.get("errorText"):
            raise BrowserError(f"cannot open {url}: {res['errorText']}")
        self.wait_event("Page.loadEventFired", session)

    def screenshot(self, session: str, path: Path, height: int) -> bytes:
        h = max(1, min(int(height), MAX_SCREENSHOT_HEIGHT))
        self.call("Emulation.setDeviceMetricsOverride", {"width": self.window[0], "height": h,
                                                         "deviceScaleFactor": 1, "mobile": False}, session)
        try:
            self.evaluate(session, "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            data = base64.b64decode(self.call("Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True}, session, 60)["data"])
        finally:
            self.call("Emulation.setDeviceMetricsOverride", {"width": self.window[0], "height": self.window[1],
                                                             "deviceScaleFactor": 1, "mobile": False}, session)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data


#: Run in the page once it has loaded: wait for every image and font, report what was rendered.
PAGE_PROBE = r"""
(async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { if (i.loading === 'lazy') i.loading = 'eager'; });
  await Promise.race([
    Promise.all(imgs.map(i => (i.complete ? null : new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })))),
    new Promise(r => setTimeout(r, 10000)),
  ]);
  if (document.fonts) await Promise.race([document.fonts.ready, new Promise(r => setTimeout(r, 3000))]);
  const sx = window.scrollX, sy = window.scrollY;
  return {
    theme: document.documentElement.dataset.theme || '',
    height: Math.ceil(Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)),
    images: imgs.map(i => {
      const b = i.getBoundingClientRect();
      return {src: i.getAttribute('src'), url: i.currentSrc || i.src, alt: i.getAttribute('alt'),
              w: i.naturalWidth, h: i.naturalHeight, complete: i.complete,
              x: b.left + sx, y: b.top + sy, rw: b.width, rh: b.height,
              visible: b.width > 0 && b.height > 0 && getComputedStyle(i).visibility !== 'hidden',
              filter: getComputedStyle(i).filter, card: (() => {
                // an image under the marks layer: its white card is the wrapper's outline
                const w = i.closest('.kaz-hs-wrap');
                if (!w) return null;
                const r = w.getBoundingClientRect(), o = parseFloat(getComputedStyle(w).outlineWidth) || 0;
                return {x: r.left + sx - o, y: r.top + sy - o, w: r.width + 2 * o, h: r.height + 2 * o};
              })()};
    }),
  };
})()
"""

SET_DARK = r"""
(async () => {
  try { localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark'); } catch (e) {}
  document.documentElement.dataset.mode = 'dark';
  document.documentElement.dataset.theme = 'dark';
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return document.documentElement.dataset.theme;
})()
"""


def is_figure(src: str | None) -> bool:
    """A figure of the book (copied by Sphinx to _images/), not a theme icon."""
    return bool(src) and "_images/" in src


def _corner_brightness(png: bytes, box: tuple[float, float, float, float]) -> float | None:
    """Mean brightness (0–255) of small patches at the four inner corners of box in a screenshot."""
    from PIL import Image, ImageStat

    im = Image.open(io.BytesIO(png)).convert("L")
    x, y, w, h = box
    if w < 20 or h < 20:
        return None
    vals = []
    for cx, cy in ((x + 3, y + 3), (x + w - 9, y + 3), (x + 3, y + h - 9), (x + w - 9, y + h - 9)):
        cx, cy = int(cx), int(cy)
        if cx < 0 or cy < 0 or cx + 6 > im.width or cy + 6 > im.height:
            continue
        vals.append(ImageStat.Stat(im.crop((cx, cy, cx + 6, cy + 6))).mean[0])
    return min(vals) if vals else None


@dataclass
class PageResult:
    page: str
    seconds: float
    images: int
    screenshots: list[Path]


def shot_name(rel: str, dark: bool = False) -> str:
    stem = rel[:-5] if rel.endswith(".html") else rel
    return stem.replace("/", "__") + (".dark" if dark else "") + ".png"


def check_browser(root: Path, screenshots: Path | None, pages: list[Path] | None = None,
                  dark: bool | callable = True, browser: Browser | None = None,
                  timeout: float = 30.0) -> tuple[list[Problem], list[PageResult]]:
    """Open every page in chromium: images decode, local resources load, no JS error; screenshots.

    ``dark`` is True (every page), False, or a predicate on the page's relative path choosing the
    pages also checked and captured in dark mode.
    """
    root = Path(root).resolve()
    pages = [Path(p).resolve() for p in (pages if pages is not None else list_pages(root))]
    want_dark = dark if callable(dark) else (lambda rel: bool(dark))
    problems: list[Problem] = []
    results: list[PageResult] = []
    own = browser is None
    b = browser or Browser(timeout=timeout)
    try:
        if own:
            b.start()
        session = b.new_tab()
        for page in pages:
            t0 = time.monotonic()
            rel = page.relative_to(root).as_posix()
            if is_redirect(page):
                continue
            shots: list[Path] = []
            b.goto(session, page.as_uri())
            probe = b.evaluate(session, PAGE_PROBE, timeout=30)
            # network failures and exceptions seen while loading this page
            requests: dict[str, str] = {}
            for ev in b.events:
                if ev.get("sessionId") != session:
                    continue
                p = ev.get("params", {})
                if ev["method"] == "Network.requestWillBeSent":
                    requests[p["requestId"]] = p["request"]["url"]
                elif ev["method"] == "Network.loadingFailed":
                    url = requests.get(p["requestId"], "?")
                    if url.startswith("file:") and not p.get("canceled"):
                        problems.append(Problem(rel, "failed-resource", f"{url} ({p.get('errorText')})"))
                elif ev["method"] == "Runtime.exceptionThrown":
                    d = p.get("exceptionDetails", {})
                    text = f"{d.get('text', '')} {d.get('exception', {}).get('description', '')}"
                    if any(a in text for a in ALLOWED_JS_ERRORS):
                        continue
                    problems.append(Problem(rel, "js-error", f"{d.get('text', '')} "
                                                             f"{d.get('exception', {}).get('description', '')}".strip()[:300]))
            b.events = [e for e in b.events if e.get("sessionId") != session]
            for im in probe["images"]:
                if not im["complete"] or im["w"] == 0:
                    problems.append(Problem(rel, "image-not-loaded", f"{im['src']} (naturalWidth {im['w']})"))
                elif is_figure(im["src"]) and im["visible"] and im["rw"] < MIN_FIGURE_WIDTH_PX:
                    problems.append(Problem(rel, "image-too-small", f"{im['src']} rendered {im['rw']:.0f} px wide"))
                why = generic_alt(im["alt"], im["src"], figure=is_figure(im["src"]))
                if why:
                    problems.append(Problem(rel, "bad-alt", f"{im['src']} (rendered): {why}"))
            if screenshots is not None:
                path = Path(screenshots) / shot_name(rel)
                b.screenshot(session, path, probe["height"])
                shots.append(path)
            if want_dark(rel):
                theme = b.evaluate(session, SET_DARK)
                if theme != "dark":
                    problems.append(Problem(rel, "dark-mode", f"could not switch to dark mode (theme {theme!r})"))
                probe_d = b.evaluate(session, PAGE_PROBE, timeout=30)
                figs = [im for im in probe_d["images"] if is_figure(im["src"]) and im["visible"] and im["w"] > 0]
                if screenshots is not None or figs:
                    path = Path(screenshots or tempfile.gettempdir()) / shot_name(rel, dark=True)
                    png = b.screenshot(session, path, probe_d["height"])
                    if screenshots is not None:
                        shots.append(path)
                    else:
                        path.unlink()
                    for im in figs:
                        if im["y"] + im["rh"] > MAX_SCREENSHOT_HEIGHT:
                            # below the screenshot: at least no filter may dim or invert it
                            if im["filter"] not in ("none", ""):
                                problems.append(Problem(rel, "dark-figure", f"{im['src']}: CSS filter "
                                                        f"{im['filter']!r} in dark mode (expected none)"))
                            continue
                        c = im.get("card")
                        box = (c["x"], c["y"], c["w"], c["h"]) if c else (im["x"], im["y"], im["rw"], im["rh"])
                        lum = _corner_brightness(png, box)
                        if lum is not None and lum < MIN_DARK_CARD_BRIGHTNESS:
                            problems.append(Problem(rel, "dark-figure",
                                                    f"{im['src']}: corners at brightness {lum:.0f}/255 in dark mode "
                                                    "(expected a light card)"))
                b.evaluate(session, "(() => { try { localStorage.removeItem('mode'); localStorage.removeItem('theme'); } catch (e) {} return 1; })()")
            results.append(PageResult(rel, time.monotonic() - t0, len(probe["images"]), shots))
    finally:
        if own:
            b.close()
    return sorted(set(problems)), results


#: Run in a loaded page at phone width: sideways scroll, figures (number, references, code above),
#: and every zoomable figure opened in the viewer, zoomed, closed.
READING_PROBE = r"""
(async () => {
  const wait = ms => new Promise(r => setTimeout(r, ms));
  const loaded = im => (im.complete && im.naturalWidth) ? null :
      new Promise(r => { im.addEventListener('load', r); im.addEventListener('error', r); setTimeout(r, 8000); });
  await wait(30);
  const vw = Math.min(window.innerWidth, screen.width), de = document.documentElement;
  const out = {vw, scrollWidth: de.scrollWidth, wide: [], figures: [], zoomable: []};
  if (de.scrollWidth > vw + 1) {
    for (const el of document.querySelectorAll('.bd-content *')) {
      const b = el.getBoundingClientRect();
      if (b.right > vw + 1 && b.width > 0 && !el.closest('[hidden]')) {
        let p = el.parentElement, inner = false;
        while (p) { const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') { inner = true; break; } p = p.parentElement; }
        if (!inner) { out.wide.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '') + ' ' + Math.round(b.right) + 'px'); if (out.wide.length >= 3) break; }
      }
    }
  }
  const links = [...document.querySelectorAll('.bd-content a[href]')];
  for (const f of document.querySelectorAll('.bd-content figure')) {
    const img = f.querySelector('img');
    if (!img) continue;
    const id = f.id || '';
    const refs = id ? links.filter(a => !f.contains(a) && (a.getAttribute('href') || '').endsWith('#' + id)).length : 0;
    const num = f.querySelector('.caption-number');
    const cell = f.closest('.cell');
    let code = !!(cell && cell.querySelector('.cell_input'));
    const prev = cell && cell.previousElementSibling;
    if (prev && prev.classList.contains('cell') && prev.querySelector('.cell_input') && !prev.querySelector('.cell_output')) code = true;
    out.figures.push({src: img.getAttribute('src'), id, refs, number: num ? num.textContent.trim() : '', code});
  }
  for (const img of document.querySelectorAll('.bd-content img')) {
    if (!(img.getAttribute('src') || '').includes('_images/')) continue;
    const r = {src: img.getAttribute('src'), full: img.getAttribute('data-full') || '', opens: false, w: 0, fitW: 0, zoomW: 0,
               pageW: img.getBoundingClientRect().width};
    if (r.full && window.kazLightbox) {
      img.click();
      const box = document.querySelector('.kaz-lightbox');
      const big = box && box.querySelector('.kaz-lb-img');
      if (big) {
        await loaded(big);
        await wait(20);
        r.opens = !box.hidden && getComputedStyle(box).display !== 'none';
        r.w = big.naturalWidth; r.fitW = big.getBoundingClientRect().width;
        window.kazLightbox.zoom(true); await wait(20);
        r.zoomW = big.getBoundingClientRect().width;
        window.kazLightbox.close();
        r.closed = box.hidden;
      }
    }
    out.zoomable.push(r);
  }
  return out;
})()
"""


def check_reading(root: Path, pages: list[Path] | None = None, browser: Browser | None = None,
                  size: tuple[int, int] = PHONE, timeout: float = 30.0) -> list[Problem]:
    """Open every page at phone width and report sideways scroll, figures that cannot be opened
    full screen and zoomed, code cells above figures, and figures without number or reference."""
    root = Path(root).resolve()
    pages = [Path(p).resolve() for p in (pages if pages is not None else list_pages(root))]
    problems: list[Problem] = []
    own = browser is None
    b = browser or Browser(timeout=timeout, window=size)
    try:
        if own:
            b.start()
        session = b.new_tab()
        b.call("Emulation.setDeviceMetricsOverride", {"width": size[0], "height": size[1],
                                                      "deviceScaleFactor": 2, "mobile": True}, session)
        for page in pages:
            rel = page.relative_to(root).as_posix()
            if is_redirect(page):
                continue
            b.goto(session, page.as_uri())
            r = b.evaluate(session, READING_PROBE, timeout=120)
            if r["scrollWidth"] > r["vw"] + 1:
                problems.append(Problem(rel, "sideways-scroll", f"page {r['scrollWidth']} px wide on a {r['vw']} px "
                                        f"screen: {', '.join(r['wide']) or 'cause not found'}"))
            for f in r["figures"]:
                if not re.match(r"^(Figure|Fig\.) \d+(\.\d+)*", f["number"]):
                    problems.append(Problem(rel, "unnumbered-figure", f"{f['src']} (id {f['id']!r})"))
                if not f["refs"]:
                    problems.append(Problem(rel, "unreferenced-figure", f"{f['src']}: no link on the page to #{f['id']}"))
                if f["code"]:
                    problems.append(Problem(rel, "code-above-figure", f"{f['src']}"))
            for z in r["zoomable"]:
                if not z["full"]:
                    why = "no full-size image (data-full)"
                elif not z["opens"]:
                    why = "does not open in the full-screen viewer"
                elif z["w"] < 1.5 * z["pageW"]:
                    why = f"full-size image {z['w']} px is not larger than on the page ({z['pageW']:.0f} px)"
                elif z["zoomW"] < min(z["w"], 2 * r["vw"]) - 1:
                    why = f"zoomed to only {z['zoomW']:.0f} px (image {z['w']} px)"
                elif not z.get("closed"):
                    why = "the viewer does not close"
                else:
                    continue
                problems.append(Problem(rel, "figure-not-zoomable", f"{z['src']}: {why}"))
    finally:
        if own:
            b.close()
    return sorted(set(problems))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else "_build/html")
    shots = root.parent / "screenshots"
    t0 = time.monotonic()
    problems = check_static(root)
    bproblems, results = check_browser(root, shots)
    bproblems += check_reading(root)
    for r in results:
        print(f"{r.page}: {r.images} images, {r.seconds:.1f} s", file=sys.stderr)
    try:  # the evidence layer (issue 15): hover/focus on marks, explorer, country profiles, weight
        import evidence_check

        bproblems += [] if evidence_check.main([str(root)]) == 0 else [Problem("evidence", "evidence-check", "see above")]
    except ImportError:
        pass
    for p in problems + bproblems:
        print(p)
    print(f"{len(results)} pages, {len(problems) + len(bproblems)} problems, screenshots in {shots} "
          f"({time.monotonic() - t0:.1f} s)", file=sys.stderr)
    return 1 if problems or bproblems else 0


if __name__ == "__main__":
    raise SystemExit(main())
