from tests.integration.helpers import checked_attempt, consented_subject, new_customer, new_session


def test_client_story_consent_session_attempt_result(api, face):
    _, key = new_customer(api)
    guid = consented_subject(api, key)
    created = new_session(api, key, guid)
    assert created.status == 201, created.body
    session = created.json
    assert session["callsAllowed"] == 5
    answer = checked_attempt(api, face.endpoint, session, "realface")
    assert answer.json == {
        "sessionId": session["sessionId"],
        "status": "Succeeded",
        "livenessDecision": "realface",
        "attempts": 1,
        "subjectStatus": "active",
    }
