// Stripe's "collect payment details before creating an intent": the Elements are made with mode,
// amount and currency; the intent is created on the server only once the customer pays.
const stripe = Stripe(document.body.dataset.publishableKey);
const form = document.querySelector('#payment-form');
const unitPrice = Number(form.dataset.unitPrice);
const quantity = document.querySelector('#quantity');
const submitButton = document.querySelector('#submit');

const options = {mode: 'payment', amount: unitPrice, currency: form.dataset.currency, appearance: {theme: 'stripe'}};
const elements = stripe.elements(options);
const addressElement = elements.create('address', {mode: 'billing'});
addressElement.mount('#address-element');
const paymentElement = elements.create('payment');
paymentElement.on('ready', () => { submitButton.disabled = false; });
paymentElement.mount('#payment-element');
window.sample = {stripe, elements};

function showTotal() {
  document.querySelector('#total').textContent = `$${(unitPrice * Number(quantity.value) / 100).toFixed(2)}`;
}
showTotal();

quantity.addEventListener('change', () => {
  showTotal();
  elements.update({amount: unitPrice * Number(quantity.value)}); // what the Elements show and confirm
});

function handleError(error) {
  const message = document.querySelector('#payment-message');
  message.hidden = false;
  message.textContent = error.message;
  window.lastError = error;
  submitButton.disabled = false;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (submitButton.disabled) return;
  submitButton.disabled = true;

  // Validate the form first, before any asynchronous work.
  const {error: submitError} = await elements.submit();
  if (submitError) return handleError(submitError);

  const response = await fetch('/create-intent', {
    method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({quantity: Number(window.serverQuantity || quantity.value)}),
  });
  const {client_secret: clientSecret, error: serverError} = await response.json();
  if (serverError) return handleError(serverError);

  const {error} = await stripe.confirmPayment({
    elements,
    clientSecret,
    confirmParams: {return_url: `${window.location.origin}/complete`},
  });
  if (error) handleError(error); // otherwise the customer is on their way to return_url
});
