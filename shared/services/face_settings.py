"""Face's own liveness abuse monitoring, as the resource is configured (Face v1.3-preview.1 `settings`).

Administrators read and set `livenessAbuseMonitoring.enabled` through the manage API; every change is
audited with what it was before. `/health` shows the last known state, read at most once a minute so
probes do not become Face traffic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.adapters.audit_log import AuditLog
from shared.adapters.face import FaceClient, FaceFeatureUnavailable, FaceSettings
from shared.domain.clock import Clock
from shared.errors import FaceVersionUnsupported, UpstreamUnavailable

HEALTH_CACHE_SECONDS = 60.0


@dataclass
class FaceSettingsService:
    face: FaceClient
    audit: AuditLog
    clock: Clock
    _cached: tuple[float, bool] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def api_version(self) -> str:
        return self.face.api_version

    def read(self) -> FaceSettings:
        """The resource's settings as Face reports them now."""
        settings = self._call(self.face.get_settings)
        self._remember(settings)
        return settings

    def set_abuse_monitoring(self, enabled: bool, actor: str, reason: str | None) -> FaceSettings:
        """Turn Face's abuse monitoring on or off for the whole resource; audited with the state before."""
        before = self.read()
        after = self._call(lambda: self.face.set_abuse_monitoring(enabled))
        self._remember(after)
        self.audit.append(
            at=self.clock(),
            actor=actor,
            action="face.settings.update",
            target="livenessAbuseMonitoring",
            reason=reason,
            detail={"enabledBefore": before.abuse_monitoring_enabled, "enabledAfter": after.abuse_monitoring_enabled},
        )
        return after

    def monitoring_for_health(self) -> str | None:
        """`on`/`off` (read at most once a minute), `unknown` when Face cannot say; None on v1.2."""
        if self.face.api_version != "v1.3-preview.1":
            return None
        with self._lock:
            cached = self._cached
        if cached is None or time.monotonic() - cached[0] > HEALTH_CACHE_SECONDS:
            try:
                self.read()
            except UpstreamUnavailable:
                return "unknown"
            with self._lock:
                cached = self._cached
        assert cached is not None
        return "on" if cached[1] else "off"

    def _remember(self, settings: FaceSettings) -> None:
        with self._lock:
            self._cached = (time.monotonic(), settings.abuse_monitoring_enabled)

    @staticmethod
    def _call(operation: Callable[[], FaceSettings]) -> FaceSettings:
        try:
            return operation()
        except FaceFeatureUnavailable as exc:
            raise FaceVersionUnsupported(str(exc)) from exc
