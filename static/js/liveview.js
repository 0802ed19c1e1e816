// The live view (contacts/views/liveview.py): frames from a server-sent-events stream
// shown in one <img>, and the person's clicks, scrolls and keys posted back (with the
// CSRF token) in the page's own coordinates. No inline script: the CSP forbids it.
(function () {
  "use strict";

  function start(root) {
    const img = document.getElementById("live-frame");
    const state = document.getElementById("live-state");
    const width = Number(root.dataset.pageWidth);
    const height = Number(root.dataset.pageHeight);
    const token = root.dataset.csrfToken;
    let open = true;

    function send(event) {
      if (!open) return;
      fetch(root.dataset.inputUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token},
        body: JSON.stringify(event),
      }).catch(function () { /* the stream reports a closed view */ });
    }

    // Where on the page an event on the image points: the image is the page scaled.
    function pagePoint(event) {
      const box = img.getBoundingClientRect();
      return {
        x: Math.round((event.clientX - box.left) * width / box.width),
        y: Math.round((event.clientY - box.top) * height / box.height),
      };
    }

    img.addEventListener("click", function (event) {
      event.preventDefault();
      img.focus();
      const point = pagePoint(event);
      send({type: "click", x: point.x, y: point.y});
    });
    let wheel = null;
    img.addEventListener("wheel", function (event) {
      event.preventDefault();
      const point = pagePoint(event);
      // Wheel events come by the dozen: one post per animation frame, summed.
      if (wheel) { wheel.dx += event.deltaX; wheel.dy += event.deltaY; return; }
      wheel = {type: "wheel", x: point.x, y: point.y, dx: event.deltaX, dy: event.deltaY};
      window.requestAnimationFrame(function () { send(wheel); wheel = null; });
    }, {passive: false});
    const NAMED = ["Enter", "Tab", "Backspace", "Delete", "Escape", "ArrowLeft", "ArrowRight", "ArrowUp",
      "ArrowDown", "Home", "End", "PageUp", "PageDown"];
    img.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (NAMED.indexOf(event.key) >= 0) {
        event.preventDefault();
        send({type: "key", key: event.key});
      } else if (event.key.length === 1) {
        event.preventDefault();
        if (event.key === " ") send({type: "key", key: " "});
        else send({type: "text", text: event.key});
      }
    });
    document.getElementById("live-close").addEventListener("click", function () {
      send({type: "close"});
    });

    const stream = new EventSource(root.dataset.streamUrl);
    stream.addEventListener("frame", function (event) {
      img.src = "data:image/jpeg;base64," + event.data;
    });
    stream.addEventListener("state", function (event) {
      const info = JSON.parse(event.data);
      state.textContent = info.state === "closed" ? (info.reason || "The live view closed.") : info.label + "…";
      if (info.state === "closed") {
        open = false;
        stream.close();
        root.classList.add("closed");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const root = document.getElementById("live-view");
    if (root) start(root);
  });
})();
