"""Abuse capture, human review, GUID reset, escalation and the audit log (docs/api.md and docs/abuse-policy.md)."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

from shared.adapters.review_index import ReviewIndex
from shared.adapters.subject_rows import subject_partition
from shared.domain.notifications import abuse_confirmed
from shared.domain.records import OutboxEntry, ReviewIndexEntry
from shared.unit_of_work import SubjectChange, SubjectKey
from tests.integration.helpers import (
    ADMIN,
    checked_attempt,
    consented_subject,
    deliver_notifications,
    flagged_subject,
    new_customer,
    new_session,
    queued_notifications,
    review_decision,
)


def review(api, customer_id, guid, suffix="", **kw):
    path = f"/api/v1/review/subjects/{customer_id}/{guid}{suffix}"
    return api.post(path, headers=ADMIN, **kw) if suffix else api.get(path, headers=ADMIN)


def pending(api):
    return api.get("/api/v1/review/flags", headers=ADMIN, query={"status": "pending"}).json["items"]


# --- abuse capture ----------------------------------------------------------------------


def test_three_spoofface_decisions_flag_the_subject_for_review(api, face, customer):
    customer_id, key = customer
    guid = flagged_subject(api, face.endpoint, key)
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"
    [item] = pending(api)
    assert (item["customerId"], item["correlationId"], item["status"]) == (customer_id, guid, "flagged")
    assert "spoofface" in item["reason"] and item["counters"]["spooffaceInWindow"] == 3


def test_three_timeouts_within_a_day_flag_the_subject(api, face, customer, clock):
    _, key = customer
    guid = consented_subject(api, key)
    for _ in range(3):
        for attempts in (3, 2):
            session = new_session(api, key, guid).json
            for _ in range(attempts):
                checked_attempt(api, face.endpoint, session, "uncertain")
        clock.advance(minutes=31)
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"
    [item] = pending(api)
    assert item["correlationId"] == guid and "3 timeouts" in item["reason"]
    assert item["counters"]["timeoutsInWindow"] == 3


def test_subject_detail_shows_the_retained_timeline(api, face, customer):
    customer_id, key = customer
    guid = flagged_subject(api, face.endpoint, key)
    detail = review(api, customer_id, guid).json
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds.count("session") == 1 and kinds.count("attempt") == 3 and kinds.count("flag") == 1
    assert {e["decision"] for e in detail["timeline"] if e["kind"] == "attempt"} == {"spoofface"}
    assert detail["counters"]["attemptsTotal"] == 3


# --- decisions ----------------------------------------------------------------------------


def test_confirm_blocks_the_subject_and_queues_the_customer_email(api, services, face, customer):
    customer_id, key = customer
    guid = flagged_subject(api, face.endpoint, key)
    response = review_decision(api, customer_id, guid, "confirm", "replayed video")
    assert response.status == 200 and response.json["status"] == "blocked"
    assert pending(api) == []
    blocked = api.get("/api/v1/review/flags", headers=ADMIN, query={"status": "blocked"}).json["items"]
    assert [b["correlationId"] for b in blocked] == [guid]
    [message] = queued_notifications(services)
    assert message["kind"] == "abuse_confirmed" and message["correlationId"] == guid
    assert message["customerId"] == customer_id and message["schemaVersion"] == 1
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"
    assert services.sessions.subjects.outbox(customer_id, guid) == []


def test_override_retires_the_guid_and_links_a_fresh_one_with_consent(api, face, customer):
    customer_id, key = customer
    guid = flagged_subject(api, face.endpoint, key)
    response = review_decision(api, customer_id, guid, "override", "glare, not a spoof")
    assert response.status == 200 and response.json["status"] == "retired"
    new_guid = response.json["newCorrelationId"]
    assert uuid.UUID(new_guid) and new_guid != guid
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"
    assert new_session(api, key, new_guid).status == 201  # consent carried over
    old, new = review(api, customer_id, guid).json, review(api, customer_id, new_guid).json
    assert old["replacedBy"] == new_guid and new["replaces"] == guid
    assert new["counters"]["attemptsTotal"] == 0 and new["status"] == "active"
    assert old["decisions"][0]["decision"] == "override" and old["decisions"][0]["by"] == "admin-key"


def test_reset_hands_out_a_new_guid_for_an_active_subject(api, customer):
    customer_id, key = customer
    guid = consented_subject(api, key)
    response = review(api, customer_id, guid, "/reset", json={"reason": "customer asked"})
    assert response.status == 200
    assert new_session(api, key, response.json["newCorrelationId"]).status == 201
    assert review(api, customer_id, guid, "/reset", json={"reason": "again"}).status == 409


def test_only_a_pending_flag_can_be_decided(api, customer):
    customer_id, key = customer
    guid = consented_subject(api, key)
    response = review_decision(api, customer_id, guid, "confirm", "x")
    assert (response.status, response.error_code) == (409, "conflict")
    missing = review_decision(api, customer_id, str(uuid.uuid4()), "confirm", "x")
    assert (missing.status, missing.error_code) == (404, "not_found")
    bad = review_decision(api, customer_id, guid, "maybe", "x")
    assert (bad.status, bad.error_code) == (400, "invalid_request")


def test_two_reviewers_deciding_at_once_exactly_one_wins(api, services, face, customer):
    customer_id, key = customer
    guid = flagged_subject(api, face.endpoint, key)
    decisions = [("confirm", "a"), ("override", "b")] * 3
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda d: review_decision(api, customer_id, guid, *d), decisions))
    statuses = sorted(r.status for r in responses)
    assert statuses == [200, 409, 409, 409, 409, 409], statuses
    assert all(r.error_code == "conflict" for r in responses if r.status == 409)
    detail = review(api, customer_id, guid).json
    assert len(detail["decisions"]) == 1
    winner = next(r for r in responses if r.status == 200).json["status"]
    listed = {
        s: [
            i["correlationId"]
            for i in api.get("/api/v1/review/flags", headers=ADMIN, query={"status": s}).json["items"]
        ]
        for s in ("pending", "blocked", "retired")
    }
    assert listed == {
        "pending": [],
        "blocked": [guid] if winner == "blocked" else [],
        "retired": [guid] if winner == "retired" else [],
    }
    assert len(queued_notifications(services)) == (1 if winner == "blocked" else 0)


# --- escalation ---------------------------------------------------------------------------


def test_fifth_confirmation_suspends_the_customer_until_reinstated(configure, router, face):
    from tests.support import ApiClient

    services = configure(POLICY_CUSTOMER_SUSPEND_AFTER="2")
    api = ApiClient(router)
    customer_id, key = new_customer(api)
    spare = consented_subject(api, key)
    for _ in range(2):
        guid = flagged_subject(api, face.endpoint, key)
        assert review_decision(api, customer_id, guid, "confirm", "spoof").status == 200
    kinds = sorted(m["kind"] for m in queued_notifications(services))
    assert kinds == ["abuse_confirmed", "abuse_confirmed"]  # the consumer escalates, not the reviewer's call
    assert deliver_notifications(services).count("sent") == 3  # two confirmations, then the suspension
    assert deliver_notifications(services) == []  # nothing left, nothing sent twice
    assert new_session(api, key, spare).error_code == "customer_suspended"
    customer = api.get(f"/api/v1/manage/customers/{customer_id}", headers=ADMIN).json
    assert customer["status"] == "suspended"
    assert "customer.suspend" in [e["action"] for e in api.get("/api/v1/review/audit", headers=ADMIN).json["items"]]
    api.post(f"/api/v1/manage/customers/{customer_id}/reinstate", json={"reason": "remediated"}, headers=ADMIN)
    assert new_session(api, key, spare).status == 201


def test_first_confirmation_warns_the_customer_once_its_message_is_processed(api, services, face, customer):
    customer_id, key = customer
    guid = flagged_subject(api, face.endpoint, key)
    review_decision(api, customer_id, guid, "confirm", "spoof")
    assert deliver_notifications(services) == ["sent"]
    assert api.get(f"/api/v1/manage/customers/{customer_id}", headers=ADMIN).json["status"] == "warned"


# --- index and outbox repair ---------------------------------------------------------------


def test_stale_index_rows_are_dropped_when_listed(api, services, customer):
    customer_id, key = customer
    guid = consented_subject(api, key)
    ReviewIndex(services.tables).put(
        "pending", ReviewIndexEntry(customer_id=customer_id, correlation_id=guid, since=services.clock())
    )
    assert pending(api) == []
    assert list(services.tables.client("reviewindex").list_entities()) == []


def test_repair_queues_a_notification_left_in_the_outbox_once(api, services, customer):
    customer_id, key = customer
    guid = consented_subject(api, key)
    now = services.clock()
    note = abuse_confirmed(customer_id, guid, now, now, "spoof")
    entry = OutboxEntry(
        notification_id=note.notification_id, message=note.model_dump(mode="json", by_alias=True), created_at=now
    )
    services.sessions.subjects.commit(SubjectChange(SubjectKey(customer_id, guid), create=(entry,)))
    first = api.post("/api/v1/manage/repair", headers=ADMIN)
    again = api.post("/api/v1/manage/repair", headers=ADMIN)
    assert first.json["notificationsQueued"] == 1 and again.json["notificationsQueued"] == 0
    assert [m["notificationId"] for m in queued_notifications(services)] == [note.notification_id]


# --- audit ------------------------------------------------------------------------------


def test_decisions_are_audited_without_secrets_and_injection_safe(api, services, face, customer):
    customer_id, key = customer
    guid = flagged_subject(api, face.endpoint, key)
    reason = "line one\nFAKE 2026-01-01 admin approved everything\r\x1b[31m"
    review_decision(api, customer_id, guid, "override", reason)
    entries = api.get("/api/v1/review/audit", headers=ADMIN).json["items"]
    [entry] = api.get(
        "/api/v1/review/audit", headers=ADMIN, query={"customerId": customer_id, "correlationId": guid}
    ).json["items"]
    assert entry["action"] == "subject.override" and entry["actor"] == "admin-key"
    assert entry["target"] == services.review.ref(customer_id, guid)
    assert guid not in json.dumps(entries)  # subjects are named by a keyed pseudonym
    assert "\n" not in entry["reason"] and "\r" not in entry["reason"] and "\x1b" not in entry["reason"]
    text = json.dumps(entries)
    assert key not in text and key.split(".")[-1] not in text


def test_audit_is_read_by_time_range_in_pages(api, customer, clock):
    customer_id, _ = customer
    start = clock()
    for _ in range(5):
        clock.advance(minutes=1)
        api.post(f"/api/v1/manage/customers/{customer_id}/keys", headers=ADMIN)
    seen, token = [], None
    while True:
        query = {"from": start.isoformat(), "to": clock().isoformat(), "pageSize": "2"}
        if token:
            query["continuationToken"] = token
        page = api.get("/api/v1/review/audit", headers=ADMIN, query=query).json
        seen += page["items"]
        token = page.get("continuationToken")
        if not token:
            break
    rotations = [e for e in seen if e["action"] == "customer.rotate_key"]
    assert len(rotations) == 4  # the fifth is at `to`, which is exclusive
    assert [e["at"] for e in rotations] == sorted(e["at"] for e in rotations)
    bad = api.get("/api/v1/review/audit", headers=ADMIN, query={"from": "yesterday"})
    assert (bad.status, bad.error_code) == (400, "invalid_request")


def test_subject_partition_key_is_customer_scoped():
    assert subject_partition("a" * 32, "g") != subject_partition("b" * 32, "g")


def test_clearing_outbox_rows_another_flush_already_removed_still_clears_the_rest(services, clock):
    """A confirmation removes its outbox and audit rows in one transaction; when a concurrent flush
    (repair, the sweep) removed one first, the transaction fails with 404 and the rest still go."""
    store = services.sessions.subjects
    customer_id, guid = "c" * 32, str(uuid.uuid4())
    note = abuse_confirmed(customer_id, guid, clock(), clock(), "r")
    rows = [OutboxEntry(notification_id=n, message=note.model_dump(mode="json"), created_at=clock()) for n in "ab"]
    store.commit(SubjectChange(SubjectKey(customer_id, guid), create=tuple(rows)))
    keys = [f"outbox_{n}" for n in "ab"]
    store.delete_rows(customer_id, guid, keys[:1])  # the other flush got there first
    store.delete_rows(customer_id, guid, keys)
    assert store.partition(customer_id, guid) == []
