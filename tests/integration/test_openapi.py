"""The OpenAPI document covers exactly the app's HTTP functions, every error code, every auth scheme."""

import re

from shared.api.openapi import REGISTRY
from shared.api.router import ROUTES
from shared.blueprints import blueprints

FALLBACK = "no_such_route"  # shared.api.fallback_routes: the envelope for what no route takes

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
    blueprints()  # the routes register their documentation when their module is imported
    functions = set(ROUTES) - {FALLBACK}
    assert functions == set(REGISTRY), (functions - set(REGISTRY), set(REGISTRY) - functions)
    assert {f.name for f in router.functions} == functions | {FALLBACK}  # the same functions the host serves
    assert router.functions[-1].name == FALLBACK  # tried after every other route


def test_the_document_is_served_and_lists_every_route_and_method(api, router):
    response = api.get("/api/v1/openapi.json")
    assert response.status == 200
    doc = response.json
    assert doc["openapi"] == "3.1.0"
    served = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    routes = [r for r in ROUTES.values() if r.name != FALLBACK]
    expected = {(m, f"/api/{r.route}") for r in routes for m in r.methods}
    assert served == expected


def test_every_spec_error_code_and_auth_scheme_is_documented(api):
    doc = api.get("/api/v1/openapi.json").json
    error = doc["components"]["schemas"]["Error"]
    codes = set(error["properties"]["error"]["properties"]["code"]["enum"])
    assert codes >= SPEC_CODES | {"storage_unavailable", "unsupported_media_type", "not_found"}
    for ops in doc["paths"].values():  # one shared Error component, referenced by every refusal
        for op in ops.values():
            for status, response in op["responses"].items():
                if status[0] in "45" or status == "502":
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
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


def test_the_served_document_passes_spectral_oas(api, tmp_path):
    """Portable for every integrator's tooling: Spectral's OpenAPI ruleset (pinned in package.json)
    finds nothing — an inline `(?i:...)` pattern, say, is an ECMA-262 error."""
    import json
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(api.get("/api/v1/openapi.json").json))
    done = subprocess.run(
        [
            str(root / "node_modules/.bin/spectral"),
            "lint",
            "--ruleset",
            str(root / ".spectral.yaml"),
            "-f",
            "json",
            "--quiet",
            str(document),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )
    results = json.loads(done.stdout or "[]")
    problems = [(r["code"], r["message"], ".".join(map(str, r["path"]))) for r in results if r["severity"] <= 1]
    assert problems == [], problems[:10]


def test_the_reference_page_renders_the_served_document_from_vendored_files(api):
    page = api.get("/api/v1/docs")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    scripts = re.findall(r'src="/api/v1/docs/assets/([^"]+)"', page.body.decode())
    assert scripts == ["swagger-ui-bundle.js", "docs.js"]
    for name in (*scripts, "swagger-ui.css"):
        asset = api.get(f"/api/v1/docs/assets/{name}")
        assert asset.status == 200 and len(asset.body) > 100, name
    assert b"/api/v1/openapi.json" in api.get("/api/v1/docs/assets/docs.js").body
    assert b"SwaggerUIBundle" in api.get("/api/v1/docs/assets/swagger-ui-bundle.js").body
    missing = api.get("/api/v1/docs/assets/..%2Fsettings.py")
    assert missing.status == 404


def test_every_operation_documents_its_500_and_path_ids_as_strictly_as_the_routes_check_them(api):
    doc = api.get("/api/v1/openapi.json").json
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert "500" in op["responses"], (method, path)
            assert "internal_error" in op["responses"]["500"]["description"], (method, path)
            for parameter in op.get("parameters", []):
                if parameter["in"] == "path":
                    assert parameter["schema"] != {"type": "string"}, (method, path, parameter["name"])
    session = doc["paths"]["/api/v1/sessions/{sessionId}/result"]["get"]["parameters"][0]["schema"]
    assert session["format"] == "uuid"
    paging = next(p for p in doc["paths"]["/api/v1/review/feedback"]["get"]["parameters"] if p["name"] == "pageSize")
    assert paging["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}


def test_an_unknown_route_and_a_wrong_method_answer_with_the_envelope(api):
    unknown = api.get("/api/v1/no/such/route")
    assert (unknown.status, unknown.error_code) == (404, "not_found")
    wrong = api.request("PATCH", "/api/v1/health")
    assert (wrong.status, wrong.error_code, wrong.headers["Allow"]) == (405, "method_not_allowed", "GET")
