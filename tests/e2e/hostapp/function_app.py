"""A small app with every trigger kind, to test the local host apart from Liveness Guard itself."""

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
OUT = Path(os.environ["HOSTAPP_OUT"])


def note(kind: str, **data) -> None:
    with open(OUT / f"{kind}.jsonl", "a") as f:
        f.write(json.dumps({"at": datetime.now(UTC).isoformat(), **data}) + "\n")


@app.route(route="echo/{word:alpha}/{rest?}", methods=["GET", "POST"])
def echo(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(
            {
                "method": req.method,
                "route": dict(req.route_params),
                "query": dict(req.params),
                "header": req.headers.get("x-probe"),
                "body": req.get_body().decode("latin-1"),
                "setting": os.environ.get("HOSTAPP_SETTING"),
            }
        ),
        status_code=299,
        mimetype="application/json",
        headers={"x-echo": "yes"},
    )


@app.route(route="items/{id:int}", methods=["DELETE"])
def delete_item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(status_code=204)


@app.route(route="secured", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def secured(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("secret", mimetype="text/plain")


@app.timer_trigger(schedule="%TICK_SCHEDULE%", arg_name="timer", run_on_startup=False)
def tick(timer: func.TimerRequest) -> None:
    note("tick-start", past_due=timer.past_due)
    time.sleep(float(os.environ.get("TICK_SLEEP", "0")))
    note("tick-end")


@app.queue_trigger(arg_name="msg", queue_name="%JOBS_QUEUE%", connection="AzureWebJobsStorage")
def job(msg: func.QueueMessage) -> None:
    body = msg.get_body().decode()
    note("job", body=body, dequeue_count=msg.dequeue_count, id=msg.id)
    if body.startswith("fail"):
        raise RuntimeError("asked to fail")
