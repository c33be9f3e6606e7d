"""Indexing the app registers stubs from a manifest that cannot drift from the real functions."""

import importlib
import json
import subprocess
import sys

import azure.functions as func
import pytest

from devtools.stack import ROOT
from shared.lazy_functions import MANIFEST, MODULES, blueprint, describe, real_function
from shared.settings import Settings
from shared.startup import REQUIRED, MissingSettings, require_settings


def test_the_manifest_is_what_the_real_functions_declare():
    """Regenerate with `python -m shared.lazy_functions` after adding or changing a function."""
    assert json.loads(MANIFEST.read_text()) == describe()


def test_each_stub_binds_exactly_like_its_real_function():
    lazy = func.FunctionApp()
    lazy.register_functions(blueprint())
    real = func.FunctionApp()
    for module in MODULES:
        real.register_functions(importlib.import_module(module).bp)
    as_json = {f.get_function_name(): f.get_function_json() for f in real.get_functions()}
    stubs = {f.get_function_name(): f.get_function_json() for f in lazy.get_functions()}
    assert stubs == as_json


def test_a_stub_hands_over_to_the_real_function():
    entry = next(e for e in describe() if e["name"] == "health")
    stub = next(f for f in blueprint()._function_builders if f.build().get_function_name() == "health")
    assert real_function(entry["module"], "health").__name__ == "health"
    assert stub.build().get_user_function().__name__ == "health"


def test_indexing_the_app_imports_neither_pydantic_nor_the_storage_sdks():
    probe = (
        "import sys, function_app; "
        "print(sorted(m for m in ('pydantic', 'azure.data.tables', 'azure.storage.queue', 'shared.bootstrap') "
        "if m in sys.modules))"
    )
    env = {"FACE_ENDPOINT": "http://127.0.0.1:9", "EMAIL_SENDER_ADDRESS": "a@b.test", "SESSION_SEALING_KEY": "k" * 32}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


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


def test_every_stub_and_every_real_function_passes_the_python_workers_load_time_rules():
    stubs = func.FunctionApp()
    stubs.register_functions(blueprint())
    real = func.FunctionApp()
    for module in MODULES:
        real.register_functions(importlib.import_module(module).bp)
    assert _worker_load_problems(stubs) == [] and _worker_load_problems(real) == []


def test_a_queue_stub_takes_its_binding_name_whatever_it_is():
    entry = {"module": "m", "name": "consume", "kind": "queue", "arg": "message", "queueName": "q", "connection": "c"}
    bp = func.Blueprint()
    bp.queue_trigger(arg_name="message", queue_name="q", connection="c")(
        __import__("shared.lazy_functions").lazy_functions._stub(entry)
    )
    app = func.FunctionApp()
    app.register_functions(bp)
    assert _worker_load_problems(app) == []
