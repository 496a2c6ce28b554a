#!/usr/bin/env python3
"""make bench: how big, how fast to start, how fast warm, how much memory and CPU, and what each
function's operations cost, measured on the release binaries `cargo lambda build --release` made;
each figure next to the previous run's, with regressions beyond noise flagged.

Each function's real binary runs against the local stack (infra/local/stack.py with BENCH=1): the
Lambda Runtime API Lambda itself speaks, moto for DynamoDB, S3, SES and SQS, and the Stripe
emulator. Cold starts replace a function's process by a new one and time it as Lambda reports it:
Init Duration is the process's start to its first request for an event; the first response adds
the first invocation with its AWS calls. An empty lambda_http function built the same way is
cold-started in the same rounds, interleaved, so the comparison does not depend on the machine.

Besides wall-clock times, each run reads the function process's CPU time (/proc) at its first
request for an event, after its first call and around its warm calls, and counts the AWS calls its
binary makes (the local AWS endpoint counts them by the function's access key). From those, a model
of Lambda (bench/model.json: CPU in proportion to memory, AWS's latency per call) gives each
function's duration, first response and cost at 128, 256 and 512 MB, and the size it should have.

The figures go to a JSON report (the work dir's, and bench/last-run.json, which the next run
compares with) and between the markers of BENCHMARKS.md; the text around them (what the figures
mean, what was changed and measured) is written by hand and kept. `--render-only --report FILE`
renders and compares a report without building or measuring anything.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "infra/local"))
from steward_local.config import read_env_file  # noqa: E402
from steward_local.template import load_template  # noqa: E402

EMPTY = "empty-lambda"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
# The previous run's report, committed: a clean clone compares with the run that wrote it.
LAST_RUN = ROOT / "bench/last-run.json"
# 2: operations keyed by name under each function, CPU time and AWS calls (1 had one operation).
REPORT_FORMAT = 2


# --- what counts as a regression ----------------------------------------------------------------


@dataclass(frozen=True)
class Noise:
    """A figure got worse beyond noise when it grew by more than `relative` of the previous value
    AND by more than `absolute` (in the figure's own unit, as the tables show it)."""

    relative: float
    absolute: float
    rule: str

    def exceeded(self, previous: float, current: float) -> bool:
        grew = current - previous
        return grew > self.relative * abs(previous) and grew > self.absolute


# Every noise rule, in one place. Higher is worse for every figure judged.
NOISE = {
    # The same sources give the same bytes: growth past rounding is a real change.
    "size": Noise(0.01, 0.0, "any growth over 1 %"),
    # Counted by DynamoDB's rules, not timed: the same requests always cost the same units.
    "units": Noise(0.0, 0.05, "any increase over 0.05"),
    # Wall-clock medians on a shared two-core machine move 10-20 % between runs with nothing
    # changed (neighbours' builds, moto's growing tables); a fast figure's jitter is a large share
    # of it, hence a floor too.
    "timing": Noise(0.25, 2.0, "worse by over 25 % and over 2 ms"),
    # A p99 of 10 cold starts or 200 calls is one or two samples: only a large move is news.
    "tail": Noise(0.50, 5.0, "worse by over 50 % and over 5 ms"),
    # CPU time is steadier than wall time, but moves with the neighbours' use of the caches and
    # with the clock speed, and /proc counts it in 10 ms ticks (see CpuTime).
    "cpu": Noise(0.25, 0.2, "worse by over 25 % and over 0.2 ms"),
    # The peak resident set moves a little with allocation order and buffer sizes.
    "memory": Noise(0.10, 0.5, "grew by over 10 % and over 0.5 MB"),
    # Cost is mostly units (exact) plus mean durations (noisy, but a small share of the total).
    "cost": Noise(0.05, 0.0, "over 5 %"),
}


@dataclass(frozen=True)
class Figure:
    """One figure of a function or of one of its operations: how to read it from the report, how
    to show it, and which noise rule judges it (None: shown with the previous run's, not judged,
    because it follows a figure that is)."""

    label: str
    read: Callable[[dict], float | None]
    decimals: int
    noise: str | None

    def value(self, entry: dict | None) -> float | None:
        if entry is None:
            return None
        try:
            value = self.read(entry)
        except (KeyError, TypeError):
            return None
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else value

    def text(self, value: float | None) -> str:
        return "–" if value is None else f"{value:.{self.decimals}f}"

    def regressed(self, previous: float | None, current: float | None) -> bool:
        if self.noise in MACHINE_BOUND and not COMPARING_LIKE_MACHINES[0]:
            return False
        return self.noise is not None and previous is not None and current is not None and NOISE[self.noise].exceeded(previous, current)


# Timings, CPU time and memory say something about a change only when measured on the same kind
# of machine: against a run on another CPU or core count they are shown, never judged. Set once
# per run by `compare_machines` (sizes and units are judged wherever they were measured).
MACHINE_BOUND = {"timing", "tail", "cpu", "memory"}
COMPARING_LIKE_MACHINES = [True]


def hardware(machine_text: str) -> str:
    """The CPU and its cores, from a report's `machine` (its kernel release left out)."""
    return machine_text.split(", Linux", 1)[0]


def compare_machines(report: dict, previous: dict | None) -> None:
    COMPARING_LIKE_MACHINES[0] = previous is None or hardware(report.get("machine", "")) == hardware(previous.get("machine", ""))


def peak_rss_mb(entry: dict) -> float | None:
    peaks = [entry.get("peak_rss_kb", 0), entry.get("cold_rss_kb", 0)]
    return max(peaks) / 1024 if any(peaks) else None


def first_response_p50(entry: dict) -> float | None:
    return entry["first_response_ms"]["p50"] if entry["first_response_ms"].get("n", 1) else None


SIZE_AND_START = {
    "zip": Figure("zip MB", lambda e: e["zip_bytes"] / 1e6, 2, "size"),
    "binary": Figure("binary MB", lambda e: e["binary_bytes"] / 1e6, 2, "size"),
    "init_p50": Figure("init p50 ms", lambda e: e["init_ms"]["p50"], 1, "timing"),
    "init_p99": Figure("init p99 ms", lambda e: e["init_ms"]["p99"], 1, "tail"),
    "first_response": Figure("first response p50 ms", first_response_p50, 1, "timing"),
    "first_call": Figure("first call p50 ms", lambda e: e["first_call_ms"]["p50"], 1, "timing"),
    "rss": Figure("peak RSS MB", peak_rss_mb, 1, "memory"),
    "init_cpu": Figure("init CPU ms", lambda e: e["init_cpu_ms"], 1, "cpu"),
}
WARM = {
    "duration_p50": Figure("duration p50 ms", lambda o: o["duration_ms"]["p50"], 1, "timing"),
    "duration_p99": Figure("duration p99 ms", lambda o: o["duration_ms"]["p99"], 1, "tail"),
    "latency_p50": Figure("latency p50 ms", lambda o: o["latency_ms"]["p50"], 1, "timing"),
    "latency_p99": Figure("latency p99 ms", lambda o: o["latency_ms"]["p99"], 1, "tail"),
    # One instance's rate is 1000 / latency: the latency is judged.
    "throughput": Figure("ops/s", lambda o: o["throughput_per_s"], 0, None),
    "cpu": Figure("CPU ms per call", lambda o: o["cpu_ms"], 2, "cpu"),
    "rcu": Figure("RCU", lambda o: o["dynamodb_read_units"], 1, "units"),
    "wcu": Figure("WCU", lambda o: o["dynamodb_write_units"], 1, "units"),
    "cost": Figure("USD per million", lambda o: o["usd_per_million"], 2, "cost"),
}
REGRESSION = "▲"


def cell(figure: Figure, entry: dict | None, before: dict | None) -> str:
    """A figure as the tables show it: `3.72`, `3.72 (=)` when the previous run showed the same,
    `3.72 (was 3.80)`, and `▲` after it when it got worse beyond noise."""
    current, previous = figure.value(entry), figure.value(before)
    text = figure.text(current)
    if previous is None or current is None:
        return text
    flag = f" {REGRESSION}" if figure.regressed(previous, current) else ""
    if figure.text(previous) == text:
        return f"{text} (=){flag}"
    return f"{text} (was {figure.text(previous)}){flag}"


def regressions(report: dict, previous: dict | None) -> list[str]:
    """Every figure that got worse beyond noise since the previous run, one line each."""
    if not previous:
        return []
    found = []
    for name, entry in report["functions"].items():
        before = previous["functions"].get(name)
        if before is None:
            continue
        pairs = [(name, figure, entry, before) for figure in SIZE_AND_START.values()]
        for operation, measured in entry.get("operations", {}).items():
            pairs += [(f"{name} {operation}", figure, measured, before.get("operations", {}).get(operation))
                      for figure in WARM.values()]
        for where, figure, now, then in pairs:
            current, was = figure.value(now), figure.value(then)
            if figure.regressed(was, current):
                found.append(f"{REGRESSION} {where}: {figure.label} {figure.text(current)}, was {figure.text(was)} "
                             f"(noise: {NOISE[figure.noise].rule})")
    return found


# --- the template ---------------------------------------------------------------------------------


def functions_of_template() -> dict[str, str]:
    """Logical id -> binary name, in the template's order."""
    return {logical: settings["binary"] for logical, settings in function_settings().items()}


def function_settings() -> dict[str, dict]:
    """Logical id -> its binary, MemorySize (its own, else the Globals', else Lambda's 128), what
    triggers it (http, queue or schedule) and its reserved concurrency, in the template's order."""
    template = load_template(ROOT / "template.yaml")
    default_memory = template.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    triggers = {"HttpApi": "http", "SQS": "queue", "Schedule": "schedule"}
    settings = {}
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties", {})
        kinds = [triggers.get(event["Type"], "other") for event in properties.get("Events", {}).values()]
        settings[logical] = {
            "binary": resource["Metadata"]["BuildProperties"]["Binary"],
            "memory_mb": int(properties.get("MemorySize", default_memory)),
            "trigger": "http" if "http" in kinds else (kinds[0] if kinds else "other"),
            "reserved_concurrency": properties.get("ReservedConcurrentExecutions"),
        }
    return settings


def api_throttle() -> tuple[float, float] | None:
    """The HTTP API's throttle on each route (requests a second, burst), as the template sets it."""
    template = load_template(ROOT / "template.yaml")
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::HttpApi":
            route = resource.get("Properties", {}).get("DefaultRouteSettings", {})
            if isinstance(route.get("ThrottlingRateLimit"), (int, float)) and isinstance(route.get("ThrottlingBurstLimit"), (int, float)):
                return float(route["ThrottlingRateLimit"]), float(route["ThrottlingBurstLimit"])
    return None


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


# --- talking to the local stack -----------------------------------------------------------------


class Stack:
    def __init__(self, bin_dir: Path, log_dir: Path):
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = log_dir
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "infra/local/stack.py"), "--bin-dir", str(bin_dir), "--log-dir", str(log_dir),
             "--api-port", "0", "--moto-port", "0", "--stripe-port", "0", "--trust-test-ip-header",
             # IAM off: the figures measure Steward's functions, not the local policy evaluator
             # (in AWS, authorisation is inside each service's own latency). make test enforces it.
             "--exit-on-stdin-eof", "--set", "BENCH=1", "--set", "FUNCTION_WORKERS=1", "--set", "LOCAL_IAM=off",
             "--set", "LOCAL_SCHEDULE_SECONDS=86400", *schedules_off()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(log_dir / "stack.log", "w"), text=True,
        )
        for line in self.process.stdout:
            if line.startswith("STEWARD-READY "):
                self.ready = json.loads(line.split(" ", 1)[1])
                break
        else:
            raise SystemExit(f"the local stack did not start; see {log_dir / 'stack.log'}")
        self.api = self.ready["api"]
        self.settings = read_env_file(ROOT / "infra/local.env")

    def stop(self) -> None:
        """Asks the stack to stop (its stdin closed), then insists: a moto holding a large table
        can take longer to stop than the figures took to measure, and must never lose them."""
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def request(self, method: str, path: str, body=None, headers: dict | None = None, raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"content-type": "application/json", **(headers or {})}
        request = urllib.request.Request(self.api + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read(), dict(err.headers)

    def control(self, path: str, body=None):
        status, data, _ = self.request("POST" if body is not None else "GET", "/_local/functions" + path, body)
        if status != 200:
            raise RuntimeError(f"{path}: {status} {data[:200]!r}")
        return json.loads(data)

    def stats(self, logical: str) -> dict:
        return self.control("")[logical]


def schedules_off() -> list[str]:
    """No scheduled run while functions are timed: per-function intervals in the env file too."""
    names = [k for k in read_env_file(ROOT / "infra/local.env") if k.startswith("LOCAL_SCHEDULE_SECONDS_")]
    return [arg for name in names for arg in ("--set", f"{name}=86400")]


def person() -> dict:
    return {"x-local-source-ip": f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}", "idempotency-key": str(uuid.uuid4())}


def new_email() -> str:
    return f"bench-{uuid.uuid4().hex[:12]}@example.com"


# steward_core::domain::careers::UPLOADS_PER_GRANT
UPLOADS_PER_GRANT = 5


def expect(status: int, data: bytes, allowed: tuple[int, ...], what: str) -> bytes:
    if status not in allowed:
        raise RuntimeError(f"{what}: HTTP {status}: {data[:300]!r}")
    return data


@dataclass
class Operation:
    """One operation of a function, as its users call it. `prepare` runs once before anything is
    timed; `settle` runs untimed before each cold start, to leave the state the timed call is
    described by (a run with nothing due)."""

    function: str
    name: str
    what: str
    run: Callable[[], object]
    prepare: Callable[[], None] | None = None
    settle: Callable[[], None] | None = None
    # At most this many warm calls: the retention sweep scans the whole table, which the run
    # itself grows, so its calls take seconds each on moto and 200 of them would take minutes.
    max_calls: int | None = None


class Operations:
    """Each function's operations. HTTP functions go through the local API gateway; queue and
    schedule consumers are invoked with their sample events (events/<binary>/)."""

    def __init__(self, stack: Stack, calls_per_operation: int):
        self.stack = stack
        # How many times each operation runs (cold starts, warm-up and warm calls): enough grants.
        self.calls_per_operation = calls_per_operation
        self.confirm_token = None
        self.webhook_secret = stack.settings["STRIPE_WEBHOOK_SECRETS"].split(",")[0]

    def newsletter(self):
        status, data, _ = self.stack.request(
            "POST", "/forms/newsletter", {"email": new_email(), "name": "Ada", "interests": ["identity", "events"]}, person()
        )
        return expect(status, data, (200, 201, 202), "POST /forms/newsletter")

    def contact_us(self):
        """forms.toml's contact-us: name, email and message are required; no topics, no mail."""
        status, data, _ = self.stack.request(
            "POST", "/forms/contact-us", {"name": "Ada Lovelace", "email": new_email(), "message": "Please call me."}, person()
        )
        return expect(status, data, (201,), "POST /forms/contact-us")

    def register_for_event(self, interests: list[str] | None = None):
        """An event registration by a new person (docs/scale.md's peak A: topics ticked, so a
        confirmation mail is owed; the payment is a call of its own)."""
        fields = {
            "name": "Ada Lovelace", "email": new_email(), "phone": "+44 20 7946 0958", "job_title": "CTO",
            "company": "Acme", "country": "GB", "state": "GB-LND", "event": "wso2con-2027",
        }
        if interests:
            fields["interests"] = interests
        status, data, _ = self.stack.request("POST", "/forms/event-registration", fields, person())
        return expect(status, data, (201,), "POST /forms/event-registration")

    def prepare_payments(self):
        # Payment starts are limited per person and per IP address (ten and sixty in ten
        # minutes): the measured calls resume the checkouts of many registrations, from many
        # addresses, as many buyers would.
        self.registration_grants = [json.loads(self.register_for_event())["payment"]["token"] for _ in range(40)]
        self.payment_calls = 0

    def payments(self):
        grant = self.registration_grants[self.payment_calls % len(self.registration_grants)]
        self.payment_calls += 1
        status, data, _ = self.stack.request("POST", "/payments", {"token": grant}, person())
        return expect(status, data, (200,), "POST /payments")

    def prepare_cv_upload(self):
        # An application's grant allows five uploads (careers::UPLOADS_PER_GRANT): as many
        # applications as the measured calls need, each used five times.
        self.cv_grants = []
        for _ in range(math.ceil(self.calls_per_operation / UPLOADS_PER_GRANT)):
            status, data, _ = self.stack.request("POST", "/forms/careers", {
                "name": "Ada Lovelace", "email": new_email(), "phone": "+44 20 7946 0958",
                "country": "GB", "position": "Rust engineer",
            }, person())
            self.cv_grants.append(json.loads(expect(status, data, (201,), "careers application"))["cv_upload"]["token"])
        self.cv_uploads = 0

    def cv_upload(self):
        grant = self.cv_grants[self.cv_uploads // UPLOADS_PER_GRANT % len(self.cv_grants)]
        self.cv_uploads += 1
        status, data, _ = self.stack.request(
            "POST", "/careers/cv-upload", {"token": grant, "content_type": "application/pdf", "file_name": "cv.pdf"}
        )
        return expect(status, data, (200,), "POST /careers/cv-upload")

    def privacy(self):
        status, data, _ = self.stack.request("POST", "/privacy/link", {"email": new_email()}, person())
        return expect(status, data, (200, 202), "POST /privacy/link")

    def console_sign_in_page(self):
        status, data, _ = self.stack.request("GET", "/console/sign-in", headers={"accept": "text/html"})
        return expect(status, data, (200,), "GET /console/sign-in")

    def prepare_unsubscribe(self):
        """A real signed link: a newsletter signup's confirmation mail carries it."""
        address = f"bench-optin-{uuid.uuid4().hex[:8]}@example.com"
        status, data, _ = self.stack.request("POST", "/forms/newsletter", {"email": address, "name": "Ada", "interests": ["identity"]}, person())
        expect(status, data, (200, 201, 202), "newsletter signup")
        for _ in range(20):
            self.invoke("MailOutboxFunction", "mail-outbox/scheduled.json")
            status, data, _ = self.stack.request("GET", "/_local/mailbox.json")
            for message in json.loads(data):
                link = re.search(r"/subscriptions/confirm\?token=([^\s>\"]+)", message["text"]) if address in message["to"] else None
                if link:
                    self.confirm_token = link[1]
                    # Confirmed once, untimed: every timed call, cold or warm, is the same repeat.
                    self.unsubscribe()
                    return
            time.sleep(0.5)
        raise RuntimeError("no confirmation mail arrived")

    def unsubscribe(self):
        status, data, _ = self.stack.request(
            "POST", "/subscriptions/confirm", raw=f"token={self.confirm_token}".encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        return expect(status, data, (200,), "POST /subscriptions/confirm")

    def stripe_webhook(self):
        event = json.loads((ROOT / "events/stripe-webhook/payment_intent.succeeded.json").read_text())
        event["id"] = f"evt_bench_{uuid.uuid4().hex[:16]}"
        body = json.dumps(event).encode()
        timestamp = int(time.time())
        signature = hmac.new(self.webhook_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        status, data, _ = self.stack.request(
            "POST", "/webhooks/stripe", raw=body, headers={"stripe-signature": f"t={timestamp},v1={signature}"}
        )
        return expect(status, data, (200,), "POST /webhooks/stripe")

    def until_idle(self, logical: str, binary: str, counts: tuple[str, ...]) -> Callable[[], None]:
        """Runs a dispatcher until a run does nothing (no count of its report above zero): what the
        operations measured before it owe (mail, deliveries) is sent untimed, and the timed run,
        cold or warm, is one with nothing due."""
        def settle():
            for _ in range(50):
                report = self.invoke(logical, f"{binary}/scheduled.json")["response"] or {}
                if not any(report.get(count) for count in counts):
                    return
        return settle

    def invoke(self, logical: str, event_file: str):
        event = json.loads((ROOT / "events" / event_file).read_text())
        result = self.stack.control(f"/{logical}/invoke", event)
        if result["error"]:
            raise RuntimeError(f"{logical}: {result['error']}")
        return result

    def scheduled(self, logical: str, binary: str) -> Callable[[], object]:
        return lambda: self.invoke(logical, f"{binary}/scheduled.json")

    def all(self) -> list[Operation]:
        """Every operation measured; a function's first is its main one, which its cold starts
        answer. Names are the report's keys: keep them when the operation stays the same."""
        return [
            Operation("SubmitFormFunction", "newsletter", "POST /forms/newsletter (a new person, JSON)", self.newsletter),
            Operation("SubmitFormFunction", "contact-us", "POST /forms/contact-us (a new person, JSON)", self.contact_us),
            Operation("SubmitFormFunction", "event-registration", "POST /forms/event-registration (a new person, topics ticked)",
                      lambda: self.register_for_event(["events"])),
            Operation("CvUploadFunction", "cv-upload", "POST /careers/cv-upload (a presigned upload)", self.cv_upload, self.prepare_cv_upload),
            Operation("VerifyCvFunction", "missing-object", "an S3 event for a missing object",
                      lambda: self.invoke("VerifyCvFunction", "verify-cv/sqs-s3-object-created.json")),
            Operation("PaymentsFunction", "payment-intent", "POST /payments (a PaymentIntent on the emulator)", self.payments, self.prepare_payments),
            Operation("StripeWebhookFunction", "payment-succeeded", "POST /webhooks/stripe (payment_intent.succeeded)", self.stripe_webhook),
            Operation("MailEventsFunction", "bounce", "an SQS batch with one bounce",
                      lambda: self.invoke("MailEventsFunction", "mail-events/sqs-ses-bounce.json")),
            Operation("MailOutboxFunction", "scheduled-run", "a scheduled run (outbox drained)", self.scheduled("MailOutboxFunction", "mail-outbox"),
                      settle=self.until_idle("MailOutboxFunction", "mail-outbox", ("sent", "skipped"))),
            Operation("DeliveriesFunction", "scheduled-run", "a scheduled run (nothing due)", self.scheduled("DeliveriesFunction", "deliveries"),
                      settle=self.until_idle("DeliveriesFunction", "deliveries", ("delivered",))),
            Operation("UnsubscribeFunction", "confirm-link", "POST /subscriptions/confirm (a signed link from mail)", self.unsubscribe,
                      self.prepare_unsubscribe),
            Operation("PrivacyFunction", "sign-in-link", "POST /privacy/link (a sign-in link by mail)", self.privacy),
            Operation("ConsoleFunction", "sign-in-page", "GET /console/sign-in (the page, no AWS call)", self.console_sign_in_page),
            Operation("RequestDigestFunction", "scheduled-run", "a scheduled run (the daily digest)", self.scheduled("RequestDigestFunction", "request-digest")),
            Operation("RetentionFunction", "sweep", "a scheduled sweep", self.scheduled("RetentionFunction", "retention"), max_calls=20),
        ]


def main_operations(operations: list[Operation]) -> dict[str, Operation]:
    """Logical id -> its main operation (its first)."""
    main: dict[str, Operation] = {}
    for operation in operations:
        main.setdefault(operation.function, operation)
    return main


def request_lines(log_dir: Path, logical: str, since: int) -> tuple[list[dict], int]:
    """The per-request and per-event log lines (steward_core::lambda) a function wrote after byte
    `since`."""
    path = log_dir / f"{logical}.log"
    if not path.exists():
        return [], since
    data = path.read_bytes()
    lines = []
    for raw in data[since:].splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if line.get("message") in ("request", "invocation"):
            lines.append(line)
    return lines, len(data)


# --- a process's CPU time and AWS calls -------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuTime:
    """A process's CPU time two ways: utime+stime of /proc/<pid>/stat counts every thread, those
    that exited too, but in clock ticks (10 ms); the live threads' schedstat counts nanoseconds but
    forgets exited threads (tokio's blocking pool lets idle ones go)."""

    ticks_ms: float
    threads_ms: float

    def total(self) -> float:
        return max(self.ticks_ms, self.threads_ms)

    def since(self, earlier: CpuTime) -> float:
        return max(self.ticks_ms - earlier.ticks_ms, self.threads_ms - earlier.threads_ms)


def cpu_time(pid: int) -> CpuTime:
    # Fields after the command's closing parenthesis start at field 3 (state): utime and stime,
    # fields 14 and 15 of proc(5), are 11 and 12 here.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    threads_ns = 0
    for schedstat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            threads_ns += int(schedstat.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended between the listing and the read
    return CpuTime(ticks * 1000 / CLOCK_TICKS, threads_ns / 1e6)


def calls_since(later: dict[str, int], earlier: dict[str, int]) -> dict[str, int]:
    return {service: n - earlier.get(service, 0) for service, n in later.items() if n - earlier.get(service, 0)}


def mean_calls(samples: list[dict[str, int]]) -> dict[str, float]:
    services = sorted({service for sample in samples for service in sample})
    return {service: sum(sample.get(service, 0) for sample in samples) / len(samples) for service in services} if samples else {}


# --- the measurements -----------------------------------------------------------------------------


@dataclass
class ColdStarts:
    """One function's cold starts: Lambda's figures, and the process's CPU time and AWS calls at
    its first request for an event (init) and over its first call."""

    init_ms: list[float] = field(default_factory=list)
    first_response_ms: list[float] = field(default_factory=list)
    first_call_ms: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    init_cpu_ms: list[float] = field(default_factory=list)
    first_call_cpu_ms: list[float] = field(default_factory=list)
    init_calls: list[dict[str, int]] = field(default_factory=list)
    first_call_calls: list[dict[str, int]] = field(default_factory=list)

    def summary(self) -> dict:
        summary = {
            "init_ms": summary_of(self.init_ms),
            "first_response_ms": summary_of(self.first_response_ms),
            "first_call_ms": summary_of(self.first_call_ms),
            "cold_rss_kb": max(self.rss_kb or [0]),
        }
        if self.init_cpu_ms:
            summary.update({
                "init_cpu_ms": statistics.fmean(self.init_cpu_ms),
                "init_aws_calls": mean_calls(self.init_calls),
            })
        if self.first_call_cpu_ms:
            summary.update({
                "first_call_cpu_ms": statistics.fmean(self.first_call_cpu_ms),
                "first_call_aws_calls": mean_calls(self.first_call_calls),
            })
        return summary


def cold_start(stack: Stack, logical: str, series: ColdStarts, run: Callable[[], object], binary: Path | None = None) -> None:
    """Replaces the function's process by a new one, and records its init (process start to first
    request for an event) and its first call."""
    calls_before = stack.stats(logical)["aws_calls"]
    started = stack.control(f"/{logical}/cold-start", {"binary": str(binary)} if binary else {})
    # The new process now waits for its first event: what it used so far is its init.
    at_init = cpu_time(started["pid"])
    calls_at_init = stack.stats(logical)["aws_calls"]
    run()
    after_first = cpu_time(started["pid"])
    stats = stack.stats(logical)
    measured = stats["last_cold_start"]
    series.init_ms.append(measured["init_ms"])
    if "first_response_ms" in measured:
        series.first_response_ms.append(measured["first_response_ms"])
        series.rss_kb.append(measured.get("peak_rss_kb", 0))
        # The first call's own duration, as Lambda bills it (the first response less init).
        series.first_call_ms.append(stats["durations_ms"][-1])
    series.init_cpu_ms.append(at_init.total())
    series.first_call_cpu_ms.append(after_first.since(at_init))
    series.init_calls.append(calls_since(calls_at_init, calls_before))
    series.first_call_calls.append(calls_since(stats["aws_calls"], calls_at_init))


def measure_warm(stack: Stack, operation: Operation, requests: int) -> dict:
    """A fresh process, a first call to warm it, then `requests` calls one after another.
    Durations are the Runtime API's (what Lambda bills), latencies the client's."""
    logical = operation.function
    if operation.settle:
        operation.settle()
    pid = stack.control(f"/{logical}/cold-start", {})["pid"]
    operation.run()
    stats = stack.stats(logical)
    before, calls_before = len(stats["durations_ms"]), stats["aws_calls"]
    _, offset = request_lines(stack.log_dir, logical, 0)
    cpu_before = cpu_time(pid)
    latencies = []
    calls = min(requests, operation.max_calls or requests)
    started = time.perf_counter()
    for _ in range(calls):
        began = time.perf_counter()
        operation.run()
        latencies.append((time.perf_counter() - began) * 1000)
    elapsed = time.perf_counter() - started
    cpu_ms = cpu_time(pid).since(cpu_before)
    stats = stack.stats(logical)
    durations = stats["durations_ms"][before:]
    lines, _ = request_lines(stack.log_dir, logical, offset)
    measured = {
        "what": operation.what,
        "duration_ms": {"p50": percentile(durations, 50), "p99": percentile(durations, 99), "mean": statistics.fmean(durations)},
        "latency_ms": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)},
        "throughput_per_s": calls / elapsed,
        "cpu_ms": cpu_ms / calls,
        "aws_calls": {service: n / calls for service, n in calls_since(stats["aws_calls"], calls_before).items()},
        "peak_rss_kb": stats["peak_rss_kb"],
    }
    if lines:
        measured["dynamodb_read_units"] = statistics.fmean(float(line.get("dynamodb_read_units", 0)) for line in lines)
        measured["dynamodb_write_units"] = statistics.fmean(float(line.get("dynamodb_write_units", 0)) for line in lines)
    measured["writes"] = writes_of_one_call(stack, operation)
    stack.control(f"/{logical}/resume", {})
    return measured


def writes_of_one_call(stack: Stack, operation: Operation) -> list[dict]:
    """One more call, outside the timed ones: each DynamoDB write it made (the call it was in,
    the item by its keys' prefixes, its size and units), as the local stack counted them."""
    seen = max((w["seq"] for w in stack.stats(operation.function).get("dynamodb_writes", [])), default=0)
    operation.run()
    writes = [w for w in stack.stats(operation.function).get("dynamodb_writes", []) if w["seq"] > seen]
    return [{key: w[key] for key in ("call", "operation", "what", "item", "bytes", "units")} for w in writes]


def measure(lambda_dir: Path, work: Path, cold_starts: int, requests: int) -> dict:
    settings = function_settings()
    bin_dir = work / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "format": REPORT_FORMAT,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "cold_starts": cold_starts,
        "requests": requests,
        "functions": {},
    }
    for logical, name in [*((logical, own["binary"]) for logical, own in settings.items()), (None, EMPTY)]:
        archive = lambda_dir / name / "bootstrap.zip"
        if not archive.exists():
            raise SystemExit(f"{archive} is missing: run cargo lambda build --release --output-format zip first")
        with zipfile.ZipFile(archive) as zipped:
            (bin_dir / name).write_bytes(zipped.read("bootstrap"))
        (bin_dir / name).chmod(0o755)
        entry = {"zip_bytes": archive.stat().st_size, "binary_bytes": (bin_dir / name).stat().st_size}
        if logical:
            entry.update({"logical": logical, "trigger": settings[logical]["trigger"], "memory_mb": settings[logical]["memory_mb"]})
        report["functions"][name] = entry

    stack = Stack(bin_dir, work / "logs")
    try:
        # Each cold start's first call, the warm-up call, the warm calls, and the one whose writes
        # are listed (writes_of_one_call).
        operations = Operations(stack, calls_per_operation=cold_starts + 1 + requests + 1).all()
        main = main_operations(operations)
        missing = set(settings) - set(main)
        if missing:
            raise SystemExit(f"bench.py measures no operation of {', '.join(sorted(missing))}: add one to Operations.all()")
        for operation in operations:
            if operation.prepare:
                operation.prepare()
        # Cold starts: every function and the empty one in each round, so that a slow moment of the
        # machine hits them alike. The empty function stands in for submit-form's binary.
        cold = {logical: ColdStarts() for logical in [*main, EMPTY]}
        for _ in range(cold_starts):
            for logical, operation in main.items():
                if operation.settle:
                    operation.settle()
                cold_start(stack, logical, cold[logical], operation.run)
            cold_start(stack, "SubmitFormFunction", cold[EMPTY],
                       lambda: stack.request("POST", "/forms/newsletter", {}, person()), binary=bin_dir / EMPTY)
        for operation in operations:
            entry = report["functions"][settings[operation.function]["binary"]]
            entry.setdefault("operations", {})[operation.name] = measure_warm(stack, operation, requests)
        for logical, operation in main.items():
            entry = report["functions"][settings[logical]["binary"]]
            entry.update(cold[logical].summary())
            entry["main_operation"] = operation.name
            entry["peak_rss_kb"] = max(measured.pop("peak_rss_kb") for measured in entry["operations"].values())
        report["functions"][EMPTY].update(cold[EMPTY].summary())
    finally:
        stack.stop()
    return report


def summary_of(values: list[float]) -> dict:
    return {"p50": percentile(values, 50), "p99": percentile(values, 99), "n": len(values)}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    cores = sum(1 for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("processor"))
    return f"{cpu}, {cores} cores, {platform.system()} {platform.release()} ({platform.machine()})"


# Format 1 measured one operation per function, the one these names give in Operations.all().
FORMAT_1_OPERATIONS = {
    "submit-form": "newsletter", "cv-upload": "cv-upload", "verify-cv": "missing-object", "payments": "payment-intent",
    "stripe-webhook": "payment-succeeded", "mail-events": "bounce", "mail-outbox": "scheduled-run",
    "unsubscribe": "confirm-link", "privacy": "sign-in-link", "retention": "sweep",
}


def upgrade(report: dict) -> dict:
    """A format-1 report (one operation per function, its figures beside the function's) in
    format 2, for --render-only of an older work-dir report."""
    if report.get("format", 1) >= REPORT_FORMAT:
        return report
    per_operation = ("duration_ms", "latency_ms", "throughput_per_s", "dynamodb_read_units", "dynamodb_write_units")
    settings = {own["binary"]: own for own in function_settings().values()}
    for name, entry in report["functions"].items():
        if name in settings:
            entry.setdefault("trigger", settings[name]["trigger"])
            entry.setdefault("memory_mb", settings[name]["memory_mb"])
        if "operation" in entry:
            measured = {"what": entry.pop("operation")}
            measured.update({key: entry.pop(key) for key in per_operation if key in entry})
            operation = FORMAT_1_OPERATIONS.get(name, "main")
            entry["operations"] = {operation: measured}
            entry["main_operation"] = operation
    report["format"] = REPORT_FORMAT
    return report


# --- cost ------------------------------------------------------------------------------------------


def cost_per_million(measured: dict, memory_mb: int, prices: dict, http: bool) -> float | None:
    """USD per million operations: Lambda requests and billed GB-seconds (durations measured here,
    priced at arm64 and the function's MemorySize), API Gateway HTTP API requests for HTTP
    functions, and DynamoDB on-demand request units."""
    if "mean" not in measured.get("duration_ms", {}):
        return None
    lambda_prices = prices["lambda"]
    per_operation = lambda_cost(math.ceil(measured["duration_ms"]["mean"]), memory_mb, lambda_prices) / 1_000_000
    if http:
        per_operation += prices["api_gateway_http"]["per_request"]
    per_operation += measured.get("dynamodb_write_units", 0) * prices["dynamodb_on_demand"]["per_write_request_unit"]
    per_operation += measured.get("dynamodb_read_units", 0) * prices["dynamodb_on_demand"]["per_read_request_unit"]
    return per_operation * 1_000_000


def lambda_cost(billed_ms: float, memory_mb: int, lambda_prices: dict) -> float:
    """Lambda's own USD per million invocations: the request and the billed GB-seconds."""
    return (lambda_prices["per_request"] + billed_ms / 1000 * memory_mb / 1024 * lambda_prices["per_gb_second"]) * 1_000_000


def priced(report: dict, prices: dict) -> dict:
    """Each operation's USD per million, at this run's prices, kept in the report: a later change
    of prices.json does not make the next run look like a regression."""
    for entry in report["functions"].values():
        http = entry.get("trigger") == "http"
        memory_mb = entry.get("memory_mb", prices["lambda"]["memory_mb"])
        for measured in entry.get("operations", {}).values():
            if "usd_per_million" not in measured:
                cost = cost_per_million(measured, memory_mb, prices, http)
                if cost is not None:
                    measured["usd_per_million"] = cost
    return report


# --- the memory model ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Modelled:
    memory_mb: int
    duration_ms: float
    first_response_ms: float
    lambda_usd_per_million: float


def cpu_share(memory_mb: int, model: dict) -> float:
    """Lambda's CPU in proportion to memory: a whole vCPU at model['vcpu_mb'] (1,769 MB)."""
    return min(1.0, memory_mb / model["vcpu_mb"])


def waiting_ms(calls: dict[str, float], model: dict) -> float:
    """AWS's latency for these calls, one after another (concurrent calls overlap in fact: an
    upper bound)."""
    return sum(n * model["call_ms"].get(service, model["call_ms"]["other"]) for service, n in calls.items())


def external_ms(function: str, operation: str, model: dict) -> float:
    calls = model.get("external_calls", {}).get(f"{function}/{operation}", {})
    return sum(n * model["external_call_ms"][service] for service, n in calls.items())


def model_function(name: str, entry: dict, model: dict, prices: dict) -> list[Modelled] | None:
    """The main operation's duration and cost, and the first response after a cold start (init
    and that first call), at each size of the model. The CPU measured here runs at 1/share of
    Lambda's speed; AWS's waits are added; a fresh process also pays one TLS handshake for each
    service it calls (the local stack speaks plain HTTP)."""
    operation = entry.get("main_operation")
    measured = entry.get("operations", {}).get(operation)
    if measured is None or "cpu_ms" not in measured or "init_cpu_ms" not in entry:
        return None
    init_calls = entry.get("init_aws_calls", {})
    first_calls = entry.get("first_call_aws_calls", {})
    handshakes_cpu = len(set(init_calls) | set(first_calls)) * model["tls_handshake_cpu_ms"]
    first_cpu = entry["init_cpu_ms"] + entry.get("first_call_cpu_ms", measured["cpu_ms"]) + handshakes_cpu
    first_wait = waiting_ms(init_calls, model) + waiting_ms(first_calls or measured["aws_calls"], model)
    extra = external_ms(name, operation, model)
    sizes = []
    for memory_mb in model["sizes_mb"]:
        share = cpu_share(memory_mb, model)
        duration = measured["cpu_ms"] / share + waiting_ms(measured["aws_calls"], model) + extra
        sizes.append(Modelled(
            memory_mb=memory_mb,
            duration_ms=duration,
            first_response_ms=first_cpu / share + first_wait + extra,
            lambda_usd_per_million=lambda_cost(math.ceil(duration), memory_mb, prices["lambda"]),
        ))
    return sizes


def chosen_size(sizes: list[Modelled], trigger: str, model: dict) -> tuple[Modelled, str]:
    """An interactive (HTTP) function: the cheapest size whose first response is within the
    model's bound (about a second); if none is, the largest modelled, said so. Any other: the
    cheapest. Ties go to the smaller size."""
    cheapest = lambda candidates: min(candidates, key=lambda s: (round(s.lambda_usd_per_million, 4), s.memory_mb))
    if trigger != "http":
        return cheapest(sizes), "cheapest"
    bound = model["interactive_first_response_ms"]
    within = [size for size in sizes if size.first_response_ms <= bound]
    if within:
        return cheapest(within), f"cheapest with a first response ≤ {bound:,} ms"
    return sizes[-1], f"no size brings the first response under {bound:,} ms"


def memory_advice(report: dict, model: dict, prices: dict) -> list[str]:
    """One line per function whose chosen size is not template.yaml's."""
    lines = []
    for name, entry in report["functions"].items():
        sizes = model_function(name, entry, model, prices)
        if sizes is None or "memory_mb" not in entry:
            continue
        chosen, _ = chosen_size(sizes, entry.get("trigger", "other"), model)
        if chosen.memory_mb != entry["memory_mb"]:
            lines.append(f"{name}: template.yaml says {entry['memory_mb']} MB, the model says {chosen.memory_mb} MB")
    return lines


# --- BENCHMARKS.md ----------------------------------------------------------------------------------


def row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def render(report: dict, prices: dict, targets: dict, model: dict, previous: dict | None, load: dict | None) -> str:
    out = [
        f"Measured {report['date']} on {report['machine']}, by `make bench` "
        f"({report['cold_starts']} cold starts and {report['requests']} warm calls per operation; x86_64 binaries, "
        "priced as arm64).",
        "",
        comparison_note(previous),
    ]
    out += render_size_and_start(report, previous)
    out += render_warm(report, previous)
    out += render_memory_model(report, model, prices)
    out += render_targets(report, targets)
    out += render_writes(report)
    out += render_burst(report, model, prices, load)
    out += ["", prices_note(prices)]
    return "\n".join(out)


def comparison_note(previous: dict | None) -> str:
    if not previous:
        return "No previous run to compare with (bench/last-run.json)."
    origin = f", reconstructed from {previous['reconstructed_from']}" if previous.get("reconstructed_from") else ""
    other = ("" if COMPARING_LIKE_MACHINES[0] else
             f" That run was on another machine ({hardware(previous.get('machine', 'unknown'))}): its timings, CPU times and "
             "memory are shown but not judged; sizes and units are.")
    return (f"Each figure is followed by the previous run's (of {previous['date']}{origin}): `(=)` when it shows the same, "
            f"`(was …)` when not, and `{REGRESSION}` where it got worse beyond noise (the rules are `NOISE` in bench/bench.py).{other}")


def previous_function(previous: dict | None, name: str) -> dict | None:
    return previous["functions"].get(name) if previous else None


def previous_operation(previous: dict | None, name: str, operation: str) -> dict | None:
    before = previous_function(previous, name)
    return before.get("operations", {}).get(operation) if before else None


def render_size_and_start(report: dict, previous: dict | None) -> list[str]:
    functions = report["functions"]
    empty_init = functions[EMPTY]["init_ms"]["p50"]
    f = SIZE_AND_START
    out = [
        "",
        "### Size, start and memory",
        "",
        row("function", "zip MB", "binary MB", "init p50 ms", "init p99 ms", "init ÷ empty", "first response p50 ms",
            "first call p50 ms", "first call ÷ warm", "peak RSS MB", "init CPU ms"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, entry in functions.items():
        before = previous_function(previous, name)
        ratio = entry["init_ms"]["p50"] / empty_init if empty_init else float("nan")
        warm = first_to_warm(entry)
        out.append(row(
            name, cell(f["zip"], entry, before), cell(f["binary"], entry, before), cell(f["init_p50"], entry, before),
            cell(f["init_p99"], entry, before), f"{ratio:.2f}", cell(f["first_response"], entry, before),
            cell(f["first_call"], entry, before), "–" if warm is None else f"{warm:.2f}", cell(f["rss"], entry, before),
            cell(f["init_cpu"], entry, before),
        ))
    return out


def first_to_warm(entry: dict) -> float | None:
    """The first call's duration after a cold start (init not counted: it has a target of its own)
    against the warm duration of the same operation (the function's main one)."""
    measured = entry.get("operations", {}).get(entry.get("main_operation"))
    first = SIZE_AND_START["first_call"].value(entry)
    if measured is None or first is None or not measured["duration_ms"]["p50"]:
        return None
    return first / measured["duration_ms"]["p50"]


def render_warm(report: dict, previous: dict | None) -> list[str]:
    f = WARM
    out = [
        "",
        "### Warm, per operation",
        "",
        row("function", "operation", "duration p50 ms", "p99 ms", "client latency p50 ms", "p99 ms", "ops/s (one instance)",
            "CPU ms per call", "AWS calls per call", "RCU", "WCU", "USD per million"),
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for name, entry in report["functions"].items():
        for operation, measured in entry.get("operations", {}).items():
            before = previous_operation(previous, name, operation)
            out.append(row(
                name, measured["what"], cell(f["duration_p50"], measured, before), cell(f["duration_p99"], measured, before),
                cell(f["latency_p50"], measured, before), cell(f["latency_p99"], measured, before),
                cell(f["throughput"], measured, before), cell(f["cpu"], measured, before), calls_text(measured.get("aws_calls")),
                cell(f["rcu"], measured, before), cell(f["wcu"], measured, before), cell(f["cost"], measured, before),
            ))
    return out


def render_writes(report: dict) -> list[str]:
    """Where one submission's write units go: each write of one call (after the warm ones), in
    the order made, with the DynamoDB call it was part of."""
    out = [
        "",
        "### Where a submission's write units go",
        "",
        "One call of each form operation after its warm calls, every write the local stack counted: the DynamoDB call "
        "(a transaction's items share its number), the item by its keys' fixed prefixes, its size (the larger of "
        "before and after) and its units (a transaction's twice).",
        "",
        row("operation", "call", "write", "item (pk/sk)", "bytes", "WCU"),
        "|---|---:|---|---|---:|---:|",
    ]
    for operation, measured in report["functions"].get("submit-form", {}).get("operations", {}).items():
        writes = measured.get("writes")
        if not writes:
            continue
        calls = {call: n for n, call in enumerate(dict.fromkeys(w["call"] for w in writes), start=1)}
        for w in writes:
            what = w["what"] if w["operation"] == w["what"] else f"{w['operation']}: {w['what']}"
            out.append(row(operation, calls[w["call"]], what, f"`{w['item']}`", w["bytes"], f"{w['units']:g}"))
        total = sum(w["units"] for w in writes)
        # The same units as the request's own log line counts (the WCU column above), or it says so.
        logged = measured.get("dynamodb_write_units")
        check = "" if logged is None or abs(total - logged) < 0.01 else f" (the request logs {logged:g})"
        out.append(row(operation, "", "**total**", "", "", f"**{total:g}**{check}"))
    return out


def calls_text(calls: dict[str, float] | None) -> str:
    if calls is None:
        return "–"
    return ", ".join(f"{service} {round(n, 2):g}" for service, n in sorted(calls.items())) or "none"


def render_memory_model(report: dict, model: dict, prices: dict) -> list[str]:
    sizes_mb = model["sizes_mb"]
    out = [
        "",
        "### Memory, modelled",
        "",
        f"Each function's main operation modelled for AWS (bench/model.json): the CPU ms measured here ÷ min(1, MB ÷ "
        f"{model['vcpu_mb']:,}), plus AWS's latency for each AWS call counted here; the first response after a cold start "
        "(init and one call) likewise, with a TLS handshake per service called. Each size's cell: warm duration ms · first "
        "response ms · Lambda's own USD per million (the request and the GB-seconds, duration rounded up to the millisecond).",
    ]
    rows = []
    for name, entry in report["functions"].items():
        sizes = model_function(name, entry, model, prices)
        if sizes is None:
            continue
        chosen, why = chosen_size(sizes, entry.get("trigger", "other"), model)
        template_mb = entry.get("memory_mb")
        verdict = f"**{chosen.memory_mb}** ({why})"
        if template_mb is not None and template_mb != chosen.memory_mb:
            verdict += f"; the template says {template_mb}"
        measured = entry["operations"][entry["main_operation"]]
        rows.append(row(
            name, f"{measured['cpu_ms']:.2f}", f"{entry['init_cpu_ms']:.1f}",
            *[f"{s.duration_ms:.0f} · {s.first_response_ms:.0f} · {s.lambda_usd_per_million:.2f}" for s in sizes],
            template_mb if template_mb is not None else "–", verdict,
        ))
    if rows:
        out += [
            "",
            row("function", "CPU ms per call", "init CPU ms", *[f"{mb} MB" for mb in sizes_mb], "template MB", "chosen MB"),
            "|---|---:|---:|" + "---:|" * len(sizes_mb) + "---:|---|",
            *rows,
        ]
    else:
        out += ["", "No CPU figures in this report: the next `make bench` measures them."]
    empty_init = report["functions"].get(EMPTY, {}).get("init_cpu_ms")
    if empty_init is not None:
        smallest = sizes_mb[0]
        out += ["", f"The empty function's init, modelled the same way: {empty_init / cpu_share(smallest, model):.0f} ms at "
                    f"{smallest} MB ({empty_init:.2f} ms of CPU here); a Rust hello world measured on Lambda at 128 MB inits "
                    "in about 14 ms (the anchors above)."]
    return out


def render_targets(report: dict, targets: dict) -> list[str]:
    functions = report["functions"]
    ours = {name: entry for name, entry in functions.items() if name != EMPTY}
    empty_init = functions[EMPTY]["init_ms"]["p50"]
    submit = functions["submit-form"].get("operations", {})

    def worst(figure: Callable[[dict], float | None], entries: dict) -> tuple[str, float] | None:
        values = [(name, value) for name, value in ((n, figure(e)) for n, e in entries.items()) if value is not None]
        return max(values, key=lambda pair: pair[1]) if values else None

    def judged(what: str, found: tuple[str, float] | None, limit: float, shown: Callable[[str, float], str]) -> str:
        if found is None:
            return row(what, "unknown", "not measured in this report")
        return row(what, "yes" if found[1] <= limit else "**no**", shown(*found))

    def operation_figure(operation: str, key: str) -> tuple[str, float] | None:
        measured = submit.get(operation)
        return (operation, measured[key]) if measured and key in measured else None

    zip_mb = worst(lambda e: e["zip_bytes"], ours)
    init = worst(lambda e: e["init_ms"]["p50"] / empty_init if empty_init else None, ours)
    first = worst(first_to_warm, ours)
    rss = worst(lambda e: max(e.get("peak_rss_kb", 0), e.get("cold_rss_kb", 0)), functions)
    return [
        "",
        f"### Targets (issue {targets['issue']})",
        "",
        "| target | met | measured |",
        "|---|---|---|",
        judged(f"every zip ≤ {targets['zip_bytes'] / 1e6:g} MB", zip_mb, targets["zip_bytes"], lambda n, v: f"largest {v / 1e6:.2f} MB ({n})"),
        judged(f"every function's init ≤ {targets['init_ratio']:g} × the empty function's", init, targets["init_ratio"],
               lambda n, v: f"worst {v:.2f}× ({n})"),
        judged(f"every function's first response after a cold start ≤ {targets['first_response_ratio']:g} × its warm response "
               "(the first call's duration against the warm p50, same operation)",
               first, targets["first_response_ratio"], lambda n, v: f"worst {v:.2f}× ({n})"),
        judged(f"peak RSS ≤ {targets['rss_kb'] / 1024:g} MB", rss, targets["rss_kb"], lambda n, v: f"largest {v / 1024:.1f} MB ({n})"),
        judged(f"a new person's newsletter sign-up ≤ {targets['newsletter_signup_wcu']:g} WCU", operation_figure("newsletter", "dynamodb_write_units"),
               targets["newsletter_signup_wcu"], lambda n, v: f"{v:.1f} WCU"),
        judged(f"a contact form (JSON, a new person) ≤ {targets['contact_form_wcu']:g} WCU", operation_figure("contact-us", "dynamodb_write_units"),
               targets["contact_form_wcu"], lambda n, v: f"{v:.1f} WCU"),
        judged(f"≤ {targets['submission_usd_per_million']:.2f} USD per million submissions (the newsletter sign-up)",
               operation_figure("newsletter", "usd_per_million"), targets["submission_usd_per_million"], lambda n, v: f"{v:.2f} USD"),
    ]


# docs/scale.md's peak A: 10,000 registrations in a minute, 40 % of them in the first 10 s.
PEAK_A = [(10, 4_000), (50, 6_000)]  # (seconds, registrations)


def admitted_by_throttle(phases: list[tuple[float, float]], rate: float, burst: float) -> list[float]:
    """How many of each phase's arrivals a token bucket (API Gateway's throttle: `rate` a second,
    `burst` at most in the bucket, full at the start) lets through; the others are answered 429."""
    tokens, admitted = burst, []
    for seconds, arrivals in phases:
        over = arrivals - rate * seconds
        if over <= 0:
            admitted.append(arrivals)
            tokens = min(burst, tokens - over)
        else:
            from_bucket = min(tokens, over)
            admitted.append(rate * seconds + from_bucket)
            tokens -= from_bucket
    return admitted


def render_burst(report: dict, model: dict, prices: dict, load: dict | None) -> list[str]:
    """The load test's burst (make load) beside the model's figures for docs/scale.md's peak A,
    through today's template (the HTTP API's throttle, submit-form's reserved concurrency)."""
    burst = (load or {}).get("burst")
    submit = report["functions"]["submit-form"]
    registration = submit.get("operations", {}).get("event-registration")
    out = ["", "### Burst: a registration opening, here and modelled for AWS", ""]
    if burst is None and registration is None:
        return out + ["No burst figures yet: `make load` writes them (target/load-report.json), and this bench's event registration feeds the model."]
    # The registration's own figures: the first call's, measured on the newsletter (submit-form's
    # main operation), are not the registration's, so the model takes its warm call for them.
    as_registration = {key: value for key, value in submit.items() if not key.startswith("first_call_")}
    sizes = model_function("submit-form", {**as_registration, "main_operation": "event-registration"}, model, prices) if registration else None
    chosen = chosen_size(sizes, "http", model)[0] if sizes else None
    total = sum(arrivals for _, arrivals in PEAK_A)
    top_seconds, top_arrivals = PEAK_A[0]
    top = top_arrivals / top_seconds
    throttle = api_throttle()
    admitted = admitted_by_throttle(PEAK_A, *throttle) if throttle else [arrivals for _, arrivals in PEAK_A]
    admitted_top = admitted[0] / top_seconds
    reserved = function_settings().get("SubmitFormFunction", {}).get("reserved_concurrency")
    wcu = registration.get("dynamodb_write_units") if registration else None
    local = lambda text: text if burst else "not measured yet (`make load`)"
    modelled = lambda text: text if chosen else "unknown (needs this bench's CPU figures)"
    limits = [f"the HTTP API's route throttle {throttle[0]:g}/s, bursts of {throttle[1]:g}" if throttle else "no route throttle"]
    if reserved:
        limits.append(f"submit-form's reserved concurrency {reserved}" + (
            f" (≈ {reserved / chosen.duration_ms * 1000:,.0f}/s at {chosen.duration_ms:.0f} ms)" if chosen else ""))
    throttled = total - sum(admitted)
    return out + [
        row("figure", "local stack (make load, burst)", f"AWS, modelled (docs/scale.md peak A: {total:,} in a minute, today's template)"),
        "|---|---|---|",
        row("arrivals", local(f"{burst['requests']} {burst['form']}: {burst['peak_rate_per_second']:g}/s for the first "
                              f"{burst['peak_seconds']:g} s, {burst['seconds']:.0f} s in all" if burst else ""),
            f"{total:,} event-registration: {top:g}/s for the first {top_seconds} s, then "
            f"{PEAK_A[1][1] / PEAK_A[1][0]:g}/s for {PEAK_A[1][0]} s"),
        row("limits on the way", f"{burst.get('workers', '–')} instances per function, moto one request at a time" if burst else "–",
            "; ".join(limits)),
        row("throughput", local(f"{burst['throughput_per_second']:.1f}/s over {burst['elapsed_seconds']:.0f} s" if burst else ""),
            f"{admitted_top:,.0f}/s at the top, {sum(admitted) / sum(s for s, _ in PEAK_A):,.0f}/s over the minute"),
        row("latency p50 / p95 / p99 ms", local("{p50:.0f} / {p95:.0f} / {p99:.0f}".format(**burst["latency_ms"]) if burst else ""),
            modelled(f"{chosen.duration_ms:.0f} on a warm instance, {chosen.first_response_ms:.0f} on a new one "
                     f"({chosen.memory_mb} MB), plus API Gateway's own" if chosen else "")),
        row("errors", local(errors_text(burst) if burst else ""),
            (f"about {throttled:,.0f} of {total:,} answered 429 by the route throttle" if throttled > 0 else "none from the route throttle")
            + "; DynamoDB's hot keys: docs/scale.md"),
        row("instances at the top", local(f"{burst.get('workers', '–')}" if burst else ""),
            modelled(f"about {math.ceil(admitted_top * chosen.duration_ms / 1000)} ({admitted_top:,.0f}/s × {chosen.duration_ms:.0f} ms)"
                     if chosen else "")),
        row("DynamoDB WCU a second at the top", "–",
            f"{admitted_top * wcu:,.0f} ({admitted_top:,.0f}/s × {wcu:.1f} WCU); the shared keys' share of it: docs/scale.md"
            if wcu is not None else "unknown"),
    ]


def errors_text(burst: dict) -> str:
    errors = burst.get("errors", {})
    return "none" if not errors else ", ".join(f"{n} × {status}" for status, n in sorted(errors.items()))


def prices_note(prices: dict) -> str:
    return f"Prices ({prices['source']}): " + ", ".join([
        f"Lambda arm64 {prices['lambda']['per_gb_second']} USD per GB-s at each function's MemorySize (template.yaml) "
        f"and {prices['lambda']['per_request'] * 1e6:.2f} per million requests",
        f"API Gateway HTTP API {prices['api_gateway_http']['per_request'] * 1e6:.2f} per million",
        f"DynamoDB on demand {prices['dynamodb_on_demand']['per_write_request_unit'] * 1e6:.3f} per million write and "
        f"{prices['dynamodb_on_demand']['per_read_request_unit'] * 1e6:.3f} per million read request units",
    ]) + "."


def write_markdown(path: Path, table: str) -> None:
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    path.write_text(f"{head}{BEGIN}\n{table}\n{END}{rest.split(END, 1)[1]}")


def build(lambda_dir: Path) -> None:
    """`cargo lambda build --release` of the template's functions and the empty one, and nothing
    else: building the workspace would unify features with the tests and tools."""
    packages = [*functions_of_template().values(), EMPTY]
    command = ["cargo-lambda", "lambda", "build", "--release", "--output-format", "zip",
               "--lambda-dir", str(lambda_dir), *[arg for name in packages for arg in ("-p", name)]]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    print(f"bench: release build took {time.perf_counter() - started:.0f} s", flush=True)


def read_json(path: Path | None) -> dict | None:
    return json.loads(path.read_text()) if path and path.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lambda-dir", type=Path, default=ROOT / "target/lambda", help="cargo lambda's output: <binary>/bootstrap.zip")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "target/bench")
    parser.add_argument("--cold-starts", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--report", type=Path, help="the JSON report: written (default <work-dir>/report.json), or with --render-only read")
    parser.add_argument("--previous", type=Path, default=LAST_RUN, help="the run to compare with (default bench/last-run.json)")
    parser.add_argument("--load-report", type=Path, help="make load's figures, for the burst table (default <work-dir>/../load-report.json)")
    parser.add_argument("--markdown", type=Path, help="rewritten between its bench markers (default BENCHMARKS.md; with --render-only, none unless given)")
    parser.add_argument("--no-markdown", action="store_true")
    parser.add_argument("--build", action="store_true", help="build the release zips first (cargo lambda, each function and the empty one)")
    parser.add_argument("--render-only", action="store_true", help="render and compare --report, without building or measuring; writes no report")
    parser.add_argument("--fail-on-regression", action="store_true", help="exit 1 when a figure got worse beyond noise")
    args = parser.parse_args()

    prices = json.loads((ROOT / "bench/prices.json").read_text())
    targets = json.loads((ROOT / "bench/targets.json").read_text())
    model = json.loads((ROOT / "bench/model.json").read_text())
    # Read before anything is measured: this run's report replaces it.
    previous = read_json(args.previous)
    if previous is not None:
        previous = priced(upgrade(previous), prices)
    if args.render_only:
        if not args.report:
            parser.error("--render-only needs --report")
        report = priced(upgrade(json.loads(args.report.read_text())), prices)
        markdown = None if args.no_markdown else args.markdown
    else:
        if args.build:
            build(args.lambda_dir)
        report = priced(measure(args.lambda_dir, args.work_dir, args.cold_starts, args.requests), prices)
        text = json.dumps(report, indent=2) + "\n"
        (args.report or args.work_dir / "report.json").write_text(text)
        markdown = None if args.no_markdown else (args.markdown or ROOT / "BENCHMARKS.md")
    load = read_json(args.load_report or args.work_dir.parent / "load-report.json")
    compare_machines(report, previous)
    table = render(report, prices, targets, model, previous, load)
    print(table)
    if markdown:
        write_markdown(markdown, table)
    if not args.render_only:
        # Only once it rendered: a run that fails to render must not become the next one's baseline.
        LAST_RUN.write_text(text)
    print()
    for line in memory_advice(report, model, prices):
        print(f"memory: {line}")
    found = regressions(report, previous)
    if previous is None:
        print("bench: no previous run to compare with")
    elif found:
        print(f"bench: {len(found)} regression(s) beyond noise since the run of {previous['date']}:")
        print("\n".join(f"  {line}" for line in found))
    else:
        print(f"bench: no regression beyond noise since the run of {previous['date']}")
    if found and args.fail_on_regression:
        sys.exit(1)


if __name__ == "__main__":
    main()
