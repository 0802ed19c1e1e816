// Behaviour the pages need, kept out of the HTML so the Content-Security-Policy can
// forbid inline scripts, inline event handlers and inline styles.
(function () {
  "use strict";

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
})();
