"""Shared main-loop for the local stand-in servers."""

from __future__ import annotations

import contextlib
from socketserver import BaseServer


def serve(server: BaseServer, banner: str) -> None:
    """Print where the server listens, serve until interrupted, then close the socket."""
    print(banner, flush=True)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    finally:
        server.server_close()
