// Live sync progress on the connector and setup pages. Without
// JavaScript those pages refresh themselves (a meta refresh inside
// <noscript>); with it, this polls the connector's JSON, updates the
// counts in place, and reloads the page once the sync has finished so that
// the server shows the outcome.
(function () {
  "use strict";

  var box = document.querySelector("[data-poll]");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-poll");
  var fields = { seen: "sync-seen", inserted: "sync-inserted", updated: "sync-updated", unchanged: "sync-unchanged" };

  function show(run) {
    for (var key in fields) {
      var el = document.getElementById(fields[key]);
      if (el && typeof run[key] === "number") el.textContent = run[key].toLocaleString("en-US");
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (resp) {
        if (!resp.ok) throw new Error(resp.status);
        return resp.json();
      })
      .then(function (c) {
        var run = c.runs && c.runs[0];
        // Reload when the sync has finished, and when a queued sync has
        // started: the queued page has no counts to update yet.
        if (!run || run.state !== "running" || !document.getElementById(fields.seen)) {
          window.location.reload();
          return;
        }
        show(run);
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
