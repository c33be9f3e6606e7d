"""What one retention sweep reads against what it deletes, with far more stored than due.

    python -m bench.sweep_scale [--not-due 100000] [--due 1000]

Stores `--not-due` rows that are not due (active subjects with sessions and attempts, each with
its retention check filed for later as the app files it; audit entries and feedback of recent
days) and `--due` rows that are (expired sessions, some never read to the end so the sweep settles
them with Face first; attempt decisions past 72 hours; idle subjects; old audit entries and
feedback), then runs one sweep with the clock moved on and counts, through the storage request
hook, every query that names no `PartitionKey` (a full-table scan on Azure). On Azurite a scan is
nearly free — it scans in memory — so the figures are counts, not times.
"""

from __future__ import annotations

import argparse
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from bench.figures import print_figures
from devtools.stack import Azurite, FaceEmulator
from shared.adapters.shards import day_partition
from shared.adapters.subject_rows import subject_partition
from shared.adapters.tables import MAX_BATCH, to_entity
from shared.domain.policy import SubjectState
from shared.domain.records import Session, Subject
from tests.support import FakeClock


class ScanCounter:
    """Counts storage requests, and the queries among them that name no PartitionKey."""

    def __init__(self) -> None:
        self.requests = 0
        self.scans: list[str] = []

    def __call__(self, request: Any) -> None:
        http = request.http_request
        self.requests += 1
        query = parse_qs(urlparse(http.url).query)
        text = (query.get("$filter") or [""])[0]
        if http.method == "GET" and "$filter" in query and "PartitionKey" not in text:
            self.scans.append(text[:80])


def _subject(customer: str, guid: str, at: datetime, **changes: Any) -> Subject:
    return Subject(
        customer_id=customer,
        correlation_id=guid,
        consent_policy_version="v1",
        consent_granted_at=at,
        created_at=at,
        last_activity_at=at,
        state=SubjectState(),
        **changes,
    )


def _session(pk: str, expires_at: datetime, settled: bool) -> dict[str, Any]:
    customer, guid = pk.split("_", 1)
    session = Session(
        session_id=str(uuid.uuid4()),
        customer_id=customer,
        correlation_id=guid,
        token_hash="0" * 64,
        sealed_face_token="not-a-real-token",  # noqa: S106 - a seeded row; never opened
        operation_mode="Passive",
        created_at=expires_at - timedelta(minutes=5),
        expires_at=expires_at,
        calls_allowed=3,
        settled=settled,
        face_deleted=settled,
    )
    return to_entity(session, pk, f"session_{session.session_id}")


def _attempt(pk: str, recorded_at: datetime) -> dict[str, Any]:
    return {"PartitionKey": pk, "RowKey": f"attempt_{uuid.uuid4()}_000001", "recorded_at": recorded_at}


def seed(services: Any, now: datetime, not_due: int, due: int) -> dict[str, int]:
    """Write the rows (with their checks filed as the app files them); returns the due rows by kind."""
    policy = services.retention.policy
    subjects, expiry = services.tables.client("subjects"), services.retention.expiry
    customer = uuid.uuid4().hex

    def partition(rows: list[dict[str, Any]], check_at: datetime) -> None:
        expiry.schedule("subjects", rows[0]["PartitionKey"], check_at)
        for start in range(0, len(rows), MAX_BATCH):
            subjects.submit_transaction([("upsert", r) for r in rows[start : start + MAX_BATCH]])

    def subject_row(guid: str, at: datetime, **changes: Any) -> dict[str, Any]:
        subject = _subject(customer, guid, at, **changes)
        return to_entity(subject, subject_partition(customer, guid), "subject")

    # not due: active subjects seen an hour ago (20 rows each), recent audit entries and feedback
    per_subject, kept = 20, 0
    stored = {"subjects": 0, "audit": 0, "feedback": 0}
    recent = now - timedelta(minutes=30)
    while kept + per_subject <= not_due * 8 // 10:
        guid = str(uuid.uuid4())
        pk = subject_partition(customer, guid)
        hours = (recent,)
        rows = [subject_row(guid, recent, attempt_hours=hours)]
        rows += [_session(pk, recent + timedelta(minutes=5), True) for _ in range(4)]
        rows += [_attempt(pk, recent) for _ in range(per_subject - 5)]
        partition(rows, recent + timedelta(minutes=5) + policy.session_grace)
        kept += len(rows)
    stored["subjects"] = kept
    for table, column in (("audit", "at"), ("feedback", "created_at")):
        stored[table] = _day_rows(services, table, column, now - timedelta(days=3), (not_due - kept) // 2)

    # due: expired sessions (a third never read to the end), attempts past their time, idle subjects,
    # old audit entries and feedback
    counts = {"sessions": due * 3 // 10, "attempts": due * 4 // 10, "idleSubjects": due // 20}
    counts["audit"] = counts["feedback"] = (due - sum(counts.values())) // 2
    long_ago = now - policy.attempts - timedelta(hours=2)
    for i in range(counts["sessions"]):
        guid = str(uuid.uuid4())
        pk = subject_partition(customer, guid)
        expired = now - policy.session_grace - timedelta(minutes=90)  # its check's hour has come
        partition(
            [subject_row(guid, expired), _session(pk, expired, settled=i % 3 != 0)], expired + policy.session_grace
        )
    for _ in range(counts["attempts"] // 2):
        guid = str(uuid.uuid4())
        pk = subject_partition(customer, guid)
        rows = [subject_row(guid, now, attempt_hours=(long_ago,)), _attempt(pk, long_ago), _attempt(pk, long_ago)]
        partition(rows, long_ago + policy.attempts)
    counts["attempts"] = counts["attempts"] // 2 * 2
    for _ in range(counts["idleSubjects"]):
        idle = now - policy.idle_subject - timedelta(hours=1)
        partition([subject_row(str(uuid.uuid4()), idle)], idle + policy.idle_subject)
    _day_rows(services, "audit", "at", now - policy.audit - timedelta(days=2), counts["audit"])
    _day_rows(services, "feedback", "created_at", now - policy.feedback - timedelta(days=2), counts["feedback"])
    return counts


def _day_rows(services: Any, table: str, column: str, start: datetime, n: int) -> int:
    client = services.tables.client(table)
    by_partition: dict[str, list[dict[str, Any]]] = {}
    for i in range(n):
        at = start + timedelta(seconds=i * 7)
        row_id = uuid.uuid4().hex
        pk = day_partition(at, row_id)
        by_partition.setdefault(pk, []).append({"PartitionKey": pk, "RowKey": f"{at.isoformat()}_{row_id}", column: at})
    for rows in by_partition.values():
        for start_at in range(0, len(rows), MAX_BATCH):
            client.submit_transaction([("upsert", r) for r in rows[start_at : start_at + MAX_BATCH]])
    return n


def measure(not_due: int, due: int) -> dict[str, float]:
    azurite, face = Azurite().start(), FaceEmulator().start()
    try:
        os.environ.update(
            {
                "AzureWebJobsStorage": azurite.connection_string,
                "FACE_ENDPOINT": face.endpoint,
                "FACE_API_KEY": face.key,
                "EMAIL_SENDER_ADDRESS": "DoNotReply@bench.test",
                "ACS_CONNECTION_STRING": "endpoint=https://127.0.0.1:9/;accesskey=YmVuY2g=",
                "SESSION_SEALING_KEY": "bench-only-sealing-key-0123456789abcdef",
                "TABLE_NAME_PREFIX": "w" + uuid.uuid4().hex[:10],
            }
        )
        from shared.bootstrap import build
        from shared.settings import load_settings

        counter = ScanCounter()
        clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
        services = build(load_settings(), clock, counter)
        services.retention.run()  # the one-time backfill of an empty deployment, before anything is stored
        expected = seed(services, clock(), not_due, due)
        face_calls = _count_face_calls(services)
        counter.scans.clear()
        counter.requests = 0
        counts = services.retention.run()
        tally = services.retention.last
        data_deleted = sum(counts.get(kind, 0) for kind in expected)
        entries = counts.get("checks", 0)
        deleted = data_deleted + entries
        missing = {kind: n for kind, n in expected.items() if counts.get(kind, 0) != n}
        return {
            "rows_not_due": not_due,
            "rows_due": sum(expected.values()),
            "rows_deleted": data_deleted,
            "index_entries_handled": entries,
            "rows_read": tally.rows_read,
            "read_ratio": round(tally.rows_read / max(1, deleted), 3),
            "data_read_ratio": round((tally.rows_read - entries) / max(1, data_deleted), 3),
            "full_table_scans": len(counter.scans),
            "storage_requests": counter.requests,
            "face_calls": face_calls["n"],
            "kinds_not_fully_deleted": len(missing),
            **{f"deleted_{k}": counts.get(k, 0) for k in expected},
            "failed_checks": counts.get("failedChecks", 0),
        }
    finally:
        face.stop()
        azurite.stop()


def _count_face_calls(services: Any) -> dict[str, int]:
    """Count the sweep's calls to Face (settling a session reads its result, then deletes it)."""
    calls = {"n": 0}
    face = services.sessions.face
    for name in ("get_session", "delete_session"):
        original = getattr(face, name, None)
        if original is None:
            continue

        def counted(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            calls["n"] += 1
            return _original(*args, **kwargs)

        setattr(face, name, counted)
    return calls


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--not-due", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    args = parser.parse_args(argv)
    figures = measure(args.not_due, args.due)
    print(f"stored not due: {figures['rows_not_due']}, due: {figures['rows_due']}")
    print(f"deleted: {figures['rows_deleted']} rows and {figures['index_entries_handled']} index entries")
    ratios = f"read ratio {figures['read_ratio']}, data rows only {figures['data_read_ratio']}"
    print(f"rows read: {figures['rows_read']} ({ratios})")
    print(f"full-table scans: {figures['full_table_scans']}, storage requests: {figures['storage_requests']}")
    print(f"Face calls while settling sessions: {figures['face_calls']}")
    print_figures("sweep_scale", figures)


if __name__ == "__main__":
    main()
