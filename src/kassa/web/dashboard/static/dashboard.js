// kassa Dashboard: a little progressive enhancement. Every form works without it.
(function () {
  'use strict';
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    if (form.method.toLowerCase() !== 'post') { return; }
    // One click, one request: the server is idempotent anyway (each form has its own key).
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = '1';
    form.querySelectorAll('button[type=submit]').forEach(function (button) { button.setAttribute('aria-disabled', 'true'); });
  });
  // An opened action panel takes the focus to its first field; Escape closes it again.
  document.querySelectorAll('details.action').forEach(function (details) {
    details.addEventListener('toggle', function () {
      if (details.open) {
        document.querySelectorAll('details.action[open]').forEach(function (other) { if (other !== details) { other.open = false; } });
        var field = details.querySelector('input:not([type=hidden]), select, button');
        if (field) { field.focus(); }
      }
    });
    details.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && details.open) { details.open = false; details.querySelector('summary').focus(); }
    });
  });
  var alert = document.querySelector('.alert, .notice');
  var main = document.getElementById('main');
  if (alert && main && !document.querySelector("[autofocus]")) { main.focus({preventScroll: true}); }
})();
