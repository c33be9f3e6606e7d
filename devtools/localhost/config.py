"""What the local host reads besides the app: host.json and local.settings.json, as Core Tools does."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

_SETTING_REF = re.compile(r"%([^%]+)%")


def load_local_settings(path: Path, environ: dict[str, str] | os._Environ[str] = os.environ) -> dict[str, str]:
    """Put local.settings.json `Values` into the environment; variables already set win."""
    if not path.exists():
        return {}
    values = json.loads(path.read_text()).get("Values", {})
    for name, value in values.items():
        if name not in environ:
            environ[name] = "" if value is None else str(value)
    return values


def resolve(text: str, environ: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """Replace each `%SETTING%` with its app setting (binding expressions)."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise KeyError(f"app setting {name} is referenced by a binding but not set")
        return environ[name]

    return _SETTING_REF.sub(lookup, text)


def parse_timespan(text: str | None, default: timedelta) -> timedelta:
    """A .NET TimeSpan `hh:mm:ss` (or `d.hh:mm:ss`)."""
    if not text:
        return default
    days = 0
    if "." in text.split(":")[0]:
        day_part, text = text.split(".", 1)
        days = int(day_part)
    hours, minutes, seconds = ([*text.split(":"), "0", "0"])[:3]
    return timedelta(days=days, hours=int(hours), minutes=int(minutes), seconds=float(seconds))


@dataclass(frozen=True)
class QueueOptions:
    """`extensions.queues` of host.json with the Functions defaults."""

    message_encoding: str = "base64"
    batch_size: int = 16
    new_batch_threshold: int = 8
    visibility_timeout: timedelta = timedelta(0)
    max_polling_interval: timedelta = timedelta(minutes=1)
    max_dequeue_count: int = 5


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    queues: QueueOptions = QueueOptions()


OVERRIDE_PREFIX = "AzureFunctionsJobHost__"


def apply_overrides(data: dict[str, Any], environ: Any = os.environ) -> dict[str, Any]:
    """App settings named `AzureFunctionsJobHost__a__b` override host.json's `a.b`, as in Azure."""
    for name, value in environ.items():
        if not name.startswith(OVERRIDE_PREFIX):
            continue
        *parents, leaf = name[len(OVERRIDE_PREFIX) :].split("__")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return data


def load_host_config(path: Path) -> HostConfig:
    """The parts of host.json the local host honours (with AzureFunctionsJobHost__ overrides)."""
    data: dict[str, Any] = apply_overrides(json.loads(path.read_text()) if path.exists() else {})
    extensions = data.get("extensions", {})
    http = extensions.get("http", {})
    queues = extensions.get("queues", {})
    defaults = QueueOptions()
    return HostConfig(
        route_prefix=http.get("routePrefix", "api"),
        queues=QueueOptions(
            message_encoding=str(queues.get("messageEncoding", "base64")).lower(),
            batch_size=int(queues.get("batchSize", defaults.batch_size)),
            new_batch_threshold=int(queues.get("newBatchThreshold", defaults.new_batch_threshold)),
            visibility_timeout=parse_timespan(queues.get("visibilityTimeout"), defaults.visibility_timeout),
            max_polling_interval=parse_timespan(queues.get("maxPollingInterval"), defaults.max_polling_interval),
            max_dequeue_count=int(queues.get("maxDequeueCount", defaults.max_dequeue_count)),
        ),
    )
