/* The Link Authentication Element's frame: an email field. kassa has no Link wallet, so the
 * element is the email field it shows; its email goes with the confirmation as the receipt and
 * billing email (kassa.js adds it). */
(() => {
  'use strict';

  const {parse, post, reportHeight, onMessage} = window.kassaFrame;
  const input = document.getElementById('email');
  const error = document.getElementById('email-error');
  const field = input.closest('.field');
  const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;
  const MESSAGES = {incomplete_email: 'Your email is incomplete.', invalid_email: 'Your email address is invalid.'};
  let touched = false;

  function problem() {
    const value = input.value.trim();
    if (!value) return 'incomplete_email';
    if (!EMAIL.test(value)) return /@[^.]*$/.test(value) || !value.includes('@') ? 'incomplete_email' : 'invalid_email';
    return null;
  }

  function show(force = false) {
    const code = problem();
    const text = code && (force || touched) ? MESSAGES[code] : '';
    error.textContent = text;
    input.setAttribute('aria-invalid', text ? 'true' : 'false');
    field.classList.toggle('invalid', Boolean(text));
    reportHeight();
    return code;
  }

  function change() {
    const email = input.value.trim();
    post('change', {event: {empty: !email, complete: !problem(), value: {email}}});
  }

  input.addEventListener('input', () => {
    if (problem() !== 'invalid_email') touched = false;
    show();
    change();
  });
  input.addEventListener('blur', () => {
    touched = Boolean(input.value);
    show();
  });

  onMessage((message) => {
    if (message.type === 'focus') input.focus();
    else if (message.type === 'clear') { input.value = ''; touched = false; show(); change(); }
    else if (message.type === 'collect') {
      const code = message.show === false ? problem() : show(true);
      if (code) {
        if (message.show !== false) input.focus();
        return {error: {type: 'validation_error', code, message: MESSAGES[code]}};
      }
      return {value: {email: input.value.trim()}};
    }
    return undefined;
  });

  const defaults = parse('options', {}).defaultValues || {};
  if (typeof defaults.email === 'string') input.value = defaults.email.slice(0, 800);
  reportHeight();
  post('ready');
  if (input.value) change();
})();
