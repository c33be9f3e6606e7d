"""The session rules on in-memory fakes (tests/fakes.py): fast, no Azurite, the same service the
bootstrap wires. The Azurite suites (tests/integration) check the same rules end to end."""

from __future__ import annotations

import uuid

import pytest

from shared.domain.policy import SubjectStatus
from shared.domain.records import Customer
from shared.domain.secrets import hash_secret
from shared.errors import (
    ConsentRequired,
    Contended,
    CorrelationIdBlocked,
    CustomerSuspended,
    RetryLimited,
    TokenExhausted,
    TokenRevoked,
)
from tests.fakes import Fakes, fakes
from tests.support import FakeClock

CUSTOMER = "c" * 32


@pytest.fixture
def world() -> Fakes:
    return fakes(FakeClock(), POLICY_SPOOFS_TO_FLAG="2", POLICY_SESSIONS_PER_HOUR="3")


def customer() -> Customer:
    return Customer(
        customer_id=CUSTOMER,
        name="n",
        contact_email="a@b.test",
        api_key_hash=hash_secret("k"),
        created_at=FakeClock()(),
    )


def consented(world: Fakes) -> str:
    guid = str(uuid.uuid4())
    world.consent().grant_consent(customer(), guid, "v1", None)
    return guid


def test_no_session_without_consent(world):
    with pytest.raises(ConsentRequired):
        world.sessions().create_session(customer(), str(uuid.uuid4()), None, None)
    assert world.face.created == 0


def test_the_hourly_cap_holds_and_lets_go_after_the_window(world):
    sessions, guid = world.sessions(), consented(world)
    for _ in range(3):
        sessions.create_session(customer(), guid, None, None)
        world.clock.advance(seconds=1)
    with pytest.raises(RetryLimited) as refused:
        sessions.create_session(customer(), guid, None, None)
    assert 0 < refused.value.retry_after <= 3600 and world.face.created == 3
    world.clock.advance(seconds=3600)
    sessions.create_session(customer(), guid, None, None)


def test_spoofs_flag_the_subject_list_it_ahead_and_announce_it_after_the_commit(world):
    sessions, guid = world.sessions(), consented(world)
    for _ in range(2):
        issued = sessions.create_session(customer(), guid, None, None)
        world.face.attempt(issued.session.session_id, "spoofface")
        result = sessions.get_result(issued.session.session_id, issued.session_token)
    assert result.subject_status is SubjectStatus.FLAGGED
    assert world.published.listed == [("pending", guid)]
    assert [e.type for e in world.published.events] == ["subject.flagged"] == [e.type for e in world.subjects.outbox]
    with pytest.raises(CorrelationIdBlocked):
        sessions.create_session(customer(), guid, None, None)


def test_attempts_count_though_the_client_never_asks_for_a_result(world):
    """Never polling: the next session request reads the open session's attempts from Face first."""
    sessions, guid = world.sessions(), consented(world)
    for _ in range(2):
        issued = sessions.create_session(customer(), guid, None, None)
        world.face.attempt(issued.session.session_id, "spoofface")
    with pytest.raises(CorrelationIdBlocked):
        sessions.create_session(customer(), guid, None, None)
    subject = world.subjects.get(CUSTOMER, guid).record
    assert subject.state.status is SubjectStatus.FLAGGED and subject.attempts_total == 2


def test_a_new_session_revokes_the_open_one_and_its_token_stops_working(world):
    sessions, guid = world.sessions(), consented(world)
    first = sessions.create_session(customer(), guid, None, None)
    sessions.create_session(customer(), guid, None, None)
    with pytest.raises(TokenRevoked):
        sessions.get_result(first.session.session_id, first.session_token)
    assert first.session.session_id in world.face.deleted


def test_a_replay_by_client_request_id_hands_back_the_same_session_without_asking_face(world):
    sessions, guid = world.sessions(), consented(world)
    first = sessions.create_session(customer(), guid, None, "req-1")
    again = sessions.create_session(customer(), guid, None, "req-1")
    assert (again.replayed, again.session.session_id, world.face.created) == (True, first.session.session_id, 1)


def test_a_lost_race_is_decided_again_and_face_is_asked_once(world):
    sessions, guid = world.sessions(), consented(world)
    world.subjects.lose = {world.subjects.commits + 1, world.subjects.commits + 2}
    issued = sessions.create_session(customer(), guid, None, None)
    assert world.face.created == 1 and [s.session_id for s in world.subjects.sessions(CUSTOMER, guid)] == [
        issued.session.session_id
    ]


def test_losing_every_race_is_429_and_the_face_session_made_is_deleted(world):
    sessions, guid = world.sessions(), consented(world)
    world.subjects.lose = set(range(world.subjects.commits + 1, world.subjects.commits + 100))
    with pytest.raises(Contended):
        sessions.create_session(customer(), guid, None, None)
    assert world.face.created == 1 and len(world.face.deleted) == 1
    assert world.subjects.sessions(CUSTOMER, guid) == []


def test_the_call_budget_is_spent_exactly(world):
    sessions, guid = world.sessions(), consented(world)
    issued = sessions.create_session(customer(), guid, None, None)
    for _ in range(issued.session.calls_allowed):
        sessions.get_result(issued.session.session_id, issued.session_token)
    with pytest.raises(TokenExhausted):
        sessions.get_result(issued.session.session_id, issued.session_token)


def test_a_suspended_customers_tokens_grant_nothing(world):
    sessions, guid = world.sessions(), consented(world)
    issued = sessions.create_session(customer(), guid, None, None)
    world.refused_customers.add(CUSTOMER)
    with pytest.raises(CustomerSuspended):
        sessions.get_result(issued.session.session_id, issued.session_token)
