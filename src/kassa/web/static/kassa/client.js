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
 *
 * Source: this file and the other parts in static/kassa/, one concept each, which kassa serves
 * joined as one script (KASSA_JS_PARTS in kassa/web/elements.py) inside one strict-mode function:
 * they share its scope, and the page gets only what globals.js sets. This part: the helpers,
 * Kassa() with its API calls, and the confirmation flows (confirmPayment, confirmSetup, 3D Secure).
 */

  const SECRET = /^((?:pi|seti)_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$/;
  // How a confirmation's outcome is named for each kind of intent (see settle): the return_url's
  // parameter, the key of the resolved result, and the field holding the last error.
  const SETTLED = {
    payment: {param: 'payment_intent', result: 'paymentIntent', lastError: 'last_payment_error'},
    setup: {param: 'setup_intent', result: 'setupIntent', lastError: 'last_setup_error'},
  };
  const loadedFrom = scriptBase();
  const groups = new WeakMap(); // elements group → its private state (elements.js sets, confirmations read)

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
      const result = await settle('payment', intent, redirect, confirmParams.return_url);
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
    /** What a confirmation resolves with once `object` (a PaymentIntent or a SetupIntent, as `kind`
     * says: see SETTLED) needs nothing more of the page: 3D Secure first, a decline as its error,
     * the return_url with redirect 'always', else the object itself. */
    async function settle(kind, object, redirect, returnUrl) {
      const names = SETTLED[kind];
      const next = object.next_action;
      if (object.status === 'requires_action' && next) {
        if (next.type === 'redirect_to_url' && next.redirect_to_url) return navigate(next.redirect_to_url.url);
        if (next.type === 'use_stripe_sdk' && next.use_stripe_sdk && next.use_stripe_sdk.stripe_js) {
          const outcome = await authenticate(next.use_stripe_sdk.stripe_js, object.client_secret);
          if (outcome.error) return outcome;
          return settle(kind, outcome.intent, redirect, returnUrl);
        }
      }
      if (object.status === 'requires_payment_method' && object[names.lastError]) {
        const error = shapeError(object[names.lastError]);
        error[names.param] = object;
        return {error};
      }
      if (redirect === 'always' && returnUrl) {
        const url = new URL(returnUrl, location.href);
        url.searchParams.set(names.param, object.id);
        url.searchParams.set(`${names.param}_client_secret`, object.client_secret);
        url.searchParams.set('redirect_status', redirectStatus(object.status));
        return navigate(url.href);
      }
      return {[names.result]: object};
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
      const result = await settle('setup', setup, redirect, confirmParams.return_url);
      if (result.error && group && group.payment) group.payment.showError(result.error);
      return result;
    }

    /** After a setup's confirmation: the buyer goes where they must, or the merchant gets the result. */
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
      return settle('payment', data, 'if_required', null);
    }

    /** stripe.elements(): the Elements group (elements.js), given what its frames use of this client. */
    const elements = makeElements({base, origin, publishableKey, refuseInsecureLiveMount, collectOthers});

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
