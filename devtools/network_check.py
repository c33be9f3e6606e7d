"""Both shapes of `vnetEnabled` read from the Bicep (docs/deploy.md, Network isolation).

Off: no virtual network, no private endpoint, the data-plane resources reachable publicly (with
Entra ID only). On: the app integrated with the network's app subnet, and storage (blob, queue,
table), Face and Key Vault reachable only through a private endpoint with its private DNS zone.
The Bicep is evaluated for each value of the switch: parameters, variables, conditions, loops and
ternaries are followed, so a copy with one endpoint removed or one `publicNetworkAccess` left open
is reported. The communication resource has no private endpoint (docs/deploy.md says why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ENDPOINT_MODULE = "app/private-endpoint.bicep"
# the resource a data-plane module stands for, and the sub-resources that need an endpoint
PRIVATE_TARGETS = {
    ("storage", "blob"),
    ("storage", "queue"),
    ("storage", "table"),
    ("face", "account"),
    ("vault", "vault"),
}


@dataclass(frozen=True)
class Ref:
    """A reference to another module's output (`network.outputs.id`)."""

    module: str
    output: str


@dataclass
class Shape:
    """What one value of the switch deploys."""

    public_access: dict[str, str] = field(default_factory=dict)  # resource -> publicNetworkAccess
    default_action: dict[str, str] = field(default_factory=dict)  # resource -> networkAcls.defaultAction
    endpoints: set[tuple[str, str]] = field(default_factory=set)  # (target module, group id)
    network: bool = False
    app_subnet: Any = None


def evaluate(expr: Any, env: dict[str, Any]) -> Any:
    """A parsed Bicep expression's value under `env` (names to values); opaque parts stay as they are."""
    if isinstance(expr, str):
        if expr in env:
            return env[expr]
        return re.sub(r"\$\{(\w+)\}", lambda m: str(env.get(m.group(1), m.group(0))), expr)
    if isinstance(expr, list):
        return [evaluate(item, env) for item in expr]
    if not isinstance(expr, dict):
        return expr
    operator = expr.get("operator")
    if operator is None:
        return {key: evaluate(value, env) for key, value in expr.items()}
    operands = operator["operands"]
    if operator["type"] == "conditional":
        branch = "true_value" if evaluate(operands["condition"], env) is True else "false_value"
        return evaluate(operands[branch], env)
    if operator["type"] == "property_accessor" and isinstance(operands.get("operand_2"), dict):
        inner = operands["operand_2"]["operator"]["operands"]
        if inner.get("operand_1") == "outputs":
            return Ref(operands["operand_1"], inner["operand_2"])
    return expr


def _environment(main: dict[str, Any], vnet: bool) -> dict[str, Any]:
    env: dict[str, Any] = {"vnetEnabled": vnet, "true": True, "false": False}
    for name, variable in (main.get("variables") or {}).items():
        env[name] = evaluate(variable["value"], env)
    return env


def _instances(module: dict[str, Any], env: dict[str, Any]) -> list[dict[str, Any]]:
    """The params of each deployed copy of a module: none when its condition is false."""
    config = module["config"]
    items: list[Any] = [None]
    if "loop_type" in config:
        loop = config["loop_type"]["detail"]
        items = evaluate(loop["array_name"], env) or []
        items = [(loop["item_name"], item) for item in items]
    condition = config.get("condition")
    if condition is not None and evaluate(condition, env) is not True:
        return []
    body = config.get("config", config)
    return [evaluate(body.get("params", {}), env | dict([item] if item else [])) for item in items]


def _resource_access(parsed: dict[str, Any], symbol: str, params: dict[str, Any]) -> tuple[Any, Any]:
    env = {
        name: params.get(name, (p.get("default") if isinstance(p, dict) else None))
        for name, p in parsed["parameters"].items()
    }
    props = evaluate(parsed["resources"][symbol]["config"].get("properties", {}), env)
    return props.get("publicNetworkAccess"), (props.get("networkAcls") or {}).get("defaultAction")


def shape(files: dict[str, dict[str, Any]], vnet: bool) -> Shape:
    """Evaluate main.bicep (and the face and vault modules) for one value of `vnetEnabled`."""
    main = files["main.bicep"]
    env = _environment(main, vnet)
    found = Shape()
    for name, module in main["modules"].items():
        path = module.get("detail", {}).get("path", "")
        for params in _instances(module, env):
            if name == "storage":
                found.public_access["storage"] = params.get("publicNetworkAccess")
                found.default_action["storage"] = (params.get("networkAcls") or {}).get("defaultAction")
            elif path in ("app/face.bicep", "app/keyvault.bicep"):
                symbol = "face" if path == "app/face.bicep" else "vault"
                access, action = _resource_access(files[path], symbol, params)
                found.public_access[symbol], found.default_action[symbol] = access, action
            elif path == "app/network.bicep":
                found.network = True
            elif path == ENDPOINT_MODULE and isinstance(params.get("targetId"), Ref):
                found.endpoints.add((params["targetId"].module, params.get("groupId")))
            elif path == "app/api.bicep":
                found.app_subnet = params.get("subnetId")
    return found


def check(files: dict[str, dict[str, Any]]) -> list[str]:
    """Every way either shape falls short."""
    problems: list[str] = []
    off, on = shape(files, vnet=False), shape(files, vnet=True)
    if off.network or off.endpoints or off.app_subnet not in ("", None):
        problems.append("vnetEnabled=false must deploy no virtual network and no private endpoint")
    for resource in ("storage", "face", "vault"):
        if off.public_access.get(resource) != "Enabled":
            problems.append(f"vnetEnabled=false: {resource} must stay publicly reachable (publicNetworkAccess Enabled)")
        if on.public_access.get(resource) != "Disabled" or on.default_action.get(resource) != "Deny":
            problems.append(
                f"vnetEnabled=true: {resource} must be private (publicNetworkAccess Disabled, networkAcls Deny)"
            )
    if not on.network:
        problems.append("vnetEnabled=true: no virtual network is deployed")
    if on.app_subnet != Ref("network", "appSubnetId"):
        problems.append("vnetEnabled=true: the function app is not integrated with the network's app subnet")
    for target, group in sorted(PRIVATE_TARGETS - on.endpoints):
        problems.append(f"vnetEnabled=true: {target} has no private endpoint for {group}")
    endpoint = files.get(ENDPOINT_MODULE, {}).get("resources", {})
    kinds = {r["type"] for r in endpoint.values()}
    needed = {
        "Microsoft.Network/privateEndpoints",
        "Microsoft.Network/privateDnsZones",
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
    }
    problems += [f"{ENDPOINT_MODULE}: no {kind}" for kind in sorted(needed - kinds)]
    return problems
