/* Sodium: the few behaviours that need a script. No build step; every page works without it.

   Token picker: a button with data-insert-token="{{ client.name }}" inserts its text at the
   cursor of the subject or body field last focused in the same [data-token-scope] (fields carry
   data-token-field; data-token-default is used when none was focused yet).

   Plain forms with data-confirm="…" ask before they submit (htmx forms use hx-confirm); once
   the person says yes, the form's disabled inputs marked data-confirmed go along, so the server
   (which asks again without them, as it does with no script) knows.
   A select with data-autosubmit submits its form when changed (the practice switcher).

   Buttons with class js-print (hidden until this script runs) print the page.

   A search box with data-filter-list="#list" (hidden until this script runs) hides the labels
   in that list whose text does not contain what is typed (the recurrence editor's clients);
   checked ones stay in view. It works on boxes htmx swaps in too. */
(function () {
  "use strict";

  var lastField = new WeakMap(); // scope element -> the field last focused in it

  function scopeOf(element) {
    return element.closest("[data-token-scope]") || document.body;
  }

  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target instanceof Element && target.matches("[data-token-field]")) {
      lastField.set(scopeOf(target), target);
    }
  });

  // A mouse click on a token must not take the caret out of the text being edited.
  document.addEventListener("mousedown", function (event) {
    if (event.target instanceof Element && event.target.closest("[data-insert-token]")) {
      event.preventDefault();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element && event.target.closest("[data-insert-token]");
    if (!button) return;
    event.preventDefault();
    var scope = scopeOf(button);
    var field = lastField.get(scope);
    var atEnd = false;
    if (!field || !field.isConnected || !scope.contains(field) || field.disabled) {
      field = scope.querySelector("[data-token-default]") || scope.querySelector("[data-token-field]");
      atEnd = true;
    }
    if (!field) return;
    var token = button.getAttribute("data-insert-token");
    var start = atEnd || field.selectionStart == null ? field.value.length : field.selectionStart;
    var end = atEnd || field.selectionEnd == null ? start : field.selectionEnd;
    field.focus();
    field.setRangeText(token, start, end, "end");
    // Let listeners (the live preview) know the text changed.
    field.dispatchEvent(new Event("input", { bubbles: true }));
    var status = scope.querySelector("[data-token-status]");
    if (status) status.textContent = "Inserted " + token + ".";
  });

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select instanceof HTMLSelectElement && select.hasAttribute("data-autosubmit") && select.form) {
      select.form.requestSubmit();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form instanceof HTMLFormElement && form.getAttribute("data-confirm");
    if (!message) return;
    if (!window.confirm(message)) {
      event.preventDefault();
      return;
    }
    form.querySelectorAll("input[data-confirmed]").forEach(function (input) {
      input.disabled = false;
    });
  });

  function filterLists(root) {
    root.querySelectorAll("[data-filter-list]").forEach(filterList);
  }

  function filterList(box) {
    var list = document.querySelector(box.getAttribute("data-filter-list"));
    if (!list || box.hasAttribute("data-filter-ready")) return;
    box.setAttribute("data-filter-ready", "");
    box.hidden = false;
    box.addEventListener("input", function () {
      var wanted = box.value.trim().toLowerCase();
      list.querySelectorAll("label").forEach(function (label) {
        var input = label.querySelector("input");
        var keep = !wanted || (input && input.checked) ||
          label.textContent.toLowerCase().indexOf(wanted) !== -1;
        (label.closest("div:not([id])") || label).hidden = !keep;
      });
    });
  }

  filterLists(document);
  // Boxes swapped in by htmx (the flow creator's clients stage) get it too.
  document.addEventListener("htmx:load", function (event) {
    if (event.target instanceof Element) filterLists(event.target);
  });

  // A table too wide for the screen scrolls inside its .table-wrap: that region must be
  // reachable by keyboard (and named) so that it can be scrolled without a mouse.
  function markScrollers(root) {
    root.querySelectorAll(".table-wrap").forEach(function (wrap) {
      if (wrap.scrollWidth <= wrap.clientWidth + 1 || wrap.hasAttribute("tabindex")) return;
      var card = wrap.closest("section, .card");
      var heading = card && card.querySelector("h1, h2, h3");
      wrap.tabIndex = 0;
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", (heading ? heading.textContent.trim() + ": " : "") +
        "table, scrolls sideways");
    });
  }
  markScrollers(document);
  window.addEventListener("resize", function () { markScrollers(document); });
  document.addEventListener("htmx:load", function (event) {
    if (event.target instanceof Element) markScrollers(event.target);
  });

  document.querySelectorAll(".js-print").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
