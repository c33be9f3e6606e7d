"""The entity codec and filters against a real Azurite table."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.adapters.tables import from_entity, to_entity
from shared.domain.records import Record


class Sample(Record):
    big: int
    small: int
    when: datetime
    tags: tuple[str, ...] = ()
    json_fields = frozenset({"tags"})


def test_int64_and_aware_datetimes_survive_a_round_trip(services):
    table = services.tables.client("audit")
    when = datetime(2026, 11, 22, 23, 30, 15, 123000, tzinfo=timezone(timedelta(hours=-5)))
    record = Sample(big=2**40 + 7, small=-3, when=when, tags=("a", "b"))
    table.create_entity(to_entity(record, "p", "r"))
    back = from_entity(Sample, table.get_entity("p", "r"))
    assert back.big == 2**40 + 7 and back.small == -3 and back.tags == ("a", "b")
    assert back.when == when and back.when.tzinfo is not None and back.when.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused_not_guessed():
    with pytest.raises(ValueError, match="naive"):
        to_entity(Sample(big=1, small=1, when=datetime(2026, 1, 1)), "p", "r")


def test_parameterised_filters_treat_quotes_as_data(services):
    table = services.tables.client("audit")
    table.create_entity({"PartitionKey": "x", "RowKey": "1", "at": datetime.now(UTC)})
    hostile = "x' or PartitionKey ne 'nothing"
    found = list(table.query_entities("PartitionKey eq @pk", parameters={"pk": hostile}))
    assert found == []
