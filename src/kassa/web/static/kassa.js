/* kassa.js: a Stripe.js-shaped client for kassa (https://… /v3/kassa.js).
 *
 *   const stripe = Kassa('pk_test_…');          // also window.Stripe, for drop-in use
 *   const elements = stripe.elements({clientSecret, appearance});
 *   elements.create('payment', {layout: 'tabs'}).mount('#payment-element');
 *   const {error} = await stripe.confirmPayment({elements, confirmParams: {return_url}});
 *
 * It calls kassa's API with the publishable key and a PaymentIntent's client secret only. The API
 * is at the address this script was loaded from, unless Kassa(pk, {apiBase}) says otherwise.
 */
(() => {
  'use strict';

  const MESSAGE_TAG = 'kassa:payment-element';
  const SECRET = /^(pi_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$/;
  const loadedFrom = scriptBase();
  const groups = new WeakMap(); // elements group → its private state

  /** The kassa base URL: the script's own URL without /v3/…, e.g. https://pay.example.com. */
  function scriptBase() {
    const script = document.currentScript ||
      [...document.scripts].reverse().find((s) => /\/v3(\/(kassa\.js)?)?([?#].*)?$/.test(s.src));
    if (!script || !script.src) return null;
    const url = new URL(script.src, location.href);
    return url.origin + url.pathname.replace(/\/v3(\/[^/]*)?$/, '');
  }

  class IntegrationError extends Error {
    constructor(message) {
      super(message);
      this.name = 'IntegrationError';
    }
  }

  /** Stripe's bracket notation: {a: {b: 1}, c: [x]} → a[b]=1&c[0]=x. */
  function encodeForm(value, prefix = '', out = new URLSearchParams()) {
    if (value === undefined || value === null) return out;
    if (Array.isArray(value)) {
      value.forEach((item, index) => encodeForm(item, `${prefix}[${index}]`, out));
    } else if (typeof value === 'object') {
      for (const [name, item] of Object.entries(value)) encodeForm(item, prefix ? `${prefix}[${name}]` : name, out);
    } else {
      out.append(prefix, String(value));
    }
    return out;
  }

  function intentIdOf(clientSecret, method) {
    const match = typeof clientSecret === 'string' && SECRET.exec(clientSecret);
    if (!match) {
      throw new IntegrationError(`${method}: expected a PaymentIntent client secret of the form ` +
        'pi_…_secret_…, as returned by the API when the intent was created.');
    }
    return match[1];
  }

  /** An error as Stripe.js gives it: type, code, message, param, … and the payment_intent. */
  function shapeError(raw, paymentIntent) {
    const error = {type: raw.type || 'api_error', message: raw.message || 'An unexpected error occurred.'};
    for (const name of ['code', 'decline_code', 'param', 'doc_url', 'payment_method']) {
      if (raw[name] !== undefined && raw[name] !== null) error[name] = raw[name];
    }
    if (paymentIntent) error.payment_intent = paymentIntent;
    return error;
  }

  /** Billing details as plain data (what postMessage can carry), or undefined. */
  function plain(value) {
    if (value === undefined || value === null) return undefined;
    return JSON.parse(JSON.stringify(value));
  }

  function validationError(message, code = 'incomplete') {
    return {type: 'validation_error', code, message};
  }

  /** Navigate the whole page (only to http(s) addresses); the returned promise never settles. */
  function navigate(url) {
    const target = new URL(url, location.href);
    if (target.protocol !== 'https:' && target.protocol !== 'http:') {
      return Promise.resolve({error: shapeError({message: 'kassa returned an invalid redirect address.'})});
    }
    location.assign(target.href);
    return new Promise(() => {});
  }

  function redirectStatus(status) {
    if (status === 'succeeded' || status === 'requires_capture') return 'succeeded';
    return status === 'processing' ? 'processing' : 'failed';
  }

  function Kassa(publishableKey, options = {}) {
    if (typeof publishableKey !== 'string' || !publishableKey.startsWith('pk_')) {
      const secret = typeof publishableKey === 'string' && /^[rs]k_/.test(publishableKey);
      throw new IntegrationError(secret
        ? 'Kassa(): never use a secret key in the browser; pass your publishable key (pk_…).'
        : 'Kassa(): pass your publishable key (pk_test_… or pk_live_…).');
    }
    const base = String(options.apiBase || loadedFrom || '').replace(/\/+$/, '');
    if (!base) throw new IntegrationError('Kassa(): cannot tell where kassa is; pass {apiBase: "https://…"}.');
    const origin = new URL(base).origin;

    /** In live mode the Payment Element mounts on https pages only: elsewhere, log why and throw. */
    function refuseInsecureLiveMount() {
      if (!publishableKey.startsWith('pk_live_') || location.protocol === 'https:') return;
      const message = 'kassa.js: live mode requires HTTPS: the Payment Element cannot be mounted on ' +
        `${location.protocol}// pages. Serve this page over https.`;
      console.error(message);
      throw new IntegrationError(message);
    }

    async function api(method, path, params) {
      const url = new URL(base + path);
      const init = {method, headers: {Authorization: `Bearer ${publishableKey}`}, credentials: 'omit',
                    cache: 'no-store', referrerPolicy: 'origin'};
      const form = encodeForm(params);
      if (method === 'GET') {
        url.search = form.toString();
      } else {
        init.body = form.toString();
        init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
      }
      let response;
      try {
        response = await fetch(url, init);
      } catch (_) {
        return {error: {type: 'api_connection_error', message: `Could not reach kassa at ${base}. Check your ` +
                        'connection and try again.'}};
      }
      let body = null;
      try {
        body = await response.json();
      } catch (_) { /* handled below */ }
      if (!response.ok || !body || body.error) {
        return {error: (body && body.error) || {type: 'api_error', message: `kassa answered HTTP ${response.status}.`}};
      }
      return {data: body};
    }

    function retrieve(clientSecret) {
      const id = intentIdOf(clientSecret, 'retrievePaymentIntent');
      return api('GET', `/v1/payment_intents/${id}`, {client_secret: clientSecret});
    }

    /** Where a failed confirmation leaves the intent, for error.payment_intent (as Stripe.js does). */
    async function failedIntent(raw, clientSecret) {
      if (raw.payment_intent && typeof raw.payment_intent === 'object') return raw.payment_intent;
      if (!raw.payment_intent) return undefined;
      const {data} = await retrieve(clientSecret);
      return data;
    }

    async function confirmPayment(args = {}) {
      const {elements, confirmParams = {}, redirect = 'always'} = args;
      let {clientSecret} = args;
      if (redirect !== 'always' && redirect !== 'if_required') {
        throw new IntegrationError('confirmPayment: redirect must be "always" or "if_required".');
      }
      const params = {...confirmParams};
      let group = null;
      let chosen = null;
      if (elements) {
        group = groups.get(elements);
        if (!group) throw new IntegrationError('confirmPayment: elements must come from stripe.elements().');
        clientSecret = clientSecret || group.clientSecret;
        if (!group.payment) throw new IntegrationError('confirmPayment: create and mount a Payment Element first.');
        const data = confirmParams.payment_method_data || {};
        // A card's PaymentMethod is made inside kassa's frame (with these billing details): the
        // page gets its id, never the number.
        const collected = await group.payment.collect({create: true, billingDetails: data.billing_details});
        if (collected.error) return {error: collected.error};
        chosen = collected.value.type;
        if (collected.paymentMethod) {
          delete params.payment_method_data;
          params.payment_method = collected.paymentMethod;
        } else {
          params.payment_method_data = {...data, type: chosen};
        }
      } else if (!clientSecret) {
        throw new IntegrationError('confirmPayment: pass elements or clientSecret.');
      }
      const id = intentIdOf(clientSecret, 'confirmPayment');
      params.client_secret = clientSecret;
      // A card with redirect 'if_required' is confirmed without return_url: a card needs none, and
      // 3D Secure then comes as use_stripe_sdk, shown over this page as Stripe.js does.
      if (chosen === 'card' && redirect === 'if_required') delete params.return_url;
      const {data: intent, error} = await api('POST', `/v1/payment_intents/${id}/confirm`, params);
      if (error) {
        const shaped = shapeError(error, await failedIntent(error, clientSecret));
        if (group && group.payment) group.payment.showError(shaped);
        return {error: shaped};
      }
      const result = await settle(intent, redirect, confirmParams.return_url);
      if (result.error && group && group.payment) group.payment.showError(result.error);
      return result;
    }

    /** After a confirmation: send the buyer where they must go, or give the merchant the result. */
    async function settle(intent, redirect, returnUrl) {
      const next = intent.next_action;
      if (intent.status === 'requires_action' && next) {
        if (next.type === 'redirect_to_url' && next.redirect_to_url) return navigate(next.redirect_to_url.url);
        if (next.type === 'use_stripe_sdk' && next.use_stripe_sdk && next.use_stripe_sdk.stripe_js) {
          const outcome = await authenticate(next.use_stripe_sdk.stripe_js, intent.client_secret);
          if (outcome.error) return outcome;
          return settle(outcome.intent, redirect, returnUrl);
        }
      }
      if (intent.status === 'requires_payment_method' && intent.last_payment_error) {
        return {error: shapeError(intent.last_payment_error, intent)};
      }
      if (redirect === 'always' && returnUrl) {
        const url = new URL(returnUrl, location.href);
        url.searchParams.set('payment_intent', intent.id);
        url.searchParams.set('payment_intent_client_secret', intent.client_secret);
        url.searchParams.set('redirect_status', redirectStatus(intent.status));
        return navigate(url.href);
      }
      return {paymentIntent: intent};
    }

    function sameOrigin(url) {
      try { return new URL(url, location.href).origin === origin; } catch (_) { return false; }
    }

    /** Card authentication (3D Secure) over the page, as Stripe.js does: kassa's page in a modal
     * frame; the intent is read until it leaves requires_action. Closing the modal gives up. */
    function authenticate(url, clientSecret) {
      if (!sameOrigin(url)) {
        return Promise.resolve({error: shapeError({message: 'kassa returned an invalid authentication address.'})});
      }
      return new Promise((resolve) => {
        const returnFocus = document.activeElement;
        const overlay = document.createElement('div');
        overlay.setAttribute('role', 'dialog');
        overlay.setAttribute('aria-modal', 'true');
        overlay.setAttribute('aria-label', 'Card authentication');
        overlay.dataset.kassaAuthentication = '';
        Object.assign(overlay.style, {position: 'fixed', inset: '0', zIndex: '2147483647', display: 'flex',
                                      alignItems: 'center', justifyContent: 'center', background: 'rgba(15, 23, 42, .55)'});
        const box = document.createElement('div');
        Object.assign(box.style, {position: 'relative', width: 'min(500px, 100vw)', height: 'min(600px, 100vh)',
                                  background: '#fff', borderRadius: '8px', overflow: 'hidden',
                                  boxShadow: '0 20px 50px rgba(0, 0, 0, .35)'});
        const close = document.createElement('button');
        close.type = 'button';
        close.textContent = '×';
        close.setAttribute('aria-label', 'Close authentication');
        Object.assign(close.style, {position: 'absolute', top: '6px', right: '8px', zIndex: '1', font: '24px/1 sans-serif',
                                    border: '0', background: 'transparent', cursor: 'pointer', padding: '4px 8px'});
        const frame = document.createElement('iframe');
        frame.title = 'Card authentication';
        frame.src = new URL(url, location.href).href;
        Object.assign(frame.style, {border: '0', width: '100%', height: '100%', display: 'block'});
        box.append(close, frame);
        overlay.append(box);
        document.body.append(overlay);
        frame.focus();

        let done = false;
        let timer = null;
        function finish(outcome) {
          if (done) return;
          done = true;
          clearTimeout(timer);
          document.removeEventListener('keydown', onKey);
          window.removeEventListener('message', onFinished);
          overlay.remove();
          if (returnFocus && typeof returnFocus.focus === 'function') returnFocus.focus();
          resolve(outcome);
        }
        let polling = false;
        async function poll() {
          if (polling || done) return;
          polling = true;
          const {data, error} = await retrieve(clientSecret);
          polling = false;
          if (done) return;
          if (error && error.type !== 'api_connection_error') return finish({error: shapeError(error)});
          if (data && data.status !== 'requires_action') return finish({intent: data});
          timer = setTimeout(poll, 700);
        }
        function onKey(event) {
          if (event.key === 'Escape') close.click();
        }
        /** kassa's page says when it is done: read the intent at once (checked: from that frame,
         * on kassa's origin). */
        function onFinished(event) {
          if (event.source !== frame.contentWindow || event.origin !== origin) return;
          if (!event.data || event.data.type !== 'kassa:three_d_secure:finished') return;
          clearTimeout(timer);
          poll();
        }
        document.addEventListener('keydown', onKey);
        window.addEventListener('message', onFinished);
        close.addEventListener('click', async () => {
          document.removeEventListener('keydown', onKey);
          const {data} = await retrieve(clientSecret);
          if (data && data.status !== 'requires_action') return finish({intent: data});
          finish({error: shapeError({type: 'invalid_request_error', code: 'payment_intent_authentication_failure',
            message: 'We are unable to authenticate your payment method. Please choose a different payment ' +
                     'method and try again.'}, data)});
        });
        timer = setTimeout(poll, 700);
      });
    }

    async function retrievePaymentIntent(clientSecret) {
      const {data, error} = await retrieve(clientSecret);
      return error ? {error: shapeError(error)} : {paymentIntent: data};
    }

    async function handleNextAction({clientSecret} = {}) {
      const {data, error} = await retrieve(clientSecret);
      if (error) return {error: shapeError(error)};
      return settle(data, 'if_required', null);
    }

    function elements(options = {}) {
      if (options.clientSecret !== undefined) intentIdOf(options.clientSecret, 'elements');
      const group = {clientSecret: options.clientSecret, appearance: options.appearance || {}, payment: null};
      const handle = {
        create(type, elementOptions = {}) {
          if (type !== 'payment') throw new IntegrationError(`elements.create: kassa offers the 'payment' Element only.`);
          if (group.payment) throw new IntegrationError('elements.create: this group already has a Payment Element.');
          if (!group.clientSecret) throw new IntegrationError('elements.create: pass clientSecret to stripe.elements().');
          group.payment = paymentElement(group, elementOptions, () => { group.payment = null; });
          return group.payment.element;
        },
        getElement(type) {
          return type === 'payment' && group.payment ? group.payment.element : null;
        },
        update(changes = {}) {
          if (changes.appearance) {
            group.appearance = changes.appearance;
            if (group.payment) group.payment.send({type: 'appearance', appearance: changes.appearance});
          }
          return handle;
        },
        async fetchUpdates() {
          if (group.payment) group.payment.send({type: 'refresh'});
          return {};
        },
        async submit() {
          if (!group.payment) return {error: validationError('Create and mount a Payment Element first.')};
          const {error} = await group.payment.collect();
          return error ? {error} : {};
        },
      };
      groups.set(handle, group);
      return handle;
    }

    /** The Payment Element: an iframe served by kassa, talked to with checked postMessage. */
    function paymentElement(group, options, forget) {
      const id = Array.from(crypto.getRandomValues(new Uint8Array(9)), (b) => b.toString(16).padStart(2, '0')).join('');
      const handlers = new Map();
      const waiting = new Map();
      let iframe = null;
      let loaded = null;
      let markLoaded = () => {};
      let broken = null;
      let requests = 0;

      function emit(event, payload) {
        for (const handler of handlers.get(event) || []) handler({elementType: 'payment', ...payload});
      }

      function onMessage(event) {
        if (!iframe || event.source !== iframe.contentWindow || event.origin !== origin) return;
        const message = event.data;
        if (!message || message.tag !== MESSAGE_TAG || message.id !== id) return;
        if (message.type === 'resize') {
          iframe.style.height = `${Math.max(0, Math.ceil(Number(message.height) || 0))}px`;
        } else if (message.type === 'ready') {
          markLoaded();
          emit('ready', {});
        } else if (message.type === 'loaderror') {
          broken = message.error;
          markLoaded();
          emit('loaderror', {error: message.error});
        } else if (message.type === 'change') {
          emit('change', message.event);
        } else if (message.type === 'focus' || message.type === 'blur') {
          emit(message.type, {});
        } else if (message.type === 'result' && waiting.has(message.requestId)) {
          waiting.get(message.requestId)(message.result);
          waiting.delete(message.requestId);
        }
      }

      function send(message) {
        if (iframe && iframe.contentWindow) iframe.contentWindow.postMessage({tag: MESSAGE_TAG, id, ...message}, origin);
      }

      function frameUrl() {
        const settings = new URLSearchParams({
          key: publishableKey, clientSecret: group.clientSecret, origin: location.origin, id,
          appearance: JSON.stringify(group.appearance), layout: JSON.stringify(options.layout || 'tabs'),
        });
        if (Array.isArray(options.paymentMethodOrder)) settings.set('order', JSON.stringify(options.paymentMethodOrder));
        return `${base}/v3/elements/payment#${settings}`; // a fragment: never sent to any server
      }

      /** The buyer's choice, from the frame: {value: {type}} or {error}; with `create`, a card's
       * PaymentMethod made by the frame: {value: {type: 'card'}, paymentMethod: 'pm_…'}. */
      async function collect({create = false, billingDetails} = {}) {
        if (!iframe) return {error: validationError('The Payment Element is not mounted.')};
        await loaded;
        if (broken) return {error: shapeError(broken)};
        const requestId = ++requests;
        return new Promise((resolve) => {
          waiting.set(requestId, resolve);
          send({type: 'collect', requestId, create, billingDetails: plain(billingDetails)});
        });
      }

      /** A payment error the buyer must see in the Element (a decline, a failed authentication). */
      function showError(error) {
        if (error.type === 'card_error' || error.code === 'payment_intent_authentication_failure') {
          send({type: 'error', error: {type: error.type, code: error.code, param: error.param, message: error.message}});
        }
      }

      const element = {
        mount(target) {
          refuseInsecureLiveMount();
          const node = typeof target === 'string' ? document.querySelector(target) : target;
          if (!(node instanceof Element)) throw new IntegrationError(`mount: no element matches ${String(target)}.`);
          if (iframe) throw new IntegrationError('mount: this Payment Element is already mounted.');
          loaded = new Promise((resolve) => { markLoaded = resolve; });
          broken = null;
          iframe = document.createElement('iframe');
          iframe.title = 'Secure payment input frame';
          iframe.name = `kassa-payment-${id}`;
          iframe.setAttribute('frameborder', '0');
          iframe.setAttribute('scrolling', 'no');
          Object.assign(iframe.style, {border: '0', width: '100%', height: '56px', display: 'block',
                                       overflow: 'hidden', colorScheme: 'normal'});
          window.addEventListener('message', onMessage);
          iframe.src = frameUrl();
          node.appendChild(iframe);
        },
        unmount() {
          if (!iframe) return;
          window.removeEventListener('message', onMessage);
          iframe.remove();
          iframe = null;
          for (const resolve of waiting.values()) resolve({error: validationError('The Payment Element was unmounted.')});
          waiting.clear();
        },
        destroy() {
          element.unmount();
          forget();
        },
        on(event, handler) {
          if (!handlers.has(event)) handlers.set(event, new Set());
          handlers.get(event).add(handler);
          return element;
        },
        once(event, handler) {
          const wrapped = (payload) => { element.off(event, wrapped); handler(payload); };
          return element.on(event, wrapped);
        },
        off(event, handler) {
          if (handler) (handlers.get(event) || new Set()).delete(handler); else handlers.delete(event);
          return element;
        },
        focus() {
          if (iframe) { iframe.focus(); send({type: 'focus'}); }
        },
        blur() {
          send({type: 'blur'});
        },
        update(changes = {}) {
          if (changes.layout) options = {...options, layout: changes.layout};
          send({type: 'layout', layout: options.layout});
        },
      };
      return {element, collect, send, showError};
    }

    return {elements, confirmPayment, retrievePaymentIntent, handleNextAction};
  }

  Kassa.version = '1';
  Kassa.IntegrationError = IntegrationError;
  window.Kassa = Kassa;
  window.Stripe = Kassa; // code written for Stripe.js runs unchanged
})();
