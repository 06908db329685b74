"""Exceptions named by what the platform should do with the event."""


class ConfigError(Exception):
    """The configuration is wrong: the instance must not start."""


class RejectedEvent(Exception):  # noqa: N818 - named by outcome, like the platform's words
    """Retrying cannot help: log, acknowledge and launch nothing."""


class TransientError(Exception):
    """A retry may help: raise so that Eventarc redelivers the event."""
