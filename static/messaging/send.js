// Send Message page: fill the template preview's {{n}} placeholders with the variable values as
// they are typed. Only text nodes are touched, so typed values never become markup.
(function () {
  "use strict";
  var VARIABLE = /\{\{(\d+)\}\}/g;
  var originals = new WeakMap();

  function values() {
    var found = {};
    document.querySelectorAll("#send-form [data-variable]").forEach(function (input) {
      found[input.getAttribute("data-variable")] = input.value;
    });
    return found;
  }

  function fill() {
    var preview = document.getElementById("preview");
    if (!preview) {
      return;
    }
    var typed = values();
    var walker = document.createTreeWalker(preview, NodeFilter.SHOW_TEXT);
    var node = walker.nextNode();
    while (node) {
      if (!originals.has(node)) {
        originals.set(node, node.nodeValue);
      }
      node.nodeValue = originals.get(node).replace(VARIABLE, function (match, number) {
        return typed[number] ? typed[number] : match;
      });
      node = walker.nextNode();
    }
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-variable]")) {
      fill();
    }
  });
  document.addEventListener("htmx:afterSettle", fill);
  document.addEventListener("DOMContentLoaded", fill);
})();
