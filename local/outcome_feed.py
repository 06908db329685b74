"""Watch the run outcomes topic: print each message on_run_state published as it arrives."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.pubsub_rest import PubsubRest

Outcome = dict[str, Any]


def outcome_line(outcome: Outcome) -> str:
    """Return `run JOB STATE for SOURCE (event ID)`, a chained run's upstream, a failure's error."""
    line = f"run {outcome['job']} {outcome['state']} for {outcome['source']} "
    line += f"(event {outcome['event_id']})"
    if outcome.get("upstream"):
        line += f" after run {outcome['upstream']}"
    return f"{line}: {outcome['error']}" if outcome.get("error") else line


@dataclass
class OutcomeFeed:
    """Pull a subscription of the outcomes topic; print and keep each outcome once.

    Outcomes are kept by `outcome_id`: a repeat (Pub/Sub redelivers, Vertex may log an end twice)
    is acknowledged and dropped, as the message's contract asks of consumers.
    """

    pubsub: PubsubRest
    subscription: str
    say: Callable[[str], None] = print
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def __call__(self) -> list[Outcome]:
        """Pull what arrived, print the new outcomes and return them."""
        pulled = self.pubsub.pull(self.subscription)
        self.pubsub.acknowledge(self.subscription, [message.ack_id for message in pulled])
        new = []
        for message in pulled:
            outcome = json.loads(message.data)
            if outcome["outcome_id"] not in self.outcomes:
                self.outcomes[outcome["outcome_id"]] = outcome
                new.append(outcome)
                self.say(f"  outcome: {outcome_line(outcome)}")
        return new

    def for_job(self, job: str) -> Outcome | None:
        """Return the outcome received for a job, if any."""
        return next((o for o in self.outcomes.values() if o["job"] == job), None)

    def wait_for(
        self, job: str, timeout: float, tick: Callable[[], None] = lambda: None
    ) -> Outcome:
        """Wait until the job's outcome arrived; return it."""
        deadline = time.monotonic() + timeout
        while (outcome := self.for_job(job)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no outcome message for run {job} within {timeout:.0f}s")
            self()
            tick()
            time.sleep(0.2)
        return outcome
