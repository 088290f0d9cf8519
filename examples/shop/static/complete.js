// The return page: read the PaymentIntent named in the URL and tell the buyer how it went.
const outcome = document.getElementById('outcome');
const heading = document.getElementById('status-heading');
const detail = document.getElementById('status-detail');
const link = document.getElementById('next-link');
const stripe = Stripe(outcome.dataset.publishableKey);
const clientSecret = new URLSearchParams(location.search).get('payment_intent_client_secret');

function show(title, text, linkText) {
  heading.textContent = title;
  detail.textContent = text;
  link.textContent = linkText;
  link.hidden = false;
}

async function showOutcome() {
  if (!clientSecret) return show('No payment to show', '', 'Back to the shop');
  const {paymentIntent, error} = await stripe.retrievePaymentIntent(clientSecret);
  if (error) return show('Something went wrong', error.message, 'Back to the shop');
  switch (paymentIntent.status) {
    case 'succeeded':
      return show('Payment succeeded', 'Thank you! Your order is on its way.', 'Continue shopping');
    case 'processing':
      return show('Payment processing', 'We will let you know when your payment is confirmed.', 'Back to the shop');
    case 'requires_payment_method':
      return show('Payment failed. Please try another payment method.', '', 'Try again');
    default:
      return show('Something went wrong', `Payment status: ${paymentIntent.status}`, 'Back to the shop');
  }
}

showOutcome();
