"""Liveness Guard function app: creates the FunctionApp and registers every blueprint. No logic here."""

import azure.functions as func

from shared.blueprints import blueprints
from shared.startup import require_settings

require_settings()  # fail fast at start-up: a missing setting names itself here (types: on first use)

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
for blueprint in blueprints():
    app.register_functions(blueprint)
