"""Claims and named deciders with App Service Authentication on (docs/api.md): one reviewer works on
a flag at a time, under concurrency too, and every decision names the person who made it."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.helpers import ADMIN, flagged_subject, new_customer
from tests.support import ApiClient


def person(name: str, oid: str, *roles: str) -> dict[str, str]:
    """The X-MS-CLIENT-PRINCIPAL header the platform sends for a signed-in person."""
    claims = [
        {"typ": "name", "val": name},
        {"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": oid},
    ]
    claims += [{"typ": "roles", "val": r} for r in roles or ("Reviewer",)]
    raw = json.dumps({"auth_typ": "aad", "claims": claims, "name_typ": "name", "role_typ": "roles"})
    return {"x-ms-client-principal": base64.b64encode(raw.encode()).decode()}


ANA, BEN = person("ana@contoso.example", "oid-ana"), person("ben@contoso.example", "oid-ben")


@pytest.fixture
def flagged(configure, router, face):
    configure(EASY_AUTH_ENABLED="true")
    api = ApiClient(router)
    customer_id, key = new_customer(api)
    return api, customer_id, flagged_subject(api, face.endpoint, key)


def _path(customer_id: str, guid: str, tail: str) -> str:
    return f"/api/v1/review/subjects/{customer_id}/{guid}/{tail}"


def _override(api, customer_id: str, guid: str, who: dict):
    body = {"decision": "override", "reason": "glare", "guidelineId": "insufficient-evidence"}
    return api.post(_path(customer_id, guid, "decision"), json=body, headers=who)


def test_a_claimed_flag_is_decided_only_by_its_holder(flagged):
    api, customer_id, guid = flagged
    claimed = api.post(_path(customer_id, guid, "claim"), headers=ANA)
    assert claimed.status == 200 and claimed.json["claimedBy"] == "ana@contoso.example"
    listed = api.get("/api/v1/review/flags", headers=BEN).json["items"]
    assert [(f["claimedBy"], f["claimedUntil"]) for f in listed] == [
        ("ana@contoso.example", claimed.json["claimedUntil"])
    ]
    for refused in (_override(api, customer_id, guid, BEN), api.post(_path(customer_id, guid, "claim"), headers=BEN)):
        assert (refused.status, refused.error_code) == (409, "claimed")
    assert api.delete(_path(customer_id, guid, "claim"), headers=BEN).error_code == "claimed"
    decided = _override(api, customer_id, guid, ANA)
    assert decided.status == 200, decided.body
    detail = api.get(f"/api/v1/review/subjects/{customer_id}/{guid}", headers=BEN).json
    assert [(d["by"], d["byId"]) for d in detail["decisions"]] == [("user:ana@contoso.example", "oid-ana")]


def test_an_administrator_takes_a_claim_over_and_it_is_audited(flagged):
    api, customer_id, guid = flagged
    assert api.post(_path(customer_id, guid, "claim"), headers=ANA).status == 200
    assert api.post(_path(customer_id, guid, "claim"), headers=ADMIN).error_code == "claimed"
    taken = api.post(_path(customer_id, guid, "claim"), json={"takeOver": True}, headers=ADMIN)
    assert taken.status == 200 and taken.json["claimedBy"] == "administrator key"
    assert _override(api, customer_id, guid, ANA).error_code == "claimed"
    actions = [e["action"] for e in api.get("/api/v1/review/audit", headers=ADMIN).json["items"]]
    assert "subject.claim_taken_over" in actions and "subject.claim" in actions


def test_a_released_claim_lets_another_reviewer_decide(flagged):
    api, customer_id, guid = flagged
    assert api.post(_path(customer_id, guid, "claim"), headers=ANA).status == 200
    assert api.delete(_path(customer_id, guid, "claim"), headers=ANA).status == 204
    assert _override(api, customer_id, guid, BEN).status == 200


def test_of_reviewers_claiming_at_once_exactly_one_wins(flagged):
    api, customer_id, guid = flagged
    people = [person(f"r{i}@contoso.example", f"oid-{i}") for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda who: api.post(_path(customer_id, guid, "claim"), headers=who), people))
    assert sorted(a.status for a in answers) == [200] + [409] * 7
    assert {a.error_code for a in answers if a.status == 409} == {"claimed"}


def test_only_a_pending_flag_can_be_claimed(flagged):
    api, customer_id, guid = flagged
    assert _override(api, customer_id, guid, ANA).status == 200
    assert (api.post(_path(customer_id, guid, "claim"), headers=BEN).error_code) == "conflict"
