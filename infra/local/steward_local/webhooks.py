"""The dev webhook receiver (/_local/webhooks): a company's receiver of Steward's webhook
destinations, on the stack's own origin, so that deliveries can be watched and tested without a
server of one's own (infra/local.env points `WebhookEndpoints` here, `{api}` being the stack's URL).

`POST /_local/webhooks/<name>` takes a delivery to destination <name> and checks it as a receiver
following Standard Webhooks (https://www.standardwebhooks.com) must: `webhook-signature` holds
`v1,<base64>` entries, each an HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the
destination's secret, and the timestamp is within five minutes of now. The secret is derived as
Steward derives it (crates/steward-core/src/domain/destinations/webhook.rs) from the stack's
WEBHOOK_SIGNING_KEY, so a wrong derivation or signature shows here as a 401.

Every attempt is kept in memory (the newest `KEEP`), with the status it was answered: 204, 401 for
a signature that does not verify, 503 while the destination is down (`POST .../<name>/down`, until
`POST .../<name>/up`), which is how tests make Steward retry. `GET /_local/webhooks.json` lists them
(newest first, `?name=` for one destination); `GET /_local/webhooks` shows them by delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import threading
import time
from collections import deque
from urllib.parse import urlencode

# Standard Webhooks' recommended tolerance for a delivery's timestamp, either way.
TOLERANCE_SECONDS = 5 * 60
# Attempts kept, newest first out; like the dev mailbox, a stack that runs all day stays small.
KEEP = 10_000
# Deliveries shown on the page (the JSON has every attempt kept).
PAGE_DELIVERIES = 200

NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
DELIVERY_PATH = re.compile(rf"/_local/webhooks/({NAME})")
SWITCH_PATH = re.compile(rf"/_local/webhooks/({NAME})/(down|up)")


def destination_secret(signing_key: str, name: str) -> bytes:
    """A destination's 32-byte secret: HMAC-SHA256(signing key, "steward-webhook-secret:<name>")."""
    return hmac.new(signing_key.encode(), b"steward-webhook-secret:" + name.encode(), hashlib.sha256).digest()


def secret_text(secret: bytes) -> str:
    """The secret as receivers configure it (Standard Webhooks libraries take `whsec_<base64>`)."""
    return "whsec_" + base64.b64encode(secret).decode()


def signature(secret: bytes, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`: a `v1,` entry's value."""
    return base64.b64encode(hmac.new(secret, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()


def verifies(secret: bytes, webhook_id: str, timestamp: str, header: str, body: bytes, now: float) -> bool:
    """Whether any `v1` entry of the header signs this delivery, compared in constant time, and
    its timestamp is recent."""
    if not webhook_id or not re.fullmatch(r"[0-9]{1,12}", timestamp) or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, webhook_id, timestamp, body).encode()
    found = False
    for entry in header.split(" "):
        version, _, value = entry.partition(",")
        # Every entry is compared, so the time taken does not say which one matched.
        if version == "v1" and hmac.compare_digest(expected, value.encode()):
            found = True
    return found


class WebhookReceiver:
    def __init__(self, signing_key: str | None, names: list[str] | None = None):
        self.signing_key = signing_key
        self.lock = threading.Lock()
        self.attempts: deque[dict] = deque()
        # Attempts per (destination, webhook-id) among those kept: each attempt says which it was.
        self.counts: dict[tuple[str, str], int] = {}
        self.down: set[str] = set()
        # Destinations the page lists (with their secrets) before they receive anything.
        self.names: set[str] = set(names or [])

    def secret(self, name: str) -> bytes | None:
        return destination_secret(self.signing_key, name) if self.signing_key else None

    def receive(self, name: str, headers: dict[str, str], body: bytes, now: float | None = None) -> int:
        """Checks and records one delivery attempt; returns the status it is answered with."""
        now = time.time() if now is None else now
        webhook_id = headers.get("webhook-id", "")
        timestamp = headers.get("webhook-timestamp", "")
        secret = self.secret(name)
        valid = secret is not None and verifies(secret, webhook_id, timestamp, headers.get("webhook-signature", ""), body, now)
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        with self.lock:
            status = 503 if name in self.down else 204 if valid else 401
            key = (name, webhook_id)
            self.counts[key] = self.counts.get(key, 0) + 1
            self.attempts.append({
                "name": name,
                "webhook_id": webhook_id,
                "webhook_timestamp": int(timestamp) if re.fullmatch(r"[0-9]{1,12}", timestamp) else None,
                "type": parsed.get("type") if isinstance(parsed, dict) else None,
                "body": parsed,
                "signature_valid": valid,
                "status": status,
                "attempt": self.counts[key],
                "received_at": now,
            })
            self.names.add(name)
            while len(self.attempts) > KEEP:
                old = self.attempts.popleft()
                old_key = (old["name"], old["webhook_id"])
                self.counts[old_key] -= 1
                if not self.counts[old_key]:
                    del self.counts[old_key]
        return status

    def switch(self, name: str, down: bool) -> None:
        with self.lock:
            (self.down.add if down else self.down.discard)(name)
            self.names.add(name)

    def list(self, name: str | None = None) -> list[dict]:
        """Every attempt kept, newest first (only destination `name`'s if given)."""
        with self.lock:
            return [dict(a) for a in reversed(self.attempts) if name is None or a["name"] == name]

    def route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes):
        """The gateway's answer (status, headers, body) for a request under /_local/webhooks, or
        None if the path is not the receiver's."""
        as_json = [("Content-Type", "application/json")]
        if method == "GET" and path == "/_local/webhooks.json":
            return 200, as_json, json.dumps(self.list(query.get("name") or None)).encode()
        if method == "GET" and path == "/_local/webhooks":
            return 200, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], self.page(query.get("name") or None)
        switch = SWITCH_PATH.fullmatch(path)
        if switch and method == "POST":
            self.switch(switch[1], switch[2] == "down")
            return 200, as_json, json.dumps({"name": switch[1], "down": switch[2] == "down"}).encode()
        delivery = DELIVERY_PATH.fullmatch(path)
        if delivery and method == "POST":
            status = self.receive(delivery[1], headers, body)
            if status == 204:
                return 204, [], b""
            message = "destination down (local receiver)" if status == 503 else "invalid webhook signature"
            return status, as_json, json.dumps({"message": message}).encode()
        return None

    def page(self, name: str | None = None) -> bytes:
        """Deliveries (attempts grouped by destination and webhook-id), newest first, and each
        destination's state and secret, to check signatures by hand."""
        attempts = self.list(name)
        with self.lock:
            names, down = sorted(self.names), set(self.down)
        deliveries: dict[tuple[str, str], list[dict]] = {}
        for attempt in attempts:
            deliveries.setdefault((attempt["name"], attempt["webhook_id"]), []).append(attempt)
        e = html.escape

        def when(seconds: float) -> str:
            return time.strftime("%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}Z"

        rows = "".join(
            f"<tr><td><a href='{e('/_local/webhooks?' + urlencode({'name': n}))}'>{e(n)}</a></td><td>{'<strong>down</strong> (answers 503)' if n in down else 'up'}</td>"
            f"<td><code>{e(secret_text(self.secret(n))) if self.signing_key else 'no WEBHOOK_SIGNING_KEY'}</code></td></tr>"
            for n in names
        )
        destinations = (
            f"<table><tr><th>Destination</th><th>State</th><th>Secret</th></tr>{rows}</table>" if rows else "<p>No destination yet.</p>"
        )
        items = []
        for (destination, webhook_id), tries in list(deliveries.items())[:PAGE_DELIVERIES]:
            tries = list(reversed(tries))  # oldest first: the order they were made in
            latest = tries[-1]
            statuses = ", ".join(
                f"{t['status']} at {when(t['received_at'])}{'' if t['signature_valid'] else ' (signature invalid)'}" for t in tries
            )
            signed = "valid" if all(t["signature_valid"] for t in tries) else "INVALID" if not any(t["signature_valid"] for t in tries) else "mixed"
            body = json.dumps(latest["body"], indent=2, ensure_ascii=False) if latest["body"] is not None else "(not JSON)"
            items.append(
                f"<article><h3>{e(str(latest['type'] or '(no type)'))}</h3>"
                f"<p>To: {e(destination)}{' (down)' if destination in down else ''} · webhook-id <code>{e(webhook_id or '(none)')}</code></p>"
                f"<p>Signature: {signed} · {len(tries)} attempt{'s' if len(tries) != 1 else ''}"
                f"{' · delivered' if latest['status'] == 204 else ''}: {e(statuses)}</p>"
                f"<details><summary>Body</summary><pre>{e(body)}</pre></details></article>"
            )
        shown = "".join(items) or "<p>No deliveries yet.</p>"
        narrowed = f" to <strong>{e(name)}</strong> (<a href='/_local/webhooks'>all</a>)" if name else ""
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Webhook receiver</title>"
            "<style>body{font:1rem/1.5 system-ui;max-width:50rem;margin:2rem auto;padding:0 1rem}pre{white-space:pre-wrap;background:#f5f5f5;padding:1rem}"
            "table{border-collapse:collapse}td,th{text-align:left;padding:.25rem .75rem .25rem 0;vertical-align:top}code{word-break:break-all}</style>"
            f"</head><body><h1>Webhook receiver</h1><p>Deliveries to <code>POST /_local/webhooks/&lt;name&gt;</code>{narrowed}, newest first, "
            f"each checked as Standard Webhooks says (signature with the destination's secret, timestamp within {TOLERANCE_SECONDS // 60} minutes): "
            "204, 401 for a bad signature, 503 while the destination is down (<code>POST /_local/webhooks/&lt;name&gt;/down</code>, then <code>/up</code>). "
            f"The newest {PAGE_DELIVERIES} deliveries; <code>webhooks.json</code> has every attempt.</p>"
            f"<h2>Destinations</h2>{destinations}<h2>Deliveries</h2>{shown}</body></html>"
        ).encode()
