"""Readers shared by the loader's parts; every problem names the file, the route and the key."""

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from vertex_trigger.config.notify import SettingError
from vertex_trigger.errors import ConfigError


class Where:
    """Builds error messages that name the file, the route and the key."""

    def __init__(self, path: Path, route: str = "") -> None:
        self.path = path
        self.route = route

    def error(self, key: str, problem: str) -> ConfigError:
        place = f"{self.route}: " if self.route else ""
        return ConfigError(f"{self.path}: {place}key {key!r}: {problem}")


def reject_unknown(
    where: Where, mapping: Mapping[str, Any], allowed: frozenset[str], what: str
) -> None:
    unknown = sorted(str(k) for k in mapping if k not in allowed)
    if unknown:
        raise where.error(
            unknown[0], f"unknown key at {what} (allowed: {', '.join(sorted(allowed))})"
        )


def string(where: Where, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise where.error(key, f"expected a non-empty string, got {value!r}")
    return value


def optional_string(where: Where, key: str, mapping: Mapping[str, Any]) -> str | None:
    return string(where, key, mapping[key]) if mapping.get(key) is not None else None


def setting(where: Where, parse: Callable[[Any], Any], value: Any) -> Any:
    """Parse an optional setting with its feature's parser; its SettingError names the key."""
    if value is None:
        return None
    try:
        return parse(value)
    except SettingError as exc:
        raise where.error(exc.key, str(exc)) from None


def optional_bool(where: Where, key: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise where.error(key, f"expected true or false, got {value!r}")
    return value
