"""The console's Overview in real headless Chromium: after a scenario (two flags, a confirmation, an
override, feedback) its charts and tables show exactly what GET /review/overview reports."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import requests

from devtools.run import LocalStack, flag_subject
from tests.browser.conftest import ARTIFACTS, AXE, axe_violations, open_view


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = LocalStack.isolated(tmp_path_factory.mktemp("overview")).start()
    yield stack
    stack.stop()


def decide(stack, customer_id: str, guid: str, decision: str) -> None:
    response = requests.post(
        f"{stack.base_url}/v1/review/subjects/{customer_id}/{guid}/decision",
        json={"decision": decision, "reason": "reviewed", "guidelineId": "repeated-spoof"},
        headers=stack.admin_headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text


def overview(stack) -> dict:
    response = requests.get(f"{stack.base_url}/v1/review/overview?days=30", headers=stack.admin_headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def scenario(stack):
    customer = stack.create_customer("Overview", "o@contoso.example")
    confirmed, overridden = "6f1c1f0e-3b1a-4c55-9d7e-2f4a8a0b9c21", "6f1c1f0e-3b1a-4c55-9d7e-2f4a8a0b9c22"
    for guid in (confirmed, overridden):
        flag_subject(stack, customer["apiKey"], guid)
    decide(stack, customer["customerId"], confirmed, "confirm")
    decide(stack, customer["customerId"], overridden, "override")
    for category in ("false_rejection", "false_rejection", "accessibility"):
        sent = requests.post(f"{stack.base_url}/v1/feedback", json={"category": category, "message": "m"}, timeout=30)
        assert sent.status_code == 202
    deadline = time.monotonic() + 60
    while (seen := overview(stack))["decisions"]["confirm"] < 1 and time.monotonic() < deadline:
        time.sleep(0.5)  # the confirmation is counted when the queue trigger processes its message
    return seen


def test_the_api_reports_the_scenario(scenario):
    assert scenario["flagsByReason"] == {"spoofface": 2}
    assert scenario["decisions"] == {"confirm": 1, "override": 1, "reset": 0}
    assert scenario["overrideRateByReason"] == {"spoofface": 0.5}
    assert scenario["feedbackByCategory"] == {"accessibility": 1, "false_rejection": 2}
    assert scenario["pending"] == 0 and scenario["overdue"] == 0
    assert len(scenario["days"]) == 30


def test_the_overview_page_shows_the_same_numbers_as_charts_and_tables(stack, browser, scenario):
    page = open_view(browser, stack, "Overview", height=1600)

    chart = page.locator("#overview-chart[data-points]")
    chart.wait_for()
    assert int(chart.get_attribute("data-points")) == 30  # one point per day
    assert page.locator("#overview-chart canvas").count() == 1
    assert page.locator("#overview-rules-chart canvas").count() == 1

    days = [row.inner_text().split("\t") for row in page.locator("#overview-days tbody tr").all()]
    assert [d[0] for d in days] == [d["date"] for d in scenario["days"]]
    today = datetime.now(UTC).date().isoformat()
    assert [d[1:] for d in days if d[0] == today] == [["2", "1", "1"]]
    assert sum(int(d[1]) for d in days) == 2  # no other day has a flag

    rules = [row.inner_text().split("\t") for row in page.locator("#overview-rules tbody tr").all()]
    assert rules == [["spoofface", "2", "50%"]]
    feedback = [row.inner_text().split("\t") for row in page.locator("#overview-feedback tbody tr").all()]
    assert feedback == [["accessibility", "1"], ["false_rejection", "2"]]
    facts = page.locator("#overview-facts").inner_text()
    assert "Pending review\n0" in facts and "1 confirmed, 1 overridden, 0 reset" in facts

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-console-overview.png"), full_page=True)
    page.close()


def test_the_policy_view_charts_the_evaluation_with_every_number_and_tries_a_candidate(stack, browser):
    live = requests.get(f"{stack.base_url}/v1/review/policy-evaluation", headers=stack.admin_headers, timeout=60)
    assert live.status_code == 200, live.text
    page = open_view(browser, stack, "Policy", height=2200)
    page.locator("#policy-attack-chart[data-points]").wait_for()
    assert page.locator("#policy-honest-chart canvas").count() == 1
    assert page.locator("#policy-attack-chart canvas").count() == 1
    honest = [row.inner_text().split("\t") for row in page.locator("#policy-honest tbody tr").all()]
    assert [h[2] for h in honest] == [str(h["flaggedPer10000"]) for h in live.json()["honest"]]
    attacks = page.locator("#policy-attack tbody tr")
    assert attacks.count() == len(live.json()["attackers"])

    page.get_by_label("Spoofface decisions that flag (POLICY_SPOOFS_TO_FLAG)").fill("5")
    page.get_by_role("button", name="Evaluate beside the live settings").click()
    page.get_by_text("Candidate settings evaluated beside the live ones.").wait_for()
    first = page.locator("#policy-attack tbody tr").first.inner_text().split("\t")
    assert first[0] == "one_guid" and first[3] == "3 → 5"  # attempts to the flag, live then candidate
    page.get_by_label("Spoofface decisions that flag (POLICY_SPOOFS_TO_FLAG)").fill("99")
    page.get_by_role("button", name="Evaluate beside the live settings").click()
    page.locator("#policy-error:has-text('POLICY_SPOOFS_TO_FLAG')").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-console-policy.png"), full_page=True)
    page.close()


def _seed_opinions(stack) -> None:
    """Three answered second opinions, written as the app writes them (the browser stack's only
    identity is the administrator key, which cannot be its own second reviewer)."""
    from shared.adapters.opinion_store import OpinionStore
    from shared.adapters.tables import Tables
    from shared.domain.calibration import Opinion
    from shared.settings import load_settings

    store = OpinionStore(Tables.from_settings(load_settings(stack.environment())))
    now = datetime.now(UTC)
    for n, (first, second) in enumerate((("confirm", "confirm"), ("override", "override"), ("confirm", "override"))):
        store.keep(
            Opinion(
                opinion_id=f"{n + 1:032x}",
                customer_id="c" * 32,
                correlation_id=f"subject:{n}",
                asked_at=now,
                first=first,
                first_guideline="repeated-spoof",
                first_by="ana@contoso.example",
                first_by_id="oid-ana",
                second=second,
                second_by="ben@contoso.example",
                second_by_id="oid-ben",
                answered_at=now,
                reason="seen differently" if first != second else None,
            )
        )


def test_the_calibration_view_shows_agreement_and_kappa_as_the_api_reports_them(stack, browser):
    _seed_opinions(stack)
    api = requests.get(f"{stack.base_url}/v1/review/calibration?days=90", headers=stack.admin_headers, timeout=30)
    assert api.status_code == 200 and api.json()["overall"]["kappa"] == 0.4
    page = open_view(browser, stack, "Calibration", height=1400)
    page.locator("#calibration-chart[data-points='1']").wait_for()
    assert page.locator("#calibration-chart canvas").count() == 1
    guidelines = [row.inner_text().split("\t") for row in page.locator("#calibration-guidelines tbody tr").all()]
    assert guidelines == [["repeated-spoof", "3", "66.7%", "0.40"]]
    assert page.locator("#calibration-disagreements tbody tr").count() == 1  # the administrator key sees it
    assert "Kappa\n0.40" in page.locator("#calibration-facts").inner_text()
    page.close()


@pytest.mark.parametrize("view", ["Overview", "Flags", "Determinations", "Policy", "Calibration"])
def test_the_console_views_have_no_accessibility_violations(stack, browser, scenario, view):
    assert axe_violations(browser, stack, view) == []  # axe-core's WCAG 2 A/AA rules


def test_the_api_reference_page_nests_no_landmark_of_its_own_and_asks_for_no_missing_file(stack, browser):
    """Swagger UI renders its own <main>s; the page must not wrap them in another, and must not make
    the browser ask for a favicon that is not there."""
    page = browser.new_context(bypass_csp=True).new_page()
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    page.goto(f"{stack.base_url}/v1/docs")
    page.wait_for_selector("#operations")
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE))
    rules = ["landmark-main-is-top-level", "landmark-banner-is-top-level", "landmark-no-duplicate-banner"]
    found = page.evaluate(
        "async (rules) => (await axe.run({runOnly: {type: 'rule', values: rules}})).violations.map(v => v.id)", rules
    )
    page.close()
    assert found == [] and missing == []
