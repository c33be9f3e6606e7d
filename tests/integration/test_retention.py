"""The retention sweep against real Azurite: exactly the expired rows go, under overlap and restarts."""

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from shared.services.retention import RetentionSweep
from tests.integration.seed import present, seed


class Interrupted(BaseException):
    """The worker dies mid-sweep (not an error a step could survive: the process is gone)."""


@pytest.fixture
def seeded(configure):
    services = configure(RETENTION_PAGE_SIZE="150")
    services.seeded = seed(services.tables, services.clock(), services.retention.policy)
    assert len(services.seeded) > 1500
    return services


def sweep(services, on_batch=None) -> RetentionSweep:
    return dataclasses.replace(services.retention, on_batch=on_batch)


def assert_only_kept_rows_remain(services) -> None:
    kept = {key for key, expect in services.seeded.items() if expect == "keep"}
    dropped = set(services.seeded) - kept
    left = present(services.tables)
    assert kept <= left, sorted(kept - left)[:5]
    assert not dropped & left, sorted(dropped & left)[:5]
    assert {table for table, _, _ in dropped} == {"subjects", "audit", "feedback", "notifications", "ratelimits"}


def test_one_sweep_removes_exactly_the_expired_rows(seeded):
    counts = seeded.retention.run()
    assert_only_kept_rows_remain(seeded)
    dropped = [key for key, expect in seeded.seeded.items() if expect == "drop"]

    def dropped_where(table, prefix=""):
        return sum(1 for t, _, rk in dropped if t == table and rk.startswith(prefix))

    assert counts["sessions"] == dropped_where("subjects", "session_")
    assert counts["attempts"] == dropped_where("subjects", "attempt_")
    assert counts["idleSubjects"] + counts["tombstones"] == dropped_where("subjects", "subject")
    assert counts["compacted"] == 1 and counts["tombstones"] == 1
    for kind, table in (("audit", "audit"), ("feedback", "feedback"), ("ledger", "notifications")):
        assert counts[kind] == dropped_where(table) == 60
    audit = [e for e in seeded.tables.client("audit").list_entities() if e.get("action") == "retention.sweep"]
    assert len(audit) == 1 and audit[0]["sessions"] == counts["sessions"]


def test_the_surviving_tombstone_is_compacted_to_status_and_dates(seeded):
    seeded.retention.run()
    blocked = [r for r in seeded.tables.client("subjects").list_entities() if r.get("status") == "blocked"]
    assert len(blocked) == 1
    assert '"failures":[]' in blocked[0]["state"] and '"status":"blocked"' in blocked[0]["state"]


def test_two_sweeps_at_once_end_in_the_same_state_without_error(seeded):
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: sweep(seeded).run(), range(2)))
    assert len(results) == 2
    assert_only_kept_rows_remain(seeded)


def test_a_sweep_killed_half_way_is_finished_by_the_next(seeded):
    batches = []

    def die_after_three(removed: int) -> None:
        batches.append(removed)
        if len(batches) == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        sweep(seeded, die_after_three).run()
    dropped = {key for key, expect in seeded.seeded.items() if expect == "drop"}
    assert dropped & present(seeded.tables)  # it really stopped part-way
    seeded.retention.run()
    assert_only_kept_rows_remain(seeded)


def test_a_malformed_outbox_row_or_a_failing_step_does_not_stop_the_sweep(configure, clock):
    """One bad row used to abort every later sweep before it deleted anything."""
    from datetime import timedelta

    from shared.adapters.subject_rows import subject_partition

    services = configure()
    subjects = services.tables.client("subjects")
    broken = subject_partition("b" * 32, "0f8fad5b-d9cb-469f-a165-70867728950e")
    subjects.create_entity(
        {"PartitionKey": broken, "RowKey": "outbox_x", "message": "{not json", "created_at": clock()}
    )
    old = clock() - timedelta(days=400)
    audit = services.tables.client("audit")
    audit.create_entity({"PartitionKey": old.strftime("%Y-%m-%d"), "RowKey": f"{old.isoformat()}_x", "at": old})

    def face_down(session_id: str) -> bool:
        raise RuntimeError("Face misbehaves")

    services.sessions.ledger.owe_deletion("s" * 32, clock())  # a Face deletion the failing check would retry
    sweep = dataclasses.replace(services.retention, delete_owed=face_down)
    clock.advance(hours=2)
    counts = sweep.run()
    assert counts["audit"] == 1  # steps after the failures still ran
    # the malformed partition (filed by the one-time backfill, as rows from before the expiry index
    # are) and the owed deletion (filed by erasure's own check and by the backfill) all failed
    assert counts["failedChecks"] == 3 and counts["faceSessionsOwed"] == 0
    entry = next(e for e in audit.list_entities() if e.get("action") == "retention.sweep")
    assert entry["failedChecks"] == 3 and entry["failedSteps"] == 0
    # failed checks stay filed: the next sweep, with Face back, pays the owed deletion once
    clock.advance(hours=2)
    again = services.retention.run()
    assert again["faceSessionsOwed"] == 1 and again["failedChecks"] == 1  # the malformed row still fails, alone


def test_repair_does_not_recreate_a_successor_the_idle_rule_deleted(configure, router, face, clock):
    from tests.integration.helpers import ADMIN, flagged_subject, new_customer
    from tests.support import ApiClient

    services = configure(RETENTION_SUBJECT_IDLE_SECONDS="3600")
    api = ApiClient(router)
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    decided = api.post(
        f"/api/v1/review/subjects/{customer_id}/{guid}/decision",
        json={"decision": "override", "reason": "glare", "guidelineId": "repeated-spoof"},
        headers=ADMIN,
    )
    successor = decided.json["newCorrelationId"]
    assert services.sessions.subjects.get(customer_id, successor) is not None
    clock.advance(hours=2)
    assert services.retention.run()["idleSubjects"] >= 1  # never used: deleted as idle
    assert services.sessions.subjects.get(customer_id, successor) is None
    for _ in range(2):
        assert services.retention.run()["successorsCreated"] == 0
        assert api.post("/api/v1/manage/repair", headers=ADMIN).json["successorsCreated"] == 0
    assert services.sessions.subjects.get(customer_id, successor) is None


def _subject_checks(services) -> list[str]:
    """The hours of the subject checks the expiry index holds (its name rows left out)."""
    rows = services.tables.client("expiry").list_entities()
    return sorted(r["PartitionKey"].split("-")[0] for r in rows if r["RowKey"].startswith("subjects|"))


def test_a_first_consent_files_the_check_its_first_session_needs(configure, router, face, clock):
    """One write ahead for consent and session together: the session finds the consent's check."""
    from shared.domain.retention_rules import bucket_of
    from tests.integration.helpers import consented_subject, new_customer, new_session
    from tests.support import ApiClient

    services = configure()
    api = ApiClient(router)
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    settings = services.settings
    visit = bucket_of(
        clock() + timedelta(seconds=settings.session_ttl_seconds + settings.retention_session_grace_seconds)
    )
    subject = services.sessions.subjects.get(customer_id, guid).record
    assert subject.sweep_at == visit
    assert _subject_checks(services) == [visit.strftime("%Y%m%dT%H")]
    assert new_session(api, key, guid).status == 201
    assert _subject_checks(services) == [visit.strftime("%Y%m%dT%H")]  # none filed for the session
    assert services.sessions.subjects.get(customer_id, guid).record.sweep_at == visit


def test_a_consent_never_followed_by_a_session_is_still_deleted_once_idle(configure, router, clock):
    """The early check finds nothing due, files the idle one, and that one deletes the subject."""
    from shared.domain.retention_rules import bucket_of
    from tests.integration.helpers import consented_subject, new_customer
    from tests.support import ApiClient

    services = configure(RETENTION_SUBJECT_IDLE_SECONDS=str(3 * 86400))
    api = ApiClient(router)
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    clock.advance(hours=3)
    assert services.retention.run().get("idleSubjects", 0) == 0
    assert services.sessions.subjects.get(customer_id, guid) is not None
    idle_end = bucket_of(clock() - timedelta(hours=3) + timedelta(days=3))
    assert _subject_checks(services) == [idle_end.strftime("%Y%m%dT%H")]  # the early one replaced
    clock.advance(days=3)
    assert services.retention.run()["idleSubjects"] == 1
    assert services.sessions.subjects.get(customer_id, guid) is None
    assert _subject_checks(services) == []
