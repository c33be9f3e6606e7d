"""The floor of each operation: what any implementation must do, with the same SDKs the app uses
(azure-data-tables, azure-core's pipeline to Face), configured as the app configures them (no
proxy look-up per call), and nothing else — no api-key check, no
policy, no sealing, no telemetry. The benchmarks divide the app's figures by these.

- consent: one insert of the subject row;
- session: one subject read, one Face create, one transaction (subject replace + session insert);
- result: one query for subject and session, one Face read, one transaction (session + subject).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from azure.core import MatchConditions, PipelineClient
from azure.core.credentials import AzureKeyCredential
from azure.core.pipeline.policies import AzureKeyCredentialPolicy, HeadersPolicy, RetryPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest
from azure.data.tables import TableClient, UpdateMode


def _guarded(entity: Any) -> tuple[str, Any, dict[str, Any]]:
    options = {
        "mode": UpdateMode.REPLACE,
        "etag": entity.metadata["etag"],
        "match_condition": MatchConditions.IfNotModified,
    }
    return ("update", entity, options)


class Floor:
    """The floor operations against one storage account and one Face endpoint."""

    def __init__(self, connection_string: str, table_prefix: str, face_endpoint: str, face_key: str) -> None:
        self.subjects = TableClient.from_connection_string(
            connection_string, f"{table_prefix}subjects", transport=RequestsTransport(use_env_settings=False)
        )
        policies = [
            HeadersPolicy({"Content-Type": "application/json"}),
            AzureKeyCredentialPolicy(AzureKeyCredential(face_key), "Ocp-Apim-Subscription-Key"),
            RetryPolicy(retry_total=0),
        ]
        self.face_endpoint = face_endpoint.rstrip("/")
        self.face = PipelineClient(
            face_endpoint, policies=policies, transport=RequestsTransport(use_env_settings=False)
        )

    def _face(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = HttpRequest(method, f"{self.face_endpoint}/face/v1.2/{path}", json=body)
        response = self.face.send_request(request)
        response.raise_for_status()
        return json.loads(response.read())

    def consent(self, partition: str) -> None:
        self.subjects.create_entity({"PartitionKey": partition, "RowKey": "subject", "consent_policy_version": "v1"})

    def session(self, partition: str, correlation_id: str) -> dict[str, Any]:
        subject = self.subjects.get_entity(partition, "subject")
        created = self._face(
            "POST",
            "detectLiveness-sessions",
            {"livenessOperationMode": "Passive", "deviceCorrelationId": correlation_id},
        )
        subject["sessions_total"] = subject.get("sessions_total", 0) + 1
        row = f"session_{created['sessionId']}"
        session = {"PartitionKey": partition, "RowKey": row, "token_hash": "x" * 64, "calls_used": 0}
        self.subjects.submit_transaction([_guarded(subject), ("create", session)])
        return created

    def result(self, partition: str, session_id: str) -> dict[str, Any]:
        rows = list(
            self.subjects.query_entities(
                "PartitionKey eq @pk and ( RowKey eq @s or RowKey eq @subject )",
                parameters={"pk": partition, "s": f"session_{session_id}", "subject": "subject"},
            )
        )
        subject = next(r for r in rows if r["RowKey"] == "subject")
        session = next(r for r in rows if r["RowKey"] != "subject")
        reading = self._face("GET", f"detectLiveness-sessions/{session_id}")
        session["calls_used"] = session.get("calls_used", 0) + 1
        subject["attempts_total"] = subject.get("attempts_total", 0) + len(reading["results"]["attempts"])
        self.subjects.submit_transaction([_guarded(session), _guarded(subject)])
        return reading


def partition_of(customer_id: str) -> tuple[str, str]:
    """A fresh subject's (partition, GUID) under a customer."""
    guid = str(uuid.uuid4())
    return f"{customer_id}_{guid}", guid
