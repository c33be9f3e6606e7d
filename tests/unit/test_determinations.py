"""Determination rules (docs/abuse-policy.md): the row stays bounded however often a customer answers."""

from datetime import UTC, datetime, timedelta

from shared.domain.determinations import (
    MAX_RESOLUTIONS,
    DeterminationStatus,
    Severity,
    archived,
    new_determination,
    resolve,
    respond,
)

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_each_answer_replaces_the_last_on_the_row_and_the_replaced_one_is_archived_in_order():
    d = new_determination("c" * 32 + ".n", "c" * 32, "g", NOW, "spoof", Severity.STANDARD, timedelta(days=14))
    moved = []
    for n in range(12):
        before = respond(d, f"explanation {n}", f"remediation {n}", NOW + timedelta(minutes=n))
        moved += archived(d, before)
        d = resolve(before, False, f"reason {n}", "user:r", NOW + timedelta(minutes=n, seconds=30))
    assert [r.explanation for r in d.responses] == ["explanation 11"]
    assert d.earlier_responses == 11
    assert [(i, r.explanation) for i, r in moved] == [(i, f"explanation {i}") for i in range(11)]
    assert len(d.resolutions) == MAX_RESOLUTIONS and d.resolutions[-1].reason == "reason 11"
    assert d.status is DeterminationStatus.RESPONSE_REJECTED


def test_a_resolution_names_the_reviewer_by_name_and_object_id():
    d = new_determination("c" * 32 + ".n", "c" * 32, "g", NOW, "spoof", Severity.STANDARD, timedelta(days=14))
    answered = respond(d, "an explanation", "a remediation", NOW)
    resolved = resolve(answered, True, "fixed", "user:ana@contoso.example", NOW, "oid-ana")
    assert (resolved.resolutions[-1].by, resolved.resolutions[-1].by_id) == ("user:ana@contoso.example", "oid-ana")
