// Stripe's quickstart shape: ask the server for a PaymentIntent, mount the Elements with its client
// secret, confirm on submit. The email and the shipping address go with the confirmation.
const stripe = Stripe(document.body.dataset.publishableKey);
let elements;

initialize();
document.querySelector('#payment-form').addEventListener('submit', handleSubmit);

async function initialize() {
  const response = await fetch('/create-payment-intent', {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({quantity: 1}),
  });
  const {clientSecret} = await response.json();
  elements = stripe.elements({clientSecret, appearance: {theme: 'stripe'}});

  const linkAuthenticationElement = elements.create('linkAuthentication', {defaultValues: {email: ''}});
  linkAuthenticationElement.mount('#link-authentication-element');
  linkAuthenticationElement.on('change', (event) => { window.lastEmailChange = event; });

  const addressElement = elements.create('address', {mode: 'shipping', fields: {phone: 'always'}});
  addressElement.mount('#address-element');
  addressElement.on('change', (event) => { window.lastAddressChange = event; });

  // An Element Stripe has and kassa does not: it reports a load error, and the page goes on.
  const messagingElement = elements.create('paymentMethodMessaging', {amount: 1099, currency: 'USD'});
  messagingElement.on('loaderror', (event) => { window.messagingError = event; });
  messagingElement.mount('#messaging-element');

  const paymentElement = elements.create('payment', {layout: 'tabs'});
  paymentElement.on('ready', () => { document.querySelector('#submit').disabled = false; });
  paymentElement.mount('#payment-element');
}

async function handleSubmit(event) {
  event.preventDefault();
  setLoading(true);
  const {error} = await stripe.confirmPayment({
    elements,
    confirmParams: {return_url: `${window.location.origin}/complete`},
  });
  // Reached only on an immediate error: otherwise the customer is redirected to return_url.
  showMessage(error.type === 'card_error' || error.type === 'validation_error'
    ? error.message : 'An unexpected error occurred.');
  window.lastError = error;
  setLoading(false);
}

function showMessage(text) {
  const message = document.querySelector('#payment-message');
  message.hidden = false;
  message.textContent = text;
}

function setLoading(loading) {
  document.querySelector('#submit').disabled = loading;
}
