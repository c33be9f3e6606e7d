"""Telemetry (docs/operations.md) captured with in-memory exporters over a whole scenario: a span per
invocation with storage, Face and email dependencies, the named counters moved by the right
amounts, and no token, key, raw GUID or IP in any span, metric dimension or log line."""

from __future__ import annotations

import json
import re

import azure.functions as func
import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from devtools.inprocess import ApiClient
from devtools.localhost.context import LocalContext
from shared import telemetry
from shared.blueprints import blueprints
from tests.conftest import ADMIN_KEY
from tests.integration.helpers import (
    ADMIN,
    checked_attempt,
    consented_subject,
    face_faults,
    new_customer,
    new_session,
    queued_notifications,
    review_decision,
)

END_USER_IP = "203.0.113.77"
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")


class Gate:
    """Exports only while this module's tests run (the providers stay installed for the process)."""

    active = False


class GatedSpans(SimpleSpanProcessor):
    def on_end(self, span):
        if Gate.active:
            super().on_end(span)


class GatedLogs(SimpleLogRecordProcessor):
    def on_emit(self, *args, **kwargs):
        if Gate.active:
            super().on_emit(*args, **kwargs)


@pytest.fixture(scope="session")
def providers():
    """In-memory exporters behind the app's own telemetry set-up (redactor first), installed once:
    OpenTelemetry's providers can be set once per process."""
    spans, logs, reader = InMemorySpanExporter(), InMemoryLogRecordExporter(), InMemoryMetricReader()
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(GatedLogs(logs))
    telemetry.install(
        telemetry.tracer_provider(GatedSpans(spans)), MeterProvider(metric_readers=[reader]), logger_provider
    )
    return spans, logs, reader


@pytest.fixture(scope="module")
def captured(providers):
    """The exporters, recording while this module runs (once per Face version)."""
    from azure.core.settings import settings

    Gate.active, settings.tracing_implementation = True, "opentelemetry"
    yield providers
    Gate.active, settings.tracing_implementation = False, None
    providers[0].clear()
    providers[1].clear()


class CountingClient(ApiClient):
    """The in-process client, counting the invocations it makes."""

    calls = 0

    def request(self, *args, **kwargs):
        CountingClient.calls += 1
        return super().request(*args, **kwargs)


def points(reader) -> dict[tuple[str, tuple], float]:
    """Every metric point now: (name, sorted dimensions) → value."""
    found: dict[tuple[str, tuple], float] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    found[(metric.name, tuple(sorted(point.attributes.items())))] = point.value
    return found


def moved(before, after, name, **dims) -> float:
    key = (f"liveness_guard.{name}", tuple(sorted(dims.items())))
    return after.get(key, 0) - before.get(key, 0)


def registered(name):
    """The function the host calls for `name`, as a fresh app registers it (`get_functions()` may
    run only once per app, and the test host already ran it on `function_app.app`)."""
    app = func.FunctionApp()
    for blueprint in blueprints():
        app.register_functions(blueprint)
    [fn] = [f for f in app.get_functions() if f.get_function_name() == name]
    return fn.get_user_function()


@pytest.fixture
def scenario(captured, router, services, face, monkeypatch):
    """Sessions (one refused), attempts, two flags, a confirmation and an override, feedback,
    the notification sent by the queue trigger, a sweep by the timer trigger, and a forced 500."""

    spans, logs, reader = captured
    spans.clear()
    logs.clear()
    before = points(reader)
    CountingClient.calls = 0
    api = CountingClient(router)
    customer_id, key = new_customer(api)
    secrets = {key, ADMIN_KEY, END_USER_IP}
    guids = []
    for _ in range(2):
        guid = consented_subject(api, key)
        guids.append(guid)
        session = new_session(api, key, guid, endUserIp=END_USER_IP).json
        secrets |= {session["sessionToken"], session["faceAuthToken"]}
        for _ in range(3):
            checked_attempt(api, face.endpoint, session, "spoofface")
    confirmed, overridden = guids
    assert review_decision(api, customer_id, confirmed, "confirm").status == 200
    assert review_decision(api, customer_id, overridden, "override").status == 200
    refused = new_session(api, key, confirmed, endUserIp=END_USER_IP)
    assert refused.status == 403
    assert api.post("/api/v1/feedback", json={"category": "privacy", "message": f"about {confirmed}"}).status == 202
    invocations = CountingClient.calls
    earlier = len(spans.get_finished_spans())
    notifications = queued_notifications(services)  # the test's own storage call: not an invocation
    own_traces = {span.context.trace_id for span in spans.get_finished_spans()[earlier:]}
    for message in notifications:  # the queue trigger, through its registered stub
        body = json.dumps(message).encode()
        queued = type("Msg", (), {"get_body": lambda self, b=body: b, "id": "m1", "dequeue_count": 1})()
        registered("send_notification")(msg=queued, context=LocalContext("send_notification"))
        invocations += 1
    timer = type("Timer", (), {"past_due": False})()
    registered("retention_sweep")(timer=timer, context=LocalContext("retention_sweep"))
    invocations += 1

    def broken(days):
        raise RuntimeError(f"boom near {confirmed} from {END_USER_IP}")

    monkeypatch.setattr(services.overview, "overview", broken)
    failure = api.get("/api/v1/review/overview", headers=ADMIN)
    invocations += 1
    return {
        "spans": spans.get_finished_spans(),
        "logs": [entry.log_record for entry in logs.get_finished_logs()],
        "before": before,
        "after": points(reader),
        "invocations": invocations,
        "guids": guids,
        "secrets": secrets,
        "failure": failure,
        "refused_code": refused.json["error"]["code"],
        "own_traces": own_traces,
    }


def test_every_invocation_has_a_span_with_its_dependencies(scenario):
    spans = scenario["spans"]
    invocations = [s for s in spans if "faas.invocation_id" in (s.attributes or {})]
    assert len(invocations) == scenario["invocations"]
    assert len({s.attributes["faas.invocation_id"] for s in invocations}) == len(invocations)
    by_id = {s.context.span_id: s for s in spans}

    def invocation_of(span):
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
        return span

    dependencies = [s for s in spans if s.kind is SpanKind.CLIENT and s.context.trace_id not in scenario["own_traces"]]

    def calls(marker):
        return [
            s
            for s in dependencies
            if marker in f"{s.attributes.get('user_agent.original')} {s.attributes.get('url.full')}"
        ]

    assert calls("azsdk-python-data-tables") and calls("/face/v1") and calls("communication-email")
    assert all("faas.invocation_id" in (invocation_of(s).attributes or {}) for s in dependencies)
    [failed] = [s for s in invocations if s.attributes.get("http.response.status_code") == 500]
    assert failed.status.status_code.name == "ERROR"


def test_the_named_counters_moved_by_the_right_amounts(scenario):
    before, after = scenario["before"], scenario["after"]
    assert moved(before, after, "sessions.issued", replayed="false") == 2
    assert moved(before, after, "sessions.refused", code=scenario["refused_code"]) == 1
    assert moved(before, after, "attempts", decision="spoofface") == 6
    assert moved(before, after, "flags", reason="spoofface") == 2
    assert moved(before, after, "decisions", outcome="confirm", reason="spoofface") == 1
    assert moved(before, after, "decisions", outcome="override", reason="spoofface") == 1
    assert moved(before, after, "emails", outcome="sent", kind="abuse_confirmed") == 1
    assert moved(before, after, "sweep.runs", outcome="ok") == 1
    assert after[("liveness_guard.reviews.pending", ())] == 0
    assert after[("liveness_guard.queue.poison", (("queue", "notifications"),))] == 0


def test_a_500_names_an_invocation_id_found_in_the_log(scenario):
    failure = scenario["failure"]
    assert failure.status == 500
    error = failure.json["error"]
    assert error["code"] == "internal_error" and error["invocationId"] in error["message"]
    logged = [r for r in scenario["logs"] if (r.attributes or {}).get("event") == "http.internal_error"]
    assert [r.attributes["invocation_id"] for r in logged] == [error["invocationId"]]
    assert error["invocationId"] in str(logged[0].body)
    [span] = [s for s in scenario["spans"] if s.attributes.get("faas.invocation_id") == error["invocationId"]]
    assert span.attributes["http.response.status_code"] == 500


def test_structured_log_lines_tell_the_operator_what_happened(scenario):
    events = [(r.attributes or {}).get("event") for r in scenario["logs"]]
    for expected in ("session.refused", "subject.flagged", "subject.decided", "email.sent", "retention.sweep"):
        assert expected in events, expected
    [refusal] = [r for r in scenario["logs"] if (r.attributes or {}).get("event") == "session.refused"]
    assert refusal.attributes["code"] == scenario["refused_code"]
    assert str(refusal.attributes["subject"]).startswith("subject:")  # a pseudonym, not the GUID


def test_no_token_key_raw_guid_or_ip_anywhere(scenario):
    texts: list[str] = []
    invocation_ids = set()  # and other operational ids, which are GUID-shaped
    for span in scenario["spans"]:
        texts += [span.name, *map(str, span.attributes.values()), str(span.status.description or "")]
        texts += [str(v) for e in span.events for v in [e.name, *e.attributes.values()]]
        invocation_ids.add(str(span.attributes.get("faas.invocation_id", "")))
    for record in scenario["logs"]:
        texts += [str(record.body), *map(str, (record.attributes or {}).values())]
        invocation_ids.add(str((record.attributes or {}).get("apim_request_id")))  # Face's id of a failed call
    texts += [str(v) for name, dims in scenario["after"] for _, v in dims]
    everything = "\n".join(texts)
    for secret in scenario["secrets"] | set(scenario["guids"]):
        assert secret not in everything
    assert {g for g in GUID.findall(everything) if g not in invocation_ids} == set()
    assert IPV4.findall(everything) == []
    assert "lgk." not in everything and "lgs." not in everything and "eyJ" not in everything
    assert len(texts) > 200  # the capture really held the scenario


def test_redaction_of_each_kind_of_secret():
    text = (
        "key lgk.0123456789abcdef0123456789abcdef.s3cr3t token lgs.0123456789abcdef0123456789abcdef."
        "11111111-2222-3333-4444-555555555555.abc ip 198.51.100.4 and 2001:db8::1 whsec_abc Bearer xyz"
    )
    cleaned = telemetry.redact(text)
    assert telemetry.redact("until 2026-11-22T19:07:33+00:00") == "until 2026-11-22T19:07:33+00:00"
    for leaked in ("s3cr3t", "11111111-2222", "198.51.100.4", "2001:db8", "whsec_abc", "xyz"):
        assert leaked not in cleaned
    kept = "11111111-2222-3333-4444-555555555555"
    assert kept in telemetry.redact(f"invocation {kept}", (kept,))
    assert telemetry.dimension("spoofface") == "spoofface"
    assert telemetry.dimension("11111111-2222-3333-4444-555555555555") == "other"
    assert telemetry.dimension("Free text!") == "other"


def test_a_failed_face_call_logs_faces_request_id(captured, api, face):
    _, logs, _ = captured
    logs.clear()
    _, key = new_customer(api)
    guid = consented_subject(api, key)
    face_faults(face.endpoint, 503, 20)  # every try of the call, its retries included
    try:
        assert new_session(api, key, guid).status == 503
    finally:
        face_faults(face.endpoint)
    records = [e.log_record for e in logs.get_finished_logs()]
    refused = [r for r in records if r.attributes.get("event") == "face.refused"][-1]
    assert refused.attributes["status"] == 503
    assert GUID.fullmatch(refused.attributes["apim_request_id"])  # kept: the id Azure support asks for
    assert refused.attributes["apim_request_id"] in str(refused.body)
