"""Build an instance's services from its environment and check every route against its template."""

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from vertex_trigger.config.loader import check_chain_graph, load_config
from vertex_trigger.config.model import Config, EventKind, Route
from vertex_trigger.config.notify import SettingError, webhook_url
from vertex_trigger.config.template_ref import TemplateRef
from vertex_trigger.errors import ConfigError, DeploymentError, TransientError
from vertex_trigger.google.api_calls import ApiCalls, spending
from vertex_trigger.google.artifact_registry import ArtifactRegistry
from vertex_trigger.google.http import HttpClient, Requester
from vertex_trigger.google.retries import Retrier
from vertex_trigger.google.session import GoogleSession
from vertex_trigger.google.storage import Storage
from vertex_trigger.google.vertex import VertexPipelineJobs
from vertex_trigger.launch.route_fit import doubtful_parameters, first_misfit
from vertex_trigger.launch.run_key import LOCAL_RUN_KEY, RunKey
from vertex_trigger.launch.services import Services
from vertex_trigger.launch.templates import Template, TemplateStore

# What only some instances use is imported where it is connected, so the others never load it.
if TYPE_CHECKING:
    from vertex_trigger.google.pubsub import PubsubPublisher
    from vertex_trigger.google.webhook import WebhookPoster
    from vertex_trigger.launch.pauses import PauseBoard

# The entry point that reports how runs ended: it launches only run_ended routes, so it checks
# only those against their templates (and reads no other template unless a pipeline: chain needs
# every route's pipeline name), and it is the only one that reads webhook URLs.
RUN_STATE_TARGET = "on_run_state"
RUN_KEY_VARIABLE = "TRIGGER_RUN_KEY"
STORAGE_API = "https://storage.googleapis.com"


@dataclass(frozen=True)
class Environment:
    """The environment variables the functions read (only main.py reads os.environ)."""

    config_path: Path
    project: str | None = None
    vertex_emulator_host: str | None = None
    storage_emulator_host: str | None = None
    pubsub_emulator_host: str | None = None
    function_target: str = ""  # $FUNCTION_TARGET, set by functions-framework and Cloud Functions
    run_key: str | None = None  # $TRIGGER_RUN_KEY, from Secret Manager: labels and finds our runs
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
    run_key = _run_key(env)
    client = HttpClient()  # one keep-alive pool per instance, shared by its threads
    google = GoogleSession(client)
    calls = ApiCalls(Retrier(config.retry))  # the one request path every client sends through
    storage = Storage(*_endpoint(env.storage_emulator_host, STORAGE_API, client, google), calls)
    templates = TemplateStore(storage, ArtifactRegistry(google, calls))
    # One budget for reading every template: a transient error is retried within it.
    with spending(calls.budget()):
        check_routes(config, templates, env.function_target, warn)
    publisher, webhooks = _outcome_senders(config, env, client, google, calls)
    return Services(
        config,
        templates,
        connect_vertex(config, env, client, google, calls),
        lambda: datetime.now(UTC),
        storage=storage,
        run_key=run_key,
        publisher=publisher,
        webhooks=webhooks,
        pauses=connect_pauses(config, env, client, google, calls),
    )


def connect_pauses(
    config: Config,
    env: Environment,
    client: HttpClient | None = None,
    google: Requester | None = None,
    calls: ApiCalls | None = None,
) -> "PauseBoard | None":
    """Connect the route pauses under the config's ``state`` location (None: it has none)."""
    if config.state is None:
        return None
    from vertex_trigger.google.state_objects import StateObjects
    from vertex_trigger.launch.pauses import PauseBoard

    client = client or HttpClient()
    endpoint = _endpoint(env.storage_emulator_host, STORAGE_API, client, google)
    objects = StateObjects(*endpoint, calls or ApiCalls(Retrier(config.retry)))
    return PauseBoard(objects, config.state, config.pause_check)


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
    production = f"https://{config.region}-aiplatform.googleapis.com"
    return VertexPipelineJobs(
        *_endpoint(env.vertex_emulator_host, production, client, google),
        config.project,
        config.region,
        calls or ApiCalls(Retrier(config.retry)),
    )


def _outcome_senders(
    config: Config, env: Environment, client: HttpClient, google: Requester, calls: ApiCalls
) -> tuple["PubsubPublisher | None", "WebhookPoster | None"]:
    """Connect the Pub/Sub publisher and the webhook poster where runs are reported, else None.

    Only the instance that reports run ends sends them (and reads the webhook URLs).
    """
    if env.function_target not in ("", RUN_STATE_TARGET):
        return None, None
    from vertex_trigger.google.pubsub import PubsubPublisher
    from vertex_trigger.google.webhook import WebhookPoster

    pubsub = _endpoint(env.pubsub_emulator_host, "https://pubsub.googleapis.com", client, google)
    urls = _webhook_urls(config, env.variables)
    # The plain client: Google credentials must never be sent to a third-party webhook.
    return PubsubPublisher(*pubsub, calls), WebhookPoster(client, urls, calls)


def _run_key(env: Environment) -> RunKey:
    """Return the run key: $TRIGGER_RUN_KEY, or the public local one with the Vertex emulator."""
    if env.run_key and env.run_key.strip():
        return RunKey.from_text(env.run_key)
    if env.vertex_emulator_host:
        return RunKey.from_text(LOCAL_RUN_KEY)
    raise ConfigError(
        f"{RUN_KEY_VARIABLE} is not set: it holds the secret that labels the runs this service "
        "creates, so that runs anyone else creates are neither counted nor reported (Terraform "
        "sets it from Secret Manager; see docs/operations.md, Environment variables)"
    )


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


def _endpoint(
    emulator_host: str | None, production: str, client: HttpClient, google: Requester | None
) -> tuple[Requester, str]:
    """Return the requester and API root: an emulator's, plain; else production's, credentialed.

    An emulator host is ``HOST:PORT`` (the *_EMULATOR_HOST convention: http) or a URL. ``google``
    is the instance's credentialed session (else one is made on ``client``).
    """
    if emulator_host:
        return client, emulator_host if "://" in emulator_host else f"http://{emulator_host}"
    return google or GoogleSession(client), production


def check_routes(
    config: Config,
    templates: TemplateStore,
    function_target: str,
    warn: Callable[[str], None] = log_warning,
) -> None:
    """Check the routes an instance of ``function_target`` launches, and the chains; ConfigError.

    What may go wrong for some events only (a placeholder that may not fit) goes to ``warn``.
    """
    read = _TemplateReader(config, templates)
    launched = [
        route
        for route in config.routes
        if function_target != RUN_STATE_TARGET or route.event is EventKind.RUN_ENDED
    ]
    for route in launched:
        template = read(route, route.template, "template")
        check_route(config, route, template)
        for text in route_warnings(config, route, template):
            warn(text)
        if route.after is not None:
            check_chain(config, route, template, _upstream_template(config, read, route))
    if any(route.after and route.after.pipeline for route in launched):
        # A pipeline: upstream follows the runs of every route whose template is that pipeline.
        pipelines = {r.name: read(r, r.template, "template").pipeline_name for r in config.routes}
        check_chain_graph(config.path, config.routes, config.max_chain_depth, pipelines)


class _TemplateReader:
    """Read each template once at start-up; a template that cannot be read names route and key."""

    def __init__(self, config: Config, templates: TemplateStore) -> None:
        self._config = config
        self._templates = templates
        self._read: dict[TemplateRef, Template] = {}

    def __call__(self, route: Route, ref: TemplateRef, key: str) -> Template:
        if ref not in self._read:
            self._read[ref] = _load_template(self._config, self._templates, route, ref, key)
        return self._read[ref]


def _upstream_template(config: Config, read: _TemplateReader, route: Route) -> Template | None:
    """Return the template of the runs a run_ended route follows, when it is known."""
    after = route.after
    upstream = config.route_named(after.route) if after and after.route else None
    if upstream is not None:
        return read(upstream, upstream.template, "template")
    if after and after.template:
        return read(route, after.template, "after.template")
    return None


def _load_template(
    config: Config, templates: TemplateStore, route: Route, ref: TemplateRef, key: str
) -> Template:
    try:
        return templates.get(ref)
    except (DeploymentError, TransientError) as exc:
        raise ConfigError(
            f"{config.path}: route {route.name!r}: key {key!r}: cannot read it: {exc}"
        ) from None


def check_route(config: Config, route: Route, template: Template) -> None:
    """Check a route's parameters and artifacts against its template; ConfigError names the key."""
    misfit = first_misfit(route, template)
    if misfit:
        raise ConfigError(
            f"{config.path}: route {route.name!r}: key {misfit.key!r}: {misfit.problem}"
        )


def check_chain(
    config: Config, route: Route, template: Template, upstream: Template | None
) -> None:
    """Check a run_ended route's output references against its upstream; ConfigError names them."""
    # Imported here: an instance whose configuration has no run_ended route never loads it.
    from vertex_trigger.launch.chain_fit import chain_misfit

    misfit = chain_misfit(route, template, upstream)
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
        run_key=variables.get(RUN_KEY_VARIABLE) or None,
        variables=dict(variables),
    )
