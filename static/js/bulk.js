/* Task list bulk actions (templates/sodium/task_list.html): the "every task on this page"
   box ticks the rows, the count says what an action will change, and Enter in an action's
   field presses that action's button (not the form's first one). The form works without
   this file: the page box and "all matching" are real fields the server reads. */
(function () {
  "use strict";

  function form() {
    return document.getElementById("bulk-form");
  }

  function rows(f) {
    return Array.prototype.slice.call(f.querySelectorAll('input[name="task"]'));
  }

  function plural(n) {
    return n + " task" + (n === 1 ? "" : "s");
  }

  function update() {
    var f = form();
    if (!f) return;
    var boxes = rows(f);
    var ticked = boxes.filter(function (b) { return b.checked; }).length;
    var page = document.getElementById("bulk-all-page");
    var all = document.getElementById("bulk-all-matching");
    var count = document.getElementById("bulk-count");
    if (page) {
      page.checked = boxes.length > 0 && ticked === boxes.length;
      page.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    if (!count) return;
    if (all && all.checked) {
      count.textContent = "All " + plural(Number(f.getAttribute("data-matching"))) +
        " matching this filter will change.";
    } else if (ticked) {
      count.textContent = plural(ticked) + " chosen.";
    } else {
      count.textContent = "Tick tasks in the list, then choose what to do.";
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement) || !target.closest("#bulk-form")) return;
    if (target.id === "bulk-all-page") {
      rows(form()).forEach(function (b) { b.checked = target.checked; });
    }
    update();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    var target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    var action = target.closest("[data-bulk-action]");
    if (!action) return;
    event.preventDefault();
    var button = action.querySelector('button[name="action"]');
    if (button) button.click();
  });

  document.addEventListener("DOMContentLoaded", update);
  document.addEventListener("htmx:afterSettle", update);
})();
