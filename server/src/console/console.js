// Live pages of the office console (and the browser's clock, as a cookie). A page whose <main> has data-live listens to the
// organisation's events (/console/events) and, when one arrives, fetches itself again and puts
// the new <main> in place: nothing to reload, no focus lost outside <main>. Without JavaScript
// every page still works; it is just not live.
(function () {
  'use strict';
  // The browser's offset from UTC, for an organisation that has not set its own clock.
  var minutes = -new Date().getTimezoneOffset();
  var sign = minutes < 0 ? '-' : '+';
  var abs = Math.abs(minutes);
  var pad = function (n) { return (n < 10 ? '0' : '') + n; };
  document.cookie = 'tz=' + sign + pad(Math.floor(abs / 60)) + ':' + pad(abs % 60) + '; path=/console; SameSite=Lax';
  var main = document.querySelector('main[data-live]');
  if (!main || !window.EventSource) return;
  var pending = false;
  // Someone typing in a form on the page: their input is not replaced under them.
  var dirty = false;
  main.addEventListener('input', function () { dirty = true; });
  function refresh() {
    if (pending || dirty) return;
    pending = true;
    setTimeout(function () {
      fetch(window.location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          pending = false;
          if (!html) return;
          var next = new DOMParser().parseFromString(html, 'text/html').querySelector('main');
          if (next) {
            main.innerHTML = next.innerHTML;
            main.setAttribute('data-refreshed', String(Date.now()));
          }
        })
        .catch(function () { pending = false; });
    }, 250);
  }
  var feed = new EventSource('/console/events');
  ['job.changed', 'job.completed', 'job.needs_review', 'revisit.outcome_recorded', 'message'].forEach(function (kind) {
    feed.addEventListener(kind, refresh);
  });
})();
