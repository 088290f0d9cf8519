  /* What the page gets (part of kassa.js, see client.js): window.Kassa, and window.Stripe. */
  Kassa.version = '1';
  Kassa.IntegrationError = IntegrationError;
  window.Kassa = Kassa;
  window.Stripe = Kassa; // code written for Stripe.js runs unchanged
