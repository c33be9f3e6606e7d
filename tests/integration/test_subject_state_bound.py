"""The subject row's policy state stays within a table property at the largest allowed token
lifetime and caps (a state past 32K characters made every later write for the GUID fail)."""

from __future__ import annotations

import pytest

from shared.domain.policy import MAX_STATE_CHARS, state_chars
from tests.integration.helpers import checked_attempt, consented_subject, new_customer, new_session
from tests.support import ApiClient

pytestmark = pytest.mark.face_api_versions("v1.2")
SESSIONS = 180  # three hours at the largest hourly cap: ~57,000 characters when the state kept them all


def test_a_day_long_token_and_the_largest_cap_keep_the_state_small(configure, router, face, clock) -> None:
    services = configure(
        SESSION_TOKEN_TTL_SECONDS="86400", POLICY_SESSIONS_PER_HOUR="60", POLICY_FAILED_CHECKS_LIMIT="100"
    )
    api = ApiClient(router)
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    issued = []
    for n in range(SESSIONS):
        response = new_session(api, key, guid, clientRequestId=f"{n:064d}")
        assert response.status == 201, (n, response.body)
        checked_attempt(api, face.endpoint, response.json, "realface")  # finished: it does not stay open
        issued.append(response.json["sessionId"])
        clock.advance(seconds=61)
    state = services.sessions.subjects.get(customer_id, guid).record.state
    assert state_chars(state) <= MAX_STATE_CHARS
    assert len(state.sessions) <= 60
    # Replays still work for the token's whole lifetime, long after the hour the state remembers.
    replay = new_session(api, key, guid, clientRequestId=f"{0:064d}")
    assert replay.status == 200, replay.body
    assert replay.json["sessionId"] == issued[0]
