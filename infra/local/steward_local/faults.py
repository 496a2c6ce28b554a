"""A fault-injecting proxy between the functions and moto, for the fault tests (tests/faults.rs).

With `FAULT_PROXY=1` the local stack points the functions' AWS_ENDPOINT_URL here instead of at
moto. Every request is forwarded unchanged, unless a rule set with `POST /_faults` matches it:

    {"rules": [{"service": "dynamodb", "operations": ["PutItem"], "fault": "throttle"}]}

`service` is the SigV4 signing name from the request's credential scope (dynamodb, s3, ses,
secretsmanager, events); `operations` (optional) are X-Amz-Target operations for JSON protocols, or HTTP
methods for S3; `fault` is `throttle` (DynamoDB's ThrottlingException, S3's SlowDown) or
`unavailable` (503), or `delay` (forwarded `seconds` late), or `lost_answer` (forwarded and done,
but answered 503: the network lost the answer, and the client's retry meets its own success).
`times` (optional) stops a rule after it has failed that many requests. `{"rules": []}` heals everything. Presigned requests (a browser's CV upload)
carry no Authorization header, so their service is "" and no rule fails them. `GET /_faults` shows the rules and how many
requests each one failed.
"""

import http.client
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


def fault_response(service: str, fault: str) -> tuple[int, str, bytes]:
    if service == "dynamodb":
        kind = "ThrottlingException" if fault == "throttle" else "InternalServerError"
        status = 400 if fault == "throttle" else 503
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": "injected fault"})
        return status, "application/x-amz-json-1.0", body.encode()
    if service == "s3":
        code = "SlowDown" if fault == "throttle" else "ServiceUnavailable"
        return 503, "application/xml", f"<Error><Code>{code}</Code><Message>injected fault</Message></Error>".encode()
    kind = "ThrottlingException" if fault == "throttle" else "ServiceUnavailable"
    status = 429 if fault == "throttle" else 503
    return status, "application/json", json.dumps({"__type": kind, "message": "injected fault"}).encode()


class FaultProxy:
    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream)
        self.rules: list[dict] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler_class())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def matching_rule(self, service: str, operation: str) -> dict | None:
        with self.lock:
            for rule in self.rules:
                spent = rule.get("times") is not None and rule.get("failed", 0) >= rule["times"]
                if not spent and rule.get("service") == service and operation in rule.get("operations", [operation]):
                    rule["failed"] = rule.get("failed", 0) + 1
                    return rule
        return None

    def handler_class(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    # (trailers are not used by the AWS SDKs)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes, length: str | None = None) -> None:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                # A HEAD answer has no body but tells the length of the object it describes.
                self.send_header("Content-Length", length if length is not None else str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    try:
                        self.wfile.write(body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the caller went away: a function stopped past its timeout

            def _control(self, body: bytes) -> None:
                if self.command == "POST":
                    with proxy.lock:
                        proxy.rules = json.loads(body or b"{}").get("rules", [])
                with proxy.lock:
                    state = json.dumps({"rules": proxy.rules}).encode()
                self._reply(200, [("Content-Type", "application/json")], state)

            def _forward(self):
                body = self._body()
                if urlsplit(self.path).path == "/_faults":
                    return self._control(body)
                scope = SCOPE.search(self.headers.get("Authorization", ""))
                service = scope.group(1) if scope else ""
                target = self.headers.get("X-Amz-Target", "")
                operation = target.rsplit(".", 1)[-1] if target else self.command
                rule = proxy.matching_rule(service, operation)
                if rule is not None and rule.get("fault") == "delay":
                    # A slow dependency: the request goes through, `seconds` late.
                    time.sleep(float(rule.get("seconds", 1)))
                    rule = None
                lost = rule is not None and rule.get("fault") == "lost_answer"
                if rule is not None and not lost:
                    status, content_type, data = fault_response(service, rule.get("fault", "unavailable"))
                    return self._reply(status, [("Content-Type", content_type)], data)
                upstream = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["Content-Length"] = str(len(body))
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                upstream.close()
                relayed = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}]
                length = response.getheader("Content-Length") if self.command == "HEAD" else None
                if lost:
                    # Done upstream; the caller hears only that the service failed.
                    status, content_type, data = fault_response(service, "unavailable")
                    return self._reply(status, [("Content-Type", content_type)], data)
                self._reply(response.status, relayed, data, length)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _forward

        return Handler
