"""Browser tests: Debian's headless Chromium driven by Playwright (skipped where it cannot be installed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip(
            "Chromium is not installed (make test installs Debian's chromium where it can): browser tests skipped"
        )
    from playwright.sync_api import sync_playwright  # imported here: only when a browser exists

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


def open_view(browser, stack, view: str, height: int = 1200):
    """A console page signed in with the administrator key and switched to `view`, by keyboard only."""
    page = browser.new_page(viewport={"width": 1200, "height": height})
    page.goto(f"{stack.base_url}/v1/review")
    page.get_by_label("Administrator key").focus()
    page.keyboard.type(stack.environment()["ADMIN_API_KEY"])
    page.keyboard.press("Enter")
    button = page.get_by_role("button", name=view)
    button.wait_for()
    button.focus()
    page.keyboard.press("Enter")
    return page


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(browser, stack, view: str) -> list[dict]:
    """axe-core's WCAG violations on a console view (the page's CSP is bypassed only to load axe)."""

    class WithoutCsp:
        def new_page(self, viewport):
            return browser.new_context(bypass_csp=True, viewport=viewport).new_page()

    page = open_view(WithoutCsp(), stack, view)
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run()).violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    page.close()
    return found
