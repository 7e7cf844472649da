// Small enhancements on top of pages that work without JavaScript:
// a tooltip for chart marks (their <title> holds the exact value) and
// g-then-letter keyboard shortcuts for the main sections.
(function () {
  "use strict";

  var tip = null;
  function showTip(e) {
    var t = e.target.querySelector && e.target.querySelector("title");
    if (!t) return;
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "tooltip";
      tip.setAttribute("role", "tooltip");
      document.body.appendChild(tip);
    }
    tip.textContent = t.textContent;
    tip.style.left = e.clientX + 12 + "px";
    tip.style.top = e.clientY - 28 + "px";
    tip.hidden = false;
  }
  function hideTip() { if (tip) tip.hidden = true; }
  document.addEventListener("mousemove", function (e) {
    if (e.target instanceof SVGElement && e.target.closest("svg.chart") && e.target.querySelector("title")) {
      showTip(e);
    } else {
      hideTip();
    }
  });

  var sections = { o: "/overview", i: "/intelligence", p: "/products", c: "/connectors", s: "/settings/profile" };
  var pending = false;
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    if (pending && sections[e.key] && document.querySelector(".sidebar")) {
      window.location.href = sections[e.key];
      pending = false;
      return;
    }
    pending = e.key === "g";
  });

  // Copy buttons: a button with data-copy="ID" copies the value of the
  // field ID. Hidden without JavaScript, where the field is selectable.
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    var field = document.getElementById(b.getAttribute("data-copy"));
    if (!field) return;
    b.hidden = false;
    b.addEventListener("click", function () {
      var done = function () {
        b.textContent = "Copied";
        setTimeout(function () { b.textContent = "Copy"; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
      } else {
        field.select();
        try { if (document.execCommand("copy")) done(); } catch (e) { /* the selection stays for Ctrl+C */ }
      }
    });
  });
})();
