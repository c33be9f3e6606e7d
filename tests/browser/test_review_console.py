"""The review console in real headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from devtools.run import LocalStack, flag_subject
from tests.browser.conftest import ARTIFACTS, open_view


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    logs = tmp_path_factory.mktemp("console")
    stack = LocalStack.isolated(logs).start()
    yield stack
    stack.stop()


def flagged(stack) -> tuple[str, str, dict]:
    customer = stack.create_customer("Console", "c@contoso.example")
    guid = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    flag_subject(stack, customer["apiKey"], guid)
    detail = requests.get(
        f"{stack.base_url}/v1/review/subjects/{customer['customerId']}/{guid}", headers=stack.admin_headers, timeout=10
    ).json()
    return customer["customerId"], guid, detail


def test_a_reviewer_finds_the_flag_reads_its_chart_and_overrides_it(stack, browser):
    customer_id, guid, detail = flagged(stack)
    admin_key = stack.environment()["ADMIN_API_KEY"]
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    page.goto(f"{stack.base_url}/v1/review")

    # sign in with the keyboard only
    page.get_by_label("Administrator key").focus()
    page.keyboard.type(admin_key)
    page.keyboard.press("Enter")

    # the flagged subject is listed; open it from the keyboard
    row_button = page.locator(f"button[data-open='{guid}']")
    row_button.wait_for()
    assert "3 spoofface decisions" in page.locator("#flag-table tbody tr").first.inner_text()
    row_button.focus()
    page.keyboard.press("Enter")

    # the chart has one point per retained event, and the same events are in the table
    chart = page.locator("#chart[data-points]")
    chart.wait_for()
    assert int(chart.get_attribute("data-points")) == len(detail["timeline"]) == 7  # 3 sessions, 3 attempts, the flag
    assert page.locator("#chart canvas").count() == 1
    assert page.locator("#timeline tbody tr").count() == 7
    assert "Sessions\nrefused (flagged)" in page.locator("#subject-facts").inner_text()  # the gate, in words
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-console-subject.png"), full_page=True)

    # override with a reason, through the confirmation step
    page.get_by_label("Override (not abuse: retire this ID and issue a new one)").check()
    page.get_by_label("Guideline followed (required)").select_option("insufficient-evidence")
    assert "when in doubt" in page.locator("#guideline-text").inner_text()  # the rule, beside the form
    page.get_by_label("Reason (required, shown in the audit log)").fill("Glare on the camera, a real person")
    page.get_by_role("button", name="Review decision…").click()
    assert "retired and a new correlation ID issued" in page.locator("#confirm-text").inner_text()
    page.get_by_role("button", name="Confirm").click()
    new_guid = page.locator("#new-guid").inner_text()
    assert new_guid and new_guid != guid

    # the API agrees
    admin = {"x-admin-key": admin_key}
    old = requests.get(f"{stack.base_url}/v1/review/subjects/{customer_id}/{guid}", headers=admin, timeout=10).json()
    assert old["status"] == "retired" and old["replacedBy"] == new_guid
    new = requests.get(
        f"{stack.base_url}/v1/review/subjects/{customer_id}/{new_guid}", headers=admin, timeout=10
    ).json()
    assert new["replaces"] == guid and new["status"] == "active"

    # the key never left the page's memory
    stored = page.evaluate("JSON.stringify([localStorage, sessionStorage, document.cookie, location.href])")
    assert admin_key not in stored
    page.close()


def test_a_wrong_key_is_refused_and_the_page_has_no_data_without_one(stack, browser):
    page = browser.new_page()
    page.goto(f"{stack.base_url}/v1/review")
    page.get_by_label("Administrator key").fill("not-the-key-not-the-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_contain_text("not accepted")
    assert page.locator("#flags").is_hidden()
    page.close()


def test_console_page_sends_a_strict_content_security_policy(stack):
    response = requests.get(f"{stack.base_url}/v1/review", timeout=10)
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert requests.get(f"{stack.base_url}/v1/review/assets/../../function_app.py", timeout=10).status_code == 404
    assert requests.get(f"{stack.base_url}/v1/review/assets/secrets.json", timeout=10).status_code == 404
    assert "uPlot" in requests.get(f"{stack.base_url}/v1/review/assets/uPlot.iife.min.js", timeout=10).text


def test_a_reviewer_reads_a_customers_response_and_accepts_it_with_the_keyboard(stack, browser):
    import time

    customer = stack.create_customer("Determined", "d@contoso.example")
    key, customer_id = customer["apiKey"], customer["customerId"]
    guid = "3f2504e0-4f89-41d3-9a0c-0305e82c3302"
    flag_subject(stack, key, guid)
    admin = stack.admin_headers
    confirmed = requests.post(
        f"{stack.base_url}/v1/review/subjects/{customer_id}/{guid}/decision",
        json={"decision": "confirm", "reason": "spoof attempts", "guidelineId": "repeated-spoof"},
        headers=admin,
        timeout=10,
    )
    assert confirmed.status_code == 200
    items: list = []
    for _ in range(100):  # the host's queue trigger opens the determination within seconds
        items = requests.get(f"{stack.base_url}/v1/determinations", headers={"x-api-key": key}, timeout=10).json()[
            "items"
        ]
        if items:
            break
        time.sleep(0.2)
    [determination] = items
    the_id = determination["determinationId"]
    answered = requests.post(
        f"{stack.base_url}/v1/determinations/{the_id}/response",
        json={"explanation": "one account of a fraud ring", "remediation": "closed it, added document checks"},
        headers={"x-api-key": key},
        timeout=10,
    )
    assert answered.status_code == 202

    page = open_view(browser, stack, "Determinations")

    read = page.locator(f"button[data-determination='{the_id}']")
    read.wait_for()
    read.focus()
    page.keyboard.press("Enter")
    facts = page.locator("#determination-facts")
    expect(facts).to_contain_text("closed it, added document checks")
    page.screenshot(path=str(ARTIFACTS / "review-console-determination.png"), full_page=True)

    page.get_by_label("Accept (remediated)").focus()
    page.keyboard.press("Space")
    page.get_by_label("Reason (required, shown to the customer and in the audit log)").fill("Checks look sound")
    page.get_by_role("button", name="Resolve…").click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#resolve-outcome")).to_contain_text("remediated")
    page.close()

    after = requests.get(f"{stack.base_url}/v1/determinations", headers={"x-api-key": key}, timeout=10).json()
    assert after["items"][0]["status"] == "remediated"
