"""Hot partitions spread over shards (audit log, feedback, review index), and listings that page
through every shard — and the rows written before shards existed — exactly once, in order."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from shared.adapters.subject_rows import subject_partition
from shared.adapters.tables import to_entity
from shared.domain.records import FeedbackCategory, ReviewIndexEntry

pytestmark = pytest.mark.face_api_versions("v1.2")


def pages(fetch, size: int) -> list[list[dict]]:
    """Follow continuation tokens to the end; every page as returned."""
    out, token = [], None
    for _ in range(100):
        items, token = fetch(size, token)
        out.append(items)
        if token is None:
            return out
    raise AssertionError("paging never ended")


def test_audit_entries_spread_over_shards_and_page_once_in_time_order(services, clock) -> None:
    legacy = services.tables.client("audit")
    for n in range(3):  # written by the release before shards: the bare day partition
        at = clock() + timedelta(milliseconds=n)
        legacy.create_entity(
            {
                "PartitionKey": at.strftime("%Y-%m-%d"),
                "RowKey": f"{at.isoformat()}_legacy{n}",
                "at": at,
                "action": "old",
            }
        )
    for n in range(30):
        clock.advance(milliseconds=10)
        services.audit.append(at=clock(), actor="t", action=f"a{n:02d}")
    partitions = {e["PartitionKey"] for e in legacy.list_entities() if e["action"] != "old"}
    assert len(partitions) == 4  # one UTC day, four shards
    start, end = clock() - timedelta(minutes=5), clock() + timedelta(minutes=5)
    listed = pages(lambda n, t: services.audit.page(start, end, n, t), 7)
    actions = [e["action"] for page in listed for e in page]
    assert actions == ["old"] * 3 + [f"a{n:02d}" for n in range(30)]
    assert all(len(page) <= 7 for page in listed)


def test_review_index_rows_spread_over_shards_and_page_once_in_order(services, clock) -> None:
    entries = [
        ReviewIndexEntry(customer_id="c" * 32, correlation_id=str(uuid.uuid4()), since=clock(), reason="r")
        for _ in range(25)
    ]
    for entry in entries:
        services.review.index.put("pending", entry)
    table = services.tables.client("reviewindex")
    old = ReviewIndexEntry(customer_id="c" * 32, correlation_id=str(uuid.uuid4()), since=clock())
    table.create_entity(to_entity(old, "pending", subject_partition(old.customer_id, old.correlation_id)))
    assert len({e["PartitionKey"] for e in table.list_entities()}) == 5  # four shards + the old partition
    listed = pages(lambda n, t: services.review.index.page("pending", n, t), 4)
    seen = [row.record.correlation_id for page in listed for row in page]
    expected = sorted([*entries, old], key=lambda e: subject_partition(e.customer_id, e.correlation_id))
    assert seen == [e.correlation_id for e in expected]


def test_feedback_spreads_over_shards_and_pages_once(services, clock) -> None:
    for n in range(12):
        clock.advance(milliseconds=5)
        services.feedback.submit(
            category=FeedbackCategory.OTHER,
            message=f"m{n:02d}",
            correlation_id=None,
            contact=None,
            customer_id=None,
            client_address=f"198.51.100.{n}",
        )
    start, end = clock() - timedelta(minutes=1), clock() + timedelta(minutes=1)
    listed = pages(lambda n, t: services.feedback.page(start, end, n, t), 5)
    assert [f.message for page in listed for f in page] == [f"m{n:02d}" for n in range(12)]
    assert len({e["PartitionKey"] for e in services.tables.client("feedback").list_entities()}) > 1
