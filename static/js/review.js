// Review before sending: Enter in a field being edited sends that form's edits (its own
// "Edit and send"), never the page's first button ("Contact selected" on the results page).
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    const field = event.target;
    if (event.key !== "Enter" || !field.matches || !field.matches(".review-edit input")) return;
    event.preventDefault();
    const send = field.closest(".review-edit").querySelector(".review-send-edited");
    if (send) send.click();
  });
})();
