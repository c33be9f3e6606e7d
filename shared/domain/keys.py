"""The keyring: one key per purpose, derived from `SESSION_SEALING_KEY`, with rotation.

Each purpose — sealing Face auth tokens (AES-256-GCM), subject pseudonyms (audit log, gate
records), network-address pseudonyms (rate limits) — gets its own key, derived with HKDF-SHA256
from the configured secret, so no key serves two purposes. Sealed values and pseudonyms carry the
id of the key that made them (`<kid>`: 8 hex characters, derived too, not secret). A rotation puts
the old secret in `SESSION_SEALING_KEYS_PREVIOUS`: new values use the new key, values made with a
previous key still open (replays of sessions in flight) and still match (audit look-ups, gates).

Values written before key ids existed (untagged; the key was SHA-256 of the secret) are read too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SEAL, SUBJECT, ADDRESS, END_USER_IP = "seal", "subject-pseudonym", "address-pseudonym", "end-user-ip"
_LEGACY_SUFFIX = {SUBJECT: b"|audit-subject", ADDRESS: b"|client-address", END_USER_IP: b"|end-user-ip"}
SEALED_PREFIX = "k2."


class UnknownKey(ValueError):
    """A sealed value names a key this app no longer has (it was dropped from the previous keys)."""


def _hkdf(secret: str, purpose: str) -> bytes:
    info = f"liveness-guard/{purpose}/v1".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())


@dataclass(frozen=True)
class _Master:
    """One configured secret: its key id and its key for each purpose."""

    kid: str
    keys: dict[str, bytes]
    legacy: bytes  # the single key of before key ids: SHA-256 of the secret

    @classmethod
    def of(cls, secret: str) -> _Master:
        purposes = (SEAL, SUBJECT, ADDRESS, END_USER_IP)
        return cls(
            kid=_hkdf(secret, "key-id")[:4].hex(),
            keys={p: _hkdf(secret, p) for p in purposes},
            legacy=hashlib.sha256(secret.encode()).digest(),
        )

    def digest(self, purpose: str, text: str) -> str:
        return hmac.new(self.keys[purpose], text.encode(), hashlib.sha256).hexdigest()[:32]

    def legacy_digest(self, purpose: str, text: str) -> str:
        return hmac.new(self.legacy + _LEGACY_SUFFIX[purpose], text.encode(), hashlib.sha256).hexdigest()[:32]


class Keyring:
    """The current secret's keys for new values, and every configured secret's for reading old ones."""

    def __init__(self, current: str, previous: Sequence[str] = ()) -> None:
        self._current = _Master.of(current)
        self._all = [self._current, *(_Master.of(p) for p in previous if p and p != current)]

    @property
    def kid(self) -> str:
        """The id of the key new values are made with."""
        return self._current.kid

    # --- sealing ------------------------------------------------------------------------
    def seal(self, plaintext: str, context: str) -> str:
        """AES-256-GCM under the current sealing key, bound to `context`: `k2.<kid>.<nonce+ciphertext hex>`."""
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self._current.keys[SEAL]).encrypt(nonce, plaintext.encode(), context.encode())
        return f"{SEALED_PREFIX}{self._current.kid}.{(nonce + sealed).hex()}"

    def unseal(self, sealed: str, context: str) -> str:
        """Open a value sealed under the current or a previous key; raises when none opens it."""
        if sealed.startswith(SEALED_PREFIX):
            kid, _, data = sealed.removeprefix(SEALED_PREFIX).partition(".")
            master = next((m for m in self._all if m.kid == kid), None)
            if master is None:
                raise UnknownKey(f"sealed under key {kid}, which is not configured")
            candidates = [master.keys[SEAL]]
        else:
            data, candidates = sealed, [m.legacy for m in self._all]
        raw = bytes.fromhex(data)
        for key in candidates[:-1]:
            try:
                return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()
            except InvalidTag:
                continue
        return AESGCM(candidates[-1]).decrypt(raw[:12], raw[12:], context.encode()).decode()

    # --- pseudonyms -----------------------------------------------------------------------
    def pseudonym(self, purpose: str, text: str) -> str:
        """The keyed pseudonym of `text` for a purpose under the current key: `<kid>.<32 hex>`."""
        return f"{self._current.kid}.{self._current.digest(purpose, text)}"

    def pseudonyms(self, purpose: str, text: str) -> list[str]:
        """Every pseudonym `text` may have been stored under (current key first, then older ones)."""
        tagged = [f"{m.kid}.{m.digest(purpose, text)}" for m in self._all]
        return tagged + [m.legacy_digest(purpose, text) for m in self._all]
