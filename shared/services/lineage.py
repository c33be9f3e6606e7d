"""Which of the sessions Face's abuse monitoring names belong to the subject's own lineage
(docs/abuse-policy.md, "Signals beyond the counts"): the subject and the GUIDs it replaces through
resets and overrides, of the same customer. Face matching the same person under the GUIDs a reviewer
handed out is no abuse."""

from __future__ import annotations

from dataclasses import dataclass

from shared.adapters.repositories import FaceSessionOwners, SubjectRepository
from shared.domain.attempts import FaceReading
from shared.domain.records import Subject

MAX_LINEAGE = 20  # predecessors followed back (each a reset or an override by a reviewer)


@dataclass
class Lineage:
    """Resolves Face's `otherFlaggedSessions` to the subject's lineage (reads only when Face flagged)."""

    subjects: SubjectRepository
    owners: FaceSessionOwners

    def sessions_of(self, subject: Subject, reading: FaceReading) -> frozenset[str]:
        """The sessions named by the reading's flagged attempts that belong to the subject's lineage."""
        named = {f.session_id for a in reading.attempts if a.abuse_detected for f in a.flagged}
        if not named:
            return frozenset()
        guids = self.guids(subject)
        owners = self.owners.owners(named)
        return frozenset(s for s, (c, g) in owners.items() if c == subject.customer_id and g in guids)

    def guids(self, subject: Subject) -> set[str]:
        """The subject's GUID and every GUID it replaces, back through resets and overrides."""
        found, at = {subject.correlation_id}, subject
        for _ in range(MAX_LINEAGE):
            if not at.replaces or at.replaces in found:
                break
            found.add(at.replaces)
            earlier = self.subjects.get(subject.customer_id, at.replaces)
            if earlier is None:
                break
            at = earlier.record
        return found
