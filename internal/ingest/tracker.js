/* Rapport first-party tracker: page views, clicks on [data-rapport-track],
   rapport.identify() / rapport.track() / rapport.page(). Sends Segment-format
   messages to this server's /v1/batch with the write key. No cookies, no
   third-party code; the anonymous id lives in this site's localStorage. */
(function (w, d) {
  "use strict";
  var script = d.currentScript;
  if (!script) {
    var all = d.getElementsByTagName("script");
    for (var i = all.length - 1; i >= 0; i--) {
      if (/\/t\.js(\?|$)/.test(all[i].src)) { script = all[i]; break; }
    }
  }
  var key = (script && script.getAttribute("data-write-key")) || "";
  var endpoint = (script && script.getAttribute("data-endpoint")) ||
    (script && script.src ? script.src.replace(/\/t\.js(\?.*)?$/, "") : "");
  var autoPage = !(script && script.getAttribute("data-page") === "off");

  function storage(name, value) {
    try {
      if (value === undefined) return w.localStorage.getItem(name);
      if (value === null) w.localStorage.removeItem(name);
      else w.localStorage.setItem(name, value);
    } catch (e) { /* storage disabled: keep ids for this page only */ }
    return value;
  }
  function uuid() {
    if (w.crypto && w.crypto.randomUUID) return w.crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = Math.random() * 16 | 0;
      return (c === "x" ? r : (r & 3 | 8)).toString(16);
    });
  }
  var anonymousId = storage("rapport_aid") || storage("rapport_aid", uuid());
  var userId = storage("rapport_uid") || null;
  var queue = [];
  var timer = null;

  function context() {
    return {
      library: { name: "rapport-t.js", version: "1" },
      page: { path: location.pathname, url: location.href, title: d.title, referrer: d.referrer, search: location.search },
      userAgent: navigator.userAgent,
      locale: navigator.language
    };
  }
  function send(msg) {
    msg.messageId = uuid();
    msg.anonymousId = anonymousId;
    if (userId) msg.userId = userId;
    msg.timestamp = new Date().toISOString();
    msg.context = context();
    queue.push(msg);
    if (queue.length >= 20) flush();
    else if (!timer) timer = setTimeout(flush, 1000);
  }
  function flush(leaving) {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!queue.length || !key) return;
    var batch = queue.splice(0, 100);
    var body = JSON.stringify({ batch: batch, sentAt: new Date().toISOString(), writeKey: key });
    if (leaving && navigator.sendBeacon && navigator.sendBeacon(endpoint + "/v1/batch", body)) return;
    var retry = function () { queue = batch.concat(queue); if (!timer) timer = setTimeout(flush, 5000); };
    try {
      fetch(endpoint + "/v1/batch", {
        method: "POST", keepalive: body.length < 60000, body: body,
        headers: { "Content-Type": "application/json", "Authorization": "Basic " + btoa(key + ":") }
      }).then(function (r) { if (r.status >= 500) retry(); }, retry);
    } catch (e) { retry(); }
    if (queue.length) flush(leaving);
  }

  var api = {
    page: function (name, properties) {
      send({ type: "page", name: name || d.title, properties: properties || {} });
    },
    track: function (event, properties) {
      send({ type: "track", event: String(event), properties: properties || {} });
    },
    identify: function (id, traits) {
      if (id && typeof id === "object") { traits = id; id = null; }
      if (id) { userId = String(id); storage("rapport_uid", userId); }
      send({ type: "identify", traits: traits || {} });
    },
    reset: function () {
      userId = null; storage("rapport_uid", null);
      anonymousId = storage("rapport_aid", uuid());
    },
    flush: flush,
    anonymousId: function () { return anonymousId; },
    // The queue stub's push keeps working after load.
    push: function (call) {
      if (call && typeof api[call[0]] === "function" && call[0] !== "push") api[call[0]].apply(null, Array.prototype.slice.call(call, 1));
    }
  };

  // Calls made before the script loaded: window.rapport = [["track", …], …].
  var early = w.rapport;
  w.rapport = api;
  if (early && early.length) {
    for (var j = 0; j < early.length; j++) api.push(early[j]);
  }

  d.addEventListener("click", function (e) {
    var el = e.target && e.target.closest ? e.target.closest("[data-rapport-track]") : null;
    if (!el) return;
    var props = { text: (el.innerText || "").trim().slice(0, 200) };
    if (el.id) props.id = el.id;
    if (el.href) props.href = el.href;
    api.track(el.getAttribute("data-rapport-track") || "Clicked", props);
    if (el.href) flush(true);
  }, true);

  if (autoPage) {
    api.page();
    // Single-page apps: a history change is a page view too.
    var push = history.pushState;
    history.pushState = function () { push.apply(history, arguments); api.page(); };
    w.addEventListener("popstate", function () { api.page(); });
  }
  w.addEventListener("pagehide", function () { flush(true); });
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") flush(true); });
})(window, document);
