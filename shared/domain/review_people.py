"""Who decides (docs/abuse-policy.md, "Humans in the loop"): every decision, claim and second
review names the person — their name and Entra object id, or the administrator key — and pure
rules say who may act on a flag someone claimed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import AwareDatetime

from shared.domain.values import Value

ADMIN_KEY_ACTOR = "admin-key"
ADMIN_KEY_NAME = "administrator key"


def decider_name(actor: str) -> str:
    """How a decision names who made it: the signed-in person's name, or `administrator key`."""
    return ADMIN_KEY_NAME if actor == ADMIN_KEY_ACTOR else actor.removeprefix("user:")


@dataclass(frozen=True)
class Decider:
    """A person acting on a subject: the audit log's actor (`user:<name>` or `admin-key`), their
    object id (the administrator key's is `administrator key`), and whether they administer."""

    actor: str
    object_id: str
    administrator: bool = False

    @property
    def name(self) -> str:
        return decider_name(self.actor)

    def same_person(self, object_id: str | None) -> bool:
        return object_id is not None and object_id == self.object_id


class Claim(Value):
    """A reviewer working on a pending flag until `until` (REVIEW_CLAIM_SECONDS)."""

    by: str  # the holder's name
    by_id: str  # the holder's object id
    until: AwareDatetime

    def held_by_other(self, decider: Decider, now: datetime) -> bool:
        return self.until > now and not decider.same_person(self.by_id)


def new_claim(decider: Decider, now: datetime, lease: timedelta) -> Claim:
    return Claim(by=decider.name, by_id=decider.object_id, until=now + lease)


class SecondReview(Value):
    """A severe confirmation waiting for a second, different person (four eyes), or the disagreement
    that leaves it to an Administrator."""

    review_id: str
    by: str  # the first person's actor
    by_id: str
    reason: str
    guideline_id: str | None = None
    at: AwareDatetime
    disagreed_by: str | None = None  # the second person's actor, when they did not agree
    disagreed_by_id: str | None = None
    disagreed_reason: str | None = None

    def first(self) -> Decider:
        return Decider(self.by, self.by_id)


class Appeal(Value):
    """An end user contests a block (GDPR Art. 22(3)): their `false_rejection` feedback, sent with the
    customer's api key, reopened the blocked subject for review."""

    feedback_id: str
    opened_at: AwareDatetime


APPEAL_REASON = "appeal"
