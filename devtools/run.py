"""`make run`: start Azurite and the Face emulator on the default local ports and keep them running.

Ctrl-C stops everything this started, by process id.
"""

from __future__ import annotations

import json
import shutil
import signal
import time
from pathlib import Path

from devtools.stack import ROOT, Azurite, FaceEmulator

SETTINGS = ROOT / "local.settings.json"
SAMPLE = ROOT / "local.settings.sample.json"
LOGS = ROOT / ".run"


def local_settings() -> dict[str, str]:
    """local.settings.json Values, created from the sample on first run."""
    if not SETTINGS.exists():
        shutil.copy(SAMPLE, SETTINGS)
    return json.loads(SETTINGS.read_text())["Values"]


def main() -> None:
    values = local_settings()
    LOGS.mkdir(exist_ok=True)
    azurite = Azurite(blob_port=10000, queue_port=10001, table_port=10002).start(log=LOGS / "azurite.log")
    face = FaceEmulator(port=7081, key=values.get("FACE_API_KEY") or "local-face-key")
    try:
        face.start(log=LOGS / "face-emulator.log")
        print("Azurite:        blob 10000, queue 10001, table 10002 (in memory)")
        print(f"Face emulator:  {face.endpoint}")
        print("Settings:       local.settings.json")
        if shutil.which("func"):
            print("Start the functions in another terminal:  func start")
        else:
            print("Core Tools (func) is not installed here; the local Functions host is the next step.")
        print("Ctrl-C stops everything.")
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        face.stop()
        azurite.stop()
        Path(LOGS).exists()


if __name__ == "__main__":
    main()
