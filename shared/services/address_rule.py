"""The per end-user address rule's bookkeeping (docs/abuse-policy.md, "Per end-user IP"): failed
checks and settled sessions fed to the address's counters, written ahead of the subject's commit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.adapters.repositories import AddressCounters
from shared.adapters.tables import Versioned
from shared.domain.attempts import Absorbed
from shared.domain.ip_policy import (
    IpPolicy,
    IpState,
    OpenSession,
    record_failures,
    refuse_from_ip,
    track_session,
    untrack_sessions,
)
from shared.domain.records import Session
from shared.services.face_reads import FaceReads, Readings


@dataclass
class AddressRule:
    """Counts what the requesting address's sessions did, and tracks the sessions it opens."""

    counters: AddressCounters
    policy: IpPolicy
    reads: FaceReads
    pull_limit: int
    pull_grace: timedelta

    def state(self, ip: str) -> IpState:
        return self.counters.get(ip)

    def track(self, ip: str, session: Session, now: datetime) -> None:
        """Written ahead: a session the address row lists but the request discards reads as gone."""
        opened = OpenSession(session_id=session.session_id, expires_at=session.expires_at)
        self.counters.change(ip, lambda st: track_session(st, opened, now, self.pull_grace))

    def count(
        self,
        absorbed: list[tuple[Versioned[Session], Absorbed]],
        now: datetime,
        pulled: Readings,
        ip: str | None = None,
        ip_state: IpState | None = None,
        own: list[Versioned[Session]] | None = None,
    ) -> IpState | None:
        """Feed failed checks and settled sessions to the per-IP rule, written ahead of the subject commit.

        Besides the subject's own sessions, the sessions issued from the requesting `ip` are read
        from Face (within the pull limit), so a client that rotates GUIDs and never reads a result is
        still counted. Each failed check is counted once by its key, however many paths see it.
        Returns the requesting address's state after the change."""
        failures: dict[str, list[str]] = defaultdict(list)
        settled: dict[str, set[str]] = defaultdict(set)
        for session, result in absorbed:
            ref = session.record.ip_ref
            if ref and result.failed_keys:
                failures[ref] += result.failed_keys
            if ref and result.session.settled and not session.record.settled:
                settled[ref].add(session.record.session_id)
        if ip and ip_state is not None and refuse_from_ip(ip_state, now) is None:  # timed out: no Face reads
            self._read_others(ip, ip_state, own or [], pulled, now, failures[ip], settled[ip])
        for ref in set(failures) | set(settled):
            keys, done = failures.get(ref, []), settled.get(ref, set())
            if not keys and not done:
                continue
            updated = self.counters.change(
                ref, lambda st, k=keys, d=done: untrack_sessions(record_failures(st, k, now, self.policy), d)
            )
            if ref == ip:
                ip_state = updated
        return ip_state

    def _read_others(
        self,
        ip: str,
        ip_state: IpState,
        own: list[Versioned[Session]],
        pulled: Readings,
        now: datetime,
        failures: list[str],
        settled: set[str],
    ) -> None:
        """Read the address's other open sessions from Face, in the room the subject's own left."""
        mine = {s.record.session_id for s in own}
        room = max(0, self.pull_limit - min(len(own), self.pull_limit))
        for other in [o for o in ip_state.open_sessions if o.session_id not in mine][:room]:
            reading = self.reads.read(other.session_id, pulled)
            failures += reading.failed_keys(other.session_id)
            if reading.settles(other.expires_at, now):
                settled.add(other.session_id)
