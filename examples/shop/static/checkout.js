// The checkout, as in Stripe's Amazon Pay guide: mount the Payment Element, confirm on "Pay now".
// The Payment Element offers the methods the intent allows (here Card and Amazon Pay); a card's
// details stay inside kassa's frame.
const form = document.getElementById('payment-form');
const button = document.getElementById('submit');
const message = document.getElementById('payment-message');
const {publishableKey, clientSecret, returnUrl} = form.dataset;

const stripe = Stripe(publishableKey); // kassa.js: the same API as Stripe.js
const elements = stripe.elements({clientSecret, appearance: {theme: 'stripe'}});
const paymentElement = elements.create('payment', {layout: 'tabs'});
paymentElement.on('ready', () => { button.disabled = false; });
paymentElement.mount('#payment-element');

// The Express Checkout Element above it: an Amazon Pay button (Stripe's guide, with the intent
// already made). Its 'confirm' confirms the same intent with Amazon Pay.
const expressCheckoutElement = elements.create('expressCheckout');
expressCheckoutElement.on('ready', ({availablePaymentMethods}) => {
  document.getElementById('express-checkout-element').hidden = !availablePaymentMethods;
});
expressCheckoutElement.on('confirm', async (event) => {
  const {error} = await stripe.confirmPayment({elements, confirmParams: {return_url: returnUrl}});
  if (error) {
    event.paymentFailed({reason: 'fail'});
    message.textContent = error.message;
  }
});
expressCheckoutElement.mount('#express-checkout-element');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  button.disabled = true;
  message.textContent = '';
  const {error} = await stripe.confirmPayment({elements, confirmParams: {return_url: returnUrl}});
  // Reached only when confirming failed (a decline, invalid card details): otherwise the buyer is
  // on their way to the return page, Amazon Pay or the card's authentication.
  message.textContent = error.message;
  button.disabled = false;
});
