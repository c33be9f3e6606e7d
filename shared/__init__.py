"""Liveness Guard: domain logic and adapters behind the Azure Functions entry points."""

__version__ = "0.1.0"
