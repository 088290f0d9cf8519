/* The Payment Element frame: lists the intent's payment methods and tells the page (kassa.js)
 * what the buyer chose. Its settings come in the URL fragment; it reads the PaymentIntent with the
 * publishable key and client secret only, and talks only to its parent, checked by origin. */
(() => {
  'use strict';

  const MESSAGE_TAG = 'kassa:payment-element';
  const NAMES = {amazon_pay: 'Amazon Pay'};
  const NOTICES = {amazon_pay: 'After you pay, you will be sent to Amazon Pay to approve the payment, then brought back.'};
  const THEMES = ['stripe', 'night', 'flat', 'none'];
  const VARIABLES = {
    colorPrimary: '--color-primary', colorBackground: '--color-background', colorText: '--color-text',
    colorTextSecondary: '--color-text-secondary', colorDanger: '--color-danger', fontFamily: '--font-family',
    fontSizeBase: '--font-size-base', borderRadius: '--border-radius', spacingUnit: '--spacing-unit',
  };
  const FAILED = 'Your last payment attempt did not go through. Please try again or use another payment method.';
  const CLOSED = {
    succeeded: 'This payment is already complete.', processing: 'This payment is being processed.',
    requires_capture: 'This payment is already authorized.', canceled: 'This payment was canceled.',
  };

  const settings = new URLSearchParams(location.hash.slice(1));
  const parentOrigin = settings.get('origin');
  const elementId = settings.get('id');
  const clientSecret = settings.get('clientSecret') || '';
  const form = document.getElementById('form');
  const options = document.getElementById('options');
  const notice = document.getElementById('notice');
  const errors = document.getElementById('errors');
  let state = 'loading'; // loading | open | closed (paid or canceled) | broken
  let closedMessage = '';
  let focused = false;

  function parse(json, fallback) {
    try { return JSON.parse(json) ?? fallback; } catch (_) { return fallback; }
  }

  function post(type, extra = {}) {
    if (window.parent === window || !parentOrigin || parentOrigin === 'null') return;
    window.parent.postMessage({tag: MESSAGE_TAG, id: elementId, type, ...extra}, parentOrigin);
  }

  function reportHeight() {
    post('resize', {height: document.documentElement.getBoundingClientRect().height});
  }

  function applyAppearance(appearance) {
    const root = document.documentElement;
    const theme = appearance && THEMES.includes(appearance.theme) ? appearance.theme : 'stripe';
    root.dataset.theme = theme;
    for (const property of Object.values(VARIABLES)) root.style.removeProperty(property);
    const variables = (appearance && appearance.variables) || {};
    for (const [name, value] of Object.entries(variables)) {
      const ok = (typeof value === 'string' || typeof value === 'number') && String(value).length <= 200;
      if (VARIABLES[name] && ok) root.style.setProperty(VARIABLES[name], String(value));
    }
  }

  function applyLayout(layout) {
    const type = typeof layout === 'object' && layout ? layout.type : layout;
    document.documentElement.dataset.layout = type === 'accordion' ? 'accordion' : 'tabs';
  }

  function selected() {
    const input = form.querySelector('input[name="method"]:checked');
    return input ? input.value : null;
  }

  function showError(message) {
    errors.textContent = message || '';
  }

  function showNotice() {
    notice.textContent = state === 'closed' ? closedMessage : NOTICES[selected()] || '';
  }

  function option(type, checked) {
    const label = document.createElement('label');
    label.className = 'method';
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'method';
    input.value = type;
    input.checked = checked;
    const mark = document.createElement('span');
    mark.className = 'mark';
    const template = document.getElementById(`mark-${type}`) || document.getElementById('mark-other');
    mark.append(template.content.cloneNode(true));
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = NAMES[type] || type.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
    label.append(input, mark, name);
    return label;
  }

  function render(intent) {
    const types = [...new Set(intent.payment_method_types || [])];
    types.sort((a, b) => (b === 'amazon_pay') - (a === 'amazon_pay'));
    const previous = selected();
    const choice = types.includes(previous) ? previous : types[0];
    options.replaceChildren(...types.map((type) => option(type, type === choice)));
    options.removeAttribute('aria-busy');
    closedMessage = CLOSED[intent.status] || '';
    state = closedMessage ? 'closed' : 'open';
    for (const input of form.querySelectorAll('input')) input.disabled = state === 'closed';
    showNotice();
    showError(intent.last_payment_error && state === 'open' ? FAILED : '');
  }

  async function load() {
    const intentId = clientSecret.split('_secret_')[0];
    const url = new URL(`../../v1/payment_intents/${encodeURIComponent(intentId)}`, location.href);
    url.searchParams.set('client_secret', clientSecret);
    try {
      const response = await fetch(url, {headers: {Authorization: `Bearer ${settings.get('key')}`},
                                         cache: 'no-store', credentials: 'omit'});
      const body = await response.json();
      if (!response.ok || body.error) throw body.error || {message: `HTTP ${response.status}`};
      render(body);
      reportHeight(); // before 'ready', so that the page has its final height by then
      post('ready');
    } catch (error) {
      state = 'broken';
      options.replaceChildren();
      options.removeAttribute('aria-busy');
      showError('The payment form could not be loaded. Reload the page to try again.');
      post('loaderror', {error: {type: error.type || 'api_connection_error', code: error.code,
                                 message: error.message || 'The payment form could not be loaded.'}});
    }
  }

  /** The answer to kassa.js's confirmPayment / elements.submit(). A paid or canceled intent is
   * left to the API to refuse, with its own error. */
  function collect() {
    if (state === 'loading' || state === 'broken') {
      return {error: {type: 'validation_error', code: 'incomplete', message: 'The payment form is not ready.'}};
    }
    const type = selected();
    if (!type) {
      showError('Choose a payment method.');
      form.querySelector('input[name="method"]')?.focus();
      return {error: {type: 'validation_error', code: 'incomplete', message: 'Choose a payment method.'}};
    }
    return {value: {type}};
  }

  window.addEventListener('message', (event) => {
    if (event.source !== window.parent || event.origin !== parentOrigin) return;
    const message = event.data;
    if (!message || message.tag !== MESSAGE_TAG || message.id !== elementId) return;
    if (message.type === 'collect') post('result', {requestId: message.requestId, result: collect()});
    else if (message.type === 'appearance') applyAppearance(message.appearance);
    else if (message.type === 'layout') applyLayout(message.layout);
    else if (message.type === 'refresh') load();
    else if (message.type === 'focus') (form.querySelector('input:checked') || form.querySelector('input'))?.focus();
    else if (message.type === 'blur') document.activeElement?.blur();
  });

  form.addEventListener('change', () => {
    showNotice();
    post('change', {event: {complete: Boolean(selected()), empty: false, collapsed: false, value: {type: selected()}}});
  });
  form.addEventListener('submit', (event) => event.preventDefault());
  form.addEventListener('focusin', () => {
    if (!focused) post('focus');
    focused = true;
  });
  form.addEventListener('focusout', (event) => {
    if (form.contains(event.relatedTarget)) return;
    focused = false;
    post('blur');
  });
  new ResizeObserver(reportHeight).observe(document.documentElement);

  applyAppearance(parse(settings.get('appearance'), {}));
  applyLayout(parse(settings.get('layout'), 'tabs'));
  load();
})();
