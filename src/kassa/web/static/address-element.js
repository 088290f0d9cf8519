/* The Address Element's frame: a name and an address laid out by country (US, CA, GB, DE, FR and
 * JP by their own conventions, others in a general layout), with an optional phone. The page gets
 * the value in change events, getValue() and at confirmation (kassa.js sends a shipping address as
 * the intent's shipping, a billing address as the PaymentMethod's billing_details). */
(() => {
  'use strict';

  const {parse, post, reportHeight, onMessage} = window.kassaFrame;
  const US_STATES = ('AL Alabama|AK Alaska|AZ Arizona|AR Arkansas|CA California|CO Colorado|CT Connecticut|' +
    'DE Delaware|DC District of Columbia|FL Florida|GA Georgia|HI Hawaii|ID Idaho|IL Illinois|IN Indiana|IA Iowa|' +
    'KS Kansas|KY Kentucky|LA Louisiana|ME Maine|MD Maryland|MA Massachusetts|MI Michigan|MN Minnesota|' +
    'MS Mississippi|MO Missouri|MT Montana|NE Nebraska|NV Nevada|NH New Hampshire|NJ New Jersey|NM New Mexico|' +
    'NY New York|NC North Carolina|ND North Dakota|OH Ohio|OK Oklahoma|OR Oregon|PA Pennsylvania|PR Puerto Rico|' +
    'RI Rhode Island|SC South Carolina|SD South Dakota|TN Tennessee|TX Texas|UT Utah|VT Vermont|VA Virginia|' +
    'WA Washington|WV West Virginia|WI Wisconsin|WY Wyoming').split('|').map((entry) => [entry.slice(0, 2), entry.slice(3)]);
  const CA_PROVINCES = ('AB Alberta|BC British Columbia|MB Manitoba|NB New Brunswick|NL Newfoundland and Labrador|' +
    'NS Nova Scotia|NT Northwest Territories|NU Nunavut|ON Ontario|PE Prince Edward Island|QC Quebec|' +
    'SK Saskatchewan|YT Yukon').split('|').map((entry) => [entry.slice(0, 2), entry.slice(3)]);
  const JP_PREFECTURES = ('Hokkaido Aomori Iwate Miyagi Akita Yamagata Fukushima Ibaraki Tochigi Gunma Saitama Chiba ' +
    'Tokyo Kanagawa Niigata Toyama Ishikawa Fukui Yamanashi Nagano Gifu Shizuoka Aichi Mie Shiga Kyoto Osaka Hyogo ' +
    'Nara Wakayama Tottori Shimane Okayama Hiroshima Yamaguchi Tokushima Kagawa Ehime Kochi Fukuoka Saga Nagasaki ' +
    'Kumamoto Oita Miyazaki Kagoshima Okinawa').split(' ').map((name) => [name, name]);
  // Each country's fields in order; state: a list (or free text when optional), postal: its label and form.
  const LAYOUTS = {
    US: {fields: ['line1', 'line2', 'city', 'state', 'postal_code'], city: 'City',
         state: {label: 'State', options: US_STATES}, postal: {label: 'ZIP', pattern: /^\d{5}(-\d{4})?$/, kind: 'zip'}},
    CA: {fields: ['line1', 'line2', 'city', 'state', 'postal_code'], city: 'City',
         state: {label: 'Province', options: CA_PROVINCES}, postal: {label: 'Postal code', pattern: /^[A-Z]\d[A-Z] ?\d[A-Z]\d$/i}},
    GB: {fields: ['line1', 'line2', 'city', 'postal_code'], city: 'Town or city',
         postal: {label: 'Postcode', pattern: /^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i}},
    DE: {fields: ['line1', 'line2', 'postal_code', 'city'], city: 'City', postal: {label: 'Postal code', pattern: /^\d{5}$/}},
    FR: {fields: ['line1', 'line2', 'postal_code', 'city'], city: 'City', postal: {label: 'Postal code', pattern: /^\d{5}$/}},
    JP: {fields: ['postal_code', 'state', 'city', 'line1', 'line2'], city: 'City', state: {label: 'Prefecture', options: JP_PREFECTURES},
         postal: {label: 'Postal code', pattern: /^\d{3}-?\d{4}$/}},
  };
  const GENERAL = {fields: ['line1', 'line2', 'city', 'state', 'postal_code'], city: 'City',
                   state: {label: 'State, county, province, or region', optional: true},
                   postal: {label: 'Postal code', optional: true}};
  const AUTOCOMPLETE = {name: 'name', line1: 'address-line1', line2: 'address-line2', city: 'address-level2',
                        state: 'address-level1', postal_code: 'postal-code', phone: 'tel'};
  const COUNTRIES = ('AE AR AT AU BE BG BR CA CH CL CN CO CY CZ DE DK EE ES FI FR GB GR HK HR HU IE IL IN IS IT JP KR ' +
    'LI LT LU LV MT MX MY NL NO NZ PE PH PL PT RO SA SE SG SI SK TH TR TW US ZA').split(' ');

  const options = parse('options', {});
  const mode = options.mode === 'billing' ? 'billing' : 'shipping';
  const container = document.getElementById('fields');
  const values = {name: '', line1: '', line2: '', city: '', state: '', postal_code: '', phone: ''};
  const touched = {};
  let country = 'US';
  let names = null;
  try { names = new Intl.DisplayNames(['en'], {type: 'region'}); } catch (_) { /* codes then */ }

  function allowed() {
    const list = Array.isArray(options.allowedCountries) && options.allowedCountries.length
      ? options.allowedCountries.map((code) => String(code).toUpperCase()) : COUNTRIES;
    return [...new Set(list)].filter((code) => /^[A-Z]{2}$/.test(code));
  }

  function layout() {
    return LAYOUTS[country] || GENERAL;
  }

  function phoneShown() {
    const fields = options.fields || {};
    const required = options.validation && options.validation.phone && options.validation.phone.required;
    return fields.phone === 'always' || required === 'always';
  }

  function phoneRequired() {
    return Boolean(options.validation && options.validation.phone && options.validation.phone.required === 'always');
  }

  function nameShown() {
    return !(options.fields && options.fields.name === 'never');
  }

  function labelOf(name) {
    const current = layout();
    return {name: 'Full name', line1: 'Address line 1', line2: 'Address line 2 (optional)', city: current.city,
            state: current.state ? current.state.label : '', postal_code: current.postal ? current.postal.label : '',
            phone: phoneRequired() ? 'Phone number' : 'Phone number (optional)', country: 'Country or region'}[name];
  }

  function required(name) {
    const current = layout();
    if (name === 'line2') return false;
    if (name === 'phone') return phoneRequired();
    if (name === 'state') return Boolean(current.state && !current.state.optional);
    if (name === 'postal_code') return Boolean(current.postal && !current.postal.optional);
    return true;
  }

  function problemOf(name) {
    const value = (values[name] || '').trim();
    if (!value) return required(name) ? {code: 'incomplete', message: 'This field is incomplete.'} : null;
    const postal = layout().postal;
    if (name === 'postal_code' && postal && postal.pattern && !postal.pattern.test(value)) {
      return {code: 'invalid_postal_code', message: postal.kind === 'zip' ? 'Your ZIP is invalid.' : 'Your postal code is invalid.'};
    }
    if (name === 'phone' && !/^\+?[\d\s().-]{6,20}$/.test(value)) return {code: 'invalid_phone', message: 'Your phone number is invalid.'};
    return null;
  }

  function shownFields() {
    return [...(nameShown() ? ['name'] : []), 'country', ...layout().fields, ...(phoneShown() ? ['phone'] : [])];
  }

  function control(name) {
    if (name === 'country') {
      const select = document.createElement('select');
      const entries = allowed().map((code) => [code, (names && names.of(code)) || code]);
      entries.sort((a, b) => a[1].localeCompare(b[1]));
      select.replaceChildren(...entries.map(([code, text]) => new Option(text, code)));
      select.value = country;
      select.autocomplete = 'country';
      select.addEventListener('change', () => {
        country = select.value;
        const state = layout().state;
        if (!state || (state.options && !state.options.some(([code]) => code === values.state))) values.state = '';
        values.postal_code = '';
        touched.postal_code = false;
        touched.state = false;
        render();
        changed();
      });
      return select;
    }
    const state = layout().state;
    if (name === 'state' && state && state.options) {
      const select = document.createElement('select');
      select.replaceChildren(new Option('Select', ''), ...state.options.map(([code, text]) => new Option(text, code)));
      select.value = values.state;
      select.addEventListener('change', () => { values.state = select.value; touched.state = true; show(); changed(); });
      select.autocomplete = AUTOCOMPLETE.state;
      return select;
    }
    const input = document.createElement('input');
    input.type = name === 'phone' ? 'tel' : 'text';
    input.value = values[name];
    input.autocomplete = AUTOCOMPLETE[name];
    input.spellcheck = false;
    input.maxLength = name === 'postal_code' ? 10 : 200;
    input.addEventListener('input', () => {
      values[name] = input.value;
      if (problemOf(name)) touched[name] = false;
      show();
      changed();
    });
    input.addEventListener('blur', () => { touched[name] = Boolean(input.value); show(); });
    return input;
  }

  function render() {
    const focusedName = document.activeElement && document.activeElement.dataset.name;
    container.replaceChildren();
    for (const name of shownFields()) {
      const field = document.createElement('div');
      field.className = `field field-${name}`;
      const id = `address-${name}`;
      const label = document.createElement('label');
      label.htmlFor = id;
      label.textContent = labelOf(name);
      const input = control(name);
      input.id = id;
      input.name = name;
      input.dataset.name = name;
      input.setAttribute('aria-invalid', 'false');
      input.setAttribute('aria-describedby', `${id}-error`);
      if (required(name) && name !== 'country') input.setAttribute('aria-required', 'true');
      const error = document.createElement('p');
      error.id = `${id}-error`;
      error.className = 'field-error';
      error.setAttribute('aria-live', 'polite');
      field.append(label, input, error);
      container.append(field);
    }
    document.documentElement.dataset.country = country;
    show();
    if (focusedName) document.getElementById(`address-${focusedName}`)?.focus();
  }

  /** Shows each field's message (once left, or all with force); the first field in error. */
  function show(force = false) {
    let first = null;
    for (const name of shownFields()) {
      if (name === 'country') continue;
      const problem = problemOf(name);
      const text = problem && (force || touched[name]) ? problem.message : '';
      const input = document.getElementById(`address-${name}`);
      document.getElementById(`address-${name}-error`).textContent = text;
      input.setAttribute('aria-invalid', text ? 'true' : 'false');
      input.closest('.field').classList.toggle('invalid', Boolean(text));
      if (problem && !first) first = {name, ...problem};
    }
    reportHeight();
    return first;
  }

  function firstProblem() {
    for (const name of shownFields()) if (name !== 'country' && problemOf(name)) return {name, ...problemOf(name)};
    return null;
  }

  function value() {
    const trimmed = (name) => (values[name] || '').trim();
    const postal = trimmed('postal_code');
    const result = {
      name: trimmed('name'),
      address: {line1: trimmed('line1'), line2: trimmed('line2') || null, city: trimmed('city'), state: trimmed('state'),
                postal_code: country === 'CA' || country === 'GB' ? postal.toUpperCase() : postal, country},
    };
    if (phoneShown()) result.phone = trimmed('phone');
    return result;
  }

  function event() {
    const empty = ['name', 'line1', 'line2', 'city', 'state', 'postal_code', 'phone'].every((name) => !values[name].trim());
    return {elementMode: mode, empty, complete: !firstProblem(), isNewAddress: true, value: value()};
  }

  function changed() {
    post('change', {event: event()});
  }

  onMessage((message) => {
    if (message.type === 'focus') container.querySelector('input, select')?.focus();
    else if (message.type === 'clear') {
      for (const name of Object.keys(values)) values[name] = '';
      render();
      changed();
    } else if (message.type === 'value') {
      const current = event();
      return {complete: current.complete, value: current.value};
    } else if (message.type === 'collect') {
      const problem = message.show === false ? firstProblem() : show(true);
      if (problem) {
        if (message.show !== false) document.getElementById(`address-${problem.name}`)?.focus();
        return {error: {type: 'validation_error', code: problem.code, message: problem.message}};
      }
      return {value: value()};
    } else if (message.type === 'update' && message.options) {
      Object.assign(options, message.options);
      render();
    }
    return undefined;
  });

  const defaults = options.defaultValues || {};
  const address = defaults.address || {};
  const start = String(address.country || '').toUpperCase();
  country = allowed().includes(start) ? start : allowed().includes('US') ? 'US' : allowed()[0];
  const fullName = defaults.name || [defaults.firstName, defaults.lastName].filter(Boolean).join(' ');
  Object.assign(values, {name: fullName || '', line1: address.line1 || '', line2: address.line2 || '',
                         city: address.city || '', state: address.state || '', postal_code: address.postal_code || '',
                         phone: defaults.phone || ''});
  for (const name of Object.keys(values)) values[name] = String(values[name]).slice(0, 200);
  render();
  post('ready');
  if (Object.values(values).some(Boolean)) changed();
})();
