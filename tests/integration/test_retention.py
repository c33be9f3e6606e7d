"""The retention sweep against real Azurite: exactly the expired rows go, under overlap and restarts."""

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.services.retention import RetentionSweep
from tests.integration.seed import present, seed


class Interrupted(Exception):
    pass


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
