"""Paged reads for list endpoints: opaque continuation tokens over Table Storage's next keys."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import Any

from shared.errors import InvalidRequest

MAX_PAGE = 200


def encode_token(token: dict[str, str] | None) -> str | None:
    """An opaque, URL-safe continuation token for the client."""
    if not token:
        return None
    return base64.urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(text: str | None) -> dict[str, str] | None:
    """The table continuation a client sent back; 400 when it was not one of ours."""
    if not text:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidRequest("continuationToken is not valid.") from None
    if (
        not isinstance(data, dict)
        or not data
        or ("PartitionKey" not in data and "after" not in data)
        or set(data) - {"PartitionKey", "RowKey", "after"}
        or not all(isinstance(v, str) for v in data.values())
    ):
        raise InvalidRequest("continuationToken is not valid.")
    return data


def page_size(raw: str | None, default: int = 50) -> int:
    """The pageSize query parameter, 1..200."""
    return whole_number(raw, "pageSize", default, MAX_PAGE)


def whole_number(raw: str | None, name: str, default: int, most: int) -> int:
    """A whole-number query parameter from 1 to `most` (`default` when absent); 400 otherwise."""
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise InvalidRequest(f"{name} must be a whole number from 1 to {most}.")
    return int(raw)


def read_page(
    query: Callable[[int], Any], size: int, token: dict[str, str] | None
) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """One page of a table query (`query(size)` returns the SDK's ItemPaged) and the next token."""
    pages = query(size).by_page(continuation_token=token)
    items: Iterable[dict[str, Any]] = next(pages, [])
    rows = list(items)
    return rows, pages.continuation_token
