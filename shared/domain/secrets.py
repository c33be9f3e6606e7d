"""Keys and tokens: minted from a CSPRNG, stored only as SHA-256 hashes, compared in constant time.

API keys and session tokens carry the (non-secret) ids needed to find their row in one point read;
the secret part is 256 random bits, so a fast hash is enough (no password stretching needed).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_HEX32 = r"[0-9a-f]{32}"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SECRET = r"[A-Za-z0-9_-]{43}"  # noqa: S105 - a pattern, not a secret
_API_KEY = re.compile(rf"lgk\.({_HEX32})\.{_SECRET}")
ERASED_PREFIX = "erased-"
_SESSION_TOKEN = re.compile(rf"lgs\.({_HEX32})\.({_UUID})\.{_SECRET}")


def new_id() -> str:
    """A random 128-bit id in hex (customers, sessions, feedback)."""
    return uuid.uuid4().hex


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret, hex encoded."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, stored_hash: str | None) -> bool:
    """Constant-time comparison of a presented secret with its stored hash."""
    if not stored_hash:
        return False
    return hmac.compare_digest(hash_secret(secret).encode(), stored_hash.encode())


def new_api_key(customer_id: str) -> str:
    """An api key for a customer: `lgk.<customerId>.<256-bit secret>`."""
    return f"lgk.{customer_id}.{secrets.token_urlsafe(32)}"


def api_key_customer(key: str) -> str | None:
    """The customer id an api key names, or None when the key is malformed."""
    match = _API_KEY.fullmatch(key)
    return match.group(1) if match else None


@dataclass(frozen=True)
class TokenAddress:
    """Where a session token's row lives (decoded from the token, not trusted until the hash matches)."""

    customer_id: str
    correlation_id: str


def new_session_token(customer_id: str, correlation_id: str) -> str:
    """A session token: `lgs.<customerId>.<correlationId>.<256-bit secret>`."""
    return f"lgs.{customer_id}.{correlation_id}.{secrets.token_urlsafe(32)}"


def session_token_address(token: str) -> TokenAddress | None:
    """The subject a session token claims to belong to, or None when it is malformed."""
    match = _SESSION_TOKEN.fullmatch(token)
    return TokenAddress(match.group(1), match.group(2)) if match else None


def seal(key: bytes, plaintext: str, context: str) -> str:
    """Encrypt with AES-256-GCM, bound to `context`; returns nonce+ciphertext in hex."""
    nonce = secrets.token_bytes(12)
    return (nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())).hex()


def unseal(key: bytes, sealed: str, context: str) -> str:
    """Reverse of `seal`; raises when the key, context or data do not match."""
    raw = bytes.fromhex(sealed)
    return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()


def subject_ref(key: bytes, customer_id: str, correlation_id: str) -> str:
    """A keyed pseudonym for a subject, used in the audit log so that erasing a GUID leaves no trace of it.

    An erased subject's gate record (`erased-<pseudonym>`) keeps the pseudonym of the GUID it replaced."""
    if correlation_id.startswith(ERASED_PREFIX):
        return "subject:" + correlation_id.removeprefix(ERASED_PREFIX)
    digest = hmac.new(key + b"|audit-subject", f"{customer_id}|{correlation_id}".encode(), hashlib.sha256)
    return "subject:" + digest.hexdigest()[:32]


def erased_id(key: bytes, customer_id: str, correlation_id: str) -> str:
    """The id an erased subject's gate record is kept under: its pseudonym, never the GUID."""
    return ERASED_PREFIX + subject_ref(key, customer_id, correlation_id).removeprefix("subject:")


def address_ref(key: bytes, address: str) -> str:
    """A keyed pseudonym for a client network address (rate limiting without storing addresses)."""
    return hmac.new(key + b"|client-address", address.encode(), hashlib.sha256).hexdigest()[:32]
