"""`make run`: the whole app locally — Azurite, the Face emulator and the functions — plus a demo customer.

Ports default to the documented ones (functions 7071, Face 7081, Azurite 10000-10002) and can be moved with
LG_FUNCTIONS_PORT, LG_FACE_PORT, LG_EMAIL_PORT, LG_WEBHOOK_PORT, LG_AZURITE_BLOB_PORT, LG_AZURITE_QUEUE_PORT,
LG_AZURITE_TABLE_PORT. The demo customer's webhook points at a local receiver that verifies every signature.
Uses `func start` when Core Tools is on PATH, the project's local host otherwise. Ctrl-C stops
everything this started, by process id.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from devtools.stack import ROOT, Azurite, EmailSink, FaceEmulator, WebhookReceiver, free_port, stop, wait_for_port

SETTINGS = ROOT / "local.settings.json"
SAMPLE = ROOT / "local.settings.sample.json"


def local_settings(path: Path = SETTINGS) -> dict[str, str]:
    """local.settings.json `Values`, created from the sample on first run."""
    if not path.exists():
        shutil.copy(SAMPLE, path)
    return json.loads(path.read_text())["Values"]


class PortBusy(RuntimeError):
    pass


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _run_dir() -> Path:
    """Where `make run` keeps its logs and the email CA: `.run/`, or LG_RUN_DIR (the tests' own folder)."""
    return Path(os.environ["LG_RUN_DIR"]) if os.environ.get("LG_RUN_DIR") else ROOT / ".run"


def _settings_path() -> Path:
    """local.settings.json: the checkout's, or one inside LG_RUN_DIR (a test never touches the developer's)."""
    return _run_dir() / "local.settings.json" if os.environ.get("LG_RUN_DIR") else SETTINGS


@dataclass
class LocalStack:
    """Azurite + Face emulator + the function host, as child processes."""

    functions_port: int = field(default_factory=lambda: _port("LG_FUNCTIONS_PORT", 7071))
    azurite: Azurite = field(
        default_factory=lambda: Azurite(
            blob_port=_port("LG_AZURITE_BLOB_PORT", 10000),
            queue_port=_port("LG_AZURITE_QUEUE_PORT", 10001),
            table_port=_port("LG_AZURITE_TABLE_PORT", 10002),
        )
    )
    face: FaceEmulator = field(default_factory=lambda: FaceEmulator(port=_port("LG_FACE_PORT", 7081)))
    email: EmailSink = field(default_factory=lambda: EmailSink(port=_port("LG_EMAIL_PORT", 7082)))
    receiver: WebhookReceiver = field(default_factory=lambda: WebhookReceiver(port=_port("LG_WEBHOOK_PORT", 7083)))
    log_dir: Path = field(default_factory=lambda: _run_dir())
    settings_path: Path = field(default_factory=lambda: _settings_path())
    settings: dict[str, str] = field(default_factory=dict)
    use_core_tools: bool = field(default_factory=lambda: shutil.which("func") is not None)
    host: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.functions_port}/api"

    def environment(self) -> dict[str, str]:
        """The app settings the host runs with: local.settings.json, pointed at this stack's ports."""
        # sample defaults first: a local.settings.json from an older checkout still gets new settings
        sample = json.loads(SAMPLE.read_text())["Values"]
        values = {**sample, **local_settings(self.settings_path), **self.settings}
        return {
            **os.environ,
            **{k: v for k, v in values.items() if v is not None},
            "AzureWebJobsStorage": self.azurite.connection_string,
            "FACE_ENDPOINT": self.face.endpoint,
            "FACE_API_KEY": self.face.key,
            "ACS_CONNECTION_STRING": self.email.connection_string,
            "EMAIL_CA_BUNDLE": str(self.email.ca_file),
        }

    def ports(self) -> dict[str, int]:
        return {
            "LG_FUNCTIONS_PORT": self.functions_port,
            "LG_FACE_PORT": self.face.port,
            "LG_EMAIL_PORT": self.email.port,
            "LG_WEBHOOK_PORT": self.receiver.port,
            "LG_AZURITE_BLOB_PORT": self.azurite.blob_port,
            "LG_AZURITE_QUEUE_PORT": self.azurite.queue_port,
            "LG_AZURITE_TABLE_PORT": self.azurite.table_port,
        }

    def start(self) -> LocalStack:
        busy = [f"{port} ({name})" for name, port in self.ports().items() if port_in_use(port)]
        if busy:
            raise PortBusy(
                "ports already in use: " + ", ".join(busy) + ". Is another `make run` going? "
                "Stop it, or move this one with the LG_*_PORT variables."
            )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.face.key = {**local_settings(self.settings_path), **self.settings}.get("FACE_API_KEY") or self.face.key
        try:
            self.azurite.start(log=self.log_dir / "azurite.log")
            self.face.start(log=self.log_dir / "face-emulator.log")
            self.email.ca_file = self.log_dir / "email-ca.pem"
            self.email.start(log=self.log_dir / "email-sink.log")
            self.receiver.start(log=self.log_dir / "webhook-receiver.log")
            if self.use_core_tools:
                command = ["func", "start", "--port", str(self.functions_port)]
            else:
                command = [sys.executable, "-m", "devtools.localhost", "--script-root", str(ROOT)]
                command += ["--port", str(self.functions_port)]
            log = open(self.log_dir / "functions.log", "ab")  # noqa: SIM115 - lives as long as the host
            self.host = subprocess.Popen(
                command, cwd=ROOT, env=self.environment(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            wait_for_port(self.functions_port, self.host, timeout=60)
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base_url}/v1/health", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise TimeoutError("the function host did not become healthy")

    def stop(self) -> None:
        if self.host is not None:
            stop(self.host)
        self.face.stop()
        self.email.stop()
        self.receiver.stop()
        self.azurite.stop()

    @classmethod
    def isolated(cls, log_dir: Path, **settings: str) -> LocalStack:
        """A stack on free ports with its own settings file, run by the project's host (tests, benchmarks)."""
        return cls(
            functions_port=free_port(),
            azurite=Azurite(),
            face=FaceEmulator(),
            email=EmailSink(),
            receiver=WebhookReceiver(),
            log_dir=log_dir,
            settings_path=log_dir / "local.settings.json",
            use_core_tools=False,
            settings=dict(settings),
        )

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"x-admin-key": self.environment()["ADMIN_API_KEY"]}

    def create_customer(self, name: str = "Demo customer", contact: str = "demo@example.com") -> dict[str, str]:
        """Register a customer through the manage API; returns its customerId and apiKey."""
        response = requests.post(
            f"{self.base_url}/v1/manage/customers",
            json={"name": name, "contactEmail": contact},
            headers=self.admin_headers,
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


def flag_subject(stack: LocalStack, api_key: str, correlation_id: str) -> dict[str, str]:
    """Drive a GUID into the spoofface flagging rule over HTTP, as a client and its device would:
    consent, then three sessions with one spoofface attempt each, fetched as a result (one attempt per
    session is the default, FACE_CLIENT_ATTEMPTS=1). Returns the last session."""
    api, key = f"{stack.base_url}/v1", {"x-api-key": api_key}
    requests.post(
        f"{api}/consents", json={"correlationId": correlation_id, "policyVersion": "v1"}, headers=key, timeout=30
    )
    session: dict[str, str] = {}
    for _ in range(3):
        session = requests.post(
            f"{api}/sessions", json={"correlationId": correlation_id}, headers=key, timeout=30
        ).json()
        requests.post(
            f"{stack.face.endpoint}/face/v1.2/detectLiveness-sessions/{session['sessionId']}/attempts",
            json={"livenessDecision": "spoofface"},
            headers={"Authorization": f"Bearer {session['faceAuthToken']}"},
            timeout=30,
        )
        requests.get(
            f"{api}/sessions/{session['sessionId']}/result",
            headers={"Authorization": f"Bearer {session['sessionToken']}"},
            timeout=30,
        )
    return session


def _pick(name: str) -> str:
    """A shell pipe stage printing one field of the JSON on its input."""
    return f"python3 -c \"import json,sys; print(json.load(sys.stdin)['{name}'])\""


def _consented_guid(api: str, api_key: str, echo: str = "; echo") -> str:
    """Shell lines that set API, KEY and a new GUID, and record the GUID's consent."""
    return f"""\
API={api}/v1
KEY='{api_key}'
GUID=$(python3 -c 'import uuid; print(uuid.uuid4())')
curl -s -X POST "$API/consents" -H "x-api-key: $KEY" -H 'content-type: application/json' \\
  -d "{{\\"correlationId\\": \\"$GUID\\", \\"policyVersion\\": \\"2026-01\\"}}"{echo}
"""


def walkthrough(api: str, face: str, api_key: str) -> str:
    """A copy-paste shell walkthrough: consent → session → simulated attempt → result."""
    return (
        _consented_guid(api, api_key)
        + f"""\
SESSION_JSON=$(curl -s -X POST "$API/sessions" -H "x-api-key: $KEY" -H 'content-type: application/json' \\
  -d "{{\\"correlationId\\": \\"$GUID\\"}}"); echo "$SESSION_JSON"
SESSION=$(echo "$SESSION_JSON" | {_pick("sessionId")})
FACE_TOKEN=$(echo "$SESSION_JSON" | {_pick("faceAuthToken")})
SESSION_TOKEN=$(echo "$SESSION_JSON" | {_pick("sessionToken")})
# the device's part, simulated by the Face emulator:
curl -s -X POST "{face}/face/v1.2/detectLiveness-sessions/$SESSION/attempts" \\
  -H "Authorization: Bearer $FACE_TOKEN" -H 'content-type: application/json' \\
  -d '{{"livenessDecision": "realface"}}'; echo
curl -s "$API/sessions/$SESSION/result" -H "Authorization: Bearer $SESSION_TOKEN"; echo
"""
    )


def register_webhook(stack: LocalStack, api_key: str) -> None:
    """Point the demo customer's webhook at the local receiver and give the receiver its secret."""
    response = requests.put(
        f"{stack.base_url}/v1/webhook", json={"url": stack.receiver.url}, headers={"x-api-key": api_key}, timeout=30
    )
    response.raise_for_status()
    stack.receiver.trust(response.json()["secret"])


def webhook_walkthrough(api: str, face: str, api_key: str, receiver_port: int) -> str:
    """Make an event happen (a GUID fails three times and is flagged: `subject.flagged`), then read
    what the local receiver got: the event, with `"verified": true` when its signature checked out."""
    return (
        _consented_guid(api, api_key, " > /dev/null")
        + f"""\
for attempt in 1 2 3; do  # three spoofs, each in a new session: the third flags the GUID
  SESSION_JSON=$(curl -s -X POST "$API/sessions" -H "x-api-key: $KEY" -H 'content-type: application/json' \\
    -d "{{\\"correlationId\\": \\"$GUID\\"}}")
  SESSION=$(echo "$SESSION_JSON" | {_pick("sessionId")})
  curl -s -X POST "{face}/face/v1.2/detectLiveness-sessions/$SESSION/attempts" \\
    -H "Authorization: Bearer $(echo "$SESSION_JSON" | {_pick("faceAuthToken")})" \\
    -H 'content-type: application/json' -d '{{"livenessDecision": "spoofface"}}' > /dev/null
  curl -s "$API/sessions/$SESSION/result" -H "Authorization: Bearer $(echo "$SESSION_JSON" | {_pick("sessionToken")})"
  echo
done
sleep 3  # the webhook queue's function delivers it
curl -s http://127.0.0.1:{receiver_port}/received; echo
"""
    )


def _ignore_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _stop_once(signum: int, frame: object) -> None:
    """The first Ctrl-C or SIGTERM starts the clean-up; later ones are ignored *before* it starts,
    so a second signal (a process group stopped twice, an impatient Ctrl-C) cannot land inside it."""
    _ignore_signals()
    raise KeyboardInterrupt


def main() -> None:
    stack = LocalStack()
    signal.signal(signal.SIGINT, _stop_once)  # even when started in the background
    signal.signal(signal.SIGTERM, _stop_once)
    try:
        print("Starting Azurite, the Face emulator and the function host ...", flush=True)
        stack.start()
        demo = stack.create_customer()
        register_webhook(stack, demo["apiKey"])
        env = stack.environment()
        print(
            f"""
Liveness Guard is running.
  API:            {stack.base_url}/v1   (health: {stack.base_url}/v1/health)
  Review console: {stack.base_url}/v1/review   (sign in with the admin key below)
  Face emulator:  {stack.face.endpoint}
  Email sink:     {stack.email.url}/messages  (mail sent to customers; curl --cacert {stack.email.ca_file} ...)
  Azurite:        tables :{stack.azurite.table_port}, queues :{stack.azurite.queue_port}
  Logs:           {stack.log_dir}/
  Host:           {"func start (Core Tools)" if stack.use_core_tools else "devtools.localhost (no Core Tools here)"}

  Admin key (x-admin-key):             {env["ADMIN_API_KEY"]}
  Demo customer {demo["customerId"]}
  Demo api key (x-api-key):            {demo["apiKey"]}

Try it — paste into another terminal:

{walkthrough(stack.base_url, stack.face.endpoint, demo["apiKey"])}
Webhooks: the demo customer's endpoint is a local receiver ({stack.receiver.url}) that verifies
every signature with the secret PUT /webhook returned. Make an event and read what it received:

{webhook_walkthrough(stack.base_url, stack.face.endpoint, demo["apiKey"], stack.receiver.port)}
Ctrl-C stops everything.""",
            flush=True,
        )
        while stack.host is not None and stack.host.poll() is None:
            time.sleep(0.5)
        print(f"The function host exited; see {stack.log_dir}/functions.log", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    except PortBusy as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
    finally:
        _ignore_signals()  # stopping for another reason (the host exited): nothing may cut the clean-up short
        print("\nStopping ...", flush=True)
        stack.stop()


if __name__ == "__main__":
    main()
