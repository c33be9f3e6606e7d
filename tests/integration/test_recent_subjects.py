"""An instance that remembers the subject rows it wrote skips a read, never a rule."""

import pytest
import requests

from shared.domain.review_people import Decider
from shared.errors import RetryLimited
from tests.integration.helpers import checked_attempt, consented_subject, device_attempt, new_customer, new_session
from tests.support import ApiClient


def held_at_face(face) -> int:
    return requests.get(f"{face.endpoint}/emulator/health", timeout=5).json()["sessions"]


@pytest.fixture
def two_instances(configure, router, clock):
    """Instance A serves the HTTP routes; instance B is another worker on the same storage."""
    from shared.bootstrap import build
    from shared.settings import load_settings

    services = configure(POLICY_SESSIONS_PER_HOUR="2")
    requests_seen: list[str] = []
    other = build(load_settings(), clock, lambda request: requests_seen.append(request.http_request.method))
    return services, other, ApiClient(router)


def test_the_next_session_of_a_visit_on_the_same_instance_skips_the_read(configure, router, face, clock):
    from shared.bootstrap import build
    from shared.settings import load_settings

    configure()
    api = ApiClient(router)
    _, key = new_customer(api)
    guid = consented_subject(api, key)
    seen: list[str] = []
    instance = build(load_settings(), clock, lambda request: seen.append(request.http_request.method))
    customer = instance.customers.authenticate(key)
    first = instance.sessions.create_session(customer, guid, None, None)  # reads, files the check, writes
    device_attempt(
        face.endpoint, {"sessionId": first.session.session_id, "faceAuthToken": first.face_auth_token}, "realface"
    )
    instance.sessions.get_result(first.session.session_id, first.session_token)  # read to the end, on this instance
    seen.clear()
    instance.sessions.create_session(customer, guid, None, None)
    owner_row = ["PUT"] if instance.sessions.face.reports_other_sessions else []  # Face v1.3: whose session
    assert seen == [*owner_row, "POST"]  # one transaction, no read


def test_a_cap_reached_through_another_instance_still_refuses(two_instances, face):
    mine, other, api = two_instances
    _, key = new_customer(api)
    guid = consented_subject(api, key)
    first = new_session(api, key, guid).json  # instance A remembers the subject as it wrote it
    checked_attempt(api, face.endpoint, first, "realface")
    other.sessions.create_session(other.customers.authenticate(key), guid, None, None)  # B: the second of two

    held = held_at_face(face)
    refused = new_session(api, key, guid)  # A's memory says one session: the guarded write says otherwise
    assert (refused.status, refused.error_code) == (429, "retry_limited")
    assert held_at_face(face) == held  # the Face session made on A's memory was deleted again
    rows = list(
        mine.tables.client("subjects").query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": f"{key.split('.')[1]}_{guid}", "lo": "session_", "hi": "session`"},
        )
    )
    assert len(rows) == 2


def test_a_reviewer_blocking_the_subject_is_seen_at_once(two_instances, face):
    _, other, api = two_instances
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    first = new_session(api, key, guid).json
    checked_attempt(api, face.endpoint, first, "realface")
    other.review.reset(
        customer_id, guid, "reviewed elsewhere", Decider("user:reviewer@contoso.example", "oid-1")
    )  # retired by B

    refused = new_session(api, key, guid)
    assert (refused.status, refused.error_code) == (403, "correlation_id_blocked")


def test_a_refusal_is_decided_on_a_fresh_read(two_instances, face, clock):
    """This instance's memory says the hourly cap is reached: it still reads before refusing, and
    never asks Face for a session."""
    from shared.bootstrap import build
    from shared.settings import load_settings

    _, _, api = two_instances
    _, key = new_customer(api)
    guid = consented_subject(api, key)
    seen: list[str] = []
    instance = build(load_settings(), clock, lambda request: seen.append(request.http_request.method))
    customer = instance.customers.authenticate(key)
    for _ in range(2):  # the cap (2 an hour), each read to the end on this instance
        issued = instance.sessions.create_session(customer, guid, None, None)
        device_attempt(
            face.endpoint, {"sessionId": issued.session.session_id, "faceAuthToken": issued.face_auth_token}, "realface"
        )
        instance.sessions.get_result(issued.session.session_id, issued.session_token)
    held = held_at_face(face)
    seen.clear()
    with pytest.raises(RetryLimited):
        instance.sessions.create_session(customer, guid, None, None)
    assert "GET" in seen  # decided on what storage holds, not on this instance's memory
    assert held_at_face(face) == held  # refused before Face was asked for anything
