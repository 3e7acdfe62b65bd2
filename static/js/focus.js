/* Focus panel (the core's, templates/sodium/focus/): the slide-out panel any app's item opens
   in (a task's steps now), loaded by htmx into #focus-panel. While it loads, the host shows a
   loading state; Esc closes it (a first Esc leaves a field or folds an open form), the close
   button too; ↑/↓ or j/k move between steps; after an action re-renders the panel, focus goes
   back to where it was. The panel works without this file, only less smoothly. */
(function () {
  "use strict";

  var opener = null; // what opened the panel: focused again when it closes
  var focusKey = null; // [data-focus-key] or step id focused before an action re-rendered

  function panel() {
    return document.getElementById("focus-panel");
  }

  function isOpen(p) {
    return !!p && p.classList.contains("is-open");
  }

  function markRow(element) {
    document.querySelectorAll("tr.is-focused").forEach(function (row) {
      row.classList.remove("is-focused");
    });
    var row = element && element.closest("tr");
    if (row) row.classList.add("is-focused");
  }

  // Opening from the page: the host slides out at once, saying it is loading, until the
  // app's panel replaces it (or the request fails and it folds away again).
  function showLoading(p) {
    if (!p || isOpen(p)) return;
    p.classList.add("is-loading");
    p.setAttribute("aria-busy", "true");
    p.innerHTML = '<p class="focus-loading" role="status">Loading…</p>';
  }

  function endLoading() {
    var p = panel();
    if (!p || !p.classList.contains("is-loading")) return;
    p.classList.remove("is-loading");
    p.removeAttribute("aria-busy");
    p.innerHTML = "";
  }

  function close() {
    var p = panel();
    if (!isOpen(p)) return;
    var empty = document.createElement("div");
    empty.id = "focus-panel";
    empty.className = "focus-host";
    p.replaceWith(empty);
    markRow(null);
    if (opener && document.contains(opener)) opener.focus();
    opener = null;
  }

  function keyOf(element) {
    if (!(element instanceof Element)) return null;
    var keyed = element.closest("[data-focus-key]");
    if (keyed) return { key: keyed.getAttribute("data-focus-key") };
    var step = element.closest(".focus-step");
    return step ? { id: step.id } : null;
  }

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element && event.target.closest("[data-focus-close]");
    if (button) {
      event.preventDefault();
      close();
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!(elt instanceof Element)) return;
    var p = panel();
    if (p && p.contains(elt)) {
      focusKey = keyOf(document.activeElement) || keyOf(elt);
    } else if (elt.getAttribute("hx-target") === "#focus-panel") {
      opener = elt;
      focusKey = null;
      markRow(elt);
      showLoading(p);
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful) endLoading();
  });

  // The panel slides in when it opens, not each time an action re-renders it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var response = event.detail.serverResponse;
    if (isOpen(panel()) && typeof response === "string") {
      event.detail.serverResponse = response.replace(
        'class="focus-host is-open"',
        'class="focus-host is-open focus-stay"'
      );
    }
  });

  // Each swap that brings in a new panel (or one step of it) puts the focus back in place.
  document.addEventListener("htmx:load", function (event) {
    var elt = event.target;
    if (!(elt instanceof Element)) return;
    var p = panel();
    if (!isOpen(p) || !(elt === p || p.contains(elt))) return;
    var target = null;
    if (focusKey && focusKey.key) {
      target = p.querySelector('[data-focus-key="' + focusKey.key + '"]');
    }
    if (!target && focusKey && focusKey.id) target = document.getElementById(focusKey.id);
    if (!target && elt === p) target = p.querySelector("#focus-title");
    if (target) target.focus();
    focusKey = null;
  });

  document.addEventListener("keydown", function (event) {
    var p = panel();
    if (!p || !(isOpen(p) || p.classList.contains("focus-host-page"))) return;
    var t = event.target instanceof Element ? event.target : null;
    var inPanel = t && p.contains(t);
    var typing = t && t.matches("input, textarea, select, [contenteditable]");
    if (event.key === "Escape" && isOpen(p)) {
      if (typing && !inPanel) return; // the page's own fields keep their Esc
      event.preventDefault();
      var details = inPanel ? t.closest("details[open]") : null;
      if (typing) {
        t.blur();
        var step = t.closest(".focus-step");
        if (step) step.focus();
      } else if (details) {
        details.open = false;
        details.querySelector("summary").focus();
      } else {
        close();
      }
      return;
    }
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    if (!inPanel && t !== document.body) return;
    var dir = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1 }[event.key];
    if (!dir) return;
    var steps = Array.prototype.slice.call(p.querySelectorAll(".focus-step"));
    if (!steps.length) return;
    var i = steps.indexOf(t ? t.closest(".focus-step") : null);
    var next = i < 0 ? steps[dir > 0 ? 0 : steps.length - 1] : steps[i + dir];
    if (next) {
      event.preventDefault();
      next.focus();
      next.scrollIntoView({ block: "nearest" });
    }
  });
})();
