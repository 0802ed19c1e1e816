// Tells the server the browser's time zone, so times show in it (contacts/time_zones.py).
// Runs once per zone change: the server's answer sets a cookie the next page is shown with.
(function () {
  "use strict";
  const body = document.body;
  const url = body && body.dataset.timeZoneUrl;
  if (!url || !window.fetch || !window.Intl) return;
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  if (!zone || zone === body.dataset.timeZone) return;
  let headers = {};
  try {
    headers = JSON.parse(body.getAttribute("hx-headers") || "{}");
  } catch (error) {
    return;
  }
  headers["Content-Type"] = "application/x-www-form-urlencoded";
  fetch(url, {method: "POST", headers: headers, credentials: "same-origin", body: new URLSearchParams({time_zone: zone})})
    .then(function (response) {
      if (!response.ok) return;
      body.dataset.timeZone = zone;
      // Show this page's times in the new zone too, once, unless the user is typing.
      const typing = document.activeElement && document.activeElement.matches("input, textarea, select");
      if (document.querySelector("time[datetime]") && !typing && !sessionStorage.getItem("dc-tz-reloaded")) {
        sessionStorage.setItem("dc-tz-reloaded", zone);
        window.location.reload();
      }
    })
    .catch(function () { /* times stay in the default zone, which the page names */ });
})();
