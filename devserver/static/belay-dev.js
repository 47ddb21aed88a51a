/*
 * belay-dev.js — live reload for `belay dev` (development only).
 *
 * Usage: add one tag to your page while developing:
 *
 *     <script src="/__belay/dev.js"></script>
 *
 * `belay dev` serves this file at /__belay/dev.js and its notification websocket
 * at /__belay/dev, both on the app's own host and port. The snippet connects to
 * the host it was loaded from (a page served elsewhere, e.g. by Vite, can load it
 * with an absolute URL: <script src="http://127.0.0.1:8000/__belay/dev.js">).
 *
 * On every reload the dev server sends {"type": "reload", "modules": [...],
 * "codegen": [...], "restart": bool, "files": [...]} (files: project-relative
 * paths). The snippet dispatches a cancelable `belay:reload` event on `window`
 * with that message as `detail`; unless a listener calls
 * `event.preventDefault()`, the page reloads. To keep UI state and only
 * re-fetch the server state instead:
 *
 *     window.addEventListener("belay:reload", (event) => {
 *       event.preventDefault();
 *       server.load();            // e.g. a createServerState(...) handle
 *     });
 *
 * When the socket drops (the app process was replaced, or `belay dev` was
 * restarted) the snippet reconnects to the same address with a growing delay
 * (up to 2 s, forever). It names the process it knew (`?last=ID`); when another
 * process answers, the page is out of date and gets a reload message at once.
 */
(function () {
  "use strict";
  if (window.__belayDevConnected) return;
  window.__belayDevConnected = true;

  var script = document.currentScript;
  var base = (script && script.src) || location.href;
  var url = window.__BELAY_DEV_WS__ || null;
  if (!url) {
    var src = new URL(base, location.href);
    url = (src.protocol === "https:" ? "wss://" : "ws://") + src.host + "/__belay/dev";
  }

  var delay = 100;
  var known = "";
  var reloading = false;
  function connect() {
    var address = known ? url + "?last=" + encodeURIComponent(known) : url;
    var socket = new WebSocket(address);
    socket.onopen = function () {
      delay = 100;
    };
    socket.onmessage = function (message) {
      var data;
      try {
        data = JSON.parse(message.data);
      } catch (err) {
        return;
      }
      if (!data) return;
      if (data.id) known = data.id;
      if (data.type !== "reload" || reloading) return;
      var event = new CustomEvent("belay:reload", { detail: data, cancelable: true });
      if (window.dispatchEvent(event)) {
        reloading = true;
        location.reload();
      }
    };
    socket.onclose = function () {
      if (reloading) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 2000);
    };
  }
  connect();
})();
