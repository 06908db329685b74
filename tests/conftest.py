"""Fixtures shared by every test folder."""

import pytest

from tests.pubsub_fixtures import pubsub, pubsub_emulator, pubsub_topic  # noqa: F401


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-decision-lines",
        action="store_true",
        help="rewrite tests/functions/data/decision_lines.json from the code of the day",
    )
