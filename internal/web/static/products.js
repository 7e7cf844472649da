// Keyboard review for the Products workbench. The page works without it
// (every row has forms); this adds j/k to move, a/r/1–9/s to decide through
// the JSON API without leaving the list, x to select, Enter to open and ?
// for help.
(function () {
  "use strict";

  var table = document.querySelector("table.products");
  if (!table || table.getAttribute("data-edit") !== "true") return;
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-id]"));
  if (!rows.length) return;
  var help = document.getElementById("keyhelp");
  var current = -1;
  var busy = false;

  var live = document.createElement("p");
  live.className = "notice kbdstatus";
  live.id = "kbd-status";
  live.setAttribute("role", "status");
  live.hidden = true;
  table.parentNode.parentNode.insertBefore(live, table.parentNode);

  function say(msg) {
    live.textContent = msg;
    live.hidden = !msg;
  }

  function focusRow(i, quiet) {
    if (i < 0 || i >= rows.length) return;
    if (current >= 0) {
      rows[current].classList.remove("current");
      rows[current].removeAttribute("aria-current");
    }
    current = i;
    var row = rows[current];
    row.classList.add("current");
    row.setAttribute("aria-current", "true");
    if (!quiet && row.scrollIntoView) row.scrollIntoView({ block: "nearest" });
  }

  function statusLabel(s) {
    return s === "confirmed" ? "mapped" : s;
  }

  function render(row, m) {
    row.setAttribute("data-status", m.status);
    row.classList.add("done");
    var badge = row.querySelector(".status");
    if (badge) {
      badge.className = "status " + m.status;
      badge.textContent = statusLabel(m.status);
    }
    var cell = row.querySelector("td.assets");
    if (cell) {
      cell.textContent = "";
      if (m.assets.length) {
        m.assets.forEach(function (a) {
          var t = document.createElement("span");
          t.className = "tag" + (a.primary ? " primary" : "");
          t.textContent = a.asset;
          cell.appendChild(t);
          cell.appendChild(document.createTextNode(" "));
        });
      } else {
        var none = document.createElement("span");
        none.className = "muted small";
        none.textContent = m.status === "skipped" ? "Skipped" : "No suggestion";
        cell.appendChild(none);
      }
    }
    var actions = row.querySelector("td.actions");
    if (actions) {
      Array.prototype.forEach.call(actions.querySelectorAll("button"), function (b) { b.remove(); });
    }
  }

  function act(body, done) {
    if (busy || current < 0) return;
    var row = rows[current];
    body.product_id = row.getAttribute("data-id");
    busy = true;
    row.classList.add("saving");
    fetch("/api/products/mapping", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().then(function (data) { return { ok: resp.ok, data: data }; });
    }).then(function (res) {
      busy = false;
      row.classList.remove("saving");
      if (!res.ok) {
        say(res.data.detail || res.data.title || "That did not work.");
        return;
      }
      render(row, res.data);
      say(done + ": " + res.data.name + ".");
      if (current < rows.length - 1) focusRow(current + 1);
    }).catch(function () {
      busy = false;
      row.classList.remove("saving");
      say("The server could not be reached; nothing was saved.");
    });
  }

  function pick(n) {
    var items = rows[current].querySelectorAll("ol.suggestions li[data-asset]");
    if (n > items.length) {
      say("This product has no suggestion " + n + ".");
      return;
    }
    act({ action: "pick", asset_id: items[n - 1].getAttribute("data-asset") }, "Mapped");
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || tag === "button" && e.key === "Enter") return;
    var k = e.key;
    if (k === "?") {
      if (help) help.hidden = !help.hidden;
      e.preventDefault();
      return;
    }
    if (k === "Escape" && help && !help.hidden) {
      help.hidden = true;
      return;
    }
    if (current < 0 && (k === "j" || k === "k" || k === "ArrowDown" || k === "ArrowUp")) {
      focusRow(0);
      e.preventDefault();
      return;
    }
    switch (k) {
      case "j": case "ArrowDown": focusRow(current + 1); break;
      case "k": case "ArrowUp": focusRow(current - 1); break;
      case "a": act({ action: "accept" }, "Accepted"); break;
      case "r": act({ action: "reject" }, "Rejected"); break;
      case "s": act({ action: "skip" }, "Skipped"); break;
      case "x":
        if (current >= 0) {
          var box = rows[current].querySelector("input[type=checkbox]");
          if (box) box.checked = !box.checked;
        }
        break;
      case "Enter": case "o":
        if (current >= 0) window.location.href = "/products/" + rows[current].getAttribute("data-id");
        break;
      default:
        if (k >= "1" && k <= "9" && current >= 0) {
          pick(parseInt(k, 10));
          break;
        }
        return;
    }
    e.preventDefault();
  });

  focusRow(0, true);
})();
