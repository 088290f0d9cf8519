"""`kassa listen`: print each event as it happens and forward it, signed, to a local URL.

Like the Stripe CLI's `listen`: it follows the API's events (GET /v1/events, newest after the
last one seen) with a secret key, and POSTs each to --forward-to with a ``Stripe-Signature`` made
with the signing secret of this run, printing the receiver's answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import orjson

from .domain import webhooks
from .domain.ids import random_base62


def _object_id(event: dict) -> str:
    return (event.get("data") or {}).get("object", {}).get("id", "")


class Listener:
    def __init__(self, api_base: str, api_key: str, forward_to: str | None, *, types: list[str] | None = None,
                 secret: str | None = None, echo: Callable[[str], None] = print, poll_seconds: float = 0.25):
        self.api = httpx.Client(base_url=api_base.rstrip("/"), auth=(api_key, ""), timeout=10)
        self.forward = httpx.Client(timeout=10)
        self.forward_to = forward_to
        self.types = types or []
        self.secret = secret or "whsec_" + random_base62(32)
        self.echo = echo
        self.poll_seconds = poll_seconds
        self.last_id: str | None = None

    def start(self) -> None:
        """Begin after the newest existing event: only what happens from now on is shown."""
        page = self._get({"limit": 1})
        self.last_id = page["data"][0]["id"] if page["data"] else None

    def _get(self, params: dict) -> dict:
        response = self.api.get("/v1/events", params=params)
        if response.status_code != 200:
            raise SystemExit(f"kassa answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def poll_once(self) -> int:
        """Show and forward every event since the last one; returns how many."""
        params: dict = {"limit": 100}
        if self.last_id:
            params["ending_before"] = self.last_id
        events = list(reversed(self._get(params)["data"]))  # oldest first
        for event in events:
            self.last_id = event["id"]
            if self.types and not any(webhooks.type_matches(pattern, event["type"]) for pattern in self.types):
                continue
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            self.echo(f"{stamp}   --> {event['type']} [{event['id']}] {_object_id(event)}")
            if self.forward_to:
                self._forward(event, stamp)
        return len(events)

    def _forward(self, event: dict, stamp: str) -> None:
        payload = orjson.dumps(event)
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Stripe-Signature": webhooks.signature_header(self.secret, payload, int(time.time()))}
        try:
            response = self.forward.post(self.forward_to, content=payload, headers=headers)
            self.echo(f"{stamp}  <--  [{response.status_code}] POST {self.forward_to} [{event['id']}]")
        except httpx.HTTPError as error:
            self.echo(f"{stamp}  <--  [ERROR] POST {self.forward_to} [{event['id']}]: {error}")

    def run(self) -> None:
        self.start()
        self.echo(f"Ready! Your webhook signing secret is {self.secret} (^C to quit)")
        while True:
            if self.poll_once() < 100:
                time.sleep(self.poll_seconds)
