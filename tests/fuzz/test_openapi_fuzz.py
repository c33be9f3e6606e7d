"""Fuzz every operation of the OpenAPI document on the running local host with real Azurite.

Bounded here (FUZZ_EXAMPLES per operation, default 12); `make fuzz` runs a longer campaign. For
each generated request, with and without valid credentials: no 5xx, the response conforms to its
schema and status list, and a refused request changes no row (refused staff calls add exactly
their audit entry).
"""

from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from azure.data.tables import TableServiceClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from devtools.run import LocalStack

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
DATA_TABLES = ("customers", "subjects", "reviewindex", "notifications", "feedback")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="session")
def fuzz_stack(tmp_path_factory):
    logs = tmp_path_factory.mktemp("fuzz")
    stack = LocalStack.isolated(logs, FEEDBACK_RATE_LIMIT="100000").start()
    api, admin = f"{stack.base_url}/v1", stack.admin_headers
    customer = stack.create_customer("Fuzz", "f@contoso.example")
    guid = "9b2e6f4a-1c3d-4e5f-8a7b-6c5d4e3f2a1b"
    requests.post(
        f"{api}/consents",
        json={"correlationId": guid, "policyVersion": "v1"},
        headers={"x-api-key": customer["apiKey"]},
        timeout=10,
    )
    session = requests.post(
        f"{api}/sessions", json={"correlationId": guid}, headers={"x-api-key": customer["apiKey"]}, timeout=10
    ).json()
    stack.credentials = {
        "x-admin-key": admin["x-admin-key"],
        "x-api-key": customer["apiKey"],
        "Authorization": f"Bearer {session['sessionToken']}",
    }
    stack.tables = TableServiceClient.from_connection_string(stack.azurite.connection_string)
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def operations(fuzz_stack):
    schema = schemathesis.openapi.from_url(f"{fuzz_stack.base_url}/v1/openapi.json")
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 20
    return found


def snapshot(stack) -> dict[str, list]:
    return {
        table: sorted(
            (r["PartitionKey"], r["RowKey"], r.metadata["etag"])
            for r in stack.tables.get_table_client(f"lg{table}").list_entities()
        )
        for table in DATA_TABLES
    }


def audit_rows(stack) -> dict[tuple[str, str], dict]:
    """Audit entries by key (entries land in several shards: new ones are not simply at the end)."""
    return {(r["PartitionKey"], r["RowKey"]): r for r in stack.tables.get_table_client("lgaudit").list_entities()}


def run_case(stack, case, headers: dict[str, str]) -> None:
    before, audit_before = snapshot(stack), set(audit_rows(stack))
    response = case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)
    if 400 <= response.status_code < 500:
        assert snapshot(stack) == before, f"{case.method} {case.formatted_path} -> {response.status_code} changed rows"
        after = audit_rows(stack)
        added = (
            [row for key, row in after.items() if key not in audit_before] if response.status_code in (401, 403) else []
        )
        assert all(row["outcome"] == "refused" for row in added)


def fuzz(stack, operations, headers: dict[str, str]) -> None:
    for operation in operations:

        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def one(case) -> None:
            run_case(stack, case, headers)

        one()


def test_every_operation_without_credentials(fuzz_stack, operations):
    fuzz(fuzz_stack, operations, {})


def test_every_operation_with_valid_credentials(fuzz_stack, operations):
    fuzz(fuzz_stack, operations, dict(fuzz_stack.credentials))
