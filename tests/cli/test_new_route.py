"""``new-route``: a route for a compiled template, every required input filled or marked."""

import pytest
import yaml

from tests.functions.helpers import DATA, TYPED_TEMPLATE

HOUSE_PRICES = DATA.parents[2] / "compiled" / "house_prices.yaml"


def test_an_object_route_fills_inputs_by_name_and_passes_check(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    routes = tmp_path / "triggers.yaml"

    made = cli("new-route", "--template", HOUSE_PRICES, "--event", "object_finalized",
               "--bucket", "acme-raw", "--prefix", "incoming/", "--suffix", ".csv",
               "--file", routes)  # fmt: skip
    checked = cli("check", "--config", routes)

    assert made.code == 0, made.err
    assert made.out.strip() == f"wrote {routes} (a new routes file)"
    [route] = yaml.safe_load(routes.read_text())["routes"]
    assert route["name"] == "house-prices"
    assert (route["bucket"], route["prefix"], route["suffix"]) == ("acme-raw", "incoming/", ".csv")
    assert route["parameters"] == {"data_uri": "{uri}"}  # the only required input
    text = routes.read_text()
    assert '      data_uri: "{uri}"   # STRING; fits: any placeholder' in text
    assert "      # seed: 42   # optional, NUMBER_INTEGER; fits: {generation}" in text
    assert checked.code == 0, checked.err


def test_an_input_no_placeholder_fills_is_marked_and_check_refuses_it(tmp_path, cli):
    routes = tmp_path / "triggers.yaml"
    made = cli("new-route", "--template", TYPED_TEMPLATE, "--event", "drift_alert",
               "--name", "retrain", "--file", routes)  # fmt: skip

    assert made.code == 0, made.err
    lines = routes.read_text().splitlines()
    assert "      data_uri: null   # decide: a STRING; fits: any placeholder, or a value" in lines
    assert ("      generation: null   # decide: a NUMBER_INTEGER; fits: no placeholder, or a value"
            in lines)  # fmt: skip
    assert "      # flag: false   # optional, BOOLEAN; fits: no placeholder" in lines
    assert ('    # match: {model: "projects/*/models/MODEL*"}   # decide: which alerts launch it'
            in lines)  # fmt: skip
    checked = cli("check", "--config", routes)
    assert checked.code == 1
    assert "route 'retrain': key 'parameters.data_uri': parameter 'data_uri': value None" in (
        checked.err)


def test_an_integer_input_named_after_a_placeholder_gets_it(tmp_path, cli):
    made = cli("new-route", "--template", TYPED_TEMPLATE, "--event", "object_finalized",
               "--bucket", "data")  # fmt: skip

    assert '      generation: "{generation}"   # NUMBER_INTEGER; fits: {generation}' in (
        made.out.splitlines())


def test_a_route_is_added_to_an_existing_file_and_a_bad_one_is_left_alone(tmp_path, cli):
    routes = tmp_path / "triggers.yaml"
    cli("new-route", "--template", HOUSE_PRICES, "--event", "object_finalized",
        "--bucket", "a", "--file", routes)  # fmt: skip
    added = cli("new-route", "--template", HOUSE_PRICES, "--event", "object_finalized",
                "--bucket", "b", "--name", "second", "--file", routes)  # fmt: skip
    other = tmp_path / "other.yaml"
    other.write_text("routes: []\nproject: p\n")
    refused = cli("new-route", "--template", HOUSE_PRICES, "--event", "object_finalized",
                  "--bucket", "b", "--file", other)  # fmt: skip

    assert added.out.strip() == f"added route 'second' to {routes}"
    assert [r["bucket"] for r in yaml.safe_load(routes.read_text())["routes"]] == ["a", "b"]
    assert refused.code == 1
    assert "its routes: list must come last" in refused.err
    assert other.read_text() == "routes: []\nproject: p\n"


def test_an_object_route_needs_a_bucket_and_a_bad_name_is_named(cli):
    assert cli("new-route", "--template", HOUSE_PRICES, "--event", "object_finalized").code == 2
    bad = cli("new-route", "--template", HOUSE_PRICES, "--event", "object_finalized",
              "--bucket", "a", "--name", "Bad_Name")  # fmt: skip
    assert bad.code == 1
    assert "key 'name': expected a name matching" in bad.err


def test_only_object_and_drift_routes_are_scaffolded(cli, capsys, tmp_path):
    routes = tmp_path / "triggers.yaml"

    with pytest.raises(SystemExit) as refused:
        cli("new-route", "--template", HOUSE_PRICES, "--event", "run_ended", "--file", routes)

    assert refused.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "vertex-triggers new-route: error: argument --event: expected object_finalized or "
        "drift_alert, got 'run_ended' (a run_ended route names its upstream, `after`: write it "
        "by hand)"
    )
    assert not routes.exists()
