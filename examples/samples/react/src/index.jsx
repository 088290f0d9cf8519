import React from 'react';
import {createRoot} from 'react-dom/client';
import {loadStripe} from '@stripe/stripe-js';
import {Elements} from '@stripe/react-stripe-js';
import CheckoutForm from './CheckoutForm.jsx';

const UNIT_PRICE = 1099;
// Stripe's React guide: load Stripe.js once, outside of any component's render.
const stripePromise = loadStripe(document.body.dataset.publishableKey);

function App() {
  const [quantity, setQuantity] = React.useState(1);
  const options = {mode: 'payment', amount: UNIT_PRICE * quantity, currency: 'usd', appearance: {theme: 'stripe'}};
  return (
    <Elements stripe={stripePromise} options={options}>
      <CheckoutForm quantity={quantity} setQuantity={setQuantity} unitPrice={UNIT_PRICE} />
    </Elements>
  );
}

createRoot(document.getElementById('root')).render(<App />);
