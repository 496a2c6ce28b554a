"""IAM, enforced in the local stack as AWS enforces it.

Each function process calls AWS under its own identity (its own access key), and the operator's
`steward-admin` under the operator's; the stack itself and the tests' read-backs use the account's
administrator key. Every request to the AWS emulator is authorised before moto sees it:

- the policies are exactly those `template.yaml` gives each role, as AWS SAM's own transform
  (aws-sam-translator, the library `sam deploy` runs) turns them into IAM roles: policy templates
  expanded, inline statements, the managed policies SAM attaches, then every intrinsic resolved to
  the local names;
- the decision is @cloud-copilot/iam-simulate's (infra/local/iam/evaluate.mjs): the policy language
  with its wildcards, condition operators, set operators (ForAllValues, ...), explicit denies and
  resource policies;
- what is hand-written here is what no evaluator does: reading an AWS API request (the service's
  wire protocol) as the authorisation request AWS makes of it: which IAM actions, on which
  resource ARNs, with which condition keys (`dynamodb:LeadingKeys` from the keys an operation
  touches, each item of a transaction as its own action, `s3:prefix`, `ses:FromAddress`, ...);
- a refused call gets the error AWS gives, in that service's protocol (`AccessDeniedException`
  with its status), so the code's error path is the one production runs;
- what AWS answers without IAM is let through, signed or not, by anyone: Cognito user pools'
  public and token-authorised operations (InitiateAuth, RespondToAuthChallenge, ... :
  COGNITO_PUBLIC_OPERATIONS), authorised by their tokens or sessions, never by a policy, and a
  pool's signing keys (`/<pool id>/.well-known/jwks.json`) and OpenID configuration.

`LOCAL_IAM=off` switches it off, for debugging only; the stack then says so on every start.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import email.utils
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit
from xml.etree import ElementTree

from .config import ROOT

# The AWS managed policies SAM attaches to function roles, as AWS publishes them. A managed policy
# the template gains that is not here stops the stack, rather than be evaluated as empty.
MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}
    ],
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": [
        {
            "Effect": "Allow",
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        }
    ],
}

# The operator's access key in the local stack (infra/local.env names it for `make admin`).
OPERATOR = "Operator"

# Cognito user pools' operations that AWS never authorises with IAM: the unauthenticated ones (a
# client id, a session) and the token-authorised ones (a user's access token), as the Cognito
# developer guide lists them ("API and SDK operations": unauthenticated and token-authorized user
# pools operations). Callers send them signed or not; no policy of the caller is evaluated. Every
# other Cognito operation (Admin*, ListUsers, CreateGroup, ...) is authorised as `cognito-idp:<op>`.
COGNITO_PUBLIC_OPERATIONS = frozenset({
    # Unauthenticated.
    "SignUp", "ConfirmSignUp", "ResendConfirmationCode", "ForgotPassword", "ConfirmForgotPassword",
    "InitiateAuth", "RespondToAuthChallenge", "RevokeToken", "GetTokensFromRefreshToken",
    # Token-authorised (an access token, or for an app's set-up a session).
    "AssociateSoftwareToken", "VerifySoftwareToken", "ChangePassword", "GetUser", "GlobalSignOut",
    "DeleteUser", "DeleteUserAttributes", "UpdateUserAttributes", "GetUserAttributeVerificationCode",
    "VerifyUserAttribute", "SetUserMFAPreference", "SetUserSettings", "ConfirmDevice", "ForgetDevice",
    "GetDevice", "ListDevices", "UpdateDeviceStatus", "GetUserAuthFactors", "StartWebAuthnRegistration",
    "CompleteWebAuthnRegistration", "ListWebAuthnCredentials", "DeleteWebAuthnCredential",
})
COGNITO_TARGET_PREFIX = "AWSCognitoIdentityProviderService."
# A user pool's public documents: its signing keys (what verifies its tokens) and OpenID configuration.
COGNITO_PUBLIC_PATH = re.compile(r"^/[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+/\.well-known/(jwks\.json|openid-configuration)$")


def cognito_public(method: str, path: str, headers: dict[str, str]) -> bool:
    """Whether AWS answers this request without IAM (COGNITO_PUBLIC_OPERATIONS, a pool's keys)."""
    if method in ("GET", "HEAD") and COGNITO_PUBLIC_PATH.match(path):
        return True
    target = headers.get("x-amz-target", "")
    return (method == "POST" and target.startswith(COGNITO_TARGET_PREFIX)
            and target[len(COGNITO_TARGET_PREFIX):] in COGNITO_PUBLIC_OPERATIONS)


def log(message: str) -> None:
    print(f"[iam] {message}", file=sys.stderr, flush=True)


# --- the policies the template gives each role -------------------------------------------------


def sam_transform(template: dict, region: str) -> dict:
    """The CloudFormation template `sam deploy` would create, by SAM's own translator, offline."""
    import copy

    import samtranslator
    from samtranslator.translator.transform import transform

    class BundledManagedPolicies:
        """The managed policy names SAM knows, from the map it ships (no call to IAM)."""

        def load(self):
            data = Path(samtranslator.__file__).parent / "internal/data/aws_managed_policies.json"
            return json.loads(data.read_text())["aws"]

    source = copy.deepcopy(template)
    for resource in source["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            # The code's location is irrelevant to IAM; SAM only insists that it is one.
            resource["Properties"]["CodeUri"] = "s3://local/code.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    return transform(source, {}, BundledManagedPolicies())


@dataclass
class Identity:
    """Who calls AWS: a function's execution role, or the operator's role."""

    name: str
    access_key: str
    principal: str
    policies: list[dict] = field(default_factory=list)


def role_policies(role: dict, resolver) -> list[dict]:
    props = role["Properties"]
    policies = []
    for arn in props.get("ManagedPolicyArns", []):
        arn = resolver.resolve(arn)
        if arn not in MANAGED_POLICIES:
            raise SystemExit(f"the local stack does not know the managed policy {arn}: add its document to infra/local/steward_local/iam.py")
        policies.append({"name": arn.rsplit("/", 1)[1], "policy": {"Version": "2012-10-17", "Statement": MANAGED_POLICIES[arn]}})
    for inline in props.get("Policies", []):
        policies.append({"name": inline["PolicyName"], "policy": resolver.resolve(inline["PolicyDocument"])})
    return policies


def identities_from(transformed: dict, resolver, stack: str, account: str, operator_key: str) -> list[Identity]:
    """One identity per function of the template (its SAM-made role), and the operator's (the
    template's OperatorPolicy, a managed policy a team attaches to its operators' role)."""
    resources = transformed["Resources"]
    identities = []
    for logical, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role_ref = resource["Properties"]["Role"]
        role_logical = role_ref["Fn::GetAtt"][0] if isinstance(role_ref, dict) else None
        role = resources.get(role_logical)
        if role is None:
            raise SystemExit(f"{logical} has no role of its own in the template")
        function_name = f"{stack}-{logical}"
        role_name = f"{stack}-{role_logical}"
        identities.append(
            Identity(
                name=logical,
                access_key=f"local-{logical}",
                principal=f"arn:aws:sts::{account}:assumed-role/{role_name}/{function_name}",
                policies=role_policies(role, resolver),
            )
        )
    operator_policies = [
        {"name": logical, "policy": resolver.resolve(resource["Properties"]["PolicyDocument"])}
        for logical, resource in resources.items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and logical == "OperatorPolicy"
    ]
    identities.append(
        Identity(
            name=OPERATOR,
            access_key=operator_key,
            principal=f"arn:aws:sts::{account}:assumed-role/{stack}-operator/local-operator",
            policies=operator_policies,
        )
    )
    return identities


def resource_policies(transformed: dict, resolver) -> dict[str, dict]:
    """Bucket policies by bucket name: AWS evaluates them with the caller's own."""
    policies = {}
    for resource in transformed["Resources"].values():
        if resource["Type"] == "AWS::S3::BucketPolicy":
            props = resolver.resolve(resource["Properties"])
            policies[props["Bucket"]] = props["PolicyDocument"]
    return policies


# --- the evaluator -------------------------------------------------------------------------------


class Evaluator:
    """infra/local/iam/evaluate.mjs, one request at a time over its stdin and stdout."""

    def __init__(self, account: str):
        script = ROOT / "infra/local/iam/evaluate.mjs"
        if not (ROOT / "infra/local/iam/node_modules/@cloud-copilot/iam-simulate").exists():
            raise SystemExit("the local IAM evaluator is not installed: run `make setup-iam` (npm ci in infra/local/iam)")
        self.process = subprocess.Popen(
            ["node", str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "IAM_ACCOUNT_ID": account},
            start_new_session=True,
        )
        self.lock = threading.Lock()
        self.cache: dict[str, str] = {}

    def _ask(self, request: dict) -> dict:
        line = json.dumps(request, sort_keys=True)
        with self.lock:
            self.process.stdin.write(line.encode() + b"\n")
            self.process.stdin.flush()
            answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError("the local IAM evaluator stopped")
        return json.loads(answer)

    def define(self, identity: Identity) -> None:
        self._ask({"define": identity.name, "policies": identity.policies})

    def decide(self, identity: Identity, action: str, resource: str, context: dict, resource_policy: dict | None) -> str:
        request = {
            "identity": identity.name,
            "principal": identity.principal,
            "action": action,
            "resource": resource,
            "context": context,
        }
        if resource_policy:
            request["resourcePolicy"] = resource_policy
        timeless = {**request, "context": {k: v for k, v in context.items() if k not in ("aws:CurrentTime", "aws:EpochTime")}}
        key = json.dumps(timeless, sort_keys=True)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        answer = self._ask(request)
        result = answer.get("result", "Error")
        if result == "Error":
            log(f"could not evaluate {action} on {resource}: {answer.get('errors')}")
        if len(self.cache) > 20000:
            self.cache.clear()
        self.cache[key] = result
        return result


# --- reading a request as AWS authorises it -------------------------------------------------------


@dataclass
class Check:
    """One authorisation AWS makes for a request: an action on a resource, with its context."""

    action: str
    resource: str
    context: dict = field(default_factory=dict)
    resource_policy: dict | None = None


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    service: str
    access_key: str | None
    # A browser upload's text fields (multipart/form-data POST), read once by Enforcer.wrap.
    upload: dict[str, str] = field(default_factory=dict)

    def params(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)

    def json(self) -> dict:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return {}


class Unmapped(Exception):
    """A request this file cannot read as an authorisation: refused, and said loudly, so that the
    gap is closed here rather than passed silently."""


CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/[^/]+/([^/]+)/aws4_request")


def field_of(fields: dict[str, str], name: str) -> str | None:
    """A browser upload's field by name, whatever its case (S3 reads them so)."""
    return next((value for key, value in fields.items() if key.lower() == name), None)


def credential_of(query: str, headers: dict[str, str], upload: dict[str, str]) -> tuple[str | None, str | None]:
    """Who signed a request, and for which service: its Authorization header, a presigned URL's
    query, or a browser upload's fields."""
    match = CREDENTIAL.search(headers.get("authorization", ""))
    if match:
        return match.group(1), match.group(2)
    for key, value in parse_qsl(query):
        if key.lower() == "x-amz-credential":
            parts = value.split("/")
            return parts[0], parts[3] if len(parts) > 3 else None
    credential = field_of(upload, "x-amz-credential")
    if credential:
        return credential.split("/")[0], "s3"
    return None, None


def presigned_expiry(query: str, upload: dict[str, str]) -> str | None:
    """Why a presigned request is refused for its age (S3 answers AccessDenied), or None: a
    presigned URL past X-Amz-Date + X-Amz-Expires, or a browser upload past its policy's
    expiration."""
    import calendar

    params = {key.lower(): value for key, value in parse_qsl(query)}
    if "x-amz-expires" in params and "x-amz-date" in params:
        signed = calendar.timegm(time.strptime(params["x-amz-date"], "%Y%m%dT%H%M%SZ"))
        if time.time() > signed + int(params["x-amz-expires"]):
            return "Request has expired"
    policy = field_of(upload, "policy")
    if policy:
        expiration = json.loads(base64.b64decode(policy)).get("expiration", "")
        stamp = re.sub(r"\.\d+", "", expiration).rstrip("Z")
        if stamp and time.time() > calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S")):
            return "Invalid according to Policy: Policy expired."
    return None


def form_upload(content_type: str, body: bytes) -> tuple[dict[str, str], int]:
    """An S3 browser upload (multipart/form-data): its text fields, and the file's size."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    fields, size = {}, 0
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if name == "file" or part.get_filename() is not None:
            size = len(payload)
        elif name:
            fields[name] = payload.decode(errors="replace").strip()
    return fields, size


class PolicyViolation(Exception):
    """A browser upload its signed POST policy does not allow: S3 refuses it with `code`."""

    def __init__(self, message: str, code: str = "AccessDenied", status: str = "403 Forbidden"):
        super().__init__(message)
        self.code = code
        self.status = status


def check_post_policy(bucket: str, fields: dict[str, str], file_size: int) -> None:
    """What S3 checks of a browser upload before anything else: every condition of the signed
    policy holds, and every field is one the policy names."""
    encoded = field_of(fields, "policy")
    if not encoded:
        raise PolicyViolation("Bucket POST must contain a field named 'policy'")
    policy = json.loads(base64.b64decode(encoded))
    values = {name.lower(): value for name, value in fields.items()}
    values["bucket"] = bucket
    covered = {"bucket"}
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            for name, expected in condition.items():
                covered.add(name.lower())
                if values.get(name.lower()) != expected:
                    raise PolicyViolation(f"Invalid according to Policy: Policy Condition failed: [\"eq\", \"${name}\", \"{expected}\"]")
            continue
        operator = condition[0].lower()
        if operator == "content-length-range":
            if file_size > int(condition[2]):
                raise PolicyViolation("Your proposed upload exceeds the maximum allowed size", "EntityTooLarge", "400 Bad Request")
            if file_size < int(condition[1]):
                raise PolicyViolation("Your proposed upload is smaller than the minimum allowed size", "EntityTooSmall", "400 Bad Request")
            continue
        name = condition[1].lstrip("$").lower()
        covered.add(name)
        value = values.get(name, "")
        if (operator == "eq" and value != condition[2]) or (operator == "starts-with" and not value.startswith(condition[2])):
            raise PolicyViolation(f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}")
    extra = {name for name in values if name not in covered and name not in ("policy", "x-amz-signature", "file")
             and not name.startswith("x-ignore-")}
    if extra:
        raise PolicyViolation(f"Invalid according to Policy: Extra input fields: {', '.join(sorted(extra))}")


class Schemas:
    """The partition key attribute of each table and index: what `dynamodb:LeadingKeys` reads."""

    def __init__(self):
        self.hash_keys: dict[tuple[str, str | None], str] = {}

    def add_table(self, name: str, props: dict) -> None:
        def hash_of(schema):
            return next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")

        self.hash_keys[(name, None)] = hash_of(props["KeySchema"])
        for index in props.get("GlobalSecondaryIndexes", []) + props.get("LocalSecondaryIndexes", []):
            self.hash_keys[(name, index["IndexName"])] = hash_of(index["KeySchema"])

    def hash_key(self, table: str, index: str | None) -> str:
        try:
            return self.hash_keys[(table, index)]
        except KeyError:
            raise Unmapped(f"unknown table or index {table}/{index}") from None


def attribute_text(value: dict) -> str:
    (kind, inner), = value.items()
    return str(inner) if kind in ("S", "N") else base64.b64encode(base64.b64decode(inner)).decode() if kind == "B" else json.dumps(inner)


# The query keys of the S3 calls this file reads; any other is refused (Unmapped), never guessed.
S3_QUERY_KEYS = {
    "versionId", "tagging", "acl", "attributes", "uploadId", "partNumber", "uploads", "restore", "delete",
    "versions", "location", "list-type", "prefix", "delimiter", "max-keys", "marker", "key-marker",
    "version-id-marker", "continuation-token", "start-after", "fetch-owner", "encoding-type", "max-uploads",
    "upload-id-marker", "versioning", "cors", "policy", "lifecycle", "notification", "encryption",
    "publicAccessBlock", "ownershipControls", "logging", "website", "object-lock", "x-id",
    "response-content-disposition", "response-content-type", "response-cache-control", "response-expires",
    "response-content-language", "response-content-encoding",
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
    "X-Amz-Signature", "X-Amz-Security-Token",
}


def literal(value: str) -> str:
    """A resource name from a request, as the evaluator must read it: a `*` in a request is a
    literal character to AWS, and `?` is one to the evaluator (it matches policy wildcards as
    AWS matches the `*`)."""
    return value.replace("*", "?")


class Mapper:
    def __init__(self, region: str, account: str, schemas: Schemas, secrets: dict[str, str], bucket_policies: dict[str, dict],
                 email_identities: set[str]):
        self.region = region
        self.account = account
        self.schemas = schemas
        self.secrets = secrets
        self.bucket_policies = bucket_policies
        self.email_identities = email_identities

    def checks(self, request: Request) -> list[Check]:
        service = request.service
        if service == "dynamodb":
            return self.dynamodb(request)
        if service == "s3":
            return self.s3(request)
        if service == "ses":
            return self.ses(request)
        if service == "secretsmanager":
            return self.secretsmanager(request)
        if service == "sqs":
            return self.sqs(request)
        if service == "events":
            return self.events(request)
        if service == "sts":
            return self.sts(request)
        if service == "cognito-idp":
            return self.cognito_idp(request)
        return self.generic(request)

    # DynamoDB: the JSON 1.0 protocol, one operation per request.
    def table_arn(self, table: str, index: str | None = None) -> str:
        if table.startswith("arn:"):
            return table
        arn = f"arn:aws:dynamodb:{self.region}:{self.account}:table/{table}"
        return f"{arn}/index/{index}" if index else arn

    def leading(self, table: str, key_or_item: dict, index: str | None = None) -> str:
        name = self.schemas.hash_key(table, index)
        if name not in key_or_item:
            raise Unmapped(f"no partition key {name} in the request")
        return attribute_text(key_or_item[name])

    def dynamodb(self, request: Request) -> list[Check]:
        operation = request.headers.get("x-amz-target", "").split(".")[-1]
        body = request.json()
        if operation == "DescribeEndpoints":
            # No table: a cold start's call that opens the connection its first request uses.
            return [Check("dynamodb:DescribeEndpoints", "*")]
        if operation in ("TransactWriteItems", "TransactGetItems"):
            # No IAM action of its own: each item is authorised as the single-item action it is.
            actions = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
            checks = []
            for entry in body.get("TransactItems", []):
                (kind, spec), = entry.items()
                table = spec["TableName"]
                key = spec.get("Key") or spec.get("Item") or {}
                context = {"dynamodb:LeadingKeys": [self.leading(table, key)], "dynamodb:EnclosingOperation": operation}
                checks.append(Check(f"dynamodb:{actions[kind]}", self.table_arn(table), {**context, **self.dynamodb_context(spec)}))
            return checks
        if operation in ("BatchWriteItem", "BatchGetItem"):
            checks = []
            for table, entries in body.get("RequestItems", {}).items():
                if operation == "BatchWriteItem":
                    keys = [e.get("PutRequest", {}).get("Item") or e.get("DeleteRequest", {}).get("Key") for e in entries]
                else:
                    keys = entries.get("Keys", [])
                leading = sorted({self.leading(table, key) for key in keys})
                checks.append(Check(f"dynamodb:{operation}", self.table_arn(table), {"dynamodb:LeadingKeys": leading}))
            return checks
        table = body.get("TableName")
        if not table:
            raise Unmapped(f"DynamoDB {operation} names no table")
        index = body.get("IndexName")
        context = self.dynamodb_context(body)
        if operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
            context["dynamodb:LeadingKeys"] = [self.leading(table, body.get("Key") or body.get("Item") or {})]
        elif operation == "Query":
            context["dynamodb:LeadingKeys"] = [self.query_partition(table, index, body)]
        return [Check(f"dynamodb:{operation}", self.table_arn(table, index), context)]

    def dynamodb_context(self, spec: dict) -> dict:
        context = {}
        if spec.get("Select"):
            context["dynamodb:Select"] = spec["Select"]
        if spec.get("ReturnValues"):
            context["dynamodb:ReturnValues"] = spec["ReturnValues"]
        if spec.get("Item"):
            context["dynamodb:Attributes"] = sorted(spec["Item"])
        return context

    def query_partition(self, table: str, index: str | None, body: dict) -> str:
        """The partition key value of a Query, from its key condition (`#pk = :pk`)."""
        name = self.schemas.hash_key(table, index)
        names = body.get("ExpressionAttributeNames", {})
        values = body.get("ExpressionAttributeValues", {})
        expression = body.get("KeyConditionExpression", "")
        for left, right in re.findall(r"([#:\w.]+)\s*=\s*([#:\w.]+)", expression):
            for attribute, placeholder in ((left, right), (right, left)):
                if names.get(attribute, attribute) == name and placeholder in values:
                    return attribute_text(values[placeholder])
        if name in body.get("KeyConditions", {}):
            return attribute_text(body["KeyConditions"][name]["AttributeValueList"][0])
        raise Unmapped(f"no condition on the partition key {name} in the query")

    # S3: the REST protocol; path-style addressing, as every local client uses.
    def s3(self, request: Request) -> list[Check]:
        parts = request.path.lstrip("/").split("/", 1)
        bucket = unquote(parts[0])
        key = unquote(parts[1]) if len(parts) > 1 and parts[1] else None
        params = request.params()
        unknown = set(params) - S3_QUERY_KEYS
        if unknown:
            raise Unmapped(f"S3 subresources this file does not read: {sorted(unknown)}")
        method = request.method
        if not bucket:
            return [Check("s3:ListAllMyBuckets", "*")]
        policy = self.bucket_policies.get(bucket)
        bucket_arn = f"arn:aws:s3:::{bucket}"

        def on_object(action: str, object_key: str, context: dict | None = None) -> Check:
            return Check(action, f"{bucket_arn}/{literal(object_key)}", context or {}, policy)

        versioned = "versionId" in params
        if key is not None:
            if method in ("GET", "HEAD"):
                if "tagging" in params:
                    return [on_object("s3:GetObjectVersionTagging" if versioned else "s3:GetObjectTagging", key)]
                if "acl" in params:
                    return [on_object("s3:GetObjectVersionAcl" if versioned else "s3:GetObjectAcl", key)]
                if "attributes" in params:
                    return [on_object("s3:GetObjectVersionAttributes" if versioned else "s3:GetObjectAttributes", key)]
                if "uploadId" in params:
                    return [on_object("s3:ListMultipartUploadParts", key)]
                return [on_object("s3:GetObjectVersion" if versioned else "s3:GetObject", key)]
            if method == "PUT":
                if "tagging" in params:
                    return [on_object("s3:PutObjectVersionTagging" if versioned else "s3:PutObjectTagging", key)]
                if "acl" in params:
                    return [on_object("s3:PutObjectVersionAcl" if versioned else "s3:PutObjectAcl", key)]
                checks = [on_object("s3:PutObject", key, self.s3_put_context(request))]
                source = request.headers.get("x-amz-copy-source")
                if source:
                    source_path, _, source_query = unquote(source).lstrip("/").partition("?")
                    source_bucket, _, source_key = source_path.partition("/")
                    action = "s3:GetObjectVersion" if "versionId=" in source_query else "s3:GetObject"
                    checks.append(Check(action, f"arn:aws:s3:::{source_bucket}/{literal(source_key)}", {}, self.bucket_policies.get(source_bucket)))
                return checks
            if method == "DELETE":
                if "tagging" in params:
                    return [on_object("s3:DeleteObjectVersionTagging" if versioned else "s3:DeleteObjectTagging", key)]
                if "uploadId" in params:
                    return [on_object("s3:AbortMultipartUpload", key)]
                return [on_object("s3:DeleteObjectVersion" if versioned else "s3:DeleteObject", key)]
            if method == "POST":
                if "restore" in params:
                    return [on_object("s3:RestoreObject", key)]
                return [on_object("s3:PutObject", key)]  # multipart upload: create and complete
            raise Unmapped(f"S3 {method} on an object")
        # The bucket itself.
        if method == "POST" and "delete" in params:
            checks = []
            root = ElementTree.fromstring(request.body or b"<Delete/>")
            for element in root.iter():
                if element.tag.rsplit("}", 1)[-1] != "Object":
                    continue
                values = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in element}
                action = "s3:DeleteObjectVersion" if values.get("VersionId") else "s3:DeleteObject"
                checks.append(on_object(action, values.get("Key", "")))
            return checks
        if method == "POST" and request.headers.get("content-type", "").startswith("multipart/form-data"):
            # A browser upload (presigned POST), held to its policy already (Enforcer.wrap):
            # authorised as the identity that signed that policy.
            return [on_object("s3:PutObject", request.upload.get("key", ""))]
        subresources = {
            "versioning": "BucketVersioning", "cors": "BucketCORS", "policy": "BucketPolicy", "lifecycle": "LifecycleConfiguration",
            "notification": "BucketNotification", "encryption": "EncryptionConfiguration", "publicAccessBlock": "BucketPublicAccessBlock",
            "tagging": "BucketTagging", "acl": "BucketAcl", "ownershipControls": "BucketOwnershipControls", "logging": "BucketLogging",
            "website": "BucketWebsite", "object-lock": "BucketObjectLockConfiguration",
        }
        context = {}
        for name in ("prefix", "delimiter", "max-keys"):
            if name in params:
                context[f"s3:{name}"] = literal(params[name][0])
        if method in ("GET", "HEAD"):
            if "versions" in params:
                return [Check("s3:ListBucketVersions", bucket_arn, context, policy)]
            if "uploads" in params:
                return [Check("s3:ListBucketMultipartUploads", bucket_arn, {}, policy)]
            if "location" in params:
                return [Check("s3:GetBucketLocation", bucket_arn, {}, policy)]
            for name, suffix in subresources.items():
                if name in params:
                    return [Check(f"s3:Get{suffix}", bucket_arn, {}, policy)]
            return [Check("s3:ListBucket", bucket_arn, context, policy)]
        if method == "PUT":
            for name, suffix in subresources.items():
                if name in params:
                    return [Check(f"s3:Put{suffix}", bucket_arn, {}, policy)]
            return [Check("s3:CreateBucket", bucket_arn, {}, policy)]
        if method == "DELETE":
            for name, suffix in subresources.items():
                if name in params:
                    return [Check(f"s3:Put{suffix}" if name != "policy" else "s3:DeleteBucketPolicy", bucket_arn, {}, policy)]
            return [Check("s3:DeleteBucket", bucket_arn, {}, policy)]
        raise Unmapped(f"S3 {method} on a bucket")

    def s3_put_context(self, request: Request) -> dict:
        context = {}
        for header in ("x-amz-server-side-encryption", "x-amz-acl", "x-amz-storage-class"):
            if header in request.headers:
                context[f"s3:{header}"] = request.headers[header]
        return context

    # SES v2: REST-JSON.
    def ses(self, request: Request) -> list[Check]:
        path = request.path
        if path.startswith("/v2/email/outbound-emails") and request.method == "POST":
            body = request.json()
            sender = body.get("FromEmailAddress")
            raw = body.get("Content", {}).get("Raw", {}).get("Data")
            recipients = [a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in body.get("Destination", {}).get(key, [])]
            if raw and (not sender or not recipients):
                message = email.parser.BytesParser(policy=email.policy.default).parsebytes(base64.b64decode(raw), headersonly=True)
                sender = sender or str(message.get("From", ""))
                recipients = recipients or [str(a) for key in ("To", "Cc") for a in message.get_all(key, [])]
            address = email.utils.parseaddr(sender or "")[1]
            display = email.utils.parseaddr(sender or "")[0]
            context = {
                "ses:FromAddress": address,
                "ses:Recipients": [email.utils.parseaddr(r)[1] for r in recipients],
                "ses:ApiVersion": "2",
            }
            if display:
                context["ses:FromDisplayName"] = display
            # SES authorises the identity the sender is verified under (the address, else its
            # domain), and the configuration set the message uses.
            identity = address if address in self.email_identities else address.rpartition("@")[2]
            arn = f"arn:aws:ses:{self.region}:{self.account}"
            checks = [Check("ses:SendEmail", f"{arn}:identity/{identity}", context)]
            if body.get("ConfigurationSetName"):
                checks.append(Check("ses:SendEmail", f"{arn}:configuration-set/{body['ConfigurationSetName']}", context))
            return checks
        raise Unmapped(f"SES {request.method} {path}")

    # Secrets Manager: JSON 1.1.
    def secretsmanager(self, request: Request) -> list[Check]:
        operation = request.headers.get("x-amz-target", "").split(".")[-1]
        arn_of = lambda secret_id: secret_id if secret_id.startswith("arn:") else self.secrets.get(secret_id, f"arn:aws:secretsmanager:{self.region}:{self.account}:secret:{literal(secret_id)}-??????")
        if operation == "BatchGetSecretValue":
            # As AWS authorises it: the batch action on "*" (it has no resource of its own), then
            # GetSecretValue on every secret it names. A batch by filters (no list) is not mapped.
            secret_ids = request.json().get("SecretIdList") or []
            if not secret_ids:
                raise Unmapped("Secrets Manager BatchGetSecretValue names no secret")
            return [Check("secretsmanager:BatchGetSecretValue", "*")] + [
                Check("secretsmanager:GetSecretValue", arn_of(secret_id)) for secret_id in secret_ids
            ]
        secret_id = request.json().get("SecretId")
        if not secret_id:
            raise Unmapped(f"Secrets Manager {operation} names no secret")
        return [Check(f"secretsmanager:{operation}", arn_of(secret_id))]

    # SQS: the JSON protocol (current SDKs) or the query protocol.
    def sqs(self, request: Request) -> list[Check]:
        target = request.headers.get("x-amz-target", "")
        if target:
            operation, body = target.split(".")[-1], request.json()
            queue_url, queue_name = body.get("QueueUrl", ""), body.get("QueueName", "")
        else:
            params = {**request.params(), **parse_qs(request.body.decode(errors="replace"))}
            operation = params.get("Action", [""])[0]
            queue_url, queue_name = params.get("QueueUrl", [""])[0], params.get("QueueName", [""])[0]
        name = queue_url.rstrip("/").rsplit("/", 1)[-1] if queue_url else queue_name
        action = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage", "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}.get(operation, operation)
        if not name:
            raise Unmapped(f"SQS {operation} names no queue")
        return [Check(f"sqs:{action}", f"arn:aws:sqs:{self.region}:{self.account}:{literal(name)}")]

    # EventBridge: JSON 1.1.
    def event_bus_arn(self, bus: str | None) -> str:
        """An event bus as IAM names it: a request names it by name or ARN, or not at all (the
        account's `default` bus)."""
        bus = bus or "default"
        return bus if bus.startswith("arn:") else f"arn:aws:events:{self.region}:{self.account}:event-bus/{literal(bus)}"

    def events(self, request: Request) -> list[Check]:
        operation = request.headers.get("x-amz-target", "").split(".")[-1]
        if not operation:
            raise Unmapped("EventBridge request without X-Amz-Target")
        body = request.json()
        if operation == "PutEvents":
            # Each entry names its own bus: the call is allowed only if every one of them is.
            buses = sorted({self.event_bus_arn(entry.get("EventBusName")) for entry in body.get("Entries") or []})
            if not buses:
                raise Unmapped("EventBridge PutEvents without entries")
            return [Check("events:PutEvents", bus) for bus in buses]
        # A rule's operations are authorised on the rule (on its bus's path unless the default bus),
        # the bus's own on the bus; the others (List*, ...) have no resource type in IAM: "*".
        rule = body.get("Rule") if operation in ("PutTargets", "RemoveTargets", "ListTargetsByRule") else None
        if operation in ("PutRule", "DeleteRule", "DescribeRule", "EnableRule", "DisableRule"):
            rule = body.get("Name")
        if rule:
            bus = (body.get("EventBusName") or "default").rsplit("/", 1)[-1]
            path = literal(rule) if bus == "default" else f"{literal(bus)}/{literal(rule)}"
            return [Check(f"events:{operation}", f"arn:aws:events:{self.region}:{self.account}:rule/{path}")]
        if operation in ("CreateEventBus", "DeleteEventBus", "DescribeEventBus", "UpdateEventBus"):
            return [Check(f"events:{operation}", self.event_bus_arn(body.get("Name")))]
        return [Check(f"events:{operation}", "*")]

    def sts(self, request: Request) -> list[Check]:
        params = {**request.params(), **parse_qs(request.body.decode(errors="replace"))}
        action = params.get("Action", [""])[0]
        if action == "GetCallerIdentity" and len(params.get("Action", [])) == 1:
            return []  # AWS answers it for anyone, whatever their policies
        raise Unmapped(f"STS {action}")

    # Cognito user pools: JSON 1.1. The public operations never get here (Enforcer.wrap).
    def cognito_idp(self, request: Request) -> list[Check]:
        target = request.headers.get("x-amz-target", "")
        if not target.startswith(COGNITO_TARGET_PREFIX):
            raise Unmapped(f"Cognito request without X-Amz-Target {COGNITO_TARGET_PREFIX}*")
        operation = target[len(COGNITO_TARGET_PREFIX):]
        pool = request.json().get("UserPoolId")
        # An operation on a pool is authorised on the pool; the others (CreateUserPool,
        # ListUserPools, ...) have no resource in IAM: "*".
        resource = f"arn:aws:cognito-idp:{self.region}:{self.account}:userpool/{literal(pool)}" if pool else "*"
        return [Check(f"cognito-idp:{operation}", resource)]

    def generic(self, request: Request) -> list[Check]:
        raise Unmapped(f"{request.service} {request.method} {request.path}")


# --- denials, in each service's protocol ---------------------------------------------------------


def s3_error(start_response, status: str, code: str, message: str):
    from xml.sax.saxutils import escape

    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>'.encode()
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


def denial_message(principal: str, check: Check, result: str) -> str:
    reason = (
        "with an explicit deny in a policy"
        if result == "ExplicitlyDenied"
        else f"because no identity-based policy allows the {check.action} action"
    )
    return f"User: {principal} is not authorized to perform: {check.action} on resource: {check.resource} {reason}"


def denial_response(service: str, headers: dict[str, str], message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    request_id = str(uuid.uuid4())
    if service == "dynamodb":
        body = {"__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException", "Message": message}
        return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", request_id)], json.dumps(body).encode()
    if service in ("secretsmanager", "events", "cognito-idp") or (service == "sqs" and headers.get("x-amz-target")):
        body = {"__type": "com.amazon.coral.service#AccessDeniedException" if service == "sqs" else "AccessDeniedException", "Message": message}
        extra = [("x-amzn-query-error", "AccessDenied;Sender")] if service == "sqs" else []
        return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id), *extra], json.dumps(body).encode()
    if service == "s3":
        from xml.sax.saxutils import escape

        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>'
        return "403 Forbidden", [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body.encode()
    if service == "ses" and headers.get("content-type", "").startswith("application/json") or service == "ses" and not headers.get("content-type"):
        return "403 Forbidden", [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException"), ("x-amzn-RequestId", request_id)], json.dumps({"message": message}).encode()
    from xml.sax.saxutils import escape

    body = f"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    return "403 Forbidden", [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode()


# --- the enforcer: a WSGI wrapper in front of moto -----------------------------------------------


class Enforcer:
    def __init__(self, evaluator: Evaluator, mapper: Mapper, identities: list[Identity], admin_keys: set[str], log_dir: Path | None = None):
        self.evaluator = evaluator
        self.mapper = mapper
        self.by_key = {identity.access_key: identity for identity in identities}
        self.admin_keys = admin_keys
        # Every refusal, one JSON line each, beside the functions' logs: what the tests read.
        self.denials_file = (log_dir / "iam-denials.jsonl") if log_dir else None
        self.denials_lock = threading.Lock()
        for identity in identities:
            evaluator.define(identity)

    def record(self, denial: dict) -> None:
        if self.denials_file is None:
            return
        with self.denials_lock, self.denials_file.open("a") as out:
            out.write(json.dumps(denial) + "\n")

    def wrap(self, app):
        def enforced(environ, start_response):
            method = environ["REQUEST_METHOD"]
            # The path as sent (percent-encoded), decoded once below: what moto acts on.
            path = urlsplit(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")).path
            headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
            if "CONTENT_TYPE" in environ:
                headers["content-type"] = environ["CONTENT_TYPE"]
            if path.startswith("/moto-api"):
                return app(environ, start_response)  # the emulator's own API, not AWS's
            if method == "OPTIONS" and "authorization" not in headers and "access-control-request-method" in headers:
                return app(environ, start_response)  # a browser's CORS preflight: never authorised
            if headers.get("x-amz-target") and "Action" in parse_qs(environ.get("QUERY_STRING", "")):
                # moto would act on the query's Action, not on the target this file reads.
                return self.refuse(start_response, "", headers, "Action in the query of a target-based protocol")
            if cognito_public(method, path, headers):
                # No IAM in AWS, signed or not (its tokens, sessions and passwords are Cognito's
                # to check): moto checks them.
                return app(environ, start_response)
            body = read_body(environ)
            query = environ.get("QUERY_STRING", "")
            is_upload = method == "POST" and headers.get("content-type", "").startswith("multipart/form-data")
            upload, upload_size = form_upload(headers["content-type"], body) if is_upload else ({}, 0)
            access_key, service = credential_of(query, headers, upload)
            if access_key is None:
                # Anonymous: nothing of Steward's is public (the bucket blocks public access).
                self.record({"identity": "Anonymous", "action": "?", "resource": path, "result": "Anonymous"})
                return self.refuse(start_response, "s3", headers, "Anonymous access is not allowed to this resource")
            expired = presigned_expiry(query, upload)
            if expired:
                self.record({"identity": access_key, "action": "?", "resource": path, "result": "Expired"})
                return self.refuse(start_response, service or "s3", headers, expired)
            if service == "s3" and is_upload:
                # S3 holds a browser upload to its signed policy before anything else; moto does not.
                try:
                    check_post_policy(unquote(path.lstrip("/").split("/", 1)[0]), upload, upload_size)
                except PolicyViolation as violation:
                    self.record({"identity": access_key, "action": "s3:PutObject", "resource": path, "result": violation.code})
                    return s3_error(start_response, violation.status, violation.code, str(violation))
            if access_key in self.admin_keys:
                return app(environ, start_response)
            identity = self.by_key.get(access_key)
            request = Request(method, path, query, headers, body, service or "", access_key, upload)
            denial = self.authorise(identity, request)
            if denial is not None:
                return self.refuse(start_response, service or "", headers, denial)
            if service == "s3" and method in ("GET", "HEAD") and len(path.lstrip("/").split("/", 1)) == 2:
                return self.missing_object_without_list(app, environ, start_response, identity, request)
            return app(environ, start_response)

        return enforced

    def decide(self, identity: Identity, check: Check) -> str:
        """The evaluator's answer to one check, with the global condition keys every request has."""
        context = {
            "aws:PrincipalArn": identity.principal.replace(":sts::", ":iam::").replace("assumed-role/", "role/").rsplit("/", 1)[0],
            "aws:PrincipalAccount": self.mapper.account,
            "aws:SecureTransport": "true",  # loopback stands for the TLS every SDK call uses in AWS
            "aws:RequestedRegion": self.mapper.region,
            "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "aws:EpochTime": str(int(time.time())),
            **check.context,
        }
        return self.evaluator.decide(identity, check.action, check.resource, context, check.resource_policy)

    def missing_object_without_list(self, app, environ, start_response, identity: Identity, request: Request):
        """S3 tells only callers that may list the bucket that an object does not exist (404);
        to the others it answers 403 AccessDenied, and the code's error path must be that one."""
        answer: dict = {}

        def capture(status, headers, exc_info=None):
            answer.update(status=status, headers=headers)

        body = app(environ, capture)
        if answer.get("status", "").startswith("404"):
            bucket = unquote(request.path.lstrip("/").split("/", 1)[0])
            listing = Check("s3:ListBucket", f"arn:aws:s3:::{bucket}", {}, self.mapper.bucket_policies.get(bucket))
            if self.decide(identity, listing) != "Allowed":
                return self.refuse(start_response, "s3", request.headers, "Access Denied")
        start_response(answer["status"], answer["headers"])
        return body

    @staticmethod
    def refuse(start_response, service: str, headers: dict[str, str], message: str):
        status, response_headers, response_body = denial_response(service, headers, message)
        start_response(status, response_headers + [("Content-Length", str(len(response_body)))])
        return [response_body]

    def authorise(self, identity: Identity | None, request: Request) -> str | None:
        """None when every check allows the request, else the message AWS would give."""
        if identity is None:
            self.record({"identity": request.access_key, "action": "?", "resource": request.path, "result": "UnknownKey"})
            return f"The security token included in the request is invalid (unknown local access key {request.access_key})"
        try:
            checks = self.mapper.checks(request)
        except (Unmapped, KeyError, ValueError, TypeError, ElementTree.ParseError) as err:
            log(f"REFUSED (the local stack cannot read this request as an authorisation: {err}): {identity.name} {request.method} {request.path}")
            self.record({"identity": identity.name, "action": f"{request.service}:?", "resource": request.path, "result": "Unmapped"})
            return f"User: {identity.principal} is not authorized: the local stack could not authorise {request.service} {request.method} {request.path}"
        for check in checks:
            result = self.decide(identity, check)
            if result != "Allowed":
                message = denial_message(identity.principal, check, result)
                log(f"DENIED {identity.name}: {check.action} on {check.resource} {json.dumps(check.context)}")
                self.record({"identity": identity.name, "action": check.action, "resource": check.resource, "result": result})
                return message
        return None


def read_body(environ) -> bytes:
    """The request body, read once and put back for moto."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        return b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body
