"""run_ended routes at start-up: upstream known, no cycle, chains bounded, output references fit."""

from pathlib import Path
from typing import Any

import pytest
from vertex_trigger.config.model import EventKind
from vertex_trigger.errors import ConfigError
from vertex_trigger.google.pipeline_states import EndState
from vertex_trigger.startup import Environment, build_services

from tests.functions.helpers import DATA, object_route, write_config

UPSTREAM = DATA / "chain_upstream.yaml"
DOWNSTREAM = DATA / "chain_downstream.yaml"
MODEL_URI = "{tasks.train.outputs.artifacts.model.uri}"


def train_route(**overrides: Any) -> dict[str, Any]:
    """An object route launching the chain's upstream pipeline."""
    fields = {"name": "train", "template": str(UPSTREAM), "parameters": {"data_uri": "{uri}"}}
    return object_route(**{**fields, **overrides})


def score_route(**overrides: Any) -> dict[str, Any]:
    """A run_ended route after `train`, with the downstream pipeline."""
    route = {
        "name": "score",
        "event": "run_ended",
        "after": {"route": "train"},
        "template": str(DOWNSTREAM),
        "parameters": {
            "model_uri": MODEL_URI,
            "rmse": "{tasks.train.outputs.parameters.rmse}",
            "rows": "{tasks.train.outputs.parameters.rows}",
            "reason": "after {upstream_job} ({upstream_state}) for {upstream_source}",
        },
    }
    return {**route, **overrides}


def start(path: Path, target: str = "") -> Any:
    env = Environment(path, vertex_emulator_host="127.0.0.1:9", function_target=target)
    return build_services(env)


def config_error(tmp_path: Path, routes: list[dict[str, Any]], **top: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        start(write_config(tmp_path, routes, **top))
    return str(caught.value)


def test_a_run_ended_route_reads_its_upstream_states_and_references(tmp_path: Path) -> None:
    route = score_route(
        after={"route": "train", "states": ["SUCCEEDED", "FAILED"]},
        input_artifacts={"model": "{tasks.train.outputs.artifacts.model}"},
        sweep_lookback="2h",
    )
    config = start(write_config(tmp_path, [train_route(), route])).config
    score = config.route_named("score")
    assert score.event is EventKind.RUN_ENDED
    assert (score.after.route, score.after.states) == (
        "train", frozenset({EndState.SUCCEEDED, EndState.FAILED})
    )
    assert score.sweep_lookback == 7200
    assert config.max_chain_depth == 5
    [default] = start(write_config(tmp_path, [train_route(), score_route()])).config.routes[1:]
    assert default.after.states == frozenset({EndState.SUCCEEDED})


def test_an_unknown_upstream_route_is_a_start_up_error_naming_it(tmp_path: Path) -> None:
    error = config_error(tmp_path, [train_route(), score_route(after={"route": "trian"})])
    assert "route 'score': key 'after.route': no route named 'trian' (routes: train, score)" in (
        error
    )


def test_a_cycle_is_a_start_up_error_naming_it(tmp_path: Path) -> None:
    routes = [
        train_route(),
        score_route(name="a", after={"route": "b"}, parameters={"model_uri": "x"}),
        score_route(name="b", after={"route": "a"}, parameters={"model_uri": "x"}),
    ]
    error = config_error(tmp_path, routes)
    assert "key 'after': chain cycle a → b → a: each run's end would launch the next for ever" in (
        error
    )
    itself = [train_route(), score_route(after={"route": "score"}, parameters={"model_uri": "x"})]
    assert "chain cycle score → score" in config_error(tmp_path, itself)


def test_a_pipeline_upstream_that_is_its_own_template_is_a_cycle(tmp_path: Path) -> None:
    """A route after pipeline P whose own template is P would follow its own runs."""
    route = score_route(after={"pipeline": "chain-downstream"}, parameters={"model_uri": "x"})
    error = config_error(tmp_path, [train_route(), route])
    assert "route 'score': key 'after': chain cycle score → score" in error


def test_a_chain_deeper_than_max_chain_depth_is_refused_naming_it(tmp_path: Path) -> None:
    links = [
        score_route(name=f"step-{i}", after={"route": "train" if i == 1 else f"step-{i - 1}"},
                    parameters={"model_uri": "x"})
        for i in range(1, 4)
    ]  # fmt: skip
    assert start(write_config(tmp_path, [train_route(), *links], max_chain_depth=3))
    error = config_error(tmp_path, [train_route(), *links], max_chain_depth=2)
    assert (
        "route 'step-3': key 'after': link 3 of the chain train → step-1 → step-2 → step-3, "
        "deeper than max_chain_depth 2"
    ) in error
    assert "key 'max_chain_depth': expected a whole number from 1 to 20, got 0" in config_error(
        tmp_path, [train_route()], max_chain_depth=0
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{tasks.trian.outputs.artifacts.model.uri}",
         "{tasks.trian.outputs.artifacts.model.uri}: {UPSTREAM} has no task 'trian' "
         "(tasks: condition-1, deploy, train)"),
        ("{tasks.train.outputs.artifacts.modle.uri}",
         "{tasks.train.outputs.artifacts.modle.uri}: task 'train' of {UPSTREAM} has no output "
         "artifact 'modle' (output artifacts: model)"),
        ("{tasks.train.outputs.parameters.rsme}",
         "{tasks.train.outputs.parameters.rsme}: task 'train' of {UPSTREAM} has no output "
         "parameter 'rsme' (output parameters: note, ok, rmse, rows, tags)"),
    ],
)  # fmt: skip
def test_an_unknown_task_or_output_is_a_start_up_error_naming_it(
    tmp_path: Path, value: str, message: str
) -> None:
    route = score_route(parameters={"model_uri": value})
    error = config_error(tmp_path, [train_route(), route])
    expected = message.replace("{UPSTREAM}", str(UPSTREAM))
    assert f"route 'score': key 'parameters.model_uri': {expected}" in error


def test_a_referenced_output_must_fit_the_input_type(tmp_path: Path) -> None:
    rmse = "{tasks.train.outputs.parameters.rmse}"
    wrong = score_route(parameters={"model_uri": "x", "rows": rmse})
    assert (
        "key 'parameters.rows': {tasks.train.outputs.parameters.rmse} is an output parameter of "
        "type NUMBER_DOUBLE; input 'rows' is NUMBER_INTEGER"
    ) in config_error(tmp_path, [train_route(), wrong])
    uri = score_route(parameters={"model_uri": "x", "rmse": MODEL_URI})
    assert f"key 'parameters.rmse': {MODEL_URI} is a URI (text); input 'rmse' is NUMBER_DOUBLE" in (
        config_error(tmp_path, [train_route(), uri])
    )
    # An integer fits a double, anything fits a string, text around a reference is per run.
    fits = score_route(parameters={
        "model_uri": "{tasks.train.outputs.parameters.ok}",
        "rmse": "{tasks.train.outputs.parameters.rows}",
        "reason": "rows {tasks.train.outputs.parameters.tags}",
    })  # fmt: skip
    assert start(write_config(tmp_path, [train_route(), fits]))


def test_input_artifacts_take_an_upstream_artifact_of_a_fitting_type(tmp_path: Path) -> None:
    bound = score_route(input_artifacts={"model": "{tasks.train.outputs.artifacts.model}"})
    assert start(write_config(tmp_path, [train_route(), bound]))
    for value, problem in (
        ("{tasks.train.outputs.parameters.rmse}", "is not an artifact: an input artifact is bound"),
        (MODEL_URI, "is not an artifact"),
        ("x-{tasks.train.outputs.artifacts.model}", "must be the whole value"),
    ):
        route = score_route(input_artifacts={"model": value})
        error = config_error(tmp_path, [train_route(), route])
        assert "key 'input_artifacts.model': " in error
        assert problem in error


def test_references_are_for_run_ended_routes_and_parameters_take_uris(tmp_path: Path) -> None:
    on_object = train_route(parameters={"data_uri": MODEL_URI})
    assert (
        f"key 'parameters.data_uri': {MODEL_URI} reads an upstream run's output: output "
        "references are for run_ended routes"
    ) in config_error(tmp_path, [on_object])
    artifact = score_route(parameters={"model_uri": "{tasks.train.outputs.artifacts.model}"})
    assert (
        "{tasks.train.outputs.artifacts.model} is the artifact itself: a parameter takes its URI, "
        "{tasks.train.outputs.artifacts.model.uri}"
    ) in config_error(tmp_path, [train_route(), artifact])
    unknown = score_route(parameters={"model_uri": "{uri}"})
    assert (
        "unknown placeholder {uri} for run_ended routes (known: event_time, upstream_event_id, "
        "upstream_job, upstream_pipeline, upstream_route, upstream_source, upstream_state;"
    ) in config_error(tmp_path, [train_route(), unknown])


@pytest.mark.parametrize(
    ("after", "key", "problem"),
    [
        (None, "after", "required: the route or pipeline whose runs' ends launch this one"),
        ({"route": "train", "pipeline": "p"}, "after", "name exactly one upstream"),
        ({"route": "train", "states": ["DONE"]}, "after.states", "states must be SUCCEEDED"),
        ({"route": "train", "states": []}, "after.states", "expected a non-empty list"),
        ({"route": "train", "template": "x.yaml"}, "after.template", "only for pipeline"),
        ({"pipeline": "Not A Name"}, "after.pipeline", "expected a compiled pipeline's name"),
        ({"route": "train", "when": 1}, "after.when", "unknown key (allowed: pipeline, route"),
    ],
)
def test_after_is_checked_key_by_key(
    tmp_path: Path, after: Any, key: str, problem: str
) -> None:
    route = score_route(parameters={"model_uri": "x"})
    route.pop("after")
    if after is not None:
        route["after"] = after
    error = config_error(tmp_path, [train_route(), route])
    assert f"route 'score': key '{key}': {problem}" in error


def test_a_pipeline_upstream_needs_its_template_to_check_references(tmp_path: Path) -> None:
    after = {"pipeline": "chain-upstream"}
    error = config_error(tmp_path, [train_route(), score_route(after=after)])
    assert (
        f"route 'score': key 'after.template': required to check {MODEL_URI} against the "
        "upstream pipeline"
    ) in error
    wrong = {"pipeline": "chain-upstream", "template": str(DOWNSTREAM)}
    assert f"{DOWNSTREAM} is pipeline 'chain-downstream', not 'chain-upstream'" in config_error(
        tmp_path, [train_route(), score_route(after=wrong)]
    )
    right = {"pipeline": "chain-upstream", "template": str(UPSTREAM)}
    assert start(write_config(tmp_path, [train_route(), score_route(after=right)]))


def test_on_run_state_checks_the_routes_it_launches_and_no_other_template(tmp_path: Path) -> None:
    """It launches run_ended routes only: an unreadable object route's template is not its."""
    routes = [train_route(), score_route(), object_route(template=str(tmp_path / "gone.yaml"))]
    path = write_config(tmp_path, routes)
    assert start(path, "on_run_state")
    bad = score_route(parameters={"model_uri": "{tasks.train.outputs.parameters.nope}"})
    with pytest.raises(ConfigError, match="has no output parameter 'nope'"):
        start(write_config(tmp_path, [train_route(), bad]), "on_run_state")


def test_a_chained_route_has_one_label_less_room(tmp_path: Path) -> None:
    labels = {f"l{i}": "v" for i in range(58)}  # an object route's most (test_config.py)
    error = config_error(tmp_path, [train_route(), score_route(labels=labels)])
    assert "key 'labels': 58 labels, at most 57" in error
    assert "trigger-auth, trigger-upstream" in error
    # With retry_failed too, its retries carry trigger-retry-of besides: one fewer again.
    fewer = {f"l{i}": "v" for i in range(57)}
    retried = score_route(labels=fewer, retry_failed={"attempts": 2})
    error = config_error(tmp_path, [train_route(), retried])
    assert "key 'labels': 57 labels, at most 56 with retry_failed" in error


def test_chain_fixture_templates_are_real_kfp_output(tmp_path: Path) -> None:
    """Recompiling tests/functions/data/chain_pipelines.py reproduces the committed fixtures."""
    import importlib.util

    import yaml
    from kfp import compiler

    spec = importlib.util.spec_from_file_location("chain_pipelines", DATA / "chain_pipelines.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for pipeline, committed_path in (
        (module.chain_upstream, UPSTREAM),
        (module.chain_downstream, DOWNSTREAM),
    ):
        out = tmp_path / committed_path.name
        compiler.Compiler().compile(pipeline, str(out))
        fresh, committed = (yaml.safe_load(p.read_text()) for p in (out, committed_path))
        assert {**fresh, "sdkVersion": ""} == {**committed, "sdkVersion": ""}


def test_a_reference_is_substituted_once_and_an_escaped_one_is_text(tmp_path: Path) -> None:
    from vertex_trigger.config.placeholders import placeholders_in, substitute

    rmse = "tasks.train.outputs.parameters.rmse"
    text = f"{{{{{rmse}}}}} is {{{rmse}}} after {{upstream_job}}"
    assert placeholders_in(text) == {rmse, "upstream_job"}
    # What an output holds is inserted as it is, never read as a placeholder.
    values = {rmse: "{upstream_job}", "upstream_job": "train-1"}
    assert substitute(text, values) == f"{{{rmse}}} is {{upstream_job}} after train-1"
    literal = train_route(parameters={"data_uri": f"{{{{{rmse}}}}}"})  # escaped: plain text
    assert start(write_config(tmp_path, [literal]))
