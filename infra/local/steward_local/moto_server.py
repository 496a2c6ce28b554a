"""The AWS emulator: moto's server, one request at a time, with what stands before it (the Gate):
the service limits moto does not enforce (limits.py) and IAM, each function and the operator
calling under its own identity with exactly the template's policies for it (iam.py)."""

from __future__ import annotations

import os
import re
import threading
from collections import Counter
from pathlib import Path

from .config import ACCOUNT_ID, log
from .template import Resolver


class Gate:
    """What stands before moto: the service limits moto does not enforce (limits.py),
    and the IAM enforcer once the stack's identities are known (the stack's own set-up, with the
    administrator's key, goes through before)."""

    def __init__(self):
        self.enforcer = None
        self.limits = None
        # make bench (BENCH=1): the AWS calls each function's own binary makes, by its access key
        # and the service it signs for, which bench/bench.py turns into AWS's waiting time.
        self.calls: Counter | None = None
        self.calls_lock = threading.Lock()

    def count_call(self, environ) -> None:
        scope = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        # The stack's own boto3 clients (the SQS event source mappings poll with a function's key)
        # are Lambda's work, not the function's: only the function's SDK is counted.
        if scope is None or "botocore" in environ.get("HTTP_USER_AGENT", "").lower():
            return
        with self.calls_lock:
            self.calls[scope.groups()] += 1

    def calls_of(self, access_key: str) -> dict[str, int]:
        """The calls counted for one access key so far, by service (dynamodb, secretsmanager, ...)."""
        with self.calls_lock:
            return {service: n for (key, service), n in self.calls.items() if key == access_key}


CREDENTIAL_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/[^/]+/([^/]+)/aws4_request")


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
    # Cognito checks the authenticator app's codes (RFC 6238: SHA-1, 6 digits, 30 s) when a user
    # sets up an app and at every sign-in that asks for one; moto does only with this (it reads it
    # at each request, in this process). Its apps' secret is always the same (staff.py).
    os.environ["MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"] = "true"
    from . import moto_patches

    moto_patches.apply()
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def locked(environ, start_response):
        with lock:
            # The body is produced inside the lock too: moto renders responses lazily.
            return list(app(environ, start_response))

    def limited(environ, start_response):
        if gate.limits is not None and environ["REQUEST_METHOD"] == "POST":
            from . import iam

            headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
            refused = gate.limits.check("POST", environ.get("PATH_INFO", ""), headers, iam.read_body(environ))
            if refused is not None:
                status, response_headers, body = refused
                start_response(status, response_headers + [("Content-Length", str(len(body)))])
                return [body]
        return locked(environ, start_response)

    def serialized(environ, start_response):
        if gate.calls is not None:
            gate.count_call(environ)
        # Authorisation happens outside moto's lock: it reads no moto state.
        if gate.enforcer is not None:
            return gate.enforcer.wrap(limited)(environ, start_response)
        return limited(environ, start_response)

    server = make_server("127.0.0.1", port, serialized, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # Housekeeping (housekeeping.py) changes moto's state under the same lock.
    server.steward_lock = lock
    return server


# --- IAM ----------------------------------------------------------------------------------------


def enforce_iam(gate: Gate, template: dict, resolver: Resolver, settings: dict[str, str], region: str,
                log_dir: Path | None) -> dict[str, str]:
    """Gives each function (and the operator) its own identity and, unless LOCAL_IAM=off, has every
    call they make authorised against the template's policies for it. Returns each function's
    access key by logical id."""
    from . import iam, moto_patches

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
