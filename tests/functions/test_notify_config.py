"""outcomes_topic and a route's notify: checked at start-up, the webhook URL never in the file."""

from pathlib import Path
from typing import Any

import pytest
from vertex_trigger.errors import ConfigError
from vertex_trigger.google.pipeline_states import EndState
from vertex_trigger.startup import RUN_STATE_TARGET, Environment, build_services

from tests.functions.helpers import object_route, write_config

HOOK = "PRICES_WEBHOOK_URL"


def start(path: Path, target: str = RUN_STATE_TARGET, **variables: str) -> Any:
    env = Environment(
        path,
        vertex_emulator_host="127.0.0.1:9",
        storage_emulator_host="127.0.0.1:9",  # nothing listens: reading a gs:// template fails
        function_target=target,
        variables=variables,
    )
    return build_services(env)


def notifying(**notify: Any) -> dict[str, Any]:
    return object_route(notify={"webhook": f"${{{HOOK}}}", **notify})


def test_notify_and_outcomes_topic_read_into_the_config(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        [notifying(on=["FAILED", "CANCELLED"])],
        outcomes_topic="projects/test-project/topics/run-outcomes",
    )
    config = start(path, **{HOOK: "https://hooks.slack.com/services/T/B/X"}).config
    assert config.outcomes_topic == "projects/test-project/topics/run-outcomes"
    notify = config.routes[0].notify
    assert notify.webhook_variable == HOOK
    assert notify.on == {EndState.FAILED, EndState.CANCELLED}


def test_notify_hears_failed_runs_unless_told_otherwise(tmp_path: Path) -> None:
    config = start(write_config(tmp_path, [notifying()]), **{HOOK: "https://h/x"}).config
    assert config.routes[0].notify.on == {EndState.FAILED}


@pytest.mark.parametrize(
    ("notify", "expected"),
    [
        ({"webhook": "https://hooks.slack.com/services/T/B/X"},
         "key 'notify.webhook': expected ${ENV_VAR}, the environment variable holding the "
         "webhook URL (set it from Secret Manager); the URL itself must not be written"),
        ({"webhook": "${lower-case}"}, "key 'notify.webhook': expected ${ENV_VAR}"),
        ({"webhook": "${HOOK}", "on": ["FAILED", "RUNNING"]},
         "key 'notify.on': states must be SUCCEEDED, FAILED, CANCELLED, got ['FAILED', 'RUNNING']"),
        ({"webhook": "${HOOK}", "on": []}, "key 'notify.on': expected a non-empty list"),
        ({"webhook": "${HOOK}", "channel": "#ml"},
         "key 'notify.channel': unknown key (allowed: on, webhook)"),
    ],
)  # fmt: skip
def test_bad_notify_names_route_and_key(tmp_path: Path, notify: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        start(write_config(tmp_path, [object_route(notify=notify)]), HOOK="https://h/x")
    assert "route 'arrival': " + expected in str(caught.value)


def test_bad_outcomes_topic_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        start(write_config(tmp_path, [object_route()], outcomes_topic="run-outcomes"))
    assert "key 'outcomes_topic': expected a topic name projects/PROJECT/topics/TOPIC" in str(
        caught.value
    )


def test_on_run_state_stops_without_the_webhook_variable_the_launchers_do_not_need_it(
    tmp_path: Path,
) -> None:
    path = write_config(tmp_path, [notifying()])
    with pytest.raises(ConfigError) as caught:
        start(path)
    assert str(caught.value) == (
        f"{path}: route 'arrival': key 'notify.webhook': environment variable {HOOK} is not set"
    )
    start(path, target="on_object_finalized")  # launches only: no secret needed, none read


SECRET = "T0SECRET/B0SECRET/x0SECRETx"  # the part of a Slack hook URL that is its credential


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("xoxb-secret-token-T0SECRET", "does not hold an https:// URL: only https webhooks"),
        (f"http://hooks.slack.com/services/{SECRET}", "does not hold an https:// URL"),
        (f"ftp://hooks.slack.com/services/{SECRET}", "does not hold an https:// URL"),
        (f"hooks.slack.com/services/{SECRET}", "does not hold an https:// URL"),
        (f"https:///services/{SECRET}", "holds a URL without a host"),
        (f"https://[::1/services/{SECRET}", "does not hold a well-formed URL"),
        (f"https://hooks.slack.com:44x3/services/{SECRET}", "does not hold a well-formed URL"),
        (f"https://hooks.slack.com/services/{SECRET} ", "holds spaces, control or non-ASCII"),
        (f"https://hooks.slack.com/services/{SECRET}\r\nX: y", "holds spaces, control"),
        (f"https://hooks.slack.com/sérvices/{SECRET}", "holds spaces, control or non-ASCII"),
        (f"https://user:T0SECRET@hooks.slack.com/{SECRET}", "holds a URL with user:password@"),
    ],
)
def test_only_a_well_formed_https_url_is_accepted_and_never_echoed(
    tmp_path: Path, url: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        start(write_config(tmp_path, [notifying()]), **{HOOK: url})
    assert f"key 'notify.webhook': environment variable {HOOK} {problem}" in str(caught.value)
    assert "SECRET" not in str(caught.value)
    # Nothing of it in the traceback either: the error chains to nothing that could hold it.
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_an_https_url_is_accepted_as_written(tmp_path: Path) -> None:
    url = f"https://hooks.slack.com:443/services/{SECRET}?a=b%20c"
    services = start(write_config(tmp_path, [notifying()]), **{HOOK: url})
    assert services.webhooks is not None


def test_on_run_state_skips_the_template_check_the_launchers_need(tmp_path: Path) -> None:
    path = write_config(tmp_path, [object_route(template="gs://nowhere/missing.yaml")])
    start(path)  # reports only: never reads a template (nor holds the right to)
    with pytest.raises(ConfigError, match="key 'template': cannot read it"):
        start(path, target="on_object_finalized")
