"""Liveness Guard function app: creates the FunctionApp and registers every function. No logic here.

Functions are registered from `shared/functions.json` as stubs that import their real module on
first call (`shared.lazy_functions`), so indexing the app imports little beyond `azure.functions`.
"""

import azure.functions as func

from shared.lazy_functions import blueprint
from shared.startup import require_settings

require_settings()  # fail fast at start-up: a missing setting names itself here (types: on first use)

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(blueprint())
