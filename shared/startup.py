"""What `function_app` checks when the host indexes it, cheaply (stdlib only: a cold start pays it).

Every setting without a default must be present, or the app refuses to start and names each one
missing. The full typed validation (formats, ranges, trust settings in Azure, sample secrets
refused) runs on first use, before any function does anything (`shared.bootstrap.services`), so a
malformed value is refused at the first request instead of at indexing. A test keeps `REQUIRED`
in step with the settings model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

REQUIRED = ("EMAIL_SENDER_ADDRESS", "FACE_ENDPOINT", "SESSION_SEALING_KEY")


class MissingSettings(RuntimeError):
    """Settings without a default are not set."""


def require_settings(environ: Mapping[str, str] | None = None) -> None:
    """Refuse to start when a required setting is missing (naming each one)."""
    source = os.environ if environ is None else environ
    missing = [name for name in REQUIRED if not source.get(name)]
    if missing:
        raise MissingSettings("missing app settings: " + ", ".join(missing))
