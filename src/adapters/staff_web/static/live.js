// The calendar's changes as they happen: listens to /staff/live and tells the page with a
// "salonbot:changed" event on document, detail {staff_key, days} (days: "YYYY-MM-DD"
// strings). After a lost connection it sends {staff_key: null, days: null}: changes may
// have been missed, reload everything; the same when a change came in between drawing this
// page and its stream opening (the stream's "hello" says). staff.js does the reloading.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.getAttribute("data-live");
  if (!url || !window.EventSource) {
    return;
  }
  // How many changes the server had heard when it drew this page ("" if it was not
  // listening): the stream's first word tells whether one came in between.
  var drawnAt = script.getAttribute("data-heard");
  var greeted = false;
  var lost = false;
  var RETRY_AFTER_CLOSED = 60000;

  function tell(staffKey, days) {
    document.dispatchEvent(
      new CustomEvent("salonbot:changed", { detail: { staff_key: staffKey, days: days } })
    );
  }

  function connect() {
    var source = new EventSource(url);
    source.addEventListener("changed", function (event) {
      var change;
      try {
        change = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      var key = typeof change.staff_key === "string" ? change.staff_key : null;
      var days = Array.isArray(change.days) ? change.days : null;
      tell(key, key === null ? null : days);
    });
    source.addEventListener("hello", function (event) {
      if (greeted) {
        return; // a reconnection: "open" below has it in hand
      }
      greeted = true;
      var heard = null;
      try {
        heard = JSON.parse(event.data).heard;
      } catch (error) {
        heard = null;
      }
      if (heard === null || drawnAt === "" || String(heard) !== drawnAt) {
        tell(null, null); // something changed while this page was on its way
      }
    });
    source.addEventListener("open", function () {
      if (lost) {
        lost = false;
        tell(null, null);
      }
    });
    source.addEventListener("error", function () {
      lost = true;
      if (source.readyState === EventSource.CLOSED) {
        // Refused (too many pages, signed out): the browser gives up; try now and then.
        window.setTimeout(connect, RETRY_AFTER_CLOSED + Math.random() * 10000);
      }
    });
  }

  connect();
})();
