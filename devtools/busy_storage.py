"""A storage account that answers every request `503 ServerBusy`, as a throttled or failing one does.

Azurite has no fault injection; point `AzureWebJobsStorage` here (see `connection_string`) to see
what the app does when the storage service itself refuses to work.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from devtools.stack import AZURITE_ACCOUNT, AZURITE_KEY

BUSY = {"odata.error": {"code": "ServerBusy", "message": {"lang": "en-US", "value": "The server is busy."}}}


class _Busy(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps(BUSY).encode()
        self.server.requests += 1  # type: ignore[attr-defined]
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-ms-error-code", "ServerBusy")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

    def log_message(self, *args: object) -> None:
        pass


class BusyStorage:
    """Started in a thread on a free port; `requests` counts what reached it."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
        self._server.requests = 0  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> BusyStorage:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def requests(self) -> int:
        return self._server.requests  # type: ignore[attr-defined]

    @property
    def connection_string(self) -> str:
        url = f"http://127.0.0.1:{self._server.server_address[1]}/{AZURITE_ACCOUNT}"
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={url};QueueEndpoint={url};TableEndpoint={url};"
        )
