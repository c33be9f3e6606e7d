"""The HTTP transport every SDK client of the app uses (storage, queues, Face)."""

from __future__ import annotations

from azure.core.pipeline.transport import RequestsTransport


def http_transport(connection_timeout: float, read_timeout: float) -> RequestsTransport:
    """requests, without reading proxy settings from the environment on each call: that read
    walked the whole environment per request, a fifth of the app's CPU (docs/scale.md, "Where the
    CPU goes"). The platform does not route storage, Face or email calls through a proxy.

    The timeouts belong to the transport: a client given its own transport no longer applies the
    `connection_timeout`/`read_timeout` it was constructed with."""
    return RequestsTransport(use_env_settings=False, connection_timeout=connection_timeout, read_timeout=read_timeout)
