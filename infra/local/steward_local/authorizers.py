"""The HTTP API's JWT authorizers, as API Gateway runs them before a route's function: the
template's `Auth.Authorizers` of the HttpApi with a `JwtConfiguration`, on the routes whose event
names one (`Auth.Authorizer`), or all routes when the API has a `DefaultAuthorizer` (a route's
`Authorizer: NONE` opts out).

What API Gateway checks (its developer guide, "Control access to HTTP APIs with JWT authorizers"):
the token is read from the identity source (`$request.header.Authorization`, with or without a
`Bearer ` prefix); it is signed with an RSA algorithm by a key of the issuer's JWKS (`kid`); `iss`
is the configured issuer; `aud` (or, only when there is no `aud`, `client_id`) is one of the
configured audiences; `exp` is in the future, `nbf` and `iat` are not; with AuthorizationScopes on
the route, `scope` (or `scp`) has one of them. Any failure: 401 `{"message":"Unauthorized"}` with a
`www-authenticate` header saying why (403 Forbidden for missing scopes), and the function is not
invoked. A token accepted puts its claims in the event, every value a string as API Gateway gives
them (a list as `[a b]`): `requestContext.authorizer.jwt = {"claims": {...}, "scopes": ...}`.

An issuer of one of the stack's Cognito pools (`https://cognito-idp.<region>.amazonaws.com/<pool
id>`) has its keys served by moto (`GET <moto>/<pool id>/.well-known/jwks.json`, public as in
AWS); any other issuer's are found as API Gateway finds them, from its OpenID configuration.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from dataclasses import dataclass, field

COGNITO_ISSUER = re.compile(r"^https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/([\w-]+_[0-9A-Za-z]+)$")
# API Gateway accepts RSA signatures only.
ALGORITHMS = ["RS256", "RS384", "RS512"]
# A token whose key is not among those fetched has the keys fetched again, at most this often.
REFETCH_SECONDS = 30


class Refused(Exception):
    """A request the authorizer refuses: what API Gateway answers instead of the function."""

    def __init__(self, description: str | None, status: int = 401, scope: str = ""):
        super().__init__(description or "no token")
        self.status = status
        if description is None:
            # No token at all.
            self.www_authenticate = "Bearer"
        elif status == 403:
            self.www_authenticate = f'Bearer scope="{scope}" error="insufficient_scope" error_description="{description}"'
        else:
            self.www_authenticate = f'Bearer scope="{scope}" error="invalid_token" error_description="{description}"'

    @property
    def message(self) -> str:
        return "Forbidden" if self.status == 403 else "Unauthorized"


def claim_text(value) -> str:
    """A claim as API Gateway puts it in the event: every value a string, a list as `[a b]`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + " ".join(claim_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{claim_text(item)}" for key, item in sorted(value.items())) + "]"
    if value is None:
        return ""
    return str(value)


@dataclass
class JwtAuthorizer:
    name: str
    identity_source: str
    issuer: str
    audience: list[str]
    aws_endpoint: str
    _keys: dict = field(default_factory=dict)
    _fetched_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def jwks_url(self) -> str:
        pool = COGNITO_ISSUER.match(self.issuer)
        if pool:
            return f"{self.aws_endpoint}/{pool[1]}/.well-known/jwks.json"
        with urllib.request.urlopen(self.issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=10) as answer:
            return json.loads(answer.read())["jwks_uri"]

    def key_set(self, kid: str | None, refresh: bool = False):
        """The issuer's keys, fetched once and kept (again when a token names a key not among
        them, at most every REFETCH_SECONDS)."""
        from joserfc.jwk import KeySet

        with self._lock:
            stale = refresh and time.time() - self._fetched_at > REFETCH_SECONDS
            if not self._keys or stale:
                with urllib.request.urlopen(self.jwks_url(), timeout=10) as answer:
                    self._keys = json.loads(answer.read())
                self._fetched_at = time.time()
            return KeySet.import_key_set(self._keys), {key.get("kid") for key in self._keys.get("keys", [])}

    def token_of(self, headers: dict[str, str], query: dict[str, str]) -> str | None:
        source = self.identity_source.strip()
        if source.lower().startswith("$request.header."):
            value = headers.get(source[len("$request.header."):].lower())
        elif source.startswith("$request.querystring."):
            value = query.get(source[len("$request.querystring."):])
        else:
            raise SystemExit(f"the local stack does not read the identity source {source} of {self.name}")
        if value is None:
            return None
        value = value.strip()
        if value[:7].lower() == "bearer ":
            value = value[7:].strip()
        return value or None

    def authorize(self, headers: dict[str, str], query: dict[str, str], scopes: list[str] | None = None) -> dict:
        """The event's `requestContext.authorizer` for a request, or Refused."""
        from joserfc import jws, jwt
        from joserfc.errors import JoseError

        token = self.token_of(headers, query)
        if token is None:
            raise Refused(None)
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError, TypeError):
            raise Refused("the token was not well formed") from None
        if header.get("alg") not in ALGORITHMS:
            raise Refused(f"signing method {header.get('alg')} is invalid")
        key_set, kids = self.key_set(header.get("kid"))
        if header.get("kid") not in kids:
            key_set, kids = self.key_set(header.get("kid"), refresh=True)
            if header.get("kid") not in kids:
                raise Refused("the token's signing key is not one of the issuer's keys")
        try:
            claims = jwt.decode(token, key_set, algorithms=ALGORITHMS).claims
        except (JoseError, ValueError, TypeError):
            raise Refused("the token's signature is not valid") from None
        now = time.time()
        if claims.get("iss") != self.issuer:
            raise Refused("the token does not have a valid issuer")
        if "aud" in claims:
            audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        else:
            audiences = [claims.get("client_id")]
        if not any(audience in self.audience for audience in audiences):
            raise Refused("the token does not have a valid audience")
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= now:
            raise Refused("the token has expired")
        if isinstance(claims.get("nbf"), (int, float)) and claims["nbf"] > now:
            raise Refused("the token is not valid yet")
        if isinstance(claims.get("iat"), (int, float)) and claims["iat"] > now:
            raise Refused("the token was issued in the future")
        granted = None
        if scopes:
            held = claims.get("scope", claims.get("scp", ""))
            held = held.split() if isinstance(held, str) else list(held or [])
            if not set(held) & set(scopes):
                raise Refused("the token does not have the scopes the route requires", 403, " ".join(scopes))
            granted = held
        return {"jwt": {"claims": {key: claim_text(value) for key, value in claims.items()}, "scopes": granted}}


def authorizers_of(template: dict, resolver, aws_endpoint: str) -> dict[str, tuple[dict[str, JwtAuthorizer], str | None]]:
    """Each HttpApi's JWT authorizers by name, and its DefaultAuthorizer, by the API's logical id."""
    apis = {}
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::HttpApi":
            continue
        auth = resource.get("Properties", {}).get("Auth") or {}
        authorizers = {}
        for name, spec in (auth.get("Authorizers") or {}).items():
            if "JwtConfiguration" not in spec:
                raise SystemExit(f"{logical}'s authorizer {name} is not a JWT authorizer: the local stack emulates only those")
            config = resolver.resolve(spec["JwtConfiguration"])
            audience = config.get("audience") or []
            authorizers[name] = JwtAuthorizer(
                name=name,
                identity_source=resolver.resolve(spec.get("IdentitySource", "$request.header.Authorization")),
                issuer=config["issuer"],
                audience=[str(a) for a in (audience if isinstance(audience, list) else [audience])],
                aws_endpoint=aws_endpoint,
            )
        apis[logical] = (authorizers, auth.get("DefaultAuthorizer"))
    return apis


def route_authorizer(event_props: dict, apis: dict) -> tuple[JwtAuthorizer | None, list[str] | None]:
    """The authorizer (and the scopes it requires) of one HttpApi event of a function."""
    api = event_props.get("ApiId")
    api_logical = api.get("Ref") if isinstance(api, dict) else api
    if api_logical is None:
        # SAM's implicit API (ServerlessHttpApi), which has no authorizers of its own.
        return None, None
    authorizers, default = apis.get(api_logical, ({}, None))
    auth = event_props.get("Auth") or {}
    name = auth.get("Authorizer", default)
    if name in (None, "NONE"):
        return None, None
    if name not in authorizers:
        raise SystemExit(f"the route {event_props.get('Method')} {event_props.get('Path')} names the authorizer {name}, "
                         f"which {api_logical} does not define")
    return authorizers[name], auth.get("AuthorizationScopes")
