/* The Kazakh Diaspora book: open a figure full screen and zoom it (no library, works from file://).
   Every figure image of the book (<img data-full=...>, set by kazdiaspora.reading_sphinx) opens on click
   or tap, or from the "Open full screen" button under it (the way in for keyboards), in an overlay: first fitted to the screen, then at full size (tap the image, the "+" button or
   pinch) to read small labels; the overlay scrolls in both directions. Esc, the close button or a tap
   outside the image closes it. A link offers the 300-dpi original. */
(function () {
  "use strict";
  var box = null, img = null, link = null, opener = null;

  function close() {
    if (!box) return;
    box.hidden = true;
    box.classList.remove("kaz-zoomed");
    document.documentElement.classList.remove("kaz-lightbox-open");
    if (opener) { try { opener.focus(); } catch (e) {} }
  }

  function zoom(on) {
    box.classList.toggle("kaz-zoomed", on === undefined ? !box.classList.contains("kaz-zoomed") : on);
  }

  function build() {
    box = document.createElement("div");
    box.className = "kaz-lightbox";
    box.hidden = true;
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", "Figure, full screen");
    box.innerHTML =
      '<div class="kaz-lb-bar">' +
      '<button type="button" class="kaz-lb-zoom" aria-label="Zoom in or out">+/\u2212</button>' +
      '<a class="kaz-lb-orig" href="#" target="_blank" rel="noopener">Full resolution (300 dpi)</a>' +
      '<button type="button" class="kaz-lb-close" aria-label="Close">\u00d7</button></div>' +
      '<div class="kaz-lb-stage"><img class="kaz-lb-img" alt=""></div>';
    document.body.appendChild(box);
    img = box.querySelector(".kaz-lb-img");
    link = box.querySelector(".kaz-lb-orig");
    box.querySelector(".kaz-lb-close").addEventListener("click", close);
    box.querySelector(".kaz-lb-zoom").addEventListener("click", function () { zoom(); });
    img.addEventListener("click", function (ev) { ev.stopPropagation(); zoom(); });
    box.querySelector(".kaz-lb-stage").addEventListener("click", function (ev) {
      if (ev.target === this && !box.classList.contains("kaz-zoomed")) close();
    });
    document.addEventListener("keydown", function (ev) {
      if (box.hidden) return;
      if (ev.key === "Escape") close();
      else if (ev.key === "Tab") {  // keep the focus inside the viewer while it is open
        var f = box.querySelectorAll("button, a[href]"), first = f[0], last = f[f.length - 1];
        if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
        else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
      }
      else if (ev.key === "+" || ev.key === "=") zoom(true);
      else if (ev.key === "-") zoom(false);
    });
  }

  function open(fig, from) {
    if (!box) build();
    opener = from || fig;
    img.src = fig.getAttribute("data-full") || fig.currentSrc || fig.src;
    img.alt = fig.alt || "";
    link.href = fig.getAttribute("data-original") || img.src;
    box.classList.remove("kaz-zoomed");
    box.hidden = false;
    document.documentElement.classList.add("kaz-lightbox-open");
    box.querySelector(".kaz-lb-close").focus();
  }
  window.kazLightbox = {open: open, close: close, zoom: zoom};

  function init() {
    var figs = document.querySelectorAll(".bd-content img[data-full]");
    Array.prototype.forEach.call(figs, function (fig) {
      fig.classList.add("kaz-zoomable");
      fig.setAttribute("title", "Open the figure full screen");
      var parent = fig.parentElement;
      if (parent && parent.tagName === "A") {
        parent.addEventListener("click", function (ev) { ev.preventDefault(); });
      }
      fig.addEventListener("click", function (ev) { ev.preventDefault(); open(fig); });
      // a visible way in for touch screens, where the zoom cursor does not show
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "kaz-enlarge";
      btn.textContent = "\u2922 Open full screen";
      btn.addEventListener("click", function (ev) { ev.preventDefault(); open(fig, btn); });
      var after = parent && parent.tagName === "A" ? parent : fig;
      after.parentNode.insertBefore(btn, after.nextSibling);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
