"""Storage round trips per operation, counted at the HTTP transport by an azure-core policy.

    python -m bench.round_trips

The floor is one read plus one entity-group transaction per subject change; everything above it
is listed and explained.
"""

from __future__ import annotations

from bench.figures import print_figures
from bench.harness import ADMIN_KEY, running_app

EXPLAIN = {
    "POST /sessions (first of a visit)": "at the floor: the consent just before filed the subject's first retention"
    " check for when this session falls due, so the session files none (the sweep then reads that partition"
    " when it falls due, not whole tables).",
    "POST /sessions (first of a later visit)": "1 above the floor: the consent's check has fallen due, so the"
    " visit's first session files its own ahead; later sessions of the visit are covered by the same check.",
    "POST /sessions (later visit, other instance)": "2 above the floor: the check filed ahead as on the instance"
    " that recorded the consent, and the subject's name row written again, because an instance remembers"
    " only the name rows it wrote itself.",
    "POST /sessions (same instance)": "1 below the floor: the instance that wrote the subject's rows knows them"
    " (ETags from its own writes) and skips the read; the transaction is still guarded by the subject's ETag,"
    " so a change made anywhere else meanwhile sends the request back to a fresh read.",
    "POST /sessions": "at the floor once the customer row is cached (CUSTOMER_CACHE_SECONDS; the first call of an"
    " instance reads it); on Face v1.3 one more: the facesessions owner row, so a reviewer can resolve the"
    " sessions Face flags alongside.",
    "GET /sessions/{id}/result (new attempt)": "at the floor: one query returns subject and session rows together.",
    "GET /sessions/{id}/result (attempt that flags)": "7 above: the review-index row written ahead of the flag,"
    " the `subject.flagged` webhook event queued and its outbox row dropped (committed with the flag), the"
    " flag counted for the review overview (one blind upsert into `reviewstats`); then the revocation: one"
    " read of the subject's sessions, one transaction marking them revoked, and the `face_deleted` merge"
    " once Face deleted the session (Face calls: listed separately).",
    "GET /sessions/{id}/result (attempt that flags, another session open)": "the same plus one `face_deleted`"
    " merge for the other open session (revoked in the same transaction); at Face one more read (its"
    " attempts counted first) and one more delete.",
    "POST /sessions (replacing an open session)": "the steady figure plus one: the older session, read"
    " at Face and revoked in the new session's transaction, is noted `face_deleted` once Face deleted it.",
    "POST .../decision (confirm)": (
        "4 above, each so that nothing is lost or double-sent: the review-index row written ahead (1; the "
        "old one is dropped by the next listing), the audit entry written to the log (1), the queue send (1), "
        "and one transaction removing the outbox row and the logged audit row (1). Escalation (the customer "
        "read and ETag update) runs in the queue consumer, which counts each confirmation once."
    ),
}


def measure() -> dict[str, list[str]]:
    """The storage calls each operation made."""
    face_calls: list[str] = []
    with running_app(POLICY_OPEN_SESSIONS="2") as bench:  # so the flagging subject can hold a second session
        _count_face_calls(face_calls)
        key = bench.customer()
        guid = bench.consented(key)
        bench.counter.take()
        created = bench.api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": key})
        counts = {"POST /sessions (first of a visit)": bench.counter.take()}
        session = created.json
        other = bench.api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": key}).json
        assert other.get("sessionId"), other
        counts["POST /sessions"] = _steady_session(bench, key)
        counts["POST /sessions (same instance)"] = _same_instance_session(bench, key)
        token = {"Authorization": f"Bearer {session['sessionToken']}"}
        _attempt(bench, session, "spoofface")
        bench.counter.take()
        bench.api.get(f"/api/v1/sessions/{session['sessionId']}/result", headers=token)
        counts["GET /sessions/{id}/result (new attempt)"] = bench.counter.take()
        _attempt(bench, session, "spoofface")
        bench.api.get(f"/api/v1/sessions/{session['sessionId']}/result", headers=token)
        _attempt(bench, session, "spoofface")
        bench.counter.take()
        face_calls.clear()
        bench.api.get(f"/api/v1/sessions/{session['sessionId']}/result", headers=token)
        counts["GET /sessions/{id}/result (attempt that flags, another session open)"] = bench.counter.take()
        counts["Face calls of that flagging result"] = list(face_calls)
        counts["GET /sessions/{id}/result (attempt that flags)"] = _flag_alone(bench, key)
        counts["POST /sessions (replacing an open session)"] = _replacing_session(bench, key)
        customer_id = session["sessionToken"].split(".")[1]
        bench.counter.take()
        face_calls.clear()
        bench.api.post(
            f"/api/v1/review/subjects/{customer_id}/{guid}/decision",
            json={"decision": "confirm", "reason": "bench", "guidelineId": "repeated-spoof"},
            headers={"x-admin-key": ADMIN_KEY},
        )
        counts["POST .../decision (confirm)"] = bench.counter.take()
        counts["Face calls of that confirmation"] = list(face_calls)
        later = _later_visit_sessions(bench, key)
        counts["POST /sessions (first of a later visit)"], counts["POST /sessions (later visit, other instance)"] = (
            later
        )
        return counts


def _count_face_calls(calls: list[str]) -> None:
    """Record each Face call the app makes (the revocation's reads and deletes are Face calls, not storage)."""
    from shared.bootstrap import services

    face = services().sessions.face
    for name in ("create_session", "get_session", "delete_session"):
        method = getattr(face, name)

        def counted(*args, _method=method, _name=name, **kwargs):
            calls.append(_name)
            return _method(*args, **kwargs)

        setattr(face, name, counted)


def _flag_alone(bench, key: str) -> list[str]:
    """The flagging result of a subject holding no other open session."""
    guid = bench.consented(key)
    session = bench.api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": key}).json
    token = {"Authorization": f"Bearer {session['sessionToken']}"}
    for _ in range(2):
        _attempt(bench, session, "spoofface")
        bench.api.get(f"/api/v1/sessions/{session['sessionId']}/result", headers=token)
    _attempt(bench, session, "spoofface")
    bench.counter.take()
    bench.api.get(f"/api/v1/sessions/{session['sessionId']}/result", headers=token)
    return bench.counter.take()


def _replacing_session(bench, key: str) -> list[str]:
    """A session request while the subject's previous session is still open (its limit reached)."""
    guid = bench.consented(key)
    for _ in range(2):
        bench.api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": key})
    from shared.bootstrap import services

    services().sessions.subjects.forget_recent()
    bench.counter.take()
    again = bench.api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": key})
    assert again.status == 201, again.json
    return bench.counter.take()


def _steady_session(bench, key: str) -> list[str]:
    """The storage calls of a session request in the middle of a visit: another end user checked
    once (read to the end) and asks for a retry."""
    guid = bench.consented(key)
    first = bench.api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": key}).json
    _attempt(bench, first, "realface")
    bench.api.get(
        f"/api/v1/sessions/{first['sessionId']}/result", headers={"Authorization": f"Bearer {first['sessionToken']}"}
    )
    from shared.bootstrap import services

    services().sessions.subjects.forget_recent()  # lands on another instance: it reads the subject
    bench.counter.take()
    again = bench.api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": key})
    assert again.status == 201, again.json
    return bench.counter.take()


def _same_instance_session(bench, key: str) -> list[str]:
    """The same, landing on the instance that served the visit's last request: it knows the rows it
    wrote (their ETags came back from its own writes) and skips the read; the write stays guarded."""
    guid = bench.consented(key)
    first = bench.api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": key}).json
    _attempt(bench, first, "realface")
    bench.api.get(
        f"/api/v1/sessions/{first['sessionId']}/result", headers={"Authorization": f"Bearer {first['sessionToken']}"}
    )
    bench.counter.take()
    again = bench.api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": key})
    assert again.status == 201, again.json
    return bench.counter.take()


def _later_visit_sessions(bench, key: str) -> tuple[list[str], list[str]]:
    """The first session of a visit hours after the consent, whose check has fallen due: on the
    instance that recorded the consent (its clock moved three hours on), and on a fresh one (the
    services rebuilt). The customer row is read once before counting."""
    from datetime import timedelta

    from shared import bootstrap
    from shared.domain.clock import utcnow

    offset = [timedelta(0)]
    bootstrap.reset(lambda: utcnow() + offset[0], storage_hook=bench.counter)
    try:
        same, other = bench.consented(key), bench.consented(key)
        offset[0] = timedelta(hours=3)
        counted = []
        for guid in (same, other):
            warm = bench.api.post(
                "/api/v1/sessions", json={"correlationId": bench.consented(key)}, headers={"x-api-key": key}
            )
            assert warm.status == 201, warm.json
            bench.counter.take()
            later = bench.api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": key})
            assert later.status == 201, later.json
            counted.append(bench.counter.take())
            bootstrap.reset(lambda: utcnow() + timedelta(hours=3), storage_hook=bench.counter)  # another instance
        return counted[0], counted[1]
    finally:
        bootstrap.reset(storage_hook=bench.counter)


def _attempt(bench, session: dict, decision: str) -> None:
    import requests

    requests.post(
        f"{bench.face.endpoint}/face/v1.2/detectLiveness-sessions/{session['sessionId']}/attempts",
        json={"livenessDecision": decision},
        headers={"Authorization": f"Bearer {session['faceAuthToken']}"},
        timeout=10,
    )


def main(argv: list[str] | None = None) -> dict[str, list[str]]:
    counts = measure()
    for operation, calls in counts.items():
        if operation.startswith("Face calls"):
            print(f"{operation}: {len(calls)} ({', '.join(calls)})")
            continue
        print(f"{operation}: {len(calls)} storage round trips (floor 2)")
        for call in calls:
            print(f"    {call}")
        print(f"    -> {EXPLAIN[operation]}")
    figures = {
        "post_sessions_round_trips": len(counts["POST /sessions"]),
        "post_sessions_first_of_visit_round_trips": len(counts["POST /sessions (first of a visit)"]),
        "post_sessions_later_visit_round_trips": len(counts["POST /sessions (first of a later visit)"]),
        "post_sessions_later_visit_other_instance_round_trips": len(
            counts["POST /sessions (later visit, other instance)"]
        ),
        "post_sessions_same_instance_round_trips": len(counts["POST /sessions (same instance)"]),
        "result_round_trips": len(counts["GET /sessions/{id}/result (new attempt)"]),
        "confirm_round_trips": len(counts["POST .../decision (confirm)"]),
        "flagging_result_round_trips": len(counts["GET /sessions/{id}/result (attempt that flags)"]),
        "flagging_result_other_open_round_trips": len(
            counts["GET /sessions/{id}/result (attempt that flags, another session open)"]
        ),
        "flagging_result_face_calls": len(counts["Face calls of that flagging result"]),
        "confirm_face_calls": len(counts["Face calls of that confirmation"]),
        "post_sessions_replacing_round_trips": len(counts["POST /sessions (replacing an open session)"]),
    }
    print_figures("round_trips", figures)
    return counts


if __name__ == "__main__":
    main()
