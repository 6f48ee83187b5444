// The technician's screen: the signature pad (pointer events: finger, pen or mouse), photos
// from the camera with a preview, and the page refreshing itself when the background sync
// brings something (or a save elsewhere changed it), unless someone is typing in it.
(function () {
  'use strict';
  var token = document.body.getAttribute('data-token');
  var main = document.getElementById('main');
  var dirty = false;
  document.addEventListener('input', function () { dirty = true; });
  // A step that closes others (leaving the site) asks first.
  document.addEventListener('submit', function (event) {
    var question = event.target.getAttribute && event.target.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);

  function show(box, message) {
    var problem = box.querySelector('.js-problem');
    if (!problem) return;
    problem.textContent = message;
    problem.hidden = false;
  }

  function send(url, body, contentType, box) {
    // One save at a time: a second tap while the first is on its way would record it twice.
    var buttons = box.querySelectorAll('button');
    var again = function () { Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; }); };
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    return fetch(url, {
      method: 'POST', credentials: 'same-origin', body: body,
      headers: { 'Content-Type': contentType, 'X-Field-Token': token }
    }).then(function (response) {
      if (response.status === 413) {
        var zh = (document.documentElement.lang || '').indexOf('zh') === 0;
        return { error: zh ? '照片太大：请用较低分辨率重新拍摄。' : 'The photo is too large: take it at a lower resolution.' };
      }
      return response.json().catch(function () { return { error: 'HTTP ' + response.status }; });
    }).then(function (answer) {
      if (answer && answer.ok) {
        dirty = false;
        window.location.reload();
      } else {
        again();
        show(box, (answer && answer.error) || '?');
      }
    }).catch(function (e) { again(); show(box, String(e)); });
  }

  // The signature pad: strokes in the canvas's own units, handed to the library as they are.
  function bindPad() {
  var signing = document.querySelector('.signing');
  if (signing) {
    var pad = signing.querySelector('canvas');
    var ctx = pad.getContext('2d');
    var strokes = [];
    var current = null;
    ctx.lineWidth = 3; ctx.lineCap = 'round'; ctx.strokeStyle = '#000';
    function at(event) {
      var box = pad.getBoundingClientRect();
      return [
        Math.round((event.clientX - box.left) * pad.width / box.width * 10) / 10,
        Math.round((event.clientY - box.top) * pad.height / box.height * 10) / 10
      ];
    }
    pad.addEventListener('pointerdown', function (event) {
      event.preventDefault();
      pad.setPointerCapture(event.pointerId);
      current = [at(event)];
      strokes.push(current);
      dirty = true;
    });
    pad.addEventListener('pointermove', function (event) {
      if (!current) return;
      var point = at(event);
      var last = current[current.length - 1];
      current.push(point);
      ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(point[0], point[1]); ctx.stroke();
    });
    ['pointerup', 'pointercancel'].forEach(function (kind) {
      pad.addEventListener(kind, function () { current = null; });
    });
    signing.querySelector('[data-clear]').addEventListener('click', function () {
      strokes = []; ctx.clearRect(0, 0, pad.width, pad.height);
    });
    signing.querySelector('[data-sign]').addEventListener('click', function () {
      var signer = signing.querySelector('#signer').value;
      send(signing.getAttribute('data-action'), JSON.stringify({ signer: signer, strokes: strokes }),
        'application/json', signing);
    });
  }

  }

  // Photos: a preview of what was taken, then the bytes as they are.
  function bindPhotos() {
  document.querySelectorAll('.photo').forEach(function (box) {
    var input = box.querySelector('input[type=file]');
    var preview = box.querySelector('img.preview');
    input.addEventListener('change', function () {
      if (input.files && input.files[0]) {
        preview.src = URL.createObjectURL(input.files[0]);
        preview.hidden = false;
      }
    });
    box.querySelector('[data-send]').addEventListener('click', function () {
      var file = input.files && input.files[0];
      if (!file) { show(box, input.labels[0].textContent); return; }
      var url = box.getAttribute('data-action');
      var rating = box.querySelector('select[name=rating]');
      var comment = box.querySelector('input[name=comment]');
      if (rating) url += '&rating=' + encodeURIComponent(rating.value);
      if (comment) url += '&comment=' + encodeURIComponent(comment.value);
      send(url, file, file.type || 'application/octet-stream', box);
    });
  });
  }
  bindPad();
  bindPhotos();

  // A refused form is answered on the form's own address (POST /jobs/ID/ACTION), which cannot
  // be fetched again: the page's address is the job's, so a refresh reads the job and a reload
  // does not send the form again.
  var page = window.location.pathname;
  var posted = /^(\/jobs\/[^\/]+)\/[^\/]+$/.exec(page);
  if (posted) {
    page = posted[1];
    window.history.replaceState(null, '', page + window.location.hash);
  }

  // The sync's state, and a fresh page when something changed. The header (online or not,
  // what has not reached the office) is kept current even while someone types in a form; the
  // page's main part waits until nobody is.
  var shown = main ? main.getAttribute('data-generation') : null;
  var header = null;
  var busy = false;
  function look() {
    if (busy) return;
    busy = true;
    fetch('/state', { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (state) {
      busy = false;
      var sync = document.getElementById('sync');
      if (sync) sync.setAttribute('data-online', String(state.online));
      var now = JSON.stringify([state.online, state.stopped, state.problem, state.pending_changes,
        state.pending_uploads, state.refused_uploads, state.last_contact_at]);
      var fresh = String(state.generation) !== shown && !dirty;
      var headerOnly = !fresh && header !== null && now !== header;
      header = now;
      if (fresh || headerOnly) {
        return fetch(page, { credentials: 'same-origin' }).then(function (r) { return r.text(); }).then(function (html) {
          var next = new DOMParser().parseFromString(html, 'text/html');
          (headerOnly ? ['header.bar'] : ['main', 'header.bar']).forEach(function (selector) {
            var now = document.querySelector(selector);
            var fresh = next.querySelector(selector);
            if (now && fresh) now.innerHTML = fresh.innerHTML;
          });
          if (headerOnly) return;
          var freshMain = next.querySelector('main');
          if (freshMain) {
            shown = freshMain.getAttribute('data-generation');
            main.setAttribute('data-generation', shown);
          }
          bindPad();
          bindPhotos();
          var freshSync = next.getElementById('sync');
          if (sync && freshSync) sync.setAttribute('data-online', freshSync.getAttribute('data-online') || '');
        });
      }
    }).catch(function () { busy = false; });
  }
  setInterval(look, 1500);
})();
