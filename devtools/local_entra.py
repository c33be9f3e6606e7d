"""Local Entra-style access tokens for the Face emulator (development and tests only).

Azure AI Face accepts `Authorization: Bearer <Entra ID token>` for the Cognitive Services scope.
Locally there is no Entra ID, so the stack issues look-alike tokens: a JWT signed with HMAC-SHA256
under a secret the emulator knows, with `aud` the Cognitive Services audience and an `exp`. The
emulator accepts a bearer token only when it verifies as such a token, so a wrong, expired or
foreign token (a session's `authToken`, `not-a-token`) is refused with 401, as Azure would.
`LocalEntraCredential` is an azure-core `TokenCredential` issuing them, so the app's real
bearer-token pipeline is what the tests exercise.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from azure.core.credentials import AccessToken

AUDIENCE = "https://cognitiveservices.azure.com"
SCOPE = f"{AUDIENCE}/.default"
ISSUER = "https://login.local-entra.test/liveness-guard/"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, signed: str) -> str:
    return _b64(hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest())


def issue_token(secret: str, ttl_seconds: int = 3600, audience: str = AUDIENCE) -> AccessToken:
    """A signed look-alike Entra access token for `audience`, valid for `ttl_seconds`."""
    now = int(time.time())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"aud": audience, "iss": ISSUER, "iat": now, "nbf": now, "exp": now + ttl_seconds}
    payload = _b64(json.dumps(claims).encode())
    signed = f"{header}.{payload}"
    return AccessToken(f"{signed}.{_signature(secret, signed)}", now + ttl_seconds)


def verify_token(token: str, secret: str) -> bool:
    """True only for an unexpired token this stack signed for the Cognitive Services audience."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    signed = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2], _signature(secret, signed)):
        return False
    try:
        claims: Any = json.loads(_unb64(parts[1]))
    except ValueError:
        return False
    now = time.time()
    return (
        isinstance(claims, dict)
        and claims.get("aud") == AUDIENCE
        and isinstance(claims.get("exp"), int)
        and claims["exp"] > now
        and claims.get("nbf", 0) <= now + 60
    )


class LocalEntraCredential:
    """An azure-core TokenCredential that issues local tokens for the Cognitive Services scope."""

    def __init__(self, secret: str, ttl_seconds: int = 3600) -> None:
        self._secret = secret
        self._ttl = ttl_seconds

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        if scopes != (SCOPE,):
            raise ValueError(f"LocalEntraCredential issues tokens for {SCOPE} only")
        return issue_token(self._secret, self._ttl)
