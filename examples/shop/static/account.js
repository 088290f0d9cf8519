// The returning buyer's page: the Payment Element in setup mode (a SetupIntent's client secret);
// "Save payment method" calls confirmSetup, which comes back to this page once saved.
const form = document.getElementById('setup-form');
const button = document.getElementById('submit');
const message = document.getElementById('setup-message');
const {publishableKey, clientSecret, returnUrl} = form.dataset;

const stripe = Stripe(publishableKey); // kassa.js: the same API as Stripe.js
const elements = stripe.elements({clientSecret, appearance: {theme: 'stripe'}});
const paymentElement = elements.create('payment', {layout: 'tabs'});
paymentElement.on('ready', () => { button.disabled = false; });
paymentElement.mount('#payment-element');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  button.disabled = true;
  message.textContent = '';
  const {error} = await stripe.confirmSetup({elements, confirmParams: {return_url: returnUrl}});
  message.textContent = error.message; // reached only when saving failed
  button.disabled = false;
});
