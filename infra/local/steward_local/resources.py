"""The template's resources, created in moto from `template.yaml` itself (tables, queues, buckets,
secrets, SES identities and configuration sets, event buses, Cognito user pools with their clients
and groups), so that nothing here repeats the template. One thing is local only: every event bus also feeds a tap queue (`EventsTapQueue` in the
stack's ready line), so that tests can read each event put on it."""

from __future__ import annotations

import json

from .config import ACCOUNT_ID, log
from .template import Resolver


def create_resources(template: dict, resolver: Resolver, endpoint: str, region: str) -> dict[str, str]:
    """Creates, in moto, each resource of the template that has a local meaning, in dependency
    order: tables, dead-letter queues, queues, buckets (whose notifications need the queues)."""
    import boto3

    session = boto3.session.Session(region_name=region)
    clients = {
        name: session.client(name, endpoint_url=endpoint)
        for name in ("dynamodb", "sqs", "s3", "ses", "secretsmanager", "events", "cognito-idp")
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
        order = ["AWS::SecretsManager::Secret", "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::SES::EmailIdentity",
                 "AWS::SES::ConfigurationSet", "AWS::Events::EventBus", "AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient",
                 "AWS::Cognito::UserPoolGroup"]
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
            "AWS::Events::EventBus": create_event_bus,
            "AWS::Cognito::UserPool": create_user_pool,
            "AWS::Cognito::UserPoolClient": create_user_pool_client,
            "AWS::Cognito::UserPoolGroup": create_user_pool_group,
        }.get(kind)
        if creator is None:
            continue
        props = resolver.resolve(resource.get("Properties", {}))
        name = creator(clients, logical, props, resolver, region)
        resolver.physical[logical] = name
        created[logical] = name
        if kind == "AWS::Events::EventBus":
            created[TAP_KEY] = tap_event_bus(clients, name, resolver, region)
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
    # Named in the env file, even empty: an empty TURNSTILE_SECRET_KEY turns Turnstile off; the
    # functions refuse to start without a value they need, naming it.
    missing = [name for name in names if name not in resolver.settings]
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


def create_event_bus(clients, logical, props, resolver, region) -> str:
    # Ref of an event bus is its name (GetAtt Arn its ARN: template.py), as in CloudFormation.
    name = props.get("Name") or f"{resolver.stack}-{logical}"
    clients["events"].create_event_bus(Name=name)
    return name


def api_arguments(client, operation: str, props: dict, logical: str, renamed: dict[str, str] | None = None) -> dict:
    """A resource's CloudFormation properties as the arguments of the API call that creates it,
    where the two share their names (Cognito's do, but for a few): each coerced to the type the
    API takes (a `!Ref` of a Number parameter is a string). A property the call does not take is
    said, not passed (CloudFormation-only ones, such as a user pool's EnabledMfas, are applied by
    the creator itself)."""
    shape = client.meta.service_model.operation_model(operation).input_shape
    renamed = renamed or {}
    arguments, ignored = {}, []
    for name, value in props.items():
        member = renamed.get(name, name)
        if member in shape.members:
            arguments[member] = _coerce(shape.members[member], value)
        else:
            ignored.append(name)
    for name in ignored:
        if name not in _APPLIED_BY_CREATOR.get(operation, ()):
            log(f"{logical}: {name} has no local meaning (not an argument of {operation}); ignored")
    return arguments


# CloudFormation properties that are not API arguments, applied by the creator by other calls.
_APPLIED_BY_CREATOR = {"CreateUserPool": ("EnabledMfas",)}


def _coerce(shape, value):
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {k: _coerce(shape.members[k], v) if k in shape.members else v for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_coerce(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {str(k): _coerce(shape.value, v) for k, v in value.items()}
    if kind in ("integer", "long") and isinstance(value, str):
        return int(value)
    if kind == "boolean" and isinstance(value, str):
        return value.lower() == "true"
    if kind == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def create_user_pool(clients, logical, props, resolver, region) -> str:
    """Ref of a user pool is its id. CloudFormation's EnabledMfas has no CreateUserPool argument:
    as CloudFormation does, the pool's MFA configuration is set after (SetUserPoolMfaConfig), so
    that an authenticator app (SOFTWARE_TOKEN_MFA) is what sign-in asks for. moto checks the codes
    (RFC 6238) because the stack runs it with MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP (moto_server.py)."""
    cognito = clients["cognito-idp"]
    arguments = api_arguments(cognito, "CreateUserPool", props, logical, {"UserPoolName": "PoolName"})
    arguments.setdefault("PoolName", f"{resolver.stack}-{logical}")
    pool = cognito.create_user_pool(**arguments)["UserPool"]["Id"]
    enabled = props.get("EnabledMfas") or []
    mfa = props.get("MfaConfiguration", "OFF")
    if mfa != "OFF" and enabled:
        config = {"UserPoolId": pool, "MfaConfiguration": mfa}
        if "SOFTWARE_TOKEN_MFA" in enabled:
            config["SoftwareTokenMfaConfiguration"] = {"Enabled": True}
        if "SMS_MFA" in enabled and "SmsConfiguration" in arguments:
            config["SmsMfaConfiguration"] = {"SmsConfiguration": arguments["SmsConfiguration"]}
            if "SmsAuthenticationMessage" in arguments:
                config["SmsMfaConfiguration"]["SmsAuthenticationMessage"] = arguments["SmsAuthenticationMessage"]
        if "EMAIL_OTP" in enabled:
            config["EmailMfaConfiguration"] = {}
        unknown = set(enabled) - {"SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP"}
        if unknown or ("SMS_MFA" in enabled and "SmsMfaConfiguration" not in config):
            log(f"{logical}: EnabledMfas {sorted(enabled)}: only SOFTWARE_TOKEN_MFA (and SMS_MFA with an SmsConfiguration) is set up locally")
        cognito.set_user_pool_mfa_config(**config)
    return pool


def create_user_pool_client(clients, logical, props, resolver, region) -> str:
    """Ref of a user pool client is its id. (moto ignores ExplicitAuthFlows: every flow it knows
    is allowed; ReadAttributes it honours: the id token has only those attributes.)"""
    cognito = clients["cognito-idp"]
    arguments = api_arguments(cognito, "CreateUserPoolClient", props, logical)
    arguments.setdefault("ClientName", logical)
    return cognito.create_user_pool_client(**arguments)["UserPoolClient"]["ClientId"]


def create_user_pool_group(clients, logical, props, resolver, region) -> str:
    """Ref of a user pool group is its name."""
    cognito = clients["cognito-idp"]
    arguments = api_arguments(cognito, "CreateGroup", props, logical)
    arguments.setdefault("GroupName", f"{resolver.stack}-{logical}")
    return cognito.create_group(**arguments)["Group"]["GroupName"]


# The ready line's `resources` key for the tap queue's URL (tests read it as the administrator).
TAP_KEY = "EventsTapQueue"
# What Steward puts on its bus comes from this source (docs/events/README.md).
TAP_PATTERN = {"source": ["steward"]}


def tap_event_bus(clients, bus: str, resolver, region) -> str:
    """Local only, never in the template: a rule on the bus sending every event Steward puts on it
    to one queue, `<stack>-events-tap`, so that tests can read what a team's own rules would
    receive. Several buses share the queue. Returns its URL."""
    sqs, events = clients["sqs"], clients["events"]
    queue = f"{resolver.stack}-events-tap"
    queue_arn = f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{queue}"
    rule = f"{bus}-local-tap"
    rule_arn = events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(TAP_PATTERN), State="ENABLED")["RuleArn"]
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    # What AWS needs for EventBridge to deliver to a queue (moto delivers without it): the queue's
    # policy lets events.amazonaws.com send, for each tap rule.
    current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}).get("Policy")
    policy = json.loads(current) if current else {"Version": "2012-10-17", "Statement": []}
    policy["Statement"].append({
        "Sid": rule,
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    })
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "local-tap", "Arn": queue_arn}])
    return url
