"""The local Functions host over real HTTP, with a test app that has every trigger kind."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devtools.stack import ROOT, free_port, stop, wait_for_port

HOSTAPP = Path(__file__).resolve().parent / "hostapp"
MASTER, FUNCTION_KEY = "master-key-for-tests", "function-key-for-tests"


def read(out: Path, kind: str) -> list[dict]:
    path = out / f"{kind}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_until(predicate, timeout: float = 20.0, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


@pytest.fixture(scope="module")
def host(azurite, tmp_path_factory):
    out = tmp_path_factory.mktemp("hostapp")
    port = free_port()
    env = {
        **os.environ,
        "AzureWebJobsStorage": azurite.connection_string,
        "HOSTAPP_OUT": str(out),
        "TICK_SCHEDULE": "*/2 * * * * *",
        "TICK_SLEEP": "3",
        "JOBS_QUEUE": "jobs-e2e",  # the environment wins over local.settings.json
        "LOCAL_HOST_MASTER_KEY": MASTER,
        "LOCAL_HOST_FUNCTION_KEY": FUNCTION_KEY,
        "PYTHONPATH": str(ROOT),
    }
    env.pop("HOSTAPP_SETTING", None)
    log = open(out / "host.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.localhost", "--script-root", str(HOSTAPP), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port(port, process, timeout=30)
    yield {"base": f"http://127.0.0.1:{port}", "out": out, "azurite": azurite}
    stop(process)
    log.close()


def test_http_request_and_response_are_translated_faithfully(host):
    response = requests.post(
        f"{host['base']}/hostapi/echo/Hello/tail?x=1&y=two",
        data=b"\x00\x01body",
        headers={"x-probe": "probe-value"},
        timeout=10,
    )
    assert response.status_code == 299
    assert response.headers["x-echo"] == "yes" and response.headers["content-type"].startswith("application/json")
    payload = response.json()
    assert payload["method"] == "POST"
    assert payload["route"] == {"word": "Hello", "rest": "tail"}
    assert payload["query"] == {"x": "1", "y": "two"}
    assert payload["header"] == "probe-value"
    assert payload["body"] == "\x00\x01body"
    assert payload["setting"] == "from-local-settings"


def test_optional_parameters_constraints_404_and_405(host):
    assert requests.get(f"{host['base']}/hostapi/echo/Hello", timeout=10).json()["route"] == {"word": "Hello"}
    assert requests.get(f"{host['base']}/hostapi/echo/123", timeout=10).status_code == 404  # :alpha
    assert requests.get(f"{host['base']}/hostapi/nothing-here", timeout=10).status_code == 404
    assert requests.get(f"{host['base']}/api/echo/Hello", timeout=10).status_code == 404  # wrong prefix
    assert requests.delete(f"{host['base']}/hostapi/items/12", timeout=10).status_code == 204
    assert requests.delete(f"{host['base']}/hostapi/items/abc", timeout=10).status_code == 404  # :int
    wrong = requests.put(f"{host['base']}/hostapi/items/12", timeout=10)
    assert wrong.status_code == 405 and wrong.headers["allow"] == "DELETE"


def test_function_level_routes_need_a_host_key(host):
    url = f"{host['base']}/hostapi/secured"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, headers={"x-functions-key": "wrong"}, timeout=10).status_code == 401
    assert requests.get(url, headers={"x-functions-key": FUNCTION_KEY}, timeout=10).text == "secret"
    assert requests.get(url, params={"code": MASTER}, timeout=10).status_code == 200


def test_host_status_lists_every_function_of_the_app(host):
    status = requests.get(f"{host['base']}/admin/host/status", timeout=10).json()
    assert status["functions"] == ["delete_item", "echo", "job", "secured", "tick"]


def test_timer_fires_on_its_schedule_never_overlaps_and_marks_missed_runs_past_due(host):
    starts = wait_until(lambda: (s := read(host["out"], "tick-start")) and len(s) >= 3 and s, timeout=30)
    ends = read(host["out"], "tick-end")
    # each run sleeps 3 s on a 2 s schedule: runs must follow one another, never overlap
    for previous_end, next_start in zip(ends, starts[1:], strict=False):
        assert next_start["at"] >= previous_end["at"]
    assert any(s["past_due"] for s in starts[1:])


def test_queue_message_is_consumed_once_and_deleted(host):
    queue = QueueClient.from_connection_string(
        host["azurite"].connection_string, "jobs-e2e", message_encode_policy=TextBase64EncodePolicy()
    )
    wait_until(lambda: _exists(queue))
    queue.send_message("hello from the queue")
    job = wait_until(lambda: [j for j in read(host["out"], "job") if j["body"] == "hello from the queue"])
    assert job[0]["dequeue_count"] == 1
    wait_until(lambda: queue.get_queue_properties().approximate_message_count == 0)
    time.sleep(2)
    assert len([j for j in read(host["out"], "job") if j["body"] == "hello from the queue"]) == 1


def test_failing_message_is_retried_then_moved_to_poison(host):
    queue = QueueClient.from_connection_string(
        host["azurite"].connection_string, "jobs-e2e", message_encode_policy=TextBase64EncodePolicy()
    )
    wait_until(lambda: _exists(queue))
    queue.send_message("fail please")
    poison = QueueClient.from_connection_string(host["azurite"].connection_string, "jobs-e2e-poison")
    moved = wait_until(lambda: _exists(poison) and list(poison.peek_messages(max_messages=5)), timeout=30)
    assert base64.b64decode(moved[0].content) == b"fail please"
    tries = [j for j in read(host["out"], "job") if j["body"] == "fail please"]
    assert [t["dequeue_count"] for t in tries] == [1, 2]


def test_admin_endpoint_runs_a_timer_now_with_the_master_key(host):
    before = len(read(host["out"], "tick-start"))
    url = f"{host['base']}/admin/functions/tick"
    assert requests.post(url, json={}, timeout=10).status_code == 401
    assert requests.post(url, json={}, headers={"x-functions-key": MASTER}, timeout=10).status_code == 202
    wait_until(lambda: len(read(host["out"], "tick-start")) > before)


def _exists(queue: QueueClient) -> bool:
    try:
        queue.get_queue_properties()
    except Exception:
        return False
    return True
