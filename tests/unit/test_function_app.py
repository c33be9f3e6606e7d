"""The function app loads in the real Python worker as it does in the local host: plain blueprints,
each function passing the worker's load-time rules; a missing setting stops the start naming itself."""

import azure.functions as func
import pytest

from shared.blueprints import blueprints
from shared.settings import Settings
from shared.startup import REQUIRED, MissingSettings, require_settings


def test_a_missing_required_setting_stops_the_start_naming_it():
    with pytest.raises(MissingSettings, match="FACE_ENDPOINT, SESSION_SEALING_KEY"):
        require_settings({"EMAIL_SENDER_ADDRESS": "a@b.test"})
    require_settings(dict.fromkeys(REQUIRED, "x"))


def test_the_required_list_matches_the_settings_model():
    required = {f.alias for f in Settings.model_fields.values() if f.is_required()}
    assert set(REQUIRED) == required


def _worker_load_problems(app: func.FunctionApp) -> list[str]:
    """What the Python worker's `Registry.add_indexed_function` refuses: a parameter that is not a
    binding (or `context`), a binding without its parameter, `context` not annotated
    `azure.functions.Context`, annotations that `typing.get_type_hints` cannot resolve."""
    import inspect
    import typing

    problems = []
    for function in app.get_functions():
        user = function.get_user_function()
        name = function.get_function_name()
        bindings = {b["name"] for b in function.get_bindings_dict()["bindings"] if b["name"] != "$return"}
        parameters = set(inspect.signature(user).parameters)
        if parameters - {"context"} != bindings:
            problems.append(f"{name}: parameters {sorted(parameters)} vs bindings {sorted(bindings)}")
        try:
            hints = typing.get_type_hints(user)
        except Exception as exc:
            problems.append(f"{name}: annotations do not resolve ({exc})")
            continue
        if "context" in parameters and hints.get("context") is not func.Context:
            problems.append(f"{name}: context is not annotated azure.functions.Context")
    return problems


def _app(*containers: func.Blueprint) -> func.FunctionApp:
    app = func.FunctionApp()
    for blueprint in containers:
        app.register_functions(blueprint)
    return app


def test_every_function_passes_the_python_workers_load_time_rules():
    app = _app(*blueprints())
    assert len(app.get_functions()) > 30
    assert _worker_load_problems(_app(*blueprints())) == []


def test_the_check_reports_a_trigger_whose_parameter_is_not_named_as_its_binding():
    bp = func.Blueprint()

    @bp.queue_trigger(arg_name="message", queue_name="q", connection="c")
    def consume(msg: func.QueueMessage, context: func.Context) -> None:
        """The binding is `message`, the parameter `msg`: the worker refuses to load it."""

    assert _worker_load_problems(_app(bp)) == ["consume: parameters ['context', 'msg'] vs bindings ['message']"]


def test_the_check_reports_a_context_without_its_annotation():
    bp = func.Blueprint()

    @bp.timer_trigger(schedule="0 0 * * * *", arg_name="timer")
    def tick(timer: func.TimerRequest, context) -> None:  # type: ignore[no-untyped-def]
        """`context` must be annotated azure.functions.Context."""

    assert _worker_load_problems(_app(bp)) == ["tick: context is not annotated azure.functions.Context"]


def test_every_function_the_host_serves_is_in_the_app_once_and_the_catch_all_last():
    names = [f.get_function_name() for f in _app(*blueprints()).get_functions()]
    assert len(names) == len(set(names)) and names[-1] == "no_such_route"
