"""Pages and static files the app serves itself (the review console, the API reference): one
content-security policy builder and one way to serve a listed file, never anything else."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import azure.functions as func

from shared.api.http import error_response
from shared.errors import NotFound


def page_headers(style_src: str = "'self'", form_action: str = "'self'") -> dict[str, str]:
    """Headers of a page: scripts from this app only, no framing, no referrer, no caching."""
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'self'; style-src {style_src}; img-src 'self' data:; "
            f"connect-src 'self'; base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
        ),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


@dataclass(frozen=True)
class StaticFiles:
    """The files of one package folder that may be served, by name and media type; names starting
    with `vendor_prefix` come from its `vendor/` folder."""

    package: str
    media_types: dict[str, str]
    vendor_prefix: str

    def read(self, name: str) -> bytes:
        folder = resources.files(self.package)
        return (folder / "vendor" / name if name.startswith(self.vendor_prefix) else folder / name).read_bytes()

    def response(self, name: str) -> func.HttpResponse:
        """The listed file (cacheable: no data in it), or 404 in the error envelope."""
        if name not in self.media_types:
            return error_response(NotFound("No such file."))
        return func.HttpResponse(
            self.read(name),
            mimetype=self.media_types[name],
            charset="utf-8",
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )
