"""The deployed entry points by name, and the handler each one runs (as functions/main.py)."""

import enum

from vertex_trigger.public import (
    RUN_STATE_TARGET,
    Handler,
    handle_drift_event,
    handle_object_event,
    handle_run_state_event,
)


class Function(enum.StrEnum):
    """The three Cloud Functions of functions/main.py."""

    OBJECT_FINALIZED = "on_object_finalized"
    DRIFT_ALERT = "on_drift_alert"
    RUN_STATE = RUN_STATE_TARGET

    @property
    def handler(self) -> Handler:
        """Return the handler this entry point dispatches to."""
        return _HANDLERS[self]

    @property
    def resource_name(self) -> str:
        """Return the name in dashes, as Terraform's functions and their subscriptions carry it."""
        return self.value.removeprefix("on_").replace("_", "-")


_HANDLERS: dict[Function, Handler] = {
    Function.OBJECT_FINALIZED: handle_object_event,
    Function.DRIFT_ALERT: handle_drift_event,
    Function.RUN_STATE: handle_run_state_event,
}
