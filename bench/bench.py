#!/usr/bin/env python3
"""make bench: how big, how fast to start, how fast warm, how much memory and what each function's
main operation costs, measured on the release binaries `cargo lambda build --release` made.

Each function's real binary runs against the local stack (infra/local/stack.py with BENCH=1): the
Lambda Runtime API Lambda itself speaks, moto for DynamoDB, S3, SES and SQS, and the Stripe
emulator. Cold starts replace a function's process by a new one and time it as Lambda reports it:
Init Duration is the process's start to its first request for an event; the first response adds
the first invocation with its AWS calls. An empty lambda_http function built the same way is
cold-started in the same rounds, interleaved, so the comparison does not depend on the machine.

The figures go to a JSON report and between the markers of BENCHMARKS.md; the text around them
(what the figures mean, what was changed and measured) is written by hand and kept.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
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
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "infra/local"))
from steward_local.config import read_env_file  # noqa: E402
from steward_local.template import load_template  # noqa: E402

EMPTY = "empty-lambda"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def functions_of_template() -> dict[str, str]:
    """Logical id -> binary name, in the template's order."""
    template = load_template(ROOT / "template.yaml")
    return {
        logical: resource["Metadata"]["BuildProperties"]["Binary"]
        for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


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
        self.process.stdin.close()
        self.process.wait(timeout=30)

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


def schedules_off() -> list[str]:
    """No scheduled run while functions are timed: per-function intervals in the env file too."""
    names = [k for k in read_env_file(ROOT / "infra/local.env") if k.startswith("LOCAL_SCHEDULE_SECONDS_")]
    return [arg for name in names for arg in ("--set", f"{name}=86400")]


def person() -> dict:
    return {"x-local-source-ip": f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}", "idempotency-key": str(uuid.uuid4())}


def expect(status: int, data: bytes, allowed: tuple[int, ...], what: str) -> bytes:
    if status not in allowed:
        raise RuntimeError(f"{what}: HTTP {status}: {data[:300]!r}")
    return data


class Operations:
    """Each function's main operation, as its users call it. HTTP functions go through the local
    API gateway; queue and schedule consumers are invoked with their sample events."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.registration_grant = None
        self.cv_grant = None
        self.confirm_token = None
        self.webhook_secret = stack.settings["STRIPE_WEBHOOK_SECRETS"].split(",")[0]

    def submit_form(self):
        email_address = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        status, data, _ = self.stack.request(
            "POST", "/forms/newsletter", {"email": email_address, "name": "Ada", "interests": ["identity", "events"]}, person()
        )
        return expect(status, data, (200, 201, 202), "POST /forms/newsletter")

    def prepare_payments(self):
        # Payment starts are limited per person and per IP address (ten and sixty in ten
        # minutes): the measured calls resume the checkouts of many registrations, from many
        # addresses, as many buyers would.
        self.registration_grants = []
        for _ in range(40):
            status, data, _ = self.stack.request("POST", "/forms/event-registration", {
                "name": "Ada Lovelace", "email": f"bench-{uuid.uuid4().hex[:12]}@example.com", "phone": "+44 20 7946 0958",
                "job_title": "CTO", "company": "Acme", "country": "GB", "state": "GB-LND", "event": "wso2con-2027",
            }, person())
            self.registration_grants.append(json.loads(expect(status, data, (201,), "event registration"))["payment"]["token"])
        self.payment_calls = 0

    def payments(self):
        grant = self.registration_grants[self.payment_calls % len(self.registration_grants)]
        self.payment_calls += 1
        status, data, _ = self.stack.request("POST", "/payments", {"token": grant}, person())
        return expect(status, data, (200,), "POST /payments")

    def prepare_cv_upload(self):
        status, data, _ = self.stack.request("POST", "/forms/careers", {
            "name": "Ada Lovelace", "email": f"bench-{uuid.uuid4().hex[:12]}@example.com", "phone": "+44 20 7946 0958",
            "country": "GB", "position": "Rust engineer",
        }, person())
        self.cv_grant = json.loads(expect(status, data, (201,), "careers application"))["cv_upload"]["token"]

    def cv_upload(self):
        status, data, _ = self.stack.request(
            "POST", "/careers/cv-upload", {"token": self.cv_grant, "content_type": "application/pdf", "file_name": "cv.pdf"}
        )
        return expect(status, data, (200,), "POST /careers/cv-upload")

    def privacy(self):
        status, data, _ = self.stack.request(
            "POST", "/privacy/link", {"email": f"bench-{uuid.uuid4().hex[:12]}@example.com"}, person()
        )
        return expect(status, data, (200, 202), "POST /privacy/link")

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

    def invoke(self, logical: str, event_file: str):
        event = json.loads((ROOT / "events" / event_file).read_text())
        result = self.stack.control(f"/{logical}/invoke", event)
        if result["error"]:
            raise RuntimeError(f"{logical}: {result['error']}")
        return result

    def table(self) -> dict[str, tuple[str, callable, callable | None]]:
        """Logical id -> (what is measured, the operation, its one-off preparation)."""
        return {
            "SubmitFormFunction": ("POST /forms/newsletter (a new person, JSON)", self.submit_form, None),
            "CvUploadFunction": ("POST /careers/cv-upload (a presigned upload)", self.cv_upload, self.prepare_cv_upload),
            "VerifyCvFunction": ("an S3 event for a missing object", lambda: self.invoke("VerifyCvFunction", "verify-cv/sqs-s3-object-created.json"), None),
            "PaymentsFunction": ("POST /payments (a PaymentIntent on the emulator)", self.payments, self.prepare_payments),
            "StripeWebhookFunction": ("POST /webhooks/stripe (payment_intent.succeeded)", self.stripe_webhook, None),
            "MailEventsFunction": ("an SQS batch with one bounce", lambda: self.invoke("MailEventsFunction", "mail-events/sqs-ses-bounce.json"), None),
            "MailOutboxFunction": ("a scheduled run (outbox drained)", lambda: self.invoke("MailOutboxFunction", "mail-outbox/scheduled.json"), None),
            "UnsubscribeFunction": ("POST /subscriptions/confirm (a signed link from mail)", self.unsubscribe, self.prepare_unsubscribe),
            "PrivacyFunction": ("POST /privacy/link (a sign-in link by mail)", self.privacy, None),
            "RetentionFunction": ("a scheduled sweep", lambda: self.invoke("RetentionFunction", "retention/scheduled.json"), None),
        }


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


# --- the measurements -----------------------------------------------------------------------------


def measure(lambda_dir: Path, work: Path, cold_starts: int, requests: int) -> dict:
    functions = functions_of_template()
    bin_dir = work / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "functions": {},
    }
    for name in [*functions.values(), EMPTY]:
        archive = lambda_dir / name / "bootstrap.zip"
        if not archive.exists():
            raise SystemExit(f"{archive} is missing: run cargo lambda build --release --output-format zip first")
        with zipfile.ZipFile(archive) as zipped:
            (bin_dir / name).write_bytes(zipped.read("bootstrap"))
        (bin_dir / name).chmod(0o755)
        report["functions"][name] = {"zip_bytes": archive.stat().st_size, "binary_bytes": (bin_dir / name).stat().st_size}

    stack = Stack(bin_dir, work / "logs")
    try:
        operations = Operations(stack)
        table = operations.table()
        for logical, (_, _, prepare) in table.items():
            if prepare:
                prepare()
        # Cold starts: every function and the empty one in each round, so that a slow moment of the
        # machine hits them alike. The empty function stands in for submit-form's binary.
        cold: dict[str, dict[str, list[float]]] = {n: {"init_ms": [], "first_response_ms": [], "rss_kb": []} for n in [*functions, EMPTY]}
        for _ in range(cold_starts):
            for logical, (_, operation, _) in table.items():
                stack.control(f"/{logical}/cold-start", {})
                operation()
                record(cold[logical], stack.control("")[logical]["last_cold_start"])
            stack.control("/SubmitFormFunction/cold-start", {"binary": str(bin_dir / EMPTY)})
            stack.request("POST", "/forms/newsletter", {}, person())
            record(cold[EMPTY], stack.control("")["SubmitFormFunction"]["last_cold_start"])
        # Warm: one fresh process per function, a first call to warm it, then `requests` calls one
        # after another. Durations are the Runtime API's (what Lambda bills), latencies the client's.
        for logical, (what, operation, _) in table.items():
            stack.control(f"/{logical}/cold-start", {})
            operation()
            before = len(stack.control("")[logical]["durations_ms"])
            _, offset = request_lines(stack.log_dir, logical, 0)
            latencies = []
            started = time.perf_counter()
            for _ in range(requests):
                began = time.perf_counter()
                operation()
                latencies.append((time.perf_counter() - began) * 1000)
            elapsed = time.perf_counter() - started
            stats = stack.control("")[logical]
            durations = stats["durations_ms"][before:]
            lines, _ = request_lines(stack.log_dir, logical, offset)
            entry = report["functions"][functions[logical]]
            entry.update({
                "operation": what,
                "init_ms": summary(cold[logical]["init_ms"]),
                "first_response_ms": summary(cold[logical]["first_response_ms"]),
                "duration_ms": {"p50": percentile(durations, 50), "p99": percentile(durations, 99), "mean": statistics.fmean(durations)},
                "latency_ms": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)},
                "throughput_per_s": requests / elapsed,
                "peak_rss_kb": stats["peak_rss_kb"],
                "cold_rss_kb": max(cold[logical]["rss_kb"] or [0]),
            })
            if lines:
                entry["dynamodb_read_units"] = statistics.fmean(float(l.get("dynamodb_read_units", 0)) for l in lines)
                entry["dynamodb_write_units"] = statistics.fmean(float(l.get("dynamodb_write_units", 0)) for l in lines)
            stack.control(f"/{logical}/resume", {})
        report["functions"][EMPTY].update({"init_ms": summary(cold[EMPTY]["init_ms"]), "first_response_ms": summary(cold[EMPTY]["first_response_ms"]),
                                           "cold_rss_kb": max(cold[EMPTY]["rss_kb"] or [0])})
    finally:
        stack.stop()
    return report


def record(series: dict[str, list[float]], cold_start: dict) -> None:
    series["init_ms"].append(cold_start["init_ms"])
    if "first_response_ms" in cold_start:
        series["first_response_ms"].append(cold_start["first_response_ms"])
        series["rss_kb"].append(cold_start.get("peak_rss_kb", 0))


def summary(values: list[float]) -> dict:
    return {"p50": percentile(values, 50), "p99": percentile(values, 99), "n": len(values)}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    cores = sum(1 for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("processor"))
    return f"{cpu}, {cores} cores, {platform.system()} {platform.release()} ({platform.machine()})"


# --- cost ------------------------------------------------------------------------------------------


def cost_per_million(entry: dict, prices: dict, http: bool) -> float | None:
    """USD per million operations: Lambda requests and billed GB-seconds (durations measured here,
    priced at arm64 and the function's memory), API Gateway HTTP API requests for HTTP functions,
    and DynamoDB on-demand request units."""
    if "duration_ms" not in entry:
        return None
    lambda_prices = prices["lambda"]
    billed_ms = math.ceil(entry["duration_ms"]["mean"])
    gb_seconds = billed_ms / 1000 * lambda_prices["memory_mb"] / 1024
    per_operation = lambda_prices["per_request"] + gb_seconds * lambda_prices["per_gb_second"]
    if http:
        per_operation += prices["api_gateway_http"]["per_request"]
    per_operation += entry.get("dynamodb_write_units", 0) * prices["dynamodb_on_demand"]["per_write_request_unit"]
    per_operation += entry.get("dynamodb_read_units", 0) * prices["dynamodb_on_demand"]["per_read_request_unit"]
    return per_operation * 1_000_000


# --- BENCHMARKS.md ----------------------------------------------------------------------------------


def render(report: dict, prices: dict, targets: dict) -> str:
    functions = report["functions"]
    empty_init = functions[EMPTY]["init_ms"]["p50"]
    http_functions = {b for l, b in functions_of_template().items() if l not in ("VerifyCvFunction", "MailEventsFunction", "MailOutboxFunction", "RetentionFunction")}
    mb = lambda n: f"{n / 1_000_000:.2f}"
    ms = lambda v: f"{v:.1f}"
    out = [
        f"Measured {report['date']} on {report['machine']}, by `make bench` "
        f"({report['cold_starts']} cold starts and {report['requests']} warm calls per function; x86_64 binaries, "
        "priced as arm64).",
        "",
        "### Size, start and memory",
        "",
        "| function | zip MB | binary MB | init p50 ms | init p99 ms | init ÷ empty | first response p50 ms | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, entry in functions.items():
        ratio = entry["init_ms"]["p50"] / empty_init if empty_init else float("nan")
        rss = max(entry.get("peak_rss_kb", 0), entry.get("cold_rss_kb", 0)) / 1024
        out.append(
            f"| {name} | {mb(entry['zip_bytes'])} | {mb(entry['binary_bytes'])} | {ms(entry['init_ms']['p50'])} | "
            f"{ms(entry['init_ms']['p99'])} | {ratio:.2f} | {ms(entry['first_response_ms']['p50']) if entry['first_response_ms']['n'] else '–'} | {rss:.1f} |"
        )
    out += [
        "",
        "### Warm, per operation",
        "",
        "| function | operation | duration p50 ms | p99 ms | client latency p50 ms | p99 ms | ops/s (one instance) | RCU | WCU | USD per million |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, entry in functions.items():
        if "duration_ms" not in entry:
            continue
        cost = cost_per_million(entry, prices, name in http_functions)
        units = lambda key: f"{entry[key]:.1f}" if key in entry else "–"
        out.append(
            f"| {name} | {entry['operation']} | {ms(entry['duration_ms']['p50'])} | {ms(entry['duration_ms']['p99'])} | "
            f"{ms(entry['latency_ms']['p50'])} | {ms(entry['latency_ms']['p99'])} | {entry['throughput_per_s']:.0f} | "
            f"{units('dynamodb_read_units')} | {units('dynamodb_write_units')} | {cost:.2f} |"
        )
    submit = functions["submit-form"]
    checks = [
        ("every zip ≤ 3 MB", all(e["zip_bytes"] <= targets["zip_bytes"] for n, e in functions.items() if n != EMPTY),
         f"largest {mb(max(e['zip_bytes'] for n, e in functions.items() if n != EMPTY))} MB"),
        ("init ≤ 2 × empty", all(e["init_ms"]["p50"] <= targets["init_ratio"] * empty_init for e in functions.values()),
         f"worst {max(e['init_ms']['p50'] for e in functions.values()) / empty_init:.2f}×"),
        ("peak RSS ≤ 32 MB", all(max(e.get("peak_rss_kb", 0), e.get("cold_rss_kb", 0)) <= targets["rss_kb"] for e in functions.values()),
         f"largest {max(max(e.get('peak_rss_kb', 0), e.get('cold_rss_kb', 0)) for e in functions.values()) / 1024:.1f} MB"),
        ("a form submission ≤ 2 WCU", submit.get("dynamodb_write_units", 99) <= targets["submission_wcu"],
         f"{submit.get('dynamodb_write_units', float('nan')):.1f} WCU"),
        ("≤ 2.50 USD per million submissions", cost_per_million(submit, prices, True) <= targets["submission_usd_per_million"],
         f"{cost_per_million(submit, prices, True):.2f} USD"),
    ]
    out += ["", "### Targets (issue 9)", "", "| target | met | measured |", "|---|---|---|"]
    out += [f"| {what} | {'yes' if met else '**no**'} | {value} |" for what, met, value in checks]
    out += [
        "",
        f"Prices ({prices['source']}): " + ", ".join([
            f"Lambda arm64 {prices['lambda']['per_gb_second']} USD per GB-s at {prices['lambda']['memory_mb']} MB and {prices['lambda']['per_request'] * 1e6:.2f} per million requests",
            f"API Gateway HTTP API {prices['api_gateway_http']['per_request'] * 1e6:.2f} per million",
            f"DynamoDB on demand {prices['dynamodb_on_demand']['per_write_request_unit'] * 1e6:.3f} per million write and "
            f"{prices['dynamodb_on_demand']['per_read_request_unit'] * 1e6:.3f} per million read request units",
        ]) + ".",
    ]
    return "\n".join(out)


def build(lambda_dir: Path) -> None:
    """`cargo lambda build --release` of the template's functions and the empty one, and nothing
    else: building the workspace would unify features with the tests and tools."""
    packages = [*functions_of_template().values(), EMPTY]
    command = ["cargo-lambda", "lambda", "build", "--release", "--output-format", "zip",
               "--lambda-dir", str(lambda_dir), *[arg for name in packages for arg in ("-p", name)]]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    print(f"bench: release build took {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lambda-dir", type=Path, default=ROOT / "target/lambda", help="cargo lambda's output: <binary>/bootstrap.zip")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "target/bench")
    parser.add_argument("--cold-starts", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--report", type=Path, help="the JSON report (default: <work-dir>/report.json)")
    parser.add_argument("--markdown", type=Path, default=ROOT / "BENCHMARKS.md", help="rewritten between its bench markers; none with --no-markdown")
    parser.add_argument("--no-markdown", action="store_true")
    parser.add_argument("--build", action="store_true", help="build the release zips first (cargo lambda, each function and the empty one)")
    args = parser.parse_args()

    if args.build:
        build(args.lambda_dir)
    prices = json.loads((ROOT / "bench/prices.json").read_text())
    targets = json.loads((ROOT / "bench/targets.json").read_text())
    report = measure(args.lambda_dir, args.work_dir, args.cold_starts, args.requests)
    report.update({"cold_starts": args.cold_starts, "requests": args.requests})
    (args.report or args.work_dir / "report.json").write_text(json.dumps(report, indent=2))
    table = render(report, prices, targets)
    print(table)
    if not args.no_markdown:
        text = args.markdown.read_text() if args.markdown.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
        if BEGIN not in text:
            text += f"\n{BEGIN}\n{END}\n"
        head, rest = text.split(BEGIN, 1)
        args.markdown.write_text(f"{head}{BEGIN}\n{table}\n{END}{rest.split(END, 1)[1]}")


if __name__ == "__main__":
    main()
