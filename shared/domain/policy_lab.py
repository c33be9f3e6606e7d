"""Policy evaluation (docs/abuse-policy.md, "What the policy does"): synthetic traffic replayed
through the same pure functions the app decides with — `refuse_new_session`, `record_session`,
`record_decision`, the per-address `refuse_from_ip` / `record_failures`, and erasure's `gate_of` /
`resumed_state` — seeded, so the same settings always give the same answer.

Honest people whose attempts fail with 3 %, 10 % or 20 % (the 20 % row stands for people the camera
serves badly: low light, low vision, motor impairments) visit up to 5 times a day for 30 days;
attackers whose presentation attacks pass with 0.5 %, 1 % or 3 % try five ways round the rules.
The model's assumptions are part of every answer (`ASSUMPTIONS`).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from statistics import mean

from shared.domain.gate import gate_of, resumed_state
from shared.domain.ip_policy import IpPolicy, IpState, record_failures, refuse_from_ip
from shared.domain.policy import (
    IssuedSession,
    LivenessDecision,
    Policy,
    Refusal,
    RefusalCode,
    SubjectState,
    SubjectStatus,
    record_decision,
    record_session,
    refuse_new_session,
)
from shared.domain.records import Subject

START = datetime(2026, 1, 5, tzinfo=UTC)  # a fixed Monday: the answer does not depend on today
DAYS = 30
HONEST_FAIL_RATES = (0.03, 0.10, 0.20)
HONEST_SPOOF_SHARE = 0.2  # of an honest person's failed checks, the share Face calls spoofface (the rest: uncertain)
ATTACK_PASS_RATES = (0.005, 0.01, 0.03)
HONEST_USERS = 200  # per population; figures are scaled to 10,000
ATTACKERS = 40  # per strategy and pass rate
MAX_ATTACK_ATTEMPTS = 600  # an attacker gives up after this many attempts (or 30 days)
TRIES_PER_VISIT = 3  # a person tries at most this many times in one visit, then leaves
ASSUMPTIONS = (
    f"{HONEST_USERS} honest people per population (figures scaled to 10,000), {ATTACKERS} attackers per row.",
    f"Honest people visit 0-5 times a day (uniform) between 08:00 and 22:00 for {DAYS} days; in a visit they "
    f"try until a realface, at most {TRIES_PER_VISIT} times, 40 s apart, and leave when refused.",
    f"An honest failed check is spoofface with probability {HONEST_SPOOF_SHARE:g}, otherwise uncertain.",
    "Each person has their own end-user address; the application sends it (the per-address rule applies).",
    "An attacker's presentation attack passes (realface) with the given probability, otherwise it is spoofface; "
    "attacks follow each other 30 s apart, and a refusal is waited out (Retry-After) unless the GUID is flagged.",
    "Stopped means flagged (a reviewer then sees the GUID); the run ends there. Timeouts and caps only slow "
    "an attacker down.",
    f"An attacker gives up after {MAX_ATTACK_ATTEMPTS} attempts or {DAYS} days; Face's own cross-GUID face "
    "matching (v1.3) and reviewers' decisions are not modelled.",
    "Every session carries FACE_CLIENT_ATTEMPTS attempts; all of a session's attempts are counted before the "
    "next session is decided (the app reads them from Face first).",
)


class Strategy(StrEnum):
    """How an attacker tries to get round the rules."""

    ONE_GUID = "one_guid"  # keeps one GUID and one address
    ROTATE_GUIDS = "rotate_guids"  # a new GUID every N sessions, N just under the spoof threshold; one address
    ROTATE_ADDRESSES = "rotate_addresses"  # a new GUID and a new address every N sessions
    PRE_ISSUE = "pre_issue"  # asks for as many sessions as it can before attempting on them
    ERASE_BETWEEN = "erase_between"  # withdraws consent and consents again after every attempt


@dataclass(frozen=True)
class LabSettings:
    """What the evaluation depends on: the thresholds, and what a session carries."""

    policy: Policy
    ip_policy: IpPolicy
    client_attempts: int = 1
    session_ttl: timedelta = timedelta(minutes=10)
    tombstone: timedelta = timedelta(days=180)

    def fingerprint(self) -> str:
        """A short hash of everything the answer depends on (the cache key)."""
        text = json.dumps([asdict(self.policy), asdict(self.ip_policy), self.client_attempts], default=str)
        return hashlib.sha256(f"{text}|{self.session_ttl}|{self.tombstone}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class HonestRow:
    fail_rate: float
    people: int
    timed_out_per_10000: int
    flagged_per_10000: int
    blocked_per_10000: int  # left a visit without a realface because a session was refused


@dataclass(frozen=True)
class AttackRow:
    strategy: Strategy
    pass_rate: float
    attackers: int
    attempts_before_first_refusal: float | None  # mean, over attackers ever refused
    attempts_before_flag: float | None  # mean, over attackers ever flagged
    never_flagged: float  # share of attackers never flagged within the horizon
    passes_before_stopped: float  # share of attackers whose attack passed before any flag


@dataclass(frozen=True)
class Evaluation:
    fingerprint: str
    seed: int
    assumptions: tuple[str, ...]
    honest: tuple[HonestRow, ...]
    attackers: tuple[AttackRow, ...]

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Subject:
    """One GUID as the simulation tracks it: its policy state, and the sessions it issued."""

    state: SubjectState = field(default_factory=SubjectState)
    issued: int = 0

    def session(self, now: datetime, lab: LabSettings) -> None:
        self.issued += 1
        at = IssuedSession(session_id=f"s{self.issued}", at=now, expires_at=now + lab.session_ttl)
        self.state = record_session(self.state, at, now, lab.policy)


@dataclass
class _Address:
    state: IpState = field(default_factory=IpState)
    failures: int = 0

    def failed(self, now: datetime, lab: LabSettings) -> None:
        self.failures += 1
        self.state = record_failures(self.state, [f"f{self.failures}"], now, lab.ip_policy)


def _refusal(subject: _Subject, address: _Address, now: datetime, lab: LabSettings) -> Refusal | None:
    return refuse_new_session(subject.state, now, lab.policy) or refuse_from_ip(address.state, now)


def _decide(subject: _Subject, address: _Address, decision: LivenessDecision, now: datetime, lab: LabSettings) -> None:
    subject.state = record_decision(subject.state, decision, now, now, lab.policy)
    if decision is not LivenessDecision.REALFACE:
        address.failed(now, lab)


# --- honest people ------------------------------------------------------------------------------
def _honest_person(rng: random.Random, fail_rate: float, lab: LabSettings) -> tuple[bool, bool, bool]:
    """(timed out, flagged, blocked) over the horizon for one person."""
    subject, address = _Subject(), _Address()
    timed_out = blocked = False
    for day in range(DAYS):
        visits = sorted(rng.uniform(8 * 3600, 22 * 3600) for _ in range(rng.randint(0, 5)))
        for second in visits:
            now = START + timedelta(days=day, seconds=second)
            outcome = _honest_visit(rng, subject, address, fail_rate, now, lab)
            timed_out |= subject.state.timed_out_until is not None or bool(subject.state.timeouts)
            blocked |= outcome == "refused"
            if subject.state.status is not SubjectStatus.ACTIVE:
                return timed_out, True, True  # flagged: sessions refused until a reviewer decides
    return timed_out, False, blocked


def _honest_visit(
    rng: random.Random, subject: _Subject, address: _Address, fail_rate: float, now: datetime, lab: LabSettings
) -> str:
    for _ in range(TRIES_PER_VISIT):
        if _refusal(subject, address, now, lab) is not None:
            return "refused"
        subject.session(now, lab)
        for _ in range(lab.client_attempts):
            if rng.random() >= fail_rate:
                _decide(subject, address, LivenessDecision.REALFACE, now, lab)
                return "passed"
            spoof = rng.random() < HONEST_SPOOF_SHARE
            _decide(subject, address, LivenessDecision.SPOOFFACE if spoof else LivenessDecision.UNCERTAIN, now, lab)
            if subject.state.status is not SubjectStatus.ACTIVE:
                return "flagged"
            now += timedelta(seconds=40)
    return "gave_up"


def honest_row(fail_rate: float, lab: LabSettings, seed: int) -> HonestRow:
    rng = random.Random(f"{seed}|honest|{fail_rate}")
    outcomes = [_honest_person(rng, fail_rate, lab) for _ in range(HONEST_USERS)]
    per = 10_000 / HONEST_USERS
    return HonestRow(
        fail_rate=fail_rate,
        people=HONEST_USERS,
        timed_out_per_10000=round(per * sum(o[0] for o in outcomes)),
        flagged_per_10000=round(per * sum(o[1] for o in outcomes)),
        blocked_per_10000=round(per * sum(o[2] for o in outcomes)),
    )


# --- attackers ------------------------------------------------------------------------------------
@dataclass
class _Attack:
    """One attacker's run: where it is, what happened."""

    rng: random.Random
    lab: LabSettings
    strategy: Strategy
    pass_rate: float
    now: datetime = START
    subject: _Subject = field(default_factory=_Subject)
    address: _Address = field(default_factory=_Address)
    attempts: int = 0
    first_refusal: int | None = None
    flagged_at: int | None = None
    passed: bool = False
    sessions_on_guid: int = 0

    @property
    def rotate_every(self) -> int:
        return max(1, self.lab.policy.spoofs_to_flag - 1)

    def over(self) -> bool:
        """The attack passed, was stopped (flagged), or the attacker gave up."""
        stopped = self.flagged_at is not None
        return (
            self.passed or stopped or self.attempts >= MAX_ATTACK_ATTEMPTS or self.now >= START + timedelta(days=DAYS)
        )

    def attempt(self) -> None:
        """One presentation attack."""
        self.attempts += 1
        passed = self.rng.random() < self.pass_rate
        _decide(
            self.subject,
            self.address,
            LivenessDecision.REALFACE if passed else LivenessDecision.SPOOFFACE,
            self.now,
            self.lab,
        )
        self.passed = passed
        if self.subject.state.status is not SubjectStatus.ACTIVE and self.flagged_at is None:
            self.flagged_at = self.attempts
        self.now += timedelta(seconds=30)

    def refused(self, refusal: Refusal) -> bool:
        """Note a refusal and wait it out; False when this GUID is done for (flagged)."""
        if self.first_refusal is None:
            self.first_refusal = self.attempts
        if refusal.code is RefusalCode.CORRELATION_ID_BLOCKED:
            self.flagged_at = self.attempts if self.flagged_at is None else self.flagged_at
            return False
        self.now += timedelta(seconds=(refusal.retry_after_seconds or 60) + 1)
        return True

    def new_guid(self, new_address: bool = False) -> None:
        self.subject, self.sessions_on_guid = _Subject(), 0
        if new_address:
            self.address = _Address()


def _session(run: _Attack) -> bool:
    """Ask for one session on the current GUID; False when refused."""
    refusal = _refusal(run.subject, run.address, run.now, run.lab)
    if refusal is not None:
        run.refused(refusal)
        return False
    run.subject.session(run.now, run.lab)
    run.sessions_on_guid += 1
    return True


def _attack_round(run: _Attack) -> None:
    """One round of the attacker's strategy."""
    if run.strategy is Strategy.PRE_ISSUE:
        usable = 0
        while usable < run.lab.policy.open_sessions + 1 and _session(run):  # the oldest beyond the bound is revoked
            usable += 1
        for _ in range(min(usable, run.lab.policy.open_sessions) * run.lab.client_attempts):
            if run.over() or run.subject.state.status is not SubjectStatus.ACTIVE:
                break  # a flag revokes every open session
            run.attempt()
        return
    if not _session(run):
        return
    for _ in range(run.lab.client_attempts):
        if run.over() or run.subject.state.status is not SubjectStatus.ACTIVE:
            break
        run.attempt()
    if run.subject.state.status is not SubjectStatus.ACTIVE:
        return  # flagged: stopped
    if run.strategy is Strategy.ERASE_BETWEEN:
        _erase_and_consent(run)
    elif (
        run.strategy in (Strategy.ROTATE_GUIDS, Strategy.ROTATE_ADDRESSES) and run.sessions_on_guid >= run.rotate_every
    ):
        run.new_guid(run.strategy is Strategy.ROTATE_ADDRESSES)


def _erase_and_consent(run: _Attack) -> None:
    """Erasure leaves the gate its counts still need; consenting again resumes them."""
    subject = Subject(
        customer_id="c",
        correlation_id="g",
        consent_policy_version="v1",
        consent_granted_at=START,
        created_at=START,
        last_activity_at=run.now,
        state=run.subject.state,
    )
    gate = gate_of(subject, "erased-g", run.now, run.lab.tombstone, run.lab.policy)
    resumed = resumed_state(gate, run.now)
    run.subject = _Subject(state=resumed if resumed is not None else SubjectState(), issued=run.subject.issued)


def attack_row(strategy: Strategy, pass_rate: float, lab: LabSettings, seed: int) -> AttackRow:
    rng = random.Random(f"{seed}|attack|{strategy.value}|{pass_rate}")
    runs = []
    for _ in range(ATTACKERS):
        run = _Attack(rng, lab, strategy, pass_rate)
        while not run.over():
            _attack_round(run)
        runs.append(run)
    refused = [r.first_refusal if r.first_refusal is not None else r.flagged_at for r in runs]
    refused = [n for n in refused if n is not None]  # a flag refuses the next session: a first refusal too
    flagged = [r.flagged_at for r in runs if r.flagged_at is not None]
    stopped_first = sum(r.passed and (r.flagged_at is None or r.attempts <= r.flagged_at) for r in runs)
    return AttackRow(
        strategy=strategy,
        pass_rate=pass_rate,
        attackers=ATTACKERS,
        attempts_before_first_refusal=round(mean(refused), 1) if refused else None,
        attempts_before_flag=round(mean(flagged), 1) if flagged else None,
        never_flagged=round(1 - len(flagged) / ATTACKERS, 3),
        passes_before_stopped=round(stopped_first / ATTACKERS, 3),
    )


def evaluate(lab: LabSettings, seed: int = 1) -> Evaluation:
    """The whole evaluation for one set of settings (deterministic for a seed)."""
    honest = tuple(honest_row(rate, lab, seed) for rate in HONEST_FAIL_RATES)
    attacks = tuple(attack_row(s, rate, lab, seed) for s in Strategy for rate in ATTACK_PASS_RATES)
    return Evaluation(lab.fingerprint(), seed, ASSUMPTIONS, honest, attacks)


def rows(evaluation: Evaluation) -> Iterator[list[str]]:
    """The evaluation as table rows (header first), for the CLI, the docs and the console."""
    yield ["population", "rate", "timed out /10k", "flagged /10k", "blocked /10k"]
    for h in evaluation.honest:
        yield [
            "honest",
            f"{h.fail_rate:.0%} fail",
            str(h.timed_out_per_10000),
            str(h.flagged_per_10000),
            str(h.blocked_per_10000),
        ]
    yield ["attacker", "rate", "attempts to 1st refusal", "attempts to flag", "never flagged", "passes first"]
    show: Callable[[float | None], str] = lambda v: "—" if v is None else f"{v:g}"  # noqa: E731
    for a in evaluation.attackers:
        yield [
            a.strategy.value,
            f"{a.pass_rate:.1%} pass",
            show(a.attempts_before_first_refusal),
            show(a.attempts_before_flag),
            f"{a.never_flagged:.0%}",
            f"{a.passes_before_stopped:.0%}",
        ]
