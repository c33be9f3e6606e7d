"""The floor as a Functions app: `POST /api/v1/sessions` doing only one subject read, one Face
create and one transaction (bench/floor.py), for `bench.cold_start` to start beside the real app."""

import json
import os

import azure.functions as func

from bench.floor import Floor

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
_floor: list[Floor] = []


@app.route(route="v1/sessions", methods=["POST"])
def create_session(req: func.HttpRequest) -> func.HttpResponse:
    if not _floor:
        _floor.append(
            Floor(
                os.environ["AzureWebJobsStorage"],  # noqa: SIM112 - the Functions host's own name
                os.environ["TABLE_NAME_PREFIX"],
                os.environ["FACE_ENDPOINT"],
                os.environ["FACE_API_KEY"],
            )
        )
    customer_id = (req.headers.get("x-api-key") or "").split(".")[1]
    guid = json.loads(req.get_body())["correlationId"]
    created = _floor[0].session(f"{customer_id}_{guid}", guid)
    return func.HttpResponse(json.dumps({"sessionId": created["sessionId"]}), status_code=201)
