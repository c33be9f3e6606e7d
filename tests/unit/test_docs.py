"""The README is the front door: every link it (and docs/) gives resolves inside the repository,
so someone who clones it finds the contract it points to."""

import re
from pathlib import Path

import pytest

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
