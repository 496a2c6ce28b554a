"""The HTTP API: every HttpApi route of the template, each request turned into the API Gateway
payload v2 event Lambda receives (request context with source IP, path parameters, base64
bodies) and the function's answer turned back into HTTP, as API Gateway does: the most specific
route is chosen, and a route with a JWT authorizer (authorizers.py) is invoked only with a token it
accepts. With the reference site and the dev tools on the same origin (devtools.py, webhooks.py,
and, local only, the staff members to sign in with at /_local/staff and the scheduled functions
run on demand at /_local/schedules)."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import yaml

from .authorizers import JwtAuthorizer, Refused
from .config import ACCOUNT_ID, log
from .devtools import PAGE_SIZE, mailbox_page, sent_mail
from .runtime import LocalFunction

# API Gateway's payload limit; larger requests never reach a function.
MAX_PAYLOAD = 10 * 1024 * 1024
# How long API Gateway waits for its integration before it answers 503 on its own.
INTEGRATION_TIMEOUT_SECONDS = 30
# Bodies API Gateway passes as text; everything else arrives base64-encoded.
TEXT_TYPES = re.compile(r"^(text/|application/(json|.*\+json|xml|.*\+xml|javascript))", re.I)


@dataclass
class Route:
    method: str
    path: str
    function: LocalFunction
    pattern: re.Pattern
    # The route's JWT authorizer (authorizers.py) and the scopes it requires, if any.
    authorizer: JwtAuthorizer | None = None
    scopes: list[str] | None = None

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def specificity(self) -> tuple:
        """How API Gateway ranks the routes a request matches, most specific first: segment by
        segment, a literal beats a `{param}`, which beats a greedy `{proxy+}` (so an exact path
        wins, and of two greedy routes the one with the longer literal prefix); then a route of
        the request's own method beats ANY."""
        ranks = []
        for segment in self.path.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("+}"):
                ranks.append(2)
            elif "{" in segment:
                ranks.append(1)
            else:
                ranks.append(0)
        return (tuple(ranks), self.method == "ANY")


def compile_path(path: str) -> re.Pattern:
    regex = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("+}"):
            regex += f"(?P<{part[1:-2]}>.+)"
        elif part.startswith("{"):
            regex += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}$")


def build_event(route: Route, handler: BaseHTTPRequestHandler, body: bytes, params: dict, source_ip: str) -> dict:
    split = urlsplit(handler.path)
    headers: dict[str, str] = {}
    for key, value in handler.headers.items():
        key = key.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    query: dict[str, str] = {}
    for key, value in parse_qsl(split.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    content_type = headers.get("content-type", "")
    is_text = bool(TEXT_TYPES.match(content_type))
    if body and is_text:
        try:
            text_body, encoded = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text_body, encoded = base64.b64encode(body).decode(), True
    elif body:
        text_body, encoded = base64.b64encode(body).decode(), True
    else:
        text_body, encoded = None, False
    now = time.time()
    event = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": split.path,
        "rawQueryString": split.query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": headers.get("host", "127.0.0.1").split(".")[0],
            "http": {
                "method": handler.command,
                "path": split.path,
                "protocol": handler.request_version,
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": route.route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    if text_body is not None:
        event["body"] = text_body
    return event


SITE_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml", ".png": "image/png"}


def site_file(site: Path, path: str) -> Path | None:
    """The reference site's file for a URL path: `/` is index.html, `/contact` is contact.html."""
    relative = path.strip("/") or "index"
    if ".." in relative.split("/"):
        return None
    for candidate in (site / relative, site / f"{relative}.html", site / relative / "index.html"):
        if candidate.is_file() and candidate.resolve().is_relative_to(site.resolve()):
            return candidate
    return None


class Gateway:
    def __init__(self, routes: list[Route], openapi: Path, trust_test_ip_header: bool, aws_endpoint: str = "",
                 stripe_url: str | None = None, site: Path | None = None, bench_functions: dict | None = None,
                 webhooks=None, staff: dict | None = None, schedules: dict | None = None):
        self.aws_endpoint = aws_endpoint
        # The local staff members (staff.py), for GET /_local/staff; None without a user pool.
        self.staff = staff
        # The scheduled functions by logical id (event_sources.Schedule), run on demand at
        # POST /_local/schedules/<LogicalId>.
        self.schedules = schedules or {}
        # The dev webhook receiver (webhooks.py), where the local webhook destinations deliver.
        self.webhooks = webhooks
        # Only with BENCH=1 (make bench): the functions' timings, direct invocations, cold starts.
        self.bench_functions = bench_functions
        # In the template's order (GET /_local/routes, the stack's log); matched most specific
        # first, as API Gateway selects a route whatever the order they were defined in.
        self.routes = routes
        self.matching = sorted(routes, key=Route.specificity)
        self.openapi = openapi
        self.trust_test_ip_header = trust_test_ip_header
        self.stripe_url = stripe_url
        self.site = site

    def handler_class(self):
        gateway = self

        class Api(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "steward-local"

            def log_message(self, fmt, *args):
                pass

            def _send(self, status: int, headers: list[tuple[str, str]], body: bytes):
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _proxy(self, url: str, body: bytes):
                import urllib.error
                import urllib.request

                headers = {k: v for k, v in self.headers.items() if k.lower() == "content-type"}
                request = urllib.request.Request(url, data=body if self.command != "GET" else None, headers=headers, method=self.command)
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        status, data, content_type = response.status, response.read(), response.headers.get("Content-Type", "application/json")
                except urllib.error.HTTPError as err:
                    status, data, content_type = err.code, err.read(), err.headers.get("Content-Type", "application/json")
                return self._send(status, [("Content-Type", content_type)], data)

            def _bank(self, intent: str, body: bytes):
                """The card's bank asking its holder to confirm a payment (3-D Secure), as Stripe's
                `next_action.redirect_to_url` page does: GET shows it, POST approves or fails it and
                sends the browser back to the site's `return_url` with Stripe's query parameters."""
                import html
                import urllib.request
                from urllib.parse import urlencode, urlunsplit

                query = dict(parse_qsl(urlsplit(self.path).query))
                form = dict(parse_qsl(body.decode("utf-8", "replace"))) if self.command == "POST" else {}
                return_url = form.get("return_url") or query.get("return_url") or ""
                back = urlsplit(return_url)
                # Only back to this site: never an open redirect (`//evil`, `/\evil` included).
                host = self.headers.get("Host", "")
                on_site = back.netloc in ("", host) and back.scheme in ("", "http", "https")
                if not on_site or not back.path.startswith("/") or back.path.startswith("//") or "\\" in return_url:
                    return self._message(400, "return_url must be on this site")
                if self.command == "GET":
                    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Confirm your payment · Test bank</title><link rel="stylesheet" href="/assets/site.css"></head>
<body><main><h1>Confirm your payment</h1><p>Your bank (the local Stripe emulator's test bank) asks you to confirm payment {html.escape(intent)}.</p>
<form method="post"><input type="hidden" name="return_url" value="{html.escape(return_url)}"><button type="submit" name="outcome" value="approve">Confirm the payment</button>
<button type="submit" name="outcome" value="fail">Refuse it</button></form></main></body></html>"""
                    return self._send(200, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], page.encode())
                outcome = "approve" if form.get("outcome") == "approve" else "fail"
                request = urllib.request.Request(
                    f"{gateway.stripe_url}/_emulator/payment_intents/{intent}/authenticate",
                    data=json.dumps({"outcome": outcome}).encode(), headers={"Content-Type": "application/json"}, method="POST")
                with urllib.request.urlopen(request, timeout=10) as response:
                    settled = json.loads(response.read())
                status = "succeeded" if settled.get("status") == "succeeded" else "failed"
                # Stripe's parameters replace any left from an earlier check.
                kept = [(k, v) for k, v in parse_qsl(back.query) if k not in ("payment_intent", "payment_intent_client_secret", "redirect_status")]
                query = urlencode(kept + [("payment_intent", intent), ("redirect_status", status)])
                location = urlunsplit(("", "", back.path, query, back.fragment))
                return self._send(303, [("Location", location)], b"")

            def _message(self, status: int, message: str):
                self._send(status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode())

            def _dispatch(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_PAYLOAD:
                    # Read what the client sends (so that it reads the answer), keep none of it.
                    while length > 0:
                        chunk = self.rfile.read(min(length, 1 << 20))
                        if not chunk:
                            break
                        length -= len(chunk)
                    return self._message(413, "Request Entity Too Large")
                body = self.rfile.read(length) if length else b""
                path = urlsplit(self.path).path
                if self.command == "GET" and path == "/openapi.json":
                    document = yaml.safe_load(gateway.openapi.read_text())
                    return self._send(200, [("Content-Type", "application/json")], json.dumps(document).encode())
                if self.command == "GET" and path in ("/_local/mailbox", "/_local/mailbox.json"):
                    # `?to=` narrows to one address; the page shows 50 at a time (`?page=`), and
                    # parses only those.
                    query = dict(parse_qsl(urlsplit(self.path).query))
                    to = query.get("to") or None
                    if path.endswith(".json"):
                        messages = sent_mail(gateway.aws_endpoint, to=to)
                        return self._send(200, [("Content-Type", "application/json")], json.dumps(messages).encode())
                    page = int(query["page"]) if re.fullmatch(r"[1-9][0-9]{0,5}", query.get("page", "")) else 1
                    messages = sent_mail(gateway.aws_endpoint, to=to, limit=PAGE_SIZE + 1, skip=(page - 1) * PAGE_SIZE)
                    body = mailbox_page(messages[:PAGE_SIZE], page, len(messages) > PAGE_SIZE, to)
                    return self._send(200, [("Content-Type", "text/html; charset=utf-8")], body)
                if path.startswith("/_local/webhooks") and gateway.webhooks is not None:
                    query = dict(parse_qsl(urlsplit(self.path).query))
                    headers = {key.lower(): value for key, value in self.headers.items()}
                    answer = gateway.webhooks.route(self.command, path, query, headers, body)
                    if answer is not None:
                        return self._send(*answer)
                if path.startswith("/_local/functions") and gateway.bench_functions is not None:
                    return self._bench(path, body)
                if self.command == "POST" and path == "/_local/turnstile/siteverify":
                    # As Cloudflare answers with its test keys: a 1x… secret passes the dummy token.
                    form = dict(parse_qsl(body.decode("utf-8", "replace")))
                    passed = form.get("secret", "").startswith("1x") and form.get("response") == "XXXX.DUMMY.TOKEN.XXXX"
                    verdict = {"success": passed, "error-codes": [] if passed else ["invalid-input-response"]}
                    return self._send(200, [("Content-Type", "application/json")], json.dumps(verdict).encode())
                if self.command == "GET" and path == "/_local/routes":
                    routes = [{"method": r.method, "path": r.path} for r in gateway.routes]
                    return self._send(200, [("Content-Type", "application/json")], json.dumps(routes).encode())
                bank = re.fullmatch(r"/_local/stripe/authenticate/([A-Za-z0-9_]+)", path)
                if bank and gateway.stripe_url:
                    return self._bank(bank[1], body)
                confirm = re.fullmatch(r"/_local/stripe(/v1/payment_intents/[A-Za-z0-9_]+/confirm)", path)
                if confirm and self.command == "POST" and gateway.stripe_url:
                    # The reference site's test-card step confirms a payment on the Stripe
                    # emulator through the site's own origin, as Stripe.js does with Stripe; with
                    # the publishable key in the body, never an Authorization header.
                    return self._proxy(gateway.stripe_url + confirm[1], body)
                if self.command == "GET" and path == "/_local/staff":
                    # Local only: the staff members the stack created (staff.py), to sign in with.
                    if gateway.staff is None:
                        return self._message(404, "Not Found")
                    return self._send(200, [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
                                      json.dumps(gateway.staff).encode())
                if path == "/_local/schedules" or path.startswith("/_local/schedules/"):
                    return self._schedule(path)
                for route in gateway.matching:
                    match = route.pattern.match(path)
                    if match and route.method in (self.command, "ANY"):
                        break
                else:
                    static = site_file(gateway.site, path) if gateway.site and self.command in ("GET", "HEAD") else None
                    if static is not None:
                        content_type = SITE_TYPES.get(static.suffix, "application/octet-stream")
                        return self._send(200, [("Content-Type", content_type), ("Cache-Control", "no-store")], static.read_bytes())
                    return self._message(404, "Not Found")
                source_ip = self.client_address[0]
                if gateway.trust_test_ip_header and self.headers.get("x-local-source-ip"):
                    source_ip = self.headers["x-local-source-ip"]
                    del self.headers["x-local-source-ip"]
                event = build_event(route, self, body, match.groupdict(), source_ip)
                if route.authorizer is not None:
                    # API Gateway's JWT authorizer, before the function: a refused request never
                    # reaches it.
                    try:
                        event["requestContext"]["authorizer"] = route.authorizer.authorize(
                            event["headers"], event.get("queryStringParameters") or {}, route.scopes)
                    except Refused as refused:
                        return self._send(refused.status, [("Content-Type", "application/json"),
                                                           ("www-authenticate", refused.www_authenticate)],
                                          json.dumps({"message": refused.message}).encode())
                response, error = route.function.invoke(event, wait_at_most=INTEGRATION_TIMEOUT_SECONDS)
                if error is not None:
                    # API Gateway's own answers: 503 when its integration timed out, 500 when
                    # Lambda failed the invocation (an error, a timeout, a payload over 6 MB).
                    log(f"{route.function.logical} failed: {error.get('errorType')}: {error.get('errorMessage')}")
                    if error.get("errorType") == "Gateway.IntegrationTimeout":
                        return self._message(503, "Service Unavailable")
                    return self._message(500, "Internal Server Error")
                self._send(*to_http(response))

            def _schedule(self, path: str):
                """Local only: `GET /_local/schedules` lists the scheduled functions; `POST
                /_local/schedules/<LogicalId>` runs one now, with the event EventBridge's schedule
                gives it, and answers when it has run: 200 with its response, or 502 with its error."""
                reply = lambda status, value: self._send(status, [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
                                                         json.dumps(value).encode())
                if path == "/_local/schedules" and self.command == "GET":
                    return reply(200, [schedule.describe() for schedule in gateway.schedules.values()])
                name = path[len("/_local/schedules/"):]
                schedule = gateway.schedules.get(name)
                if schedule is None:
                    return self._message(404, "Not Found")
                if self.command != "POST":
                    return self._send(405, [("Content-Type", "application/json"), ("Allow", "POST")], b'{"message":"Method Not Allowed"}')
                response, error = schedule.run_now()
                try:
                    answer = json.loads(response) if response else None
                except ValueError:
                    answer = response.decode(errors="replace")
                return reply(200 if error is None else 502, {"function": name, "response": answer, "error": error})

            def _bench(self, path: str, body: bytes):
                functions = gateway.bench_functions
                reply = lambda status, value: self._send(status, [("Content-Type", "application/json")], json.dumps(value).encode())
                if path == "/_local/functions" and self.command == "GET":
                    return reply(200, {name: function.stats() for name, function in functions.items()})
                action = re.fullmatch(r"/_local/functions/([A-Za-z0-9]+)/(invoke|cold-start|resume)", path)
                if not action or action[1] not in functions or self.command != "POST":
                    return self._message(404, "Not Found")
                function = functions[action[1]]
                request = json.loads(body or b"{}")
                if action[2] == "cold-start":
                    binary = request.get("binary")
                    if binary and Path(binary).resolve().parent != function.binary.resolve().parent:
                        return self._message(400, "the binary must be in the stack's --bin-dir")
                    return reply(200, function.cold_start(Path(binary) if binary else None))
                if action[2] == "resume":
                    function.resume_workers()
                    return reply(200, {})
                invocation = function.invoke_timed(request)
                return reply(200, {
                    "response": json.loads(invocation.response) if invocation.response else None,
                    "error": invocation.error,
                    "duration_ms": (invocation.finished_at - invocation.started_at) * 1000 if invocation.finished_at else None,
                })

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch

            def __getattr__(self, name):
                # Any other method (TRACE, CONNECT, made-up ones) is routed too, so that it gets
                # API Gateway's 404 for a route without that method rather than http.server's 501.
                if name.startswith("do_"):
                    return self._dispatch
                raise AttributeError(name)

        return Api


def to_http(raw: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Turns a payload v2 response into status, headers and body, as API Gateway does."""
    try:
        response = json.loads(raw or b"null")
    except ValueError:
        return 500, [("Content-Type", "application/json")], b'{"message":"Internal Server Error"}'
    if not isinstance(response, dict) or "statusCode" not in response:
        return 200, [("Content-Type", "application/json")], json.dumps(response).encode()
    headers = [(k, str(v)) for k, v in (response.get("headers") or {}).items()]
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if not any(k.lower() == key.lower() for k, _ in headers):
            headers.extend((key, str(v)) for v in values)
    headers.extend(("Set-Cookie", c) for c in response.get("cookies") or [])
    body = response.get("body") or ""
    data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    return int(response["statusCode"]), headers, data
