"""Nobody can flood the audit log (issue 25): refused staff calls are coalesced per route, caller
network (IPv6 by /64), actor, reason and minute into entries with a count; still nothing raw."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from tests.integration.helpers import consented_subject, new_customer


def refused_rows(services) -> list[dict]:
    return [dict(e) for e in services.tables.client("audit").list_entities() if e["outcome"] == "refused"]


def anonymous_call(api, address: str, path: str = "/api/v1/manage/customers"):
    return api.get(path, headers={"x-forwarded-for": address})


def test_sixty_parallel_anonymous_refusals_add_a_handful_of_rows(api, services):
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _: anonymous_call(api, "203.0.113.7"), range(60)))
    assert {a.status for a in answers} == {401}
    rows = refused_rows(services)
    assert len(rows) <= 4, len(rows)
    assert sum(r["count"] for r in rows) == 60  # every refusal still counted
    assert "203.0.113.7" not in json.dumps(rows, default=str)  # the caller only as a keyed pseudonym
    assert len({r["caller"] for r in rows}) == 1


def test_ipv6_callers_count_by_their_64_and_other_callers_apart(api, services):
    for address in ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:3::1", "198.51.100.4"):
        assert anonymous_call(api, address).status == 401
    callers = {}
    for row in refused_rows(services):
        callers[row["caller"]] = callers.get(row["caller"], 0) + row["count"]
    assert sorted(callers.values()) == [1, 1, 2]  # the two in one /64 are one caller


def test_an_upper_case_guid_in_a_route_gets_the_same_pseudonym(api, services):
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    for spelled in (guid, guid.upper()):
        path = f"/api/v1/review/subjects/{customer_id}/{spelled}"
        assert anonymous_call(api, "198.51.100.9", path).status == 401
    subjects = {r["subject"] for r in refused_rows(services)}
    assert subjects == {services.review.ref(customer_id, guid)}
    assert guid.upper() not in json.dumps(refused_rows(services), default=str)


def test_the_feedback_rate_limit_counts_an_ipv6_caller_by_its_64(configure, router):
    from tests.support import ApiClient

    configure(FEEDBACK_RATE_LIMIT="2")
    api = ApiClient(router)

    def send(address: str):
        body = {"category": "other", "message": "hello"}
        return api.post("/api/v1/feedback", json=body, headers={"x-forwarded-for": address})

    assert [send(f"2001:db8:5:6::{n}").status for n in range(1, 4)] == [202, 202, 429]  # one /64: one limit
    assert send("2001:db8:5:7::1").status == 202  # the next /64 is another caller
