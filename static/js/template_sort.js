/* Template editor: drag steps and groups into place (SortableJS, static/vendor/sortablejs/).

   A step is dragged by its handle within its group or into another group of the template; a
   group by the handle in its header. On drop the new place is posted through htmx (so the CSRF
   header on <body> goes along) to the step's or group's data-place-url: `group` and `index`
   for a step, `index` for a group. The server checks the move (a step that waits for others
   of its group, or that others wait for, cannot leave it) and answers with the list of groups
   re-rendered — with a readable error when refused — which replaces the page's, so the page
   always shows the order the server holds.

   Without this script the handles stay hidden; the up and down buttons and each step's Move
   to group select do the same moves from the keyboard. */
(function () {
  "use strict";

  if (typeof Sortable === "undefined" || typeof htmx === "undefined") return;

  var TARGET = "#template-groups";

  function indexIn(container, item, selector) {
    var items = Array.prototype.filter.call(container.children, function (el) {
      return el.matches(selector);
    });
    return items.indexOf(item);
  }

  function post(item, values) {
    htmx.ajax("POST", item.getAttribute("data-place-url"), {
      source: item,
      target: TARGET,
      swap: "outerHTML",
      values: values,
    });
  }

  function sorting(on) {
    document.body.classList.toggle("is-sorting", on);
  }

  function setUp(root) {
    var groups = root.matches && root.matches("[data-sort-groups]") ? root : root.querySelector("[data-sort-groups]");
    var board = groups || (root.closest && root.closest("[data-sort-groups]"));
    if (!board) return;
    var scope = board.getAttribute("data-sort-scope");

    board.querySelectorAll(".tpl-handle").forEach(function (handle) { handle.hidden = false; });

    root.querySelectorAll("[data-sort-steps]").forEach(function (list) {
      if (list.sortable) return;
      list.sortable = Sortable.create(list, {
        group: scope + "-steps",
        handle: ".tpl-step-handle",
        draggable: ".tpl-step",
        animation: 150,
        ghostClass: "tpl-step-ghost",
        onStart: function () { sorting(true); },
        onEnd: function (event) {
          sorting(false);
          var item = event.item;
          var index = indexIn(event.to, item, ".tpl-step");
          if (event.to === event.from && event.oldIndex === event.newIndex) return;
          post(item, { group: event.to.getAttribute("data-group"), index: String(index) });
        },
      });
    });

    if (groups && !groups.sortable) {
      groups.sortable = Sortable.create(groups, {
        handle: ".tpl-group-handle",
        draggable: ".tpl-group",
        animation: 150,
        ghostClass: "tpl-group-ghost",
        onStart: function () { sorting(true); },
        onEnd: function (event) {
          sorting(false);
          if (event.oldIndex === event.newIndex) return;
          post(event.item, { index: String(indexIn(groups, event.item, ".tpl-group")) });
        },
      });
    }
  }

  // Sortable leaves style attributes (emptied transforms) on the rows it animated. htmx's
  // settle copies an old element's attributes onto its new copy with setAttribute, which the
  // Content-Security-Policy refuses for style: drop them before the swap.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!(target instanceof Element) || !target.closest("[data-sort-groups]")) return;
    target.removeAttribute("style");
    target.querySelectorAll("[style]").forEach(function (el) { el.removeAttribute("style"); });
  });

  // After a Move to group (the keyboard path) the form is replaced: keep the focus at the step
  // moved, on its select. A drag leaves the focus alone.
  var fromKeyboard = false;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    fromKeyboard = elt instanceof Element && !!elt.closest(".tpl-move-group");
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!(event.target instanceof Element) || event.target.id !== "template-groups") return;
    var moved = event.target.querySelector(".tpl-step.is-moved");
    if (!moved || !fromKeyboard) return;
    fromKeyboard = false;
    var select = moved.querySelector(".tpl-move-group select");
    (select || moved).focus();
  });

  document.addEventListener("htmx:load", function (event) {
    if (event.target instanceof Element) setUp(event.target);
  });
  setUp(document);
})();
