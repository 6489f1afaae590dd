// Keel's inbox refreshes itself (docs/inbox.md#the-page): every 15 seconds
// the thread, or the conversation list, is read again and replaced when it
// changed. The reply box is never touched, so typed text stays. Without
// this script the page shows new messages on the next load.
(function () {
  "use strict";
  var sel = document.getElementById("thread") ? "#thread" : "#conversations tbody";
  var target = document.querySelector(sel);
  if (!target || !window.fetch || !window.DOMParser) {
    return;
  }
  var every = parseInt(target.getAttribute("data-refresh-ms") || "15000", 10);
  setInterval(function () {
    if (document.hidden) {
      return;
    }
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(sel);
        if (fresh && fresh.innerHTML !== target.innerHTML) {
          target.innerHTML = fresh.innerHTML;
        }
      })
      .catch(function () {});
  }, every);
})();
