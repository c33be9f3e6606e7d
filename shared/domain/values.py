"""The base of the domain's small immutable values (pydantic models that are never changed in place)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Value(BaseModel):
    """An immutable value: compared by content, changed only by `model_copy(update=...)`."""

    model_config = ConfigDict(defer_build=True, frozen=True)
