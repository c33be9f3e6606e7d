"""Rotating SESSION_SEALING_KEY (README, Key rotation): the new key seals and names new values,
the previous one (SESSION_SEALING_KEYS_PREVIOUS) keeps replays of sessions in flight, audit
look-ups and erasure's gates working. Before keys had ids, a rotation turned replays into 500s."""

from __future__ import annotations

import uuid

import pytest

from shared import bootstrap
from tests.integration.helpers import (
    ADMIN,
    audit_actions,
    consent,
    erase,
    flagged_subject,
    new_customer,
    new_session,
)
from tests.support import ApiClient

pytestmark = pytest.mark.face_api_versions("v1.2")
OLD = "old-sealing-secret-for-rotation-tests-0001"
NEW = "new-sealing-secret-for-rotation-tests-0002"


def rotate_to(monkeypatch, clock, key: str, previous: str = "") -> None:
    """What an operator does: change the app settings, and the workers restart with them."""
    monkeypatch.setenv("SESSION_SEALING_KEY", key)
    monkeypatch.setenv("SESSION_SEALING_KEYS_PREVIOUS", previous)
    bootstrap.reset(clock)


def test_rotation_keeps_replays_audit_lookups_and_gates(configure, router, face, monkeypatch, clock) -> None:
    configure(SESSION_SEALING_KEY=OLD)
    api = ApiClient(router)
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    api.post(f"/api/v1/review/subjects/{customer_id}/{guid}/reset", json={"reason": "before"}, headers=ADMIN)
    in_flight_guid = str(uuid.uuid4())
    consent(api, key, in_flight_guid)
    issued = new_session(api, key, in_flight_guid, clientRequestId="device-1")
    assert issued.status == 201
    erased_guid = flagged_subject(api, face.endpoint, key)
    assert erase(api, key, erased_guid).status == 204

    rotate_to(monkeypatch, clock, NEW, previous=OLD)
    replay = new_session(api, key, in_flight_guid, clientRequestId="device-1")
    assert replay.status == 200, replay.body
    assert replay.json["faceAuthToken"] == issued.json["faceAuthToken"]
    assert audit_actions(api, customer_id, guid) == ["subject.reset"]  # found under the old pseudonym
    consent(api, key, erased_guid)  # consenting again after erasure does not reopen a flagged GUID
    refused = new_session(api, key, erased_guid)
    assert refused.status == 403 and refused.error_code == "correlation_id_blocked"

    # Once the old secret is dropped, what it sealed is refused clearly, never a 500.
    rotate_to(monkeypatch, clock, NEW)
    gone = new_session(api, key, in_flight_guid, clientRequestId="device-1")
    assert (gone.status, gone.error_code) == (409, "conflict")
    fresh = new_session(api, key, in_flight_guid, clientRequestId="device-2")
    assert fresh.status == 201, fresh.body
