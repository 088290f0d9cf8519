/* The Payment Element frame: lists the intent's payment methods, takes card details, and tells the
 * page (kassa.js) what the buyer chose. Its settings come in the URL fragment; it calls kassa's API
 * with the publishable key and client secret only, and talks only to its parent, checked by origin.
 *
 * Card details never leave this frame except to kassa's API: on the page's request (confirmPayment)
 * the frame creates the PaymentMethod itself and hands back its id (pm_…), never the number or
 * the security code. Nothing here writes them to storage, a URL, a message or the console. */
(() => {
  'use strict';

  const MESSAGE_TAG = 'kassa:payment-element';
  const NAMES = {amazon_pay: 'Amazon Pay', card: 'Card'};
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
  const SETUP_CLOSED = {succeeded: 'This payment method is already saved.', canceled: 'This setup was canceled.'};

  // ---- cards: brands, formatting, Stripe.js's validation codes and messages --------------------

  const MESSAGES = {
    incomplete_number: 'Your card number is incomplete.',
    invalid_number: 'Your card number is invalid.',
    incomplete_expiry: "Your card's expiration date is incomplete.",
    invalid_expiry_month: "Your card's expiration date is invalid.",
    invalid_expiry_month_past: "Your card's expiration date is in the past.",
    invalid_expiry_year_past: "Your card's expiration year is in the past.",
    invalid_expiry_year: "Your card's expiration year is invalid.",
    incomplete_cvc: "Your card's security code is incomplete.",
    incomplete_zip: 'Your postal code is incomplete.',
    incomplete_zip_us: 'Your ZIP is incomplete.',
  };
  const FOUR = [4, 4, 4, 4, 3];
  // By the number's first digits (IIN ranges), most specific first; lengths a number may have.
  const BRANDS = [
    {brand: 'amex', name: 'American Express', prefix: /^3[47]/, lengths: [15], groups: [4, 6, 5], cvc: 4},
    {brand: 'diners', name: 'Diners Club', prefix: /^36/, lengths: [14], groups: [4, 6, 4], cvc: 3},
    {brand: 'diners', name: 'Diners Club', prefix: /^3(0[0-59]|[89])/, lengths: [16], groups: FOUR, cvc: 3},
    {brand: 'jcb', name: 'JCB', prefix: /^35(2[89]|[3-8])/, lengths: [16, 17, 18, 19], groups: FOUR, cvc: 3},
    {brand: 'visa', name: 'Visa', prefix: /^4/, lengths: [16], groups: FOUR, cvc: 3},
    {brand: 'mastercard', name: 'Mastercard', prefix: /^(5[1-5]|222[1-9]|22[3-9]|2[3-6]|27[01]|2720)/,
     lengths: [16], groups: FOUR, cvc: 3},
    {brand: 'discover', name: 'Discover', prefix: /^(6011|64[4-9]|65)/, lengths: [16, 17, 18, 19], groups: FOUR, cvc: 3},
    {brand: 'unionpay', name: 'UnionPay', prefix: /^(62|81)/, lengths: [16, 17, 18, 19], groups: FOUR, cvc: 3},
  ];
  const UNKNOWN = {brand: 'unknown', name: '', prefix: /^/, lengths: [16, 17, 18, 19], groups: FOUR, cvc: 4};
  // Where the postal code is asked for, as Stripe's Payment Element does: the US (a ZIP) and the
  // countries whose card checks use one.
  const POSTAL = {US: 'zip', CA: 'postal', GB: 'postal'};
  const COUNTRIES = ('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ ' +
    'BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG ' +
    'EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ' +
    'ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV ' +
    'LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU ' +
    'NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN ' +
    'SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI ' +
    'VN VU WF WS YE YT ZA ZM ZW').split(' ');

  function brandOf(digits) {
    return BRANDS.find((entry) => entry.prefix.test(digits)) || UNKNOWN;
  }

  function luhn(digits) {
    let sum = 0;
    for (let i = 0; i < digits.length; i += 1) {
      let digit = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) {
        digit *= 2;
        if (digit > 9) digit -= 9;
      }
      sum += digit;
    }
    return sum % 10 === 0;
  }

  /** 4242424242424242 → "4242 4242 4242 4242"; amex 4-6-5, 14-digit Diners 4-6-4. */
  function formatNumber(digits, info) {
    const parts = [];
    let at = 0;
    for (const size of info.groups) {
      if (at >= digits.length) break;
      parts.push(digits.slice(at, at + size));
      at += size;
    }
    if (at < digits.length) parts.push(digits.slice(at));
    return parts.join(' ');
  }

  /** The MMYY digits of what was typed or pasted: "4" → "04", "1/2" → "012", "12/2034" → "1234". */
  function expiryDigits(text) {
    const long = /^\s*(\d{1,2})\s*\/\s*(\d{4})\s*$/.exec(text);
    if (long) return long[1].padStart(2, '0') + long[2].slice(2);
    const short = /^\s*(\d)\s*\/(.*)$/.exec(text);
    let digits = (short ? `0${short[1]}${short[2]}` : text).replace(/\D/g, '');
    if (/^[2-9]/.test(digits)) digits = `0${digits}`;
    else if (/^1[3-9]/.test(digits)) digits = `01${digits.slice(1)}`;
    else if (/^00/.test(digits)) digits = '0';
    return digits.slice(0, 4);
  }

  function formatExpiry(digits, deleting) {
    if (digits.length < 2 || (digits.length === 2 && deleting)) return digits;
    return `${digits.slice(0, 2)} / ${digits.slice(2)}`;
  }

  // ---- the frame's state ------------------------------------------------------------------------

  const settings = new URLSearchParams(location.hash.slice(1));
  const parentOrigin = settings.get('origin');
  const elementId = settings.get('id');
  const clientSecret = settings.get('clientSecret') || '';
  const publishableKey = settings.get('key') || '';
  const form = document.getElementById('form');
  const options = document.getElementById('options');
  const notice = document.getElementById('notice');
  const errors = document.getElementById('errors');
  const cardBox = document.getElementById('card');
  const inputs = {
    number: document.getElementById('card-number'),
    expiry: document.getElementById('card-expiry'),
    cvc: document.getElementById('card-cvc'),
    postal: document.getElementById('card-postal'),
  };
  const country = document.getElementById('card-country');
  const postalField = document.getElementById('postal-field');
  const postalLabel = document.getElementById('card-postal-label');
  const brandMark = document.getElementById('card-brand');
  const brandName = document.getElementById('card-brand-name');
  const FIELDS = ['number', 'expiry', 'cvc', 'postal'];
  const touched = {number: false, expiry: false, cvc: false, postal: false};
  const serverErrors = {}; // field → a message from the API (e.g. incorrect_number), until edited
  const order = parse(settings.get('order'), null);
  let billingElsewhere = parse(settings.get('billingAddress'), false) === true;
  let deferred = parse(settings.get('intent'), null); // in mode Elements: {payment_method_types, status}
  const saveOffered = parse(settings.get('save'), false) === true; // the page offers "Save for future payments"
  const saveField = document.getElementById('save-field');
  const saveBox = document.getElementById('save-method');
  let saving = false; // a setup (SetupIntent, or mode 'setup'): the method is saved, never asked
  let state = 'loading'; // loading | open | closed (paid or canceled) | broken
  let closedMessage = '';
  let focused = false;
  let creating = false;

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

  function showMethod() {
    cardBox.hidden = selected() !== 'card' || state === 'closed';
    showNotice();
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

  /** The intent's methods in the order shown: paymentMethodOrder's first (as Stripe.js), then
   * Amazon Pay, then the others in the intent's order. */
  function ordered(types) {
    const wanted = Array.isArray(order) ? order.filter((type) => types.includes(type)) : [];
    const rest = types.filter((type) => !wanted.includes(type));
    rest.sort((a, b) => (b === 'amazon_pay') - (a === 'amazon_pay'));
    return [...new Set([...wanted, ...rest])];
  }

  function render(intent) {
    const types = ordered([...new Set(intent.payment_method_types || [])]);
    const previous = selected();
    const choice = types.includes(previous) ? previous : types[0];
    options.replaceChildren(...types.map((type) => option(type, type === choice)));
    options.removeAttribute('aria-busy');
    saving = intent.object === 'setup_intent' || intent.mode === 'setup';
    closedMessage = (saving ? SETUP_CLOSED : CLOSED)[intent.status] || '';
    state = closedMessage ? 'closed' : 'open';
    saveField.hidden = !saveOffered || saving || Boolean(intent.setup_future_usage) || state === 'closed';
    for (const input of form.querySelectorAll('input, select')) input.disabled = state === 'closed';
    showMethod();
    showError((intent.last_payment_error || intent.last_setup_error) && state === 'open' ? FAILED : '');
  }

  async function load() {
    if (!clientSecret && deferred) { // Elements made without an intent (mode, amount, currency)
      render(deferred);
      reportHeight();
      post('ready');
      return;
    }
    const intentId = clientSecret.split('_secret_')[0];
    const kind = intentId.startsWith('seti_') ? 'setup_intents' : 'payment_intents';
    const url = new URL(`../../v1/${kind}/${encodeURIComponent(intentId)}`, location.href);
    url.searchParams.set('client_secret', clientSecret);
    try {
      const response = await fetch(url, {headers: {Authorization: `Bearer ${publishableKey}`},
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
      cardBox.hidden = true;
      showError('The payment form could not be loaded. Reload the page to try again.');
      post('loaderror', {error: {type: error.type || 'api_connection_error', code: error.code,
                                 message: error.message || 'The payment form could not be loaded.'}});
    }
  }

  // ---- the card fields --------------------------------------------------------------------------

  function postalKind() {
    return billingElsewhere ? null : POSTAL[country.value] || null;
  }

  /** An Address Element (billing) on the page collects the billing address: no country or postal
   * code here then, as in Stripe's Payment Element. */
  function showBillingFields() {
    country.closest('.row').hidden = billingElsewhere;
    showPostal();
    showFieldErrors();
  }

  /** Each field's value and, when it is not valid, Stripe.js's code; `definite` errors show at
   * once (a number failing the Luhn check, a date in the past), the others once the buyer leaves
   * the field or tries to pay. */
  function cardState() {
    const digits = inputs.number.value.replace(/\D/g, '');
    const info = brandOf(digits);
    const result = {info, digits};
    const full = digits.length >= Math.max(...info.lengths);
    if (digits.length < Math.min(...info.lengths)) result.number = {code: 'incomplete_number'};
    else if (!info.lengths.includes(digits.length) || !luhn(digits)) result.number = {code: 'invalid_number', definite: full};

    const expiry = expiryDigits(inputs.expiry.value);
    result.expMonth = Number(expiry.slice(0, 2));
    result.expYear = 2000 + Number(expiry.slice(2));
    if (expiry.length < 4) {
      result.expiry = {code: 'incomplete_expiry'};
    } else {
      const now = new Date();
      const year = now.getFullYear();
      if (result.expMonth < 1 || result.expMonth > 12) result.expiry = {code: 'invalid_expiry_month', definite: true};
      else if (result.expYear < year) result.expiry = {code: 'invalid_expiry_year_past', definite: true};
      else if (result.expYear === year && result.expMonth < now.getMonth() + 1) {
        result.expiry = {code: 'invalid_expiry_month_past', definite: true};
      } else if (result.expYear > year + 50) result.expiry = {code: 'invalid_expiry_year', definite: true};
    }

    const cvc = inputs.cvc.value;
    const needed = info.brand === 'unknown' ? 3 : info.cvc;
    if (cvc.length < needed) result.cvc = {code: 'incomplete_cvc'};

    const kind = postalKind();
    const postal = inputs.postal.value.trim();
    if (kind === 'zip' && !/^\d{5}$/.test(postal)) result.postal = {code: 'incomplete_zip', message: MESSAGES.incomplete_zip_us};
    else if (kind === 'postal' && postal.replace(/\s/g, '').length < 3) result.postal = {code: 'incomplete_zip'};
    return result;
  }

  function cardEmpty() {
    return FIELDS.every((name) => !inputs[name].value);
  }

  function messageOf(problem) {
    return problem.message || MESSAGES[problem.code];
  }

  /** Shows under each field its error (or none); returns the first field in error, if any. */
  function showFieldErrors(current = cardState()) {
    let first = null;
    for (const name of FIELDS) {
      const problem = current[name];
      const text = serverErrors[name] || (problem && (problem.definite || touched[name]) ? messageOf(problem) : '');
      document.getElementById(`card-${name}-error`).textContent = text;
      inputs[name].setAttribute('aria-invalid', text ? 'true' : 'false');
      inputs[name].closest('.field').classList.toggle('invalid', Boolean(text));
      if (text && !first) first = {name, text, code: problem ? problem.code : 'invalid'};
    }
    return first;
  }

  function showBrand(info) {
    if (brandMark.dataset.brand === info.brand) return;
    brandMark.dataset.brand = info.brand;
    const template = document.getElementById(`brand-${info.brand}`);
    brandMark.replaceChildren(template.content.cloneNode(true));
    brandName.textContent = info.name ? `Card brand: ${info.name}` : '';
  }

  function showPostal() {
    const kind = postalKind();
    postalField.hidden = !kind;
    postalLabel.textContent = kind === 'zip' ? 'ZIP' : 'Postal code';
    inputs.postal.placeholder = kind === 'zip' ? '12345' : '';
    inputs.postal.inputMode = kind === 'zip' ? 'numeric' : 'text';
  }

  /** Puts the caret after the same count of digits as before reformatting. */
  function placeCaret(input, digitsBefore) {
    if (document.activeElement !== input) return;
    let at = 0;
    let seen = 0;
    while (at < input.value.length && seen < digitsBefore) {
      if (/\d/.test(input.value[at])) seen += 1;
      at += 1;
    }
    input.setSelectionRange(at, at);
  }

  function digitsBeforeCaret(input) {
    return input.value.slice(0, input.selectionStart ?? input.value.length).replace(/\D/g, '').length;
  }

  function onNumberInput() {
    const before = digitsBeforeCaret(inputs.number);
    const atEnd = inputs.number.selectionStart === inputs.number.value.length;
    let digits = inputs.number.value.replace(/\D/g, '');
    const info = brandOf(digits);
    digits = digits.slice(0, Math.max(...info.lengths));
    inputs.number.value = formatNumber(digits, info);
    if (!atEnd) placeCaret(inputs.number, before);
    showBrand(info);
    inputs.cvc.maxLength = info.cvc;
    if (inputs.cvc.value.length > info.cvc) inputs.cvc.value = inputs.cvc.value.slice(0, info.cvc);
    const current = cardState();
    if (atEnd && !current.number && digits.length === Math.max(...info.lengths)) inputs.expiry.focus();
  }

  function onExpiryInput(event) {
    const deleting = Boolean(event.inputType && event.inputType.startsWith('delete'));
    const digits = expiryDigits(inputs.expiry.value);
    inputs.expiry.value = formatExpiry(digits, deleting);
    if (digits.length === 4 && !cardState().expiry) inputs.cvc.focus();
  }

  function onCvcInput() {
    inputs.cvc.value = inputs.cvc.value.replace(/\D/g, '').slice(0, brandOf(inputs.number.value.replace(/\D/g, '')).cvc);
  }

  function onPostalInput() {
    const value = inputs.postal.value;
    inputs.postal.value = postalKind() === 'zip' ? value.replace(/\D/g, '').slice(0, 5) : value.toUpperCase().slice(0, 10);
  }

  function emitChange() {
    const type = selected();
    const card = type === 'card';
    const complete = card ? Object.keys(cardState()).every((key) => !FIELDS.includes(key)) : Boolean(type);
    post('change', {event: {complete, empty: card ? cardEmpty() : false, collapsed: false, value: {type}}});
  }

  function defaultCountry() {
    for (const tag of navigator.languages || [navigator.language]) {
      const region = /-([A-Z]{2})\b/i.exec(tag || '');
      if (region && COUNTRIES.includes(region[1].toUpperCase())) return region[1].toUpperCase();
    }
    return 'US';
  }

  function fillCountries() {
    let names;
    try { names = new Intl.DisplayNames(['en'], {type: 'region'}); } catch (_) { names = null; }
    const entries = COUNTRIES.map((code) => [code, (names && names.of(code)) || code]);
    entries.sort((a, b) => a[1].localeCompare(b[1]));
    country.replaceChildren(...entries.map(([code, name]) => new Option(name, code)));
    country.value = defaultCountry();
    showPostal();
  }

  // ---- collecting: validation, and the PaymentMethod made here ----------------------------------

  function appendForm(body, value, prefix) {
    if (value === undefined || value === null) return;
    if (typeof value === 'object') {
      for (const [name, item] of Object.entries(value)) appendForm(body, item, `${prefix}[${name}]`);
    } else {
      body.append(prefix, String(value));
    }
  }

  /** POST /v1/payment_methods with the publishable key: the id, or the API's error (its message
   * is about the card, never contains it). */
  async function createPaymentMethod(billingDetails) {
    const current = cardState();
    const body = new URLSearchParams({type: 'card'});
    body.append('card[number]', current.digits);
    body.append('card[exp_month]', String(current.expMonth));
    body.append('card[exp_year]', String(current.expYear));
    body.append('card[cvc]', inputs.cvc.value);
    const billing = billingDetails && typeof billingDetails === 'object' ? {...billingDetails} : {};
    const address = {...(billing.address && typeof billing.address === 'object' ? billing.address : {})};
    if (!address.country) { // unless an Address Element (billing) gave the whole address
      address.country = country.value;
      if (postalKind()) address.postal_code = inputs.postal.value.trim();
    }
    billing.address = address;
    appendForm(body, billing, 'billing_details');
    let response;
    try {
      response = await fetch(new URL('../../v1/payment_methods', location.href), {
        method: 'POST', body, cache: 'no-store', credentials: 'omit',
        headers: {Authorization: `Bearer ${publishableKey}`, 'Content-Type': 'application/x-www-form-urlencoded'},
      });
    } catch (_) {
      return {error: {type: 'api_connection_error', message: 'Could not reach the payment server. Check your connection and try again.'}};
    }
    let answer = null;
    try { answer = await response.json(); } catch (_) { /* below */ }
    if (response.ok && answer && typeof answer.id === 'string' && answer.id.startsWith('pm_')) return {id: answer.id};
    const raw = (answer && answer.error) || {type: 'api_error', message: `The payment server answered HTTP ${response.status}.`};
    const error = {type: raw.type || 'api_error', message: raw.message || 'Your card could not be used.'};
    for (const name of ['code', 'decline_code', 'param']) if (typeof raw[name] === 'string') error[name] = raw[name];
    return {error};
  }

  /** The field an API error is about, by its param (card[number], exp_month, cvc, …). */
  function fieldOf(param) {
    const name = String(param || '').replace(/^card\[(.*)\]$/, '$1');
    if (name === 'number') return 'number';
    if (name === 'exp_month' || name === 'exp_year') return 'expiry';
    if (name === 'cvc') return 'cvc';
    if (/postal_code/.test(name)) return 'postal';
    return null;
  }

  /** An error from the API or the page (a decline, a failed authentication): under its field, or
   * under the card fields. */
  function showApiError(error) {
    const field = selected() === 'card' ? fieldOf(error.param) : null;
    if (field) {
      serverErrors[field] = error.message;
      showFieldErrors();
      showError('');
    } else {
      showError(error.message);
    }
    reportHeight();
  }

  /** The answer to kassa.js's confirmPayment (create: true) or elements.submit(). A paid or
   * canceled intent is left to the API to refuse, with its own error. */
  async function collect(message) {
    if (state === 'loading' || state === 'broken') {
      return {error: {type: 'validation_error', code: 'incomplete', message: 'The payment form is not ready.'}};
    }
    const type = selected();
    if (!type) {
      showError('Choose a payment method.');
      form.querySelector('input[name="method"]')?.focus();
      return {error: {type: 'validation_error', code: 'incomplete', message: 'Choose a payment method.'}};
    }
    const save = saveField.hidden ? {} : {save: saveBox.checked};
    if (type !== 'card' || state === 'closed') return {value: {type, ...save}};
    for (const name of FIELDS) touched[name] = true;
    const first = showFieldErrors();
    if (first) {
      inputs[first.name].focus();
      return {error: {type: 'validation_error', code: first.code, message: first.text}};
    }
    if (!message.create) return {value: {type, ...save}};
    if (creating) return {error: {type: 'validation_error', code: 'incomplete', message: 'A payment is already being submitted.'}};
    creating = true;
    try {
      showError('');
      const created = await createPaymentMethod(message.billingDetails);
      if (created.error) {
        showApiError(created.error);
        return {error: created.error};
      }
      return {value: {type, ...save}, paymentMethod: created.id};
    } finally {
      creating = false;
    }
  }

  // ---- messages and events ----------------------------------------------------------------------

  window.addEventListener('message', async (event) => {
    if (event.source !== window.parent || event.origin !== parentOrigin) return;
    const message = event.data;
    if (!message || message.tag !== MESSAGE_TAG || message.id !== elementId) return;
    if (message.type === 'collect') post('result', {requestId: message.requestId, result: await collect(message)});
    else if (message.type === 'error' && message.error && typeof message.error.message === 'string') showApiError(message.error);
    else if (message.type === 'appearance') applyAppearance(message.appearance);
    else if (message.type === 'layout') applyLayout(message.layout);
    else if (message.type === 'refresh') load();
    else if (message.type === 'billingAddress') { billingElsewhere = message.present === true; showBillingFields(); emitChange(); }
    else if (message.type === 'intent' && !clientSecret && message.intent) { deferred = message.intent; render(deferred); }
    else if (message.type === 'focus') (form.querySelector('input:checked') || form.querySelector('input'))?.focus();
    else if (message.type === 'blur') document.activeElement?.blur();
  });

  const handlers = {number: onNumberInput, expiry: onExpiryInput, cvc: onCvcInput, postal: onPostalInput};
  for (const name of FIELDS) {
    inputs[name].addEventListener('input', (event) => {
      handlers[name](event);
      delete serverErrors[name];
      const problem = cardState()[name];
      if (problem && !problem.definite) touched[name] = false; // no "incomplete" while typing
      showFieldErrors();
      emitChange();
    });
    inputs[name].addEventListener('blur', () => {
      touched[name] = touched[name] || Boolean(inputs[name].value);
      showFieldErrors();
    });
  }
  country.addEventListener('change', () => {
    inputs.postal.value = '';
    touched.postal = false;
    delete serverErrors.postal;
    showPostal();
    showFieldErrors();
    emitChange();
  });
  options.addEventListener('change', () => {
    showMethod();
    showError('');
    emitChange();
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
  fillCountries();
  showBillingFields();
  showBrand(UNKNOWN);
  load();
})();
