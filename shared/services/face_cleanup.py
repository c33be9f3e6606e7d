"""The Face side of a session's life (docs/retention.md): deleting what Face holds once nothing
more can be counted from it, and owing the deletion to the retention sweep when Face fails."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared import telemetry
from shared.adapters.face import FaceClient, FaceSessionGone
from shared.adapters.repositories import FaceSessionOwners, SubjectRepository
from shared.domain.clock import Clock
from shared.domain.records import Session
from shared.errors import UpstreamUnavailable

log = logging.getLogger(__name__)


@dataclass
class FaceCleanup:
    face: FaceClient
    subjects: SubjectRepository
    ledger: FaceSessionOwners
    clock: Clock

    def forget(self, session_id: str) -> bool:
        """Ask Face to delete a session; True once Face holds nothing of it (gone already counts)."""
        try:
            self.face.delete_session(session_id)
        except FaceSessionGone:
            pass
        except UpstreamUnavailable:
            log.warning("face.session.delete_failed session=%s; the sweep retries", session_id)
            return False
        log.info("face.session.deleted session=%s", session_id)
        return True

    def delete(self, session: Session) -> bool:
        """Delete a session at Face and remember it on its row; False if Face failed.

        Called only once what the session holds is recorded, so no attempt is lost. A revoked session
        Face could not delete is owed (the sweep counts its last attempts, then asks again, hourly);
        any other is left for the retention sweep, which deletes it past expiry + grace."""
        if not self.forget(session.session_id):
            if session.revoked:
                self.owe(session.session_id, (session.customer_id, session.correlation_id))
            return False
        self.subjects.mark_face_deleted(session.customer_id, session.correlation_id, session.session_id)
        return True

    def owe(self, session_id: str, subject: tuple[str, str] | None = None) -> None:
        """Note a deletion Face still owes (counted, so an operator sees the backlog grow)."""
        telemetry.count("face.deletions_owed")
        self.ledger.owe_deletion(session_id, self.clock(), subject)

    def discard(self, session_id: str) -> None:
        """Delete a Face session we created but did not hand out, and its owner row; owed when Face
        fails (no session row will name it, so nothing else would ever delete it)."""
        if not self.forget(session_id):
            try:
                self.owe(session_id)
            except Exception:
                log.error("an unused Face session could be neither deleted nor owed; Face drops it in 48 h")
        try:
            self.ledger.forget([session_id])
        except Exception:
            log.warning("could not remove the owner row of an unused Face session; it expires with attempts")

    def erase(self, sessions: list[Session]) -> int:
        """Delete at Face every session an erasure removes; returns how many Face still owes (owed
        without the GUID, replacing any owed row that named it)."""
        owed = 0
        for session in sessions:
            if session.face_deleted:
                continue
            if self.forget(session.session_id):
                self.ledger.paid(session.session_id)
            else:
                self.owe(session.session_id)
                owed += 1
        return owed
