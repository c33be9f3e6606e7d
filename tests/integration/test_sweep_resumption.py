"""The sweep reads what is due through the expiry index, and resumes where a cut-off run stopped."""

import dataclasses
from urllib.parse import parse_qs, urlparse

import pytest

from tests.integration.helpers import checked_attempt, consented_subject, new_customer, new_session
from tests.support import ApiClient


class Interrupted(BaseException):
    """The host stops the sweep (functionTimeout): no step can survive it."""


def _sessions_left(services) -> list[str]:
    return [
        r["RowKey"]
        for r in services.tables.client("subjects").query_entities(
            "RowKey ge @lo and RowKey lt @hi", parameters={"lo": "session_", "hi": "session`"}
        )
    ]


@pytest.fixture
def visits(configure, router, face, clock):
    """Twelve end users each made one check through the API (one read to the end, the rest never
    polled); the clock then moves past every session's expiry and grace."""
    services = configure(RETENTION_PAGE_SIZE="5")
    services.retention.run()  # the deployment's one-time backfill, before any of this was written
    api = ApiClient(router)
    _, key = new_customer(api)
    for i in range(12):
        session = new_session(api, key, consented_subject(api, key)).json
        if i == 0:
            checked_attempt(api, face.endpoint, session, "realface")
    assert len(_sessions_left(services)) == 12
    clock.advance(hours=3)
    return services


def test_a_sweep_stopped_half_way_and_restarted_deletes_everything_due_exactly_once(visits):
    removed: list[int] = []

    def stop_after_two(n: int) -> None:
        removed.append(n)
        if len(removed) == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        dataclasses.replace(visits.retention, on_batch=stop_after_two).run()
    assert 0 < len(_sessions_left(visits)) < 12  # it really stopped part-way

    counts = dataclasses.replace(visits.retention, on_batch=removed.append).run()
    assert _sessions_left(visits) == []
    assert sum(removed) == 12  # every session row deleted once, across the two runs
    assert counts["sessions"] == 12 - sum(removed[:2])
    assert visits.retention.run().get("sessions", 0) == 0  # nothing left for a third run


def test_a_sweep_names_a_partition_in_every_query(visits, clock):
    """No query of the sweep is a full-table scan (Azure reads every stored row for one)."""
    from shared.bootstrap import build
    from shared.settings import load_settings

    queries: list[str] = []

    def record(request) -> None:
        found = parse_qs(urlparse(request.http_request.url).query).get("$filter")
        if request.http_request.method == "GET" and found:
            queries.append(found[0])

    watched = build(load_settings(), clock, record)  # the same tables, every request seen
    assert watched.retention.run()["sessions"] == 12
    assert queries and all("PartitionKey" in q for q in queries), [q for q in queries if "PartitionKey" not in q]
