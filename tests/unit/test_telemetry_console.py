"""OTEL_CONSOLE=true prints the same telemetry locally (in a child process: providers are global)."""

import os
import subprocess
import sys

SCRIPT = """
import logging
from shared import telemetry
with telemetry.invocation("health", "http", "11111111-2222-3333-4444-555555555555", "v1/health", "GET") as span:
    telemetry.http_outcome(span, 200)
    telemetry.count("sessions.issued", replayed="false")
    telemetry.event(logging.getLogger("shared.check"), "session.refused", code="rate_limited", ip="198.51.100.9")
"""


def run(**env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={k: v for k, v in os.environ.items() if k != "APPLICATIONINSIGHTS_CONNECTION_STRING"} | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_the_console_shows_the_invocation_span_and_the_log_line_redacted():
    printed = run(OTEL_CONSOLE="true")
    assert '"faas.invocation_id": "11111111-2222-3333-4444-555555555555"' in printed
    assert '"http.route": "v1/health"' in printed
    assert "session.refused" in printed and "rate_limited" in printed
    assert "198.51.100.9" not in printed and "[ip]" in printed


def test_nothing_is_printed_when_telemetry_is_off():
    assert run(OTEL_CONSOLE="false") == ""
