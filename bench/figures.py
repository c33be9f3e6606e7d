"""The one machine-readable line every benchmark ends with: `{"bench": <name>, <figure>: <value>, ...}`."""

from __future__ import annotations

import json
from typing import Any


def print_figures(name: str, figures: dict[str, Any]) -> None:
    """Print the benchmark's figures as one JSON line (floats rounded to 4 places)."""
    rounded = {key: round(value, 4) if isinstance(value, float) else value for key, value in figures.items()}
    print(json.dumps({"bench": name, **rounded}))
