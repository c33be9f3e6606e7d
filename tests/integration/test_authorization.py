"""Who may call each review and manage route (docs/api.md); every refusal is audited."""

import base64
import json

import pytest

from tests.integration.helpers import ADMIN, consented_subject, new_customer
from tests.support import ApiClient


def principal(*roles: str) -> dict[str, str]:
    claims = [{"typ": "name", "val": "pat@contoso.example"}] + [{"typ": "roles", "val": r} for r in roles]
    raw = json.dumps({"auth_typ": "aad", "claims": claims, "name_typ": "name", "role_typ": "roles"})
    return {"x-ms-client-principal": base64.b64encode(raw.encode()).decode()}


# (method, path template, body, role, status when allowed); {c} customer, {g} an active subject
ROUTES = [
    ("GET", "/api/v1/review/flags", None, "Reviewer", 200),
    ("GET", "/api/v1/review/subjects/{c}/{g}", None, "Reviewer", 200),
    (
        "POST",
        "/api/v1/review/subjects/{c}/{g}/decision",
        {"decision": "confirm", "reason": "r", "guidelineId": "repeated-spoof"},
        "Reviewer",
        409,
    ),
    ("POST", "/api/v1/review/subjects/{c}/{g}/reset", {"reason": "r"}, "Reviewer", 200),
    ("GET", "/api/v1/review/audit", None, "Reviewer", 200),
    ("GET", "/api/v1/review/feedback", None, "Reviewer", 200),
    ("GET", "/api/v1/review/determinations", None, "Reviewer", 200),
    # an allowed caller reaches the lookup: no such determination
    ("POST", "/api/v1/review/determinations/{c}.x/resolution", {"outcome": "accepted", "reason": "r"}, "Reviewer", 404),
    ("POST", "/api/v1/manage/customers", {"name": "N", "contactEmail": "n@x.example"}, "Administrator", 201),
    ("GET", "/api/v1/manage/customers", None, "Administrator", 200),
    ("GET", "/api/v1/manage/customers/{c}", None, "Administrator", 200),
    ("POST", "/api/v1/manage/customers/{c}/keys", None, "Administrator", 200),
    # an allowed caller reaches the check: a customer that is not suspended cannot be reinstated
    ("POST", "/api/v1/manage/customers/{c}/reinstate", None, "Administrator", 409),
    # terminating is permanent: the first allowed caller terminates, the next one gets 409
    ("POST", "/api/v1/manage/customers/{c}/terminate", {"reason": "r"}, "Administrator", (200, 409)),
    ("POST", "/api/v1/manage/repair", None, "Administrator", 200),
]


def refusals(services) -> int:
    return sum(e.get("count", 1) for e in services.tables.client("audit").list_entities() if e["outcome"] == "refused")


def call(api, route, customer_id, guid, headers):
    method, template, body, _, _ = route
    return api.request(method, template.format(c=customer_id, g=guid), json=body, headers=headers)


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES])
def test_authorization_matrix_with_app_service_authentication(configure, router, route):
    services = configure(EASY_AUTH_ENABLED="true")
    api = ApiClient(router)
    customer_id, key = new_customer(api)
    needed, allowed = route[3], route[4]
    statuses = iter(allowed if isinstance(allowed, tuple) else (allowed,))
    allowed_status = next(statuses)

    def then() -> int:  # the status the next allowed caller gets (the same, unless the route says)
        nonlocal allowed_status
        current, allowed_status = allowed_status, next(statuses, allowed_status)
        return current

    callers = {
        "no credentials": ({}, 401),
        "customer api key": ({"x-api-key": key}, 401),
        "principal without a role": (principal(), 403),
        "principal with an unrelated role": (principal("Auditor"), 403),
        "Reviewer": (principal("Reviewer"), then() if needed == "Reviewer" else 403),
        "Administrator": (principal("Administrator"), then()),
        "admin key": (ADMIN, then()),
    }
    guids = [consented_subject(api, key) for _ in callers]  # before a key rotation can change the key
    for guid, (caller, (headers, expected)) in zip(guids, callers.items(), strict=True):
        before = refusals(services)
        response = call(api, route, customer_id, guid, headers)
        assert response.status == expected, (caller, response.status, response.body)
        if expected in (401, 403):
            assert response.error_code == ("unauthorized" if expected == 401 else "forbidden")
            assert refusals(services) == before + 1, caller
        else:
            assert refusals(services) == before, caller


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES])
def test_forged_principal_is_refused_while_easy_auth_is_off(configure, router, route):
    services = configure(EASY_AUTH_ENABLED="false")
    api = ApiClient(router)
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    for forged in (principal("Administrator"), principal("Reviewer")):
        before = refusals(services)
        response = call(api, route, customer_id, guid, forged)
        assert (response.status, response.error_code) == (401, "unauthorized")
        assert refusals(services) == before + 1


def test_a_customer_cannot_reach_another_customers_subject(api, face):
    owner_id, owner_key = new_customer(api, "Owner")
    _, other_key = new_customer(api, "Other")
    guid = consented_subject(api, owner_key)
    for method, template, body, _, _ in ROUTES[:4]:
        response = api.request(method, template.format(c=owner_id, g=guid), json=body, headers={"x-api-key": other_key})
        assert response.status == 401
    # the same GUID under the other customer is a different subject: no consent there
    other_session = api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": other_key})
    assert other_session.error_code == "consent_required"
    assert api.get(f"/api/v1/review/subjects/{owner_id}/{guid}", headers=ADMIN).json["status"] == "active"


def test_console_page_requires_a_signed_in_reviewer_when_app_service_authentication_is_on(configure, router):
    configure(EASY_AUTH_ENABLED="true")
    api = ApiClient(router)
    anonymous = api.get("/api/v1/review")
    assert anonymous.status == 302 and anonymous.headers["Location"].startswith("/.auth/login/aad")
    assert api.get("/api/v1/review", headers=principal("Auditor")).status == 403
    page = api.get("/api/v1/review", headers=principal("Reviewer"))
    assert page.status == 200 and b'data-auth="easy"' in page.body


def test_console_page_holds_no_data_and_asks_for_the_key_locally(api):
    page = api.get("/api/v1/review")
    assert page.status == 200 and b'data-auth="key"' in page.body
    assert b"lgk." not in page.body and b"admin" not in page.body.split(b"<body", 1)[0]


def test_a_refused_call_is_audited_by_route_and_pseudonym_never_by_guid(configure, router):
    """The audit log is kept a year, out of erasure's reach: a refused call names no raw GUID."""
    services = configure()
    api = ApiClient(router)
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    refused = api.post(f"/api/v1/review/subjects/{customer_id}/{guid}/decision", json={"decision": "confirm"})
    assert refused.status == 401
    entries = [e for e in services.tables.client("audit").list_entities() if e["outcome"] == "refused"]
    assert len(entries) == 1
    assert entries[0]["target"] == "POST /api/v1/review/subjects/{customerId}/{correlationId}/decision"
    assert entries[0]["subject"] == services.review.ref(customer_id, guid)
    assert not any(guid in str(value) for value in entries[0].values())


def test_in_azure_without_platform_authentication_a_forged_principal_gets_nothing(configure, router):
    """EASY_AUTH_ENABLED=true while App Service Authentication is off: the app refuses to start
    rather than believe an X-MS-CLIENT-PRINCIPAL anyone can send."""
    from shared.settings import SettingsError

    with pytest.raises(SettingsError, match="WEBSITE_AUTH_ENABLED"):
        configure(EASY_AUTH_ENABLED="true", WEBSITE_SITE_NAME="liveness-guard-prod")
    forged = ApiClient(router).post(
        "/api/v1/manage/customers",
        json={"name": "Mallory", "contactEmail": "m@evil.example"},
        headers=principal("Administrator"),
    )
    assert forged.status == 500 and forged.error_code == "internal_error"


# every client route that takes an api key: (method, path template, body); {g} a consented subject
CLIENT_ROUTES = [
    ("POST", "/api/v1/consents", {"correlationId": "{g}", "policyVersion": "v1"}),
    ("POST", "/api/v1/sessions", {"correlationId": "{g}"}),
    ("GET", "/api/v1/subjects/{g}", None),
    ("DELETE", "/api/v1/subjects/{g}", None),
    ("GET", "/api/v1/determinations", None),
    ("POST", "/api/v1/determinations/{c}.x/response", {"explanation": "e", "remediation": "r"}),
    ("PUT", "/api/v1/webhook", {"url": "https://example.com/hooks"}),
    ("GET", "/api/v1/webhook", None),
    ("DELETE", "/api/v1/webhook", None),
]


@pytest.mark.parametrize("route", CLIENT_ROUTES, ids=[f"{r[0]} {r[1]}" for r in CLIENT_ROUTES])
def test_client_routes_refuse_a_missing_a_wrong_and_a_terminated_key(api, route):
    method, template, body = route
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)

    def fill(value):
        return json.loads(json.dumps(value).replace("{g}", guid).replace("{c}", customer_id)) if value else value

    path = template.replace("{g}", guid).replace("{c}", customer_id)
    wrong = "lgk." + customer_id + "." + "A" * 43
    for headers in ({}, {"x-api-key": wrong}, ADMIN):
        refused = api.request(method, path, json=fill(body), headers=headers)
        assert (refused.status, refused.error_code) == (401, "unauthorized"), headers
    api.post(f"/api/v1/manage/customers/{customer_id}/terminate", json={"reason": "r"}, headers=ADMIN)
    refused = api.request(method, path, json=fill(body), headers={"x-api-key": key})
    assert (refused.status, refused.error_code) == (403, "customer_terminated")
