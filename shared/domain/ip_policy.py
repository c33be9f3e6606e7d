"""The per end-user IP rule of docs/abuse-policy.md, as pure functions on typed values.

One person rotating GUIDs is caught here: failed checks are counted per keyed hash of
(customer, IP — IPv6 by its /64) across every GUID of that customer. Each failure is counted under
a short key of (sessionId, attemptId), so the several paths that can see one attempt (the client's
`/result`, the server's own pull before a session, the sweep) count it once.

The state also lists the sessions issued from the IP that may still gain attempts, so a session
request from the IP reads them from Face even when the client never asks for their results.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import AwareDatetime

from shared.domain.keys import END_USER_IP, Keyring
from shared.domain.policy import Refusal, RefusalCode, seconds_until
from shared.domain.values import Value

MAX_FAILURE_KEYS = 200  # bounds the row: keys older than the window go first, then the oldest
MAX_OPEN_SESSIONS = 100  # a hot IP (a NAT, a proxy) keeps its newest sessions tracked


@dataclass(frozen=True)
class IpPolicy:
    """Thresholds of the per-IP rule (settings POLICY_IP_*)."""

    failed_checks_limit: int = 20
    window: timedelta = timedelta(hours=1)
    timeout: timedelta = timedelta(hours=1)


class IpFailure(Value):
    key: str
    at: AwareDatetime


class OpenSession(Value):
    session_id: str
    expires_at: AwareDatetime


class IpState(Value):
    """What the rule knows about one (customer, IP); stored as one row."""

    failures: tuple[IpFailure, ...] = ()
    counted_since: AwareDatetime | None = None  # failures before this started the current timeout
    timed_out_until: AwareDatetime | None = None
    open_sessions: tuple[OpenSession, ...] = ()


def normalise_ip(raw: str) -> str:
    """The address the rule counts: an IPv4 address, or the /64 network of an IPv6 one.

    Raises ValueError for anything that is not an IP address."""
    address = ipaddress.ip_address(raw.strip())
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def ip_ref(keys: Keyring, customer_id: str, normalised_ip: str) -> str:
    """A keyed pseudonym of (customer, IP): the only form in which an end-user IP is stored.

    After a key rotation an address starts a fresh count (its window is an hour at most)."""
    return keys.pseudonym(END_USER_IP, f"{customer_id}|{normalised_ip}")


def failure_key(session_id: str, attempt_id: int) -> str:
    """A short, stable key for one attempt."""
    return hashlib.sha256(f"{session_id}|{attempt_id}".encode()).hexdigest()[:16]


def refuse_from_ip(state: IpState, now: datetime) -> Refusal | None:
    """The refusal for a new session from this IP, or None."""
    if state.timed_out_until is not None and state.timed_out_until > now:
        return Refusal(
            RefusalCode.RETRY_LIMITED,
            "Too many failed checks from this end-user address; try again later.",
            seconds_until(state.timed_out_until, now),
        )
    return None


def record_failures(state: IpState, keys: list[str], now: datetime, policy: IpPolicy) -> IpState:
    """Count failed checks (each key once) and start a timeout when the limit is reached."""
    known = {f.key for f in state.failures}
    fresh = [IpFailure(key=k, at=now) for k in dict.fromkeys(keys) if k not in known]
    failures = tuple(f for f in (*state.failures, *fresh) if f.at > now - policy.window)[-MAX_FAILURE_KEYS:]
    counted_since, timed_out_until = state.counted_since, state.timed_out_until
    counting = [f for f in failures if counted_since is None or f.at > counted_since]
    if fresh and len(counting) >= policy.failed_checks_limit and not (timed_out_until and timed_out_until > now):
        counted_since, timed_out_until = now, now + policy.timeout
    return state.model_copy(
        update={"failures": failures, "counted_since": counted_since, "timed_out_until": timed_out_until}
    )


def track_session(state: IpState, session: OpenSession, now: datetime, grace: timedelta) -> IpState:
    """Remember a session issued from this IP until it can gain no more attempts."""
    kept = tuple(s for s in state.open_sessions if s.expires_at + grace > now and s.session_id != session.session_id)
    return state.model_copy(update={"open_sessions": (*kept, session)[-MAX_OPEN_SESSIONS:]})


def untrack_sessions(state: IpState, session_ids: set[str]) -> IpState:
    """Forget sessions that are settled (read after their expiry, or gone at Face)."""
    return state.model_copy(
        update={"open_sessions": tuple(s for s in state.open_sessions if s.session_id not in session_ids)}
    )


def kept_until(state: IpState, policy: IpPolicy, grace: timedelta) -> datetime | None:
    """When the row stops mattering (the retention sweep deletes it after this)."""
    moments = [f.at + policy.window for f in state.failures]
    moments += [s.expires_at + grace for s in state.open_sessions]
    if state.timed_out_until is not None:
        moments.append(state.timed_out_until)
    return max(moments, default=None)
