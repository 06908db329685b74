"""Build an instance's services from its environment and check every route against its template."""

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from vertex_trigger.config.loader import load_config
from vertex_trigger.config.model import Config, Route
from vertex_trigger.config.notify import SettingError, webhook_url
from vertex_trigger.errors import ConfigError, DeploymentError, TransientError
from vertex_trigger.google.api_calls import ApiCalls, spending
from vertex_trigger.google.artifact_registry import ArtifactRegistry
from vertex_trigger.google.http import HttpClient, Requester
from vertex_trigger.google.pubsub import PubsubPublisher
from vertex_trigger.google.retries import Retrier
from vertex_trigger.google.session import GoogleSession
from vertex_trigger.google.storage import Storage
from vertex_trigger.google.vertex import VertexPipelineJobs
from vertex_trigger.google.webhook import WebhookPoster
from vertex_trigger.launch.route_fit import doubtful_parameters, first_misfit
from vertex_trigger.launch.services import Services
from vertex_trigger.launch.templates import Template, TemplateStore

# The entry point that reports how runs ended: it launches nothing, so it skips the template
# check (and needs no read access to templates), and it is the only one that reads webhook URLs.
RUN_STATE_TARGET = "on_run_state"


@dataclass(frozen=True)
class Environment:
    """The environment variables the functions read (only main.py reads os.environ)."""

    config_path: Path
    project: str | None = None
    vertex_emulator_host: str | None = None
    storage_emulator_host: str | None = None
    pubsub_emulator_host: str | None = None
    function_target: str = ""  # $FUNCTION_TARGET, set by functions-framework and Cloud Functions
    variables: Mapping[str, str] = field(default_factory=dict)  # for notify.webhook's ${NAME}


def log_warning(text: str) -> None:
    """Write a start-up warning as one Cloud Logging JSON line (the instance still starts)."""
    sys.stdout.write(json.dumps({"severity": "WARNING", "message": text}) + "\n")
    sys.stdout.flush()


def build_services(env: Environment, warn: Callable[[str], None] = log_warning) -> Services:
    """Read the config, connect collaborators, validate every route; raise ConfigError if bad.

    What may go wrong for some events only (a placeholder that may not fit) goes to ``warn``.
    """
    config = load_config(env.config_path, env.project)
    client = HttpClient()  # one keep-alive pool per instance, shared by its threads
    google = GoogleSession(client)
    calls = ApiCalls(Retrier(config.retry))  # the one request path every client sends through
    storage = Storage(
        client if env.storage_emulator_host else google,
        _api_root(env.storage_emulator_host, "https://storage.googleapis.com"),
        calls,
    )
    templates = TemplateStore(storage, ArtifactRegistry(google, calls))
    if env.function_target != RUN_STATE_TARGET:
        # One budget for reading every template: a transient error is retried within it.
        with spending(calls.budget()):
            for route in config.routes:
                template = _load_template(config, templates, route)
                check_route(config, route, template)
                for text in route_warnings(config, route, template):
                    warn(text)
    publisher, webhooks = _outcome_senders(config, env, client, google, calls)
    return Services(
        config,
        templates,
        connect_vertex(config, env, client, google, calls),
        lambda: datetime.now(UTC),
        storage=storage,
        publisher=publisher,
        webhooks=webhooks,
    )


def connect_vertex(
    config: Config,
    env: Environment,
    client: HttpClient | None = None,
    google: Requester | None = None,
    calls: ApiCalls | None = None,
) -> VertexPipelineJobs:
    """Connect Vertex AI for the config's project and region (the emulator without credentials).

    Through ``client`` (else a new one); ``google`` adds credentials (else they are found anew).
    """
    client = client or HttpClient()
    session = client if env.vertex_emulator_host else (google or GoogleSession(client))
    return VertexPipelineJobs(
        session,
        _api_root(env.vertex_emulator_host, f"https://{config.region}-aiplatform.googleapis.com"),
        config.project,
        config.region,
        calls or ApiCalls(Retrier(config.retry)),
    )


def _outcome_senders(
    config: Config, env: Environment, client: HttpClient, google: Requester, calls: ApiCalls
) -> tuple[PubsubPublisher, WebhookPoster]:
    """Connect the Pub/Sub publisher and the webhook poster (URLs read where they are posted)."""
    session = client if env.pubsub_emulator_host else google
    root = _api_root(env.pubsub_emulator_host, "https://pubsub.googleapis.com")
    reporting = env.function_target in ("", RUN_STATE_TARGET)
    urls = _webhook_urls(config, env.variables) if reporting else {}
    # The plain client: Google credentials must never be sent to a third-party webhook.
    return PubsubPublisher(session, root, calls), WebhookPoster(client, urls, calls)


def _webhook_urls(config: Config, variables: Mapping[str, str]) -> dict[str, str]:
    """Return each notifying route's webhook URL, read from the variable its config names."""
    urls = {}
    for route in config.routes:
        if route.notify is None:
            continue
        try:
            urls[route.name] = webhook_url(route.notify, variables)
        except SettingError as exc:
            where = f"{config.path}: route {route.name!r}: key {exc.key!r}"
            raise ConfigError(f"{where}: {exc}") from None
    return urls


def _api_root(emulator_host: str | None, production: str) -> str:
    """Return ``http://HOST`` for an emulator (the *_EMULATOR_HOST convention), else production."""
    if not emulator_host:
        return production
    return emulator_host if "://" in emulator_host else f"http://{emulator_host}"


def _load_template(config: Config, templates: TemplateStore, route: Route) -> Template:
    try:
        return templates.get(route.template)
    except (DeploymentError, TransientError) as exc:
        raise ConfigError(
            f"{config.path}: route {route.name!r}: key 'template': cannot read it: {exc}"
        ) from None


def check_route(config: Config, route: Route, template: Template) -> None:
    """Check a route's parameters and artifacts against its template; ConfigError names the key."""
    misfit = first_misfit(route, template)
    if misfit:
        raise ConfigError(
            f"{config.path}: route {route.name!r}: key {misfit.key!r}: {misfit.problem}"
        )


def route_warnings(config: Config, route: Route, template: Template) -> list[str]:
    """Return what may reject some of a route's events, each naming file, route and key."""
    return [
        f"{config.path}: route {route.name!r}: key {doubt.key!r}: {doubt.problem}"
        for doubt in doubtful_parameters(route, template)
    ]


def environment_from(variables: Mapping[str, str], default_config: Path) -> Environment:
    """Map environment variables onto an Environment."""
    return Environment(
        config_path=Path(variables.get("TRIGGERS_CONFIG") or default_config),
        project=variables.get("GOOGLE_CLOUD_PROJECT") or None,
        vertex_emulator_host=variables.get("VERTEX_AI_EMULATOR_HOST") or None,
        storage_emulator_host=variables.get("STORAGE_EMULATOR_HOST") or None,
        pubsub_emulator_host=variables.get("PUBSUB_EMULATOR_HOST") or None,
        function_target=variables.get("FUNCTION_TARGET") or "",
        variables=dict(variables),
    )
