"""The local Functions host: serves `function_app.app` as Core Tools would, without Core Tools.

    python -m devtools.localhost [--script-root .] [--port 7071]

Everything it serves comes from the app's own metadata (`app.get_functions()`), `host.json` and
`local.settings.json`: HTTP triggers behind the route prefix, timer triggers on their NCRONTAB
schedules, queue triggers polling their Storage queue. Admin endpoints as in Core Tools:
`GET /admin/host/status`, and `POST /admin/functions/{name}` (master key) to run a timer or hand a
queue function one message now.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import azure.functions.queue as fq
from waitress.server import create_server

from devtools.localhost.config import HostConfig, load_host_config, load_local_settings, resolve
from devtools.localhost.context import with_context
from devtools.localhost.queues import QueueFunction, QueuePoller
from devtools.localhost.routing import HttpFunction, MethodNotAllowed, RouteNotFound, Router, http_function, invoke
from devtools.localhost.timers import TimerFunction, TimerRunner, utcnow, validate_schedule

log = logging.getLogger("localhost")
MAX_BODY = 100 * 1024 * 1024  # the Functions host's request limit


@dataclass
class Indexed:
    """The app's functions, by trigger kind."""

    http: list[HttpFunction] = field(default_factory=list)
    timers: list[TimerFunction] = field(default_factory=list)
    queues: list[QueueFunction] = field(default_factory=list)


def index(app: Any) -> Indexed:
    """Read every function of a FunctionApp from its metadata (`get_functions` runs once)."""
    found = Indexed()
    for fn in app.get_functions():
        trigger = fn.get_trigger()
        kind = trigger.get_binding_name()
        spec = trigger.get_dict_repr()
        name = fn.get_function_name()
        extra = [b.get_dict_repr() for b in fn.get_bindings() if b is not trigger]
        if any(b.get("direction") == "OUT" and b.get("type") != "http" for b in extra):
            raise NotImplementedError(f"{name}: output bindings other than http are not supported by the local host")
        if kind == "httpTrigger":
            found.http.append(http_function(fn))
        elif kind == "timerTrigger":
            schedule = resolve(spec["schedule"])
            validate_schedule(schedule)
            found.timers.append(
                TimerFunction(
                    name,
                    schedule,
                    bool(spec.get("runOnStartup")),
                    with_context(fn.get_user_function(), name),
                    spec["name"],
                )
            )
        elif kind == "queueTrigger":
            found.queues.append(
                QueueFunction(
                    name,
                    resolve(spec["queueName"]),
                    spec.get("connection") or "AzureWebJobsStorage",
                    with_context(fn.get_user_function(), name),
                    spec["name"],
                )
            )
        else:
            raise NotImplementedError(f"{name}: {kind} triggers are not supported by the local host")
    return found


@dataclass
class HostKeys:
    master: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    function: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def allows(self, level: str, presented: str | None) -> bool:
        if level == "ANONYMOUS":
            return True
        if not presented:
            return False
        keys = [self.master] if level == "ADMIN" else [self.master, self.function]
        return any(secrets.compare_digest(presented, key) for key in keys)


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def _json(status: int, payload: Any) -> Reply:
    return Reply(status, json.dumps(payload).encode(), [("Content-Type", "application/json")])


class FunctionsWsgiApp:
    """Translates WSGI requests to `azure.functions.HttpRequest` and back."""

    def __init__(self, indexed: Indexed, config: HostConfig, keys: HostKeys) -> None:
        self.indexed, self.keys = indexed, keys
        self.router = Router(indexed.http, config.route_prefix)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO") or "/"
        started = time.perf_counter()
        reply = (
            self._admin(method, path, environ) if path.startswith("/admin/") else self._function(method, path, environ)
        )
        log.info("%s %s -> %s (%.0f ms)", method, path, reply.status, (time.perf_counter() - started) * 1000)
        phrase = HTTPStatus(reply.status).phrase if reply.status in HTTPStatus._value2member_map_ else "Status"
        body = b"" if method == "HEAD" else reply.body
        start_response(f"{reply.status} {phrase}", [("Content-Length", str(len(body))), *reply.headers])
        return [body]

    @staticmethod
    def _headers(environ: dict[str, Any]) -> dict[str, str]:
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        # like the platform's front end: the peer address is appended to X-Forwarded-For
        peer = environ.get("REMOTE_ADDR")
        if peer:
            previous = headers.get("x-forwarded-for")
            headers["x-forwarded-for"] = f"{previous}, {peer}" if previous else peer
        return headers

    @staticmethod
    def _body(environ: dict[str, Any]) -> bytes | None:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY:
            return None
        return environ["wsgi.input"].read(length) if length else b""

    def _function(self, method: str, path: str, environ: dict[str, Any]) -> Reply:
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        headers = self._headers(environ)
        try:
            function, route_params = self.router.match(method, path)
        except RouteNotFound:
            return Reply(404)
        except MethodNotAllowed as exc:
            return Reply(405, headers=[("Allow", ", ".join(sorted(exc.allowed)))])
        if not self.keys.allows(function.auth_level, headers.get("x-functions-key") or query.get("code")):
            return Reply(401)
        body = self._body(environ)
        if body is None:
            return Reply(413)
        url = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', 'localhost')}{path}"
        if environ.get("QUERY_STRING"):
            url += "?" + environ["QUERY_STRING"]
        try:
            response = invoke(
                function, method=method, url=url, headers=headers, body=body, params=query, route_params=route_params
            )
        except Exception:
            log.exception("function %s raised", function.name)
            return Reply(500)
        out = [(k, v) for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")]
        if response.mimetype:
            content_type = response.mimetype
            if response.charset and (content_type.startswith("text/") or "json" in content_type):
                content_type += f"; charset={response.charset}"
            out.append(("Content-Type", content_type))
        return Reply(response.status_code, response.get_body() or b"", out)

    def _admin(self, method: str, path: str, environ: dict[str, Any]) -> Reply:
        if method == "GET" and path == "/admin/host/status":
            names = [f.name for f in self.indexed.http] + [t.name for t in self.indexed.timers]
            names += [q.name for q in self.indexed.queues]
            return _json(200, {"state": "Running", "functions": sorted(names)})
        if not self.keys.allows("ADMIN", self._headers(environ).get("x-functions-key")):
            return Reply(401)
        if method != "POST" or not path.startswith("/admin/functions/"):
            return Reply(404)
        name = path.removeprefix("/admin/functions/")
        try:
            payload = json.loads(self._body(environ) or b"{}")
        except ValueError:
            return Reply(400)
        timer = next((t for t in self.indexed.timers if t.name == name), None)
        if timer is not None:
            threading.Thread(target=timer.fire, kwargs={"past_due": False}, daemon=True).start()
            return Reply(202)
        queue = next((q for q in self.indexed.queues if q.name == name), None)
        if queue is not None:
            body = str(payload.get("input", "")).encode() if isinstance(payload, dict) else b""
            message = fq.QueueMessage(id=secrets.token_hex(8), body=body, dequeue_count=1)
            threading.Thread(target=queue.handler, kwargs={queue.arg_name: message}, daemon=True).start()
            return Reply(202)
        return Reply(404)


class LocalHost:
    """The running host: an HTTP server plus timer and queue threads."""

    def __init__(self, script_root: Path, port: int, host: str = "127.0.0.1") -> None:
        self.script_root = script_root.resolve()
        load_local_settings(self.script_root / "local.settings.json")
        self.config = load_host_config(self.script_root / "host.json")
        sys.path.insert(0, str(self.script_root))
        module = importlib.import_module("function_app")
        self.indexed = index(module.app)
        self.keys = HostKeys(
            master=os.environ.get("LOCAL_HOST_MASTER_KEY") or secrets.token_urlsafe(24),
            function=os.environ.get("LOCAL_HOST_FUNCTION_KEY") or secrets.token_urlsafe(24),
        )
        self.stop_event = threading.Event()
        self.server = create_server(
            FunctionsWsgiApp(self.indexed, self.config, self.keys),
            host=host,
            port=port,
            threads=16,
            ident="LocalFunctionsHost",
        )
        self.threads: list[threading.Thread] = [TimerRunner(t, self.stop_event, utcnow) for t in self.indexed.timers]
        self.threads += [QueuePoller(q, self.config.queues, self.stop_event) for q in self.indexed.queues]

    @property
    def port(self) -> int:
        return self.server.effective_port

    def describe(self) -> str:
        prefix = f"http://127.0.0.1:{self.port}/{self.config.route_prefix}".rstrip("/")
        lines = [f"Functions host on http://127.0.0.1:{self.port} (route prefix /{self.config.route_prefix})"]
        for f in sorted(self.indexed.http, key=lambda f: f.route):
            lines.append(f"  {f.name}: [{','.join(sorted(f.methods))}] {prefix}/{f.route}")
        lines += [f"  {t.name}: timer '{t.schedule}'" for t in self.indexed.timers]
        lines += [f"  {q.name}: queue '{q.queue_name}'" for q in self.indexed.queues]
        if any(f.auth_level != "ANONYMOUS" for f in self.indexed.http):
            lines.append(f"  function key: {self.keys.function} (x-functions-key header or ?code=)")
        return "\n".join(lines)

    def serve(self) -> None:
        for thread in self.threads:
            thread.start()
        try:
            self.server.run()
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        self.stop_event.set()
        self.server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Azure Functions host for Liveness Guard")
    parser.add_argument("--script-root", type=Path, default=Path.cwd())
    parser.add_argument("--port", type=int, default=int(os.environ.get("FUNCTIONS_HTTPWORKER_PORT", 7071)))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)
    host = LocalHost(args.script_root, args.port)
    print(host.describe(), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: host.server.close())
    with contextlib.suppress(KeyboardInterrupt, OSError):
        host.serve()
