"""A local Azure Functions host for machines without Core Tools, driven by `function_app.app` metadata."""
