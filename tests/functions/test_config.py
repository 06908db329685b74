"""A bad triggers.yaml stops start-up with a message naming the route and the key."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from vertex_trigger.config.cooldown_counts import CooldownCounts
from vertex_trigger.config.labels import AUTH_LABEL, MAX_LABELS, TRIGGER_LABELS, VERTEX_LABELS
from vertex_trigger.config.loader import load_config
from vertex_trigger.config.model import EventKind
from vertex_trigger.config.template_ref import TemplateKind
from vertex_trigger.errors import ConfigError
from vertex_trigger.launch.identity import run_labels
from vertex_trigger.launch.parameters import render
from vertex_trigger.startup import Environment, build_services, environment_from

from tests.functions.helpers import (
    TYPED_TEMPLATE,
    StorageStandIn,
    drift_route,
    object_route,
    write_config,
)

SHIPPED = Path(__file__).resolve().parents[2] / "functions" / "triggers.yaml"


def start(path: Path, **env: Any) -> Any:
    return build_services(Environment(path, vertex_emulator_host="127.0.0.1:9", **env))


def config_error(tmp_path: Path, routes: list[dict[str, Any]], **top: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        start(write_config(tmp_path, routes, **top))
    return str(caught.value)


def test_valid_config_reads_into_frozen_dataclasses(tmp_path: Path) -> None:
    services = start(write_config(tmp_path, [object_route(), drift_route(cooldown="6h")]))
    arrival, drift = services.config.routes
    assert arrival.event is EventKind.OBJECT_FINALIZED
    assert arrival.template.kind is TemplateKind.LOCAL
    assert drift.cooldown == 6 * 3600
    assert services.config.retry.deadline == 3.0
    with pytest.raises(AttributeError):
        arrival.name = "other"  # type: ignore[misc]


def test_drift_route_reads_incident_fields_and_policy_labels(tmp_path: Path) -> None:
    route = drift_route(
        match={"form": "incident", "policy": "drift-*", "observed_value": "0.*"},
        policy_labels={"retrain": "house-prices"},
        parameters={"data_uri": "gs://d/x.csv", "generation": 0,
                    "note": "{policy} {condition} {incident_id} {summary} {observed_value} "
                            "{threshold_value} {form}"},
    )  # fmt: skip
    [drift] = start(write_config(tmp_path, [route])).config.routes
    assert dict(drift.policy_labels) == {"retrain": "house-prices"}
    assert drift.match["form"] == "incident"
    with pytest.raises(TypeError):
        drift.policy_labels["x"] = "y"  # type: ignore[index]


def test_relative_template_path_is_resolved_from_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "compiled").mkdir()
    (tmp_path / "compiled" / "t.yaml").write_bytes(TYPED_TEMPLATE.read_bytes())
    (tmp_path / "conf").mkdir()
    path = write_config(tmp_path / "conf", [object_route(template="../compiled/t.yaml")])
    services = start(path)
    assert services.config.routes[0].template.uri == str(tmp_path / "compiled" / "t.yaml")


def test_project_falls_back_to_the_environment(tmp_path: Path) -> None:
    path = write_config(tmp_path, [object_route()], project=None)
    assert start(path, project="env-project").config.project == "env-project"
    with pytest.raises(ConfigError, match="key 'project': missing"):
        start(path)


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (object_route(name="Bad_Name"), "key 'name': expected a name matching"),
        (object_route(colour="blue"), "route 'arrival': key 'colour': unknown key"),
        (object_route(event="object_deleted"), "route 'arrival': key 'event': expected"),
        (object_route(cooldown="1h"), "route 'arrival': key 'cooldown': unknown key"),
        (object_route(bucket=None), "route 'arrival': key 'bucket': expected a non-empty string"),
        (object_route(prefix=3), "route 'arrival': key 'prefix': expected a string"),
        (object_route(parameters={"data_uri": "{url}", "generation": 1}),
         "route 'arrival': key 'parameters.data_uri': unknown placeholder {url}"),
        (object_route(parameters={"data_uri": "{model}", "generation": 1}),
         "route 'arrival': key 'parameters.data_uri': unknown placeholder {model}"),
        (object_route(parameters={"data_uri": "{uri}", "generation": 1, "colour": "x"}),
         "route 'arrival': key 'parameters.colour': not an input of"),
        (object_route(parameters={"data_uri": "{uri}"}),
         "route 'arrival': key 'parameters': required input(s) of"),
        (object_route(parameters={"data_uri": "{uri}", "generation": "many"}),
         "route 'arrival': key 'parameters.generation': parameter 'generation': value 'many' "
         "is not a valid NUMBER_INTEGER"),
        (object_route(labels={"Team": "x"}), "route 'arrival': key 'labels.Team': label keys"),
        (object_route(labels={"team": "Pricing"}), "key 'labels.team': label values"),
        (object_route(labels={"trigger-route": "x"}), "key 'labels.trigger-route': keys starting"),
        (object_route(template="/nonexistent/t.yaml"), "'arrival': key 'template': cannot read"),
        (object_route(template="https://example.com/t.yaml"), "key 'template': an https"),
        (object_route(template="s3://b/t.yaml"), "key 'template': unsupported template scheme"),
        (object_route(enable_caching="no"), "route 'arrival': key 'enable_caching': expected true"),
        (drift_route(cooldown="soon"), "route 'drift': key 'cooldown': expected a duration"),
        (drift_route(min_deviation=-1), "route 'drift': key 'min_deviation': expected a number"),
        (drift_route(min_deviation=10**400), "key 'min_deviation': expected a number >= 0"),
        (drift_route(cooldown="1" * 400 + "s"),
         "route 'drift': key 'cooldown': a duration must be positive and finite"),
        (drift_route(cooldown=10**400), "key 'cooldown': a duration must be positive and finite"),
        (drift_route(match={"colour": "*"}), "'drift': key 'match.colour': unknown alert field"),
        (drift_route(bucket="data"), "route 'drift': key 'bucket': unknown key"),
        (drift_route(match=["model"]), "key 'match': expected a mapping of alert field to glob"),
        (drift_route(match={"policy": 3}), "key 'match.policy': expected a glob string, got 3"),
        (drift_route(policy_labels="retrain"),
         "key 'policy_labels': expected a mapping of label key to glob, got 'retrain'"),
        (drift_route(policy_labels={"retrain": True}),
         "route 'drift': key 'policy_labels.retrain': expected a glob string, got True"),
        (drift_route(policy_labels={"": "x"}), "key 'policy_labels': expected label keys as"),
        (object_route(policy_labels={"a": "b"}), "route 'arrival': key 'policy_labels': unknown"),
        (drift_route(parameters={"data_uri": "{uri}", "generation": 1}),
         "route 'drift': key 'parameters.data_uri': unknown placeholder {uri}"),
        (object_route(labels={"vertex-ai-pipelines-run-billing-id": "x"}),
         "key 'labels.vertex-ai-pipelines-run-billing-id': reserved by Vertex AI"),
        (drift_route(cooldown="1h", cooldown_counts="failed"),
         "route 'drift': key 'cooldown_counts': expected live or succeeded_or_running, got "
         "'failed'"),
        (drift_route(cooldown_counts="live"),
         "route 'drift': key 'cooldown_counts': applies only to a route with a cooldown"),
        (object_route(cooldown_counts="live"), "route 'arrival': key 'cooldown_counts': unknown"),
    ],
)  # fmt: skip
def test_bad_route_names_route_and_key(tmp_path: Path, route: dict, expected: str) -> None:
    assert expected in config_error(tmp_path, [route])


def test_duplicate_route_names_are_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, [object_route(), object_route(prefix="other/")])
    assert "route 'arrival': key 'name': duplicate route name" in message


def test_bad_top_level_keys_are_named(tmp_path: Path) -> None:
    assert "key 'regoin': unknown key" in config_error(tmp_path, [object_route()], regoin="x")
    assert "key 'pipeline_root': expected a gs://" in config_error(
        tmp_path, [object_route()], pipeline_root="/tmp/runs"
    )
    assert "key 'retry.deadline': expected a duration" in config_error(
        tmp_path, [object_route()], retry={"deadline": "forever"}
    )
    assert "key 'routes': expected a non-empty list" in config_error(tmp_path, [])


def test_unreadable_or_invalid_yaml_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("routes: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)
    broken.write_text("retry: {deadline: " + "1" * 4301 + "}\n")  # past Python's int() limit
    with pytest.raises(ConfigError, match="not valid YAML: Exceeds the limit"):
        load_config(broken)


def test_template_that_is_not_a_pipeline_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(yaml.safe_dump({"hello": "world"}))
    message = config_error(tmp_path, [object_route(template="t.yaml")])
    assert "route 'arrival': key 'template': cannot read it" in message
    assert "not a compiled KFP v2 pipeline spec" in message


def test_escaped_braces_and_json_literals_are_not_placeholders(tmp_path: Path) -> None:
    params = {"data_uri": "{uri}", "generation": 1, "options": '{"a": [1, 2]}', "note": "{{uri}}"}
    services = start(write_config(tmp_path, [object_route(parameters=params)]))
    route = services.config.routes[0]
    assert route.parameters["options"] == '{"a": [1, 2]}'
    inputs = services.templates.get(route.template).inputs
    rendered = render(route.parameters, inputs, {"uri": "gs://data/a.csv"})
    assert (rendered["options"], rendered["note"]) == ({"a": [1, 2]}, "{uri}")


def test_environment_is_read_from_the_mapping_given() -> None:
    env = environment_from(
        {"TRIGGERS_CONFIG": "/x/t.yaml", "VERTEX_AI_EMULATOR_HOST": "127.0.0.1:1"},
        Path("/default.yaml"),
    )
    assert env.config_path == Path("/x/t.yaml")
    assert env.vertex_emulator_host == "127.0.0.1:1"
    assert env.storage_emulator_host is None
    assert environment_from({}, Path("/default.yaml")).config_path == Path("/default.yaml")


def test_shipped_config_is_well_formed() -> None:
    config = load_config(SHIPPED)
    assert [r.name for r in config.routes] == [
        "prices-arrival", "prices-export", "prices-drift", "score-after-train"
    ]
    assert config.routes[3].after.route == "prices-arrival"
    assert config.routes[0].template.uri.endswith("compiled/house_prices.yaml")
    assert (config.routes[1].batch.rule, config.routes[1].batch.control) == ("marker", "_SUCCESS")


def test_missing_gcs_template_stops_start_up(tmp_path: Path, gcs: StorageStandIn) -> None:
    gcs.upload("config-templates", "present.yaml", TYPED_TEMPLATE.read_bytes())
    host = gcs.url.removeprefix("http://")  # the usual host:port form of STORAGE_EMULATOR_HOST
    present = write_config(tmp_path, [object_route(template="gs://config-templates/present.yaml")])
    assert (
        start(present, storage_emulator_host=host).config.routes[0].template.bucket
        == "config-templates"
    )
    missing = write_config(tmp_path, [object_route(template="gs://config-templates/missing.yaml")])
    with pytest.raises(ConfigError) as caught:
        start(missing, storage_emulator_host=host)
    assert f"{missing}: route 'arrival': key 'template': cannot read it" in str(caught.value)
    assert "missing.yaml: HTTP 404" in str(caught.value)


def test_labels_leave_room_for_the_triggers_and_vertex_own(tmp_path: Path) -> None:
    """Vertex allows 64 labels per run, its billing label and the trigger's labels included."""
    room = MAX_LABELS - len(TRIGGER_LABELS) - len(VERTEX_LABELS)
    labels = {f"l{i}": "x" for i in range(room)}
    assert start(write_config(tmp_path, [object_route(labels=labels)])).config.routes[0].labels
    message = config_error(tmp_path, [object_route(labels={**labels, "one-more": "x"})])
    assert message.endswith(
        f"route 'arrival': key 'labels': {room + 1} labels, at most {room}: Vertex AI allows 64 "
        "per run, including its own vertex-ai-pipelines-run-billing-id and the trigger's "
        f"{', '.join(TRIGGER_LABELS)}"
    )


def test_the_trigger_labels_counted_are_the_ones_a_run_gets(tmp_path: Path) -> None:
    """The count comes from labels.TRIGGER_LABELS: a label added to runs must be added there."""
    route = start(write_config(tmp_path, [object_route(labels={"team": "x"})])).config.routes[0]
    labels = run_labels(route, "object", "abc", "evt-1")
    # trigger-auth is added by launch(), where the job id it signs is final.
    assert set(labels) - set(route.labels) == set(TRIGGER_LABELS) - {AUTH_LABEL}


def test_cooldown_counts_defaults_to_succeeded_or_running(tmp_path: Path) -> None:
    config = start(write_config(tmp_path, [drift_route(cooldown="1h")])).config
    assert config.routes[0].cooldown_counts is CooldownCounts.SUCCEEDED_OR_RUNNING



BATCH_PARAMETERS = {"data_uri": "{batch_uri}", "generation": "{batch_objects}"}


def batch_route(complete_when: Any, **overrides: Any) -> dict[str, Any]:
    return object_route(
        **{"batch": {"complete_when": complete_when}, "parameters": BATCH_PARAMETERS, **overrides}
    )


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (object_route(batch={"marker": "_SUCCESS"}),
         "route 'arrival': key 'batch': expected {complete_when: {RULE: VALUE}}"),
        (batch_route({"marker": "_SUCCESS", "min_objects": 3}),
         "key 'batch.complete_when': expected exactly one rule of marker, min_objects"),
        (batch_route({"files": 3}), "key 'batch.complete_when.files': unknown rule"),
        (batch_route({"marker": "done/_SUCCESS"}),
         "key 'batch.complete_when.marker': expected an object name in the folder"),
        (batch_route({"manifest": ""}), "key 'batch.complete_when.manifest': expected an object"),
        (batch_route({"min_objects": 0}),
         "key 'batch.complete_when.min_objects': expected a whole number >= 1, got 0"),
        (batch_route({"min_objects": True}), "key 'batch.complete_when.min_objects': expected"),
        (batch_route({"quiet": "soon"}), "key 'batch.complete_when.quiet': expected a duration"),
        (batch_route({"quiet": "10m"}),
         "key 'sweep_lookback': a quiet batch is launched by the sweeper only: set it"),
        (batch_route({"quiet": "10m"}, sweep_lookback="10m"),
         "key 'sweep_lookback': must be longer than the quiet period 600s"),
        (object_route(sweep_lookback="forever"), "key 'sweep_lookback': expected a duration"),
        (drift_route(sweep_lookback="1h"), "route 'drift': key 'sweep_lookback': unknown key"),
        (drift_route(batch={"complete_when": {"min_objects": 2}}),
         "route 'drift': key 'batch': unknown key"),
        (batch_route({"marker": "_SUCCESS"}, parameters={"data_uri": "{uri}", "generation": 1}),
         "key 'parameters.data_uri': unknown placeholder {uri} for batch routes (known: "
         "batch_bytes, batch_folder, batch_objects, batch_uri, bucket;"),
        (batch_route({"marker": "_SUCCESS"},
                     parameters={"data_uri": "{batch_manifest_uri}", "generation": 1}),
         "unknown placeholder {batch_manifest_uri} for batch routes"),
        (object_route(parameters={"data_uri": "{batch_folder}", "generation": 1}),
         "unknown placeholder {batch_folder} for object_finalized routes"),
        (object_route(max_running=0),
         "route 'arrival': key 'max_running': expected a whole number from 1 to 1000, got 0"),
        (drift_route(max_runs_per_day=1001), "key 'max_runs_per_day': expected a whole number"),
        (object_route(max_runs_per_day="5"), "key 'max_runs_per_day': expected a whole number"),
    ],
)  # fmt: skip
def test_bad_batch_and_limit_keys_name_route_and_key(
    tmp_path: Path, route: dict, expected: str
) -> None:
    assert expected in config_error(tmp_path, [route])


def test_batch_and_limit_keys_read_into_the_route(tmp_path: Path) -> None:
    routes = [
        batch_route({"quiet": "10m"}, sweep_lookback="2h", max_running=3),
        drift_route(max_runs_per_day=5),
        object_route(
            name="manifest",
            batch={"complete_when": {"manifest": "files.txt"}},
            parameters={"data_uri": "{batch_manifest_uri}", "generation": "{batch_bytes}"},
        ),
    ]
    arrival, drift, manifest = start(write_config(tmp_path, routes)).config.routes
    assert (arrival.batch.rule, arrival.batch.quiet) == ("quiet", 600)
    assert (arrival.sweep_lookback, arrival.max_running) == (7200, 3)
    assert (drift.max_runs_per_day, drift.batch, drift.sweep_lookback) == (5, None, None)
    assert (manifest.batch.rule, manifest.batch.control) == ("manifest", "files.txt")
