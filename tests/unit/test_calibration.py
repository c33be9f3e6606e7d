"""Agreement and Cohen's kappa against an example computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.domain.calibration import Opinion, calibration, chosen, kappa
from shared.domain.records import DecisionKind

CONFIRM, OVERRIDE = DecisionKind.CONFIRM, DecisionKind.OVERRIDE
T0 = datetime(2026, 1, 5, tzinfo=UTC)


def test_kappa_of_a_hand_computed_example():
    """10 pairs: 4 confirm/confirm, 3 override/override, 2 confirm/override, 1 override/confirm.
    Observed 0.7; the first rater says confirm 6 times, the second 5: chance (6*5 + 4*5)/100 = 0.5;
    kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4."""
    pairs = [("c", "c")] * 4 + [("o", "o")] * 3 + [("c", "o")] * 2 + [("o", "c")]
    assert abs(kappa(pairs) - 0.4) < 1e-9


def test_kappa_is_undefined_without_pairs_or_with_one_label_only():
    assert kappa([]) is None and kappa([("c", "c")] * 3) is None
    assert kappa([("c", "o"), ("o", "c")]) == -1.0  # always disagreeing


def _opinion(n: int, first: DecisionKind, second: DecisionKind, guideline: str, by: str, other: str) -> Opinion:
    return Opinion(
        opinion_id=f"{n:032x}",
        customer_id="c" * 32,
        correlation_id="subject:x",
        asked_at=T0,
        first=first,
        first_guideline=guideline,
        first_by=by,
        first_by_id=by,
        second=second,
        second_by=other,
        second_by_id=other,
        answered_at=T0,
    )


def test_calibration_per_guideline_and_per_reviewer_with_sample_sizes_and_disagreements():
    opinions = [_opinion(1, CONFIRM, CONFIRM, "g1", "ana", "ben"), _opinion(2, OVERRIDE, OVERRIDE, "g1", "ana", "ben")]
    opinions += [_opinion(3, CONFIRM, OVERRIDE, "g2", "ben", "cy")]
    found = calibration(opinions, T0)
    assert (found.overall.pairs, found.overall.agreement) == (3, round(2 / 3, 4))
    assert [(a.key, a.pairs, a.agreement, a.kappa) for a in found.by_guideline] == [
        ("g1", 2, 1.0, 1.0),
        ("g2", 1, 0.0, 0.0),
    ]
    assert {a.key: a.pairs for a in found.by_reviewer} == {"ana": 2, "ben": 3, "cy": 1}
    assert [d.opinion_id for d in found.disagreements] == [f"{3:032x}"]


def test_a_stable_share_of_decisions_is_chosen():
    picked = sum(chosen(f"decision-{i}", 0.1) for i in range(10_000))
    assert 800 < picked < 1200 and chosen("x", 1.0) and not chosen("x", 0.0)
    assert chosen("decision-7", 0.3) == chosen("decision-7", 0.3)
