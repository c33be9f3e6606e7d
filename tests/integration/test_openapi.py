"""The OpenAPI document covers exactly the app's HTTP functions, every error code, every auth scheme."""

import sys

from shared.api.openapi import REGISTRY, http_routes

SPEC_CODES = {
    "invalid_request",
    "unauthorized",
    "customer_suspended",
    "consent_required",
    "correlation_id_blocked",
    "retry_limited",
    "upstream_unavailable",
    "token_invalid",
    "token_expired",
    "token_exhausted",
}


def test_every_http_function_is_documented_and_every_entry_is_a_function(router):
    functions = {route.name for route in http_routes(sys.modules["function_app"].app)}
    assert functions == set(REGISTRY), (functions - set(REGISTRY), set(REGISTRY) - functions)
    assert {f.name for f in router.functions} == functions  # the same functions the host serves


def test_the_document_is_served_and_lists_every_route_and_method(api, router):
    response = api.get("/api/v1/openapi.json")
    assert response.status == 200
    doc = response.json
    assert doc["openapi"] == "3.1.0"
    served = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    expected = {(m, f"/api/{r.route}") for r in http_routes(sys.modules["function_app"].app) for m in r.methods}
    assert served == expected


def test_every_spec_error_code_and_auth_scheme_is_documented(api):
    doc = api.get("/api/v1/openapi.json").json
    codes = set()
    for ops in doc["paths"].values():
        for op in ops.values():
            for response in op["responses"].values():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                codes |= set(
                    schema.get("properties", {}).get("error", {}).get("properties", {}).get("code", {}).get("enum", [])
                )
    assert codes >= SPEC_CODES
    assert set(doc["components"]["securitySchemes"]) == {
        "apiKey",
        "sessionToken",
        "adminKey",
        "appServiceAuthentication",
    }
    session = doc["paths"]["/api/v1/sessions"]["post"]
    assert session["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("SessionRequest")
    assert set(session["responses"]) >= {"200", "201", "400", "401", "403", "429", "502", "503"}


def test_request_schemas_come_from_the_validating_models(api):
    schemas = api.get("/api/v1/openapi.json").json["components"]["schemas"]
    session = next(v for k, v in schemas.items() if k.startswith("SessionRequest"))
    assert session["additionalProperties"] is False
    assert set(session["properties"]) == {"correlationId", "livenessOperationMode", "clientRequestId", "endUserIp"}
    assert session["properties"]["clientRequestId"]["anyOf"][0]["pattern"] == "^[A-Za-z0-9_-]{1,64}$"
