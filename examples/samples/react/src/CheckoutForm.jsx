import React from 'react';
import {
  AddressElement, ExpressCheckoutElement, LinkAuthenticationElement, PaymentElement, useElements, useStripe,
} from '@stripe/react-stripe-js';

async function createIntent(quantity) {
  const response = await fetch('/create-intent', {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({quantity}),
  });
  return response.json();
}

export default function CheckoutForm({quantity, setQuantity, unitPrice}) {
  const stripe = useStripe();
  const elements = useElements();
  const [message, setMessage] = React.useState(null);
  const [ready, setReady] = React.useState(false);
  const [loading, setLoading] = React.useState(false);
  const returnUrl = `${window.location.origin}/complete`;

  async function pay() {
    const {error: submitError} = await elements.submit();
    if (submitError) return submitError;
    const {client_secret: clientSecret, error: serverError} = await createIntent(quantity);
    if (serverError) return serverError;
    const {error} = await stripe.confirmPayment({elements, clientSecret, confirmParams: {return_url: returnUrl}});
    return error;
  }

  async function handleSubmit(event) {
    event.preventDefault();
    if (!stripe || !elements) return;
    setLoading(true);
    const error = await pay();
    if (error) setMessage(error.message);
    setLoading(false);
  }

  async function onConfirm(event) {
    const error = await pay();
    if (error) {
      event.paymentFailed({reason: 'fail'});
      setMessage(error.message);
    }
  }

  return (
    <form id="payment-form" onSubmit={handleSubmit}>
      <h1>Checkout</h1>
      <div className="order">
        <label className="quantity" htmlFor="quantity">kassa T-shirt ×
          <select id="quantity" value={quantity} onChange={(event) => setQuantity(Number(event.target.value))}>
            <option value={1}>1</option><option value={2}>2</option><option value={3}>3</option>
          </select>
        </label>
        <strong id="total">${(unitPrice * quantity / 100).toFixed(2)}</strong>
      </div>
      <div id="express-checkout-element">
        <ExpressCheckoutElement onConfirm={onConfirm} />
      </div>
      <h2>Contact info</h2>
      <div id="link-authentication-element"><LinkAuthenticationElement /></div>
      <h2>Shipping</h2>
      <div id="address-element"><AddressElement options={{mode: 'shipping'}} /></div>
      <h2>Payment</h2>
      <div id="payment-element">
        <PaymentElement options={{layout: 'tabs'}} onReady={() => setReady(true)} />
      </div>
      <button id="submit" disabled={!ready || loading || !stripe || !elements}>Pay now</button>
      {message && <div id="payment-message" role="alert">{message}</div>}
    </form>
  );
}
