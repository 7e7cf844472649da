// Live progress of a background import. Without JavaScript the page
// refreshes itself (a meta refresh inside <noscript>); with it, this polls
// the job's progress, moves the bar and the counts in place, and reloads
// the page once the import has ended so that the server shows its summary.
(function () {
  "use strict";

  var box = document.querySelector("#import-running[data-poll]");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-poll");
  var bar = document.getElementById("import-bar");

  function set(id, text) {
    var el = document.getElementById(id);
    if (el) el.textContent = text;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (resp) {
        if (!resp.ok) throw new Error(resp.status);
        return resp.json();
      })
      .then(function (p) {
        if (p.state !== "running" && p.state !== "queued") {
          window.location.reload();
          return;
        }
        if (bar) {
          bar.max = p.rows_total || 1;
          bar.value = p.rows_done;
          bar.textContent = p.percent + "%";
        }
        set("import-done", p.rows_done.toLocaleString("en-US"));
        set("import-total", p.rows_total.toLocaleString("en-US"));
        set("import-percent", String(p.percent));
        if (p.state === "running") set("import-title", p.percent >= 100 ? "Finishing: refreshing the figures…" : "Importing…");
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
