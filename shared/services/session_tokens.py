"""The session row a request hands out and its session token (only the token's hash is stored),
and the replay of a session by `clientRequestId` (docs/api.md, `POST /sessions`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.adapters.face import CreatedFaceSession
from shared.adapters.repositories import SubjectRepository
from shared.adapters.tables import Versioned
from shared.domain.keys import Keyring, UnknownKey
from shared.domain.records import Session, Subject
from shared.domain.secrets import hash_secret, new_session_token
from shared.errors import Conflict
from shared.unit_of_work import SubjectChange, SubjectKey, UnitOfWork


@dataclass(frozen=True)
class IssuedView:
    """A session as handed out: its row, Face's auth token and the session token."""

    session: Session
    face_auth_token: str
    session_token: str
    replayed: bool


@dataclass
class SessionTokens:
    """New session rows with their tokens, and replays that mint a fresh token."""

    subjects: SubjectRepository
    uow: UnitOfWork
    keys: Keyring
    session_ttl: timedelta
    call_budget: int
    client_attempts: int  # attempts the device may make per session (FACE_CLIENT_ATTEMPTS)

    def new_session(
        self,
        subject: Subject,
        created: CreatedFaceSession,
        mode: str,
        client_request_id: str | None,
        ip: str | None,
        now: datetime,
    ) -> tuple[Session, str]:
        """The session row to write and the session token to hand out (only its hash is stored)."""
        token = new_session_token(subject.customer_id, subject.correlation_id)
        return Session(
            session_id=created.session_id,
            customer_id=subject.customer_id,
            correlation_id=subject.correlation_id,
            token_hash=hash_secret(token),
            sealed_face_token=self.keys.seal(created.auth_token, created.session_id),
            client_request_id=client_request_id,
            operation_mode=mode,
            created_at=now,
            expires_at=now + self.session_ttl,
            calls_allowed=self.call_budget,
            ip_ref=ip,
            attempts_allowed=self.client_attempts,
        ), token

    def replay(self, key: SubjectKey, session_id: str) -> IssuedView | None:
        """Hand back the session issued for a clientRequestId, with a fresh session token.

        Only the token's hash is stored, so the earlier token cannot be shown again: the replay
        mints a new one for the same session (same budget) and the earlier one stops working.
        None when the session row went meanwhile; StaleWrite when it changed.
        """
        _, found = self.subjects.get_with_session(key.customer_id, key.correlation_id, session_id)
        if found is None:
            return None
        try:  # opened first: a replay that cannot hand the token back must not kill the earlier one
            face_token = self.keys.unseal(found.record.sealed_face_token, session_id)
        except UnknownKey:
            raise Conflict(
                "The session for this clientRequestId was sealed under a key this service no longer has; "
                "send a new clientRequestId."
            ) from None
        token = new_session_token(key.customer_id, key.correlation_id)
        session = found.record.model_copy(update={"token_hash": hash_secret(token)})
        self.uow.commit(SubjectChange(key, replace=(Versioned(session, found.etag),)))
        return IssuedView(session, face_token, token, replayed=True)


def find_replay(sessions: list[Versioned[Session]], client_request_id: str | None, now: datetime) -> Session | None:
    """The live session issued earlier for this clientRequestId, found on the session rows (which
    live as long as the token), so the subject's state need not remember clientRequestIds."""
    if client_request_id is None:
        return None
    for found in sessions:
        record = found.record
        if record.client_request_id == client_request_id and record.expires_at > now and not record.revoked:
            return record
    return None
