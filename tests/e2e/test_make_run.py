"""`make run` as a newcomer meets it: start, follow what it prints, get a liveness result, Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from devtools.stack import ROOT, free_port

READY = "Ctrl-C stops everything."


def free_ports() -> dict[str, str]:
    """Free ports for everything `make run` starts, as the LG_* settings it reads."""
    names = ("FUNCTIONS", "FACE", "EMAIL", "WEBHOOK", "AZURITE_BLOB", "AZURITE_QUEUE", "AZURITE_TABLE")
    return {f"LG_{name}_PORT": str(free_port()) for name in names}


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def what_make_run_uses() -> dict[str, tuple[int, int]]:
    """Size and modification time of local.settings.json and of every file in .run/."""
    paths = [ROOT / "local.settings.json", *sorted((ROOT / ".run").glob("*"))]
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in paths if p.is_file()}


BEFORE_THIS_MODULE = what_make_run_uses()  # read when the module is collected, before any of its stacks runs


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    ports = free_ports()
    env = {**os.environ, **ports, "PATH": os.environ["PATH"], "LG_RUN_DIR": str(tmp_path_factory.mktemp("run"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.strip() == READY:
            break
    printed = "".join(lines)
    assert READY in printed, printed
    yield {
        "process": process,
        "printed": printed,
        "api": f"http://127.0.0.1:{ports['LG_FUNCTIONS_PORT']}/api/v1",
        "ports": ports,
    }
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_following_the_printed_walkthrough_gives_a_liveness_result(running):
    script = running["printed"].split("paste into another terminal:", 1)[1].split("Webhooks:", 1)[0]
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert '"livenessDecision":"realface"' in last and '"attempts":1' in last


def test_the_printed_webhook_walkthrough_shows_a_delivery_verified_with_the_secret(running):
    script = running["printed"].split("Make an event and read what it received:", 1)[1].split(READY, 1)[0]
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    received = json.loads(done.stdout.strip().splitlines()[-1])
    assert [(r["event"]["type"], r["verified"]) for r in received] == [("subject.flagged", True)]


def test_printed_keys_work_and_refusals_come_over_http_with_the_envelope(running):
    printed = running["printed"]
    admin = re.search(r"Admin key \(x-admin-key\):\s+(\S+)", printed).group(1)
    key = re.search(r"Demo api key \(x-api-key\):\s+(\S+)", printed).group(1)
    api = running["api"]
    guid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    cases = [
        (requests.post(f"{api}/sessions", json={"correlationId": guid}, timeout=10), 401, "unauthorized"),
        (
            requests.post(f"{api}/sessions", json={"correlationId": "nope"}, headers={"x-api-key": key}, timeout=10),
            400,
            "invalid_request",
        ),
        (
            requests.post(
                f"{api}/sessions",
                data=b"{oops",
                headers={"x-api-key": key, "content-type": "application/json"},
                timeout=10,
            ),
            400,
            "invalid_request",
        ),
        (
            requests.post(f"{api}/sessions", json={"correlationId": guid}, headers={"x-api-key": key}, timeout=10),
            403,
            "consent_required",
        ),
        (
            requests.get(f"{api}/sessions/abc/result", headers={"Authorization": "Bearer x"}, timeout=10),
            401,
            "token_invalid",
        ),
        (
            requests.get(f"{api}/manage/customers", headers={"x-admin-key": "wrong-wrong-wrong-wrong"}, timeout=10),
            401,
            "unauthorized",
        ),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["error"]["code"] == code
    assert requests.get(f"{api}/manage/customers", headers={"x-admin-key": admin}, timeout=10).status_code == 200
    # the envelope on the real host path too: an unknown route, and a wrong method with Allow
    unknown = requests.get(f"{api}/no-such-route", timeout=10)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    wrong = requests.delete(f"{api}/sessions", data=b"x", headers={"content-type": "text/plain"}, timeout=10)
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (405, "method_not_allowed")
    assert wrong.headers["allow"] == "POST" and wrong.headers["content-type"].startswith("application/json")
    nested = requests.post(f"{api}/review/subjects/x/y/z/w", timeout=10)
    assert (nested.status_code, nested.json()["error"]["code"]) == (404, "not_found")


def test_ctrl_c_stops_everything_it_started(running):
    process = running["process"]
    children = children_of(process.pid)
    assert len(children) == 5  # Azurite, the Face emulator, the email sink, the webhook receiver, the host
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    time.sleep(0.5)
    assert [pid for pid in children if alive(pid)] == []
    for port in running["ports"].values():
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/", timeout=2)


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children_of(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


@pytest.mark.parametrize("run", range(5))
def test_sigterm_to_the_process_group_twice_leaves_nothing_running(run, tmp_path):
    """`make run` stopped as a service manager or a terminal closing stops it: the whole group gets
    SIGTERM, and often a second one; every process it started must be gone after."""
    ports = free_ports()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env={**os.environ, **ports, "LG_RUN_DIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and (line := process.stdout.readline()):
        if line.strip() == READY:
            break
    started = descendants(process.pid)
    assert len(started) >= 6, started  # python, Azurite, Face emulator, email sink, webhook receiver, host
    os.killpg(process.pid, signal.SIGTERM)
    time.sleep(0.05 * run)  # the second signal lands at a different moment of the clean-up each run
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    process.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and [pid for pid in started if alive(pid)]:
        time.sleep(0.2)
    assert [pid for pid in started if alive(pid)] == []


def test_a_test_run_leaves_what_make_run_uses_alone(running):
    """The developer's local.settings.json and .run/ (logs, the email CA its printed curl commands
    trust) are not what a test's stack writes: it keeps everything in its own folder."""
    assert what_make_run_uses() == BEFORE_THIS_MODULE
    assert str(ROOT / ".run") not in running["printed"]
