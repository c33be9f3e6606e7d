"""`/review/policy-evaluation`: the live policy's evaluation, candidates beside it, validated."""

from __future__ import annotations

from tests.integration.helpers import ADMIN


def test_the_live_evaluation_lists_every_population_with_the_assumptions(api):
    answer = api.get("/api/v1/review/policy-evaluation", headers=ADMIN)
    assert answer.status == 200, answer.body
    body = answer.json
    assert [h["failRate"] for h in body["honest"]] == [0.03, 0.1, 0.2]
    assert {a["strategy"] for a in body["attackers"]} == {
        "one_guid",
        "rotate_guids",
        "rotate_addresses",
        "pre_issue",
        "erase_between",
    }
    assert body["assumptions"] and api.get("/api/v1/review/policy-evaluation", headers=ADMIN).body == answer.body


def test_a_candidate_is_answered_beside_the_live_settings(api):
    answer = api.post(
        "/api/v1/review/policy-evaluation", json={"settings": {"POLICY_SPOOFS_TO_FLAG": "5"}}, headers=ADMIN
    )
    assert answer.status == 200, answer.body
    live, candidate = answer.json["live"], answer.json["candidate"]
    assert live["fingerprint"] != candidate["fingerprint"]
    one_guid = lambda e: next(a for a in e["attackers"] if a["strategy"] == "one_guid" and a["passRate"] == 0.005)  # noqa: E731
    assert one_guid(candidate)["attemptsBeforeFlag"] > one_guid(live)["attemptsBeforeFlag"]


def test_an_impossible_or_unrelated_candidate_is_a_400_naming_it(api):
    for settings, named in (
        ({"POLICY_SESSIONS_PER_HOUR": "61"}, "POLICY_SESSIONS_PER_HOUR"),
        ({"POLICY_SPOOFS_TO_FLAG": "many"}, "POLICY_SPOOFS_TO_FLAG"),
        ({"ADMIN_API_KEY": "x" * 40}, "ADMIN_API_KEY"),
    ):
        answer = api.post("/api/v1/review/policy-evaluation", json={"settings": settings}, headers=ADMIN)
        assert (answer.status, answer.error_code) == (400, "invalid_request"), answer.body
        assert named in answer.json["error"]["message"]


def test_only_staff_may_evaluate(api):
    assert api.get("/api/v1/review/policy-evaluation").status == 401
