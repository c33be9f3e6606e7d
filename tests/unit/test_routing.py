import pytest

from devtools.localhost.config import parse_timespan, resolve
from devtools.localhost.routing import compile_route


@pytest.mark.parametrize(
    ("template", "path", "params"),
    [
        ("v1/sessions/{sessionId}/result", "v1/sessions/abc-1/result", {"sessionId": "abc-1"}),
        ("items/{id:int}", "items/42", {"id": "42"}),
        ("items/{id:int}", "items/x", None),
        ("files/{*rest}", "files/a/b/c", {"rest": "a/b/c"}),
        ("echo/{word:alpha}/{tail?}", "echo/hi", {"word": "hi", "tail": None}),
        ("echo/{word:alpha}/{tail?}", "echo/hi/there", {"word": "hi", "tail": "there"}),
        ("v1/sessions", "v1/sessions/extra", None),
    ],
)
def test_route_templates(template, path, params):
    match = compile_route(template).match(path)
    assert (match.groupdict() if match else None) == params


def test_setting_references_are_resolved_and_missing_ones_named():
    assert resolve("%A%-%B%", {"A": "x", "B": "y"}) == "x-y"
    with pytest.raises(KeyError, match="MISSING"):
        resolve("%MISSING%", {})


def test_timespans():
    from datetime import timedelta

    assert parse_timespan("00:00:30", timedelta(0)) == timedelta(seconds=30)
    assert parse_timespan("1.02:00:00", timedelta(0)) == timedelta(days=1, hours=2)
    assert parse_timespan(None, timedelta(seconds=5)) == timedelta(seconds=5)
