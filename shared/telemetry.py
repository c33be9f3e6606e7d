"""Telemetry (docs/operations.md): a span per invocation, azure-core dependency spans, the named
counters and gauges, structured logs — and nothing secret or identifying in any of them.

- Off unless `APPLICATIONINSIGHTS_CONNECTION_STRING` is set (the Azure Monitor distro exports to
  Application Insights) or `OTEL_CONSOLE=true` (the same telemetry printed locally). Configured on
  the first invocation, never while the host indexes the app, so cold start does not pay for it.
- Storage, Face and email calls are spans of azure-core's OpenTelemetry tracing; webhook
  deliveries get a span of their own naming only the host (a customer's URL may carry a token).
- Every span, span event and log line passes `redact` on its way out: GUIDs, IP addresses, api
  keys, session tokens, webhook secrets and bearer tokens become placeholders. Metric dimensions
  are closed sets (codes, decisions, rule names, outcomes), checked by `dimension`.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

log = logging.getLogger(__name__)
SCOPE = "liveness_guard"
LOGGER = "shared"  # the app's own loggers (the SDKs' loggers log URLs: they are not exported)

_REDACTIONS = (
    (re.compile(r"lg[ks]\.[0-9a-f]{32}\.[0-9A-Za-z._-]+"), "[secret]"),  # api keys, session tokens
    (re.compile(r"whsec_[0-9A-Za-z+/=_-]+"), "[secret]"),
    (re.compile(r"eyJ[0-9A-Za-z_-]+\.[0-9A-Za-z_-]+\.[0-9A-Za-z_-]*"), "[secret]"),  # JWTs (Face auth tokens)
    (re.compile(r"(?i)(bearer|sharedkey|sig=|key=|token=)\s*[^\s&'\"]+"), r"\1[secret]"),
    (re.compile(r"(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "[guid]"),
    # a GUID written without dashes: any 32 hex digits standing alone (a pseudonym's follow its key id and
    # a dot, and stay; customer ids are kept where a record names them: KEPT_FIELDS)
    (re.compile(r"(?i)(?<![\w.])[0-9a-f]{32}(?!\w)"), "[guid]"),
    # IPv6, with or without a dotted IPv4 tail; a hex letter, "::" or at least four colons in it, so a
    # clock time (19:07:33) is left alone
    (
        re.compile(
            r"(?i)(?<![\w:.])(?=[0-9a-f:.]*(?:[a-f]|::|(?:[0-9a-f.]*:){4}))"
            r"(?:[0-9a-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9a-f]{0,4})(?![\w:])"
        ),
        "[ip]",
    ),
    # IPv4, also at the end of a sentence ("from 10.1.2.3.") or followed by more dotted numbers
    (re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w)"), "[ip]"),
)
_DIMENSION = re.compile(r"[a-z][a-z0-9_.-]{0,47}")
_invocation: ContextVar[str | None] = ContextVar("invocation_id", default=None)
_lock = threading.Lock()
_configured = False


KEPT_FIELDS = ("invocation_id", "apim_request_id", "customer")  # operational ids: never redacted


def redact(value: Any, keep: tuple[str, ...] = ()) -> Any:
    """A value with every secret and identifier in it replaced by a placeholder (strings only);
    the strings in `keep` (operational ids such as an invocation id) stay as they are."""
    if isinstance(value, str):
        kept = [k for k in keep if k]
        parts = re.split("(" + "|".join(map(re.escape, kept)) + ")", value) if kept else [value]
        for pattern, placeholder in _REDACTIONS:
            parts = [p if p in kept else pattern.sub(placeholder, p) for p in parts]
        return "".join(parts)
    if isinstance(value, tuple | list):
        return type(value)(redact(v, keep) for v in value)
    return value


def dimension(value: object) -> str:
    """A metric dimension value: a short lower-case code, or `other` (never free text)."""
    text = str(value).lower()
    return text if _DIMENSION.fullmatch(text) and redact(text) == text else "other"


# --- configuration -------------------------------------------------------------------------
def _console() -> bool:
    return os.environ.get("OTEL_CONSOLE", "").lower() in ("1", "true", "yes")


def ensure_configured() -> None:
    """Set up the exporters the environment asks for, once per process (no-op when off)."""
    global _configured
    if _configured:
        return
    with _lock:
        if _configured:
            return
        _configured = True
        if os.environ.get("APPLICATIONINSIGHTS_CONNECTION_STRING"):
            _azure_monitor()
        elif _console():
            _console_exporters()


def _azure_monitor() -> None:
    from azure.monitor.opentelemetry import configure_azure_monitor
    from opentelemetry.sdk.trace import TracerProvider

    if isinstance(trace.get_tracer_provider(), TracerProvider):  # the worker set it up already
        log.warning("OpenTelemetry was configured before the app; leaving it as it is")
        return
    off = {"enabled": False}
    configure_azure_monitor(
        credential=_credential(),
        logger_name=LOGGER,
        span_processors=[redacting_processor()],
        instrumentation_options={  # only azure-core: the web frameworks are not used, and the
            "requests": off,  # HTTP clients would record webhook URLs whole
            "urllib": off,
            "urllib3": off,
            "django": off,
            "fastapi": off,
            "flask": off,
            "psycopg2": off,
        },
    )
    _redact_logs(logging.getLogger(LOGGER))


def _credential() -> Any:
    """The managed identity named by `APPLICATIONINSIGHTS_AUTHENTICATION_STRING`
    (`ClientId=<id>;Authorization=AAD`), or None for the connection string's key."""
    fields = dict(
        part.split("=", 1)
        for part in os.environ.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "").split(";")
        if "=" in part
    )
    if fields.get("Authorization") != "AAD":
        return None
    from azure.identity import ManagedIdentityCredential

    return ManagedIdentityCredential(client_id=fields.get("ClientId"))


def _console_exporters() -> None:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import ConsoleLogExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    tracer = tracer_provider(SimpleSpanProcessor(ConsoleSpanExporter()))
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(ConsoleLogExporter()))
    reader = PeriodicExportingMetricReader(ConsoleMetricExporter(), export_interval_millis=60_000)
    install(tracer, MeterProvider(metric_readers=[reader]), logger_provider)


def tracer_provider(*processors: Any) -> Any:
    """An SDK tracer provider whose spans pass the redactor before `processors` export them."""
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider()
    provider.add_span_processor(redacting_processor())
    for processor in processors:
        provider.add_span_processor(processor)
    return provider


def install(tracer: Any, meter: Any, logger: Any) -> None:
    """Use these SDK providers (console locally; in-memory exporters in tests; the tracer provider
    from `tracer_provider`): azure-core traces through OpenTelemetry, the app's loggers export."""
    from azure.core.settings import settings
    from opentelemetry._logs import set_logger_provider

    trace.set_tracer_provider(tracer)
    metrics.set_meter_provider(meter)
    set_logger_provider(logger)
    settings.tracing_implementation = "opentelemetry"
    app_logger = logging.getLogger(LOGGER)
    app_logger.setLevel(logging.INFO)
    app_logger.addHandler(_redacting_handler(logger))


def _redact_logs(logger: logging.Logger, logger_provider: Any = None) -> None:
    """Make the app logger's OpenTelemetry handlers export redacted copies of each record (the
    record itself, which other handlers see too, is left as it is)."""
    from opentelemetry._logs import get_logger_provider

    for handler in list(logger.handlers):
        if hasattr(handler, "_logger_provider") and not isinstance(handler, _Redacting):
            logger.removeHandler(handler)
            logger.addHandler(_redacting_handler(logger_provider or get_logger_provider()))


class _Redacting:
    """Marks the handlers `_redacting_handler` builds."""


def _redacting_handler(logger_provider: Any) -> logging.Handler:
    from opentelemetry.instrumentation.logging.handler import LoggingHandler

    class RedactingHandler(_Redacting, LoggingHandler):
        def emit(self, record: logging.LogRecord) -> None:
            super().emit(redacted_record(record))

    return RedactingHandler(level=logging.INFO, logger_provider=logger_provider)


def redacted_record(record: logging.LogRecord) -> logging.LogRecord:
    """A copy of a log record with its message (arguments and any traceback merged in) and its extra
    string fields passed through `redact`; operational ids (KEPT_FIELDS) stay."""
    keep = (invocation_id() or "", *(str(getattr(record, f, "") or "") for f in KEPT_FIELDS))
    copy = logging.makeLogRecord(vars(record))
    message = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        message += "\n" + logging.Formatter().formatException(record.exc_info)
    copy.msg, copy.args, copy.exc_info, copy.exc_text = redact(message, keep), None, None, None
    for key, value in vars(record).items():
        if key not in _STANDARD and isinstance(value, str):
            setattr(copy, key, redact(value, keep))
    return copy


_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _redacted(attributes: Any, keep: tuple[str, ...]) -> dict[str, Any]:
    return {k: redact(v, keep) for k, v in (attributes or {}).items()}


def redacting_processor() -> Any:
    """A span processor that rewrites a finished span's name, attributes and events through `redact`
    (added first, so every exporter after it sees the redacted span). The SDK is imported here:
    only when telemetry is on."""
    from opentelemetry.attributes import BoundedAttributes
    from opentelemetry.sdk.trace import Event, SpanProcessor

    class RedactingSpanProcessor(SpanProcessor):
        def on_end(self, span: Any) -> None:
            keep = (str((span.attributes or {}).get("faas.invocation_id") or ""),)
            span._name = redact(span.name, keep)
            span._attributes = BoundedAttributes(attributes=_redacted(span.attributes, keep), immutable=True)
            if span.events:
                span._events = tuple(
                    Event(redact(e.name, keep), _redacted(e.attributes, keep), e.timestamp) for e in span.events
                )
            if span.status.description:
                span._status = Status(span.status.status_code, redact(span.status.description, keep))

    return RedactingSpanProcessor()


# --- invocations ---------------------------------------------------------------------------
def invocation_id() -> str | None:
    """The id of the invocation this code runs in (what a 500 names and every log line carries)."""
    return _invocation.get()


def context_id(context: Any) -> str:
    """The host's id of an invocation, from the `context` it passed (a fresh id without one)."""
    return getattr(context, "invocation_id", None) or str(uuid.uuid4())


@contextmanager
def invocation(
    name: str, trigger: str, invocation: str, route: str | None = None, method: str | None = None
) -> Iterator[Any]:
    """The span of one function invocation (a child of the host's, when the host traces)."""
    ensure_configured()
    token = _invocation.set(invocation)
    attributes: dict[str, Any] = {"faas.name": name, "faas.trigger": trigger, "faas.invocation_id": invocation}
    if route is not None:
        attributes |= {"http.route": route, "http.request.method": method or ""}
    kind = SpanKind.SERVER if trigger == "http" else SpanKind.CONSUMER if trigger == "pubsub" else SpanKind.INTERNAL
    try:
        with trace.get_tracer(SCOPE).start_as_current_span(name, kind=kind, attributes=attributes) as span:
            yield span
    finally:
        _invocation.reset(token)


def http_outcome(span: Any, status: int, failed_from: int = 500) -> None:
    """Record an HTTP status on a span; from `failed_from` up the span is an error."""
    span.set_attribute("http.response.status_code", status)
    if status >= failed_from:
        span.set_status(Status(StatusCode.ERROR))


def failed(span: Any, error: str) -> None:
    """Mark a span failed with a short, non-identifying reason (an exception's type name)."""
    span.set_attribute("error.type", error)
    span.set_status(Status(StatusCode.ERROR))


@contextmanager
def dependency(name: str, target: str) -> Iterator[Any]:
    """A client span for a call azure-core does not trace (a webhook delivery: `target` is the host)."""
    with trace.get_tracer(SCOPE).start_as_current_span(
        name, kind=SpanKind.CLIENT, attributes={"server.address": target}
    ) as span:
        yield span


# --- metrics (docs/operations.md) ----------------------------------------------------------------
COUNTERS = {
    "sessions.issued": "Liveness sessions handed out",
    "sessions.refused": "Session requests refused, by code",
    "attempts": "Liveness attempts read back from Face, by decision",
    "flags": "Subjects flagged for review, by rule",
    "decisions": "Review decisions, by outcome",
    "emails": "Notification emails, by outcome",
    "webhooks": "Webhook deliveries, by outcome",
    "sweep.rows": "Rows the retention sweep removed, by kind",
    "sweep.runs": "Retention sweeps, by outcome",
    "contention": "Writes that lost an optimistic-concurrency race and were retried",
    "sessions.revoked": "Open sessions revoked (the subject stopped being active, its customer was suspended or "
    "terminated, or a newer session replaced it), by reason",
    "sessions.revoke_failed": "Revocations that failed after the change that called for them (retried by the sweep)",
    "face.deletions_owed": "Face session deletions owed to the retention sweep because Face failed",
    "attempts.ip_mismatch": "Attempts Face saw from outside the address expected for their session (v1.3)",
    "face.lineage_matches": "Face abuse verdicts naming only the subject's own lineage (kept as evidence, no flag)",
}
GAUGES = {
    "reviews.pending": ("Subjects waiting for a reviewer", "{subject}"),
    "reviews.oldest_pending": ("Age of the oldest pending review", "s"),
    "queue.poison": ("Messages in a poison queue", "{message}"),
}
_instruments: dict[str, Any] = {}


def _instrument(name: str) -> Any:
    found = _instruments.get(name)
    if found is None:
        meter = metrics.get_meter(SCOPE)
        full = f"{SCOPE}.{name}"
        if name in COUNTERS:
            found = meter.create_counter(full, description=COUNTERS[name])
        else:
            description, unit = GAUGES[name]
            found = meter.create_gauge(full, description=description, unit=unit)
        _instruments[name] = found
    return found


def count(name: str, amount: int = 1, **dimensions: object) -> None:
    """Add to one of the COUNTERS (dimension values pass `dimension`)."""
    if amount:
        _instrument(name).add(amount, {k: dimension(v) for k, v in dimensions.items()})


def gauge(name: str, value: float, **dimensions: object) -> None:
    """Record the current value of one of the GAUGES."""
    _instrument(name).set(value, {k: dimension(v) for k, v in dimensions.items()})


def event(logger: logging.Logger, name: str, level: int = logging.INFO, /, **fields: object) -> None:
    """One structured log line: `name` is the message and the `event` field, `fields` its dimensions
    (pseudonyms and codes only), with the invocation id."""
    logger.log(level, name, extra={"event": name, "invocation_id": invocation_id(), **fields})
