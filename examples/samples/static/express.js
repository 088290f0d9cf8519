// Stripe's Express Checkout Element guide, deferred: the Elements know the amount; on 'confirm'
// the page submits, asks its server for the intent and confirms it.
const stripe = Stripe(document.body.dataset.publishableKey);
const checkout = document.querySelector('#checkout');
const elements = stripe.elements({
  mode: 'payment', amount: Number(checkout.dataset.unitPrice), currency: checkout.dataset.currency,
});
const expressCheckoutElement = elements.create('expressCheckout', {buttonHeight: 48});
window.sample = {stripe, elements, events: []};

expressCheckoutElement.on('ready', ({availablePaymentMethods}) => {
  window.sample.events.push({type: 'ready', availablePaymentMethods});
  if (!availablePaymentMethods) document.querySelector('#express-checkout-element').hidden = true;
});
expressCheckoutElement.on('click', (event) => {
  window.sample.events.push({type: 'click', expressPaymentType: event.expressPaymentType});
  if (window.rejectClick) return event.reject();
  event.resolve({emailRequired: true});
});
expressCheckoutElement.on('cancel', () => { window.sample.events.push({type: 'cancel'}); });
expressCheckoutElement.on('confirm', async (event) => {
  window.sample.events.push({type: 'confirm', expressPaymentType: event.expressPaymentType});
  const {error: submitError} = await elements.submit();
  if (submitError) return showError(submitError);

  const response = await fetch('/create-intent', {
    method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({quantity: window.serverQuantity || 1}),
  });
  const {client_secret: clientSecret} = await response.json();
  const {error} = await stripe.confirmPayment({
    elements,
    clientSecret,
    confirmParams: {
      return_url: `${window.location.origin}/complete`,
      receipt_email: 'buyer@example.com',
      shipping: {name: 'Mary Jackson', address: {line1: '5 Rue de Rivoli', city: 'Paris', postal_code: '75001',
                                                 country: 'FR'}},
      payment_method_data: {billing_details: {name: 'Mary Jackson', email: 'buyer@example.com'}},
    },
  });
  if (error) {
    event.paymentFailed({reason: 'fail'});
    showError(error);
  }
});
expressCheckoutElement.mount('#express-checkout-element');

function showError(error) {
  window.lastError = error;
  document.querySelector('#error-message').textContent = error.message;
}
