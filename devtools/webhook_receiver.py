"""A local webhook endpoint for `make run`: receives Liveness Guard's events and verifies each
signature with the Standard Webhooks library, as a customer's endpoint would.

    python -m devtools.webhook_receiver --port 7083

POST /hooks receives deliveries; POST /_receiver/secret {"secret"} tells it the secret `PUT
/webhook` returned; GET /received lists what arrived, each with `verified` (the signature checked
out with that secret) and the event. Local use only.
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.secret: str | None = None
        self.received: list[dict[str, Any]] = []


def handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path == "/_receiver/secret":
                with state.lock:
                    state.secret = json.loads(body)["secret"]
                return self._reply(200, {"ok": True})
            headers = {k.lower(): v for k, v in self.headers.items()}
            with state.lock:
                secret = state.secret
            try:
                event = Webhook(secret).verify(body, headers) if secret else None
                verified = event is not None
            except WebhookVerificationError:
                event, verified = json.loads(body or b"null"), False
            with state.lock:
                state.received.append({"webhookId": headers.get("webhook-id"), "verified": verified, "event": event})
            self._reply(200, {"received": True})

        def do_GET(self) -> None:
            if self.path != "/received":
                return self._reply(404, {"error": "not found"})
            with state.lock:
                return self._reply(200, list(state.received))

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=7083)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(State()))
    server.serve_forever()


if __name__ == "__main__":
    main()
