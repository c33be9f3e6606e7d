"""The Face adapter's response models: the official examples parse, a missing required field is noticed,
and v1.3's abuse verdict is read defensively (README.md, Face emulator)."""

import copy

import pytest
from pydantic import ValidationError

from shared.adapters.face import FaceSessionResult, FaceSettings, _parse
from shared.errors import UpstreamUnavailable
from shared.services.sessions import reading_of

RECTANGLE = {"top": 669, "left": 203, "width": 646, "height": 724}
TARGETS = {"color": {"faceRectangle": RECTANGLE}}

# The shapes of Microsoft's examples (azure-rest-api-specs, Face stable/v1.2 and preview/v1.3-preview.1):
# GetLivenessSessionResult lists the newest attempt first; v1.2's example writes "realFace".
V12_GET = {
    "sessionId": "b12e033e-bda7-4b83-a211-e721c661f30e",
    "authToken": "eyJhbGciOiJFUzI1NiIsIm",
    "status": "NotStarted",
    "modelVersion": "2024-11-15",
    "results": {
        "attempts": [
            {
                "attemptId": 2,
                "attemptStatus": "Succeeded",
                "result": {
                    "livenessDecision": "realFace",
                    "targets": TARGETS,
                    "digest": "B0A803BB7B26F3C8F29CD36030F8E63ED3FAF955FEEF8E01C88AB8FD89CCF761",
                    "sessionImageId": "Ae3PVWlXAmVAnXgkAFt1QSjGUWONKzWiSr2iPh9p9G4I",
                },
            },
            {
                "attemptId": 1,
                "attemptStatus": "Failed",
                "error": {
                    "code": "FaceWithMaskDetected",
                    "message": "Mask detected on face image.",
                    "targets": TARGETS,
                },
            },
        ]
    },
}
V13_GET = copy.deepcopy(V12_GET) | {"isAbuseMonitoringEnabled": True}
V13_GET["results"]["attempts"][0]["result"]["livenessDecision"] = "realface"
V13_GET["results"]["attempts"][0]["clientInformation"] = [{"ip": "73.21.34.122"}]
V13_GET["results"]["attempts"][0]["abuseMonitoringResult"] = {
    "isAbuseDetected": True,
    "otherFlaggedSessions": [
        {"attemptId": 1, "sessionId": "b12e033e-bda7-4b83-a211-e721c661f30e", "sessionImageId": "Ae3PVW"}
    ],
}
V13_GET["results"]["attempts"][1]["clientInformation"] = [{"ip": "73.21.34.122"}]
V13_CREATE = {
    "sessionId": "b12e033e-bda7-4b83-a211-e721c661f30e",
    "authToken": "eyJhbGciOiJFUzI1NiIsIm",
    "status": "NotStarted",
    "modelVersion": "2024-11-15",
    "isAbuseMonitoringEnabled": True,
    "results": {"attempts": []},
}
V13_SETTINGS = {"livenessAbuseMonitoring": {"enabled": True}}
V13_PATCH_SETTINGS_EXAMPLE = {"name": "liveness-abuse-monitoring", "enabled": False}  # flat, unlike the schema


def test_the_official_examples_parse_with_attempts_put_oldest_first():
    for example in (V12_GET, V13_GET):
        session = FaceSessionResult.model_validate(example)
        assert [a.attempt_id for a in session.results.attempts] == [1, 2]
        reading = reading_of(session)
        assert [a.decision.value if a.decision else None for a in reading.attempts] == [None, "realface"]
        assert reading.attempts[0].final and reading.attempts[0].status == "Failed"
    assert FaceSessionResult.model_validate(V13_CREATE).abuse_monitoring_enabled is True
    assert FaceSettings.model_validate(V13_SETTINGS).abuse_monitoring_enabled is True
    assert FaceSettings.model_validate(V13_PATCH_SETTINGS_EXAMPLE).abuse_monitoring_enabled is False


def test_the_v13_example_carries_the_abuse_verdict_and_the_other_session():
    attempt = FaceSessionResult.model_validate(V13_GET).results.attempts[1]
    assert attempt.abuse.detected is True
    assert [(f.session_id, f.attempt_id) for f in attempt.abuse.flagged_sessions] == [
        ("b12e033e-bda7-4b83-a211-e721c661f30e", 1)
    ]
    assert FaceSessionResult.model_validate(V13_GET).results.attempts[0].abuse.detected is False  # none sent


def _without(path: tuple, example: dict = V13_GET) -> dict:
    broken = copy.deepcopy(example)
    node = broken
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return broken


@pytest.mark.parametrize(
    "path",
    [
        ("sessionId",),
        ("authToken",),
        ("status",),
        ("results",),
        ("results", "attempts"),
        ("results", "attempts", 0, "attemptId"),
        ("results", "attempts", 0, "attemptStatus"),
        ("results", "attempts", 0, "result", "digest"),
        ("results", "attempts", 0, "result", "targets"),
        ("results", "attempts", 0, "result", "targets", "color", "faceRectangle"),
        ("results", "attempts", 0, "result", "targets", "color", "faceRectangle", "width"),
        ("results", "attempts", 1, "error", "code"),
        ("results", "attempts", 1, "error", "message"),
        ("results", "attempts", 1, "error", "targets"),
        ("results", "attempts", 1, "clientInformation", 0, "ip"),
    ],
    ids=lambda p: ".".join(map(str, p)),
)
def test_a_missing_required_field_is_noticed_as_an_unreadable_answer(path):
    with pytest.raises(ValidationError):
        FaceSessionResult.model_validate(_without(path))
    with pytest.raises(UpstreamUnavailable) as caught:
        _parse(FaceSessionResult, _without(path))
    assert caught.value.status == 502


def test_settings_without_the_enabled_flag_are_unreadable():
    with pytest.raises(ValidationError):
        FaceSettings.model_validate({"livenessAbuseMonitoring": {}})
    with pytest.raises(ValidationError):
        FaceSettings.model_validate({"name": "liveness-abuse-monitoring"})


def _verdict(raw_result: object) -> tuple[bool, int]:
    example = copy.deepcopy(V13_GET)
    attempt = example["results"]["attempts"][0]
    if raw_result is ...:
        del attempt["abuseMonitoringResult"]
    else:
        attempt["abuseMonitoringResult"] = raw_result
    parsed = FaceSessionResult.model_validate(example).results.attempts[1].abuse
    return parsed.detected, len(parsed.flagged_sessions)


OTHER = [{"attemptId": 1, "sessionId": "other-session"}]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"isAbuseDetected": True, "otherFlaggedSessions": OTHER}, (True, 1)),
        ({"isAbuseDetected": "true", "otherFlaggedSessions": OTHER}, (True, 1)),
        ({"isAbuseDetected": "True", "otherFlaggedSessions": []}, (True, 0)),
        ({"isAbuseDetected": False, "otherFlaggedSessions": []}, (False, 0)),
        ({"isAbuseDetected": "false", "otherFlaggedSessions": OTHER}, (False, 1)),
        ({"isAbuseDetected": {}, "otherFlaggedSessions": OTHER}, (True, 1)),  # an object: the evidence decides
        ({"isAbuseDetected": {}, "otherFlaggedSessions": []}, (False, 0)),
        ({"otherFlaggedSessions": OTHER}, (True, 1)),  # isAbuseDetected missing
        ({"isAbuseDetected": None}, (False, 0)),
        ({"isAbuseDetected": True, "otherFlaggedSessions": "garbage"}, (True, 0)),
        ({"isAbuseDetected": True, "otherFlaggedSessions": [{"sessionId": 5}, *OTHER]}, (True, 1)),  # bad entry
        ({"isAbuseDetected": True, "otherFlaggedSessions": OTHER, "severity": "high"}, (True, 1)),  # unknown
        ("not an object", (False, 0)),
        (..., (False, 0)),  # no abuseMonitoringResult at all (v1.2, or monitoring off)
    ],
    ids=[
        "true",
        "string-true",
        "string-True",
        "false",
        "string-false",
        "object-with-evidence",
        "object-without-evidence",
        "missing-with-evidence",
        "null",
        "flagged-not-a-list",
        "bad-entry-skipped",
        "unknown-field",
        "result-not-an-object",
        "result-missing",
    ],
)
def test_the_abuse_verdict_is_read_defensively(raw, expected):
    assert _verdict(raw) == expected


def test_unknown_fields_anywhere_are_ignored():
    example = copy.deepcopy(V13_GET) | {"livenessOperationMode": "Passive", "createdDateTime": "2026-01-01T00:00:00Z"}
    example["results"]["attempts"][0]["futureField"] = {"x": 1}
    example["results"]["attempts"][0]["result"]["futureScore"] = 0.9
    session = FaceSessionResult.model_validate(example)
    assert session.results.attempts[1].result is not None and session.results.attempts[1].result.digest


def test_the_monitoring_flag_typed_as_object_is_read_defensively():
    for raw, expected in ((True, True), ("false", False), ({}, None), (None, None)):
        assert (
            FaceSessionResult.model_validate(V13_CREATE | {"isAbuseMonitoringEnabled": raw}).abuse_monitoring_enabled
            is expected
        )
