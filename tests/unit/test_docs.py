"""The README is the front door: every link it (and docs/) gives resolves inside the repository,
so someone who clones it finds the contract it points to."""

import re
from pathlib import Path

import pytest

from shared.api.router import ROUTES
from shared.blueprints import blueprints

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.name for d in DOCUMENTS])
def test_every_relative_link_resolves_inside_the_repository(document: Path):
    for target in LINK.findall(document.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue  # an absolute URL
        resolved = (document.parent / target).resolve()
        assert resolved.is_relative_to(ROOT), f"{document.name} links outside the repository: {target}"
        assert resolved.exists(), f"{document.name} links to a missing file: {target}"


def test_the_readme_points_to_the_contract_in_the_repository():
    readme = (ROOT / "README.md").read_text()
    for page in ("docs/api.md", "docs/abuse-policy.md", "docs/retention.md", "/api/v1/docs"):
        assert page in readme


OUTSIDE = re.compile(r"\bSPEC(?:'s| sections?| \d)|\.\./shared/|\bFACTS\.md|\bDESIGN\.md")


def test_nothing_cites_a_document_outside_the_repository():
    """Comments and docs cite docs/ (or the README), never the team kit beside the checkout."""
    sources = [p for d in ("shared", "tests", "devtools", "bench", "docs", "infra") for p in (ROOT / d).rglob("*")]
    texts = [
        p for p in [*sources, ROOT / "README.md", ROOT / "function_app.py"] if p.suffix in (".py", ".md", ".bicep")
    ]
    cited = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in texts for m in OUTSIDE.finditer(p.read_text())]
    assert [c for c in cited if not c.startswith("tests/unit/test_docs.py")] == []


def test_the_readme_settings_table_is_one_table_and_names_every_port_variable():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("| setting | default | meaning |", 1)[1].split("\n<!--", 1)[0].strip().splitlines()
    assert all(line.startswith("|") for line in table)
    assert any("RETENTION_PAGE_SIZE" in line for line in table) and any("FEEDBACK_RATE_LIMIT" in line for line in table)
    run = (ROOT / "devtools" / "run.py").read_text()
    for variable in set(re.findall(r"LG_[A-Z_]+_PORT", run)):
        assert f"`{variable}`" in readme, variable


def test_every_route_is_listed_in_the_api_contract():
    """docs/api.md is the contract: every client, review and manage route appears there."""
    contract = (ROOT / "docs" / "api.md").read_text()
    listed = {(m, re.sub(r"\{[^}]+\}", "{}", path)) for m, path in re.findall(r"`([A-Z]+) (/[^`?\s]*)", contract)}
    blueprints()
    routes = [r for r in ROUTES.values() if not r.route.startswith("{")]
    missing = [
        (method, r.route)
        for r in routes
        for method in r.methods
        if (method, re.sub(r"\{[^}]+\}", "{}", "/" + r.route.removeprefix("v1/"))) not in listed
        and "assets" not in r.route
    ]
    assert missing == []


@pytest.mark.parametrize("package", ["domain", "adapters", "services", "api", "triggers"])
def test_the_readme_layout_table_names_every_module(package: str):
    readme = (ROOT / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith(f"| `shared/{package}/`"))
    named = set(re.findall(r"`([a-z_]+)`", row))
    modules = {p.stem for p in (ROOT / "shared" / package).glob("*.py") if p.stem != "__init__"}
    assert sorted(modules - named) == []


def test_the_readme_layout_table_names_every_top_level_module():
    readme = (ROOT / "README.md").read_text()
    modules = {p.name for p in (ROOT / "shared").glob("*.py") if p.stem != "__init__"}
    assert sorted(m for m in modules if f"| `shared/{m}` |" not in readme) == []
