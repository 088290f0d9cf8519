/* kassa's Amazon Pay checkout page: starts Amazon's checkout at once with the payload signed by
   kassa for this payment (renderButton, then initCheckout), as Amazon documents its ProcessOrder
   checkout. If Amazon's script did not load, the page says so and offers the way back. */
(function () {
  'use strict';
  var status = document.getElementById('status');
  var unavailable = document.getElementById('unavailable');

  function fail() {
    status.hidden = true;
    unavailable.hidden = false;
    document.getElementById('back').focus();
  }

  var options;
  try {
    options = JSON.parse(document.getElementById('amazon-pay-button').textContent);
  } catch (error) {
    fail();
    return;
  }
  var pay = window.amazon && window.amazon.Pay;
  if (!pay || typeof pay.renderButton !== 'function') {
    fail();
    return;
  }
  try {
    var button = pay.renderButton('#AmazonPayButton', options);
    button.initCheckout({createCheckoutSessionConfig: options.createCheckoutSessionConfig});
  } catch (error) {
    fail();
  }
})();
