// Rapport UI behaviour: keyboard shortcuts for the customer list, small
// htmx glue, and charts from server-rendered ECharts options. No inline
// scripts anywhere (the Content-Security-Policy forbids them).
(function () {
  "use strict";

  function typing(el) {
    if (!el) return false;
    var t = el.tagName;
    return t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || el.isContentEditable;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#results tbody tr[data-href]"));
  }

  function select(i) {
    var rs = rows();
    if (!rs.length) return;
    i = Math.max(0, Math.min(rs.length - 1, i));
    rs.forEach(function (r, j) {
      r.classList.toggle("selected", j === i);
      if (j === i) r.setAttribute("aria-selected", "true"); else r.removeAttribute("aria-selected");
    });
    var link = rs[i].querySelector("a.name");
    if (link) link.focus({ preventScroll: true });
    rs[i].scrollIntoView({ block: "nearest" });
  }

  function current() {
    var rs = rows();
    for (var i = 0; i < rs.length; i++) if (rs[i].classList.contains("selected")) return i;
    return -1;
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var q = document.getElementById("q");
    if (e.key === "Escape" && document.activeElement === q) { q.blur(); return; }
    if (typing(document.activeElement)) return;
    if (e.key === "/" && q) { e.preventDefault(); q.focus(); q.select(); return; }
    if (!document.getElementById("results")) return;
    if (e.key === "j") { e.preventDefault(); select(current() + 1); }
    else if (e.key === "k") { e.preventDefault(); select(Math.max(0, current() - 1)); }
    else if (e.key === "Enter") {
      var i = current();
      if (i >= 0) { e.preventDefault(); window.location.href = rows()[i].getAttribute("data-href"); }
    }
  });

  // The search box already searches as you type; its change event (on
  // blur) must not fetch the same results again and drop the j/k selection.
  document.addEventListener("change", function (e) {
    if (e.target.id === "q") e.stopPropagation();
  }, true);

  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches && t.matches("[data-check-all]")) {
      document.querySelectorAll('#results input[name="id"]').forEach(function (c) { c.checked = t.checked; });
    }
  });

  // Keep export links, the save-view form and the bulk form in step with
  // the results htmx just swapped in.
  function syncQuery() {
    var res = document.getElementById("results");
    if (!res) return;
    var q = res.getAttribute("data-query") || "";
    var csv = document.getElementById("export-csv");
    if (csv) csv.href = "/customers/export" + (q ? "?" + q : "");
    var xlsx = document.getElementById("export-xlsx");
    if (xlsx) xlsx.href = "/customers/export?format=xlsx" + (q ? "&" + q : "");
    var vq = document.getElementById("view-query");
    if (vq) vq.value = q;
    var back = document.querySelector('#bulk input[name="back"]');
    if (back) back.value = q;
  }

  var charts = [];
  function drawCharts(root) {
    if (!window.echarts) return;
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.getAttribute("data-drawn")) return;
      var opt = JSON.parse(el.getAttribute("data-chart"));
      var c = window.echarts.init(el, null, { renderer: "canvas" });
      c.setOption(opt);
      el.setAttribute("data-drawn", "1");
      charts.push(c);
    });
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });

  document.addEventListener("DOMContentLoaded", function () { drawCharts(); });
  document.addEventListener("htmx:afterSwap", function (e) {
    syncQuery();
    drawCharts(e.target);
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var f = e.detail.elt;
    var box = document.getElementById("quick-error");
    if (f && f.hasAttribute && f.hasAttribute("data-reset") && e.detail.successful) {
      f.querySelectorAll("textarea, input[name=summary]").forEach(function (x) { x.value = ""; });
      if (box) box.innerHTML = "";
    }
  });
  document.addEventListener("htmx:responseError", function (e) {
    var box = document.getElementById("quick-error");
    if (box && e.detail.xhr) box.innerHTML = e.detail.xhr.responseText;
  });
})();
