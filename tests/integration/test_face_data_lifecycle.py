"""What Face holds is deleted on time (docs/retention.md), on both Face API versions.

Once a session's result is final and recorded the app deletes it at Face; erasure deletes every Face
session of the subject; what Face could not delete then, the next sweep does.
"""

import logging

from tests.integration.helpers import (
    ADMIN,
    checked_attempt,
    consent,
    consented_subject,
    device_attempt,
    erase,
    face_faults,
    face_holds,
    new_customer,
    new_session,
    result,
)


def test_a_final_result_is_deleted_at_face_and_still_answers_from_what_was_recorded(api, face, key):
    guid = consented_subject(api, key)
    session = new_session(api, key, guid).json
    assert face_holds(face.endpoint, face.key, session["sessionId"])
    assert device_attempt(face.endpoint, session, "realface").status_code == 200

    first = result(api, session["sessionId"], session["sessionToken"])
    assert first.status == 200 and first.json["livenessDecision"] == "realface"
    assert not face_holds(face.endpoint, face.key, session["sessionId"])

    again = result(api, session["sessionId"], session["sessionToken"])  # Face has forgotten it; we have not
    assert again.status == 200 and again.json["livenessDecision"] == "realface", again.body


def test_a_session_whose_attempts_are_used_up_is_deleted_even_if_the_client_never_reads_it(api, face, key):
    guid = consented_subject(api, key)
    session = new_session(api, key, guid).json
    for decision in ("uncertain", "uncertain", "uncertain"):  # FACE_CLIENT_ATTEMPTS=3 in the test settings
        assert device_attempt(face.endpoint, session, decision).status_code == 200
    assert face_holds(face.endpoint, face.key, session["sessionId"])

    assert new_session(api, key, guid).status == 201  # the pull records the three, then deletes the session
    assert not face_holds(face.endpoint, face.key, session["sessionId"])


def test_a_session_still_in_use_is_not_deleted(api, face, key):
    guid = consented_subject(api, key)
    session = new_session(api, key, guid).json
    assert device_attempt(face.endpoint, session, "uncertain").status_code == 200  # 1 of 3 allowed attempts
    assert result(api, session["sessionId"], session["sessionToken"]).status == 200
    assert face_holds(face.endpoint, face.key, session["sessionId"])
    assert device_attempt(face.endpoint, session, "realface", completeAfterSeconds=30).status_code == 200
    assert result(api, session["sessionId"], session["sessionToken"]).json["status"] == "Running"
    assert face_holds(face.endpoint, face.key, session["sessionId"])  # a running attempt is never cut off


def test_erasure_deletes_every_face_session_of_the_subject(preissue, face):
    _, api = preissue
    _, key = new_customer(api)
    guid = consented_subject(api, key)
    sessions = [new_session(api, key, guid).json for _ in range(3)]
    assert device_attempt(face.endpoint, sessions[0], "uncertain").status_code == 200
    assert all(face_holds(face.endpoint, face.key, s["sessionId"]) for s in sessions)

    assert erase(api, key, guid).status == 204
    assert not any(face_holds(face.endpoint, face.key, s["sessionId"]) for s in sessions)


def test_with_face_down_during_erasure_the_next_sweep_deletes_what_face_holds(preissue, face, clock):
    services, api = preissue
    _, key = new_customer(api)
    guid = consented_subject(api, key)
    sessions = [new_session(api, key, guid).json for _ in range(2)]
    face_faults(face.endpoint, 503, 100)
    try:
        assert erase(api, key, guid).status == 204  # consent withdrawn: our rows go regardless
    finally:
        face_faults(face.endpoint)
    assert all(face_holds(face.endpoint, face.key, s["sessionId"]) for s in sessions)
    entries = api.get("/api/v1/review/audit", headers=ADMIN, query={"pageSize": "50"}).json["items"]
    assert [e["faceSessionsOwed"] for e in entries if e["action"] == "subject.erase"] == [2]

    face_faults(face.endpoint, 503, 100)
    clock.advance(hours=1)  # each owed deletion is a retention check, filed for the next hourly run
    try:
        assert services.retention.run()["faceSessionsOwed"] == 0  # still down: still owed
    finally:
        face_faults(face.endpoint)
    clock.advance(hours=1)
    assert services.retention.run()["faceSessionsOwed"] == 2
    assert not any(face_holds(face.endpoint, face.key, s["sessionId"]) for s in sessions)
    clock.advance(hours=1)
    assert services.retention.run()["faceSessionsOwed"] == 0  # paid: nothing left to ask
    assert list(services.tables.client("facesessions").list_entities()) == []


def test_the_sweep_deletes_at_face_a_session_nobody_finished_before_its_row_goes(api, face, key, services, clock):
    guid = consented_subject(api, key)
    session = new_session(api, key, guid).json  # never used
    clock.advance(seconds=services.settings.session_ttl_seconds + services.settings.retention_session_grace_seconds + 1)
    clock.advance(hours=1)  # the hour its retention check is filed under has come
    face_faults(face.endpoint, 503, 100)
    try:
        assert services.retention.run()["sessions"] == 0  # Face down: the row stays, to try again
    finally:
        face_faults(face.endpoint)
    assert face_holds(face.endpoint, face.key, session["sessionId"])
    clock.advance(hours=1)  # the check that could not settle it is filed for the next hourly run
    assert services.retention.run()["sessions"] == 1
    assert not face_holds(face.endpoint, face.key, session["sessionId"])


def test_erasing_cannot_hide_unread_spoofs_from_the_gate(api, face, key):
    """Three spoofface attempts nobody read, then erasure and consent again: the GUID stays blocked."""
    guid = consented_subject(api, key)
    session = new_session(api, key, guid).json
    for _ in range(3):  # FACE_CLIENT_ATTEMPTS=3: one session, three spoofs, never fetched as a result
        assert device_attempt(face.endpoint, session, "spoofface").status_code == 200
    assert erase(api, key, guid).status == 204
    assert not face_holds(face.endpoint, face.key, session["sessionId"])
    consent(api, key, guid)
    refused = new_session(api, key, guid)
    assert refused.status == 403 and refused.json["error"]["code"] == "correlation_id_blocked", refused.body


def test_a_session_the_app_deleted_itself_is_no_warning_when_the_address_rule_reads_it(api, face, key, caplog):
    """The per-IP rule reads the address's open sessions; one the app deleted at Face is expected, not a fault."""
    first_guid = consented_subject(api, key)
    first = new_session(api, key, first_guid, endUserIp="203.0.113.9").json
    checked_attempt(api, face.endpoint, first, "realface")  # finished: deleted at Face right after
    assert not face_holds(face.endpoint, face.key, first["sessionId"])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="shared"):
        assert new_session(api, key, consented_subject(api, key), endUserIp="203.0.113.9").status == 201
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [], [r.getMessage() for r in warnings]
