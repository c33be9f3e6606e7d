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

from shared.domain.keys import ADDRESS, SUBJECT, Keyring

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


def subject_ref(keys: Keyring, customer_id: str, correlation_id: str) -> str:
    """A keyed pseudonym for a subject, used in the audit log so that erasing a GUID leaves no trace of it.

    An erased subject's gate record (`erased-<pseudonym>`) keeps the pseudonym of the GUID it replaced."""
    if correlation_id.startswith(ERASED_PREFIX):
        return "subject:" + correlation_id.removeprefix(ERASED_PREFIX)
    return "subject:" + keys.pseudonym(SUBJECT, f"{customer_id}|{correlation_id}")


def subject_refs(keys: Keyring, customer_id: str, correlation_id: str) -> list[str]:
    """Every pseudonym the subject may appear under (current key first; after a rotation, older ones)."""
    if correlation_id.startswith(ERASED_PREFIX):
        return [subject_ref(keys, customer_id, correlation_id)]
    return ["subject:" + ref for ref in keys.pseudonyms(SUBJECT, f"{customer_id}|{correlation_id}")]


def erased_id(keys: Keyring, customer_id: str, correlation_id: str) -> str:
    """The id an erased subject's gate record is written under: its pseudonym, never the GUID."""
    return ERASED_PREFIX + subject_ref(keys, customer_id, correlation_id).removeprefix("subject:")


def erased_ids(keys: Keyring, customer_id: str, correlation_id: str) -> list[str]:
    """Every id a gate record for this GUID may have been written under (current key first)."""
    return [ERASED_PREFIX + ref.removeprefix("subject:") for ref in subject_refs(keys, customer_id, correlation_id)]


def address_ref(keys: Keyring, address: str) -> str:
    """A keyed pseudonym for a client network address (rate limiting without storing addresses)."""
    return keys.pseudonym(ADDRESS, address)
