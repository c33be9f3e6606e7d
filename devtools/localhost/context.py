"""The `context` argument the Functions host passes to a function that asks for one."""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LocalContext:
    """What the worker's `azure.functions.Context` offers, for one invocation."""

    function_name: str
    invocation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_directory: str = "."
    trace_context: Any = None
    retry_context: Any = None
    thread_local_storage: Any = None


def with_context(handler: Callable[..., Any], function_name: str) -> Callable[..., Any]:
    """The handler, given a fresh context per call when its signature takes `context` (as the host does)."""
    if "context" not in inspect.signature(handler).parameters:
        return handler

    @functools.wraps(handler)
    def call(**kwargs: Any) -> Any:
        return handler(**kwargs, context=LocalContext(function_name))

    return call
