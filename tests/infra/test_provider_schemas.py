"""The Bicep against the resource providers' own models (devtools/schema_check, offline): the real
infra/ passes, and a copy with a misspelled property or a value the provider's enum lacks fails."""

from pathlib import Path

import pytest

from devtools.infra_check import ROOT
from devtools.schema_check import MODELS, check, resources
from tests.infra.breakage import broken_copy

INFRA = ROOT / "infra"


def test_every_raw_resource_in_infra_matches_its_providers_model():
    problems, _ = check(INFRA)
    assert problems == []


def test_every_raw_resource_type_in_infra_has_a_model():
    found = {r.type for r in resources(INFRA)}
    assert found <= set(MODELS)
    assert {"Microsoft.Web/sites", "Microsoft.KeyVault/vaults", "Microsoft.Network/privateEndpoints"} <= found


def test_a_resource_type_without_a_model_is_reported_not_skipped(tmp_path: Path):
    resource = "resource extra 'Microsoft.Cache/redis@2024-03-01' = {\n  name: 'x'\n  location: 'global'\n}\n"
    copy = broken_copy(tmp_path, "app/face.bicep", "output name string", resource + "output name string")
    problems, _ = check(copy)
    assert any("no model is known for Microsoft.Cache/redis" in p for p in problems), problems


def test_a_differing_api_version_is_said_not_hidden():
    _, notes = check(INFRA)
    assert any("Microsoft.Web/sites: the Bicep uses 2024-04-01, the SDK's model is of" in n for n in notes)


BREAKAGES = [
    (
        "app/face.bicep",
        "publicNetworkAccess:",
        "publicNetworkAcess:",
        "face (Microsoft.CognitiveServices/accounts@2024-10-01): properties.publicNetworkAcess is not a property",
    ),
    (
        "app/api.bicep",
        "ftpsState: 'Disabled'",
        "ftpsState: 'Off'",
        "properties.siteConfig.ftpsState = 'Off' is not one of AllAllowed, Disabled, FtpsOnly",
    ),
    (
        "app/api.bicep",
        "unauthenticatedClientAction: 'AllowAnonymous'",
        "unauthenticatedClientAction: 'Allow'",
        "globalValidation.unauthenticatedClientAction = 'Allow' is not one of",
    ),
    ("app/keyvault.bicep", "enableRbacAuthorization:", "enableRbacAuthorisation:", "enableRbacAuthorisation is not"),
    ("app/alerts.bicep", "autoMitigate:", "autoMitigated:", "autoMitigated is not a property"),
    ("app/rbac.bicep", "principalType:", "principleType:", "principleType is not a property"),
    ("app/communication.bicep", "dataLocation:", "dataLocale:", "dataLocale is not a property"),
]


@pytest.mark.parametrize(("file", "old", "new", "expected"), BREAKAGES, ids=[b[2] for b in BREAKAGES])
def test_a_broken_copy_is_reported(tmp_path: Path, file: str, old: str, new: str, expected: str):
    copy = broken_copy(tmp_path, file, old, new)
    problems, _ = check(copy)
    assert any(expected in p for p in problems), problems
