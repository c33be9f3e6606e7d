"""The HTTP transport every SDK client of the app uses (storage, queues, Face)."""

from __future__ import annotations

from azure.core.pipeline.transport import RequestsTransport


def http_transport() -> RequestsTransport:
    """requests, without reading proxy settings from the environment on each call: that read
    walked the whole environment per request, a fifth of the app's CPU (docs/scale.md, "Where the
    CPU goes"). The platform does not route storage, Face or email calls through a proxy."""
    return RequestsTransport(use_env_settings=False)
