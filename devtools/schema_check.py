"""Every property set on a raw `resource` in infra/ checked against the resource provider's own
model: the Python management SDKs (`azure-mgmt-web`, `-communication`, `-cognitiveservices`,
`-keyvault`, `-monitor`, `-authorization`, `-network`, `-privatedns`; test dependencies only) name
every property and enum of their API version. A property path the model does not have, or a literal
enum value it does not allow, is a problem; where the SDK's API version differs from the Bicep's, the report says so.

    python -m devtools.schema_check [infra]

Offline, so it proves names and enum values, not that a region or a subscription accepts them.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import re
import sys
import typing
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from devtools.infra_check import ROOT, parse

# resource type -> (SDK package, model class, the operations module whose default API version the
# model is of, when the package mixes versions by operation group); the class is the request body
MODELS: dict[str, tuple[str, str, str | None]] = {
    "Microsoft.Web/sites": ("azure.mgmt.web", "Site", None),
    "Microsoft.Web/sites/config": ("azure.mgmt.web", "SiteAuthSettingsV2", None),
    "Microsoft.Communication/emailServices": ("azure.mgmt.communication", "EmailServiceResource", None),
    "Microsoft.Communication/emailServices/domains": ("azure.mgmt.communication", "DomainResource", None),
    "Microsoft.Communication/communicationServices": (
        "azure.mgmt.communication",
        "CommunicationServiceResource",
        None,
    ),
    "Microsoft.CognitiveServices/accounts": ("azure.mgmt.cognitiveservices", "Account", None),
    "Microsoft.KeyVault/vaults": ("azure.mgmt.keyvault", "VaultCreateOrUpdateParameters", None),
    "Microsoft.KeyVault/vaults/secrets": ("azure.mgmt.keyvault", "SecretCreateOrUpdateParameters", None),
    "Microsoft.Insights/scheduledQueryRules": (
        "azure.mgmt.monitor",
        "ScheduledQueryRuleResource",
        "_scheduled_query_rules_operations",
    ),
    "Microsoft.Insights/actionGroups": ("azure.mgmt.monitor", "ActionGroupResource", "_action_groups_operations"),
    "Microsoft.Network/virtualNetworks": ("azure.mgmt.network", "VirtualNetwork", "_operations"),
    "Microsoft.Network/networkSecurityGroups": ("azure.mgmt.network", "NetworkSecurityGroup", "_operations"),
    "Microsoft.Network/privateEndpoints": ("azure.mgmt.network", "PrivateEndpoint", "_operations"),
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": (
        "azure.mgmt.network",
        "PrivateDnsZoneGroup",
        "_operations",
    ),
    "Microsoft.Network/privateDnsZones": ("azure.mgmt.privatedns", "PrivateZone", None),
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": ("azure.mgmt.privatedns", "VirtualNetworkLink", None),
    "Microsoft.Authorization/roleAssignments": (
        "azure.mgmt.authorization",
        "RoleAssignmentCreateParameters",
        None,
    ),
}
BICEP_ONLY = frozenset({"name", "parent", "scope", "dependsOn"})  # Bicep's own, not the provider's body
SKIPPED_TYPES = frozenset({"Microsoft.Resources/resourceGroups"})  # a deployment scope, not a provider body


@dataclass
class Node:
    """A model's properties by wire name: each a child model, a list of one, a map, or a leaf."""

    children: dict[str, Node | type | None] = field(default_factory=dict)  # None: a leaf or free value
    enums: dict[str, frozenset[str]] = field(default_factory=dict)  # leaf -> allowed values
    free: bool = False  # a dictionary with free keys (tags, userAssignedIdentities)


def _type_of(hint: Any) -> tuple[type | None, bool, frozenset[str] | None]:
    """(model class, is a map, allowed enum values) of an annotation."""
    args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    for arg in args:
        origin = typing.get_origin(arg)
        if origin in (list, typing.List):  # noqa: UP006
            inner = _type_of(typing.get_args(arg)[0])
            return inner[0], False, inner[2]
        if origin in (dict, typing.Dict):  # noqa: UP006
            value = _type_of(typing.get_args(arg)[1])
            return value[0], True, None
        if inspect.isclass(arg) and issubclass(arg, enum.Enum):
            return None, False, frozenset(str(m.value) for m in arg)
        if inspect.isclass(arg) and arg.__module__.startswith("azure.mgmt"):
            return arg, False, None
        if typing.get_origin(arg) is typing.Union:
            return _type_of(arg)
    return None, False, None


def _fields(cls: type) -> list[tuple[str, Any]]:
    """(wire path, annotation) of each property of a model, in either SDK style."""
    module = sys.modules[cls.__module__]
    namespace = {**vars(module), "_models": importlib.import_module(cls.__module__.rsplit(".", 1)[0])}
    if not hasattr(cls, "_attribute_map"):  # TypeSpec-generated: the field map is built on first use
        cls.__new__(cls)
        hints = typing.get_type_hints(cls, globalns=namespace)
        return [(rf._rest_name, hints.get(attr)) for attr, rf in cls._attr_to_rest_field.items()]
    init = inspect.signature(cls.__init__)
    hints = typing.get_type_hints(cls.__init__, globalns=namespace)
    return [(spec["key"], hints.get(attr)) for attr, spec in cls._attribute_map.items() if attr in init.parameters]


@cache
def schema(cls: type) -> Node:
    node = Node()
    for path, hint in _fields(cls):
        parts = [p.replace("\\.", ".") for p in re.split(r"(?<!\\)\.", path)]
        at = node
        for part in parts[:-1]:  # msrest flattening: "properties.serverFarmId"
            child = at.children.get(part)
            if child is None:
                child = at.children[part] = Node()
            at = child
        model, is_map, allowed = _type_of(hint)
        leaf = parts[-1]
        if model is not None:  # resolved when walked: models refer to each other in cycles
            at.children[leaf] = Node(free=True, children={"*": model}) if is_map else model
        else:
            at.children[leaf] = Node(free=True) if is_map else None
            if allowed:
                at.enums[leaf] = allowed
    return node


@dataclass(frozen=True)
class Resource:
    file: str
    symbol: str
    type: str
    api_version: str
    body: dict[str, Any]
    text: str  # the Bicep source, to tell a literal from a parameter reference

    @property
    def where(self) -> str:
        return f"{self.file} {self.symbol} ({self.type}@{self.api_version})"


def _body(config: dict[str, Any]) -> dict[str, Any]:
    while "loop_type" in config or ("condition" in config and "config" in config):
        config = config["config"]
    return config


def resources(infra: Path) -> list[Resource]:
    found = []
    for path in sorted(infra.rglob("*.bicep")):
        parsed, text = parse(path), path.read_text()
        for symbol, r in (parsed.get("resources") or {}).items():
            if r.get("existing") or r["type"] in SKIPPED_TYPES:
                continue
            rel = path.relative_to(infra).as_posix()
            found.append(Resource(rel, symbol, r["type"], r["api_version"], _body(r["config"]), text))
    return found


def _literal(value: Any, text: str) -> str | None:
    """The value when the Bicep spells it as a string literal (pycep renders references as strings too)."""
    if isinstance(value, str) and f"'{value}'" in text:
        return value
    return None


def _resolved(child: Node | type | None) -> Node | None:
    return schema(child) if isinstance(child, type) else child


def _allowed(literal: str | None, values: frozenset[str]) -> bool:
    """A parameter reference is not judged; a literal is compared as the providers do, ignoring case."""
    return literal is None or literal.lower() in {v.lower() for v in values}


def _walk(body: Any, node: Node, path: str, r: Resource, problems: list[str]) -> None:
    if not isinstance(body, dict) or any(k in body for k in ("function", "operator")):
        return  # an expression: its keys are Bicep's, not the provider's
    if "loop_type" in body:
        return _walk(_body(body), node, path, r, problems)
    for key, value in body.items():
        if path == "" and key in BICEP_ONLY:
            continue
        if node.free:
            inner = _resolved(node.children.get("*"))
            if inner is not None:
                _walk(value, inner, f"{path}.{key}", r, problems)
            continue
        if key not in node.children:
            problems.append(f"{r.where}: {path + '.' if path else ''}{key} is not a property of the model")
            continue
        child = _resolved(node.children[key])
        if isinstance(value, list):
            for item in value:
                if child is not None:
                    _walk(item, child, f"{path}.{key}[]", r, problems)
        elif child is not None:
            _walk(value, child, f"{path}.{key}" if path else key, r, problems)
        elif key in node.enums and not _allowed(literal := _literal(value, r.text), node.enums[key]):
            allowed = ", ".join(sorted(node.enums[key]))
            problems.append(f"{r.where}: {path}.{key} = '{literal}' is not one of {allowed}")


_VERSION = r"\d{4}-\d{2}-\d{2}(?:-preview)?"


def model_of(r: Resource) -> tuple[type, str]:
    """The SDK's model class for a resource, and the API version that model is of.

    A multi-version package (authorization) has a subpackage per version: the Bicep's own is used
    when present; otherwise the package's default, read from its source."""
    package, name, operations = MODELS[r.type]
    try:
        versioned = importlib.import_module(f"{package}.v{r.api_version.replace('-', '_')}.models")
        return getattr(versioned, name), r.api_version
    except ModuleNotFoundError:
        pass
    models = importlib.import_module(f"{package}.models")
    source_module = f"{package}.operations.{operations}" if operations else f"{package}._configuration"
    source = inspect.getsource(importlib.import_module(source_module))
    defaults = re.findall(rf'"api[-_]version", "({_VERSION})"', source) or re.findall(_VERSION, source)
    return getattr(models, name), max(defaults, default="unknown")


def check(infra: Path = ROOT / "infra") -> tuple[list[str], list[str]]:
    """(problems, notes): a property or enum value the model rejects; where versions differ."""
    problems: list[str] = []
    notes: list[str] = []
    for r in resources(infra):
        if r.type not in MODELS:
            problems.append(f"{r.file} {r.symbol}: no model is known for {r.type} (add it to devtools/schema_check.py)")
            continue
        cls, version = model_of(r)
        _walk(r.body, schema(cls), "", r, problems)
        if version != r.api_version:
            notes.append(f"{r.type}: the Bicep uses {r.api_version}, the SDK's model is of {version}")
    return problems, sorted(set(notes))


def main() -> None:
    problems, notes = check(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "infra")
    for note in notes:
        print(f"note: {note}")
    for problem in problems:
        print(problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
