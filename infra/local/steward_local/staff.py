"""Local only, never in the template: one staff member per group of the template's Cognito user
pools, so that the staff console can be signed in to at once (`make dev` prints them; tests read
them at `GET /_local/staff`).

Each is `staff-<group>@example.com` (lower case), with the password LOCAL_STAFF_PASSWORD of the env
file, in that group, and with an authenticator app set up as a staff member sets one up on their
first sign-in, so that every sign-in asks for the app's code (the pool's MfaConfiguration ON):
InitiateAuth (USER_PASSWORD_AUTH) -> AssociateSoftwareToken -> VerifySoftwareToken with the app's
first code -> AdminSetUserMFAPreference. moto gives every app the same secret; `totp_secret` is it
as an authenticator app takes it (base32), and `totp()` computes a code as an app does (RFC 6238:
HMAC-SHA-1, 6 digits, 30 s steps).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

from .config import log

# The staff members' password when the env file names none (LOCAL_STAFF_PASSWORD).
DEFAULT_PASSWORD = "Steward-Local-Staff-1"


def base32_secret(secret: str) -> str:
    """A secret as an authenticator app takes it: base32, upper case, without padding."""
    return secret.upper().rstrip("=")


def totp(secret: str, at: float | None = None) -> str:
    """The code an authenticator app shows for `secret` (base32) at `at` (now by default)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int((time.time() if at is None else at) // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**6)


def seed_staff(template: dict, resolver, endpoint: str, region: str, password: str) -> dict | None:
    """Creates the staff members in moto (as the account's administrator, before IAM is enforced)
    and returns what `GET /_local/staff` answers, or None when the template has no user pool."""
    import boto3
    from botocore.exceptions import ClientError

    resources = template["Resources"]
    pools = [logical for logical, resource in resources.items() if resource["Type"] == "AWS::Cognito::UserPool"]
    if not pools:
        return None
    # The pool with groups (the staff pool), else the first one.
    groups_of = {
        pool: [resolver.ref(logical) for logical, resource in resources.items()
               if resource["Type"] == "AWS::Cognito::UserPoolGroup"
               and resolver.resolve(resource["Properties"]["UserPoolId"]) == resolver.ref(pool)]
        for pool in pools
    }
    pool_logical = next((pool for pool in pools if groups_of[pool]), pools[0])
    pool_id = resolver.ref(pool_logical)
    client_id = next(
        (resolver.ref(logical) for logical, resource in resources.items()
         if resource["Type"] == "AWS::Cognito::UserPoolClient"
         and resolver.resolve(resource["Properties"]["UserPoolId"]) == pool_id),
        None,
    )
    if client_id is None:
        raise SystemExit(f"the user pool {pool_logical} has no client in the template: the local staff cannot sign in")
    cognito = boto3.session.Session(region_name=region).client("cognito-idp", endpoint_url=endpoint)
    pool_props = resolver.resolve(resources[pool_logical]["Properties"])
    by_email = "email" in (pool_props.get("UsernameAttributes") or [])
    mfa_on = pool_props.get("MfaConfiguration", "OFF") != "OFF" and "SOFTWARE_TOKEN_MFA" in (pool_props.get("EnabledMfas") or [])
    users = []
    for group in groups_of[pool_logical]:
        email = f"staff-{group}@example.com".lower()
        cognito.admin_create_user(
            UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        )
        try:
            cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=password, Permanent=True)
        except ClientError as err:
            raise SystemExit(f"LOCAL_STAFF_PASSWORD is refused by the pool {pool_logical}: {err}") from None
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
        secret = None
        if mfa_on:
            secret = enrol_app(cognito, client_id, pool_id, email, password)
        users.append({"group": group, "email": email, "password": password, "totp_secret": secret})
    log(f"staff: {len(users)} staff members in {pool_logical} ({pool_id}){', each with an authenticator app' if mfa_on else ''}"
        f"{'' if by_email else ' (signing in by user name)'}")
    return {"user_pool_id": pool_id, "client_id": client_id, "region": region, "users": users}


def enrol_app(cognito, client_id: str, pool_id: str, email: str, password: str) -> str:
    """Sets up a staff member's authenticator app, as they would on their first sign-in, and
    makes it what every later sign-in asks for. Returns the app's secret (base32)."""
    from botocore.exceptions import ClientError

    signed_in = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    # Cognito asks a new member of an MFA-ON pool to set up an app (MFA_SETUP, with a session);
    # moto signs them in instead. Either way the app is set up with what it gave.
    token = signed_in.get("AuthenticationResult", {}).get("AccessToken")
    session = signed_in.get("Session")
    credentials = {"AccessToken": token} if token else {"Session": session}
    associated = cognito.associate_software_token(**credentials)
    secret = base32_secret(associated["SecretCode"])
    if not token and associated.get("Session"):
        credentials = {"Session": associated["Session"]}
    for attempt in range(2):
        try:
            cognito.verify_software_token(**credentials, UserCode=totp(secret), FriendlyDeviceName="local")
            break
        except ClientError as err:
            # A code computed at the end of its 30 s step can reach moto in the next one.
            if attempt or err.response["Error"]["Code"] != "CodeMismatchException":
                raise
            time.sleep(1)
    cognito.admin_set_user_mfa_preference(
        UserPoolId=pool_id, Username=email, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    return secret
