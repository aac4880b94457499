/* The Kazakh Diaspora book: every mark of a figure identifies itself.
   The build puts, after each figure image, <script type="application/json" class="kaz-hotspots"
   data-figure-id="ID"> with the rows the figure plots and where each is drawn (fractions of the
   image, measured at export with matplotlib's transforms: kazdiaspora/hotspots.py). This script lays
   one focusable button per drawn row over the image; pointing at it, focusing it or tapping it
   shows the value as printed, unit, reference year, source (linked to References), locator,
   grade and status. The image itself is unchanged. No network, works from file://. */
(function () {
  "use strict";

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  /* The image of figure `id` near the data script: inside an ancestor with data-figure-id=id
     first, else the closest ancestor holding an <img> whose file name is the id (screen variants
     such as id-screen.png, id.960w.png or the screen copies id.960.<hash>.webp included). */
  function findImage(script, id) {
    var re = new RegExp("(^|/)" + id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") +
                        "([-_.@](screen|light|dark|small|large|\\d+w|\\dx|\\d+\\.[0-9a-f]+)[^/]*)?\\d*\\.(png|webp)$");
    var holder = script.closest('[data-figure-id="' + id + '"]:not(script)');
    var scopes = [];
    if (holder) scopes.push(holder);
    for (var el = script.parentElement, d = 0; el && d < 6; el = el.parentElement, d++) scopes.push(el);
    for (var s = 0; s < scopes.length; s++) {
      var imgs = scopes[s].querySelectorAll("img");
      for (var i = 0; i < imgs.length; i++) {
        var src = (imgs[i].getAttribute("src") || "").split(/[?#]/)[0];
        if (re.test(src) && !imgs[i].closest(".kaz-hs-wrap")) return imgs[i];
      }
    }
    return null;
  }

  function yearText(r) { return r.year ? r.year : "undated"; }

  function label(r, data) {
    var parts = [];
    if (r.what) parts.push(r.what);
    parts.push((r.printed || "\u2014") + (r.unit ? " " + r.unit : ""));
    parts.push(yearText(r));
    var src = (r.sources || []).map(function (k) { return data.sources[k] ? data.sources[k].cite : k; });
    if (src.length) parts.push("source " + src.join("; "));
    parts.push("grade " + (r.grade || "\u2014"));
    parts.push("status " + (r.status ? r.status.replace(/_/g, " ") : "\u2014"));
    return parts.join(", ");
  }

  function isUrl(s) { return /^https?:\/\//.test(s); }

  function locatorHtml(loc) {
    var m = /https?:\/\/\S+/.exec(loc);
    if (!m) return esc(loc);
    var url = m[0].replace(/[).,;]+$/, "");
    return esc(loc.slice(0, m.index)) + '<a href="' + esc(url) + '">' + esc(url) + "</a>" +
           esc(loc.slice(m.index + url.length));
  }

  function popHtml(r, data) {
    var h = [];
    h.push('<p class="kaz-hs-what">' + esc(r.what || "") + "</p>");
    h.push("<dl>");
    h.push("<dt>Value as printed</dt><dd>" + esc(r.printed || "\u2014") + (r.unit ? " <span>(" + esc(r.unit) + ")</span>" : "") + "</dd>");
    h.push("<dt>Reference year</dt><dd>" + esc(yearText(r)) + "</dd>");
    var src = (r.sources || []).map(function (k) {
      var s = data.sources[k];
      if (!s) return esc(k);
      return '<a href="' + esc(s.href) + '">' + esc(s.cite) + (s.title ? ": <i>" + esc(s.title) + "</i>" : "") + "</a>";
    });
    h.push("<dt>Source</dt><dd>" + (src.length ? src.join("<br>") : "\u2014") + "</dd>");
    if (r.locator) h.push("<dt>Where in the source</dt><dd>" + locatorHtml(r.locator) + "</dd>");
    h.push("<dt>Grade</dt><dd>" + esc(r.grade || "\u2014") + "</dd>");
    h.push("<dt>Status</dt><dd>" + esc(r.status ? r.status.replace(/_/g, " ") : "\u2014") +
           (r.status_note ? " <span class=\"kaz-hs-note\">\u2014 " + esc(r.status_note) + "</span>" : "") + "</dd>");
    if (r.kind) h.push("<dt>Kind</dt><dd>" + esc(r.kind.replace(/_/g, " ")) + "</dd>");
    h.push("</dl>");
    var foot = ['<code class="kaz-hs-id">' + esc(r.id) + "</code>"];
    if (r.profile) foot.push('<a href="' + esc(r.profile) + '">Country profile</a>');
    h.push('<p class="kaz-hs-foot">' + foot.join(" \u00b7 ") + "</p>");
    return h.join("");
  }

  var uid = 0;

  function build(script) {
    var id = script.getAttribute("data-figure-id");
    var data;
    try { data = JSON.parse(script.textContent); } catch (e) { return; }
    var img = findImage(script, id);
    if (!img) return;
    var wrap = document.createElement("span");
    wrap.className = "kaz-hs-wrap";
    wrap.setAttribute("data-figure-id", id);
    img.parentNode.insertBefore(wrap, img);
    wrap.appendChild(img);
    var layer = document.createElement("div");
    layer.className = "kaz-hs-layer";
    layer.setAttribute("role", "group");
    layer.setAttribute("aria-label", "Data points of the figure: " + (img.getAttribute("alt") || id).slice(0, 120));
    var pop = document.createElement("div");
    pop.className = "kaz-hs-pop";
    pop.id = "kaz-hs-pop-" + (++uid);
    pop.setAttribute("role", "dialog");
    pop.setAttribute("aria-label", "Data point");
    pop.hidden = true;
    var current = null, pinned = false, hideTimer = null;

    function show(btn, pin) {
      clearTimeout(hideTimer);
      var r = btn._kazRow;
      if (current !== btn) {
        if (current) current.setAttribute("aria-expanded", "false");
        pop.innerHTML = popHtml(r, data);
        current = btn;
      }
      btn.setAttribute("aria-expanded", "true");
      pinned = pin || pinned;
      pop.hidden = false;
      var W = wrap.clientWidth, H = wrap.clientHeight;
      var bx = btn.offsetLeft, by = btn.offsetTop;
      var pw = Math.min(pop.offsetWidth || 320, W);
      var left = Math.max(0, Math.min(bx - pw / 2, W - pw));
      pop.style.left = left + "px";
      var below = by + btn.offsetHeight / 2 + 8;
      if (below + pop.offsetHeight > H && by - btn.offsetHeight / 2 - 8 - pop.offsetHeight > 0) {
        pop.style.top = (by - btn.offsetHeight / 2 - 8 - pop.offsetHeight) + "px";
      } else {
        pop.style.top = below + "px";
      }
    }
    function hide(now) {
      clearTimeout(hideTimer);
      var f = function () {
        if (current) current.setAttribute("aria-expanded", "false");
        pop.hidden = true; current = null; pinned = false;
      };
      if (now) f(); else hideTimer = setTimeout(f, 250);
    }

    (data.rows || []).forEach(function (r) {
      (r.boxes || []).forEach(function (b, k) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "kaz-hs";
        btn._kazRow = r;
        btn.setAttribute("data-row-id", r.id);
        btn.style.left = (b[0] * 100).toFixed(3) + "%";
        btn.style.top = (b[1] * 100).toFixed(3) + "%";
        btn.style.width = (b[2] * 100).toFixed(3) + "%";
        btn.style.height = (b[3] * 100).toFixed(3) + "%";
        // where marks overlap, the smaller one lies on top (a marker over the range line it sits
        // on), so each can be reached by the mouse; 1-19, under the popover (z-index 20)
        btn.style.zIndex = String(1 + Math.round(18 * (1 - Math.min(1, Math.sqrt(b[2] * b[3]) / 0.3))));
        btn.setAttribute("aria-label", label(r, data));
        btn.setAttribute("aria-controls", pop.id);
        btn.setAttribute("aria-expanded", "false");
        if (k > 0) { btn.tabIndex = -1; btn.setAttribute("aria-hidden", "true"); }
        btn.addEventListener("mouseenter", function () { if (!pinned) show(btn, false); });
        btn.addEventListener("mouseleave", function () { if (!pinned) hide(false); });
        btn.addEventListener("focus", function () { show(btn, false); });
        btn.addEventListener("click", function (e) {
          e.preventDefault(); e.stopPropagation();
          if (pinned && current === btn) hide(true); else { pinned = false; show(btn, true); }
        });
        layer.appendChild(btn);
      });
    });
    pop.addEventListener("mouseenter", function () { clearTimeout(hideTimer); });
    pop.addEventListener("mouseleave", function () { if (!pinned) hide(false); });
    wrap.addEventListener("focusout", function (e) {
      if (!wrap.contains(e.relatedTarget)) hide(true);
    });
    wrap.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && !pop.hidden) { var c = current; hide(true); if (c) c.focus(); }
    });
    document.addEventListener("click", function (e) { if (!wrap.contains(e.target)) hide(true); });
    wrap.appendChild(layer);
    wrap.appendChild(pop);
  }

  function init() {
    var scripts = document.querySelectorAll('script.kaz-hotspots[type="application/json"]');
    for (var i = 0; i < scripts.length; i++) build(scripts[i]);
    document.documentElement.setAttribute("data-kaz-hotspots", String(scripts.length));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
