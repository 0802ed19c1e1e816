// Behaviour the pages need, kept out of the HTML so the Content-Security-Policy can
// forbid inline scripts, inline event handlers and inline styles.
(function () {
  "use strict";

  // Progress bars carry their value in data-progress; the width is set here, because a
  // style="width: …" attribute is an inline style the policy refuses.
  function showProgress(root) {
    const bars = root.matches && root.matches("[data-progress]") ? [root] : [];
    root.querySelectorAll && bars.push(...root.querySelectorAll("[data-progress]"));
    for (const bar of bars) {
      const value = Math.max(0, Math.min(100, Number(bar.dataset.progress) || 0));
      bar.style.width = value + "%";
    }
  }

  // "Select all": ticks every enabled dealer checkbox in its table.
  document.addEventListener("change", (event) => {
    const box = event.target;
    if (!box.matches || !box.matches("input[data-select-all]")) return;
    const table = box.closest("table");
    if (!table) return;
    table.querySelectorAll("input[name=dealer]:not(:disabled)").forEach((other) => { other.checked = box.checked; });
  });

  // Profile form: while the user is in a field (typing the message, or back in a field
  // they left), its answer updates only the error and hint, never the input, so nothing
  // typed is lost.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const field = event.detail.target;
    if (!field || !field.matches || !field.matches(".field[id^='field-']") || !field.contains(document.activeElement)) return;
    const feedback = field.querySelector("[id^='feedback-']");
    if (!feedback) return;
    event.detail.target = feedback;
    event.detail.selectOverride = "#" + feedback.id;
  });

  if (window.htmx) {
    window.htmx.onLoad(showProgress);
  } else {
    document.addEventListener("DOMContentLoaded", () => showProgress(document));
  }
})();
