"""Azure Table Storage plumbing: the tables, the client, and the entity codec.

Records are pydantic models; `to_entity`/`from_entity` map them to table rows: scalar fields become
typed columns (timezone-aware UTC datetimes, Int64 where an int leaves the Int32 range), fields
listed in a model's `json_fields` become JSON text columns.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Generic, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import (
    EdmType,
    EntityProperty,
    TableClient,
    TableServiceClient,
    TableTransactionError,
    UpdateMode,
)

from shared.adapters.http_transport import http_transport
from shared.domain.records import Record
from shared.settings import Settings

TABLES = (
    "customers",
    "subjects",
    "reviewindex",
    "notifications",
    "feedback",
    "feedbackrefs",
    "ratelimits",
    "audit",
    "facesessions",
    "expiry",
    "reviewstats",
    "opinions",
)
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
MAX_BATCH = 100  # entity-group transactions hold at most 100 operations


STALE_STATUSES = frozenset({409, 412})  # an ETag or existence check lost: someone else wrote first
OUTAGE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})  # throttled, timed out or down: retry later


class StaleWrite(Exception):
    """An optimistic-concurrency check failed: someone else changed the rows first."""


def is_storage_outage(exc: BaseException) -> bool:
    """True for a storage error a later retry can cure: no connection, no answer, throttling, 5xx."""
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return True
    return isinstance(exc, HttpResponseError) and (exc.status_code is None or exc.status_code in OUTAGE_STATUSES)


def client_options(settings: Settings) -> dict[str, Any]:
    """Bounded SDK retries and per-call timeouts, so a hung or throttled account answers within seconds."""
    return {
        "transport": http_transport(settings.storage_timeout_seconds, settings.storage_timeout_seconds),
        "retry_total": settings.storage_max_retries,
        "retry_backoff_factor": 0.2,
        "retry_backoff_max": 1,
        "connection_timeout": settings.storage_timeout_seconds,
        "read_timeout": settings.storage_timeout_seconds,
    }


R = TypeVar("R", bound=Record)


class Tables:
    """The app's tables, named `<prefix><name>`, created on first use."""

    def __init__(self, service: TableServiceClient, prefix: str) -> None:
        self._service = service
        self._prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings, request_hook: Callable[[Any], None] | None = None) -> Tables:
        """Clients for the configured account; `request_hook` sees every request (azure-core CustomHookPolicy)."""
        options = client_options(settings)
        if request_hook:
            options["raw_request_hook"] = request_hook
        if settings.storage_connection_string:
            service = TableServiceClient.from_connection_string(settings.storage_connection_string, **options)
        else:
            from azure.identity import ManagedIdentityCredential  # only in Azure

            credential = ManagedIdentityCredential(client_id=settings.storage_client_id)
            service = TableServiceClient(endpoint=settings.storage_table_uri, credential=credential, **options)
        return cls(service, settings.table_prefix)

    def name(self, table: str) -> str:
        return f"{self._prefix}{table}"

    def client(self, table: str) -> TableClient:
        return self._service.get_table_client(self.name(table))

    def missing(self) -> list[str]:
        """The app's tables storage does not have (one query over the prefix's names): what a
        deployment that did not create them all would be missing (`STORAGE_CREATE_MISSING=false`)."""
        found = {
            t.name
            for t in self._service.query_tables(
                "TableName ge @lo and TableName lt @hi", parameters={"lo": self._prefix, "hi": self._prefix + "~"}
            )
        }
        return [table for table in TABLES if self.name(table) not in found]

    def ensure(self) -> None:
        """Create every table the app uses if it is missing, one after the other: storage that is
        down answers the first call and is not asked again (docs/scale.md, "Cold start")."""
        for table in TABLES:
            self._service.create_table_if_not_exists(self.name(table))


def utc(value: datetime) -> datetime:
    """A timezone-aware UTC datetime; naive datetimes are refused, not guessed."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass timezone-aware UTC")
    return value.astimezone(UTC)


def encode_value(value: Any) -> Any:
    """Make one Python value safe to store as a typed column."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not INT32_MIN <= value <= INT32_MAX:
        return EntityProperty(value, EdmType.INT64)
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, Enum):
        return value.value
    return value


def decode_value(value: Any) -> Any:
    """Reverse of `encode_value` for values read back from a row."""
    if isinstance(value, EntityProperty):
        return value.value
    if isinstance(value, datetime):
        return datetime.fromtimestamp(value.timestamp(), UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value


def to_entity(record: Record, partition_key: str, row_key: str) -> dict[str, Any]:
    """The row for a record."""
    entity: dict[str, Any] = {"PartitionKey": partition_key, "RowKey": row_key}
    for name in type(record).model_fields:
        value = getattr(record, name)
        if value is None:
            continue
        if name in record.json_fields:
            # unescaped: `\u00e9` would take 6 of a property's 32,768 UTF-16 units for one character
            entity[name] = json.dumps(_jsonable(record, name), separators=(",", ":"), ensure_ascii=False)
        else:
            entity[name] = encode_value(value)
    return entity


def _jsonable(record: Record, name: str) -> Any:
    return record.model_dump(mode="json", include={name})[name]


def from_entity(model: type[R], entity: dict[str, Any]) -> R:
    """The record stored in a row (unknown columns are ignored)."""
    data: dict[str, Any] = {}
    for name in model.model_fields:
        if name not in entity:
            continue
        value = decode_value(entity[name])
        data[name] = json.loads(value) if name in model.json_fields and isinstance(value, str) else value
    return model.model_validate(data)


def etag_of(entity: Any) -> str:
    return entity.metadata["etag"]


@dataclass(frozen=True)
class Versioned(Generic[R]):
    """A record with the ETag it was read at."""

    record: R
    etag: str


def read_versioned(table: TableClient, model: type[R], partition_key: str, row_key: str) -> Versioned[R] | None:
    """One row as a record with its ETag (a point read); None when there is no such row."""
    try:
        entity = table.get_entity(partition_key, row_key)
    except ResourceNotFoundError:
        return None
    return Versioned(from_entity(model, entity), etag_of(entity))


def write_if_unchanged(
    table: TableClient, entity: dict[str, Any], etag: str | None, mode: UpdateMode = UpdateMode.REPLACE
) -> None:
    """Insert the row (`etag` None: it must not exist yet) or update it only if unchanged since it
    was read at `etag`; StaleWrite when someone else wrote first."""
    try:
        if etag is None:
            table.create_entity(entity)
        else:
            table.update_entity(entity, mode=mode, etag=etag, match_condition=MatchConditions.IfNotModified)
    except (ResourceExistsError, ResourceModifiedError) as exc:
        raise StaleWrite(str(exc)) from exc


def submit(table: TableClient, operations: list[tuple[Any, ...]]) -> list[str | None]:
    """Run operations on one partition as one entity-group transaction; returns each row's new ETag.

    StaleWrite only when an ETag or existence check failed (409/412); any other refusal (say
    400 `PropertyValueTooLarge`) or an outage propagates as the SDK raised it."""
    if not operations:
        return []
    if len(operations) > MAX_BATCH:
        raise ValueError("one transaction holds at most 100 operations")
    try:
        return [result.get("etag") for result in table.submit_transaction(operations)]
    except (ResourceModifiedError, ResourceExistsError) as exc:
        raise StaleWrite(str(exc)) from exc
    except TableTransactionError as exc:
        if exc.status_code in STALE_STATUSES:
            raise StaleWrite(str(exc)) from exc
        raise
