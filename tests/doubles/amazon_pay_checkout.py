"""Amazon's side of a ProcessOrder checkout in the local double: the stand-in ``checkout.js``, the
session it creates from the merchant's signed button payload (verified with the merchant's public
key), and Amazon's page where the buyer approves, is declined, or cancels.

:class:`HostedCheckout` is a part of :class:`doubles.amazon_pay_api.AmazonPayDouble`, whose state
(sessions, keys, the buyer's answers, ``authorization``) it uses.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kassa.methods.amazon_pay import signing

from .amazon_pay_wire import ALLOWED, ApiError, _fields, _setup_only, _status


class HostedCheckout:
    """checkout.js, the session it starts, and the buyer on Amazon's page."""

    def _return_url(self, session_id: str) -> str:
        parts = urlsplit(self.sessions[session_id]["webCheckoutDetails"]["checkoutResultReturnUrl"])
        query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), ("amazonCheckoutSessionId", session_id)])
        return urlunsplit(parts._replace(query=query))

    def _open(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        if session["statusDetails"]["state"] != "Open" or session_id in self._buyer:
            raise ValueError(f"checkout session {session_id} is not waiting for the buyer")
        return session

    def approve(self, session_id: str) -> str:
        """The buyer approves on Amazon's page; ``authorization`` says what Amazon makes of it. A
        decline is told on the page (the session is canceled); otherwise Amazon authorizes when the
        merchant completes the session. No notification goes out for a synchronous outcome.
        Returns where the buyer goes."""
        with self._lock:
            self._open(session_id)
            if self.authorization == "decline":
                return self.decline(session_id, self.decline_reason)
            pending = self.authorization == "async" and not _setup_only(self.sessions[session_id])
            self._buyer[session_id] = "async" if pending else "approve"
            return self._return_url(session_id)

    def decline(self, session_id: str, reason: str = "HardDeclined") -> str:
        """Amazon refuses the buyer's payment method on its page: the session is canceled (with the
        declined Charge of a payment; a setup has none)."""
        with self._lock:
            session = self._open(session_id)
            self._buyer[session_id] = "decline"
            if _setup_only(session):
                session["statusDetails"] = _status("Canceled", "Declined", reason)
            else:
                charge = self._new_charge(session, _status("Declined", reason))
                session.update(chargeId=charge["chargeId"], statusDetails=_status("Canceled", "Declined"))
            return self._return_url(session_id)

    def buyer_cancel(self, session_id: str) -> str:
        """The buyer cancels on Amazon's page: back to ``checkoutCancelUrl`` (or the result URL)."""
        with self._lock:
            session = self._open(session_id)
            self._buyer[session_id] = "cancel"
            session["statusDetails"] = _status("Canceled", "BuyerCanceled")
            return session["webCheckoutDetails"].get("checkoutCancelUrl") or self._return_url(session_id)

    async def _script(self, request: Request) -> Response:
        """The stand-in for Amazon's checkout.js: renderButton and initCheckout, which send the
        buyer (and the button's signed payload) to the double."""
        return Response(CHECKOUT_JS.replace("__DOUBLE__", self.base_url), media_type="text/javascript")

    async def _start(self, request: Request) -> Response:
        """What checkout.js does when checkout starts: Amazon checks the button, verifies the
        payload's signature with the merchant's public key, and creates the session."""
        query = request.query_params
        try:
            session = self.start_checkout(query.get("payloadJSON", ""), query.get("signature", ""),
                                          query.get("publicKeyId", ""), query.get("algorithm", ""),
                                          merchant_id=query.get("merchantId", ""),
                                          ledger_currency=query.get("ledgerCurrency", ""),
                                          sandbox=query.get("sandbox") == "true",
                                          product_type=query.get("productType", ""))
        except ApiError as error:
            return HTMLResponse(f"<h1>Amazon Pay (double)</h1><p id='error'>{html.escape(error.reason_code)}: "
                                f"{html.escape(error.message)}</p>", status_code=error.status)
        return RedirectResponse(f"/checkout?amazonCheckoutSessionId={session['checkoutSessionId']}", status_code=303)

    def start_checkout(self, payload_json: str, signature: str, public_key_id: str, algorithm: str, *,
                       merchant_id: str, ledger_currency: str, sandbox: bool, product_type: str) -> dict[str, Any]:
        if public_key_id not in self.public_keys:
            raise ApiError(401, "UnauthorizedAccess", "The public key id is not known.")
        if algorithm not in signing.SALT_LENGTHS:
            raise ApiError(400, "InvalidParameterValue", "algorithm is invalid.")
        if not signing.verify(self.public_keys[public_key_id], signing.button_string_to_sign(algorithm, payload_json),
                              signature, algorithm):
            raise ApiError(403, "InvalidRequestSignature", "The button payload's signature does not match.")
        if merchant_id != self.merchant_id or sandbox != self.sandbox:
            raise ApiError(400, "InvalidParameterValue", "merchantId or sandbox does not match the account.")
        if ledger_currency != LEDGERS[self.region] and not (self.region == "eu" and ledger_currency == "GBP"):
            raise ApiError(400, "InvalidParameterValue", "ledgerCurrency is not the merchant's ledger currency.")
        if product_type not in ("PayOnly", "PayAndShip"):
            raise ApiError(400, "InvalidParameterValue", "productType must be PayOnly or PayAndShip here.")
        try:
            data = json.loads(payload_json)
        except ValueError:
            raise ApiError(400, "InvalidRequestFormat", "payloadJSON is not JSON.") from None
        _fields(data, ALLOWED["create"], "")
        web = _fields(data.get("webCheckoutDetails", {}), ALLOWED["webCheckoutDetails"], "webCheckoutDetails.")
        if web.get("checkoutMode") != "ProcessOrder":
            raise ApiError(400, "InvalidParameterValue", "This button starts ProcessOrder checkouts only.")
        if product_type == "PayAndShip" and not data.get("addressDetails"):
            raise ApiError(400, "MissingParameterValue", "addressDetails is required for PayAndShip.")
        if product_type == "PayOnly" and data.get("addressDetails"):
            raise ApiError(400, "InvalidParameterValue", "Providing addressDetails for digital goods "
                           "transactions will result in an error.")
        with self._lock:
            session = self._new_session(data, web, mode="ProcessOrder")
            self.checkouts.append(session["checkoutSessionId"])
            return session

    async def _page(self, request: Request) -> HTMLResponse:
        session_id = request.query_params.get("amazonCheckoutSessionId", "")
        if session_id not in self.sessions:
            return HTMLResponse("<p>No such checkout session.</p>", status_code=404)
        price = self.sessions[session_id]["paymentDetails"]["chargeAmount"]
        sid = html.escape(session_id)
        form = '<form method="post" action="/checkout/{0}"><input type="hidden" name="session" value="{1}">' \
               '<button>{2}</button></form>'
        if price is None:  # a saved-wallet setup: nothing to pay
            return HTMLResponse("<h1>Amazon Pay (double)</h1><p>Save Amazon Pay for future payments</p>"
                                + form.format("approve", sid, "Save") + form.format("cancel", sid, "Cancel"))
        return HTMLResponse(f"<h1>Amazon Pay (double)</h1><p>{html.escape(price['amount'])} "
                            f"{html.escape(price['currencyCode'])}</p>"
                            + form.format("approve", sid, "Pay now") + form.format("cancel", sid, "Cancel"))

    async def _answer(self, request: Request) -> RedirectResponse | HTMLResponse:
        session_id = dict(parse_qsl((await request.body()).decode("utf-8", "replace"))).get("session", "")
        answer = request.path_params["answer"]
        if session_id not in self.sessions or answer not in ("approve", "cancel"):
            return HTMLResponse("<p>No such checkout session.</p>", status_code=404)
        try:
            target = self.approve(session_id) if answer == "approve" else self.buyer_cancel(session_id)
        except ValueError as error:
            return HTMLResponse(f"<p>{html.escape(str(error))}</p>", status_code=409)
        return RedirectResponse(target, status_code=303)


LEDGERS = {"na": "USD", "eu": "EUR", "jp": "JPY"}

# The stand-in checkout.js: the calls Amazon documents, sending the buyer to the double's page.
CHECKOUT_JS = """(function () {
  'use strict';
  var base = '__DOUBLE__';
  function renderButton(selector, options) {
    var container = document.querySelector(selector);
    if (!container) { throw new Error('amazon.Pay.renderButton: no element ' + selector); }
    if (!options || !options.merchantId || !options.ledgerCurrency) {
      throw new Error('amazon.Pay.renderButton: merchantId and ledgerCurrency are required');
    }
    function initCheckout(config) {
      var checkout = (config && config.createCheckoutSessionConfig) || options.createCheckoutSessionConfig;
      if (!checkout || !checkout.payloadJSON || !checkout.signature || !checkout.publicKeyId) {
        throw new Error('initCheckout: createCheckoutSessionConfig is required');
      }
      var query = new URLSearchParams({
        payloadJSON: checkout.payloadJSON, signature: checkout.signature, publicKeyId: checkout.publicKeyId,
        algorithm: checkout.algorithm || 'AMZN-PAY-RSASSA-PSS', merchantId: options.merchantId,
        ledgerCurrency: options.ledgerCurrency, sandbox: String(!!options.sandbox),
        productType: options.productType || 'PayAndShip'});
      window.location.assign(base + '/checkout/start?' + query.toString());
    }
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Amazon Pay';
    button.addEventListener('click', function () { initCheckout({}); });
    container.appendChild(button);
    return {initCheckout: initCheckout, onClick: function (handler) {
      button.addEventListener('click', handler); }};
  }
  window.amazon = {Pay: {renderButton: renderButton}};
})();
"""
