/* Sodium: the SMS segment counter. No build step; no inline script (the CSP forbids it).

   Any <textarea data-sms-counter> gets a live line "N characters · M segments (GSM-7|Unicode)"
   in the element that names it with data-sms-counter-for="<textarea id>" (the partial
   templates/sodium/partials/sms_counter.html renders that line, counted on the server, so it
   is right before this script runs and without it). Counting follows sodium/sms/segments.py:
   GSM-7 when every character is in the GSM 03.38 tables (extension characters count two),
   else UCS-2 in UTF-16 units; 160/70 in one segment, 153/67 a part beyond that. */
(function () {
  "use strict";

  var BASIC =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENDED = "^{}\\[~]|€\f";

  function count(text) {
    var gsm = true;
    var units = 0;
    for (var i = 0; i < text.length; i++) {
      var c = text.charAt(i);
      if (EXTENDED.indexOf(c) !== -1) {
        units += 2;
      } else if (BASIC.indexOf(c) !== -1) {
        units += 1;
      } else {
        gsm = false;
        break;
      }
    }
    // JavaScript strings are UTF-16 already: length counts an emoji as two units.
    if (!gsm) units = text.length;
    var single = gsm ? 160 : 70;
    var part = gsm ? 153 : 67;
    var segments = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / part);
    return { characters: units, segments: segments, encoding: gsm ? "GSM-7" : "Unicode" };
  }

  function label(result) {
    return (
      result.characters + (result.characters === 1 ? " character" : " characters") + " · " +
      result.segments + (result.segments === 1 ? " segment" : " segments") +
      " (" + result.encoding + ")"
    );
  }

  function update(field) {
    var output = field.id && document.querySelector('[data-sms-counter-for="' + field.id + '"]');
    if (output) output.textContent = label(count(field.value));
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target instanceof HTMLTextAreaElement && target.hasAttribute("data-sms-counter")) {
      update(target);
    }
  });

  function updateAll(root) {
    root.querySelectorAll("textarea[data-sms-counter]").forEach(update);
  }

  updateAll(document);
  // Editors swapped in by htmx (a content block's form, the focus panel) count too.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target instanceof Element) updateAll(event.target);
  });

  window.SodiumSms = { count: count, label: label };
})();
