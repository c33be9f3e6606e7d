"""The Face emulator follows the official contract of each version it speaks (README.md, Face emulator), so what
passes here passes against Azure: required fields with their types and enums, no undefined fields,
`x-ms-error-code` on every error, 400 BadArgument for what the service refuses, 401 for bad credentials.

The required fields and enums below are those of Azure/azure-rest-api-specs
`specification/ai/data-plane/Face/` (stable/v1.2 and preview/v1.3-preview.1 `Face.json`).
"""

import re
import time
import uuid

import pytest
import requests

from devtools.face_wire import digest as face_digest
from devtools.local_entra import LocalEntraCredential, issue_token
from shared.adapters.face import FaceRestClient, NewFaceSession
from shared.errors import UpstreamUnavailable

VERSIONS = ("v1.2", "v1.3-preview.1")
OPERATION_STATES = {"NotStarted", "Running", "Succeeded", "Failed", "Canceled"}
DECISIONS = {"uncertain", "realface", "spoofface"}
SESSION_FIELDS = {
    "v1.2": ({"sessionId", "authToken", "status", "results"}, {"modelVersion"}),
    "v1.3-preview.1": (
        {"sessionId", "authToken", "status", "results"},
        {"modelVersion", "isAbuseMonitoringEnabled", "expectedClientIpAddress"},
    ),
}
ATTEMPT_FIELDS = {
    "v1.2": ({"attemptId", "attemptStatus"}, {"result", "error"}),
    "v1.3-preview.1": (
        {"attemptId", "attemptStatus"},
        {"result", "error", "clientInformation", "abuseMonitoringResult"},
    ),
}


def _fields(obj: dict, required: set, optional: set) -> None:
    assert required <= obj.keys(), f"missing {required - obj.keys()}"
    assert obj.keys() <= required | optional, f"undefined {obj.keys() - required - optional}"


def _rectangle(targets: dict) -> None:
    _fields(targets, {"color"}, set())
    _fields(targets["color"], {"faceRectangle"}, set())
    rect = targets["color"]["faceRectangle"]
    _fields(rect, {"top", "left", "width", "height"}, set())
    assert all(isinstance(v, int) for v in rect.values())


def check_session(body: dict, version: str) -> None:
    """Every field of a LivenessSession the contract of `version` requires, with types and enums."""
    _fields(body, *SESSION_FIELDS[version])
    assert isinstance(body["sessionId"], str) and isinstance(body["authToken"], str)
    assert body["status"] in OPERATION_STATES and body.get("modelVersion", "2024-11-15") == "2024-11-15"
    if version == "v1.3-preview.1":
        assert isinstance(body["isAbuseMonitoringEnabled"], bool)
    _fields(body["results"], {"attempts"}, set())
    for attempt in body["results"]["attempts"]:
        _fields(attempt, *ATTEMPT_FIELDS[version])
        assert isinstance(attempt["attemptId"], int) and attempt["attemptStatus"] in OPERATION_STATES
        if "result" in attempt:
            _fields(attempt["result"], {"targets", "digest"}, {"livenessDecision", "sessionImageId"})
            assert attempt["result"].get("livenessDecision", "uncertain") in DECISIONS
            _rectangle(attempt["result"]["targets"])
        if "error" in attempt:
            _fields(attempt["error"], {"code", "message", "targets"}, set())
            _rectangle(attempt["error"]["targets"])
        for info in attempt.get("clientInformation", []):
            _fields(info, {"ip"}, set())
        if "abuseMonitoringResult" in attempt:
            verdict = attempt["abuseMonitoringResult"]
            _fields(verdict, {"isAbuseDetected", "otherFlaggedSessions"}, set())
            assert isinstance(verdict["isAbuseDetected"], bool)
            for other in verdict["otherFlaggedSessions"]:
                _fields(other, {"attemptId", "sessionId"}, {"sessionImageId"})


def check_error(response: requests.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    _fields(body, {"error"}, set())
    _fields(body["error"], {"code", "message"}, set())
    assert response.headers["x-ms-error-code"] == body["error"]["code"]
    if code:
        assert body["error"]["code"] == code


@pytest.fixture(params=VERSIONS)
def version(request) -> str:
    return request.param


def url(face, version: str, path: str = "") -> str:
    return f"{face.endpoint}/face/{version}/detectLiveness-sessions{path}"


def create(face, version: str, key_headers: dict | None = None, **body) -> requests.Response:
    payload = {"livenessOperationMode": "Passive", "deviceCorrelationId": str(uuid.uuid4())} | body
    headers = key_headers if key_headers is not None else {"Ocp-Apim-Subscription-Key": face.key}
    return requests.post(url(face, version), json=payload, headers=headers, timeout=5)


def get(face, version: str, session_id: str) -> requests.Response:
    return requests.get(
        url(face, version, f"/{session_id}"), headers={"Ocp-Apim-Subscription-Key": face.key}, timeout=5
    )


def attempt(face, session: dict, **body) -> requests.Response:
    return requests.post(
        url(face, "v1.2", f"/{session['sessionId']}/attempts"),
        json=body,
        headers={"Authorization": f"Bearer {session['authToken']}"},
        timeout=5,
    )


def test_create_get_delete_carry_every_required_field_and_nothing_else(face, version):
    created = create(face, version, **({"numberOfClientAttemptsAllowed": 2} if version != "v1.2" else {}))
    assert created.status_code == 200, created.text
    check_session(created.json(), version)
    session = created.json()
    assert session["results"] == {"attempts": []} and session["status"] == "NotStarted"
    for body in ({"livenessDecision": "spoofface"}, {"error": {"code": "FaceWithMaskDetected", "message": "Mask."}}):
        assert attempt(face, session, **body).status_code == 200
    fetched = get(face, version, session["sessionId"])
    check_session(fetched.json(), version)
    attempts = fetched.json()["results"]["attempts"]
    assert [a["attemptId"] for a in attempts] == [2, 1]  # newest first, as Microsoft's examples list them
    digest = attempts[1]["result"]["digest"]  # derived from the attempt, in the examples' SHA-256 hex form
    assert digest == face_digest(session["sessionId"], 1, "spoofface") and re.fullmatch(r"[0-9A-F]{64}", digest)
    assert "livenessOperationMode" not in fetched.json() and "createdDateTime" not in fetched.json()
    assert ("clientInformation" in attempts[0]) is (version == "v1.3-preview.1")

    deleted = requests.delete(
        url(face, version, f"/{session['sessionId']}"), headers={"Ocp-Apim-Subscription-Key": face.key}, timeout=5
    )
    assert deleted.status_code == 204 and deleted.content == b""
    check_error(get(face, version, session["sessionId"]), 404, "SessionNotFound")


def test_a_session_shows_running_while_its_attempt_runs(face, version):
    session = create(face, version).json()
    assert attempt(face, session, livenessDecision="realface", completeAfterSeconds=0.5).status_code == 200
    running = get(face, version, session["sessionId"]).json()
    check_session(running, version)
    assert running["status"] == "Running" and "result" not in running["results"]["attempts"][0]
    time.sleep(0.6)
    assert get(face, version, session["sessionId"]).json()["status"] == "Succeeded"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"livenessModelVersion": "2022-10-15"}, "unsupported model version"),
        ({"enableSessionImage": "yes"}, "enableSessionImage not a boolean"),
        ({"livenessOperationMode": "Active"}, "unknown mode"),
        ({"authTokenTimeToLiveInSeconds": 59}, "ttl below 60"),
        ({"authTokenTimeToLiveInSeconds": "600"}, "ttl not an integer"),
        ({"deviceCorrelationId": None}, "no deviceCorrelationId"),
        ({"deviceCorrelationIdSetInClient": True}, "deviceCorrelationId set although the client sets it"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_body_the_service_refuses_is_400_bad_argument(face, version, body, why):
    check_error(create(face, version, **body), 400, "BadArgument")


@pytest.mark.parametrize(
    "body",
    [
        {"numberOfClientAttemptsAllowed": 4},
        {"numberOfClientAttemptsAllowed": True},
        {"expectedClientIpAddress": "not-an-ip"},
        {"userCorrelationId": 7},
    ],
)
def test_v13_refuses_its_own_fields_out_of_range(face, body):
    check_error(create(face, "v1.3-preview.1", **body), 400, "BadArgument")


def test_the_session_image_id_appears_only_when_asked_for(face, version):
    session = create(face, version, enableSessionImage=True, livenessModelVersion="2024-11-15").json()
    assert attempt(face, session, livenessDecision="realface").status_code == 200
    result = get(face, version, session["sessionId"]).json()["results"]["attempts"][0]["result"]
    assert isinstance(result["sessionImageId"], str)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Ocp-Apim-Subscription-Key": "wrong"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic bG9jYWw6a2V5"},
    ],
    ids=["none", "wrong-key", "not-a-token", "basic"],
)
def test_bad_credentials_are_401_with_the_error_code(face, version, headers):
    check_error(create(face, version, key_headers=headers), 401)


def test_a_session_auth_token_is_never_a_management_credential(face, version):
    session = create(face, version).json()
    bearer = {"Authorization": f"Bearer {session['authToken']}"}
    check_error(requests.get(url(face, version, f"/{session['sessionId']}"), headers=bearer, timeout=5), 401)
    check_error(create(face, version, key_headers=bearer), 401)


def test_only_an_unexpired_local_entra_token_for_cognitive_services_is_accepted(face, version):
    good = issue_token(face.key).token
    assert create(face, version, key_headers={"Authorization": f"Bearer {good}"}).status_code == 200
    for token in (
        issue_token(face.key, ttl_seconds=-10).token,  # expired
        issue_token("another-secret").token,  # not signed by this stack
        issue_token(face.key, audience="https://storage.azure.com").token,  # another resource
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # tampered signature
    ):
        check_error(create(face, version, key_headers={"Authorization": f"Bearer {token}"}), 401)


def test_the_adapter_authenticates_with_a_token_credential(face, version):
    client = FaceRestClient(face.endpoint, credential=LocalEntraCredential(face.key), api_version=version)
    created = client.create_session(NewFaceSession(mode="Passive", device_correlation_id="dev", ttl_seconds=60))
    assert client.get_session(created.session_id).session_id == created.session_id
    wrong = FaceRestClient(face.endpoint, credential=LocalEntraCredential("not-the-key"), api_version=version)
    with pytest.raises(UpstreamUnavailable) as caught:
        wrong.get_session(created.session_id)
    assert caught.value.status == 502  # a credential problem is ours to fix, not a retry


def test_settings_exist_on_v13_only_and_follow_the_contract(face):
    key = {"Ocp-Apim-Subscription-Key": face.key}
    got = requests.get(f"{face.endpoint}/face/v1.3-preview.1/settings", headers=key, timeout=5)
    assert got.status_code == 200 and got.json() == {"livenessAbuseMonitoring": {"enabled": True}}
    check_error(requests.get(f"{face.endpoint}/face/v1.2/settings", headers=key, timeout=5), 404)
    bad = {"livenessAbuseMonitoring": {"enabled": "off"}}
    check_error(requests.patch(f"{face.endpoint}/face/v1.3-preview.1/settings", json=bad, headers=key, timeout=5), 400)
    unauthorised = requests.patch(f"{face.endpoint}/face/v1.3-preview.1/settings", json={}, timeout=5)
    check_error(unauthorised, 401)


def test_v13_refuses_attempts_beyond_the_sessions_allowance(face):
    session = create(face, "v1.3-preview.1", numberOfClientAttemptsAllowed=2).json()
    assert attempt(face, session, livenessDecision="uncertain").status_code == 200
    assert attempt(face, session, livenessDecision="realface").status_code == 200
    check_error(attempt(face, session, livenessDecision="realface"), 429)
    default = create(face, "v1.3-preview.1").json()  # numberOfClientAttemptsAllowed defaults to 1
    assert attempt(face, default, livenessDecision="realface").status_code == 200
    check_error(attempt(face, default, livenessDecision="realface"), 429)


def test_v13_matches_one_face_across_guids_and_abuse_detected_forces_the_verdict(face):
    face_id = f"face-{uuid.uuid4()}"
    verdicts = []
    sessions = []
    for _ in range(3):
        session = create(face, "v1.3-preview.1", userCorrelationId=str(uuid.uuid4())).json()
        sessions.append(session)
        assert attempt(face, session, livenessDecision="realface", faceId=face_id).status_code == 200
        view = get(face, "v1.3-preview.1", session["sessionId"]).json()
        check_session(view, "v1.3-preview.1")
        verdicts.append(view["results"]["attempts"][0]["abuseMonitoringResult"])
    assert [v["isAbuseDetected"] for v in verdicts] == [False, False, True]
    assert {o["sessionId"] for o in verdicts[2]["otherFlaggedSessions"]} == {s["sessionId"] for s in sessions[:2]}

    same_guid = str(uuid.uuid4())  # the same face under one GUID is no abuse
    for _ in range(3):
        session = create(face, "v1.3-preview.1", userCorrelationId=same_guid).json()
        assert attempt(face, session, livenessDecision="realface", faceId=f"solo-{same_guid}").status_code == 200
    assert get(face, "v1.3-preview.1", session["sessionId"]).json()["results"]["attempts"][0][
        "abuseMonitoringResult"
    ] == {"isAbuseDetected": False, "otherFlaggedSessions": []}

    forced = create(face, "v1.3-preview.1").json()
    assert attempt(face, forced, livenessDecision="realface", abuseDetected=True).status_code == 200
    verdict = get(face, "v1.3-preview.1", forced["sessionId"]).json()["results"]["attempts"][0]["abuseMonitoringResult"]
    assert verdict == {"isAbuseDetected": True, "otherFlaggedSessions": []}
