"""Tools for the developer on the stack's own origin: the dev mailbox (/_local/mailbox), every
message the local SES sent, newest first, with its links clickable."""

from __future__ import annotations

import json
import re


def sent_mail(aws_endpoint: str) -> list[dict]:
    """What the local SES sent, newest first: moto keeps raw messages at /moto-api/data.json."""
    import email
    import email.policy
    import urllib.request

    with urllib.request.urlopen(f"{aws_endpoint}/moto-api/data.json", timeout=10) as response:
        data = json.load(response)
    messages = []
    for message in data.get("ses", {}).get("RawMessage", []):
        raw = message.get("raw_data") or ""
        parsed = email.message_from_string(raw, policy=email.policy.default)
        text = parsed.get_body(preferencelist=("plain",))
        messages.append({
            "id": message.get("id"),
            "to": str(parsed.get("To", "")),
            "subject": str(parsed.get("Subject", "")),
            "text": text.get_content() if text else "",
            "raw": raw,
        })
    return list(reversed(messages))


def mailbox_page(messages: list[dict]) -> bytes:
    import html

    def linked(text: str) -> str:
        return re.sub(r"(https?://[^\s<>\"]+)", r'<a href="\1">\1</a>', html.escape(text))

    items = "".join(
        f"<article><h2>{html.escape(m['subject'])}</h2><p>To: {html.escape(m['to'])}</p><pre>{linked(m['text'])}</pre></article>"
        for m in messages
    ) or "<p>No mail yet.</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Dev mailbox</title>"
        "<style>body{font:1rem/1.5 system-ui;max-width:50rem;margin:2rem auto;padding:0 1rem}pre{white-space:pre-wrap;background:#f5f5f5;padding:1rem}</style>"
        f"</head><body><h1>Dev mailbox</h1><p>Every message the local SES sent, newest first.</p>{items}</body></html>"
    ).encode()
