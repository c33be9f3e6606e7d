"""GET /review/overview (docs/api.md): exact counts and rates of a scenario, kept through sweeps."""

from datetime import timedelta

import pytest

from tests.integration.helpers import (
    ADMIN,
    consented_subject,
    deliver_notifications,
    flagged_subject,
    new_customer,
    queued_notifications,
    review_decision,
)


def overview(api, days=30):
    response = api.get("/api/v1/review/overview", query={"days": str(days)}, headers=ADMIN)
    assert response.status == 200, response.body
    return response.json


def feedback(api, category):
    assert api.post("/api/v1/feedback", json={"category": category, "message": "m"}).status == 202


@pytest.fixture
def scenario(api, services, face, clock):
    """Day 1: three flags; one confirmed, one overridden. Day 2: one more flag, left pending, a reset
    of an active GUID, and three feedback reports."""
    customer_id, key = new_customer(api)
    first = clock().date()
    confirmed, overridden, waiting = (flagged_subject(api, face.endpoint, key) for _ in range(3))
    assert review_decision(api, customer_id, confirmed, "confirm").status == 200
    assert review_decision(api, customer_id, overridden, "override").status == 200
    redelivered = queued_notifications(services)
    assert deliver_notifications(services) == ["sent"]
    clock.advance(days=1)
    flagged_subject(api, face.endpoint, key)
    active = consented_subject(api, key)
    reset = api.post(f"/api/v1/review/subjects/{customer_id}/{active}/reset", json={"reason": "support"}, headers=ADMIN)
    assert reset.status == 200
    for category in ("false_rejection", "false_rejection", "privacy"):
        feedback(api, category)
    return {"first": first, "waiting": waiting, "redelivered": redelivered}


def expected_days(first):
    return [
        {"date": (first - timedelta(days=1)).isoformat(), "flags": 0, "confirms": 0, "overrides": 0},
        {"date": first.isoformat(), "flags": 3, "confirms": 1, "overrides": 1},
        {"date": (first + timedelta(days=1)).isoformat(), "flags": 1, "confirms": 0, "overrides": 0},
    ]


def test_the_overview_reports_exactly_the_scenarios_counts_and_rates(api, scenario):
    seen = overview(api, days=3)
    assert seen["flagsByReason"] == {"spoofface": 4}
    assert seen["decisions"] == {"confirm": 1, "override": 1, "reset": 1}
    assert seen["overrideRateByReason"] == {"spoofface": 0.5}
    assert seen["feedbackByCategory"] == {"false_rejection": 2, "privacy": 1}
    assert seen["days"] == expected_days(scenario["first"])  # one point per day, zeros included
    assert (seen["pending"], seen["overdue"], seen["reviewSlaSeconds"]) == (2, 0, 86400)
    assert 86400 <= seen["oldestPendingSeconds"] < 86400 + 600  # the day-1 flag still waiting


def test_a_redelivered_confirmation_is_counted_once(api, services, scenario):
    import json

    [message] = scenario["redelivered"]
    assert services.notifier().handle(json.dumps(message).encode(), "again", 2) == "duplicate"
    assert overview(api, days=3)["decisions"]["confirm"] == 1


def test_sweeps_fold_the_days_without_changing_a_count_and_the_backlog_turns_overdue(api, services, clock, scenario):
    before = overview(api, days=3)
    services.retention.run()  # nothing settled yet: the counts are read from the events
    assert overview(api, days=3) == before
    clock.advance(days=3)
    counts = services.retention.run()
    assert counts["statsFolded"] == 4 + 2 + 1 + 3  # flags, decisions, resets, feedback
    services.retention.run()  # a second sweep finds nothing more to fold
    later = overview(api, days=6)
    rows = list(services.tables.client("reviewstats").list_entities())
    assert {r["RowKey"] for r in rows} == {"summary"}  # settled days are one row each now
    assert later["days"][:3] == expected_days(scenario["first"])
    for key in ("flagsByReason", "decisions", "overrideRateByReason", "feedbackByCategory"):
        assert later[key] == before[key]
    assert later["pending"] == 2 and later["overdue"] == 2  # both waiting longer than the 24 h SLA


def test_a_decided_flag_leaves_the_pending_count_at_once(api, face, services):
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    assert overview(api)["pending"] == 1
    assert review_decision(api, customer_id, guid, "override").status == 200
    assert overview(api)["pending"] == 0  # the stale index row is dropped, not counted


def test_the_counts_hold_no_guid_or_text(api, services, scenario):
    rows = [dict(r) for r in services.tables.client("reviewstats").list_entities()]
    text = repr(rows)
    assert rows and scenario["waiting"] not in text and "m" not in {r.get("label") for r in rows}
    assert all(set(r) <= {"PartitionKey", "RowKey", "kind", "label", "counts"} for r in rows)


def test_days_outside_1_to_366_or_not_a_number_is_400(api):
    for days in ("0", "367", "abc", "-1", "3.5"):
        response = api.get("/api/v1/review/overview", query={"days": days}, headers=ADMIN)
        assert response.status == 400 and response.json["error"]["code"] == "invalid_request", days
    assert len(overview(api, days=366)["days"]) == 366
    assert api.get("/api/v1/review/overview").status == 401


def test_a_count_that_cannot_be_written_loses_only_the_count(api, face, services, caplog):
    """Storage refusing the statistics write (its table gone) leaves the decision whole and says so."""
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    services.tables.client("reviewstats").delete_table()
    with caplog.at_level("WARNING", logger="shared.adapters.review_stats"):
        decided = review_decision(api, customer_id, guid, "override")
    assert decided.status == 200 and decided.json["newCorrelationId"]
    subject = api.get(f"/api/v1/review/subjects/{customer_id}/{guid}", headers=ADMIN).json
    assert subject["status"] == "retired" and [d["decision"] for d in subject["decisions"]] == ["override"]
    assert [r for r in caplog.records if getattr(r, "event", None) == "stats.lost"]


def test_a_sweep_report_that_cannot_read_a_queue_does_not_fail_the_sweep(services, caplog):
    from azure.storage.queue import QueueClient

    poison = f"{services.settings.notification_queue}-poison"
    QueueClient.from_connection_string(services.settings.storage_connection_string, poison).delete_queue()
    counts = services.retention.run()
    with caplog.at_level("WARNING", logger="shared.services.operations"):
        services.operations.sweep_finished(counts)  # what the timer trigger calls after the sweep
    assert any("report_poison failed" in r.getMessage() for r in caplog.records)
