"""Start and stop the local stand-ins (Azurite, the Face emulator) as child processes.

Used by the tests and by `make run`. Every process is started in its own process group and
stopped by its process id, so nothing is left running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Self

ROOT = Path(__file__).resolve().parent.parent
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 30.0) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop a child (and its process group) by process id: SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def _spawn(args: list[str], log: Path | None) -> subprocess.Popen:
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    return subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@dataclass
class Azurite:
    """An in-memory Azurite on its own ports."""

    blob_port: int = field(default_factory=free_port)
    queue_port: int = field(default_factory=free_port)
    table_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def start(self, log: Path | None = None) -> Azurite:
        binary = ROOT / "node_modules" / ".bin" / "azurite"
        if not binary.exists():
            raise RuntimeError("Azurite is not installed: run `npm ci` (make does this for you)")
        self.process = _spawn(
            [
                str(binary),
                "--inMemoryPersistence",
                "--skipApiVersionCheck",
                "--disableProductStyleUrl",
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(self.blob_port),
                "--queueHost",
                "127.0.0.1",
                "--queuePort",
                str(self.queue_port),
                "--tableHost",
                "127.0.0.1",
                "--tablePort",
                str(self.table_port),
            ],
            log,
        )
        for port in (self.blob_port, self.queue_port, self.table_port):
            wait_for_port(port, self.process)
        return self

    @property
    def connection_string(self) -> str:
        base = "http://127.0.0.1"
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={base}:{self.blob_port}/{AZURITE_ACCOUNT};"
            f"QueueEndpoint={base}:{self.queue_port}/{AZURITE_ACCOUNT};"
            f"TableEndpoint={base}:{self.table_port}/{AZURITE_ACCOUNT};"
        )

    def pause(self) -> None:
        """SIGSTOP: it keeps accepting connections and answers nothing (a hung storage account)."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGCONT)  # a paused process cannot act on SIGTERM
            stop(self.process, timeout=3)  # in-memory: nothing to flush, and its graceful close is slow


@dataclass
class PythonService:
    """A devtools module run as a child process that listens on one port."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    module: ClassVar[str] = ""

    def arguments(self) -> list[str]:
        return []

    def start(self, log: Path | None = None) -> Self:
        command = [sys.executable, "-m", self.module, "--port", str(self.port), *self.arguments()]
        self.process = _spawn(command, log)
        wait_for_port(self.port, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)


@dataclass
class FaceEmulator(PythonService):
    """The Face emulator (devtools.face_emulator) as a child process."""

    key: str = "local-face-key"
    module: ClassVar[str] = "devtools.face_emulator"

    def arguments(self) -> list[str]:
        return ["--key", self.key]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class WebhookReceiver(PythonService):
    """A customer's webhook endpoint (devtools.webhook_receiver), verifying every signature."""

    module: ClassVar[str] = "devtools.webhook_receiver"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def trust(self, secret: str) -> None:
        """Tell it the secret `PUT /webhook` returned."""
        import requests

        requests.post(f"http://127.0.0.1:{self.port}/_receiver/secret", json={"secret": secret}, timeout=5)


@dataclass
class EmailSink(PythonService):
    """The local ACS Email endpoint (devtools.email_sink) as a child process, over TLS."""

    access_key: str = "bG9jYWwtYWNzLWFjY2Vzcy1rZXk="
    ca_file: Path = ROOT / ".run" / "email-ca.pem"
    module: ClassVar[str] = "devtools.email_sink"

    def arguments(self) -> list[str]:
        return ["--access-key", self.access_key, "--ca-file", str(self.ca_file)]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def connection_string(self) -> str:
        return f"endpoint={self.url}/;accesskey={self.access_key}"
