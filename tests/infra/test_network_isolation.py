"""Both shapes of the vnetEnabled switch, read offline from the Bicep (devtools/network_check): off
deploys no network and leaves the resources public (Entra ID only); on makes storage, Face and Key
Vault reachable only through private endpoints. Broken copies are reported."""

from pathlib import Path

import pytest

from devtools import network_check
from devtools.infra_check import ROOT, check, parse
from tests.infra.breakage import broken_copy

INFRA = ROOT / "infra"
SAMPLE = ROOT / "local.settings.sample.json"


def _files(infra: Path) -> dict:
    return {p.relative_to(infra).as_posix(): parse(p) for p in sorted(infra.rglob("*.bicep"))}


def test_off_is_the_public_shape_with_no_network():
    off = network_check.shape(_files(INFRA), vnet=False)
    assert off.public_access == {"storage": "Enabled", "face": "Enabled", "vault": "Enabled"}
    assert not off.network and off.endpoints == set() and off.app_subnet == ""


def test_on_makes_every_data_plane_resource_private():
    on = network_check.shape(_files(INFRA), vnet=True)
    assert on.public_access == {"storage": "Disabled", "face": "Disabled", "vault": "Disabled"}
    assert on.default_action == {"storage": "Deny", "face": "Deny", "vault": "Deny"}
    assert on.endpoints == network_check.PRIVATE_TARGETS
    assert on.network and on.app_subnet == network_check.Ref("network", "appSubnetId")


def test_the_switch_defaults_to_off_as_in_the_azd_template():
    assert parse(INFRA / "main.bicep")["parameters"]["vnetEnabled"]["default"] is False


BREAKAGES = [
    (
        "main.bicep",
        "    targetId: vault.outputs.id\n",
        "    targetId: face.outputs.id\n",
        "vnetEnabled=true: vault has no private endpoint for vault",
    ),
    (
        "main.bicep",
        "var storageServices = [\n  'blob'\n  'queue'\n  'table'\n]",
        "var storageServices = [\n  'blob'\n  'table'\n]",
        "vnetEnabled=true: storage has no private endpoint for queue",
    ),
    (
        "main.bicep",
        "    skuName: faceSkuName\n    privateOnly: vnetEnabled\n",
        "    skuName: faceSkuName\n",
        "vnetEnabled=true: face must be private",
    ),
    (
        "main.bicep",
        "    publicNetworkAccess: publicNetworkAccess\n",
        "    publicNetworkAccess: 'Enabled'\n",
        "vnetEnabled=true: storage must be private",
    ),
    (
        "app/keyvault.bicep",
        "      defaultAction: privateOnly ? 'Deny' : 'Allow'\n",
        "      defaultAction: 'Allow'\n",
        "vnetEnabled=true: vault must be private",
    ),
    (
        "main.bicep",
        "    subnetId: vnetEnabled ? network.outputs.appSubnetId : ''\n",
        "",
        "the function app is not integrated",
    ),
    (
        "main.bicep",
        "var privateStorageServices = vnetEnabled ? storageServices : []",
        "var privateStorageServices = storageServices",
        "vnetEnabled=false must deploy no virtual network and no private endpoint",
    ),
]


def _module_text(text: str, symbol: str) -> str:
    """A module declaration of main.bicep, whole (to cut it out of a copy)."""
    start = text.index(f"module {symbol} ")
    return text[start : text.index("\n}\n", start) + 3]


@pytest.mark.parametrize(("file", "old", "new", "expected"), BREAKAGES, ids=[b[3] for b in BREAKAGES])
def test_a_broken_copy_is_reported(tmp_path: Path, file: str, old: str, new: str, expected: str):
    copy = broken_copy(tmp_path, file, old, new)
    problems = check(copy, SAMPLE)
    assert any(expected in p for p in problems), problems


def test_a_copy_with_one_endpoint_module_removed_is_reported(tmp_path: Path):
    copy = broken_copy(tmp_path, "main.bicep", _module_text((INFRA / "main.bicep").read_text(), "faceEndpoint"), "")
    assert "vnetEnabled=true: face has no private endpoint for account" in check(copy, SAMPLE)
