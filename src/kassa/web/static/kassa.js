/* kassa.js: a Stripe.js-shaped client for kassa (https://… /v3/kassa.js).
 *
 *   const stripe = Kassa('pk_test_…');          // also window.Stripe, for drop-in use
 *   const elements = stripe.elements({clientSecret, appearance});
 *   elements.create('payment', {layout: 'tabs'}).mount('#payment-element');
 *   const {error} = await stripe.confirmPayment({elements, confirmParams: {return_url}});
 *
 * Also the Link Authentication, Address and Express Checkout (Amazon Pay) Elements, and Elements
 * made before the intent: stripe.elements({mode: 'payment', amount, currency}), elements.submit(),
 * then confirmPayment({elements, clientSecret}). Each Element is an iframe served by kassa; the
 * page and the frames exchange messages checked by source, origin, tag and id on both sides.
 *
 * It calls kassa's API with the publishable key and a PaymentIntent's client secret only. The API
 * is at the address this script was loaded from, unless Kassa(pk, {apiBase}) says otherwise.
 */
(() => {
  'use strict';

  // Stripe.js's Element types; kassa offers OFFERED, and the others mount nothing (see unavailableElement).
  const ELEMENT_TYPES = ['address', 'auBankAccount', 'card', 'cardNumber', 'cardExpiry', 'cardCvc', 'contactDetails',
    'currencySelector', 'expressCheckout', 'iban', 'payment', 'paymentForm', 'paymentMethodMessaging',
    'linkAuthentication', 'linkSignup', 'shippingAddress', 'issuingCardNumberDisplay', 'issuingCardCvcDisplay',
    'issuingCardExpiryDisplay', 'issuingCardPinDisplay', 'issuingCardCopyButton', 'taxId', 'terms',
    'issuingAddToWalletButton', 'affirmMessage', 'afterpayClearpayMessage', 'paymentRequestButton', 'idealBank',
    'p24Bank', 'epsBank', 'fpxBank'];
  const OFFERED = ['payment', 'linkAuthentication', 'address', 'expressCheckout'];
  const FRAME_TITLES = {payment: 'Secure payment input frame', linkAuthentication: 'Secure email input frame',
                        address: 'Secure address input frame', expressCheckout: 'Secure express checkout button frame'};
  const SECRET = /^((?:pi|seti)_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$/;
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

    /** A PaymentIntent, or a SetupIntent (seti_…), by its client secret. */
    function retrieve(clientSecret) {
      const id = intentIdOf(clientSecret, 'retrievePaymentIntent');
      const kind = id.startsWith('seti_') ? 'setup_intents' : 'payment_intents';
      return api('GET', `/v1/${kind}/${id}`, {client_secret: clientSecret});
    }

    /** Where a failed confirmation leaves the intent, for error.payment_intent (as Stripe.js does). */
    async function failedIntent(raw, clientSecret) {
      if (raw.payment_intent && typeof raw.payment_intent === 'object') return raw.payment_intent;
      if (!raw.payment_intent) return undefined;
      const {data} = await retrieve(clientSecret);
      return data;
    }

    /** Stripe.js's rule for Elements made without an intent (mode): the intent the merchant's server
     * made must be the one the Elements showed. The first difference, as an error, or null. */
    function mismatch(group, intent, chosen) {
      const same = (a, b) => (a || null) === (b || null);
      const capture = (value) => (value === 'automatic_async' ? 'automatic' : value || 'automatic');
      const checks = [
        ['currency', intent.currency, group.currency],
        ['amount', intent.amount, group.amount],
        ['capture_method', capture(intent.capture_method), capture(group.captureMethod), 'captureMethod'],
        ['setup_future_usage', intent.setup_future_usage, group.setupFutureUsage, 'setupFutureUsage'],
      ];
      for (const [name, onIntent, onElements, option = name] of checks) {
        if (name === 'amount' ? onIntent !== onElements : !same(onIntent, onElements)) {
          return shapeError({type: 'invalid_request_error', param: name,
            message: `stripe.confirmPayment(): the PaymentIntent's ${name} (${onIntent ?? 'null'}) does not match ` +
                     `the ${option} passed to stripe.elements() (${onElements ?? 'null'}). Create the ` +
                     'PaymentIntent with the same values as the Elements, or call elements.update() first.'}, intent);
        }
      }
      if (chosen && !(intent.payment_method_types || []).includes(chosen)) {
        return shapeError({type: 'invalid_request_error', param: 'payment_method_types',
          message: `stripe.confirmPayment(): the customer chose ${chosen}, which is not among the PaymentIntent's ` +
                   `payment_method_types (${(intent.payment_method_types || []).join(', ')}).`}, intent);
      }
      return null;
    }

    /** Billing details: those of the Elements, overridden field by field by the merchant's own. */
    function mergeBilling(fromElements, explicit) {
      if (!fromElements) return explicit;
      const merged = {...fromElements, ...(explicit || {})};
      if (fromElements.address && explicit && explicit.address) merged.address = {...fromElements.address, ...explicit.address};
      return merged;
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
      let express = null;
      if (elements) {
        group = groups.get(elements);
        if (!group) throw new IntegrationError('confirmPayment: elements must come from stripe.elements().');
        clientSecret = clientSecret || group.clientSecret;
        express = group.express && group.express.active && Date.now() < group.express.until ? group.express : null;
        if (group.mode) {
          if (!clientSecret) {
            throw new IntegrationError('stripe.confirmPayment(): the Elements were created with mode, so pass ' +
              'the clientSecret of the PaymentIntent your server created: confirmPayment({elements, clientSecret, ' +
              'confirmParams}).');
          }
          if (group.mode !== 'payment') {
            throw new IntegrationError(`stripe.confirmPayment(): the Elements were created with mode '${group.mode}'; ` +
              "confirmPayment takes Elements in mode 'payment' (use confirmSetup for mode 'setup'; kassa has no " +
              'subscriptions).');
          }
          if (!group.submitted) {
            throw new IntegrationError('elements.submit() must be called before stripe.confirmPayment(). Call ' +
              'elements.submit() as soon as your customer presses pay, prior to any asynchronous work.');
          }
        }
        group.submitted = false;
        if (!group.payment && !express) throw new IntegrationError('confirmPayment: create and mount a Payment Element first.');
        intentIdOf(clientSecret, 'confirmPayment');
        const extras = await collectOthers(group, {optional: Boolean(express)});
        if (extras.error) return {error: extras.error};
        const data = confirmParams.payment_method_data || {};
        const billing = mergeBilling(extras.billing, data.billing_details);
        if (extras.email && params.receipt_email === undefined) params.receipt_email = extras.email;
        if (extras.shipping && params.shipping === undefined) params.shipping = extras.shipping;
        if (express) {
          chosen = express.type;
          params.payment_method_data = {...data, type: chosen, ...(billing ? {billing_details: billing} : {})};
        } else {
          // A card's PaymentMethod is made inside kassa's frame (with these billing details): the
          // page gets its id, never the number.
          const collected = await group.payment.collect({create: true, billingDetails: billing});
          if (collected.error) return {error: collected.error};
          chosen = collected.value.type;
          if (collected.value.save && params.setup_future_usage === undefined) params.setup_future_usage = 'off_session';
          if (collected.paymentMethod) {
            delete params.payment_method_data;
            params.payment_method = collected.paymentMethod;
          } else {
            params.payment_method_data = {...data, type: chosen, ...(billing ? {billing_details: billing} : {})};
          }
        }
        if (group.mode || express) {
          const {data: intent, error} = await retrieve(clientSecret);
          if (error) return finishExpress(group, {error: shapeError(error)});
          const problem = (group.mode && mismatch(group, intent, chosen)) || (express && shownAmountDiffers(express, intent));
          if (problem) return finishExpress(group, {error: problem});
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
        if (group && group.payment && !express) group.payment.showError(shaped);
        return finishExpress(group, {error: shaped});
      }
      const result = await settle(intent, redirect, confirmParams.return_url);
      if (result.error && group && group.payment && !express) group.payment.showError(result.error);
      return finishExpress(group, result);
    }

    /** Stripe's rule for Amazon Pay in the Express Checkout Element: the amount confirmed is the one
     * the buyer was shown when they pressed the button. */
    function shownAmountDiffers(express, intent) {
      if (express.amount === null || (intent.amount === express.amount && intent.currency === express.currency)) return null;
      return shapeError({type: 'invalid_request_error', param: 'amount',
        message: `The PaymentIntent's amount (${intent.amount} ${intent.currency}) is not the amount the customer ` +
                 `was shown in the Express Checkout Element (${express.amount} ${express.currency}). Confirm the ` +
                 'amount the customer approved.'}, intent);
    }

    /** After an express confirmation: the button is usable again unless the buyer is on their way. */
    function finishExpress(group, result) {
      if (group && group.express && group.express.active) {
        group.express.active = false;
        group.express.element.reset(result.error ? result.error.message : '');
      }
      return result;
    }

    /** The other Elements' values for the confirmation: the Link Authentication Element's email (the
     * receipt and billing email), the Address Elements' shipping and billing details. Each is
     * validated in its frame; with `optional`, incomplete ones are left out instead. */
    async function collectOthers(group, {optional = false} = {}) {
      const out = {};
      for (const record of group.others) {
        if (!record.mounted()) continue;
        const answer = await record.collect({show: !optional});
        if (answer.error) {
          if (optional) continue;
          return {error: answer.error};
        }
        const value = answer.value;
        if (record.type === 'linkAuthentication') {
          out.email = value.email;
          out.billing = {...(out.billing || {}), email: value.email};
        } else if (record.mode === 'shipping') {
          out.shipping = {name: value.name, address: value.address, ...(value.phone ? {phone: value.phone} : {})};
        } else {
          out.billing = {...(out.billing || {}), name: value.name, address: value.address,
                         ...(value.phone ? {phone: value.phone} : {})};
        }
      }
      return out;
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

    /** stripe.confirmSetup: save the buyer's payment method with a SetupIntent (its client secret, or
     * the one the merchant's server made for Elements in mode 'setup'). Amazon Pay sends the buyer to
     * approve future payments; a card may need 3D Secure, shown over the page. */
    async function confirmSetup(args = {}) {
      const {elements, confirmParams = {}, redirect = 'always'} = args;
      let {clientSecret} = args;
      if (redirect !== 'always' && redirect !== 'if_required') {
        throw new IntegrationError('confirmSetup: redirect must be "always" or "if_required".');
      }
      const params = {...confirmParams};
      let group = null;
      let chosen = null;
      if (elements) {
        group = groups.get(elements);
        if (!group) throw new IntegrationError('confirmSetup: elements must come from stripe.elements().');
        clientSecret = clientSecret || group.clientSecret;
        if (group.mode && group.mode !== 'setup') {
          throw new IntegrationError(`stripe.confirmSetup(): the Elements were created with mode '${group.mode}'; ` +
            "confirmSetup takes Elements in mode 'setup' (use confirmPayment for mode 'payment').");
        }
        if (group.mode && !clientSecret) {
          throw new IntegrationError('stripe.confirmSetup(): the Elements were created with mode, so pass the ' +
            'clientSecret of the SetupIntent your server created: confirmSetup({elements, clientSecret, confirmParams}).');
        }
        if (group.mode && !group.submitted) {
          throw new IntegrationError('elements.submit() must be called before stripe.confirmSetup().');
        }
        group.submitted = false;
        if (!group.payment) throw new IntegrationError('confirmSetup: create and mount a Payment Element first.');
        const extras = await collectOthers(group);
        if (extras.error) return {error: extras.error};
        const data = confirmParams.payment_method_data || {};
        const billing = mergeBilling(extras.billing, data.billing_details);
        const collected = await group.payment.collect({create: true, billingDetails: billing});
        if (collected.error) return {error: collected.error};
        chosen = collected.value.type;
        if (collected.paymentMethod) {
          delete params.payment_method_data;
          params.payment_method = collected.paymentMethod;
        } else {
          params.payment_method_data = {...data, type: chosen, ...(billing ? {billing_details: billing} : {})};
        }
      } else if (!clientSecret) {
        throw new IntegrationError('confirmSetup: pass elements or clientSecret.');
      }
      const id = intentIdOf(clientSecret, 'confirmSetup');
      if (!id.startsWith('seti_')) throw new IntegrationError('confirmSetup: expected a SetupIntent client secret (seti_…_secret_…).');
      params.client_secret = clientSecret;
      if (chosen === 'card' && redirect === 'if_required') delete params.return_url;
      const {data: setup, error} = await api('POST', `/v1/setup_intents/${id}/confirm`, params);
      if (error) {
        const shaped = shapeError(error);
        if (error.setup_intent) shaped.setup_intent = error.setup_intent;
        if (group && group.payment) group.payment.showError(shaped);
        return {error: shaped};
      }
      const result = await settleSetup(setup, redirect, confirmParams.return_url);
      if (result.error && group && group.payment) group.payment.showError(result.error);
      return result;
    }

    /** After a setup's confirmation: the buyer goes where they must, or the merchant gets the result. */
    async function settleSetup(setup, redirect, returnUrl) {
      const next = setup.next_action;
      if (setup.status === 'requires_action' && next) {
        if (next.type === 'redirect_to_url' && next.redirect_to_url) return navigate(next.redirect_to_url.url);
        if (next.type === 'use_stripe_sdk' && next.use_stripe_sdk && next.use_stripe_sdk.stripe_js) {
          const outcome = await authenticate(next.use_stripe_sdk.stripe_js, setup.client_secret);
          if (outcome.error) return outcome;
          return settleSetup(outcome.intent, redirect, returnUrl);
        }
      }
      if (setup.status === 'requires_payment_method' && setup.last_setup_error) {
        const error = shapeError(setup.last_setup_error);
        error.setup_intent = setup;
        return {error};
      }
      if (redirect === 'always' && returnUrl) {
        const url = new URL(returnUrl, location.href);
        url.searchParams.set('setup_intent', setup.id);
        url.searchParams.set('setup_intent_client_secret', setup.client_secret);
        url.searchParams.set('redirect_status', redirectStatus(setup.status));
        return navigate(url.href);
      }
      return {setupIntent: setup};
    }

    async function retrieveSetupIntent(clientSecret) {
      intentIdOf(clientSecret, 'retrieveSetupIntent');
      const {data, error} = await retrieve(clientSecret);
      return error ? {error: shapeError(error)} : {setupIntent: data};
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
      const group = {clientSecret: options.clientSecret, appearance: options.appearance || {}, payment: null,
                     others: [], express: null, submitted: false, listeners: new Map()};
      if (options.mode !== undefined) {
        if (options.clientSecret !== undefined) {
          throw new IntegrationError('stripe.elements(): pass either clientSecret or mode, not both.');
        }
        Object.assign(group, deferredOptions(options, 'stripe.elements()'));
      }
      const all = () => [group.payment, ...group.others, group.expressRecord].filter(Boolean);
      /** With an Address Element in billing mode, the Payment Element asks no country or postal code. */
      const tellBillingAddress = () => {
        if (group.payment) group.payment.send({type: 'billingAddress', present: hasBillingAddress(group)});
      };

      const handle = {
        create(type, elementOptions = {}) {
          if (!ELEMENT_TYPES.includes(type)) {
            throw new IntegrationError(`A valid Element name must be provided. Valid Elements are: ${OFFERED.join(', ')}; ` +
                                       `you passed: ${String(type)}.`);
          }
          if (!OFFERED.includes(type)) return unavailableElement(type);
          if ((type === 'payment' || type === 'expressCheckout') && !group.clientSecret && !group.mode) {
            throw new IntegrationError(`elements.create('${type}'): pass clientSecret, or mode, amount and currency, ` +
                                       'to stripe.elements().');
          }
          if (type === 'payment') {
            if (group.payment) throw new IntegrationError('elements.create: this group already has a Payment Element.');
            group.payment = paymentElement(group, elementOptions, () => { group.payment = null; });
            return group.payment.element;
          }
          if (type === 'expressCheckout') {
            if (group.expressRecord) throw new IntegrationError('elements.create: this group already has an Express Checkout Element.');
            group.expressRecord = expressCheckoutElement(group, elementOptions, () => { group.expressRecord = null; });
            return group.expressRecord.element;
          }
          if (type === 'address' && elementOptions.mode !== 'shipping' && elementOptions.mode !== 'billing') {
            throw new IntegrationError("elements.create('address'): mode must be 'shipping' or 'billing'.");
          }
          const mode = type === 'address' ? elementOptions.mode : null;
          if (group.others.some((other) => other.type === type && other.mode === mode)) {
            throw new IntegrationError(`elements.create: this group already has a ${type}${mode ? ` (${mode})` : ''} Element.`);
          }
          const record = fieldsElement(group, type, elementOptions, () => {
            group.others = group.others.filter((o) => o !== record);
            tellBillingAddress();
          });
          group.others.push(record);
          tellBillingAddress();
          return record.element;
        },
        getElement(type, elementOptions = {}) {
          if (type === 'payment') return group.payment ? group.payment.element : null;
          if (type === 'expressCheckout') return group.expressRecord ? group.expressRecord.element : null;
          const found = group.others.find((other) => other.type === type &&
            (type !== 'address' || !elementOptions.mode || other.mode === elementOptions.mode));
          return found ? found.element : null;
        },
        /** Stripe.js's elements.update: shallowly merged; the amount, currency and other deferred
         * options apply to the next confirmation and to what the Elements show. */
        update(changes = {}) {
          if (changes.appearance) {
            group.appearance = changes.appearance;
            for (const record of all()) record.send({type: 'appearance', appearance: changes.appearance});
          }
          const deferredKeys = ['mode', 'amount', 'currency', 'paymentMethodTypes', 'payment_method_types', 'captureMethod',
            'capture_method', 'setupFutureUsage', 'setup_future_usage'];
          if (deferredKeys.some((key) => changes[key] !== undefined)) {
            if (!group.mode) {
              throw new IntegrationError('elements.update(): mode, amount, currency and the other intent options ' +
                'apply only to Elements created with mode; call elements.fetchUpdates() after changing the intent.');
            }
            const merged = {mode: group.mode, amount: group.amount, currency: group.currency,
                            paymentMethodTypes: group.paymentMethodTypes, captureMethod: group.captureMethod,
                            setupFutureUsage: group.setupFutureUsage};
            for (const key of deferredKeys) if (changes[key] !== undefined) merged[camel(key)] = changes[key];
            Object.assign(group, deferredOptions(merged, 'elements.update()'));
            for (const record of all()) record.send({type: 'intent', intent: deferredIntent(group)});
          }
          for (const handler of group.listeners.get('update-end') || []) setTimeout(handler, 0);
          return Promise.resolve();
        },
        on(event, handler) {
          if (!group.listeners.has(event)) group.listeners.set(event, new Set());
          group.listeners.get(event).add(handler);
        },
        off(event, handler) {
          if (group.listeners.has(event)) group.listeners.get(event).delete(handler);
        },
        async fetchUpdates() {
          for (const record of all()) record.send({type: 'refresh'});
          return {};
        },
        /** Validates every Element of the group (the first problem is shown in its frame); in mode
         * Elements it must come before the merchant's server creates the intent. */
        async submit() {
          group.submitted = false;
          if (group.express && group.express.active) {
            group.submitted = true;
            return {selectedPaymentMethod: group.express.type};
          }
          if (!group.payment) return {error: validationError('Create and mount a Payment Element first.')};
          const others = await collectOthers(group);
          if (others.error) return {error: others.error};
          const {error, value} = await group.payment.collect();
          if (error) return {error};
          group.submitted = true;
          return {selectedPaymentMethod: value.type};
        },
        get currency() { return group.currency; },
      };
      groups.set(handle, group);
      return handle;
    }

    function hasBillingAddress(group) {
      return group.others.some((other) => other.type === 'address' && other.mode === 'billing');
    }

    /** The frame's view of an intent in mode Elements: the methods it offers. */
    function deferredIntent(group) {
      return {payment_method_types: group.paymentMethodTypes || ['card', 'amazon_pay'], amount: group.amount,
              currency: group.currency, status: 'requires_payment_method', last_payment_error: null,
              mode: group.mode, setup_future_usage: group.setupFutureUsage};
    }

    /** A shared frame element: an iframe served by kassa at /v3/elements/<slug>, whose settings come
     * in the URL fragment, talked to with postMessage checked by source, origin, tag and id. */
    function frameElement(group, {type, slug, settings, onMessage = () => {}, readyEvent = () => ({}), height = '56px'}) {
      const id = Array.from(crypto.getRandomValues(new Uint8Array(9)), (b) => b.toString(16).padStart(2, '0')).join('');
      const tag = `kassa:${slug}-element`;
      const handlers = new Map();
      const waiting = new Map();
      let iframe = null;
      let loaded = null;
      let markLoaded = () => {};
      let broken = null;
      let requests = 0;
      let forget = () => {};

      function emit(event, payload = {}) {
        for (const handler of [...(handlers.get(event) || [])]) handler({elementType: type, ...payload});
      }

      function receive(event) {
        if (!iframe || event.source !== iframe.contentWindow || event.origin !== origin) return;
        const message = event.data;
        if (!message || message.tag !== tag || message.id !== id) return;
        if (message.type === 'resize') {
          iframe.style.height = `${Math.max(0, Math.ceil(Number(message.height) || 0))}px`;
        } else if (message.type === 'ready') {
          markLoaded();
          onMessage(message);
          emit('ready', readyEvent(message));
        } else if (message.type === 'loaderror') {
          broken = message.error;
          markLoaded();
          emit('loaderror', {error: message.error});
        } else if (message.type === 'change') {
          onMessage(message);
          emit('change', message.event);
        } else if (message.type === 'focus' || message.type === 'blur' || message.type === 'escape') {
          emit(message.type, {});
        } else if (message.type === 'result' && waiting.has(message.requestId)) {
          waiting.get(message.requestId)(message.result);
          waiting.delete(message.requestId);
        } else {
          onMessage(message);
        }
      }

      function send(message) {
        if (iframe && iframe.contentWindow) iframe.contentWindow.postMessage({tag, id, ...message}, origin);
      }

      /** Asks the frame; resolves with its answer ({value} or {error}). */
      async function request(kind, payload = {}) {
        if (!iframe) return {error: validationError(`The ${type} Element is not mounted.`)};
        await loaded;
        if (broken) return {error: shapeError(broken)};
        const requestId = ++requests;
        return new Promise((resolve) => {
          waiting.set(requestId, resolve);
          send({type: kind, requestId, ...payload});
        });
      }

      const element = {
        mount(target) {
          refuseInsecureLiveMount();
          const node = typeof target === 'string' ? document.querySelector(target) : target;
          if (!(node instanceof Element)) throw new IntegrationError(`mount: no element matches ${String(target)}.`);
          if (iframe) throw new IntegrationError(`mount: this ${type} Element is already mounted.`);
          loaded = new Promise((resolve) => { markLoaded = resolve; });
          broken = null;
          iframe = document.createElement('iframe');
          iframe.title = FRAME_TITLES[type];
          iframe.name = `kassa-${slug}-${id}`;
          iframe.setAttribute('frameborder', '0');
          iframe.setAttribute('scrolling', 'no');
          iframe.setAttribute('allow', 'payment *');
          Object.assign(iframe.style, {border: '0', width: '100%', height, display: 'block',
                                       overflow: 'hidden', colorScheme: 'normal'});
          window.addEventListener('message', receive);
          const fragment = new URLSearchParams({key: publishableKey, origin: location.origin, id,
                                                appearance: JSON.stringify(group.appearance)});
          if (group.clientSecret) fragment.set('clientSecret', group.clientSecret);
          if (group.mode) fragment.set('intent', JSON.stringify(deferredIntent(group)));
          for (const [name, value] of Object.entries(settings())) {
            if (value !== undefined) fragment.set(name, JSON.stringify(value));
          }
          iframe.src = `${base}/v3/elements/${slug}#${fragment}`; // a fragment: never sent to any server
          node.appendChild(iframe);
          emit('loaderstart');
        },
        unmount() {
          if (!iframe) return;
          window.removeEventListener('message', receive);
          iframe.remove();
          iframe = null;
          for (const resolve of waiting.values()) resolve({error: validationError(`The ${type} Element was unmounted.`)});
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
        clear() {
          send({type: 'clear'});
        },
        collapse() {},
        update() {},
      };
      return {element, send, request, emit, handlers, mounted: () => Boolean(iframe),
              onForget(callback) { forget = callback; }};
    }

    /** The Payment Element. */
    function paymentElement(group, options, forget) {
      const frame = frameElement(group, {type: 'payment', slug: 'payment', settings: () => ({
        layout: options.layout || 'tabs',
        order: Array.isArray(options.paymentMethodOrder) ? options.paymentMethodOrder : undefined,
        billingAddress: hasBillingAddress(group),
        save: options.savePaymentMethod === true ? true : undefined, // offer "Save for future payments"
      })});
      frame.onForget(forget);
      frame.element.update = (changes = {}) => {
        if (changes.layout) options = {...options, layout: changes.layout};
        frame.send({type: 'layout', layout: options.layout});
      };

      /** The buyer's choice, from the frame: {value: {type}} or {error}; with `create`, a card's
       * PaymentMethod made by the frame: {value: {type: 'card'}, paymentMethod: 'pm_…'}. */
      function collect({create = false, billingDetails} = {}) {
        return frame.request('collect', {create, billingDetails: plain(billingDetails)});
      }

      /** A payment error the buyer must see in the Element (a decline, a failed authentication). */
      function showError(error) {
        if (error.type === 'card_error' || error.code === 'payment_intent_authentication_failure') {
          frame.send({type: 'error', error: {type: error.type, code: error.code, param: error.param, message: error.message}});
        }
      }
      return {element: frame.element, collect, send: frame.send, showError, mounted: frame.mounted};
    }

    /** The Link Authentication Element (an email field) and the Address Element: the frame keeps the
     * fields; their values come to the page in change events, getValue() and at confirmation. */
    function fieldsElement(group, type, options, forget) {
      const slug = type === 'address' ? 'address' : 'link-authentication';
      let latest = null;
      const frame = frameElement(group, {type, slug, settings: () => ({options: plain(options)}),
        onMessage(message) { if (message.type === 'change') latest = message.event; }});
      frame.onForget(forget);
      if (type === 'address') {
        frame.element.getValue = async () => {
          const answer = await frame.request('value');
          const current = answer.error ? latest || {} : answer;
          return {complete: Boolean(current.complete), isNewAddress: true, value: current.value};
        };
        frame.element.update = (changes = {}) => frame.send({type: 'update', options: plain(changes)});
      }
      return {type, mode: type === 'address' ? options.mode : null, element: frame.element, send: frame.send,
              mounted: frame.mounted, collect: ({show}) => frame.request('collect', {show})};
    }

    /** The Express Checkout Element: kassa has the Amazon Pay button. A press asks the page's
     * 'click' handler (which must resolve or reject within a second, as in Stripe.js), then fires
     * 'confirm', from which the merchant calls stripe.confirmPayment({elements, clientSecret}). */
    function expressCheckoutElement(group, options, forget) {
      let shown = {amount: null, currency: null};
      let record = null;
      const frame = frameElement(group, {
        type: 'expressCheckout', slug: 'express-checkout', height: '0px',
        settings: () => ({options: plain({buttonHeight: options.buttonHeight, paymentMethods: options.paymentMethods})}),
        readyEvent: (message) => ({availablePaymentMethods: message.available ? {amazonPay: true, applePay: false,
          googlePay: false, link: false, paypal: false, klarna: false} : undefined}),
        onMessage(message) {
          if (message.type === 'ready') {
            shown = {amount: message.amount ?? null, currency: message.currency ?? null};
            setTimeout(() => frame.emit('availablepaymentmethodschange', {
              paymentMethods: message.available ? {amazonPay: {available: true}} : undefined}), 0);
          } else if (message.type === 'press') {
            press();
          }
        },
      });
      frame.onForget(forget);

      function reset(text) {
        frame.send({type: 'reset', message: text || ''});
      }

      function cancel() {
        group.express = null;
        reset('');
        frame.emit('cancel');
      }

      function startConfirm() {
        const amount = group.mode ? group.amount : shown.amount;
        const currency = group.mode ? group.currency : shown.currency;
        group.express = {type: 'amazon_pay', element: record, amount: amount ?? null, currency, active: true,
                         until: Date.now() + 60000};
        frame.emit('confirm', {
          expressPaymentType: 'amazon_pay',
          paymentFailed(payload = {}) {
            if (group.express) group.express.active = false;
            group.express = null;
            reset(payload.message || 'The payment could not be completed. Please try again.');
          },
        });
        if (!(frame.handlers.get('confirm') || new Set()).size) {
          console.error("kassa.js: the Express Checkout Element needs a 'confirm' handler that calls stripe.confirmPayment().");
          cancel();
        }
      }

      /** The buyer pressed Amazon Pay. */
      function press() {
        const listeners = frame.handlers.get('click');
        if (!listeners || !listeners.size) return startConfirm();
        let answered = false;
        const timer = setTimeout(() => {
          if (answered) return;
          answered = true;
          console.error("kassa.js: the Express Checkout Element's click handler must call event.resolve() or " +
                        'event.reject() within 1 second.');
          cancel();
        }, 1000);
        frame.emit('click', {
          expressPaymentType: 'amazon_pay',
          resolve() {
            if (answered) return;
            answered = true;
            clearTimeout(timer);
            startConfirm();
          },
          reject() {
            if (answered) return;
            answered = true;
            clearTimeout(timer);
            cancel();
          },
        });
      }

      frame.element.update = (changes = {}) => {
        options = {...options, ...changes};
        frame.send({type: 'update', options: plain({buttonHeight: options.buttonHeight, paymentMethods: options.paymentMethods})});
      };
      record = {element: frame.element, send: frame.send, mounted: frame.mounted, reset};
      return record;
    }

    /** An Element of Stripe.js that kassa does not have: it mounts nothing and says so with a
     * 'loaderror' (and in the console), so that the rest of the page keeps working. */
    function unavailableElement(type) {
      const error = {type: 'invalid_request_error',
                     message: `kassa does not offer the '${type}' Element (it offers: ${OFFERED.join(', ')}). ` +
                              'Nothing was mounted; the other Elements work.'};
      const handlers = new Map();
      const element = {
        mount() {
          console.error(`IntegrationError: ${error.message}`);
          setTimeout(() => {
            for (const handler of [...(handlers.get('loaderror') || [])]) handler({elementType: type, error});
          }, 0);
        },
        on(event, handler) {
          if (!handlers.has(event)) handlers.set(event, new Set());
          handlers.get(event).add(handler);
          return element;
        },
        once(event, handler) { return element.on(event, handler); },
        off(event, handler) {
          if (handler) (handlers.get(event) || new Set()).delete(handler); else handlers.delete(event);
          return element;
        },
        unmount() {}, destroy() {}, focus() {}, blur() {}, clear() {}, update() {}, collapse() {},
        getValue: async () => ({complete: false, value: undefined}),
      };
      return element;
    }

    /** Methods of Stripe.js that kassa does not have resolve with an error saying so (never throw:
     * the page keeps working). They exist so that wrappers such as @stripe/react-stripe-js accept
     * kassa's object. */
    function notOffered(name) {
      return async () => ({error: {type: 'invalid_request_error',
        message: `kassa does not offer stripe.${name}(); use the Payment Element with stripe.confirmPayment().`}});
    }

    return {
      elements, confirmPayment, retrievePaymentIntent, handleNextAction,
      confirmSetup, retrieveSetupIntent, createToken: notOffered('createToken'),
      createPaymentMethod: notOffered('createPaymentMethod'), confirmCardPayment: notOffered('confirmCardPayment'),
      createConfirmationToken: notOffered('createConfirmationToken'),
      registerAppInfo() {}, _registerWrapper() {},
    };
  }

  /** The options of Elements made without an intent (mode), checked as Stripe.js checks them. */
  function deferredOptions(options, method) {
    const camelled = {};
    for (const [key, value] of Object.entries(options)) if (value !== null) camelled[camel(key)] = value;
    const {mode, amount, currency, paymentMethodTypes, captureMethod, setupFutureUsage} = camelled;
    if (!['payment', 'setup', 'subscription'].includes(mode)) {
      throw new IntegrationError(`${method}: mode must be one of payment, setup or subscription; you passed: ${String(mode)}.`);
    }
    if (mode !== 'setup' && !(Number.isInteger(amount) && amount >= 0)) {
      throw new IntegrationError(`${method}: in mode '${mode}', amount must be a non-negative integer in the ` +
                                 `currency's smallest unit; you passed: ${String(amount)}.`);
    }
    if ((mode !== 'setup' || currency !== undefined) && !(typeof currency === 'string' && /^[a-z]{3}$/i.test(currency))) {
      throw new IntegrationError(`${method}: currency must be a three-letter ISO code such as 'usd'; you passed: ${String(currency)}.`);
    }
    if (paymentMethodTypes !== undefined && !(Array.isArray(paymentMethodTypes) && paymentMethodTypes.every((t) => typeof t === 'string'))) {
      throw new IntegrationError(`${method}: paymentMethodTypes must be an array of payment method types.`);
    }
    if (captureMethod !== undefined && !['automatic', 'automatic_async', 'manual'].includes(captureMethod)) {
      throw new IntegrationError(`${method}: captureMethod must be automatic, automatic_async or manual.`);
    }
    if (setupFutureUsage !== undefined && setupFutureUsage !== null && !['off_session', 'on_session'].includes(setupFutureUsage)) {
      throw new IntegrationError(`${method}: setupFutureUsage must be off_session, on_session or null.`);
    }
    return {mode, amount: mode === 'setup' ? null : amount, currency: currency ? currency.toLowerCase() : null,
            paymentMethodTypes: paymentMethodTypes || null, captureMethod: captureMethod || null,
            setupFutureUsage: setupFutureUsage || null};
  }

  function camel(key) {
    return key.replace(/_([a-z])/g, (_, letter) => letter.toUpperCase());
  }

  Kassa.version = '1';
  Kassa.IntegrationError = IntegrationError;
  window.Kassa = Kassa;
  window.Stripe = Kassa; // code written for Stripe.js runs unchanged
})();
