"""``check`` runs the instances' start-up check: exit 0, or 1 with the line an instance logs."""

import pytest

from local.function_server import launch_function_server
from tests.functions.helpers import drift_route, object_route, write_config

OBJECT = {"data_uri": "{uri}", "generation": "{generation}"}


def test_a_good_config_exits_0_listing_each_route(tmp_path, cli):
    config = write_config(tmp_path, [object_route(), drift_route()])

    ran = cli("check", "--config", config)

    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].split() == ["route", "event", "template", "checked"]
    assert lines[2].split()[:2] == ["arrival", "object_finalized"]
    assert lines[3].split()[:2] == ["drift", "drift_alert"]
    assert lines[-1] == f"{config}: 2 routes checked; an instance would start"


def test_json_lists_the_routes(tmp_path, cli):
    config = write_config(tmp_path, [object_route()])

    ran = cli("check", "--json", TRIGGERS_CONFIG=str(config))

    assert ran.code == 0
    assert ran.json()["ok"] is True
    assert ran.json()["config"] == str(config)
    assert [r["route"] for r in ran.json()["routes"]] == ["arrival"]


def test_a_bad_config_exits_1_with_the_error_the_instance_stops_with(tmp_path, cli):
    config = write_config(tmp_path, [object_route(parameters={"data_uri": "{url}"})])

    ran = cli("check", "--config", config)

    assert ran.code == 1
    assert ran.out == ""
    [line] = ran.err.splitlines()
    assert line.startswith(
        f"vertex_trigger.errors.ConfigError: {config}: route 'arrival': key 'parameters.data_uri':"
        " unknown placeholder {url}"
    )
    server = launch_function_server("on_object_finalized", {"TRIGGERS_CONFIG": str(config)})
    with pytest.raises(RuntimeError) as stopped:
        server.wait_ready()
    assert line in str(stopped.value).splitlines()  # the very line the instance logged


def test_json_gives_the_error_too(tmp_path, cli):
    config = write_config(tmp_path, [object_route(template="missing.yaml")])

    ran = cli("check", "--config", config, "--json")

    assert ran.code == 1
    assert ran.json()["ok"] is False
    assert f"{config}: route 'arrival': key 'template': cannot read it: template " in (
        ran.json()["error"]
    )


def test_webhook_variables_are_checked_as_on_run_state_checks_them(tmp_path, cli):
    route = object_route(notify={"webhook": "${PRICES_HOOK}"})
    config = write_config(tmp_path, [route])

    launcher = cli("check", "--config", config, "--function", "on_object_finalized")
    reporter = cli("check", "--config", config, "--function", "on_run_state")
    every = cli("check", "--config", config)

    assert launcher.code == 0  # the launching functions never read webhook URLs
    assert reporter.code == 1
    assert "route 'arrival': key 'notify.webhook'" in reporter.err
    assert every.err == reporter.err


def test_the_instance_logs_the_warning_check_prints(tmp_path, cli):
    parameters = {**OBJECT, "generation": "{event_id}"}
    config = write_config(tmp_path, [object_route(parameters=parameters)])
    env = {"TRIGGERS_CONFIG": str(config), "VERTEX_AI_EMULATOR_HOST": "127.0.0.1:9"}
    server = launch_function_server("on_object_finalized", env)
    try:
        server.wait_ready()
        [logged] = [r for r in server.wait_for_records(1) if r.get("severity") == "WARNING"]
    finally:
        server.stop()
    checked = cli("check", "--config", config, "--json")

    assert checked.code == 0
    assert checked.json()["warnings"] == [logged["message"]]
    assert logged["message"].startswith(
        f"{config}: route 'arrival': key 'parameters.generation': value '{{event_id}}' may not be "
        "a valid NUMBER_INTEGER"
    )
    human = cli("check", "--config", config)
    assert f"warning: {logged['message']}" in human.out
    assert human.out.rstrip().endswith("an instance would start (with 1 warning(s))")
