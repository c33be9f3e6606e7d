"""Registering every function without importing what the functions run (cold start).

The host indexes the app by importing `function_app`. Importing the route and trigger modules
would pull in pydantic models, the storage SDKs and the domain — most of a cold start. So
`function_app` registers *stubs* from `shared/functions.json`: each has the real function's name,
trigger and parameter (plus the host's `context`), and on its first call imports the real module
and hands over to the real function, inside the invocation's span (`shared.telemetry`). The
manifest is generated from the real blueprints (`python -m shared.lazy_functions`) and a test
fails when it differs from them, so the two cannot drift.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import azure.functions as func

MANIFEST = Path(__file__).with_name("functions.json")
MODULES = (
    "shared.api.client_routes",
    "shared.api.manage_routes",
    "shared.api.review_routes",
    "shared.api.privacy_routes",
    "shared.api.console_routes",
    "shared.api.docs_routes",
    "shared.api.determination_routes",
    "shared.api.webhook_routes",
    "shared.triggers.notifications",
    "shared.triggers.retention",
    "shared.triggers.webhooks",
    "shared.api.fallback_routes",  # last: the catch-all answers only what no other route takes
)
_lock = threading.Lock()
_resolved: dict[str, Callable[..., Any]] = {}


def real_function(module: str, name: str) -> Callable[..., Any]:
    """The real handler behind a stub (its module imported on first use)."""
    key = f"{module}:{name}"
    found = _resolved.get(key)
    if found is None:
        with _lock:
            builder = getattr(importlib.import_module(module), name)
            found = _resolved[key] = builder.build().get_user_function()
    return found


def load_all() -> None:
    """Import every real module (the OpenAPI document describes them all)."""
    for module in MODULES:
        importlib.import_module(module)


def _invoke(entry: dict[str, Any], context: func.Context | None, arg: Any) -> Any:
    """Run the real function inside its invocation's span (telemetry imported on the first call)."""
    from shared.telemetry import http_outcome, invocation

    found = getattr(context, "invocation_id", None) or str(uuid.uuid4())
    trigger = {"http": "http", "timer": "timer", "queue": "pubsub"}[entry["kind"]]
    method = getattr(arg, "method", None) if entry["kind"] == "http" else None
    with invocation(entry["name"], trigger, found, entry.get("route"), method) as span:
        result = real_function(entry["module"], entry["name"])(arg)
        if entry["kind"] == "http":
            http_outcome(span, result.status_code)
        return result


_TRIGGER_TYPES: dict[str, Any] = {"http": func.HttpRequest, "timer": func.TimerRequest, "queue": func.QueueMessage}
_RETURNS: dict[str, Any] = {"http": func.HttpResponse, "timer": None, "queue": None}


def _stub(entry: dict[str, Any]) -> Callable[..., Any]:
    """A function with the real one's name and trigger parameter (named as its binding, as the Python
    worker requires), plus the host's `context: func.Context`."""
    kind = entry["kind"]
    arg = "req" if kind == "http" else entry["arg"]

    def stub(context: func.Context | None = None, **bindings: Any) -> Any:
        result = _invoke(entry, context, bindings[arg])
        return result if kind == "http" else None

    parameters = [
        inspect.Parameter(arg, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=_TRIGGER_TYPES[kind]),
        inspect.Parameter("context", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=func.Context),
    ]
    stub.__signature__ = inspect.Signature(parameters, return_annotation=_RETURNS[kind])  # type: ignore[attr-defined]
    stub.__annotations__ = {arg: _TRIGGER_TYPES[kind], "context": func.Context, "return": _RETURNS[kind]}
    stub.__name__ = stub.__qualname__ = entry["name"]
    stub.__module__ = entry["module"]
    return stub


def blueprint(manifest: Path = MANIFEST) -> func.Blueprint:
    """A blueprint of stubs, one per function in the manifest."""
    bp = func.Blueprint()
    for entry in json.loads(manifest.read_text()):
        stub = _stub(entry)
        if entry["kind"] == "http":
            bp.route(route=entry["route"], methods=entry["methods"], auth_level=func.AuthLevel.ANONYMOUS)(stub)
        elif entry["kind"] == "timer":
            bp.timer_trigger(
                schedule=entry["schedule"],
                arg_name=entry["arg"],
                run_on_startup=entry["runOnStartup"],
                use_monitor=entry["useMonitor"],
            )(stub)
        else:
            bp.queue_trigger(arg_name=entry["arg"], queue_name=entry["queueName"], connection=entry["connection"])(stub)
    return bp


def describe() -> list[dict[str, Any]]:
    """The manifest as the real blueprints declare it (imports every module)."""
    entries: list[dict[str, Any]] = []
    for module in MODULES:
        for builder in importlib.import_module(module).bp._function_builders:
            function = builder.build()
            trigger = function.get_bindings_dict()["bindings"][0]
            entry: dict[str, Any] = {"module": module, "name": function.get_function_name()}
            if trigger["type"] == "httpTrigger":
                if str(trigger["authLevel"].value) != "anonymous":
                    raise ValueError(f"{entry['name']}: only anonymous HTTP functions are supported")
                entry |= {"kind": "http", "route": trigger["route"], "methods": [m.value for m in trigger["methods"]]}
            elif trigger["type"] == "timerTrigger":
                entry |= {
                    "kind": "timer",
                    "arg": trigger["name"],
                    "schedule": trigger["schedule"],
                    "runOnStartup": trigger["runOnStartup"],
                    "useMonitor": trigger["useMonitor"],
                }
            else:
                entry |= {
                    "kind": "queue",
                    "arg": trigger["name"],
                    "queueName": trigger["queueName"],
                    "connection": trigger["connection"],
                }
            entries.append(entry)
    return entries


if __name__ == "__main__":  # regenerate the manifest after adding or changing a function
    MANIFEST.write_text(json.dumps(describe(), indent=2) + "\n")
    print(f"wrote {MANIFEST.relative_to(Path.cwd()) if MANIFEST.is_relative_to(Path.cwd()) else MANIFEST}")
    sys.exit(0)
