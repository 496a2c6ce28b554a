#!/usr/bin/env python3
"""Steward's local stack: everything `template.yaml` defines, on loopback.

- AWS APIs: a moto server (DynamoDB, S3, SES v2, SQS) on 127.0.0.1.
- Resources: created from `template.yaml` itself, so nothing here repeats the template.
- Functions: each function's real binary runs as Lambda runs it, polling a local Lambda Runtime
  API (the same protocol as AWS), with the environment the template gives it.
- HTTP API: every HttpApi route of the template on http://127.0.0.1:3000, turned into the same
  API Gateway payload v2 event Lambda receives (request context with source IP, path parameters,
  base64 bodies), and the function's answer turned back into HTTP.

Prints one line `STEWARD-READY {json}` when everything answers; Ctrl-C (or, with
--exit-on-stdin-eof, the parent closing stdin) stops it all.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "123456789012"
RUNTIME_PREFIX = "/2018-06-01/runtime"
# API Gateway's payload limit; larger requests never reach a function.
MAX_PAYLOAD = 10 * 1024 * 1024
# Lambda's limits on a synchronous invocation's event and on its response, as Lambda counts them.
LAMBDA_REQUEST_LIMIT = 6_291_456
LAMBDA_RESPONSE_LIMIT = 6_291_556
# How long API Gateway waits for its integration before it answers 503 on its own.
INTEGRATION_TIMEOUT_SECONDS = 30
# How long a queue's or a schedule's event waits for an environment that never starts (one whose
# start keeps failing) before the invocation fails, as Lambda's does.
UNSTARTED_LIMIT_SECONDS = 30
# Bodies API Gateway passes as text; everything else arrives base64-encoded.
TEXT_TYPES = re.compile(r"^(text/|application/(json|.*\+json|xml|.*\+xml|javascript))", re.I)


# With --log-dir, what the stack says is also kept there (stack-events.log), for the tests to read.
EVENTS_LOG: Path | None = None


def log(message: str) -> None:
    print(f"[stack] {message}", file=sys.stderr, flush=True)
    if EVENTS_LOG is not None:
        with EVENTS_LOG.open("a") as out:
            out.write(f"{time.strftime('%H:%M:%S')} {message}\n")


# --- configuration ---------------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub, !GetAtt, ...) as their long forms."""


def _cfn_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node):
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=CfnLoader)


class Resolver:
    """Resolves the intrinsic functions the template uses to local values."""

    def __init__(self, template: dict, params: dict[str, str], stack: str, region: str):
        self.template = template
        # Every value of the env file: secrets are seeded from it (they are not parameters).
        self.settings = params
        self.params = {}
        for name, spec in template.get("Parameters", {}).items():
            if name in params:
                self.params[name] = params[name]
            elif "Default" in spec:
                self.params[name] = str(spec["Default"])
            else:
                raise SystemExit(f"template parameter {name} has no default; set it in infra/local.env")
        self.stack = stack
        self.region = region
        self.physical: dict[str, str] = {}

    def pseudo(self, name: str) -> str:
        return {
            "AWS::StackName": self.stack,
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
        }[name]

    def ref(self, name: str) -> str:
        if name in self.params:
            return self.params[name]
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.physical:
            return self.physical[name]
        raise KeyError(f"cannot resolve Ref {name} locally")

    def resolve(self, value):
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

                def sub(match):
                    name = match.group(1)
                    if name in extra:
                        return str(extra[name])
                    if "." in name:
                        return self.get_att(*name.split(".", 1))
                    return self.ref(name)

                return re.sub(r"\$\{([^}!]+)\}", sub, text)
            if key == "Fn::GetAtt":
                return self.get_att(*arg)
            if key == "Fn::Join":
                return arg[0].join(str(self.resolve(v)) for v in arg[1])
            if key == "Fn::Split":
                return self.resolve(arg[1]).split(arg[0])
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items() if v != {"Ref": "AWS::NoValue"}}
        if isinstance(value, list):
            return [self.resolve(v) for v in value if v != {"Ref": "AWS::NoValue"}]
        return value

    def condition(self, name: str) -> bool:
        """A template condition, as CloudFormation evaluates it with the local parameters."""
        return bool(self._condition(self.template.get("Conditions", {})[name]))

    def _condition(self, value):
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Fn::Equals":
                return str(self._condition(arg[0])) == str(self._condition(arg[1]))
            if key == "Fn::Not":
                return not self._condition(arg[0])
            if key == "Fn::And":
                return all(self._condition(v) for v in arg)
            if key == "Fn::Or":
                return any(self._condition(v) for v in arg)
            if key == "Condition":
                return self.condition(arg)
        return self.resolve(value)

    def get_att(self, resource: str, attribute: str) -> str:
        kind = self.template["Resources"][resource]["Type"]
        name = self.ref(resource)
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{name}"
        if kind == "AWS::DynamoDB::Table" and attribute == "StreamArn":
            return f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{name}/stream/local"
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{name}"
        if kind == "AWS::SQS::Queue" and attribute == "Arn":
            return f"arn:aws:sqs:{self.region}:{ACCOUNT_ID}:{name}"
        if kind == "AWS::Serverless::Function" and attribute == "Arn":
            return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
        raise KeyError(f"cannot resolve GetAtt {resource}.{attribute} locally")


# --- resources -------------------------------------------------------------------------------


def create_resources(template: dict, resolver: Resolver, endpoint: str, region: str) -> dict[str, str]:
    """Creates, in moto, each resource of the template that has a local meaning, in dependency
    order: tables, dead-letter queues, queues, buckets (whose notifications need the queues)."""
    import boto3

    session = boto3.session.Session(region_name=region)
    clients = {
        name: session.client(name, endpoint_url=endpoint)
        for name in ("dynamodb", "sqs", "s3", "ses", "secretsmanager")
    }
    resources = template["Resources"]
    for logical, resource in resources.items():
        kind = resource["Type"]
        if kind == "AWS::Serverless::Function":
            resolver.physical[logical] = f"{resolver.stack}-{logical}"
        elif kind == "AWS::Serverless::HttpApi":
            resolver.physical[logical] = "local"

    def rank(item):
        kind = item[1]["Type"]
        redrive = "RedrivePolicy" in item[1].get("Properties", {})
        order = ["AWS::SecretsManager::Secret", "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::SES::EmailIdentity", "AWS::SES::ConfigurationSet"]
        return (order.index(kind) if kind in order else 99, redrive)

    created = {}
    for logical, resource in sorted(resources.items(), key=rank):
        kind = resource["Type"]
        creator = {
            "AWS::DynamoDB::Table": create_table,
            "AWS::SQS::Queue": create_queue,
            "AWS::S3::Bucket": create_bucket,
            "AWS::SES::EmailIdentity": create_email_identity,
            "AWS::SES::ConfigurationSet": create_configuration_set,
            "AWS::SecretsManager::Secret": create_secret,
        }.get(kind)
        if creator is None:
            continue
        props = resolver.resolve(resource.get("Properties", {}))
        name = creator(clients, logical, props, resolver, region)
        resolver.physical[logical] = name
        created[logical] = name
    return created


def create_table(clients, logical, props, resolver, region) -> str:
    dynamodb = clients["dynamodb"]
    name = props.get("TableName") or f"{resolver.stack}-{logical}"
    args = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("StreamSpecification"):
        args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    if props.get("SSESpecification"):
        args["SSESpecification"] = {"Enabled": bool(props["SSESpecification"].get("SSEEnabled"))}
    dynamodb.create_table(**args)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
        dynamodb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    return name


def create_secret(clients, logical, props, resolver, region) -> str:
    """The template's secret with the env file's values for its names (in AWS, operators put them,
    and HASH_KEY is generated). Ref of a secret is its ARN, which is what functions are given."""
    if "SecretString" in props:
        names = list(json.loads(props["SecretString"]))
    else:
        generated = props["GenerateSecretString"]
        names = list(json.loads(generated.get("SecretStringTemplate", "{}"))) + [generated["GenerateStringKey"]]
    missing = [name for name in names if not resolver.settings.get(name)]
    if missing:
        raise SystemExit(f"secret {logical} needs {', '.join(missing)} in infra/local.env")
    value = json.dumps({name: resolver.settings[name] for name in names})
    return clients["secretsmanager"].create_secret(Name=props["Name"], SecretString=value)["ARN"]


def create_email_identity(clients, logical, props, resolver, region) -> str:
    # The local SES treats a verified identity as SES does after DNS verification: it may send.
    identity = props["EmailIdentity"]
    clients["ses"].verify_email_identity(EmailAddress=identity)
    return identity


def create_configuration_set(clients, logical, props, resolver, region) -> str:
    # Locally nothing publishes bounces; tests put SES notifications on the feedback queue.
    name = props.get("Name") or f"{resolver.stack}-{logical}"
    clients["ses"].create_configuration_set(ConfigurationSet={"Name": name})
    return name


def create_queue(clients, logical, props, resolver, region) -> str:
    name = props.get("QueueName") or f"{resolver.stack}-{logical}"
    attributes = {}
    for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds"):
        if key in props:
            attributes[key] = str(props[key])
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    clients["sqs"].create_queue(QueueName=name, Attributes=attributes)
    return name


def create_bucket(clients, logical, props, resolver, region) -> str:
    s3 = clients["s3"]
    name = props.get("BucketName") or f"{resolver.stack}-{logical}".lower()
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]})
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    for rule in props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", []):
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}]
            },
        )
    cors = props.get("CorsConfiguration", {}).get("CorsRules")
    if cors:
        rules = []
        for rule in cors:
            converted = {k: rule[k] for k in ("AllowedOrigins", "AllowedMethods", "AllowedHeaders", "ExposedHeaders") if k in rule}
            if "MaxAge" in rule:
                converted["MaxAgeSeconds"] = int(rule["MaxAge"])
            rules.append(converted)
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    lifecycle = props.get("LifecycleConfiguration", {}).get("Rules")
    if lifecycle:
        rules = []
        for rule in lifecycle:
            converted = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
            if "ExpirationInDays" in rule:
                converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
            if rule.get("ExpiredObjectDeleteMarker"):
                converted["Expiration"] = {"ExpiredObjectDeleteMarker": True}
            if "NoncurrentVersionExpiration" in rule:
                converted["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])}
            if "AbortIncompleteMultipartUpload" in rule:
                converted["AbortIncompleteMultipartUpload"] = {
                    "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
                }
            rules.append(converted)
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    queues = props.get("NotificationConfiguration", {}).get("QueueConfigurations")
    if queues:
        configurations = []
        for queue in queues:
            entry = {"QueueArn": queue["Queue"], "Events": [queue["Event"]]}
            rules = queue.get("Filter", {}).get("S3Key", {}).get("Rules")
            if rules:
                entry["Filter"] = {"Key": {"FilterRules": rules}}
            configurations.append(entry)
        s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={"QueueConfigurations": configurations})
    return name


# --- IAM ----------------------------------------------------------------------------------------


def enforce_iam(gate: Gate, template: dict, resolver: Resolver, settings: dict[str, str], region: str,
                log_dir: Path | None) -> dict[str, str]:
    """Gives each function (and the operator) its own identity and, unless LOCAL_IAM=off, has every
    call they make authorised against the template's policies for it. Returns each function's
    access key by logical id."""
    sys.path.insert(0, str(ROOT / "infra/local"))
    import iam
    import moto_patches

    transformed = iam.sam_transform(template, region)
    identities = iam.identities_from(transformed, resolver, resolver.stack, ACCOUNT_ID, settings["OPERATOR_AWS_ACCESS_KEY_ID"])
    moto_patches.apply_identities({identity.access_key: identity.principal for identity in identities})
    keys = {identity.name: identity.access_key for identity in identities}
    if settings.get("LOCAL_IAM", "on") == "off":
        banner = "!" * 100
        log(banner)
        log("LOCAL_IAM=off: IAM IS NOT ENFORCED. Every function and the operator may call anything, which AWS")
        log("would refuse. For debugging (and make bench) only: tests and `make dev` enforce it.")
        log(banner)
        return keys
    schemas = iam.Schemas()
    secrets: dict[str, str] = {}
    email_identities: set[str] = set()
    for logical, resource in template["Resources"].items():
        kind = resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            schemas.add_table(resolver.ref(logical), resolver.resolve(resource["Properties"]))
        elif kind == "AWS::SecretsManager::Secret":
            secrets[resolver.resolve(resource["Properties"]["Name"])] = resolver.ref(logical)
        elif kind == "AWS::SES::EmailIdentity":
            email_identities.add(resolver.ref(logical))
    mapper = iam.Mapper(region, ACCOUNT_ID, schemas, secrets, iam.resource_policies(transformed, resolver), email_identities)
    evaluator = iam.Evaluator(ACCOUNT_ID)
    gate.enforcer = iam.Enforcer(evaluator, mapper, identities, {settings["AWS_ACCESS_KEY_ID"]}, log_dir)
    log(f"IAM enforced: {len(identities)} identities, each with exactly the template's policies for it")
    return keys


# --- functions: the Lambda Runtime API -------------------------------------------------------


class QuietServer(ThreadingHTTPServer):
    """Connections that drop while the stack stops are expected, not worth a traceback."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    deadline_ms: int
    done: threading.Event = field(default_factory=threading.Event)
    response: bytes | None = None
    error: dict | None = None
    # Which worker (execution environment) runs it, and which start of that worker: the one
    # Lambda stops when it times out.
    worker: int | None = None
    spawn: int = 0
    # time.perf_counter() when a worker took it and when it answered: the billed duration.
    started_at: float = 0.0
    finished_at: float = 0.0


def peak_rss_kb(pid: int) -> int:
    """A process's peak resident set (VmHWM), what Lambda reports as Max Memory Used."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class LocalFunction:
    """One function of the template: its Runtime API endpoint and the processes that poll it."""

    def __init__(self, logical: str, binary: Path, env: dict[str, str], timeout: int, workers: int, log_dir: Path | None,
                 memory_mb: int = 128):
        self.logical = logical
        self.binary = binary
        self.env = env
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.workers = workers
        self.log_dir = log_dir
        self.pending: queue.Queue[Invocation] = queue.Queue()
        self.in_flight: dict[str, Invocation] = {}
        self.lock = threading.Lock()
        self.processes: list[subprocess.Popen] = []
        # How often each worker was started: an event is only handed to the worker's current process.
        self.spawns = [0] * workers
        self.stopping = False
        self.supervising = True
        # make bench (BENCH=1): billed durations, and cold starts on demand (see cold_start).
        self.bench = False
        self.durations_ms: list[float] = []
        self.paused = False
        self.generation = 0
        self.first_poll: threading.Event | None = None
        self.first_poll_at = 0.0
        self.cold_started_at = 0.0
        self.last_cold_start: dict = {}
        self.cold_lock = threading.Lock()
        # One Runtime API endpoint per worker, as each Lambda execution environment has its own:
        # the stack knows which process runs which invocation, and stops that one when it must.
        self.servers = []
        for index in range(workers):
            server = QuietServer(("127.0.0.1", 0), self._handler_class(index))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)

    def start(self) -> None:
        for index in range(self.workers):
            self.processes.append(self._spawn(index))
        threading.Thread(target=self._supervise, daemon=True).start()

    def _spawn(self, index: int, binary: Path | None = None) -> subprocess.Popen:
        self.spawns[index] += 1
        env = {
            **self.env,
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.servers[index].server_address[1]}",
            "AWS_LAMBDA_FUNCTION_NAME": self.env.get("AWS_LAMBDA_FUNCTION_NAME", self.logical),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.logical}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local-{index}",
            "_HANDLER": "bootstrap",
        }
        out = None
        if self.log_dir:
            out = open(self.log_dir / f"{self.logical}.log", "ab")
        # Own session: a Ctrl-C at the terminal reaches the stack, which then stops its workers in
        # order, instead of killing them under a supervisor that would restart them.
        return subprocess.Popen(
            [str(binary or self.binary)], env=env, stdout=out, stderr=subprocess.STDOUT if out else None, start_new_session=True
        )

    def _supervise(self) -> None:
        while self.supervising:
            if self.paused:
                time.sleep(0.2)
                continue
            with self.cold_lock:  # not while a cold start replaces the workers
                for index, process in enumerate(self.processes):
                    if process.poll() is None and self.busy(index):
                        self.check_memory(index)
                    if process.poll() is not None and self.supervising and not self.paused:
                        log(f"{self.logical} worker {index} exited with {process.returncode}; restarting")
                        self._fail_in_flight(index, {"errorType": "Runtime.ExitError", "errorMessage": "process exited"})
                        self.processes[index] = self._spawn(index)
            time.sleep(0.2)

    def _fail_in_flight(self, worker: int, error: dict) -> None:
        """A process that died takes its current invocation with it."""
        with self.lock:
            for request_id, invocation in list(self.in_flight.items()):
                if invocation.worker == worker:
                    invocation.error = error
                    invocation.done.set()
                    del self.in_flight[request_id]

    def busy(self, worker: int) -> bool:
        with self.lock:
            return any(invocation.worker == worker for invocation in self.in_flight.values())

    def check_memory(self, index: int) -> bool:
        """Lambda stops an environment whose invocation uses more than its MemorySize. True when
        this one did, and was stopped."""
        process = self.processes[index] if index < len(self.processes) else None
        if self.bench or process is None or peak_rss_kb(process.pid) <= self.memory_mb * 1024:
            return False
        log(f"{self.logical} worker {index} used more than its {self.memory_mb} MB; stopped (Runtime.OutOfMemory)")
        self.stop_worker(index, {"errorType": "Runtime.OutOfMemory", "errorMessage": "Runtime exited with error: signal: killed"})
        return True

    def stop_worker(self, index: int, error: dict, spawn: int | None = None) -> None:
        """Stops one execution environment, as Lambda does past its timeout or its memory; the
        supervisor starts a new one (the next invocation there is a cold start). With `spawn`,
        only if that start of the worker is still the one running."""
        if spawn is not None and spawn != self.spawns[index]:
            return
        if index < len(self.processes) and self.processes[index].poll() is None:
            self.processes[index].kill()
        self._fail_in_flight(index, error)

    def invoke(self, payload: dict, wait_at_most: float | None = None) -> tuple[bytes | None, dict | None]:
        invocation = self.invoke_timed(payload, wait_at_most)
        return invocation.response, invocation.error

    def invoke_timed(self, payload: dict, wait_at_most: float | None = None) -> Invocation:
        """Invokes as Lambda does: an event over 6 MB is refused, a run past the function's
        Timeout is stopped (its environment with it). `wait_at_most` is how long the caller waits
        (API Gateway's integration timeout); the run goes on past it, as in AWS."""
        invocation = Invocation(
            request_id=str(uuid.uuid4()),
            payload=json.dumps(payload).encode(),
            deadline_ms=int((time.time() + self.timeout) * 1000),
        )
        if len(invocation.payload) > LAMBDA_REQUEST_LIMIT:
            invocation.error = {
                "errorType": "RequestEntityTooLargeException",
                "errorMessage": f"Request must be smaller than {LAMBDA_REQUEST_LIMIT} bytes for the InvokeFunction operation",
            }
            return invocation
        self.pending.put(invocation)
        if wait_at_most is not None:
            # API Gateway waits at most this long from the request, whatever the function's timeout;
            # it decides alone (the event it gave up on is dropped a second later, if still queued).
            threading.Thread(target=self._time_out, args=(invocation, wait_at_most + 1), daemon=True).start()
            if not invocation.done.wait(wait_at_most):
                return Invocation(invocation.request_id, b"", invocation.deadline_ms,
                                  error={"errorType": "Gateway.IntegrationTimeout", "errorMessage": "the integration timed out"})
            return invocation
        self._time_out(invocation, UNSTARTED_LIMIT_SECONDS)
        return invocation

    def _time_out(self, invocation: Invocation, give_up_unstarted: float | None = None) -> None:
        # The timeout runs from when an environment takes the event, as Lambda's does. A request
        # API Gateway stopped waiting for is not run by an environment started later.
        waiting_since = time.time()
        while not invocation.done.is_set() and not invocation.started_at and not self.stopping:
            if give_up_unstarted is not None and time.time() - waiting_since > give_up_unstarted:
                if invocation.error is None:
                    invocation.error = {"errorType": "Runtime.Unavailable", "errorMessage": "no execution environment started"}
                invocation.done.set()
                return
            invocation.done.wait(0.05)
        remaining = invocation.deadline_ms / 1000 - time.time()
        if invocation.done.wait(max(remaining, 0)):
            return
        error = {"errorType": "Sandbox.Timedout", "errorMessage": f"Task timed out after {self.timeout:.2f} seconds"}
        with self.lock:
            taken = self.in_flight.get(invocation.request_id)
        if taken is not None and taken.worker is not None:
            log(f"{self.logical} worker {taken.worker} ran past its {self.timeout} s timeout; stopped")
            self.stop_worker(taken.worker, error, taken.spawn)
        else:
            with self.lock:
                self.in_flight.pop(invocation.request_id, None)
        if invocation.error is None and invocation.response is None:
            invocation.error = error
        invocation.done.set()

    def cold_start(self, binary: Path | None = None) -> dict:
        """make bench: replaces the workers by one new process (running `binary` instead, for the
        empty yardstick function) and times its init as Lambda reports Init Duration: from the
        process's start to its first request for an event. Its first response is timed when it
        answers its next invocation (`last_cold_start`). The other workers start again after."""
        with self.cold_lock:
            self.paused = True
            self.generation += 1  # pollers of the workers being stopped give up their wait
            for process in self.processes:
                process.terminate()
            for process in self.processes:
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
            self.first_poll = threading.Event()
            started = time.perf_counter()
            process = self._spawn(0, binary)
            if not self.first_poll.wait(30):
                process.kill()
                raise RuntimeError(f"{self.logical} did not ask for an event within 30 s")
            self.first_poll = None
            self.cold_started_at = started
            self.last_cold_start = {"init_ms": (self.first_poll_at - started) * 1000, "pid": process.pid}
            self.processes = [process]
            return dict(self.last_cold_start)

    def resume_workers(self) -> None:
        with self.cold_lock:
            while len(self.processes) < self.workers:
                self.processes.append(self._spawn(len(self.processes)))
            self.paused = False

    def stats(self) -> dict:
        return {
            "durations_ms": list(self.durations_ms),
            "peak_rss_kb": max([peak_rss_kb(p.pid) for p in self.processes if p.poll() is None] or [0]),
            "last_cold_start": dict(self.last_cold_start),
        }

    def stop(self) -> None:
        # Workers first, while they wait quietly for their next event; then the Runtime API.
        self.supervising = False
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
        self.stopping = True
        for server in self.servers:
            server.shutdown()

    def _handler_class(self, worker: int):
        function = self

        class RuntimeApi(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: bytes = b"", headers: dict | None = None):
                try:
                    self.send_response(status)
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker went away (stopping); Lambda would not notice either

            def do_GET(self):
                if self.path != f"{RUNTIME_PREFIX}/invocation/next":
                    return self._reply(404)
                generation = function.generation
                spawn = function.spawns[worker]
                if function.first_poll is not None and not function.first_poll.is_set():
                    function.first_poll_at = time.perf_counter()
                    function.first_poll.set()
                while True:
                    try:
                        invocation = function.pending.get(timeout=0.2 if function.bench else 1)
                        if invocation.done.is_set():
                            continue  # failed before any environment took it: nobody waits for it
                        if generation != function.generation or spawn != function.spawns[worker]:
                            function.pending.put(invocation)  # for the worker that replaced this one
                            self.close_connection = True
                            return
                        break
                    except queue.Empty:
                        if function.stopping or generation != function.generation or spawn != function.spawns[worker]:
                            # No answer: the worker is being stopped, and an error answer without
                            # a request id would only make it panic on its way out.
                            self.close_connection = True
                            return
                with function.lock:
                    invocation.worker = worker
                    invocation.spawn = spawn
                    invocation.deadline_ms = int((time.time() + function.timeout) * 1000)
                    function.in_flight[invocation.request_id] = invocation
                if not function.bench:  # make bench reports the environment's peak
                    try:
                        # The memory limit holds each invocation to its own peak: it starts again.
                        Path(f"/proc/{function.processes[worker].pid}/clear_refs").write_text("5")
                    except (OSError, IndexError):
                        pass
                invocation.started_at = time.perf_counter()
                self._reply(
                    200,
                    invocation.payload,
                    {
                        "Content-Type": "application/json",
                        "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                        "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                        "Lambda-Runtime-Invoked-Function-Arn": f"arn:aws:lambda:local:{ACCOUNT_ID}:function:{function.logical}",
                        "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
                    },
                )

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                match = re.fullmatch(rf"{RUNTIME_PREFIX}/invocation/([^/]+)/(response|error)", self.path)
                if self.path == f"{RUNTIME_PREFIX}/init/error":
                    log(f"{function.logical} failed to initialise: {body.decode(errors='replace')}")
                    return self._reply(202, b"{}")
                if not match:
                    return self._reply(404)
                if function.check_memory(worker):
                    # The invocation failed with the environment, which is stopped.
                    return self._reply(202, b"{}")
                with function.lock:
                    invocation = function.in_flight.pop(match.group(1), None)
                if invocation is None:
                    return self._reply(400, b'{"errorMessage":"unknown request id"}')
                invocation.finished_at = time.perf_counter()
                if function.bench:
                    function.durations_ms.append((invocation.finished_at - invocation.started_at) * 1000)
                if function.cold_started_at and "first_response_ms" not in function.last_cold_start:
                    function.last_cold_start["first_response_ms"] = (invocation.finished_at - function.cold_started_at) * 1000
                    function.last_cold_start["peak_rss_kb"] = peak_rss_kb(function.last_cold_start["pid"])
                if match.group(2) == "response" and len(body) > LAMBDA_RESPONSE_LIMIT:
                    # Lambda refuses the response, and the invocation fails.
                    invocation.error = {
                        "errorType": "Function.ResponseSizeTooLarge",
                        "errorMessage": f"Response payload size exceeded maximum allowed payload size ({LAMBDA_RESPONSE_LIMIT} bytes).",
                    }
                    invocation.done.set()
                    return self._reply(413, json.dumps({"errorType": "RequestEntityTooLarge", "errorMessage": invocation.error["errorMessage"]}).encode())
                if match.group(2) == "response":
                    invocation.response = body
                else:
                    try:
                        invocation.error = json.loads(body or b"{}")
                    except ValueError:
                        invocation.error = {"errorMessage": body.decode(errors="replace")}
                invocation.done.set()
                self._reply(202, b"{}")

        return RuntimeApi


# --- event source mappings: SQS -> function ---------------------------------------------------


class SqsPoller:
    """Lambda's SQS event source mapping: receive a batch, invoke, delete what succeeded. With
    ReportBatchItemFailures only the failed messages stay for redelivery; on a function error all do."""

    def __init__(self, function: LocalFunction, queue_arn: str, batch_size: int, endpoint: str, region: str,
                 access_key: str, secret_key: str):
        import boto3

        self.function = function
        self.queue_arn = queue_arn
        self.batch_size = max(1, min(int(batch_size), 10))
        self.region = region
        session = boto3.session.Session(region_name=region, aws_access_key_id=access_key, aws_secret_access_key=secret_key)
        self.sqs = session.client("sqs", endpoint_url=endpoint)
        # The mapping knows its queue by ARN: the URL is looked up as the stack, not as the role.
        admin = boto3.session.Session(region_name=region).client("sqs", endpoint_url=endpoint)
        self.queue_url = admin.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]
        self.stopping = False

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.stopping:
            try:
                self._poll_once()
            except Exception as err:  # keep polling, as Lambda does, whatever one batch did
                if not self.stopping:
                    log(f"SQS poller for {self.function.logical}: {err}")
                    time.sleep(1)

    def _poll_once(self) -> None:
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            # No long polling: moto would hold its (serialising) lock while it waits.
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            time.sleep(0.2)
            return
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": self.queue_arn,
                "awsRegion": self.region,
            }
            for m in received
        ]
        response, error = self.function.invoke({"Records": records})
        if error is not None:
            log(f"{self.function.logical} failed a batch: {error.get('errorMessage')}")
            return
        try:
            failures = {f["itemIdentifier"] for f in (json.loads(response or b"{}") or {}).get("batchItemFailures", [])}
        except (ValueError, AttributeError, TypeError):
            failures = {r["messageId"] for r in records}
        for message in received:
            if message["MessageId"] not in failures:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


# --- schedules: EventBridge -> function ---------------------------------------------------------


class Schedule:
    """A template `Schedule` event: the function is invoked with EventBridge's scheduled event,
    every LOCAL_SCHEDULE_SECONDS locally (its rate in AWS), never twice at once."""

    def __init__(self, function: LocalFunction, expression: str, every: float, region: str):
        self.function = function
        self.expression = expression
        self.every = every
        self.region = region
        self.stopping = False

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.stopping:
            time.sleep(self.every)
            event = {
                "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                "account": ACCOUNT_ID, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "region": self.region,
                "resources": [f"arn:aws:events:{self.region}:{ACCOUNT_ID}:rule/{self.function.logical}"], "detail": {},
            }
            _, error = self.function.invoke(event)
            if error is not None and not self.stopping:
                log(f"{self.function.logical} (scheduled) failed: {error.get('errorMessage')}")


# --- the HTTP API ------------------------------------------------------------------------------


@dataclass
class Route:
    method: str
    path: str
    function: LocalFunction
    pattern: re.Pattern

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


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
                 stripe_url: str | None = None, site: Path | None = None, bench_functions: dict | None = None):
        self.aws_endpoint = aws_endpoint
        # Only with BENCH=1 (make bench): the functions' timings, direct invocations, cold starts.
        self.bench_functions = bench_functions
        self.routes = routes
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
                    messages = sent_mail(gateway.aws_endpoint)
                    if path.endswith(".json"):
                        return self._send(200, [("Content-Type", "application/json")], json.dumps(messages).encode())
                    return self._send(200, [("Content-Type", "text/html; charset=utf-8")], mailbox_page(messages))
                if path.startswith("/_local/functions") and gateway.bench_functions is not None:
                    return self._bench(path, body)
                if self.command == "GET" and path == "/_local/routes":
                    routes = [{"method": r.method, "path": r.path} for r in gateway.routes]
                    return self._send(200, [("Content-Type", "application/json")], json.dumps(routes).encode())
                confirm = re.fullmatch(r"/_local/stripe(/v1/payment_intents/[A-Za-z0-9_]+/confirm)", path)
                if confirm and self.command == "POST" and gateway.stripe_url:
                    # The reference site's test-card step confirms a payment on the Stripe
                    # emulator through the site's own origin, as Stripe.js does with Stripe; with
                    # the publishable key in the body, never an Authorization header.
                    return self._proxy(gateway.stripe_url + confirm[1], body)
                for route in gateway.routes:
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
                response, error = route.function.invoke(event, wait_at_most=INTEGRATION_TIMEOUT_SECONDS)
                if error is not None:
                    # API Gateway's own answers: 503 when its integration timed out, 500 when
                    # Lambda failed the invocation (an error, a timeout, a payload over 6 MB).
                    log(f"{route.function.logical} failed: {error.get('errorType')}: {error.get('errorMessage')}")
                    if error.get("errorType") == "Gateway.IntegrationTimeout":
                        return self._message(503, "Service Unavailable")
                    return self._message(500, "Internal Server Error")
                self._send(*to_http(response))

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


# --- main --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing answered on port {port}")


class Gate:
    """What stands before moto: the service limits moto does not enforce (infra/local/limits.py),
    and the IAM enforcer once the stack's identities are known (the stack's own set-up, with the
    administrator's key, goes through before)."""

    def __init__(self):
        self.enforcer = None
        self.limits = None


def start_moto(port: int, gate: Gate):
    """moto's server, one request at a time. moto's backends are not safe under concurrent
    requests: a DynamoDB transaction snapshots and, on a failed condition, restores a whole
    table, losing writes that other requests made meanwhile. Real AWS has no such limit; the
    local stack trades throughput for correctness."""
    import logging

    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    sys.path.insert(0, str(ROOT / "infra/local"))
    import moto_patches

    moto_patches.apply()
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def locked(environ, start_response):
        with lock:
            # The body is produced inside the lock too: moto renders responses lazily.
            return list(app(environ, start_response))

    def limited(environ, start_response):
        if gate.limits is not None and environ["REQUEST_METHOD"] == "POST":
            import iam

            headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
            refused = gate.limits.check("POST", environ.get("PATH_INFO", ""), headers, iam.read_body(environ))
            if refused is not None:
                status, response_headers, body = refused
                start_response(status, response_headers + [("Content-Length", str(len(body)))])
                return [body]
        return locked(environ, start_response)

    def serialized(environ, start_response):
        # Authorisation happens outside moto's lock: it reads no moto state.
        if gate.enforcer is not None:
            return gate.enforcer.wrap(limited)(environ, start_response)
        return limited(environ, start_response)

    server = make_server("127.0.0.1", port, serialized, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


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
    api_port = api_port or free_port()
    moto_port = moto_port or free_port()
    # Links in mail point at this API, whichever port it got. The reference site is served from
    # the same origin (at `/`), so it is also the site that forms thank people on, and an allowed
    # origin for browsers (the CV bucket's CORS too).
    settings["PublicApiUrl"] = f"http://{settings.get('API_HOST', '127.0.0.1')}:{api_port}"
    # An explicit `--set SiteUrl=...` wins.
    settings["SiteUrl"] = dict(pair.split("=", 1) for pair in args.set).get("SiteUrl", settings["PublicApiUrl"])
    origins = [o for o in settings.get("AllowedOrigins", "").split(",") if o]
    if settings["PublicApiUrl"] not in origins:
        settings["AllowedOrigins"] = ",".join(origins + [settings["PublicApiUrl"]])
    for key in ("AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[key] = settings[key]
    os.environ["AWS_DEFAULT_REGION"] = region

    gate = Gate()
    moto = start_moto(moto_port, gate)
    wait_for_port(moto_port)
    endpoint = f"http://127.0.0.1:{moto_port}"

    template = load_template(args.template)
    resolver = Resolver(template, settings, settings["STACK_NAME"], region)
    resources = create_resources(template, resolver, endpoint, region)
    if args.log_dir:
        args.log_dir.mkdir(parents=True, exist_ok=True)
        global EVENTS_LOG
        EVENTS_LOG = args.log_dir / "stack-events.log"
    identities = enforce_iam(gate, template, resolver, settings, region, args.log_dir)
    from limits import Limits

    gate.limits = Limits({
        resolver.ref(logical): int(resource["Properties"].get("MaximumMessageSize", 256 * 1024))
        for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::SQS::Queue"
    })

    if args.log_dir:
        args.log_dir.mkdir(parents=True, exist_ok=True)

    api_url = f"http://{settings.get('API_HOST', '127.0.0.1')}:{api_port}"
    stripe_url = None
    if "_local_" in settings.get("STRIPE_SECRET_KEY", ""):
        sys.path.insert(0, str(ROOT / "infra/stripe"))
        import emulator as stripe_emulator

        stripe_port = args.stripe_port if args.stripe_port is not None else int(settings.get("STRIPE_EMULATOR_PORT", "12111"))
        stripe_port = stripe_port or free_port()
        stripe_url = f"http://127.0.0.1:{stripe_port}"
        stripe_emulator.serve(
            stripe_port,
            f"{api_url}/webhooks/stripe",
            settings["STRIPE_WEBHOOK_SECRETS"].split(",")[0],
            ROOT / "crates/steward-core/payments.toml",
        )
    # Tests of faults put a proxy between the functions and moto that fails requests on demand.
    function_endpoint = endpoint
    fault_proxy = None
    if settings.get("FAULT_PROXY") == "1":
        sys.path.insert(0, str(ROOT / "infra/local"))
        from faults import FaultProxy

        fault_proxy = FaultProxy(endpoint)
        fault_proxy.start()
        function_endpoint = fault_proxy.url
    globals_fn = template.get("Globals", {}).get("Function", {})
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
            # Each function calls AWS as its own role (infra/local/iam.py), as in Lambda.
            "AWS_ACCESS_KEY_ID": identities[logical],
            "AWS_SECRET_ACCESS_KEY": settings["AWS_SECRET_ACCESS_KEY"],
            "AWS_ENDPOINT_URL": function_endpoint,
            **({"STRIPE_API_BASE": stripe_url} if stripe_url else {}),
            "AWS_LAMBDA_FUNCTION_NAME": resolver.ref(logical),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props.get("MemorySize", globals_fn.get("MemorySize", 128))),
            "PATH": os.environ.get("PATH", ""),
        }
        timeout = int(props.get("Timeout", globals_fn.get("Timeout", 3)))
        workers = int(settings.get("FUNCTION_WORKERS", "2"))
        memory_mb = int(props.get("MemorySize", globals_fn.get("MemorySize", 128)))
        function = LocalFunction(logical, binary, env, timeout, workers, args.log_dir, memory_mb)
        function.bench = settings.get("BENCH") == "1"
        functions[logical] = function
        for event in props.get("Events", {}).values():
            if event["Type"] == "Schedule":
                # LOCAL_SCHEDULE_SECONDS_<LogicalId> overrides the common local interval.
                every = float(settings.get(f"LOCAL_SCHEDULE_SECONDS_{logical}", settings.get("LOCAL_SCHEDULE_SECONDS", "60")))
                schedules.append(Schedule(function, event["Properties"]["Schedule"], every, region))
            if event["Type"] == "SQS":
                event_props = resolver.resolve(event["Properties"])
                # Lambda's event source mapping polls with the function's role.
                pollers.append(SqsPoller(function, event_props["Queue"], event_props.get("BatchSize", 10), endpoint, region,
                                         identities[logical], settings["AWS_SECRET_ACCESS_KEY"]))
            if event["Type"] == "HttpApi":
                method = event["Properties"]["Method"].upper()
                path = event["Properties"]["Path"]
                routes.append(Route(method, path, function, compile_path(path)))
    for function in functions.values():
        function.start()
    for poller in pollers:
        poller.start()
    for schedule in schedules:
        schedule.start()

    gateway = Gateway(routes, args.openapi, args.trust_test_ip_header, endpoint, stripe_url, args.site,
                      functions if settings.get("BENCH") == "1" else None)
    api = QuietServer((settings.get("API_HOST", "127.0.0.1"), api_port), gateway.handler_class())
    api.daemon_threads = True
    threading.Thread(target=api.serve_forever, daemon=True).start()

    stop = threading.Event()

    def shutdown(*_):
        for function in functions.values():
            function.supervising = False
        stop.set()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    if args.exit_on_stdin_eof:
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

    ready = {
        "iam": "enforced" if gate.enforcer is not None else "off",
        "api": api_url, "site": settings["SiteUrl"], "aws_endpoint": endpoint, "resources": resources,
        "region": region, "stripe": stripe_url, "fault_proxy": fault_proxy.url if fault_proxy else None,
    }
    print("STEWARD-READY " + json.dumps(ready), flush=True)
    log(f"AWS emulator (moto): {endpoint}")
    if stripe_url:
        log(f"Stripe emulator: {stripe_url} (webhooks to {api_url}/webhooks/stripe)")
    for name, physical in resources.items():
        log(f"  {name}: {physical}")
    log(f"HTTP API: {api_url}  (OpenAPI: {api_url}/openapi.json)")
    for route in routes:
        log(f"  {route.route_key:<32} -> {route.function.logical} ({route.function.workers} workers)")
    for poller in pollers:
        log(f"  SQS {poller.queue_arn.rsplit(':', 1)[1]:<28} -> {poller.function.logical}")
    for schedule in schedules:
        log(f"  {schedule.expression:<32} -> {schedule.function.logical} (every {schedule.every:g} s locally)")
    log(f"Reference site: {settings['SiteUrl']}/")
    log(f"Dev mailbox: {api_url}/_local/mailbox")
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


if __name__ == "__main__":
    main()
