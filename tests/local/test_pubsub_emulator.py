"""Google's Pub/Sub emulator as the stack starts it, and the REST helpers other code uses on it."""

import socket
import stat
import subprocess

import pytest
from google.cloud import pubsub_v1

from local import pubsub_emulator as module
from local.processes import ProcessGroup
from local.pubsub_emulator import (
    PACKAGE,
    EmulatorMissingError,
    find_emulator,
    find_java,
    running_pubsub_emulator,
)
from local.pubsub_rest import DeadLetterPolicy, PubsubApiError, RetryPolicy
from local.stack import StackSettings, start_stack
from tests.pubsub_fixtures import unique_id


def test_the_emulator_is_found_in_the_gcloud_sdk():
    binary = find_emulator()
    assert binary.name == "cloud-pubsub-emulator"
    assert binary.parent.parent.name == "pubsub-emulator"
    assert find_java().name == "java"


def test_a_missing_emulator_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(module, "DEBIAN_SDK", tmp_path / "no-sdk")
    with pytest.raises(EmulatorMissingError) as raised:
        find_emulator({"PATH": str(tmp_path)})
    message = str(raised.value)
    assert message.startswith("Google's Cloud Pub/Sub emulator is not installed: no ")
    assert f"Install the Debian package {PACKAGE} (apt-get install {PACKAGE}" in message
    assert PACKAGE == "google-cloud-cli-pubsub-emulator"


def test_an_override_that_is_not_executable_is_named(tmp_path):
    with pytest.raises(EmulatorMissingError, match=r"PUBSUB_EMULATOR_BINARY=/nope/emu is not an"):
        find_emulator({"PUBSUB_EMULATOR_BINARY": "/nope/emu"})
    launcher = tmp_path / "emu"
    launcher.write_text("#!/bin/sh\n")
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    assert find_emulator({"PUBSUB_EMULATOR_BINARY": str(launcher)}) == launcher


def test_missing_java_is_named(tmp_path):
    with pytest.raises(EmulatorMissingError, match=r"^Java is missing: the Cloud Pub/Sub emulator \(Debian package google-cloud-cli-pubsub-emulator\)"):  # noqa: E501
        find_java({"PATH": str(tmp_path), "JAVA_HOME": str(tmp_path)})


def test_the_stack_stops_at_once_when_the_emulator_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("PUBSUB_EMULATOR_BINARY", str(tmp_path / "absent"))
    group = ProcessGroup(tmp_path / "logs")
    with pytest.raises(EmulatorMissingError, match=PACKAGE):
        start_stack(group, StackSettings(root=tmp_path))
    assert group.services == []  # nothing else was started


def test_a_port_taken_meanwhile_is_retried_on_another(tmp_path, monkeypatch):
    """The emulator hangs on a BindException: the launch is stopped and retried elsewhere."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken])
        real_free_port = module.free_port
        monkeypatch.setattr(module, "free_port", lambda: next(ports, None) or real_free_port())
        with running_pubsub_emulator(tmp_path) as emulator:
            assert emulator.host != f"127.0.0.1:{taken}"
            topic = f"projects/p/topics/{unique_id('retried')}"
            assert emulator.rest().create_topic(topic) == {"name": topic}


def test_env_yaml_is_what_gcloud_env_init_reads(pubsub_emulator):
    data_dir = pubsub_emulator.data_dir
    init = subprocess.run(
        ["gcloud", "beta", "emulators", "pubsub", "env-init", f"--data-dir={data_dir}"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert init.stdout.strip() == f"export PUBSUB_EMULATOR_HOST={pubsub_emulator.host}"


def test_grpc_publish_and_rest_pull_share_one_port(pubsub, pubsub_topic):
    publisher = pubsub_v1.PublisherClient()
    message_id = publisher.publish(pubsub_topic.topic, b"hello", k="v").result(timeout=30)
    [message] = pubsub_topic.messages()
    assert (message.message_id, message.data, message.attributes) == (message_id, b"hello",
                                                                      {"k": "v"})  # fmt: skip
    assert message.publish_time.endswith("Z")
    assert pubsub_topic.pending() == []  # acknowledged


def test_rest_publish_and_pull(pubsub, pubsub_topic):
    message_id = pubsub.publish(pubsub_topic.topic, b'{"a": 1}', {"model": "m"})
    [message] = pubsub.wait_for_messages(pubsub_topic.subscription)
    assert (message.message_id, message.data, message.attributes) == (message_id, b'{"a": 1}',
                                                                      {"model": "m"})  # fmt: skip


def test_subscription_policies_are_kept(pubsub, pubsub_topic):
    dead = f"projects/test-project/topics/{unique_id('dead')}"
    pubsub.create_topic(dead)
    name = f"projects/test-project/subscriptions/{unique_id('push')}"
    pubsub.create_subscription(
        name, pubsub_topic.topic, push_endpoint="http://127.0.0.1:9/", ack_deadline=600,
        dead_letter=DeadLetterPolicy(dead, 7), retry=RetryPolicy(1, 10),
    )  # fmt: skip
    described = pubsub.get_subscription(name)
    assert described["pushConfig"] == {"pushEndpoint": "http://127.0.0.1:9/"}
    assert described["ackDeadlineSeconds"] == 600
    assert described["deadLetterPolicy"] == {"deadLetterTopic": dead, "maxDeliveryAttempts": 7}
    assert described["retryPolicy"] == {"minimumBackoff": "1s", "maximumBackoff": "10s"}


def test_errors_quote_the_call_and_pubsubs_reason(pubsub, pubsub_topic):
    missing = "projects/test-project/topics/never-created"
    with pytest.raises(PubsubApiError, match=r"^PUT projects/test-project/subscriptions/s-x: HTTP 404: Subscription topic does not exist$"):  # noqa: E501
        pubsub.create_subscription("projects/test-project/subscriptions/s-x", missing)
    with pytest.raises(PubsubApiError, match=r"the minimum value is 5"):
        pubsub.create_subscription(
            f"projects/test-project/subscriptions/{unique_id('s')}", pubsub_topic.topic,
            dead_letter=DeadLetterPolicy(pubsub_topic.topic, 2),
        )  # fmt: skip
