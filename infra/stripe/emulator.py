#!/usr/bin/env python3
"""A small local Stripe for the endpoints Steward uses, because no Stripe emulator can be installed
here. It speaks Stripe's wire protocol (form-encoded requests with bracketed keys, JSON objects,
`Idempotency-Key`, error bodies) and delivers webhooks signed exactly as Stripe signs them
(`Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of "<t>.<payload>">`), retrying failed deliveries.

Endpoints: customers (create, retrieve, delete); payment intents (create, retrieve, confirm); refunds; subscriptions (create
with `payment_behavior=default_incomplete`, retrieve, cancel); invoices (retrieve). Test cards:
4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, 4000 0025 0000 3155 requires
authentication (approve or fail it at /_emulator/payment_intents/<id>/authenticate). Payment methods
`pm_card_visa`, `pm_card_chargeDeclined` and `pm_card_authenticationRequired` work too.

Emulator-only endpoints (under /_emulator): trigger any event by type (like `stripe trigger`), list
and resend events, renew a subscription (paid or declined), and simulate an outage.

    python infra/stripe/emulator.py serve --port 12111 --webhook http://127.0.0.1:3000/webhooks/stripe
    python infra/stripe/emulator.py trigger payment_intent.succeeded --emulator http://127.0.0.1:12111
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import re
import secrets
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.request
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

API_VERSION = "2026-09-30.endive"
ROOT = Path(__file__).resolve().parents[2]
CARDS = {
    "4242424242424242": "succeed",
    "4000000000000002": "decline",
    "4000002500003155": "authenticate",
}
PAYMENT_METHODS = {
    "pm_card_visa": "succeed",
    "pm_card_chargeDeclined": "decline",
    "pm_card_authenticationRequired": "authenticate",
}


class StripeError(Exception):
    def __init__(self, status: int, type_: str, message: str, code: str | None = None, **extra):
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **({"code": code} if code else {}), **extra}}


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def parse_form(body: str) -> dict:
    """Stripe's form encoding: a[b]=1, a[]=x, a[0][c]=2 -> nested dicts and lists."""
    root: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = _split_key(key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                node.setdefault("__list__", []).append(value)
                break
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)


def _split_key(key: str) -> list[str]:
    """`items[0][price]` -> ["items", "0", "price"]; `expand[]` -> ["expand", ""]."""
    head, _, rest = key.partition("[")
    return [head] + re.findall(r"\[([^\]]*)\]", "[" + rest) if rest else [head]


def _listify(node):
    if isinstance(node, dict):
        if "__list__" in node and len(node) == 1:
            return node["__list__"]
        if node and all(k.isdigit() for k in node):
            return [_listify(node[k]) for k in sorted(node, key=int)]
        return {k: _listify(v) for k, v in node.items()}
    return node


def truthy(value) -> bool:
    return str(value).lower() in ("true", "1", "yes")


class Emulator:
    def __init__(self, webhook_url: str | None, webhook_secret: str, catalogue: Path | None = None):
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.lock = threading.RLock()
        self.objects: dict[str, dict] = {}
        self.events: list[dict] = []
        self.deliveries: dict[str, list[int]] = defaultdict(list)
        self.idempotency: dict[tuple[str, str], tuple[str, int, dict]] = {}
        self.outage_requests = 0
        self.outage_match = ""
        # Webhooks of events whose JSON contains this text are not delivered (as if the endpoint
        # were down for them): what `steward-admin replay-stripe` recovers from.
        self.undeliverable_match = ""
        # Like a Stripe test clock: renewing a subscription moves the emulator's time to the end of
        # the period, so later objects and events are dated after earlier ones.
        self.clock_offset = 0
        self.stopping = False
        self.prices: dict[str, dict] = {}
        if catalogue and catalogue.exists():
            plans = tomllib.loads(catalogue.read_text()).get("plans", {})
            for plan_id, plan in plans.items():
                self.prices[plan["stripe_price_id"]] = self._price(plan["stripe_price_id"], plan, plan_id)

    # --- objects ---------------------------------------------------------------------------

    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    def _price(self, price_id: str, plan: dict, plan_id: str) -> dict:
        now = self.now()
        product = {
            "id": f"prod_{plan_id.replace('-', '_')}", "object": "product", "active": True, "created": now,
            "images": [], "livemode": False, "marketing_features": [], "metadata": {}, "name": plan["title"],
            "type": "service", "updated": now,
        }
        return {
            "id": price_id, "object": "price", "active": True, "billing_scheme": "per_unit", "created": now,
            "currency": plan["currency"], "livemode": False, "metadata": {}, "product": product,
            "recurring": {"interval": plan["interval"], "interval_count": 1, "usage_type": "licensed"},
            "type": "recurring", "unit_amount": plan["amount"],
        }

    def get(self, object_id: str, kind: str) -> dict:
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise StripeError(404, "invalid_request_error", f"No such {kind}: '{object_id}'", "resource_missing")
        return obj

    def create_customer(self, params: dict) -> dict:
        customer = {
            "id": new_id("cus"), "object": "customer", "created": self.now(), "livemode": False,
            "email": params.get("email"), "name": params.get("name"), "metadata": params.get("metadata", {}),
            "delinquent": False, "preferred_locales": [], "invoice_prefix": secrets.token_hex(4).upper(),
        }
        self.objects[customer["id"]] = customer
        return customer

    def customer_for(self, customer_id: str, param: str = "customer") -> dict:
        """A customer a new object is for: Stripe refuses a missing or deleted one as a bad
        parameter (400), where retrieving it answers 404 or the deleted stub."""
        customer = self.objects.get(customer_id)
        if customer is None or customer["object"] != "customer" or customer.get("deleted"):
            raise StripeError(400, "invalid_request_error", f"No such customer: '{customer_id}'", "resource_missing", param=param)
        return customer

    def delete_customer(self, customer_id: str) -> dict:
        """As Stripe deletes a customer: its subscriptions still running are cancelled at once
        (each a customer.subscription.deleted), then customer.deleted; afterwards the customer
        reads as the deleted stub, and deleting it again is a 404."""
        customer = self.get(customer_id, "customer")
        if customer.get("deleted"):
            raise StripeError(404, "invalid_request_error", f"No such customer: '{customer_id}'", "resource_missing")
        running = [
            obj for obj in list(self.objects.values())
            if obj["object"] == "subscription" and obj["customer"] == customer_id
            and obj["status"] in ("active", "trialing", "past_due", "incomplete")
        ]
        for subscription in running:
            self.cancel(subscription)
        self.emit("customer.deleted", customer)
        stub = {"id": customer_id, "object": "customer", "deleted": True}
        self.objects[customer_id] = stub
        return stub

    def create_payment_intent(self, params: dict, invoice: str | None = None) -> dict:
        try:
            amount = int(params["amount"])
        except (KeyError, ValueError):
            raise StripeError(400, "invalid_request_error", "Missing required param: amount.", "parameter_missing", param="amount")
        if amount < 50:
            raise StripeError(400, "invalid_request_error", "Amount must be at least 50 cents", "amount_too_small", param="amount")
        if "currency" not in params:
            raise StripeError(400, "invalid_request_error", "Missing required param: currency.", "parameter_missing", param="currency")
        if params.get("customer"):
            self.customer_for(params["customer"])
        pi_id = new_id("pi")
        intent = {
            "id": pi_id, "object": "payment_intent", "amount": amount, "amount_capturable": 0, "amount_received": 0,
            "automatic_payment_methods": {"enabled": True} if truthy(params.get("automatic_payment_methods", {}).get("enabled")) else None,
            "capture_method": "automatic", "client_secret": f"{pi_id}_secret_{secrets.token_hex(12)}",
            "confirmation_method": "automatic", "created": self.now(), "currency": params["currency"].lower(),
            "customer": params.get("customer"), "livemode": False, "metadata": params.get("metadata", {}),
            "payment_method_types": ["card"], "status": "requires_payment_method", "latest_charge": None,
            "last_payment_error": None, "next_action": None, "invoice": invoice,
        }
        self.objects[pi_id] = intent
        return intent

    def confirm(self, intent: dict, params: dict) -> dict:
        if intent["status"] == "succeeded":
            raise StripeError(400, "invalid_request_error", "This PaymentIntent has already succeeded.", "payment_intent_unexpected_state")
        card = params.get("payment_method_data", {}).get("card", {}).get("number", "")
        outcome = CARDS.get(card.replace(" ", "")) or PAYMENT_METHODS.get(params.get("payment_method", ""))
        if outcome is None:
            raise StripeError(402, "card_error", "Your card number is incorrect.", "incorrect_number")
        if outcome == "authenticate":
            intent["status"] = "requires_action"
            intent["next_action"] = {
                "type": "redirect_to_url",
                # The local stack's bank page (infra/local/steward_local/gateway.py), on the site's
                # own origin as Stripe's hosted page is on Stripe's.
                "redirect_to_url": {"url": f"/_local/stripe/authenticate/{intent['id']}?{urlencode({'return_url': params.get('return_url') or '/'})}", "return_url": params.get("return_url")},
            }
            self.emit("payment_intent.requires_action", intent)
            return intent
        return self._settle(intent, outcome == "succeed")

    def _settle(self, intent: dict, success: bool) -> dict:
        intent["next_action"] = None
        invoice = self.objects.get(intent.get("invoice") or "")
        if success:
            charge = {
                "id": new_id("ch"), "object": "charge", "amount": intent["amount"], "amount_captured": intent["amount"],
                "amount_refunded": 0, "captured": True, "created": self.now(), "currency": intent["currency"],
                "customer": intent["customer"], "livemode": False, "metadata": dict(intent["metadata"]), "paid": True,
                "payment_intent": intent["id"], "refunded": False, "status": "succeeded", "disputed": False,
                "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
            }
            self.objects[charge["id"]] = charge
            intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=charge["id"], last_payment_error=None)
            self.emit("charge.succeeded", charge)
            self.emit("payment_intent.succeeded", intent)
            if invoice:
                self._invoice_paid(invoice)
        else:
            intent.update(
                status="requires_payment_method",
                last_payment_error={"type": "card_error", "code": "card_declined", "decline_code": "generic_decline", "message": "Your card was declined."},
            )
            self.emit("payment_intent.payment_failed", intent)
            if invoice:
                self._invoice_failed(invoice)
        return intent

    def refund(self, params: dict) -> dict:
        intent = self.get(params.get("payment_intent", ""), "payment_intent")
        if intent["status"] != "succeeded":
            raise StripeError(400, "invalid_request_error", "This PaymentIntent has no successful charge to refund.", "charge_not_refundable")
        charge = self.objects[intent["latest_charge"]]
        amount = int(params.get("amount", charge["amount"] - charge["amount_refunded"]))
        if amount <= 0 or charge["amount_refunded"] + amount > charge["amount"]:
            raise StripeError(400, "invalid_request_error", "Refund amount is greater than unrefunded amount.", "amount_too_large")
        refund = {
            "id": new_id("re"), "object": "refund", "amount": amount, "charge": charge["id"], "created": self.now(),
            "currency": charge["currency"], "metadata": params.get("metadata", {}), "payment_intent": intent["id"],
            "reason": params.get("reason"), "status": "succeeded",
        }
        self.objects[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self.emit("refund.created", refund)
        self.emit("charge.refunded", charge)
        return refund

    def dispute(self, intent: dict) -> dict:
        charge = self.objects[intent["latest_charge"]]
        charge["disputed"] = True
        dispute = {
            "id": new_id("dp"), "object": "dispute", "amount": charge["amount"], "charge": charge["id"],
            "created": self.now(), "currency": charge["currency"], "payment_intent": intent["id"],
            "reason": "fraudulent", "status": "needs_response", "livemode": False, "metadata": {},
        }
        self.objects[dispute["id"]] = dispute
        self.emit("charge.dispute.created", dispute)
        return dispute

    # --- subscriptions and invoices --------------------------------------------------------

    def create_subscription(self, params: dict) -> dict:
        customer = self.customer_for(params.get("customer", ""))
        items = params.get("items") or []
        if not items or items[0].get("price") not in self.prices:
            raise StripeError(400, "invalid_request_error", f"No such price: '{(items or [{}])[0].get('price')}'", "resource_missing", param="items[0][price]")
        price = self.prices[items[0]["price"]]
        now = self.now()
        sub_id = new_id("sub")
        period = 365 * 86400 if price["recurring"]["interval"] == "year" else 30 * 86400
        item = {
            "id": new_id("si"), "object": "subscription_item", "created": now, "current_period_start": now,
            "current_period_end": now + period, "discounts": [], "metadata": {}, "price": price, "quantity": 1,
            "subscription": sub_id,
            "plan": {
                "id": price["id"], "object": "plan", "active": True, "amount": price["unit_amount"], "billing_scheme": "per_unit",
                "created": price["created"], "currency": price["currency"], "interval": price["recurring"]["interval"],
                "interval_count": 1, "livemode": False, "usage_type": "licensed", "product": price["product"]["id"],
            },
        }
        subscription = {
            "id": sub_id, "object": "subscription", "automatic_tax": {"enabled": False}, "billing_cycle_anchor": now,
            "billing_mode": {"type": "classic"}, "billing_schedules": [], "cancel_at_period_end": False,
            "collection_method": "charge_automatically", "created": now, "currency": price["currency"],
            "customer": customer["id"], "discounts": [], "invoice_settings": {"issuer": {"type": "self"}},
            "items": {"object": "list", "data": [item], "has_more": False, "url": f"/v1/subscription_items?subscription={sub_id}"},
            "livemode": False, "metadata": params.get("metadata", {}), "start_date": now, "status": "incomplete",
            "latest_invoice": None,
        }
        self.objects[sub_id] = subscription
        invoice = self._new_invoice(subscription, price)
        subscription["latest_invoice"] = invoice["id"]
        self.emit("customer.subscription.created", subscription)
        return subscription

    def _new_invoice(self, subscription: dict, price: dict) -> dict:
        now = self.now()
        invoice_id = new_id("in")
        amount = price["unit_amount"]
        intent = self.create_payment_intent(
            {"amount": amount, "currency": price["currency"], "customer": subscription["customer"], "metadata": {}},
            invoice=invoice_id,
        )
        invoice = {
            "id": invoice_id, "object": "invoice", "amount_due": amount, "amount_overpaid": 0, "amount_paid": 0,
            "amount_remaining": amount, "amount_shipping": 0, "attempt_count": 0, "attempted": False,
            "automatic_tax": {"enabled": False}, "collection_method": "charge_automatically", "created": now,
            "currency": price["currency"], "customer": subscription["customer"], "default_tax_rates": [], "discounts": [],
            "issuer": {"type": "self"}, "livemode": False, "metadata": {},
            "lines": {"object": "list", "has_more": False, "url": f"/v1/invoices/{invoice_id}/lines", "data": [{
                "id": new_id("il"), "object": "line_item", "amount": amount, "currency": price["currency"], "discountable": True,
                "discounts": [], "livemode": False, "metadata": {}, "period": {"start": now, "end": now + 30 * 86400}, "subtotal": amount,
            }]},
            "payment_settings": {}, "period_end": now, "period_start": now, "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0, "starting_balance": 0, "status": "open", "status_transitions": {},
            "subtotal": amount, "total": amount,
            "confirmation_secret": {"client_secret": intent["client_secret"], "type": "payment_intent"},
            "parent": {"type": "subscription_details", "subscription_details": {"subscription": subscription["id"], "metadata": dict(subscription["metadata"])}},
            "subscription": subscription["id"], "_payment_intent": intent["id"],
        }
        self.objects[invoice_id] = invoice
        return invoice

    def _invoice_paid(self, invoice: dict) -> None:
        invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0, attempted=True, attempt_count=invoice["attempt_count"] + 1)
        subscription = self.objects[invoice["subscription"]]
        self.emit("invoice.paid", invoice)
        if subscription["status"] != "active":
            subscription["status"] = "active"
            self.emit("customer.subscription.updated", subscription)

    def _invoice_failed(self, invoice: dict) -> None:
        invoice.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
        subscription = self.objects[invoice["subscription"]]
        self.emit("invoice.payment_failed", invoice)
        if subscription["status"] == "active":
            subscription["status"] = "past_due"
            self.emit("customer.subscription.updated", subscription)

    def renew(self, subscription: dict, success: bool) -> dict:
        item = subscription["items"]["data"][0]
        self.clock_offset += max(1, item["current_period_end"] - self.now())
        item["current_period_start"], item["current_period_end"] = item["current_period_end"], item["current_period_end"] + (item["current_period_end"] - item["current_period_start"])
        price = item["price"]
        invoice = self._new_invoice(subscription, price)
        subscription["latest_invoice"] = invoice["id"]
        self._settle(self.objects[invoice["_payment_intent"]], success)
        return invoice

    def cancel(self, subscription: dict) -> dict:
        subscription.update(status="canceled", canceled_at=self.now(), ended_at=self.now())
        self.emit("customer.subscription.deleted", subscription)
        return subscription

    def render(self, obj: dict, expand: list[str]) -> dict:
        """A copy for the wire: private fields dropped, requested expansions done."""
        out = {k: v for k, v in obj.items() if not k.startswith("_")}
        for path in expand:
            head, _, rest = path.partition(".")
            if isinstance(out.get(head), str) and out[head] in self.objects:
                out[head] = self.render(self.objects[out[head]], [rest] if rest else [])
        return out

    # --- webhooks --------------------------------------------------------------------------

    def list_events(self, params: dict) -> dict:
        """GET /v1/events: newest first, filtered by `created[gt|gte|lt|lte]` and `type`, paged by
        `starting_after` and `limit` (1-100, default 10), as Stripe lists them."""
        created = params.get("created")
        bounds = created if isinstance(created, dict) else ({"eq": created} if created is not None else {})
        tests = {"gt": lambda c, v: c > v, "gte": lambda c, v: c >= v, "lt": lambda c, v: c < v,
                 "lte": lambda c, v: c <= v, "eq": lambda c, v: c == v}
        unknown = [op for op in bounds if op not in tests]
        if unknown:
            raise StripeError(400, "invalid_request_error", f"Received unknown parameter: created[{unknown[0]}]", param="created")
        try:
            limit = int(params.get("limit", 10))
            bounds = {op: int(value) for op, value in bounds.items()}
        except ValueError:
            raise StripeError(400, "invalid_request_error", "Invalid integer", param="limit") from None
        if not 1 <= limit <= 100:
            raise StripeError(400, "invalid_request_error", "limit must be between 1 and 100", param="limit")
        with self.lock:
            events = [e for e in reversed(self.events) if all(tests[op](e["created"], v) for op, v in bounds.items())]
        if params.get("type"):
            events = [e for e in events if e["type"] == params["type"]]
        if after := params.get("starting_after"):
            ids = [e["id"] for e in events]
            if after not in ids:
                raise StripeError(400, "invalid_request_error", f"No such event: '{after}'", "resource_missing", param="starting_after")
            events = events[ids.index(after) + 1:]
        return {"object": "list", "url": "/v1/events", "has_more": len(events) > limit, "data": events[:limit]}

    def emit(self, event_type: str, obj: dict) -> dict:
        event = {
            "id": new_id("evt"), "object": "event", "api_version": API_VERSION, "created": self.now(),
            "data": {"object": self.render(obj, [])}, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": event_type,
        }
        with self.lock:
            self.events.append(event)
        threading.Thread(target=self._deliver_with_retries, args=(event,), daemon=True).start()
        return event

    def sign(self, payload: bytes, timestamp: int | None = None) -> str:
        # The signature is dated by the wall clock, as Stripe signs at delivery time.
        timestamp = int(time.time()) if timestamp is None else timestamp
        signed = f"{timestamp}.".encode() + payload
        signature = hmac.new(self.webhook_secret.encode(), signed, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={signature}"

    def deliver(self, event: dict) -> int:
        if not self.webhook_url:
            return 0
        payload = json.dumps(event, indent=2).encode()
        if self.undeliverable_match and self.undeliverable_match.encode() in payload:
            with self.lock:
                self.deliveries[event["id"]].append(503)
            return 503
        request = urllib.request.Request(
            self.webhook_url, data=payload, method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": self.sign(payload), "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as err:
            status = err.code
        except OSError:
            status = 0
        with self.lock:
            self.deliveries[event["id"]].append(status)
        return status

    def _deliver_with_retries(self, event: dict) -> None:
        # Like Stripe, deliveries are concurrent and unordered, and a failed one is retried with
        # backoff (0.5 s, 1 s, 2 s, ... six attempts here; Stripe keeps trying for three days).
        for attempt in range(6):
            if self.stopping or 200 <= self.deliver(event) < 300:
                return
            time.sleep(0.5 * 2**attempt)

    def trigger(self, event_type: str, overrides: dict) -> dict:
        """Like `stripe trigger`: makes the objects the event is about, then the event."""
        metadata = overrides.get("metadata", {})
        customer = self.create_customer({"metadata": {}})
        if event_type.startswith("payment_intent.") or event_type.startswith("charge."):
            intent = self.create_payment_intent({"amount": overrides.get("amount", 2000), "currency": overrides.get("currency", "usd"), "customer": customer["id"], "metadata": metadata})
            if event_type == "payment_intent.payment_failed":
                return self._settle(intent, False)
            self._settle(intent, True)
            if event_type == "charge.refunded":
                self.refund({"payment_intent": intent["id"]})
            if event_type == "charge.dispute.created":
                self.dispute(intent)
            return intent
        if event_type.startswith("customer.subscription.") or event_type.startswith("invoice."):
            price = next(iter(self.prices))
            subscription = self.create_subscription({"customer": customer["id"], "items": [{"price": price}], "metadata": metadata})
            invoice = self.objects[subscription["latest_invoice"]]
            self._settle(self.objects[invoice["_payment_intent"]], event_type != "invoice.payment_failed")
            if event_type == "customer.subscription.deleted":
                self.cancel(subscription)
            return subscription
        return self.emit(event_type, {"id": new_id("obj"), "object": event_type.split(".")[0], **overrides})


def make_handler(emulator: Emulator):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "steward-stripe-emulator"

        def log_message(self, *args):
            pass

        def _send(self, status: int, body: dict, headers: dict | None = None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Stripe-Version", API_VERSION)
            self.send_header("Request-Id", new_id("req"))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _params(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            query = urlsplit(self.path).query
            if self.headers.get("Content-Type", "").startswith("application/json"):
                return json.loads(raw or "{}")
            return parse_form("&".join(p for p in (raw, query) if p))

        def _auth(self, allow_publishable: bool, params: dict) -> None:
            auth = self.headers.get("Authorization", "")
            key = auth[7:] if auth.startswith("Bearer ") else params.get("key", "")
            if key.startswith("sk_test_") or (allow_publishable and key.startswith("pk_test_")):
                return
            raise StripeError(401, "invalid_request_error", "Invalid API Key provided.", "api_key_invalid")

        def _handle(self):
            path = urlsplit(self.path).path
            try:
                params = self._params()
                if path.startswith("/_emulator/"):
                    return self._send(200, self._emulator(path, params))
                with emulator.lock:
                    affected = emulator.outage_match in (self.headers.get("Idempotency-Key") or "")
                    if emulator.outage_requests > 0 and affected:
                        emulator.outage_requests -= 1
                        raise StripeError(500, "api_error", "An unknown error occurred (emulated outage).")
                confirm = re.fullmatch(r"/v1/payment_intents/([^/]+)/confirm", path)
                self._auth(allow_publishable=bool(confirm), params=params)
                key = self.headers.get("Idempotency-Key")
                if key and self.command == "POST":
                    with emulator.lock:
                        cached = emulator.idempotency.get((key, path))
                    if cached:
                        if cached[0] != json.dumps(params, sort_keys=True):
                            raise StripeError(400, "idempotency_error", "Keys for idempotent requests can only be used with the same parameters they were first used with.")
                        return self._send(cached[1], cached[2], {"Idempotent-Replayed": "true"})
                with emulator.lock:
                    status, body = 200, self._api(path, params, confirm)
                    if key and self.command == "POST":
                        emulator.idempotency[(key, path)] = (json.dumps(params, sort_keys=True), status, body)
                self._send(status, body)
            except StripeError as err:
                self._send(err.status, err.body)
            except (ValueError, KeyError, TypeError) as err:
                self._send(400, {"error": {"type": "invalid_request_error", "message": f"Invalid request: {err}"}})

        def _api(self, path: str, params: dict, confirm) -> dict:
            expand = params.get("expand", [])
            expand = expand if isinstance(expand, list) else [expand]
            m = lambda pattern: re.fullmatch(pattern, path)  # noqa: E731
            if self.command == "POST" and path == "/v1/customers":
                return emulator.render(emulator.create_customer(params), expand)
            if self.command == "GET" and (g := m(r"/v1/customers/([^/]+)")):
                return emulator.render(emulator.get(g[1], "customer"), expand)
            if self.command == "DELETE" and (g := m(r"/v1/customers/([^/]+)")):
                return emulator.delete_customer(g[1])
            if self.command == "POST" and path == "/v1/payment_intents":
                return emulator.render(emulator.create_payment_intent(params), expand)
            if self.command == "GET" and (g := m(r"/v1/payment_intents/([^/]+)")):
                return emulator.render(emulator.get(g[1], "payment_intent"), expand)
            if self.command == "POST" and confirm:
                intent = emulator.get(confirm[1], "payment_intent")
                if not self.headers.get("Authorization", "").startswith("Bearer sk_") and params.get("client_secret") != intent["client_secret"]:
                    raise StripeError(400, "invalid_request_error", "The client_secret provided does not match the client_secret associated with the PaymentIntent.")
                return emulator.render(emulator.confirm(intent, params), expand)
            if self.command == "POST" and path == "/v1/refunds":
                return emulator.render(emulator.refund(params), expand)
            if self.command == "POST" and path == "/v1/subscriptions":
                return emulator.render(emulator.create_subscription(params), expand)
            if self.command == "GET" and (g := m(r"/v1/subscriptions/([^/]+)")):
                return emulator.render(emulator.get(g[1], "subscription"), expand)
            if self.command == "DELETE" and (g := m(r"/v1/subscriptions/([^/]+)")):
                return emulator.render(emulator.cancel(emulator.get(g[1], "subscription")), expand)
            if self.command == "GET" and (g := m(r"/v1/invoices/([^/]+)")):
                return emulator.render(emulator.get(g[1], "invoice"), expand)
            if self.command == "GET" and path == "/v1/events":
                return emulator.list_events(params)
            raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({self.command}: {path}).")

        def _emulator(self, path: str, params: dict) -> dict:
            m = lambda pattern: re.fullmatch(pattern, path)  # noqa: E731
            with emulator.lock:
                if path == "/_emulator/trigger":
                    return emulator.render(emulator.trigger(params["type"], params.get("object", {})), [])
                if path == "/_emulator/events":
                    return {"data": [{"event": e, "deliveries": emulator.deliveries.get(e["id"], [])} for e in emulator.events]}
                if g := m(r"/_emulator/events/([^/]+)/resend"):
                    event = next(e for e in emulator.events if e["id"] == g[1])
                    threading.Thread(target=emulator.deliver, args=(event,), daemon=True).start()
                    return {"resent": event["id"]}
                if g := m(r"/_emulator/events/([^/]+)/signed"):
                    event = next(e for e in emulator.events if e["id"] == g[1])
                    payload = json.dumps(event, indent=2)
                    return {"payload": payload, "signature": emulator.sign(payload.encode())}
                if g := m(r"/_emulator/payment_intents/([^/]+)/authenticate"):
                    intent = emulator.get(g[1], "payment_intent")
                    return emulator.render(emulator._settle(intent, params.get("outcome", "approve") == "approve"), [])
                if g := m(r"/_emulator/payment_intents/([^/]+)/dispute"):
                    return emulator.dispute(emulator.get(g[1], "payment_intent"))
                if g := m(r"/_emulator/subscriptions/([^/]+)/renew"):
                    subscription = emulator.get(g[1], "subscription")
                    return emulator.render(emulator.renew(subscription, params.get("outcome", "paid") == "paid"), [])
                if path == "/_emulator/undeliverable":
                    emulator.undeliverable_match = str(params.get("match", ""))
                    return {"match": emulator.undeliverable_match}
                if path == "/_emulator/outage":
                    # The next N API requests fail with a 500, or only those whose idempotency key
                    # contains `match` (so one test's outage does not hit another's requests).
                    emulator.outage_requests = int(params.get("requests", 1))
                    emulator.outage_match = str(params.get("match", ""))
                    return {"outage_requests": emulator.outage_requests, "match": emulator.outage_match}
            raise StripeError(404, "invalid_request_error", f"No emulator endpoint {path}")

        do_GET = do_POST = do_DELETE = _handle

    return Handler


def serve(port: int, webhook_url: str | None, webhook_secret: str, catalogue: Path | None, host: str = "127.0.0.1"):
    emulator = Emulator(webhook_url, webhook_secret, catalogue)
    server = ThreadingHTTPServer((host, port), make_handler(emulator))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return emulator, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="run the emulator")
    run.add_argument("--port", type=int, default=12111)
    run.add_argument("--webhook", help="where to deliver events")
    run.add_argument("--secret", default="whsec_local_emulator")
    run.add_argument("--catalogue", type=Path, default=ROOT / "crates/steward-core/payments.toml")
    trigger = sub.add_parser("trigger", help="make a running emulator send an event, like `stripe trigger`")
    trigger.add_argument("type", help="e.g. payment_intent.succeeded, charge.refunded, invoice.paid")
    trigger.add_argument("--emulator", default="http://127.0.0.1:12111")
    trigger.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    if args.command == "serve":
        _, server = serve(args.port, args.webhook, args.secret, args.catalogue)
        print(f"Stripe emulator on http://127.0.0.1:{args.port} delivering to {args.webhook}", file=sys.stderr)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            server.shutdown()
    else:
        body = json.dumps({"type": args.type, "object": {"metadata": dict(m.split("=", 1) for m in args.metadata)}}).encode()
        request = urllib.request.Request(f"{args.emulator}/_emulator/trigger", data=body, method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            print(response.read().decode())


if __name__ == "__main__":
    main()
