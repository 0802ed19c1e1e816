// The results page's behaviour beyond htmx (no inline scripts or handlers, for the CSP):
// "select all", screen-reader announcements of row outcomes and of the batch's end, the
// tab title, taking down stale banners, compact rows once finished, leaving a live row
// alone when it arrives unchanged, and an optional browser notification when the batch
// ends while the tab is in the background.
(function () {
  "use strict";

  const NOTIFY_KEY = "dc-notify-batch-end";
  const rowStates = new Map();
  let batchDone = null;

  function announce(text) {
    const region = document.getElementById("announcer");
    if (!region || !text) return;
    // Cleared first so the same words twice are still read out.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function baseTitle() {
    const results = document.getElementById("results");
    return (results && results.dataset.baseTitle) || document.title;
  }

  function notificationsWanted() {
    return "Notification" in window && Notification.permission === "granted" &&
      window.localStorage.getItem(NOTIFY_KEY) === "1";
  }

  function showNotifyToggle(summary) {
    const toggle = summary.querySelector(".notify-toggle");
    if (!toggle || !("Notification" in window) || Notification.permission === "denied") return;
    toggle.hidden = false;
    toggle.setAttribute("aria-pressed", notificationsWanted() ? "true" : "false");
    toggle.textContent = notificationsWanted() ? "Notifying when done" : "Notify me when done";
  }

  function onSummary(summary) {
    const title = summary.dataset.title;
    document.title = title ? title + " · " + baseTitle() : baseTitle();
    const done = summary.dataset.done === "1";
    showNotifyToggle(summary);
    if (batchDone === false && done) {
      announce(summary.dataset.sentence);
      document.querySelectorAll(".messages li.batch-notice").forEach(function (notice) { notice.remove(); });
      const table = document.getElementById("dealer-table");
      if (table) table.classList.add("compact");
      if (document.hidden && notificationsWanted()) {
        try {
          new Notification("DealerContact: batch finished", {body: summary.dataset.sentence, tag: "dc-batch"});
        } catch (error) { /* some browsers allow notifications only from a service worker */ }
      }
    }
    if (!done && summary.dataset.sentence && batchDone === true) {
      const table = document.getElementById("dealer-table");
      if (table) table.classList.remove("compact");
    }
    batchDone = done;
  }

  function onRow(row) {
    const previous = rowStates.get(row.id);
    const state = row.dataset.state || "";
    rowStates.set(row.id, state);
    if (previous !== undefined && previous !== state && row.dataset.announce) announce(row.dataset.announce);
  }

  // A row the stream sends again unchanged is left as it is. Swapping in the same row
  // would close an open "Edit and send" and throw away what the person typed there (or a
  // box they ticked). The same row comes again when two events about one dealer are read
  // in different polls after the row already stood at its new state, and when a
  // reconnecting stream catches up. What the stream last swapped in is remembered per row
  // element, so a row put in any other way (a post's answer, a new table) takes the next
  // message whatever it is.
  const streamed = new WeakMap();  // row element -> the message it was swapped in from
  const arriving = new Map();  // row id -> the message being swapped in (until htmx:load)

  function onStreamedRow(event) {
    const row = event.target;
    if (!row.classList || !row.classList.contains("dealer-row")) return;
    const html = event.detail.data;
    if (streamed.get(row) === html) {
      event.preventDefault();
      return;
    }
    arriving.set(row.id, html);
  }

  function onLoadedRow(row) {
    if (!arriving.has(row.id)) return;
    streamed.set(row, arriving.get(row.id));
    arriving.delete(row.id);
  }

  function scan(root) {
    if (root.id === "summary") onSummary(root);
    if (root.classList && root.classList.contains("dealer-row")) {
      onLoadedRow(root);
      onRow(root);
    }
    if (root.querySelectorAll) {
      root.querySelectorAll(".dealer-row").forEach(onRow);
      const summary = root.querySelector("#summary");
      if (summary) onSummary(summary);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".dealer-row").forEach(function (row) { rowStates.set(row.id, row.dataset.state || ""); });
    const summary = document.getElementById("summary");
    if (summary) {
      batchDone = summary.dataset.done === "1";
      showNotifyToggle(summary);
    }
    // Every element htmx puts in the page (live rows, the summary, a swapped table).
    document.body.addEventListener("htmx:load", function (event) { scan(event.detail.elt); });
    document.body.addEventListener("htmx:sseBeforeMessage", onStreamedRow);
  });

  document.addEventListener("change", function (event) {
    const box = event.target;
    if (!box.matches || !box.matches("#select-all")) return;
    const table = box.closest("table");
    table.querySelectorAll("input[name=dealer]:not(:disabled)").forEach(function (dealer) { dealer.checked = box.checked; });
  });

  document.addEventListener("click", function (event) {
    const toggle = event.target.closest && event.target.closest(".notify-toggle");
    if (!toggle) return;
    if (notificationsWanted()) {
      window.localStorage.removeItem(NOTIFY_KEY);
      showNotifyToggle(toggle.closest("#summary"));
      return;
    }
    Notification.requestPermission().then(function (permission) {
      if (permission === "granted") window.localStorage.setItem(NOTIFY_KEY, "1");
      const summary = document.getElementById("summary");
      if (summary) showNotifyToggle(summary);
    });
  });
})();
