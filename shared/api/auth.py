"""Who is calling: customers by api key; reviewers and administrators by App Service
Authentication (`X-MS-CLIENT-PRINCIPAL`, trusted only when EASY_AUTH_ENABLED=true) or `x-admin-key`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote, urlsplit

import azure.functions as func

from shared.adapters.audit_log import AuditLog
from shared.api.http import STATE_CHANGING, client_network
from shared.domain.clock import Clock
from shared.domain.keys import Keyring
from shared.domain.review_people import ADMIN_KEY_ACTOR, ADMIN_KEY_NAME, Decider
from shared.domain.secrets import address_ref, subject_ref
from shared.errors import Forbidden, Unauthorized

PRINCIPAL_HEADER = "x-ms-client-principal"
ADMIN_KEY_HEADER = "x-admin-key"


class Role(StrEnum):
    REVIEWER = "Reviewer"
    ADMINISTRATOR = "Administrator"


OBJECT_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[str]
    object_id: str = ADMIN_KEY_NAME  # the Entra object id of a signed-in person

    def has(self, role: Role) -> bool:
        """Administrator can do everything Reviewer can."""
        return role in self.roles or Role.ADMINISTRATOR in self.roles

    def decider(self) -> Decider:
        """The person, as decisions, claims and second reviews record them."""
        return Decider(self.name, self.object_id, Role.ADMINISTRATOR in self.roles)


def _admin_key_matches(presented: str, configured: str | None) -> bool:
    if not configured:
        return False
    digest = hashlib.sha256
    return hmac.compare_digest(digest(presented.encode()).digest(), digest(configured.encode()).digest())


def _decode_principal(header: str) -> Principal | None:
    try:
        data = json.loads(base64.b64decode(header, validate=False))
        claims = data.get("claims") or []
        role_type = data.get("role_typ") or "roles"
        name_type = data.get("name_typ") or "name"
        roles = frozenset(str(c.get("val")) for c in claims if c.get("typ") in (role_type, "roles"))
        name = next((str(c.get("val")) for c in claims if c.get("typ") == name_type), None) or "unknown"
        oid = next((str(c.get("val")) for c in claims if c.get("typ") in OBJECT_ID_CLAIMS), None)
    except (ValueError, binascii.Error, TypeError, AttributeError):
        return None
    return Principal(name=f"user:{name}", roles=roles, object_id=oid or f"name:{name}")


@dataclass
class StaffAuth:
    """Resolves reviewer/administrator principals and audits every refusal."""

    admin_api_key: str | None
    easy_auth_enabled: bool
    audit: AuditLog
    clock: Clock
    keys: Keyring

    def principal(self, req: func.HttpRequest) -> Principal | None:
        key = req.headers.get(ADMIN_KEY_HEADER)
        if key and _admin_key_matches(key, self.admin_api_key):
            return Principal(name=ADMIN_KEY_ACTOR, roles=frozenset({Role.ADMINISTRATOR}))
        header = req.headers.get(PRINCIPAL_HEADER)
        if header and self.easy_auth_enabled:
            return _decode_principal(header)
        return None

    def require(self, req: func.HttpRequest, role: Role, action: str) -> Principal:
        """The caller if it holds `role`; otherwise 401/403, written to the audit log.

        A state-changing call sent from another site is refused first (403): under cookie-based
        App Service Authentication a browser would otherwise carry the reviewer's session along."""
        if req.method.upper() in STATE_CHANGING and cross_site(req):
            self._refused(req, "unknown", action, "cross-site request")
            raise Forbidden("Cross-site requests may not change anything here.")
        principal = self.principal(req)
        if principal is None:
            self._refused(req, "anonymous", action, "unauthenticated")
            raise Unauthorized("Sign in, or send a valid x-admin-key.")
        if not principal.has(role):
            self._refused(req, principal.name, action, f"missing role {role.value}")
            raise Forbidden(f"This call needs the {role.value} role.")
        return principal

    def _refused(self, req: func.HttpRequest, actor: str, action: str, why: str) -> None:
        """Audit a refused call by its route template; a subject it named appears as its pseudonym
        (the log is kept a year and erasure cannot reach it, so no raw GUID may go in)."""
        params = dict(req.route_params or {})
        customer_id, correlation_id = params.get("customerId"), params.get("correlationId")
        named = customer_id and correlation_id  # a GUID in upper case is the same subject: one pseudonym
        subject = subject_ref(self.keys, customer_id.lower(), correlation_id.lower()) if named else None
        self.audit.count_refusal(
            at=self.clock(),
            caller=address_ref(self.keys, client_network(req)),
            actor=actor,
            action=action,
            target=f"{req.method} {route_template(req.url, params)}",
            reason=why,
            detail={"subject": subject} if subject else None,
        )


def cross_site(req: func.HttpRequest) -> bool:
    """Whether the browser says the call comes from another site: `Sec-Fetch-Site: cross-site`, or
    an `Origin` other than the app's own (scheme and host the request was sent to)."""
    if (req.headers.get("sec-fetch-site") or "").lower() == "cross-site":
        return True
    origin = req.headers.get("origin")
    if origin is None:
        return False  # not a browser, or a same-origin GET-like navigation
    target = urlsplit(req.url)
    host = req.headers.get("x-forwarded-host") or req.headers.get("host") or target.netloc
    return origin.rstrip("/").lower() not in {f"{scheme}://{host}".lower() for scheme in ("https", target.scheme)}


def route_template(url: str, params: dict[str, str]) -> str:
    """The path of a request with each route parameter's value replaced by `{name}`."""
    segments = urlsplit(url).path.split("/")
    names = {value: name for name, value in params.items() if value}
    return "/".join(f"{{{names[unquote(seg)]}}}" if unquote(seg) in names else seg for seg in segments)[-200:]
