"""Fixtures shared by every test folder, and the test layers: ``unit``, ``server``, ``slow``.

Every test gets its layer here, from what it uses (pyproject.toml registers the markers):

- ``server``: it starts a server, an emulator or a process: it uses a fixture of SERVER_FIXTURES
  (the emulators and servers of the conftest files, kfp.local runs), or a name of STARTS_SERVER
  (``subprocess``, ``start_emulator``, ``ThreadingHTTPServer``...) appears in its code, in the code
  of a fixture it uses, or in the helpers (tests/, benchmarks/) they call;
- ``slow``: pipelines run by kfp.local (SLOW_FIXTURES), and what was measured at more than a few
  seconds (SLOW): a single test, or a module whose ``server`` tests are all slow (benchmarks made
  small, end-to-end runs); the tests of such a module that start nothing stay ``unit``;
- ``unit``: everything else: no server, no process, fast (``pytest -m unit``).

A test marked by hand keeps its marks; ``pytest -m "not slow"`` leaves out only the slow ones.
"""

import inspect
from collections.abc import Iterable, Iterator
from types import CodeType

import pytest

from tests.pubsub_fixtures import pubsub, pubsub_emulator, pubsub_topic  # noqa: F401

LAYERS = ("unit", "server", "slow")
# Fixtures that start servers, emulators or processes (conftest.py files and tests/pubsub_fixtures).
SERVER_FIXTURES = frozenset({
    "vertex", "clean_vertex", "servers", "gcs",  # tests/functions
    "pubsub_emulator", "pubsub", "pubsub_topic",  # Google's Pub/Sub emulator (Java)
    "recorder", "runner",  # tests/emulator
    "stack",  # tests/reliability
    "storage_emulator", "make_bucket", "run_house_prices",  # tests/pipelines (kfp.local)
})  # fmt: skip
# Names that, used in a test's code (or a fixture's, or a helper's it calls), start a server or
# a process: the standard library's, the emulators' and local/'s starters, the tests' servers.
STARTS_SERVER = frozenset({
    "subprocess", "Popen", "multiprocessing", "ThreadingHTTPServer", "HTTPServer", "TCPServer",
    "start_emulator", "start_vertex_emulator_process", "start_storage_emulator_process",
    "launch_function_server", "start_function_server", "running_stack", "running_pubsub_emulator",
    "start_announcing", "ProcessGroup", "serve_in_memory", "create_server",
    "serve_in_thread", "start_storage_stand_in_process",  # local/storage_stand_in.py
})  # fmt: skip
HELPERS = ("tests.", "benchmarks.")  # whose functions and classes the scan follows
# kfp.local executes pipelines in subprocesses, minutes of CPU on this project's pipelines.
SLOW_FIXTURES = frozenset({"runner", "run_house_prices"})
# Measured over a few seconds each (make test on 2 shared cores): modules (their server tests),
# or single tests (module.py::test_name, a prefix).
SLOW = (
    "tests/reliability/",  # fault storm, quota burst, hostile corpus: benchmarks made small
    "tests/pipelines/test_house_prices_local.py",
    "tests/local/test_end_to_end.py",
    "tests/functions/test_drift_race.py",
    "tests/cli/test_replay.py",
    "tests/drift/test_component.py",
    "tests/emulator/test_execution.py",
    "tests/emulator/test_official_clients.py",
    "tests/emulator/test_cli.py",
    "tests/terraform/test_checkov.py",
    "tests/local/test_eventarc_push.py::test_a_non_2xx_answer_is_redelivered_by_the_emulator",
    "tests/local/test_pubsub_emulator.py::test_a_port_taken_meanwhile_is_retried_on_another",
    "tests/pipelines/test_champion_gate.py::test_champion_is_scored_on_the_given_split",
    "tests/functions/test_quota_retry.py",
    "tests/functions/test_pinned_install.py",  # a fresh venv installed from the lock
    "tests/functions/test_run_state_function.py::test_an_unreachable_webhook_is_retried",
    "tests/functions/test_overlap.py",  # races held back by a 3 s hang, five rounds of four
    "tests/cli/test_pause.py",  # waits out pause_check on every resume
    "tests/functions/test_retry_failed.py::test_a_run_failing_once_succeeds_on_its_retry",
    "tests/functions/test_watchdog.py::test_the_watchdog_stops_a_kfp_local_run_mid_run",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-decision-lines",
        action="store_true",
        help="rewrite tests/functions/data/decision_lines.json from the code of the day",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its layer (unless it was marked by hand)."""
    for item in items:
        if any(item.get_closest_marker(layer) for layer in LAYERS):
            continue
        fixtures = set(getattr(item, "fixturenames", ()))
        server = bool(fixtures & SERVER_FIXTURES) or _starts_a_server(item)
        slow = bool(fixtures & SLOW_FIXTURES) or _listed_slow(item.nodeid, server)
        if slow:
            item.add_marker(pytest.mark.slow)
        if server:
            item.add_marker(pytest.mark.server)
        if not (slow or server):
            item.add_marker(pytest.mark.unit)


def _listed_slow(nodeid: str, server: bool) -> bool:
    """Tell whether SLOW lists the test, or its module when the test starts something."""
    return any(nodeid.startswith(entry) and (server or "::" in entry) for entry in SLOW)


def _starts_a_server(item: pytest.Item) -> bool:
    """Tell whether the test's code, its fixtures' or the helpers they call use STARTS_SERVER."""
    functions = [getattr(item, "function", None)]
    fixture_info = getattr(item, "_fixtureinfo", None)
    if fixture_info is not None:
        for definitions in fixture_info.name2fixturedefs.values():
            functions += [definition.func for definition in definitions]
    seen: set[int] = set()
    return any(
        not STARTS_SERVER.isdisjoint(_names(function, seen))
        for function in functions
        if function is not None
    )


def _names(function: object, seen: set[int]) -> set[str]:
    """The global and attribute names a function's code uses, and those of the helpers
    (functions and classes defined under tests/ or benchmarks/) it refers to."""
    function = _unwrapped(function)
    code = getattr(function, "__code__", None)
    if code is None or id(code) in seen:
        return set()
    seen.add(id(code))
    names = set(_code_names(code))
    scope = getattr(function, "__globals__", {})
    for name in list(names):
        helper = scope.get(name)
        if _is_test_helper(helper):
            for member in _functions_of(helper):
                names |= _names(member, seen)
    return names


def _unwrapped(function: object) -> object:
    inner = getattr(getattr(function, "hypothesis", None), "inner_test", None)
    return inspect.unwrap(inner or function)  # type: ignore[arg-type]


def _code_names(code: CodeType) -> Iterator[str]:
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, CodeType):  # nested functions, classes, lambdas
            yield from _code_names(constant)


def _is_test_helper(value: object) -> bool:
    module = getattr(value, "__module__", "") or ""
    return (inspect.isfunction(value) or inspect.isclass(value)) and module.startswith(HELPERS)


def _functions_of(helper: object) -> Iterable[object]:
    if inspect.isclass(helper):
        return [v for v in vars(helper).values() if inspect.isfunction(v)]
    return [helper]
