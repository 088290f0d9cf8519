/* What kassa's Element frames other than the Payment Element share (the Link Authentication,
 * Address and Express Checkout Elements): their settings from the URL fragment, messages to and
 * from the parent page (checked by source, origin, tag and id), the appearance, the height, focus
 * and blur, and API calls with the publishable key. Each frame's own script uses window.kassaFrame. */
(() => {
  'use strict';

  const THEMES = ['stripe', 'night', 'flat', 'none'];
  const VARIABLES = {
    colorPrimary: '--color-primary', colorBackground: '--color-background', colorText: '--color-text',
    colorTextSecondary: '--color-text-secondary', colorDanger: '--color-danger', fontFamily: '--font-family',
    fontSizeBase: '--font-size-base', borderRadius: '--border-radius', spacingUnit: '--spacing-unit',
  };
  const settings = new URLSearchParams(location.hash.slice(1));
  const parentOrigin = settings.get('origin');
  const elementId = settings.get('id');
  const tag = `kassa:${document.documentElement.dataset.element}-element`;
  const handlers = [];
  let focused = false;

  function parse(name, fallback) {
    try { return JSON.parse(settings.get(name)) ?? fallback; } catch (_) { return fallback; }
  }

  function post(type, extra = {}) {
    if (window.parent === window || !parentOrigin || parentOrigin === 'null') return;
    window.parent.postMessage({tag, id: elementId, type, ...extra}, parentOrigin);
  }

  function reportHeight() {
    post('resize', {height: document.documentElement.getBoundingClientRect().height});
  }

  function applyAppearance(appearance) {
    const root = document.documentElement;
    root.dataset.theme = appearance && THEMES.includes(appearance.theme) ? appearance.theme : 'stripe';
    for (const property of Object.values(VARIABLES)) root.style.removeProperty(property);
    for (const [name, value] of Object.entries((appearance && appearance.variables) || {})) {
      const ok = (typeof value === 'string' || typeof value === 'number') && String(value).length <= 200;
      if (VARIABLES[name] && ok) root.style.setProperty(VARIABLES[name], String(value));
    }
  }

  /** fetch() to kassa's API (this frame's origin) with the publishable key: {data} or {error}. */
  async function api(method, path, params) {
    const url = new URL(`../..${path}`, location.href);
    const init = {method, cache: 'no-store', credentials: 'omit',
                  headers: {Authorization: `Bearer ${settings.get('key') || ''}`}};
    if (method === 'GET') url.search = new URLSearchParams(params || {}).toString();
    try {
      const response = await fetch(url, init);
      const body = await response.json();
      if (!response.ok || body.error) return {error: body.error || {type: 'api_error', message: `HTTP ${response.status}`}};
      return {data: body};
    } catch (_) {
      return {error: {type: 'api_connection_error', message: 'Could not reach the payment server.'}};
    }
  }

  /** The intent this frame is about: read with the client secret, or the one the page describes
   * (Elements made with mode, amount and currency). */
  async function intent() {
    const secret = settings.get('clientSecret') || '';
    if (!secret) return {data: parse('intent', null) || {payment_method_types: [], status: 'requires_payment_method'}};
    return api('GET', `/v1/payment_intents/${encodeURIComponent(secret.split('_secret_')[0])}`, {client_secret: secret});
  }

  /** handler(message) for each message from the page; a message with a requestId is answered with
   * what the handler returns (or resolves to). */
  function onMessage(handler) {
    handlers.push(handler);
  }

  window.addEventListener('message', async (event) => {
    if (event.source !== window.parent || event.origin !== parentOrigin) return;
    const message = event.data;
    if (!message || message.tag !== tag || message.id !== elementId) return;
    if (message.type === 'appearance') return applyAppearance(message.appearance);
    if (message.type === 'blur') return document.activeElement?.blur();
    for (const handler of handlers) {
      const answer = await handler(message);
      if (message.requestId !== undefined && answer !== undefined) {
        post('result', {requestId: message.requestId, result: answer});
        return;
      }
    }
  });
  document.addEventListener('focusin', () => {
    if (!focused) post('focus');
    focused = true;
  });
  document.addEventListener('focusout', (event) => {
    if (event.relatedTarget && document.documentElement.contains(event.relatedTarget)) return;
    focused = false;
    post('blur');
  });
  document.addEventListener('keydown', (event) => { if (event.key === 'Escape') post('escape'); });
  document.addEventListener('submit', (event) => event.preventDefault());
  new ResizeObserver(reportHeight).observe(document.documentElement);
  applyAppearance(parse('appearance', {}));

  window.kassaFrame = {parse, post, reportHeight, api, intent, onMessage, applyAppearance};
})();
