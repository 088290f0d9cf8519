  /* The Elements (part of kassa.js, see client.js): stripe.elements() and its group (create,
   * update, submit, …), the Payment, Link Authentication, Address and Express Checkout Elements
   * (each an iframe served by kassa, behind frameElement), the Elements kassa does not offer, and
   * the options of Elements made without an intent (mode). */

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

  /** The Elements of one Kassa() client: its stripe.elements(). The argument holds what they use of
   * the client: where kassa is (base, origin), the publishable key, the live-mode mount check, and
   * collectOthers (elements.submit() validates the other Elements as confirmPayment does). */
  function makeElements({base, origin, publishableKey, refuseInsecureLiveMount, collectOthers}) {
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

    return elements;
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
