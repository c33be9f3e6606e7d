"""Liveness Guard function app: creates the FunctionApp and registers the blueprints. No logic here."""

import azure.functions as func

from shared.api import client_routes, console_routes, docs_routes, manage_routes, privacy_routes, review_routes
from shared.settings import load_settings
from shared.triggers import notifications, retention

load_settings()  # fail fast at start-up: a missing or malformed setting names itself here

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(client_routes.bp)
app.register_functions(manage_routes.bp)
app.register_functions(review_routes.bp)
app.register_functions(privacy_routes.bp)
app.register_functions(console_routes.bp)
app.register_functions(docs_routes.bp)
app.register_functions(notifications.bp)
app.register_functions(retention.bp)
