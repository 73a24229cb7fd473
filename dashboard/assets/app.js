// cairn dashboard: the only script. Pages and actions work without it;
// it refreshes the parts marked data-refresh (graphs, job progress,
// events) and enables a dangerous button once its confirmation is typed.
"use strict";

(function () {
  // Refresh: an element with data-refresh="URL" data-every="MS" is
  // replaced by the fragment at URL every MS milliseconds. The fragment
  // is the element itself, so a finished job drops its data-refresh and
  // polling stops.
  function refresh(el) {
    var url = el.getAttribute("data-refresh");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.redirected || !r.ok) { throw new Error(url + ": " + r.status); }
        return r.text();
      })
      .then(function (html) {
        var t = document.createElement("template");
        t.innerHTML = html.trim();
        var fresh = t.content.firstElementChild;
        if (fresh && el.isConnected) { el.replaceWith(fresh); schedule(fresh); }
      })
      .catch(function () { setTimeout(function () { schedule(el); }, 5000); });
  }

  function schedule(el) {
    if (!el.hasAttribute("data-refresh")) { return; }
    var every = parseInt(el.getAttribute("data-every"), 10) || 2000;
    setTimeout(function () { if (el.isConnected && !document.hidden) { refresh(el); } else { schedule(el); } }, every);
  }

  // Typed confirmation: an input with data-expect="TEXT" data-enables="ID"
  // enables button ID only while its value is TEXT. The server checks too.
  function confirmations() {
    document.querySelectorAll("input[data-expect]").forEach(function (input) {
      var button = document.getElementById(input.getAttribute("data-enables"));
      if (!button) { return; }
      var update = function () { button.disabled = input.value !== input.getAttribute("data-expect"); };
      input.addEventListener("input", update);
      update();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh]").forEach(schedule);
    confirmations();
  });
})();
