"""Steward's local stack: everything `template.yaml` defines, on loopback.

- AWS APIs: a moto server (DynamoDB, S3, SES v2, SQS, Secrets Manager, EventBridge, Cognito) on 127.0.0.1.
- Resources: created from `template.yaml` itself, so nothing here repeats the template.
- Functions: each function's real binary runs as Lambda runs it, polling a local Lambda Runtime
  API (the same protocol as AWS), with the environment the template gives it.
- HTTP API: every HttpApi route of the template on http://127.0.0.1:3000, turned into the same
  API Gateway payload v2 event Lambda receives (request context with source IP, path parameters,
  base64 bodies), and the function's answer turned back into HTTP; routes with the API's JWT
  authorizer get only the requests whose token it accepts.
- Staff: one staff member per group of the Cognito user pool, each with an authenticator app,
  printed at start and listed at /_local/staff (local only).
- Schedules: scheduled functions run by themselves (rate(): every LOCAL_SCHEDULE_SECONDS; cron(): at
  its times) and on demand: POST /_local/schedules/<LogicalId>.

Prints one line `STEWARD-READY {json}` when everything answers; Ctrl-C (or, with
--exit-on-stdin-eof, the parent closing stdin) stops it all.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
from collections import Counter
from functools import partial
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from . import config
from .authorizers import authorizers_of, route_authorizer
from .config import ROOT, log, read_env_file
from .event_sources import Schedule, SqsPoller
from .gateway import Gateway, Route, compile_path
from .housekeeping import Housekeeping
from .moto_server import Gate, enforce_iam, start_moto
from .resources import create_resources
from .runtime import LocalFunction, QuietServer
from .staff import DEFAULT_PASSWORD, seed_staff
from .template import Resolver, load_template
from .webhooks import WebhookReceiver


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing answered on port {port}")


def console_path(template: dict, routes: list[Route]) -> str | None:
    """Where the staff sign in: the shortest GET route without parameters of a function given a
    user pool (its environment names one)."""
    pools = {logical for logical, resource in template["Resources"].items() if resource["Type"] == "AWS::Cognito::UserPool"}
    consoles = set()
    for logical, resource in template["Resources"].items():
        variables = resource.get("Properties", {}).get("Environment", {}).get("Variables", {}) if resource["Type"] == "AWS::Serverless::Function" else {}
        if any(value == {"Ref": pool} for value in variables.values() for pool in pools):
            consoles.add(logical)
    paths = [route.path for route in routes if route.function.logical in consoles and route.method in ("GET", "ANY") and "{" not in route.path]
    return min(paths, key=len) if paths else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-file", type=Path, default=ROOT / "infra/local.env")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--openapi", type=Path, default=ROOT / "infra/openapi.yaml")
    parser.add_argument("--bin-dir", type=Path, default=ROOT / "target/debug")
    parser.add_argument("--api-port", type=int, help="0 picks a free port (default: API_PORT)")
    parser.add_argument("--moto-port", type=int, help="0 picks a free port (default: MOTO_PORT)")
    parser.add_argument("--stripe-port", type=int, help="0 picks a free port (default: STRIPE_EMULATOR_PORT)")
    parser.add_argument("--log-dir", type=Path, help="write function logs here instead of the console")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a value of the env file")
    parser.add_argument("--trust-test-ip-header", action="store_true", help="tests only: X-Local-Source-Ip sets the source IP")
    parser.add_argument("--exit-on-stdin-eof", action="store_true", help="stop when the parent closes stdin")
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="the reference site, served at / (default: site/)")
    args = parser.parse_args()

    settings = read_env_file(args.env_file)
    for pair in args.set:
        key, value = pair.split("=", 1)
        settings[key] = value
    region = settings["AWS_REGION"]
    api_port = args.api_port if args.api_port is not None else int(settings["API_PORT"])
    moto_port = args.moto_port if args.moto_port is not None else int(settings["MOTO_PORT"])
    # Every server binds its port (0: one the kernel picks) before anything else starts, and keeps
    # it: a port picked free and bound later can be taken meanwhile by another stack (tests start
    # several at once), which once left a stack without its API.
    api = QuietServer((settings.get("API_HOST", "127.0.0.1"), api_port), BaseHTTPRequestHandler)
    api.daemon_threads = True
    api_port = api.server_address[1]
    api_url = f"http://{settings.get('API_HOST', '127.0.0.1')}:{api_port}"
    # `{api}` in any value (the env file's or --set's) is this API's URL, whichever port it got:
    # what the stack's own endpoints are addressed by, e.g. WebhookEndpoints to the dev receiver.
    for key, value in settings.items():
        if "{api}" in value:
            settings[key] = value.replace("{api}", api_url)
    # Links in mail point at this API, whichever port it got. The reference site is served from
    # the same origin (at `/`), so it is also the site that forms thank people on, and an allowed
    # origin for browsers (the CV bucket's CORS too).
    settings["PublicApiUrl"] = api_url
    # An explicit `--set SiteUrl=...` wins.
    settings["SiteUrl"] = dict(pair.split("=", 1) for pair in args.set).get("SiteUrl", api_url).replace("{api}", api_url)
    origins = [o for o in settings.get("AllowedOrigins", "").split(",") if o]
    if settings["PublicApiUrl"] not in origins:
        settings["AllowedOrigins"] = ",".join(origins + [settings["PublicApiUrl"]])
    for key in ("AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[key] = settings[key]
    os.environ["AWS_DEFAULT_REGION"] = region

    gate = Gate()
    if settings.get("BENCH") == "1":
        gate.calls = Counter()
        from . import moto_patches

        moto_patches.record_writes()
    moto = start_moto(moto_port, gate)
    moto_port = moto.server_address[1]
    # What AWS does over time and moto does not (TTL, a mailbox that does not grow without end).
    if float(settings.get("LOCAL_HOUSEKEEPING_SECONDS", "60")) > 0:
        Housekeeping(moto.steward_lock, settings).start()
    wait_for_port(moto_port)
    endpoint = f"http://127.0.0.1:{moto_port}"

    template = load_template(args.template)
    resolver = Resolver(template, settings, settings["STACK_NAME"], region)
    resources = create_resources(template, resolver, endpoint, region)
    # Local only: staff members to sign in to the console with (before IAM: as the administrator).
    staff = seed_staff(template, resolver, endpoint, region, settings.get("LOCAL_STAFF_PASSWORD") or DEFAULT_PASSWORD)
    if args.log_dir:
        args.log_dir.mkdir(parents=True, exist_ok=True)
        # Each run's logs are its own: a day of `make dev` does not grow last week's files.
        for old in args.log_dir.glob("*.log"):
            old.unlink()
        config.EVENTS_LOG = args.log_dir / "stack-events.log"
    identities = enforce_iam(gate, template, resolver, settings, region, args.log_dir)
    from .limits import Limits

    gate.limits = Limits({
        resolver.ref(logical): int(resource["Properties"].get("MaximumMessageSize", 256 * 1024))
        for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::SQS::Queue"
    })

    if args.log_dir:
        args.log_dir.mkdir(parents=True, exist_ok=True)

    stripe_url = None
    if "_local_" in settings.get("STRIPE_SECRET_KEY", ""):
        sys.path.insert(0, str(ROOT / "infra/stripe"))
        import emulator as stripe_emulator

        stripe_port = args.stripe_port if args.stripe_port is not None else int(settings.get("STRIPE_EMULATOR_PORT", "12111"))
        _, stripe_server = stripe_emulator.serve(
            stripe_port,
            f"{api_url}/webhooks/stripe",
            settings["STRIPE_WEBHOOK_SECRETS"].split(",")[0],
            ROOT / "crates/steward-core/payments.toml",
        )
        stripe_url = f"http://127.0.0.1:{stripe_server.server_address[1]}"
    # Tests of faults put a proxy between the functions and moto that fails requests on demand.
    function_endpoint = endpoint
    fault_proxy = None
    if settings.get("FAULT_PROXY") == "1":
        from .faults import FaultProxy

        fault_proxy = FaultProxy(endpoint)
        fault_proxy.start()
        function_endpoint = fault_proxy.url
    globals_fn = template.get("Globals", {}).get("Function", {})
    apis = authorizers_of(template, resolver, endpoint)
    functions: dict[str, LocalFunction] = {}
    routes: list[Route] = []
    pollers: list[SqsPoller] = []
    schedules: list[Schedule] = []
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        binary = args.bin_dir / resource["Metadata"]["BuildProperties"]["Binary"]
        if not binary.exists():
            raise SystemExit(f"{binary} is missing: build the functions first (cargo build --bins)")
        env = {
            **{k: str(v) for k, v in resolver.resolve(globals_fn.get("Environment", {}).get("Variables", {})).items()},
            **{k: str(v) for k, v in resolver.resolve(props.get("Environment", {}).get("Variables", {})).items()},
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            # Each function calls AWS as its own role (iam.py), as in Lambda.
            "AWS_ACCESS_KEY_ID": identities[logical],
            "AWS_SECRET_ACCESS_KEY": settings["AWS_SECRET_ACCESS_KEY"],
            "AWS_ENDPOINT_URL": function_endpoint,
            **({"STRIPE_API_BASE": stripe_url} if stripe_url else {}),
            # Turnstile's siteverify, answered by the gateway (gateway.py) as Cloudflare's test keys are.
            "TURNSTILE_SITEVERIFY_URL": f"{api_url}/_local/turnstile/siteverify",
            "AWS_LAMBDA_FUNCTION_NAME": resolver.ref(logical),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props.get("MemorySize", globals_fn.get("MemorySize", 128))),
            "PATH": os.environ.get("PATH", ""),
        }
        timeout = int(props.get("Timeout", globals_fn.get("Timeout", 3)))
        workers = int(settings.get("FUNCTION_WORKERS", "2"))
        memory_mb = int(props.get("MemorySize", globals_fn.get("MemorySize", 128)))
        function = LocalFunction(logical, binary, env, timeout, workers, args.log_dir, memory_mb)
        function.bench = settings.get("BENCH") == "1"
        if gate.calls is not None:
            from . import moto_patches

            function.aws_calls = partial(gate.calls_of, identities[logical])
            function.dynamodb_writes = partial(moto_patches.writes_of, identities[logical])
        functions[logical] = function
        for event in props.get("Events", {}).values():
            if event["Type"] == "Schedule":
                expression = str(resolver.resolve(event["Properties"]["Schedule"]))
                # LOCAL_SCHEDULE_SECONDS_<LogicalId> overrides the common local interval, which a
                # rate() runs at; a cron() runs at its own times unless given an interval of its own.
                own = settings.get(f"LOCAL_SCHEDULE_SECONDS_{logical}")
                if own is not None:
                    every = float(own)
                elif expression.startswith("cron("):
                    every = None
                else:
                    every = float(settings.get("LOCAL_SCHEDULE_SECONDS", "60"))
                schedules.append(Schedule(function, expression, every, region))
            if event["Type"] == "SQS":
                event_props = resolver.resolve(event["Properties"])
                # Lambda's event source mapping polls with the function's role.
                pollers.append(SqsPoller(function, event_props["Queue"], event_props.get("BatchSize", 10), endpoint, region,
                                         identities[logical], settings["AWS_SECRET_ACCESS_KEY"]))
            if event["Type"] == "HttpApi":
                method = event["Properties"]["Method"].upper()
                path = event["Properties"]["Path"]
                authorizer, scopes = route_authorizer(event["Properties"], apis)
                routes.append(Route(method, path, function, compile_path(path), authorizer, scopes))
    for function in functions.values():
        function.start()
    for poller in pollers:
        poller.start()
    for schedule in schedules:
        schedule.start()

    # The webhook destinations WebhookEndpoints sends to the dev receiver are listed there (with
    # their secrets) before their first delivery.
    receiver_prefix = f"{api_url}/_local/webhooks/"
    local_destinations = [
        name.strip() for name, _, url in (pair.partition("=") for pair in resolver.params.get("WebhookEndpoints", "").split(","))
        if name.strip() and url.strip().startswith(receiver_prefix)
    ]
    webhooks = WebhookReceiver(settings.get("WEBHOOK_SIGNING_KEY"), local_destinations)
    gateway = Gateway(routes, args.openapi, args.trust_test_ip_header, endpoint, stripe_url, args.site,
                      functions if settings.get("BENCH") == "1" else None, webhooks, staff,
                      {schedule.function.logical: schedule for schedule in schedules})
    # Requests that arrived while the stack started waited in the listen queue; they are served now.
    api.RequestHandlerClass = gateway.handler_class()
    threading.Thread(target=api.serve_forever, daemon=True).start()

    stop = threading.Event()

    def shutdown(*_):
        for function in functions.values():
            function.supervising = False
        stop.set()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    if args.exit_on_stdin_eof:
        # The same stop as a signal's: no stopped worker is restarted while the others stop.
        threading.Thread(target=lambda: (sys.stdin.read(), shutdown()), daemon=True).start()

    ready = {
        "iam": "enforced" if gate.enforcer is not None else "off",
        "api": api_url, "site": settings["SiteUrl"], "aws_endpoint": endpoint, "resources": resources,
        "region": region, "stripe": stripe_url, "fault_proxy": fault_proxy.url if fault_proxy else None,
        "staff": staff,
    }
    print("STEWARD-READY " + json.dumps(ready), flush=True)
    log(f"AWS emulator (moto): {endpoint}")
    if stripe_url:
        log(f"Stripe emulator: {stripe_url} (webhooks to {api_url}/webhooks/stripe)")
    for name, physical in resources.items():
        log(f"  {name}: {physical}")
    log(f"HTTP API: {api_url}  (OpenAPI: {api_url}/openapi.json)")
    for route in routes:
        guard = f", {route.authorizer.name}" if route.authorizer else ""
        log(f"  {route.route_key:<32} -> {route.function.logical} ({route.function.workers} workers{guard})")
    for poller in pollers:
        log(f"  SQS {poller.queue_arn.rsplit(':', 1)[1]:<28} -> {poller.function.logical}")
    for schedule in schedules:
        log(f"  {schedule.expression:<32} -> {schedule.function.logical} ({schedule.when()})")
    if schedules:
        log(f"  (run one now: curl -X POST {api_url}/_local/schedules/<Function>)")
    log(f"Reference site: {settings['SiteUrl']}/")
    log(f"Dev mailbox: {api_url}/_local/mailbox")
    log(f"Webhook receiver: {api_url}/_local/webhooks (deliveries to {api_url}/_local/webhooks/<name>)")
    if staff is not None:
        console = console_path(template, routes)
        log(f"Staff console: {api_url}{console}" if console else "Staff console: (no console route)")
        log(f"  Staff members (user pool {staff['user_pool_id']}, also at {api_url}/_local/staff):")
        for user in staff["users"]:
            app = f"  authenticator app secret {user['totp_secret']}" if user["totp_secret"] else ""
            log(f"    {user['group']:<11} {user['email']:<34} password {user['password']}{app}")
        if any(user["totp_secret"] for user in staff["users"]):
            log("  (add the secret to an authenticator app as a time-based key: its 6-digit codes are what sign-in asks for)")
    if args.log_dir:
        log(f"Function logs: {args.log_dir}/<Function>.log (tail -f {args.log_dir}/SubmitFormFunction.log)")
    log("Ctrl-C stops everything.")

    stop.wait()
    log("stopping")
    for poller in pollers:
        poller.stopping = True
    for schedule in schedules:
        schedule.stopping = True
    api.shutdown()
    for function in functions.values():
        function.stop()
    moto.shutdown()
