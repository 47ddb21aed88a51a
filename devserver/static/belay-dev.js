/*
 * belay-dev.js — live reload for `belay dev` (development only).
 *
 * Usage: add one tag to your page while developing:
 *
 *     <script src="/__belay/dev.js"></script>
 *
 * `belay dev` serves this file at /__belay/dev.js on the app's own port, with the
 * address of its notification websocket filled in. (Loaded from anywhere else,
 * set `data-belay-ws="ws://127.0.0.1:PORT/ws"` on the script tag.)
 *
 * On every reload the dev server sends {"type": "reload", "modules": [...],
 * "codegen": [...], "restart": bool}. The snippet dispatches a cancelable
 * `belay:reload` event on `window` with that message as `detail`; unless a
 * listener calls `event.preventDefault()`, the page reloads. To keep UI state
 * and only re-fetch the server state instead:
 *
 *     window.addEventListener("belay:reload", (event) => {
 *       event.preventDefault();
 *       server.load();            // e.g. a createServerState(...) handle
 *     });
 *
 * When the socket drops (the dev server stopped or restarted) the snippet
 * reconnects with a growing delay (up to 2 s).
 */
(function () {
  "use strict";
  if (window.__belayDevConnected) return;
  window.__belayDevConnected = true;

  var script = document.currentScript;
  var url =
    (script && script.getAttribute("data-belay-ws")) || window.__BELAY_DEV_WS__ || null;
  if (!url && script && script.src) {
    var src = new URL(script.src, location.href);
    url = (src.protocol === "https:" ? "wss://" : "ws://") + src.host + "/ws";
  }
  if (!url) {
    console.warn("belay-dev: no websocket address; set data-belay-ws on the script tag");
    return;
  }
  // `belay dev --host 0.0.0.0` binds every interface; connect to the one the page came from.
  var parsed = new URL(url);
  if (parsed.hostname === "0.0.0.0" || parsed.hostname === "[::]") {
    parsed.hostname = location.hostname;
    url = parsed.toString();
  }

  var delay = 100;
  function connect() {
    var socket = new WebSocket(url);
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
      if (!data || data.type !== "reload") return;
      var event = new CustomEvent("belay:reload", { detail: data, cancelable: true });
      if (window.dispatchEvent(event)) location.reload();
    };
    socket.onclose = function () {
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 2000);
    };
  }
  connect();
})();
