"""Reviewer guidelines (docs/api.md): the predefined rules reviewers decide by.

Shipped defaults live in `shared/review_guidelines.json` (each a short rule with the evidence that
supports confirm or override); `REVIEW_GUIDELINES_JSON` replaces them with the operator's own. A
decision names the guideline it followed, and the audit log and the subject's history keep it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter

DEFAULTS = Path(__file__).resolve().parents[1] / "review_guidelines.json"


class Guideline(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]


_LIST = TypeAdapter(list[Guideline])


def parse_guidelines(text: str) -> tuple[Guideline, ...]:
    """Guidelines from JSON; ValueError unless a non-empty list with unique ids."""
    found = tuple(_LIST.validate_json(text))
    if not found:
        raise ValueError("at least one guideline is needed")
    if len({g.id for g in found}) != len(found):
        raise ValueError("guideline ids must be unique")
    return found


def guidelines(override: str | None = None) -> tuple[Guideline, ...]:
    """The operator's guidelines when set, else the shipped defaults."""
    return parse_guidelines(override if override else DEFAULTS.read_text(encoding="utf-8"))


def as_json(found: tuple[Guideline, ...]) -> list[dict[str, str]]:
    return [json.loads(g.model_dump_json()) for g in found]
