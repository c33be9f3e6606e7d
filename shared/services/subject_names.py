"""How a message sent now names a subject (docs/retention.md, "Erasure"): by its GUID while the
subject exists, by its keyed pseudonym once it was erased (or removed by retention), so an email,
webhook or determination produced after an erasure never names the GUID."""

from __future__ import annotations

from dataclasses import dataclass

from shared.adapters.determination_store import DeterminationStore
from shared.adapters.subject_store import SubjectStore
from shared.adapters.tables import Versioned
from shared.domain.keys import Keyring
from shared.domain.secrets import ERASED_PREFIX, subject_ref
from shared.unit_of_work import DeterminationChange, UnitOfWork


@dataclass
class SubjectNames:
    subjects: SubjectStore
    determinations: DeterminationStore
    uow: UnitOfWork
    keys: Keyring

    def current(self, customer_id: str, correlation_id: str | None) -> str | None:
        """The GUID while its subject exists, else its pseudonym (one point read)."""
        if not correlation_id or correlation_id.startswith(ERASED_PREFIX) or ":" in correlation_id:
            return correlation_id
        if self.subjects.get(customer_id, correlation_id) is not None:
            return correlation_id
        return subject_ref(self.keys, customer_id, correlation_id)

    def pseudonymise_determinations(self, customer_id: str, correlation_id: str) -> int:
        """Replace an erased GUID by its pseudonym in the customer's determinations (their facts stay);
        returns how many changed. Safe to run again."""
        pseudonym = subject_ref(self.keys, customer_id, correlation_id)

        def attempt() -> int:
            found = self.determinations.naming(customer_id, correlation_id)
            for d in found:
                changed = d.record.model_copy(update={"correlation_id": pseudonym})
                self.uow.commit_determination(DeterminationChange(Versioned(changed, d.etag), listed=False))
            return len(found)

        return self.uow.run(attempt, "The determination")
