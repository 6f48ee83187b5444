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
  // The language switch comes back to this very page (without JavaScript, to its section).
  // Not from a refused form's answer: its address is the form's, which only takes a POST.
  var switcher = document.querySelector('a.lang');
  if (switcher && !document.querySelector('main .problem')) {
    var target = new URL(switcher.href, window.location.href);
    target.searchParams.set('back', window.location.pathname + window.location.search);
    switcher.href = target.pathname + target.search;
  }
  // A form that cannot be taken back (disabling a member, revoking a tablet's token) asks
  // first; without JavaScript it is sent as it is.
  document.addEventListener('submit', function (event) {
    var question = event.target.getAttribute && event.target.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
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
            // Focus stays where it was: on the same control (by its id) or link (by its
            // address) in the new <main>, for whoever moves with the keyboard.
            var had = document.activeElement;
            var id = had && main.contains(had) ? had.id : '';
            var href = had && main.contains(had) && !id ? had.getAttribute('href') : null;
            main.innerHTML = next.innerHTML;
            main.setAttribute('data-refreshed', String(Date.now()));
            var again = id ? document.getElementById(id) : null;
            if (!again && href) {
              again = Array.prototype.find.call(main.querySelectorAll('a[href]'), function (a) {
                return a.getAttribute('href') === href;
              });
            }
            if (again) again.focus();
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
