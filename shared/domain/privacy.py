"""The privacy notice, built from the live retention settings (GET /privacy)."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any


def describe(period: timedelta) -> str:
    """A retention period in words: '72 hours', '30 days', '1 hour' (days from four days up)."""
    seconds = int(period.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= max(size, 4 * 86400 if unit == "day" else size) and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


WHO_CAN_SEE = [
    "The application that asked for your liveness check sees the results of its own checks only.",
    "Trained reviewers see the decisions and counters of a correlation ID flagged for possible abuse, "
    "and decide on it; no automated decision blocks you for good without a person reviewing it.",
    "Administrators of Liveness Guard see the same, to operate the service.",
]
YOUR_CHOICES = {
    "erasure": "Ask the application you used to withdraw your consent: it calls "
    "DELETE /api/v1/subjects/{correlationId} and your data is erased at once, and every open liveness "
    "session of it is ended. What stays is only what fraud prevention needs, under a keyed hash, never the "
    "ID: the abuse gate of a flagged, blocked or retired ID until its period ends, and the times the abuse "
    "policy still counts until its window ends, so erasure cannot be used to escape a block or reset the "
    "limits.",
    "access": "Ask the application you used what is held about you: it calls "
    "GET /api/v1/subjects/{correlationId} and receives everything listed above for your correlation ID "
    "(consent, the sessions and attempt decisions still kept, counters, reviewers' decisions and their "
    "reasons, linked IDs).",
    "feedback": "Report a false rejection, an accessibility barrier or a privacy concern with "
    "POST /api/v1/feedback (no account needed).",
    "appeal": "If your correlation ID was blocked and you think wrongly, ask the application you used to "
    "appeal: it reports a false rejection naming your correlation ID with its own key, and a person at "
    "Liveness Guard reviews the block again (the same service level as any flag). They either lift it (you get a "
    "new correlation ID) or keep it and say why, and the application can tell you that reason.",
}


def notice(retention: Any, call_budget: int, session_ttl: timedelta, counts_for: timedelta) -> dict[str, Any]:
    """What is stored, for how long, who can see it, and how to ask for erasure or give feedback.
    `counts_for`: the longest window of the abuse policy (how long an erased ID's counts are kept)."""
    return {
        "service": "Liveness Guard",
        "summary": (
            "Liveness Guard checks that a real person is present during a liveness check, on behalf of the "
            "application you are using. It never stores face images."
        ),
        "stored": _about_the_id(retention, call_budget, session_ttl, counts_for) + _around_the_id(retention),
        "whoCanSee": WHO_CAN_SEE,
        "yourChoices": YOUR_CHOICES,
        "retentionSeconds": {
            "sessionGraceAfterExpiry": int(retention.session_grace.total_seconds()),
            "attemptDecisions": int(retention.attempts.total_seconds()),
            "activeSubjectCounters": int(retention.idle_subject.total_seconds()),
            "tombstones": int(retention.tombstone.total_seconds()),
            "auditLog": int(retention.audit.total_seconds()),
            "feedback": int(retention.feedback.total_seconds()),
        },
    }


def _about_the_id(retention: Any, call_budget: int, session_ttl: timedelta, counts_for: timedelta) -> list[dict]:
    """What is stored about a correlation ID itself, and what erasure leaves of it."""
    return [
        {
            "data": "Consent record",
            "detail": "the temporary correlation ID your application assigned, the privacy policy version you "
            "accepted and when",
            "keptFor": f"until {describe(retention.idle_subject)} after the last activity, or until erasure",
        },
        {
            "data": "Liveness sessions and session tokens",
            "detail": f"session id, expiry, a hash of the session token ({call_budget} calls, valid "
            f"{describe(session_ttl)})",
            "keptFor": f"until the session expires plus {describe(retention.session_grace)}",
        },
        {
            "data": "Liveness decisions (realface, spoofface or uncertain) per attempt",
            "detail": "the decision and when it was recorded; no images, no biometric templates",
            "keptFor": f"{describe(retention.attempts)}, or until a pending human review is decided",
        },
        {
            "data": "Abuse counters of an active correlation ID",
            "detail": "counts and times of failed checks, timeouts and sessions",
            "keptFor": f"{describe(retention.idle_subject)} after the last activity",
        },
        {
            "data": "Blocked or retired correlation ID (tombstone)",
            "detail": "the correlation ID, its status and dates; no attempt history",
            "keptFor": describe(retention.tombstone),
        },
        {
            "data": "Abuse gate of an erased correlation ID",
            "detail": "kept when a flagged, blocked or retired correlation ID is erased: a keyed hash of it "
            "(never the ID itself), its status and until when it holds, so consenting again does not lift the "
            "block before a reviewer decides",
            "keptFor": f"{describe(retention.tombstone)} after the flag or decision",
        },
        {
            "data": "Abuse counts of an erased correlation ID (fraud prevention)",
            "detail": "kept when any correlation ID is erased while the abuse policy still counts something of "
            "it: a keyed hash of it (never the ID itself) and only the times of its failed checks, spoofface "
            "decisions, timeouts and sessions, so erasing and consenting again resumes the same counts instead "
            "of resetting them; nothing else of the erased ID",
            "keptFor": f"until the policy's longest counting window ends, at most {describe(counts_for)} after "
            "the last counted event",
        },
    ]


def _around_the_id(retention: Any) -> list[dict]:
    """What is stored beside it: addresses, Face's side, the audit log, feedback."""
    return [
        {
            "data": "Failed checks per end-user address",
            "detail": "only when the application sends your IP address: a keyed hash of it (IPv6 by its /64, never "
            "the address itself), the times of failed checks and the sessions still open, so one person "
            "switching correlation IDs is still limited",
            "keptFor": "the counting window or timeout plus one day",
        },
        {
            "data": "Which correlation ID each liveness session belongs to",
            "detail": "session id, correlation ID and when; only when the Face service's own abuse monitoring "
            "is in use, so a reviewer can see which of the application's correlation IDs the same face was seen "
            "under; removed at erasure",
            "keptFor": describe(retention.attempts),
        },
        {
            "data": "At the Face service (Microsoft Azure AI Face): the liveness session",
            "detail": "the session, its attempts and results, and with abuse monitoring a face template to "
            "recognise the same face under other correlation IDs; Face keeps it at most 48 hours by itself",
            "keptFor": "deleted by Liveness Guard as soon as the result is final and recorded, or when the "
            f"session expires plus {describe(retention.session_grace)}, and at erasure",
        },
        {
            "data": "Audit log",
            "detail": "who decided what and when; correlation IDs appear only as keyed pseudonyms",
            "keptFor": describe(retention.audit),
        },
        {
            "data": "Feedback you send",
            "detail": "category, message, and the correlation ID and contact only if you give them",
            "keptFor": describe(retention.feedback),
        },
    ]


def render_html(data: dict[str, Any]) -> str:
    """An accessible HTML page of the notice (semantic headings, a captioned table, no scripts)."""
    e = html.escape
    rows = "".join(
        f'<tr><th scope="row">{e(item["data"])}</th><td>{e(item["detail"])}</td><td>{e(item["keptFor"])}</td></tr>'
        for item in data["stored"]
    )
    who = "".join(f"<li>{e(line)}</li>" for line in data["whoCanSee"])
    choices = data["yourChoices"]
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Privacy notice — {e(data["service"])}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
line-height:1.5;color:#111}} table{{border-collapse:collapse;width:100%}}
th,td{{border:1px solid #555;padding:.5rem;text-align:left;vertical-align:top}}
caption{{text-align:left;font-weight:bold;padding:.5rem 0}}</style></head>
<body><main>
<h1>Privacy notice — {e(data["service"])}</h1>
<p>{e(data["summary"])}</p>
<h2 id="stored">What is stored and for how long</h2>
<table aria-describedby="stored"><caption>Data kept by Liveness Guard</caption>
<thead><tr><th scope="col">Data</th><th scope="col">What exactly</th><th scope="col">Kept for</th></tr></thead>
<tbody>{rows}</tbody></table>
<h2>Who can see it</h2><ul>{who}</ul>
<h2>Your choices</h2>
<h3>Access</h3><p>{e(choices["access"])}</p>
<h3>Erasure</h3><p>{e(choices["erasure"])}</p>
<h3>Feedback</h3><p>{e(choices["feedback"])}</p>
</main></body></html>"""
