// Behaviour the pages need, kept out of the HTML so the Content-Security-Policy can
// forbid inline scripts, inline event handlers and inline styles.
(function () {
  "use strict";

  // Profile form: while the user is in a field (typing the message, or back in a field
  // they left), its answer updates only the error and hint, never the input, so nothing
  // typed is lost.
  // A field's answer is also stale when what is in it changed after the request went
  // (typed into while the answer was on its way): swapping the input would drop that.
  const isField = (el) => !!el && !!el.matches && el.matches(".field[id^='field-']");
  function fieldValues(field) {
    return JSON.stringify(Array.from(field.querySelectorAll("input, select, textarea"), (el) =>
      el.type === "checkbox" || el.type === "radio" ? el.checked : el.value));
  }
  document.addEventListener("htmx:beforeRequest", (event) => {
    const field = event.detail.elt;
    if (isField(field)) field.dataset.sentValues = fieldValues(field);
  });
  document.addEventListener("htmx:beforeSwap", (event) => {
    const field = event.detail.target;
    if (!isField(field)) return;
    const changedSince = field.dataset.sentValues !== undefined && field.dataset.sentValues !== fieldValues(field);
    if (!field.contains(document.activeElement) && !changedSince) return;
    const feedback = field.querySelector("[id^='feedback-']");
    if (!feedback) return;
    event.detail.target = feedback;
    event.detail.selectOverride = "#" + feedback.id;
  });
})();
