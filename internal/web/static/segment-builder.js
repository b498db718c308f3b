// The segment rule builder: rows of field / operator / value joined by
// "and" or "or", written into the rule textarea as rule text. The text is
// the source of truth (the form works without this script), so the builder
// only writes; complex rules (behaviour, parentheses) are typed there.
(function () {
  "use strict";

  // Delete buttons ask first.
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f && f.hasAttribute && f.hasAttribute("data-confirm") && !window.confirm(f.getAttribute("data-confirm"))) {
      e.preventDefault();
    }
  });

  var box = document.getElementById("builder");
  var rule = document.getElementById("s-rule");
  if (!box || !rule) return;
  var fields = JSON.parse(box.getAttribute("data-fields") || "[]");
  var byName = {};
  fields.forEach(function (f) { byName[f.name] = f; });
  var rows = document.getElementById("builder-rows");
  var t = function (k) { return box.getAttribute("data-t-" + k) || k; };
  var seq = 0;

  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text) n.textContent = text;
    return n;
  }

  function quote(s) {
    return '"' + String(s).replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
  }

  // literal writes one value as the field's type expects it.
  function literal(f, v) {
    v = String(v).trim();
    if (f.type === "number" && v !== "" && !isNaN(Number(v))) return v;
    if (f.type === "bool" && (v === "true" || v === "false")) return v;
    return quote(v);
  }

  function setValueInput(row) {
    var f = byName[row.querySelector(".b-field").value];
    var op = row.querySelector(".b-op").value;
    var old = row.querySelector(".b-value");
    var id = old.id;
    var input;
    if (op === "is null" || op === "is not null") {
      input = el("input", { id: id, class: "b-value", type: "hidden" });
    } else if (f && f.type === "bool") {
      input = el("select", { id: id, class: "b-value" });
      ["true", "false"].forEach(function (o) { input.appendChild(el("option", { value: o }, o)); });
    } else if (f && f.options && f.options.length && op !== "in" && op !== "not in") {
      input = el("select", { id: id, class: "b-value" });
      f.options.forEach(function (o) { input.appendChild(el("option", { value: o }, o)); });
    } else {
      input = el("input", { id: id, class: "b-value", type: f && f.type === "date" ? "date" : "text" });
      if (op === "in" || op === "not in") input.setAttribute("placeholder", t("values-hint"));
      if (f && f.type === "number") input.setAttribute("inputmode", "decimal");
    }
    old.parentNode.replaceChild(input, old);
  }

  function setOps(row) {
    var f = byName[row.querySelector(".b-field").value];
    var sel = row.querySelector(".b-op");
    sel.textContent = "";
    (f ? f.ops : []).forEach(function (o) { sel.appendChild(el("option", { value: o }, o)); });
    setValueInput(row);
  }

  function addRow(focus) {
    seq++;
    var li = el("li", { class: "builder-row" });
    var fid = "b-field-" + seq, oid = "b-op-" + seq, vid = "b-value-" + seq;
    var fsel = el("select", { id: fid, class: "b-field" });
    fields.forEach(function (f) {
      fsel.appendChild(el("option", { value: f.name }, f.label === f.name ? f.name : f.label + " (" + f.name + ")"));
    });
    li.appendChild(el("label", { for: fid, class: "sr-only" }, t("field")));
    li.appendChild(fsel);
    li.appendChild(el("label", { for: oid, class: "sr-only" }, t("op")));
    li.appendChild(el("select", { id: oid, class: "b-op" }));
    li.appendChild(el("label", { for: vid, class: "sr-only" }, t("value")));
    li.appendChild(el("input", { id: vid, class: "b-value", type: "text" }));
    var rm = el("button", { type: "button", class: "link b-remove" }, t("remove"));
    li.appendChild(rm);
    fsel.addEventListener("change", function () { setOps(li); });
    li.querySelector(".b-op").addEventListener("change", function () { setValueInput(li); });
    rm.addEventListener("click", function () { li.parentNode.removeChild(li); });
    rows.appendChild(li);
    setOps(li);
    if (focus !== false) fsel.focus();
  }

  // build writes the rows as rule text.
  function build() {
    var join = document.getElementById("b-join").value;
    var parts = [];
    rows.querySelectorAll(".builder-row").forEach(function (li) {
      var f = byName[li.querySelector(".b-field").value];
      var op = li.querySelector(".b-op").value;
      var v = li.querySelector(".b-value").value;
      if (!f) return;
      if (op === "is null" || op === "is not null") {
        parts.push(f.name + " " + op);
      } else if (op === "in" || op === "not in") {
        var vs = v.split(/[,，]/).map(function (x) { return x.trim(); }).filter(function (x) { return x !== ""; });
        parts.push(f.name + " " + op + " (" + vs.map(function (x) { return literal(f, x); }).join(", ") + ")");
      } else {
        parts.push(f.name + " " + op + " " + literal(f, v));
      }
    });
    if (!parts.length) return;
    rule.value = parts.join(" " + join + " ");
    rule.dispatchEvent(new Event("rule-built", { bubbles: true }));
    rule.focus();
  }

  document.getElementById("b-add").addEventListener("click", function () { addRow(true); });
  document.getElementById("b-apply").addEventListener("click", build);
  box.hidden = false;
  addRow(false);
})();
