"""Tools for the developer on the stack's own origin: the dev mailbox (/_local/mailbox), every
message the local SES sent, newest first, with its links clickable."""

from __future__ import annotations

import re


# Each message parsed once, by its id: the mailbox reads only what it shows, however long the
# stack has run (moto's state dump took seconds under moto's one lock and stalled every request).
_PARSED: dict[str, dict] = {}


def forget(message_ids) -> None:
    """Drops what was parsed of messages the mailbox no longer keeps (housekeeping.py)."""
    for message_id in message_ids:
        _PARSED.pop(message_id, None)


# Messages on one page of the mailbox.
PAGE_SIZE = 50


def sent_mail(aws_endpoint: str | None = None, to: str | None = None, limit: int | None = None, skip: int = 0) -> list[dict]:
    """What the local SES sent, newest first (only those to an address containing `to`, the
    first `skip` of them passed over unread, at most `limit`): read from moto's SES backend in
    this process, without a state dump."""
    import email
    import email.policy

    from moto.ses.models import RawMessage, ses_backends

    raws = []
    for _, regions in list(ses_backends.items()):
        for _, backend in list(regions.items()):
            raws.extend(m for m in list(backend.sent_messages) if isinstance(m, RawMessage))
    messages = []
    for message in reversed(raws):
        if to and not any(to in d for d in message.destinations):
            continue
        if skip > 0:
            skip -= 1
            continue
        parsed = _PARSED.get(message.id)
        if parsed is None:
            raw = message.raw_data or ""
            mail = email.message_from_string(raw, policy=email.policy.default)
            text = mail.get_body(preferencelist=("plain",))
            parsed = {
                "id": message.id,
                "to": str(mail.get("To", "")),
                "subject": str(mail.get("Subject", "")),
                "text": text.get_content() if text else "",
                "raw": raw,
            }
            _PARSED[message.id] = parsed
        messages.append(parsed)
        if limit is not None and len(messages) >= limit:
            break
    return messages


def mailbox_page(messages: list[dict], page: int = 1, more: bool = False, to: str | None = None) -> bytes:
    """One page of the mailbox, with links to the newer and older pages (keeping `?to=`)."""
    import html
    from urllib.parse import urlencode

    def page_link(number: int, words: str) -> str:
        query = urlencode({k: v for k, v in (("to", to), ("page", number)) if v and v != 1})
        return f'<a href="{html.escape("/_local/mailbox" + ("?" + query if query else ""))}">{words}</a>'

    def linked(text: str) -> str:
        return re.sub(r"(https?://[^\s<>\"]+)", r'<a href="\1">\1</a>', html.escape(text))

    links = " · ".join(
        link for link in (page > 1 and page_link(page - 1, "Newer"), more and page_link(page + 1, "Older")) if link
    )
    items = "".join(
        f"<article><h2>{html.escape(m['subject'])}</h2><p>To: {html.escape(m['to'])}</p><pre>{linked(m['text'])}</pre></article>"
        for m in messages
    ) or "<p>No mail yet.</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Dev mailbox</title>"
        "<style>body{font:1rem/1.5 system-ui;max-width:50rem;margin:2rem auto;padding:0 1rem}pre{white-space:pre-wrap;background:#f5f5f5;padding:1rem}</style>"
        f"</head><body><h1>Dev mailbox</h1><p>What the local SES sent, newest first, {PAGE_SIZE} a page (<code>?to=</code> an address for its own; <code>mailbox.json</code> for all).</p>{items}<nav aria-label='Pages'><p>{links}</p></nav></body></html>"
    ).encode()
