"""The client API's session side, as one service the routes and the other services call
(docs/api.md, `POST /sessions`, `GET /sessions/{id}/result`; docs/abuse-policy.md).

Each job is its own part: issuing (`session_issuing`), results (`session_results`), how a session
ends — revocation, settling, erasure's first step (`session_endings`) — with the Face reads
(`face_reads`), the per-address rule (`address_rule`), tokens and replays (`session_tokens`) and
the subject commit (`subject_commits`) they share. The bootstrap wires them
(`shared.bootstrap.session_service`).

Every subject change is read → decide (pure policy) → one unit of work; attempts count whether or
not the client ever asks for them, because each request first reads from Face what is still open.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.adapters.face import FaceClient
from shared.adapters.repositories import AddressCounters, FaceSessionOwners, SubjectRepository
from shared.domain.policy import Policy
from shared.domain.records import Customer, Session
from shared.services.face_cleanup import FaceCleanup
from shared.services.face_reads import Readings, reading_of
from shared.services.session_endings import RevokeReason, SessionEndings
from shared.services.session_issuing import SessionIssuer
from shared.services.session_results import ResultView, SessionResults
from shared.services.session_tokens import IssuedView

__all__ = ["IssuedView", "ResultView", "RevokeReason", "SessionService", "reading_of"]


@dataclass
class SessionService:
    """Sessions, results and how sessions end, behind one front."""

    issuer: SessionIssuer
    results: SessionResults
    endings: SessionEndings

    @property
    def policy(self) -> Policy:
        return self.issuer.policy

    @property
    def subjects(self) -> SubjectRepository:
        return self.issuer.subjects

    @property
    def face(self) -> FaceClient:
        return self.issuer.face

    @property
    def ip_counters(self) -> AddressCounters:
        return self.issuer.address.counters

    @property
    def ledger(self) -> FaceSessionOwners:
        return self.issuer.ledger

    @property
    def cleanup(self) -> FaceCleanup:
        return self.issuer.cleanup

    def create_session(
        self,
        customer: Customer,
        correlation_id: str,
        mode: str | None,
        client_request_id: str | None,
        end_user_ip: str | None = None,
    ) -> IssuedView:
        """Issue a liveness session for a subject, or replay the one issued for clientRequestId."""
        return self.issuer.create_session(customer, correlation_id, mode, client_request_id, end_user_ip)

    def get_result(self, session_id: str, token: str | None, digest: str | None = None) -> ResultView:
        """Spend one call of the token: read the Face result, record new final attempts, run the policy
        (a device digest that differs from Face's flags the subject)."""
        return self.results.get_result(session_id, token, digest)

    def revoke(
        self, customer_id: str, correlation_id: str, reason: RevokeReason, pulled: Readings | None = None
    ) -> int:
        """Revoke every open session of a subject (attempts read first); returns how many."""
        return self.endings.revoke(customer_id, correlation_id, reason, pulled)

    def revoke_after(self, customer_id: str, correlation_id: str, reason: RevokeReason) -> int:
        """Revoke right after the change that stopped the subject (a failure is logged, not raised)."""
        return self.endings.revoke_after(customer_id, correlation_id, reason)

    def revoke_customer(self, customer_id: str) -> int:
        """Revoke every open session of a suspended or terminated customer."""
        return self.endings.revoke_customer(customer_id)

    def settle(self, customer_id: str, correlation_id: str, session_id: str) -> bool:
        """Record what a session still holds at Face, then delete it there (the retention sweep)."""
        return self.endings.settle(customer_id, correlation_id, session_id)

    def delete_owed(self, session_id: str) -> bool:
        """The sweep's retry of a deletion Face owes."""
        return self.endings.delete_owed(session_id)

    def close_for_erasure(self, customer_id: str, correlation_id: str) -> list[Session]:
        """An erasure's first step: the subject marked `erasing`, its open sessions revoked."""
        return self.endings.close_for_erasure(customer_id, correlation_id)
