/* The Express Checkout Element's frame: the Amazon Pay button when the intent (or the Elements'
 * mode options) offers amazon_pay. A press is told to the page (kassa.js runs the merchant's
 * 'click' and 'confirm' handlers); the button waits until the page resets it. kassa has no card
 * wallet (Apple Pay, Google Pay, Link), so Amazon Pay is the only button. */
(() => {
  'use strict';

  const {parse, post, reportHeight, onMessage, intent} = window.kassaFrame;
  const button = document.getElementById('amazon-pay');
  const message = document.getElementById('message');
  const OPEN = ['requires_payment_method', 'requires_confirmation', 'requires_action'];
  let options = parse('options', {});
  let current = null;

  function available() {
    const wanted = !(options.paymentMethods && options.paymentMethods.amazonPay === 'never');
    return Boolean(wanted && current && OPEN.includes(current.status) &&
                   (current.payment_method_types || []).includes('amazon_pay'));
  }

  function applyOptions() {
    const height = Number(options.buttonHeight);
    button.style.height = `${Number.isFinite(height) ? Math.min(55, Math.max(40, height)) : 44}px`;
    document.body.hidden = !available();
    reportHeight();
  }

  button.addEventListener('click', () => {
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    message.textContent = '';
    post('press');
  });

  onMessage((incoming) => {
    if (incoming.type === 'focus') button.focus();
    else if (incoming.type === 'reset') {
      button.disabled = false;
      button.removeAttribute('aria-busy');
      message.textContent = typeof incoming.message === 'string' ? incoming.message.slice(0, 500) : '';
      reportHeight();
    } else if (incoming.type === 'update' && incoming.options) {
      options = {...options, ...incoming.options};
      applyOptions();
    } else if (incoming.type === 'intent' && incoming.intent) {
      current = incoming.intent;
      applyOptions();
    } else if (incoming.type === 'refresh') {
      load();
    }
    return undefined;
  });

  async function load() {
    const {data, error} = await intent();
    if (error) {
      document.body.hidden = true;
      reportHeight();
      post('loaderror', {error: {type: error.type || 'api_error', code: error.code, message: error.message}});
      return;
    }
    current = data;
    applyOptions();
    post('ready', {available: available(), amount: data.amount ?? null, currency: data.currency ?? null});
  }

  load();
})();
