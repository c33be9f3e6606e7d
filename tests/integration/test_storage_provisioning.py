"""STORAGE_CREATE_MISSING: locally the first request creates every table and queue; where the
deployment created them (the Bicep sets false) an instance's first request makes none of those calls."""

from azure.data.tables import TableServiceClient

from shared.adapters.tables import TABLES
from shared.bootstrap import build
from shared.settings import load_settings


def _created(calls: list[tuple[str, str]]) -> list[str]:
    return [url for method, url in calls if (method == "POST" and url.endswith("/Tables")) or method == "PUT"]


def _tables(prefix: str) -> set[str]:
    settings = load_settings()
    service = TableServiceClient.from_connection_string(settings.storage_connection_string)
    return {t.name for t in service.query_tables(f"TableName ge '{prefix}' and TableName lt '{prefix}~'")}


def test_the_first_build_creates_every_table_and_queue_when_asked(configure, clock):
    configure(STORAGE_CREATE_MISSING="true")
    settings = load_settings()
    assert _tables(settings.table_prefix) == {settings.table_prefix + t for t in TABLES}


def test_a_deployment_that_created_its_storage_makes_no_create_call(configure, clock, monkeypatch):
    configure()  # the tables and queues exist, as the Bicep leaves them
    monkeypatch.setenv("STORAGE_CREATE_MISSING", "false")
    calls: list[tuple[str, str]] = []
    build(load_settings(), clock, lambda r: calls.append((r.http_request.method, r.http_request.url)))
    assert _created(calls) == []


def test_without_it_nothing_is_created(configure, clock):
    configure(STORAGE_CREATE_MISSING="false")
    settings = load_settings()
    assert _tables(settings.table_prefix) == set()


def test_health_says_storage_is_incomplete_when_the_deployment_did_not_create_a_table(
    configure, router, caplog
) -> None:
    from tests.support import ApiClient

    configure()  # every table exists
    settings = load_settings()
    service = TableServiceClient.from_connection_string(settings.storage_connection_string)
    api = ApiClient(router)
    assert api.get("/api/v1/health").json["storage"] == "ok"
    service.delete_table(settings.table_prefix + "opinions")  # a table added to the app, not to the Bicep
    health = api.get("/api/v1/health")
    assert health.status == 503 and int(health.headers["Retry-After"]) >= 1
    assert health.json["status"] == "unavailable" and health.json["storage"] == "incomplete"
    logged = [r for r in caplog.records if getattr(r, "event", "") == "health.tables_missing"]
    assert logged and logged[-1].missing == "opinions"
