"""The overview's pure arithmetic: rule names, override rates, one point per day, the SLA."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from shared.domain.review_overview import overview, reason_kind, window


def test_each_flagging_rule_has_a_stable_name():
    assert reason_kind("3 timeouts within 24 hours") == "timeouts"
    assert reason_kind("3 spoofface decisions within 24 hours") == "spoofface"
    assert reason_kind("face_abuse_detected") == "face_abuse"
    assert reason_kind("something new") == "other"
    assert reason_kind(None) == "none"


def test_the_override_rate_is_overrides_over_decided_flags_of_that_rule():
    day = date(2026, 11, 20)
    tally = Counter({"confirm|spoofface": 3, "override|spoofface": 1, "override|timeouts": 2, "flag|timeouts": 5})
    seen = overview([day], {day: tally}, [], datetime(2026, 11, 20, tzinfo=UTC), timedelta(hours=24))
    assert seen.override_rate_by_reason == {"spoofface": 0.25, "timeouts": 1.0}
    assert seen.decisions == {"confirm": 3, "override": 3, "reset": 0}
    assert seen.flags_by_reason == {"timeouts": 5}


def test_every_day_of_the_window_is_a_point_and_only_the_window_counts():
    days = window(date(2026, 11, 22), 3)
    assert days == [date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)]
    outside = {date(2026, 11, 19): Counter({"flag|timeouts": 9}), date(2026, 11, 21): Counter({"flag|timeouts": 1})}
    seen = overview(days, outside, [], datetime(2026, 11, 22, tzinfo=UTC), timedelta(hours=24))
    assert [d.flags for d in seen.days] == [0, 1, 0] and seen.flags_by_reason == {"timeouts": 1}


def test_pending_reviews_past_the_sla_are_overdue():
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    since = [now - timedelta(hours=1), now - timedelta(hours=25), now - timedelta(hours=30)]
    seen = overview([now.date()], {}, since, now, timedelta(hours=24))
    assert (seen.pending, seen.overdue, seen.oldest_pending_seconds) == (3, 2, 30 * 3600)
